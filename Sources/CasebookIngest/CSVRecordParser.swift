import CasebookIO
import Foundation

/// Reads RFC 4180 CSV records into a `RecordBuilder`, by the header's column names.
///
/// An empty cell means "absent", as the contract says. Columns the contract
/// does not name go to `extra` under their header name (`column N` for one left unnamed).
struct CSVRecordParser {
    /// Per column: the contract field it fills, or nil for an extra column.
    private let columns: [Int?]
    /// Per column: its header name as a JSON string, for `extra`.
    private let columnKeys: [[UInt8]]
    private var cells: [(start: Int, end: Int, quoted: Bool)] = []
    private var scratch: [UInt8] = []
    private let separator: UInt8

    /// Reads the header row. Throws when it is unusable for every record after it.
    init(header: UnsafeRawBufferPointer, builder: RecordBuilder, separator: CSVSeparator = .comma) throws(RecordFailure) {
        self.separator = separator.byte
        var names: [[UInt8]] = []
        var cells: [(start: Int, end: Int, quoted: Bool)] = []
        do {
            try Self.split(header, separator: separator.byte, into: &cells)
        } catch {
            // A quoted header cell followed by another separator: an export that quotes every cell.
            guard let other = CSVSeparator.allCases.first(where: { $0 != separator && Self.splitsInColumns(header, by: $0) }) else { throw error }
            throw RecordFailure(reason: error.reason, detail: error.detail + "; " + Self.looksSeparated(by: other))
        }
        for (position, cell) in cells.enumerated() {
            var name: [UInt8] = []
            Self.unquote(header, cell, into: &name)
            // Spreadsheets write trailing separators (`a,b,,`): an unnamed column is named by
            // its place, so that a value under it is kept in `extra` and two of them are no clash.
            if name.isEmpty { name = Array("column \(position + 1)".utf8) }
            names.append(name)
        }
        var seen = Set<[UInt8]>()
        for name in names where !seen.insert(name).inserted {
            throw RecordFailure(reason: .badCSV, detail: "the header names column '\(Printable.escaped(String(decoding: name, as: UTF8.self)))' twice")
        }
        var lookup = builder
        let columns = names.map { name in name.withUnsafeBytes { lookup.fieldIndex($0) } }
        if let missing = builder.specs.indices.first(where: { builder.specs[$0].required && !columns.contains($0) }) {
            throw RecordFailure(reason: .missingField, detail: Self.lacking(builder.specs[missing].name, names: names, separator: separator))
        }
        self.columns = columns
        columnKeys = names.map { name in
            var key: [UInt8] = []
            name.withUnsafeBytes { JSONText.appendString($0, to: &key) }
            return key
        }
        self.cells = cells
    }

    /// Why a header lacks a required column, with the likeliest cause: another separator
    /// (a spreadsheet's `;`, a tab), or a name that differs in case or spaces.
    private static func lacking(_ field: String, names: [[UInt8]], separator: CSVSeparator) -> String {
        let texts = names.map { String(decoding: $0, as: UTF8.self) }
        func shown(_ text: String) -> String { "'" + Printable.escaped(String(text.prefix(60))) + (text.count > 60 ? "…'" : "'") }
        if texts.count == 1, let other = CSVSeparator.allCases.first(where: { $0 != separator && texts[0].utf8.contains($0.byte) }) {
            return "it has no column \(field): it is one column, \(shown(texts[0])), as cells are read separated by "
                + (separator == .tab ? "tabs" : separator.argument)
                + "; " + looksSeparated(by: other)
        }
        if let near = texts.first(where: { $0.trimmingCharacters(in: .whitespaces).lowercased() == field }) {
            return "it has no column \(field); \(shown(near)) comes close, but column names are exact and case-sensitive"
        }
        return "it has no column \(field) (its columns: \(texts.prefix(8).map(shown).joined(separator: ", "))\(texts.count > 8 ? ", …" : ""))"
    }

    private static func looksSeparated(by separator: CSVSeparator) -> String {
        "this file looks separated by \(separator == .tab ? "tabs" : separator.argument): ingest it with --separator \(separator.argument)"
    }

    /// True when the header reads as more than one cell with this separator.
    private static func splitsInColumns(_ header: UnsafeRawBufferPointer, by separator: CSVSeparator) -> Bool {
        var cells: [(start: Int, end: Int, quoted: Bool)] = []
        return (try? split(header, separator: separator.byte, into: &cells)) != nil && cells.count > 1
    }

    mutating func parse(_ record: UnsafeRawBufferPointer, builder: inout RecordBuilder, batch: inout RecordBatch) {
        do {
            try Self.split(record, separator: separator, into: &cells)
        } catch {
            return builder.fail(error.reason, error.detail)
        }
        guard cells.count == columns.count else {
            return builder.fail(.badCSV, "expected \(columns.count) columns as in the header, found \(cells.count)")
        }
        for (column, cell) in cells.enumerated() where cell.end > cell.start {
            let raw = UnsafeRawBufferPointer(rebasing: record[cell.start..<cell.end])
            if cell.quoted && raw.contains(UInt8(ascii: "\"")) {
                Self.unquote(record, cell, into: &scratch)
                scratch.withUnsafeBytes { deliver($0, column: column, builder: &builder, batch: &batch) }
            } else {
                deliver(raw, column: column, builder: &builder, batch: &batch)
            }
        }
    }

    private func deliver(_ value: UnsafeRawBufferPointer, column: Int, builder: inout RecordBuilder, batch: inout RecordBatch) {
        if let field = columns[column] {
            builder.set(field: field, value: value, shape: .string, batch: &batch)
        } else {
            columnKeys[column].withUnsafeBytes { builder.addExtra(keyJSON: $0, stringValue: value) }
        }
    }

    /// Splits a record into cells; a quoted cell's range excludes its outer quotes.
    private static func split(_ s: UnsafeRawBufferPointer, separator: UInt8,
                              into cells: inout [(start: Int, end: Int, quoted: Bool)]) throws(RecordFailure) {
        cells.removeAll(keepingCapacity: true)
        var index = 0
        while true {
            if index < s.count, s[index] == UInt8(ascii: "\"") {
                let start = index + 1
                var i = start
                while true {
                    guard i < s.count else {
                        throw RecordFailure(reason: .badCSV, detail: "a quoted cell is not closed")
                    }
                    if s[i] == UInt8(ascii: "\"") {
                        if i + 1 < s.count, s[i + 1] == UInt8(ascii: "\"") { i += 2; continue }
                        break
                    }
                    i += 1
                }
                cells.append((start, i, true))
                index = i + 1
                guard index == s.count || s[index] == separator else {
                    throw RecordFailure(reason: .badCSV, detail: "text after a closing quote in column \(cells.count)")
                }
            } else {
                let start = index
                while index < s.count, s[index] != separator { index += 1 }
                cells.append((start, index, false))
            }
            if index == s.count { return }
            index += 1  // the separator
        }
    }

    /// A cell's text with doubled quotes undone, in `out` (emptied first, its capacity kept).
    private static func unquote(_ s: UnsafeRawBufferPointer, _ cell: (start: Int, end: Int, quoted: Bool),
                                into out: inout [UInt8]) {
        out.removeAll(keepingCapacity: true)
        out.reserveCapacity(cell.end - cell.start)
        var i = cell.start
        while i < cell.end {
            out.append(s[i])
            if cell.quoted && s[i] == UInt8(ascii: "\"") { i += 1 }
            i += 1
        }
    }
}
