import Foundation

/// Writing to the terminal: the only place the executable prints from.
enum Terminal {
    static var standardErrorIsTerminal: Bool { isatty(STDERR_FILENO) == 1 }

    static func writeError(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }

    static func error(_ message: String) {
        writeError("casebook: error: \(message)\n")
    }

    /// Something the user should know that is not an error (a skipped directory entry).
    static func note(_ message: String) {
        writeError("casebook: note: \(message)\n")
    }

    /// Rewrites the progress line in place (terminals only).
    static func progress(_ line: String) {
        guard standardErrorIsTerminal else { return }
        writeError("\r\u{1B}[2K" + line)
    }

    static func clearProgress() {
        guard standardErrorIsTerminal else { return }
        writeError("\r\u{1B}[2K")
    }

    /// 1234567 as "1,234,567".
    static func grouped(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var out = ""
        for (index, character) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { out.append(",") }
            out.append(character)
        }
        return value < 0 ? "-" + out : out
    }

    /// `text` right-aligned in `width` columns.
    static func right(_ text: String, _ width: Int) -> String {
        String(repeating: " ", count: max(0, width - text.count)) + text
    }

    static func duration(_ seconds: Double) -> String {
        let whole = Int(seconds.rounded())
        return whole >= 3600 ? String(format: "%d:%02d:%02d", whole / 3600, whole / 60 % 60, whole % 60)
                             : String(format: "%d:%02d", whole / 60, whole % 60)
    }
}
