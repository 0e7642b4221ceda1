/// Scanning text eight bytes at a time for the few bytes that need escaping. Long runs of
/// plain text (prompts, responses) are most of what ingest parses and export writes, and a
/// byte-by-byte loop over them was the largest cost of both after SQLite itself.
public enum ByteScan {
    @usableFromInline static let ones: UInt64 = 0x0101_0101_0101_0101
    @usableFromInline static let highs: UInt64 = 0x8080_8080_8080_8080

    /// Whether one of the eight bytes of `word` equals `byte` (the classic SWAR zero-byte test,
    /// exact for whether any byte matches).
    @inlinable @inline(__always)
    public static func has(_ word: UInt64, _ byte: UInt8) -> Bool {
        let x = word ^ (ones &* UInt64(byte))
        return (x &- ones) & ~x & highs != 0
    }

    /// Whether one of the eight bytes of `word` is below `limit` (at most 0x80).
    @inlinable @inline(__always)
    public static func hasBelow(_ word: UInt64, _ limit: UInt8) -> Bool {
        (word &- ones &* UInt64(limit)) & ~word & highs != 0
    }

    /// Whether one of the eight bytes is one a JSON string must escape: '"', '\\' or a control character.
    @inlinable @inline(__always)
    public static func hasJSONSpecial(_ word: UInt64) -> Bool {
        has(word, UInt8(ascii: "\"")) || has(word, UInt8(ascii: "\\")) || hasBelow(word, 0x20)
    }

    /// The index of the first byte at or after `start` that a JSON string must escape, or `bytes.count`.
    @inlinable
    public static func firstJSONSpecial(_ bytes: UnsafeRawBufferPointer, from start: Int) -> Int {
        var index = start
        let count = bytes.count
        if let base = bytes.baseAddress {
            while index + 8 <= count && !hasJSONSpecial(base.loadUnaligned(fromByteOffset: index, as: UInt64.self)) { index += 8 }
        }
        while index < count {
            let c = bytes[index]
            if c < 0x20 || c == UInt8(ascii: "\"") || c == UInt8(ascii: "\\") { return index }
            index += 1
        }
        return count
    }

    /// Whether a CSV cell holds a byte that makes it need quotes: a comma, a quote, LF or CR.
    @inlinable
    public static func containsCSVSpecial(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var index = 0
        let count = bytes.count
        if let base = bytes.baseAddress {
            while index + 8 <= count {
                let word = base.loadUnaligned(fromByteOffset: index, as: UInt64.self)
                if has(word, UInt8(ascii: ",")) || has(word, UInt8(ascii: "\"")) || has(word, 0x0A) || has(word, 0x0D) { break }
                index += 8
            }
        }
        while index < count {
            let c = bytes[index]
            if c == UInt8(ascii: ",") || c == UInt8(ascii: "\"") || c == 0x0A || c == 0x0D { return true }
            index += 1
        }
        return false
    }
}
