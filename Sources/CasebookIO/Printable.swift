/// Text from files and inputs made safe to print: control characters shown escaped.
public enum Printable {
    /// `text` with C0/C1 controls, DEL, bidirectional overrides and the U+FFFD left by
    /// undecodable bytes written as `\u{..}`, so a hostile file name or id cannot move the
    /// cursor, recolour a terminal or show its letters in another order.
    public static func escaped(_ text: String) -> String {
        escaped(text, keepingLineBreaks: false)
    }

    /// The same, with line breaks and tabs kept when `keepingLineBreaks`: for text laid out in
    /// lines (a report's paragraph).
    public static func escaped(_ text: String, keepingLineBreaks: Bool) -> String {
        func escapes(_ scalar: Unicode.Scalar) -> Bool {
            needsEscape(scalar) && !(keepingLineBreaks && (scalar == "\n" || scalar == "\t"))
        }
        guard text.unicodeScalars.contains(where: escapes) else { return text }
        var out = ""
        for scalar in text.unicodeScalars {
            if SystemPath.isEscapedByte(scalar) {
                // A byte of a file name that is not UTF-8.
                out += "\\x" + String(format2: scalar.value - SystemPath.escapeBase)
            } else if escapes(scalar) {
                out += "\\u{" + String(scalar.value, radix: 16) + "}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    private static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        SystemPath.isEscapedByte(scalar) || scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || scalar.value == 0xFFFD
            || (0x202A...0x202E).contains(scalar.value) || (0x2066...0x2069).contains(scalar.value)
    }
}

extension String {
    /// Two lower-case hex digits.
    fileprivate init(format2 value: UInt32) {
        let digits = String(value, radix: 16)
        self = digits.count < 2 ? "0" + digits : digits
    }
}

/// Numbers as people read them.
public enum NumberText {
    /// 1234567 as "1,234,567".
    public static func grouped(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var out = ""
        for (index, character) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { out.append(",") }
            out.append(character)
        }
        return value < 0 ? "-" + out : out
    }
}
