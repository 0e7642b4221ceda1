import CasebookIO

/// Why a record was not loaded. The raw value is what `rejects.reason` holds.
public enum RejectReason: String, CaseIterable, Sendable {
    case missingField = "missing_field"
    case badTimestamp = "bad_timestamp"
    case badIP = "bad_ip"
    case badInteger = "bad_integer"
    case wrongType = "wrong_type"
    case badJSON = "bad_json"
    case badCSV = "bad_csv"
    case badUTF8 = "bad_utf8"
    case cardNumber = "card_number"
    case conflict = "conflict"
    case truncated = "truncated"
    case tooLarge = "too_large"
}

/// One parsed field: absent, text in the batch's arena, or an integer
/// (timestamps as UTC milliseconds, ints as themselves).
enum Slot: Sendable {
    case absent
    case text(start: Int, count: Int)
    case int(Int64)
}

struct ParsedRecord: Sendable {
    let line: Int64
    let contentHash: Int64
    let extra: Slot
}

struct RejectedRecord: Sendable {
    let line: Int64
    let reason: RejectReason
    let detail: String
    /// The record as read, card numbers masked; may be invalid UTF-8.
    let raw: [UInt8]
    let rawIsText: Bool
    /// For a conflict: where the version that was kept came from.
    var conflictWith: (fileID: Int64, line: Int64)? = nil
}

/// A run of parsed records of one file, handed from the parser to the writer.
///
/// Field text lives in one byte arena and records refer to it by range, so a
/// batch of ten thousand records is a handful of allocations, and the writer
/// binds text straight from the arena without copying.
struct RecordBatch: Sendable {
    private(set) var kind: RecordKind
    private(set) var fileID: Int64
    private(set) var fieldCount: Int
    var arena: [UInt8] = []
    var slots: [Slot] = []
    var records: [ParsedRecord] = []
    var rejects: [RejectedRecord] = []
    /// Records read in this batch (loaded + rejected here; duplicates are found by the writer).
    var recordsRead = 0
    /// Where reading resumes after this batch: decompressed offset and next line.
    var endOffset: Int64 = 0
    var endLine: Int64 = 1

    init(kind: RecordKind, fileID: Int64) {
        self.kind = kind
        self.fileID = fileID
        fieldCount = kind.fields.count
        arena.reserveCapacity(4 << 20)
    }

    /// Empties a used batch for another round, keeping its buffers: fresh
    /// multi-megabyte buffers per batch cost more in page faults than parsing.
    mutating func reuse(kind: RecordKind, fileID: Int64) {
        self.kind = kind
        self.fileID = fileID
        fieldCount = kind.fields.count
        arena.removeAll(keepingCapacity: true)
        slots.removeAll(keepingCapacity: true)
        records.removeAll(keepingCapacity: true)
        rejects.removeAll(keepingCapacity: true)
        recordsRead = 0
        endOffset = 0
        endLine = 1
        lastRecordArenaStart = 0
    }

    /// Where the record being parsed began, so it can be taken back out.
    private var lastRecordArenaStart = 0

    mutating func markRecordStart() { lastRecordArenaStart = arena.count }

    /// Removes the record added last (one found unsafe to load after parsing).
    mutating func dropLastRecord() {
        records.removeLast()
        slots.removeLast(fieldCount)
        arena.removeSubrange(lastRecordArenaStart...)
    }

    var isFull: Bool { records.count + rejects.count >= 8192 || arena.count >= (16 << 20) }

    func slot(_ record: Int, _ field: Int) -> Slot { slots[record * fieldCount + field] }
}

extension RecordBatch {
    /// A record rebuilt as a contract JSON object (timestamps as epoch seconds),
    /// for a reject found only at write time, after the raw line is gone.
    func rawText(of record: Int) -> String {
        var out: [UInt8] = [UInt8(ascii: "{")]
        let specs = kind.fields
        arena.withUnsafeBytes { arena in
            for (field, spec) in specs.enumerated() {
                let value = slot(record, field)
                if case .absent = value { continue }
                if out.count > 1 { out.append(UInt8(ascii: ",")) }
                spec.nameBytes.withUnsafeBytes { JSONText.appendString($0, to: &out) }
                out.append(UInt8(ascii: ":"))
                switch value {
                case .absent: break
                case let .int(number):
                    let text = spec.type == .timestamp ? Self.epochSeconds(milliseconds: number) : String(number)
                    out.append(contentsOf: text.utf8)
                case let .text(start, count):
                    JSONText.appendString(UnsafeRawBufferPointer(rebasing: arena[start..<(start + count)]), to: &out)
                }
            }
            if case let .text(start, count) = records[record].extra, count > 2 {
                // Splice the extra object's members in after the contract fields.
                if out.count > 1 { out.append(UInt8(ascii: ",")) }
                out.append(contentsOf: arena[(start + 1)..<(start + count - 1)])
            }
        }
        out.append(UInt8(ascii: "}"))
        return String(decoding: out, as: UTF8.self)
    }

    static func epochSeconds(milliseconds: Int64) -> String {
        let sign = milliseconds < 0 ? "-" : ""
        let magnitude = milliseconds.magnitude
        let fraction = String(magnitude % 1000)
        return "\(sign)\(magnitude / 1000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction)"
    }
}
