/// The character encoding an input file is read in. The contract's is UTF-8; Windows-1252 is
/// what Excel on Windows saves CSV in, and the encoding most text labelled Latin-1 really is;
/// UTF-16 without a byte order mark is what SQL Server's `bcp -w` writes (with a mark, any
/// file is read as UTF-16 whatever the label: `TextDecodingSource`).
public enum TextEncoding: String, CaseIterable, Sendable {
    case utf8 = "utf-8"
    case windows1252 = "windows-1252"
    case utf16le = "utf-16le"
    case utf16be = "utf-16be"

    /// The encoding a label names, in any letter case: `utf-8`, `utf-16le`, `utf-16be`, or
    /// `windows-1252` and the labels the WHATWG Encoding Standard reads as it (`cp1252`,
    /// `latin1`, `iso-8859-1`).
    public init?(label: String) {
        switch label.lowercased() {
        case "utf-8", "utf8": self = .utf8
        case "windows-1252", "cp1252", "latin1", "latin-1", "iso-8859-1", "iso8859-1", "l1": self = .windows1252
        case "utf-16le", "utf16le": self = .utf16le
        case "utf-16be", "utf16be": self = .utf16be
        default: return nil
        }
    }
}
