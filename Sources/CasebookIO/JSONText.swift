/// Writing JSON strings by hand: `extra` objects on ingest, records in the generator.
public enum JSONText {
    /// `bytes` (UTF-8) as a JSON string literal. Runs of bytes that need no escape are
    /// copied whole: exported prompts are long and mostly plain.
    public static func appendString(_ bytes: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var start = 0
        var index = 0
        let count = bytes.count
        while index < count {
            let c = bytes[index]
            if c >= 0x20 && c != UInt8(ascii: "\"") && c != UInt8(ascii: "\\") {
                index += 1
                continue
            }
            if index > start { out.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[start..<index])) }
            appendEscape(c, to: &out)
            index += 1
            start = index
        }
        if count > start { out.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[start..<count])) }
        out.append(UInt8(ascii: "\""))
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
