/// Gives the bytes of a Windows-1252 stream as UTF-8. Every byte is a character: ASCII as it
/// is, 0xA0-0xFF the Latin-1 code points, 0x80-0x9F the punctuation and letters Windows puts
/// there (the five bytes it leaves undefined become the control characters of their value,
/// as the WHATWG Encoding Standard reads them), so no input is an error.
public final class Windows1252Source: ByteSource {
    private let upstream: ByteSource
    private var input = [UInt8](repeating: 0, count: 64 << 10)
    private var output: DecodedText

    public init(upstream: ByteSource) {
        self.upstream = upstream
        output = DecodedText(capacity: 3 * input.count)
    }

    public var consumedBytes: Int64 { upstream.consumedBytes }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard buffer.count > 0 else { return 0 }
        if output.isEmpty {
            let count = try input.withUnsafeMutableBytes { try upstream.read(into: $0) }
            guard count > 0 else { return 0 }
            output.clear()
            for byte in input[..<count] {
                output.append(scalar: byte >= 0x80 && byte < 0xA0 ? UInt32(Self.high[Int(byte - 0x80)]) : UInt32(byte))
            }
        }
        return output.give(into: buffer)
    }

    /// The characters of 0x80-0x9F.
    private static let high: [UInt16] = [
        0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008D, 0x017D, 0x008F,
        0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
    ]
}
