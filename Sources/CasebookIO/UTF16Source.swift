/// Gives the bytes of a UTF-16 stream as UTF-8.
///
/// Windows writes text in UTF-16 more often than its users know: PowerShell's `>` and
/// `Out-File`, Excel's "Unicode Text", SQL Server's `bcp -w`. A byte order mark becomes
/// UTF-8's (which the record splitter skips). An unpaired surrogate, or a last byte without
/// its pair, becomes 0xFF, a byte UTF-8 never holds, so the record it is in is rejected as
/// `bad_utf8` rather than loaded with a character that was not written.
public final class UTF16Source: ByteSource {
    public enum ByteOrder: Sendable { case littleEndian, bigEndian }

    private let upstream: ByteSource
    private let order: ByteOrder
    private var input = [UInt8](repeating: 0, count: 64 << 10)
    /// A byte read without the other byte of its code unit.
    private var oddByte: UInt8?
    /// A high surrogate waiting for the low one after it.
    private var highSurrogate: UInt32?
    private var output: DecodedText
    private var atEnd = false

    public init(upstream: ByteSource, order: ByteOrder) {
        self.upstream = upstream
        self.order = order
        output = DecodedText(capacity: 2 * input.count)
    }

    public var consumedBytes: Int64 { upstream.consumedBytes }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard buffer.count > 0 else { return 0 }
        while output.isEmpty {
            if atEnd { return 0 }
            output.clear()
            let count = try input.withUnsafeMutableBytes { try upstream.read(into: $0) }
            if count == 0 {
                atEnd = true
                // What the stream ended without: the low surrogate, or the second byte of a unit.
                if highSurrogate != nil || oddByte != nil { output.append(byte: 0xFF) }
                continue
            }
            var index = 0
            if let first = oddByte {
                oddByte = nil
                decode(unit(first, input[0]))
                index = 1
            }
            while index + 1 < count {
                decode(unit(input[index], input[index + 1]))
                index += 2
            }
            if index < count { oddByte = input[index] }
        }
        return output.give(into: buffer)
    }

    private func unit(_ first: UInt8, _ second: UInt8) -> UInt32 {
        order == .littleEndian ? UInt32(first) | UInt32(second) << 8 : UInt32(first) << 8 | UInt32(second)
    }

    private func decode(_ unit: UInt32) {
        if let high = highSurrogate {
            highSurrogate = nil
            if (0xDC00...0xDFFF).contains(unit) {
                return output.append(scalar: 0x10000 + ((high - 0xD800) << 10) + (unit - 0xDC00))
            }
            output.append(byte: 0xFF)
        }
        switch unit {
        case 0xD800...0xDBFF: highSurrogate = unit
        case 0xDC00...0xDFFF: output.append(byte: 0xFF)
        default: output.append(scalar: unit)
        }
    }
}

/// Reads a stream in the encoding its byte order mark names, else in the one the ingest was
/// given: a mark cannot be mistaken (no Windows-1252 text starts with `ÿþ`, no UTF-8 text with
/// 0xFF), so it decides over a label given for a whole folder of files.
public final class TextDecodingSource: ByteSource {
    private let upstream: ByteSource
    private let encoding: TextEncoding
    private var decoder: ByteSource?

    public init(upstream: ByteSource, encoding: TextEncoding) {
        self.upstream = upstream
        self.encoding = encoding
    }

    public var consumedBytes: Int64 { upstream.consumedBytes }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        if let decoder { return try decoder.read(into: buffer) }
        let prefixed = try PrefixedSource(reading: upstream, limit: 3) { $0.count >= 3 }
        let head = prefixed.head, count = head.count
        let chosen: ByteSource
        if count >= 2 && head[0] == 0xFF && head[1] == 0xFE {
            chosen = UTF16Source(upstream: prefixed, order: .littleEndian)
        } else if count >= 2 && head[0] == 0xFE && head[1] == 0xFF {
            chosen = UTF16Source(upstream: prefixed, order: .bigEndian)
        } else if count == 3 && head == [0xEF, 0xBB, 0xBF] {
            chosen = prefixed
        } else {
            switch encoding {
            case .utf8: chosen = prefixed
            case .windows1252: chosen = Windows1252Source(upstream: prefixed)
            case .utf16le: chosen = UTF16Source(upstream: prefixed, order: .littleEndian)
            case .utf16be: chosen = UTF16Source(upstream: prefixed, order: .bigEndian)
            }
        }
        decoder = chosen
        return try chosen.read(into: buffer)
    }
}
