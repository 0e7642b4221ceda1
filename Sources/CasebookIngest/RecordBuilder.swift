import CasebookIO
import Foundation

/// How a value was written in the input, which decides what it may be read as.
enum ValueShape { case string, number, boolean, container }

/// A record that breaks the contract: the reason code and a sentence naming the field.
struct RecordFailure: Error {
    let reason: RejectReason
    let detail: String
}

/// Validates one record's values against the contract and appends them to a batch.
///
/// Parsers (JSON Lines, CSV) call `set` for each known field and `addExtra`
/// for any other; `finish` checks the required fields, fingerprints the content
/// and commits the record to the batch, or rolls the batch back on failure.
struct RecordBuilder {
    let specs: [FieldSpec]
    private let timestamps: TimestampRules
    private var values: [Slot]
    private var extra: [UInt8] = []
    private var arenaMark = 0
    private(set) var failure: RecordFailure?

    /// Texts the export writes for no value (`--null`: `\N`, `NA`, `NULL`): absent, as an empty
    /// cell is, in every contract field.
    private let nullTexts: [[UInt8]]

    init(kind: RecordKind, timestamps: TimestampRules, nullTexts: [String] = []) {
        self.nullTexts = nullTexts.map { Array($0.utf8) }
        specs = kind.fields
        types = specs.map(\.type)
        required = specs.map(\.required)
        names = specs.flatMap(\.nameBytes)
        var offset = 0
        nameRanges = specs.map { spec in
            defer { offset += spec.nameBytes.count }
            return offset..<(offset + spec.nameBytes.count)
        }
        self.timestamps = timestamps
        values = Array(repeating: .absent, count: specs.count)
        extra.reserveCapacity(1024)
    }

    /// Each field's type and whether it is required, read for every value without touching the
    /// specs (each of which holds a string and an array that would be retained and released).
    private let types: [FieldType]
    private let required: [Bool]
    /// Every field name end to end, and where each one lies: compared with `memcmp`.
    private let names: [UInt8]
    private let nameRanges: [Range<Int>]
    /// The field after the one matched last: a file names its fields in one order, so this is
    /// almost always the next name.
    private var expectedField = 0

    /// The field position for a name, or nil for a field outside the contract.
    mutating func fieldIndex(_ name: UnsafeRawBufferPointer) -> Int? {
        let count = nameRanges.count
        let found: Int? = names.withUnsafeBytes { names in
            func matches(_ field: Int) -> Bool {
                let range = nameRanges[field]
                return range.count == name.count && (name.isEmpty || memcmp(names.baseAddress! + range.lowerBound, name.baseAddress!, name.count) == 0)
            }
            if expectedField < count && matches(expectedField) { return expectedField }
            return (0..<count).first(where: matches)
        }
        if let found { expectedField = found + 1 }
        return found
    }

    /// Where each timestamp that parsed was written, as byte offsets into the record (when
    /// the value was read in place, not unescaped): the card-number check excuses a number
    /// there, as an epoch in milliseconds has 13 digits and one in ten passes the Luhn check.
    private(set) var timestampSpans: [Range<Int>] = []
    /// The record's bytes, by address, for placing `timestampSpans`.
    private var recordAddresses = 0..<0

    mutating func begin(_ batch: RecordBatch, record: UnsafeRawBufferPointer) {
        for i in values.indices { values[i] = .absent }
        extra.removeAll(keepingCapacity: true)
        arenaMark = batch.arena.count
        failure = nil
        timestampSpans.removeAll(keepingCapacity: true)
        let start = Int(bitPattern: record.baseAddress)
        recordAddresses = start..<(start + record.count)
    }

    /// Drops the record begun last without committing it (found unsafe to load after parsing).
    mutating func abandon(batch: inout RecordBatch) {
        batch.arena.removeSubrange(arenaMark...)
    }

    mutating func fail(_ reason: RejectReason, _ detail: String) {
        if failure == nil { failure = RecordFailure(reason: reason, detail: detail) }
    }

