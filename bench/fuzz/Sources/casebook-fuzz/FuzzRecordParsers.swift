@testable import CasebookIngest
import CasebookIO
import Foundation

/// libFuzzer target for the record parsers (the default target): one input is one record (JSON Lines)
/// or a header line and one record (CSV), of a kind (and CSV separator) chosen by its first byte,
/// checked and parsed into a batch as ingest does it (`FileReader.parse`, card numbers
/// excused inside timestamps included).
/// The same bytes also pass the readers every input passes before its records are cut (byte
/// order marks, UTF-16, Windows-1252, line breaks), in small reads of a size the first byte picks.
/// A crash, a trap or a sanitizer report is a bug; a rejected record is not.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRecordParsers(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    guard size > 0 else { return 0 }
    let selector = data[0]
    let kind = RecordKind.allCases[Int(selector & 3)]
    let csv = selector & 4 != 0
    let rules = TimestampRules(epochUnit: TimestampRules.EpochUnit.allCases[Int(selector >> 3) % 3],
                               zone: selector & 0x80 != 0 ? TimestampRules.zone(named: "Europe/Paris") : nil)
    let input = UnsafeRawBufferPointer(start: data + 1, count: size - 1)
    drainReaders(input, selector: selector)
    var batch = RecordBatch(kind: kind, fileID: 1)
    var builder = RecordBuilder(kind: kind, timestamps: rules)
    let masked = TextChecks.maskingCardNumbers(input, jsonEscapes: !csv)
    precondition(masked.withUnsafeBytes { TextChecks.cardNumberRanges($0, jsonEscapes: !csv) }.isEmpty, "masking left a card number")
    var json = JSONRecordParser()
    var parser: CSVRecordParser?
    var record = input
    if csv {
        let newline = input.firstIndex(of: 0x0A) ?? input.count
        let header = UnsafeRawBufferPointer(rebasing: input[0..<newline])
        record = UnsafeRawBufferPointer(rebasing: input[min(input.count, newline + 1)...])
        let separator = CSVSeparator.allCases[Int(selector >> 5) & 3]
        guard TextChecks.isValidUTF8(header), let usable = try? CSVRecordParser(header: header, builder: builder, separator: separator) else { return 0 }
        parser = usable
    }
    guard TextChecks.isValidUTF8(record) else { return 0 }
    let failure = FileReader.parse(record, line: 1, kind: kind, format: csv ? .csv : .jsonl,
                                   builder: &builder, json: &json, csv: &parser, batch: &batch)
    if failure == nil {
        // What a conflict reject or the writer would read back.
        _ = batch.raw(of: 0)
        for field in 0..<kind.fields.count { _ = batch.slot(0, field) }
    } else {
        precondition(batch.records.isEmpty && batch.arena.isEmpty, "a record that failed left bytes in the batch")
    }
    return 0
}

/// Reads `input` through the decoding and line-break readers to its end.
private func drainReaders(_ input: UnsafeRawBufferPointer, selector: UInt8) {
    let encoding = TextEncoding.allCases[Int(selector >> 2) % TextEncoding.allCases.count]
    let source = LineBreakSource(upstream: TextDecodingSource(upstream: BytesInMemory(Array(input)), encoding: encoding))
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 8, alignment: 1)
    defer { buffer.deallocate() }
    let size = Int(selector % 7) + 1
    while (try? source.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<size]))) ?? 0 > 0 {}
}
