@testable import CasebookIngest
import CasebookIO
import Foundation

/// libFuzzer target for whole inputs: the bytes after two option bytes are one file, read as
/// ingest reads it (gzip, byte order marks, UTF-16, Windows-1252, line breaks, the CSV header
/// and the lines above it, record cutting with a small record bound, checks and parsing) in
/// reads of a size the options pick. What it checks is ingest's promise that nothing is lost
/// and no card number is kept: every record read is loaded or rejected, each once and in line
/// order, and no reject's raw text or detail, nor a loaded payment's value, nor the file's damage
/// sentence, holds a card number.
/// A crash, a trap or a failed check is a bug; a rejected record or a damaged file is not.
func fuzzInputFiles(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    guard size > 2 else { return 0 }
    let selector = data[0], options = data[1]
    let kind = RecordKind.allCases[Int(selector & 3)]
    let format: InputFormat = selector & 4 != 0 ? .csv : .jsonl
    let gzip = selector & 8 != 0
    let encoding = TextEncoding.allCases[Int(selector >> 4) % TextEncoding.allCases.count]
    let separator = options & 0x80 != 0 ? CSVSeparator.allCases[Int(options >> 5) & 3] : nil
    let file = InputFile(path: "fuzz", kind: kind, format: format, gzip: gzip,
                         options: ReadOptions(encoding: encoding, nullTexts: ["NA"], separator: separator))
    let readLimit = [1, 5, 61, Int.max][Int(options >> 3) & 3]
    var source: ByteSource = BytesInMemory(Array(UnsafeBufferPointer(start: data + 2, count: size - 2)), readLimit: readLimit)
    if gzip { source = GzipSource(upstream: source, path: "fuzz") }
    source = LineBreakSource(upstream: TextDecodingSource(upstream: source, encoding: encoding))
    let reader = FileReader(file: file, fileID: 1, source: source, maxRecordBytes: 32 << Int(options & 7))
    // The writer's side, on a thread of its own as in ingest: a small input may inflate to
    // more batches than the channel holds.
    let checked = DispatchSemaphore(value: 0)
    Thread.detachNewThread {
        checkBatches(kind: kind, format: format)
        checked.signal()
    }
    // A file that gives no record before a read error is refused whole; what was sent is still checked.
    let damage = try? reader.read(from: 0, line: 1, channel: channel) { _ in }
    try! channel.send(.stop)
    checked.wait()
    if let damage {
        precondition(Array(damage.utf8).withUnsafeBytes { TextChecks.cardNumberRanges($0) }.isEmpty, "a file's damage sentence holds a card number")
    }
    return 0
}

/// Receives the batches of one input up to `.stop`, checking each.
private func checkBatches(kind: RecordKind, format: InputFormat) {
    var lines = Set<Int64>()
    var lastEnd: Int64 = 0
    while true {
        guard let job = channel.receive() else { preconditionFailure("the channel failed") }
        if case .stop = job { return }
        guard case let .batch(batch) = job else { preconditionFailure("the reader sent a job that is not a batch") }
        precondition(batch.recordsRead == batch.records.count + batch.rejects.count, "a record read was neither loaded nor rejected")
        precondition(batch.rawRanges.count == batch.records.count && batch.slots.count == batch.records.count * kind.fields.count,
                     "a loaded record's raw text or fields are missing")
        precondition(batch.endOffset >= lastEnd, "the resume cursor went back")
        lastEnd = batch.endOffset
        for line in batch.records.map(\.line) + batch.rejects.map(\.line) {
            precondition(line >= 1 && lines.insert(line).inserted, "two records of one line, or a line before the first")
        }
        for reject in batch.rejects {
            let again = reject.raw.withUnsafeBytes { TextChecks.maskingCardNumbers($0, jsonEscapes: format == .jsonl) }
            precondition(again == reject.raw, "a reject's raw text holds a card number")
            precondition(Array(reject.detail.utf8).withUnsafeBytes { TextChecks.cardNumberRanges($0) }.isEmpty, "a reject's detail holds a card number")
        }
        if kind == .payments { checkNoCardNumber(in: batch) }
        channel.recycle(batch)
    }
}

/// One channel for every run, so that batches are reused as the writer's are.
private let channel = WriterChannel()

/// Fails when a loaded payment's text value, or the fields outside the contract it keeps, holds a card number.
private func checkNoCardNumber(in batch: RecordBatch) {
    for record in batch.records.indices {
        let values = (0..<RecordKind.payments.fields.count).map { batch.slot(record, $0) } + [batch.records[record].extra]
        for value in values {
            guard case let .text(start, count) = value else { continue }
            let found = batch.arena[start..<(start + count)].withUnsafeBytes { TextChecks.cardNumberRanges($0) }
            precondition(found.isEmpty, "a loaded payment's value holds a card number")
        }
    }
}