    mutating func set(field: Int, value: UnsafeRawBufferPointer, shape: ValueShape, batch: inout RecordBatch) {
        guard failure == nil else { return }
        if case .absent = values[field] {} else {
            return fail(.badJSON, "field \(specs[field].name) appears more than once")
        }
        if !nullTexts.isEmpty, shape == .string, nullTexts.contains(where: { $0.elementsEqual(value) }) { return }
        // "" in a typed field is absent, as the empty CSV cell it was converted from (Miller, csvjson).
        if value.isEmpty, shape == .string, types[field] != .string { return }
        switch types[field] {
        case .string:
            guard shape != .container else {
                return fail(.wrongType, "field \(specs[field].name): expected a string, found an object or array")
            }
            if required[field] {
                // An identifier: `true` would make every such record one account's.
                guard shape != .boolean else {
                    return fail(.wrongType, "field \(specs[field].name): expected a string, found true or false")
                }
                // An id of white space alone is no id.
                if value.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }) { return }
            }
            keep(value, as: field, in: &batch)
        case .timestamp:
            guard shape == .string || shape == .number else {
                return fail(.badTimestamp, "field \(specs[field].name): \(TimestampRules.expected)")
            }
            switch timestamps.parse(ValueParsing.trimmingBlanks(value)) {
            case let .milliseconds(ms):
                values[field] = .int(ms)
                let start = Int(bitPattern: value.baseAddress)
                if recordAddresses.contains(start) && start + value.count <= recordAddresses.upperBound {
                    let offset = start - recordAddresses.lowerBound
                    timestampSpans.append(offset..<(offset + value.count))
                }
            case let .invalid(why): return fail(.badTimestamp, "field \(specs[field].name): \(why)" + Self.nullHint(value))
            }
        case .ip:
            guard shape == .string, ValueParsing.withCanonicalIP(value, { keep($0, as: field, in: &batch) }) else {
                let why = ValueParsing.ipProblem(value).map { ": \($0)" } ?? ""
                return fail(.badIP, "field \(specs[field].name): expected an IPv4 or IPv6 address" + why + Self.nullHint(value))
            }
        case .int:
            let digits = ValueParsing.trimmingBlanks(value)
            guard shape == .string || shape == .number, let number = ValueParsing.integer(digits) else {
                let why = ValueParsing.integerProblem(digits).map { ": \($0)" } ?? ""
                return fail(.badInteger, "field \(specs[field].name): expected a base-10 integer that fits in 64 bits" + why + Self.nullHint(value))
            }
            values[field] = .int(number)
        }
    }

    /// For a typed value that is a word exports write for NULL (MySQL's `\N`, R's `NA`, a log's
    /// `-`: a `Placeholder`), the option that reads it as absent; "" for any other value.
    private static func nullHint(_ value: UnsafeRawBufferPointer) -> String {
        guard value.count <= 16, value.contains(where: { $0 != 0x20 && $0 != 0x09 }) else { return "" }
        let text = String(decoding: value, as: UTF8.self)
        guard Placeholder.isPlaceholder(text), !text.contains("'") else { return "" }
        return "; the export may write \(Printable.escaped(text)) for no value: ingest with --null '\(Printable.escaped(text))'"
    }

    /// Copies a text value into the batch's arena as the field's value.
    private mutating func keep(_ value: UnsafeRawBufferPointer, as field: Int, in batch: inout RecordBatch) {
        values[field] = .text(start: batch.arena.count, count: value.count)
        batch.arena.append(contentsOf: value)
    }

    /// Keeps a field outside the contract; both arguments are already JSON text.
    mutating func addExtra(keyJSON: UnsafeRawBufferPointer, valueJSON: UnsafeRawBufferPointer) {
        extra.append(extra.isEmpty ? UInt8(ascii: "{") : UInt8(ascii: ","))
        extra.append(contentsOf: keyJSON)
        extra.append(UInt8(ascii: ":"))
        extra.append(contentsOf: valueJSON)
    }

    /// Keeps a CSV column outside the contract as a JSON string value.
    mutating func addExtra(keyJSON: UnsafeRawBufferPointer, stringValue: UnsafeRawBufferPointer) {
        extra.append(extra.isEmpty ? UInt8(ascii: "{") : UInt8(ascii: ","))
        extra.append(contentsOf: keyJSON)
        extra.append(UInt8(ascii: ":"))
        JSONText.appendString(stringValue, to: &extra)
    }

    /// A hint when the record names the field in other letter case (`"Account_ID"`): the
    /// export's names differ from the contract's, which are case-sensitive.
    private func nearMiss(_ name: [UInt8]) -> String {
        func lower(_ c: UInt8) -> UInt8 { c >= 0x41 && c <= 0x5A ? c | 0x20 : c }
        var index = 0
        while index + name.count + 3 <= extra.count {
            let start = index + 1
            if extra[index] == UInt8(ascii: "\""), extra[start + name.count] == UInt8(ascii: "\""),
               extra[start + name.count + 1] == UInt8(ascii: ":"),
               (0..<name.count).allSatisfy({ lower(extra[start + $0]) == name[$0] }) {
                let key = String(decoding: extra[start..<(start + name.count)], as: UTF8.self)
                return "; the record has \(key), but field names are case-sensitive"
            }
            index += 1
        }
        return ""
    }

    /// Commits the record to `batch`, or returns why it cannot be loaded (the batch is then unchanged).
    mutating func finish(line: Int64, batch: inout RecordBatch) -> RecordFailure? {
        if failure == nil {
            for index in required.indices where required[index] {
                if case .absent = values[index] {
                    fail(.missingField, "required field \(specs[index].name) is missing, empty or white space alone" + nearMiss(specs[index].nameBytes))
                    break
                }
            }
        }
        if let failure {
            batch.arena.removeSubrange(arenaMark...)
            return failure
        }
        var hasher = ContentHasher()
        batch.arena.withUnsafeBytes { arena in
            for (index, value) in values.enumerated() {
                switch value {
                case .absent: continue
                case let .int(number): hasher.add(field: index, int: number)
                case let .text(start, count): hasher.add(field: index, bytes: UnsafeRawBufferPointer(rebasing: arena[start..<(start + count)]))
                }
            }
        }
        var extraSlot = Slot.absent
        if !extra.isEmpty {
            extra.append(UInt8(ascii: "}"))
            extra.withUnsafeBytes { hasher.add(field: specs.count, bytes: $0) }
            extraSlot = .text(start: batch.arena.count, count: extra.count)
            batch.arena.append(contentsOf: extra)
        }
        values.withUnsafeBufferPointer { batch.slots.append(contentsOf: $0) }
        batch.records.append(ParsedRecord(line: line, contentHash: hasher.value, extra: extraSlot))
        return nil
    }
}

