import Foundation

/// Row keys of identity values (account ids, addresses, models, clients), looked up by their
/// bytes. The writer resolves four of them for every exchange; a `[String: Int64]` built a
/// String and hashed it with SipHash each time, a tenth of the writer thread's work.
///
/// Each slot holds what a lookup needs (hash, key, and the value's first 16 bytes, enough for
/// most account ids and addresses), so that a lookup costs one access to memory once the
/// table outgrows the processor's caches, as it does with 125,000 accounts.
struct KeyCache {
    private struct Slot {
        var hash: UInt64 = 0
        var key: Int64 = 0
        /// The value's first 16 bytes, zero-padded.
        var head: (UInt64, UInt64) = (0, 0)
        /// Where the value's bytes after the first 16 are in `tails`.
        var tailStart = 0
        /// The value's length; -1 for an empty slot.
        var count: Int32 = -1
    }

    private static let headBytes = 16
    /// Open addressing, at most half full.
    private var slots = [Slot](repeating: Slot(), count: 1024)
    private var tails: [UInt8] = []
    private(set) var count = 0

    func key(for value: UnsafeRawBufferPointer) -> Int64? {
        let hash = Self.hash(value)
        let head = Self.head(value)
        let mask = slots.count - 1
        var index = Int(truncatingIfNeeded: hash) & mask
        return slots.withUnsafeBufferPointer { slots in
            while slots[index].count >= 0 {
                let slot = slots[index]
                if slot.hash == hash && Int(slot.count) == value.count && slot.head == head && tailMatches(slot, value) {
                    return slot.key
                }
                index = (index + 1) & mask
            }
            return nil
        }
    }

    /// Adds a value not in the cache.
    mutating func insert(_ value: UnsafeRawBufferPointer, key: Int64) {
        if (count + 1) * 2 > slots.count { grow() }
        let tailStart = tails.count
        if value.count > Self.headBytes {
            tails.append(contentsOf: UnsafeRawBufferPointer(rebasing: value[Self.headBytes...]))
        }
        place(Slot(hash: Self.hash(value), key: key, head: Self.head(value), tailStart: tailStart, count: Int32(value.count)))
        count += 1
    }

    mutating func removeAll() {
        for index in slots.indices { slots[index].count = -1 }
        tails.removeAll(keepingCapacity: true)
        count = 0
    }

    private func tailMatches(_ slot: Slot, _ value: UnsafeRawBufferPointer) -> Bool {
        guard value.count > Self.headBytes else { return true }
        return tails.withUnsafeBytes { stored in
            memcmp(stored.baseAddress! + slot.tailStart, value.baseAddress! + Self.headBytes, value.count - Self.headBytes) == 0
        }
    }

    private mutating func place(_ slot: Slot) {
        let mask = slots.count - 1
        var index = Int(truncatingIfNeeded: slot.hash) & mask
        while slots[index].count >= 0 { index = (index + 1) & mask }
        slots[index] = slot
    }

    private mutating func grow() {
        let old = slots
        slots = [Slot](repeating: Slot(), count: old.count * 2)
        for slot in old where slot.count >= 0 { place(slot) }
    }

    private static func head(_ value: UnsafeRawBufferPointer) -> (UInt64, UInt64) {
        var head: (UInt64, UInt64) = (0, 0)
        withUnsafeMutableBytes(of: &head) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: value.prefix(headBytes))) }
        return head
    }

    private static func hash(_ value: UnsafeRawBufferPointer) -> UInt64 {
        var hasher = ContentHasher()
        hasher.add(field: 0, bytes: value)
        return hasher.state
    }
}
