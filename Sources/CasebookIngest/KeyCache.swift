import Foundation

/// Row keys of identity values (account ids, addresses, models, clients), looked up by their
/// bytes. The writer resolves four of them for every exchange; a `[String: Int64]` built a
/// String and hashed it with SipHash each time, a tenth of the writer thread's work.
struct KeyCache {
    private struct Entry {
        let hash: UInt64
        let start: Int
        let count: Int
        let key: Int64
    }

    /// Open addressing: each slot holds an entry's index + 1, or 0 when empty; at most half full.
    private var slots = [Int32](repeating: 0, count: 1024)
    private var entries: [Entry] = []
    private var bytes: [UInt8] = []

    var count: Int { entries.count }

    func key(for value: UnsafeRawBufferPointer) -> Int64? {
        let hash = Self.hash(value)
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: hash) & mask
        return bytes.withUnsafeBytes { stored in
            while slots[slot] != 0 {
                let entry = entries[Int(slots[slot]) - 1]
                if entry.hash == hash && entry.count == value.count
                    && (value.isEmpty || memcmp(stored.baseAddress! + entry.start, value.baseAddress!, value.count) == 0) {
                    return entry.key
                }
                slot = (slot + 1) & mask
            }
            return nil
        }
    }

    /// Adds a value not in the cache.
    mutating func insert(_ value: UnsafeRawBufferPointer, key: Int64) {
        if (entries.count + 1) * 2 > slots.count { grow() }
        let hash = Self.hash(value)
        entries.append(Entry(hash: hash, start: bytes.count, count: value.count, key: key))
        bytes.append(contentsOf: value)
        place(entries.count - 1, hash: hash)
    }

    mutating func removeAll() {
        entries.removeAll(keepingCapacity: true)
        bytes.removeAll(keepingCapacity: true)
        for index in slots.indices { slots[index] = 0 }
    }

    private mutating func place(_ entry: Int, hash: UInt64) {
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: hash) & mask
        while slots[slot] != 0 { slot = (slot + 1) & mask }
        slots[slot] = Int32(entry + 1)
    }

    private mutating func grow() {
        slots = [Int32](repeating: 0, count: slots.count * 2)
        for (index, entry) in entries.enumerated() { place(index, hash: entry.hash) }
    }

    private static func hash(_ value: UnsafeRawBufferPointer) -> UInt64 {
        var hasher = ContentHasher()
        hasher.add(field: 0, bytes: value)
        return hasher.state
    }
}
