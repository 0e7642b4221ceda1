/// The character between a CSV file's cells: the contract's comma, or what other tools write
/// (Excel in much of Europe a semicolon, warehouses a tab, some exporters a bar).
public enum CSVSeparator: String, CaseIterable, Sendable {
    case comma, semicolon, tab, pipe

    public var byte: UInt8 {
        switch self {
        case .comma: return UInt8(ascii: ",")
        case .semicolon: return UInt8(ascii: ";")
        case .tab: return 0x09
        case .pipe: return UInt8(ascii: "|")
        }
    }

    /// The separator a character stands for (as in Excel's `sep=;` line), or a name (`tab`).
    public init?(text: String) {
        switch text.lowercased() {
        case ",", "comma": self = .comma
        case ";", "semicolon": self = .semicolon
        case "\t", "\\t", "tab": self = .tab
        case "|", "pipe": self = .pipe
        default: return nil
        }
    }

    /// How `--separator` names it in a sentence.
    public var argument: String {
        switch self {
        case .comma: return "','"
        case .semicolon: return "';'"
        case .tab: return "tab"
        case .pipe: return "'|'"
        }
    }
}
