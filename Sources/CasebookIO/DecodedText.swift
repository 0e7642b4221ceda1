/// The UTF-8 a decoding source has made and not yet given out: filled a block of input at a
/// time, given out in whatever sizes the reader asks for.
struct DecodedText {
    private var bytes: [UInt8] = []
    private var start = 0

    init(capacity: Int) { bytes.reserveCapacity(capacity) }

    var isEmpty: Bool { start == bytes.count }

    /// Forgets what was given out, before the next block is decoded.
    mutating func clear() {
        bytes.removeAll(keepingCapacity: true)
        start = 0
    }

    mutating func append(byte: UInt8) { bytes.append(byte) }

    /// Appends the UTF-8 bytes of a Unicode scalar value.
    mutating func append(scalar: UInt32) {
        switch scalar {
        case ..<0x80:
            bytes.append(UInt8(scalar))
        case ..<0x800:
            bytes.append(UInt8(0xC0 | (scalar >> 6)))
            bytes.append(UInt8(0x80 | (scalar & 0x3F)))
        case ..<0x10000:
            bytes.append(UInt8(0xE0 | (scalar >> 12)))
            bytes.append(UInt8(0x80 | ((scalar >> 6) & 0x3F)))
            bytes.append(UInt8(0x80 | (scalar & 0x3F)))
        default:
            bytes.append(UInt8(0xF0 | (scalar >> 18)))
            bytes.append(UInt8(0x80 | ((scalar >> 12) & 0x3F)))
            bytes.append(UInt8(0x80 | ((scalar >> 6) & 0x3F)))
            bytes.append(UInt8(0x80 | (scalar & 0x3F)))
        }
    }

    /// Copies as much as fits into `buffer`; how much.
    mutating func give(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        let count = min(buffer.count, bytes.count - start)
        bytes.withUnsafeBytes { buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[start..<(start + count)])) }
        start += count
        return count
    }
}
