/// The character encoding an input file is read in. The contract's is UTF-8; Windows-1252 is
/// what Excel on Windows saves CSV in, and the encoding most text labelled Latin-1 really is.
public enum TextEncoding: String, CaseIterable, Sendable {
    case utf8 = "utf-8"
    case windows1252 = "windows-1252"

    /// The encoding a label names, in any letter case: `utf-8`, or `windows-1252` and the
    /// labels the WHATWG Encoding Standard reads as it (`cp1252`, `latin1`, `iso-8859-1`).
    public init?(label: String) {
        switch label.lowercased() {
        case "utf-8", "utf8": self = .utf8
        case "windows-1252", "cp1252", "latin1", "latin-1", "iso-8859-1", "iso8859-1", "l1": self = .windows1252
        default: return nil
        }
    }
}
