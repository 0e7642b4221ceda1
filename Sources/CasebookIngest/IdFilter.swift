import Foundation

/// The exchange ids a load has written, as a split-block Bloom filter: "certainly new" or
/// "maybe seen". It never answers "new" for an id it was given, so every repeat of an id is
/// among the records it flags; a flagged record is only a suspect (by its arithmetic, about one
/// new id in 2,000 at 30 million ids, one in seven at 100 million).
///
/// One 64-byte block per id (eight 64-bit words, one bit set in each), so a lookup costs
/// one cache miss. The 64 MiB are zeroed by the kernel when first touched.
final class IdFilter {
    private static let blockCount = 1 << 20
    private static let wordsPerBlock = 8
    /// Odd constants that pick a bit in each word from one hash (as in Parquet's filter).
    private static let salts: [UInt64] = [
        0x47B6_137B_4497_4D91, 0x8824_AD5B_A2B7_289D, 0x7054_95C7_2DF1_424B, 0x9EFC_4947_5C6B_FB31,
        0xA2B7_289D_8824_AD5B, 0x2DF1_424B_7054_95C7, 0x5C6B_FB31_9EFC_4947, 0x4497_4D91_47B6_137B,
    ]
    private let words: UnsafeMutablePointer<UInt64>

    init() {
        let raw = calloc(Self.blockCount * Self.wordsPerBlock, MemoryLayout<UInt64>.size)!
        words = raw.bindMemory(to: UInt64.self, capacity: Self.blockCount * Self.wordsPerBlock)
    }

    deinit { free(words) }

    /// Adds `id`; true when it may have been added before.
    func insert(_ id: UnsafeRawBufferPointer) -> Bool {
        let hash = Self.hash(id)
        let block = words + Int(truncatingIfNeeded: ((hash >> 32) * UInt64(Self.blockCount)) >> 32) * Self.wordsPerBlock
        let low = (hash & 0xFFFF_FFFF) | (hash << 32)
        var seen = true
        for word in 0..<Self.wordsPerBlock {
            let bit: UInt64 = 1 << ((low &* Self.salts[word]) >> 58)
            if block[word] & bit == 0 {
                seen = false
                block[word] |= bit
            }
        }
        return seen
    }

    private static func hash(_ id: UnsafeRawBufferPointer) -> UInt64 {
        var hasher = ContentHasher()
        hasher.add(field: 0, bytes: id)
        return UInt64(bitPattern: hasher.value)
    }
}
