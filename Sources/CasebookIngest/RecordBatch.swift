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
    /// Each loaded record's exact input text, for a conflict found only by the writer.
    var rawArena: [UInt8] = []
    var rawRanges: [Range<Int>] = []
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
        rawArena.reserveCapacity(4 << 20)
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
        rawArena.removeAll(keepingCapacity: true)
        rawRanges.removeAll(keepingCapacity: true)
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
        rawArena.removeSubrange(rawRanges.removeLast())
        records.removeLast()
        slots.removeLast(fieldCount)
        arena.removeSubrange(lastRecordArenaStart...)
    }

    /// Keeps the exact text of the record just added.
    mutating func keepRaw(_ bytes: UnsafeRawBufferPointer) {
        rawRanges.append(rawArena.count..<(rawArena.count + bytes.count))
        rawArena.append(contentsOf: bytes)
    }

    func raw(of record: Int) -> [UInt8] { Array(rawArena[rawRanges[record]]) }

    /// The memory the batch holds, counting the capacity its reused buffers keep.
    var footprint: Int {
        arena.capacity + rawArena.capacity
            + slots.capacity * MemoryLayout<Slot>.stride
            + records.capacity * MemoryLayout<ParsedRecord>.stride
            + rawRanges.capacity * MemoryLayout<Range<Int>>.stride
            + rejects.reduce(rejects.capacity * MemoryLayout<RejectedRecord>.stride) { $0 + $1.raw.count + $1.detail.utf8.count }
    }

    var isFull: Bool { records.count + rejects.count >= 8192 || arena.count + rawArena.count >= (24 << 20) }

    func slot(_ record: Int, _ field: Int) -> Slot { slots[record * fieldCount + field] }
}
