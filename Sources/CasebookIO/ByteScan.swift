/// Scanning text many bytes at a time for the few bytes that need escaping. Long runs of
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

    /// The index of the first byte at or after `start` that a JSON string must escape, or `bytes.count`.
    /// Sixteen bytes at a time in vector registers (SSE2 on x86-64, NEON on ARM). Most strings
    /// in a record are short (ids, names, timestamps), so the last chunk is the 16 bytes ending
    /// at the end of the buffer, with the lanes before `start` ignored, rather than a byte loop.
    @inlinable
    public static func firstJSONSpecial(_ bytes: UnsafeRawBufferPointer, from start: Int) -> Int {
        let count = bytes.count
        guard let base = bytes.baseAddress, count >= 16 else {
            var index = start
            while index < count {
                let c = bytes[index]
                if c < 0x20 || c == UInt8(ascii: "\"") || c == UInt8(ascii: "\\") { return index }
                index += 1
            }
            return count
        }
        var index = start
        let quote = SIMD16<UInt8>(repeating: UInt8(ascii: "\"")), backslash = SIMD16<UInt8>(repeating: UInt8(ascii: "\\"))
        let space = SIMD16<UInt8>(repeating: 0x20)
        while index + 16 <= count {
            let chunk = base.loadUnaligned(fromByteOffset: index, as: SIMD16<UInt8>.self)
            // The quick test for the whole chunk; which byte it was is worked out once, at the end.
            if any((chunk .== quote) .| (chunk .== backslash) .| (chunk .< space)) {
                return index + firstLane(specialLanes(chunk))
            }
            index += 16
        }
        guard index < count else { return count }
        let last = count - 16
        var lanes = specialLanes(base.loadUnaligned(fromByteOffset: last, as: SIMD16<UInt8>.self))
        let skipped = index - last
        if skipped >= 8 {
            lanes = (0, lanes.1 & (~0 << UInt64((skipped - 8) * 8)))
        } else {
            lanes.0 &= ~0 << UInt64(skipped * 8)
        }
        return lanes == (0, 0) ? count : last + firstLane(lanes)
    }

    /// The sixteen bytes as two words, with the top bit of each byte set exactly where the byte
    /// must be escaped in a JSON string. Vector minimum and maximum make such a byte 0 (quote and
    /// backslash by xor, control characters by clamping below 0x20 to 0x1F), then an exact zero
    /// test per byte marks it; a mask turned into a vector was a byte-by-byte loop through memory.
    @inlinable @inline(__always)
    static func specialLanes(_ chunk: SIMD16<UInt8>) -> (UInt64, UInt64) {
        let quoteOrBackslash = pointwiseMin(chunk ^ SIMD16(repeating: UInt8(ascii: "\"")),
                                            chunk ^ SIMD16(repeating: UInt8(ascii: "\\")))
        let control = pointwiseMax(chunk, SIMD16(repeating: 0x1F)) ^ SIMD16(repeating: 0x1F)
        let words = unsafeBitCast(pointwiseMin(quoteOrBackslash, control), to: SIMD2<UInt64>.self)
        return (zeroBytes(words[0]), zeroBytes(words[1]))
    }

    /// The top bit of each byte of `word` that is zero, and no other bit (no borrow between bytes).
    @inlinable @inline(__always)
    static func zeroBytes(_ word: UInt64) -> UInt64 {
        let low7: UInt64 = 0x7F7F_7F7F_7F7F_7F7F
        return ~(((word & low7) &+ low7) | word | low7)
    }

    /// The first marked byte of two words from `specialLanes` (little-endian: the lowest bits come first).
    @inlinable @inline(__always)
    static func firstLane(_ lanes: (UInt64, UInt64)) -> Int {
        lanes.0 != 0 ? lanes.0.trailingZeroBitCount / 8 : 8 + lanes.1.trailingZeroBitCount / 8
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
