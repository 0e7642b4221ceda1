/// Writing JSON strings by hand: `extra` objects on ingest, records in the generator.
public enum JSONText {
    /// `bytes` (UTF-8) as a JSON string literal. Runs of bytes that need no escape are
    /// copied whole: exported prompts are long and mostly plain.
    public static func appendString(_ bytes: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var start = 0
        let count = bytes.count
        while start < count {
            let special = ByteScan.firstJSONSpecial(bytes, from: start)
            if special > start { out.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[start..<special])) }
            guard special < count else { break }
            appendEscape(bytes[special], to: &out)
            start = special + 1
        }
        out.append(UInt8(ascii: "\""))
    }

    /// A decimal integer, written without making a String.
    public static func appendInteger(_ value: Int64, to out: inout [UInt8]) {
        if value < 0 { out.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var index = 20
            repeat {
                index -= 1
                digits[index] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            out.append(contentsOf: UnsafeBufferPointer(rebasing: digits[index..<20]))
        }
    }

    private static let hex = Array("0123456789abcdef".utf8)

    private static func appendEscape(_ c: UInt8, to out: inout [UInt8]) {
        switch c {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"): out.append(UInt8(ascii: "\\")); out.append(c)
        case 0x0A: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "n"))
        case 0x0D: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "r"))
        case 0x09: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "t"))
        default:
            out.append(contentsOf: Array("\\u00".utf8))
            out.append(hex[Int(c >> 4)])
            out.append(hex[Int(c & 15)])
        }
    }

    public static func string(_ text: String) -> String {
        var out: [UInt8] = []
        var copy = text
        copy.withUTF8 { appendString(UnsafeRawBufferPointer($0), to: &out) }
        return String(decoding: out, as: UTF8.self)
    }
}
