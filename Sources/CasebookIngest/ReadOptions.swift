import CasebookIO

/// How an ingest reads its files besides their kind and format: timestamps, the character
/// encoding, the text an export writes for NULL, the CSV separator.
///
/// Part of a file's identity (`source_files.read_options`): the same bytes read another way
/// give other facts, so they are another reading of the file, not "already ingested".
public struct ReadOptions: Sendable, Equatable {
    public var timestamps: TimestampRules
    public var encoding: TextEncoding
    /// Texts the export writes for no value (`\N`, `NA`): absent in every contract field.
    public var nullTexts: [String]
    /// The separator between CSV cells when given; nil reads commas, or what an Excel `sep=` line says.
    public var separator: CSVSeparator?

    public init(timestamps: TimestampRules = TimestampRules(), encoding: TextEncoding = .utf8, nullTexts: [String] = [],
                separator: CSVSeparator? = nil) {
        self.timestamps = timestamps
        self.encoding = encoding
        self.nullTexts = nullTexts
        self.separator = separator
    }

    /// "" for the defaults, else e.g. `epoch_unit=ms;separator=semicolon;encoding=windows-1252;null=["\\N"]`
    /// (the separator only for CSV, which alone has one).
    func identity(format: InputFormat) -> String {
        var parts = timestamps.identity.isEmpty ? [] : [timestamps.identity]
        if format == .csv, let separator { parts.append("separator=\(separator.rawValue)") }
        if encoding != .utf8 { parts.append("encoding=\(encoding.rawValue)") }
        if !nullTexts.isEmpty {
            var list: [UInt8] = []
            for text in nullTexts {
                list.append(list.isEmpty ? UInt8(ascii: "[") : UInt8(ascii: ","))
                Array(text.utf8).withUnsafeBytes { JSONText.appendString($0, to: &list) }
            }
            parts.append("null=" + String(decoding: list + [UInt8(ascii: "]")], as: UTF8.self))
        }
        return parts.joined(separator: ";")
    }
}
