import CasebookIO
import Foundation

/// Writing to the terminal: the only place the executable prints from.
enum Terminal {
    static var standardErrorIsTerminal: Bool { isatty(STDERR_FILENO) == 1 }

    static func writeError(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }

    /// One line on standard error; control characters in it (from file names, ids) are escaped.
    static func error(_ message: String) {
        writeError("casebook: error: \(Printable.escaped(message))\n")
    }

    /// Something the user should know that is not an error (a skipped directory entry).
    static func note(_ message: String) {
        writeError("casebook: note: \(Printable.escaped(message))\n")
    }

    /// Set by `--quiet`: no progress line.
    nonisolated(unsafe) static var quiet = false
    nonisolated(unsafe) private static var progressWidth = 0

    /// Whether a progress line may be drawn: a terminal that is not `TERM=dumb`, and not `--quiet`.
    private static var showsProgress: Bool {
        !quiet && standardErrorIsTerminal && ProcessInfo.processInfo.environment["TERM"] != "dumb"
    }

    /// Without escape sequences when `NO_COLOR` is set: spaces overwrite the previous line.
    private static var plain: Bool { ProcessInfo.processInfo.environment["NO_COLOR"].map { !$0.isEmpty } ?? false }

    /// Rewrites the progress line in place (terminals only).
    static func progress(_ line: String) {
        guard showsProgress else { return }
        let padding = String(repeating: " ", count: max(0, progressWidth - line.count))
        writeError(plain ? "\r" + line + padding : "\r\u{1B}[2K" + line)
        progressWidth = line.count
    }

    static func clearProgress() {
        guard showsProgress, progressWidth > 0 else { return }
        writeError(plain ? "\r" + String(repeating: " ", count: progressWidth) + "\r" : "\r\u{1B}[2K")
        progressWidth = 0
    }

    /// 1234567 as "1,234,567".
    static func grouped(_ value: Int) -> String { NumberText.grouped(value) }

    /// Milliseconds since 1970 as an RFC 3339 UTC time, as scripts read it.
    static func timestamp(_ milliseconds: Int64) -> String {
        isoFormatter.string(from: Date(timeIntervalSince1970: Double(milliseconds) / 1000))
    }

    /// One formatter for the process: making one costs more than formatting a thousand times.
    nonisolated(unsafe) private static let isoFormatter = ISO8601DateFormatter()

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
