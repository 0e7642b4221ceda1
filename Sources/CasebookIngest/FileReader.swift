import CasebookIO
#if canImport(Glibc)
import Glibc
#endif

/// Reads one input into batches: cuts records, checks them against the
/// contract, and sends loaded records and rejects to the writer in order.
final class FileReader {
    private let file: InputFile
    private let fileID: Int64
    private let splitter: RecordSplitter

    init(file: InputFile, fileID: Int64, source: ByteSource, maxRecordBytes: Int) {
        self.file = file
        self.fileID = fileID
        splitter = RecordSplitter(source: source, mode: file.format == .csv ? .csv : .lines, maxRecordBytes: maxRecordBytes)
        if let separator = file.options.separator { splitter.separator = separator.byte }
    }

    /// Reads from decompressed `offset` (0, or where an interrupted run stopped) to the end.
    /// Returns where damage starts, or nil when the file was read to a clean end;
    /// throws `FileError` for a read error before any record could be handed out.
    func read(from offset: Int64, line: Int64, channel: WriterChannel, progress: (Int) -> Void) throws -> String? {
        var builder = RecordBuilder(kind: file.kind, timestamps: file.options.timestamps, nullTexts: file.options.nullTexts)
        var json = JSONRecordParser()
        var csv: CSVRecordParser?
        // A file that cannot be read as records at all still loses nothing: each of its
        // records goes to the rejects with this reason.
        var unusable: RecordFailure?
        // The header's text, to tell it again inside the file (CSV files joined with `cat`).
        var headerRow: [UInt8] = []
        try splitter.skipByteOrderMark()
        if file.format == .csv {
            func headerLine() throws -> RawRecord? {
                guard let line = try splitter.next(), line.ending != .cutOff else { return nil }
                return line
            }
            let missing = offset > 0 ? "the header row disappeared since the interrupted run" : nil
            guard var header = try headerLine() else { return missing }
            // Windows PowerShell's Export-Csv writes `#TYPE <class>` above the header unless told -NoTypeInformation.
            if Self.isPowerShellTypeLine(header.bytes) {
                guard let next = try headerLine() else { return missing }
                header = next
            }
            // Excel may write `sep=;` above the header, saying which separator its cells use.
            let stated = Self.separatorLine(header.bytes)
            if stated != nil {
                guard let next = try headerLine() else { return missing }
                header = next
            }
            headerRow = Self.trimmingCarriageReturn(header.bytes)
            let separator = stated.flatMap(CSVSeparator.init(text:)) ?? file.options.separator ?? .comma
            splitter.separator = separator.byte
            if let stated {
                let shown = Printable.escaped(stated)
                let line = "not loaded: line 1, sep=\(shown) as Excel writes it, says the cells are separated by '\(shown)'"
                if CSVSeparator(text: stated) == nil {
                    unusable = RecordFailure(reason: .badCSV, detail: line
                        + "; cells are read separated by commas, semicolons, tabs or '|': save it with one of them")
                } else if let given = file.options.separator, given != separator {
                    unusable = RecordFailure(reason: .badCSV, detail: line + ", but --separator says \(given.argument)")
                }
            }
            if unusable == nil { unusable = utf16WithoutMark(header.bytes) }
            if unusable == nil && !TextChecks.isValidUTF8(header.bytes) {
                unusable = RecordFailure(reason: .badCSV, detail: "not loaded: the header row (line \(header.line)) is not valid UTF-8")
            }
            // A column's name is the key of its values in `extra`, so it is part of every record.
            if unusable == nil && file.kind == .payments && !TextChecks.cardNumberCandidates(header.bytes, jsonEscapes: false).isEmpty {
                unusable = RecordFailure(reason: .cardNumber, detail: "not loaded: the header row (line \(header.line)) names a column with "
                    + "what looks like a full card number (PAN); rename the column, then ingest the file again")
            }
            if unusable == nil {
                do {
                    csv = try CSVRecordParser(header: header.bytes, builder: builder, separator: separator)
                } catch {
                    unusable = RecordFailure(reason: error.reason, detail: "not loaded: the header row (line \(header.line)) is unusable: \(error.detail)")
                }
            }
        }
        if offset > splitter.offset { try splitter.skip(to: offset, line: line) }

        var batch = channel.emptyBatch(kind: file.kind, fileID: fileID)
        batch.endOffset = splitter.offset
        batch.endLine = splitter.nextLine
        var damage: String?
        var isFirstRecord = offset == 0
        // A first JSON Lines record that is a whole array on its line: the file is one array
        // (pandas' to_json without lines=True) when nothing follows it, and the file's damage
        // then says so; otherwise it is one bad record, and the records after it load.
        var firstLineArray: RecordFailure?
        var recordsInRun = 0
        while true {
            let record: RawRecord
            do {
                guard let next = try splitter.next() else { break }
                record = next
            } catch let error as FileError {
                damage = "\(Self.damageDescription(error)) after line \(splitter.nextLine - 1)"
                break
            }
            // The batch's resume cursor moves past this record whatever becomes of it.
            batch.endOffset = record.endOffset
            batch.endLine = splitter.nextLine
            if Self.isBlank(record.bytes) && !record.oversized { continue }
            batch.recordsRead += 1
            recordsInRun += 1
            var arrayRecord: RecordFailure?
            if isFirstRecord && file.format == .jsonl && unusable == nil {
                if let encoding = utf16WithoutMark(record.bytes) {
                    unusable = encoding
                } else if let notLines = notJSONLines(record.bytes) {
                    if Self.isWholeArray(record.bytes) {
                        firstLineArray = notLines
                        arrayRecord = RecordFailure(reason: .badJSON, detail: "the line is a JSON array, not one object; a file that is one JSON array "
                            + "(as pandas' to_json writes without lines=True) converts with: \(jsonLinesConversion("'.[]'"))")
                    } else {
                        unusable = notLines
                    }
                }
            }
            isFirstRecord = false
            let repeatedHeader = csv != nil && Self.isRow(Self.withoutByteOrderMark(record.bytes), headerRow)
                ? RecordFailure(reason: .badCSV, detail: "the header row again, not a record (CSV files joined with cat keep each one's header)")
                : nil
            if let failure = unusable ?? arrayRecord ?? repeatedHeader ?? check(record, builder: &builder, json: &json, csv: &csv, batch: &batch) {
                var reason = failure.reason
                var detail = failure.detail
                // A last record without its line break is likely cut off, unless the whole file's
                // shape already says why it cannot load (pandas writes its array without one).
                if record.ending != .lineBreak && unusable == nil && arrayRecord == nil {
                    reason = .truncated
                    detail = "the file ends inside this record (\(failure.detail))"
                    // The lines the record spans; a line break as its last byte starts no line.
                    let lastLine = splitter.nextLine - (record.bytes.last == 0x0A ? 2 : 1)
                    damage = file.format == .csv && lastLine > record.line
                        ? "the record at line \(record.line) opens a quoted cell that is never closed, so lines \(record.line)-\(lastLine) "
                            + "were read as that one record: a stray quote (escape it as \"\" or remove it, then ingest the file again), or the file is cut off"
                        : "the last record, at line \(record.line), is cut off"
                }
                batch.rejects.append(reject(record, reason: reason, detail: detail))
            } else if record.ending == .cutOff {
                // It parsed, but the stream broke inside or right after it: it may be incomplete.
                batch.dropLastRecord()
                batch.rejects.append(reject(record, reason: .truncated,
                                                 detail: "the input stops inside this record; it may be incomplete"))
                damage = "the input stops inside the record at line \(record.line)"
            }
            if batch.isFull {
                progress(batch.recordsRead)
                try channel.send(.batch(batch))
                batch = channel.emptyBatch(kind: file.kind, fileID: fileID)
            }
        }
        progress(batch.recordsRead)
        batch.endOffset = splitter.offset
        batch.endLine = splitter.nextLine
        try channel.send(.batch(batch))
        // A header's detail quotes its column names, which may hold a card number.
        if let unusable = unusable ?? (recordsInRun == 1 ? firstLineArray : nil) { return Self.maskingCardNumbers(unusable.detail) }
        return damage
    }

    /// Validates and parses one record into the batch; the failure if it cannot be loaded.
    private func check(_ record: RawRecord, builder: inout RecordBuilder, json: inout JSONRecordParser,
                       csv: inout CSVRecordParser?, batch: inout RecordBatch) -> RecordFailure? {
        if record.oversized {
            return RecordFailure(reason: .tooLarge, detail: "the record is larger than \(splitter.maxRecordBytes >> 20) MiB; raw holds its first 64 KiB")
        }
        guard TextChecks.isValidUTF8(record.bytes) else {
            return RecordFailure(reason: .badUTF8, detail: "the record is not valid UTF-8; raw holds its exact bytes. "
                + "A file saved by Excel on Windows is Windows-1252: ingest it with --encoding windows-1252")
        }
        return Self.parse(Self.withoutByteOrderMark(record.bytes), line: record.line, kind: file.kind, format: file.format,
                          builder: &builder, json: &json, csv: &csv, batch: &batch)
    }

    /// A record's bytes without a UTF-8 byte order mark at its start: files joined with `cat`
    /// keep each one's mark at the start of a line, where it would make a JSON record invalid
    /// and a CSV record's first cell another value. A reject's raw text keeps it.
    private static func withoutByteOrderMark(_ bytes: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        bytes.count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF ? UnsafeRawBufferPointer(rebasing: bytes[3...]) : bytes
    }

    /// Parses one record of valid UTF-8 into `batch`, unless it holds a card number outside
    /// a timestamp's value; the failure if it cannot be loaded (the batch is then unchanged).
    /// The one path from a record's bytes to a loaded row, which the fuzz target drives too.
    static func parse(_ bytes: UnsafeRawBufferPointer, line: Int64, kind: RecordKind, format: InputFormat,
                      builder: inout RecordBuilder, json: inout JSONRecordParser, csv: inout CSVRecordParser?,
                      batch: inout RecordBatch) -> RecordFailure? {
        let cards = kind == .payments ? TextChecks.cardNumberCandidates(bytes, jsonEscapes: format == .jsonl) : []
        builder.begin(batch, record: bytes)
        batch.markRecordStart()
        if csv != nil {
            csv!.parse(bytes, builder: &builder, batch: &batch)
        } else {
            json.parse(bytes, builder: &builder, batch: &batch)
        }
        // A number that is a timestamp's whole value is a time, not a card.
        if cards.contains(where: { card in !builder.timestampSpans.contains { $0.lowerBound <= card.lowerBound && card.upperBound <= $0.upperBound } }) {
            builder.abandon(batch: &batch)
            return RecordFailure(reason: .cardNumber, detail: "the record contains what looks like a full card number (PAN); it is not stored, and raw shows it masked")
        }
        let failure = builder.finish(line: line, batch: &batch)
        if failure == nil { batch.keepRaw(bytes) }
        return failure
    }

    /// A reject with card numbers masked in its raw text, and in its detail, which may quote
    /// the value it could not read.
    private func reject(_ record: RawRecord, reason: RejectReason, detail: String) -> RejectedRecord {
        let raw = TextChecks.maskingCardNumbers(record.bytes, jsonEscapes: file.format == .jsonl)
        let isText = raw.withUnsafeBytes { TextChecks.isValidUTF8($0) }
        return RejectedRecord(line: record.line, reason: reason, detail: Self.maskingCardNumbers(detail), raw: raw, rawIsText: isText)
    }

    private static func maskingCardNumbers(_ text: String) -> String {
        String(decoding: Array(text.utf8).withUnsafeBytes { TextChecks.maskingCardNumbers($0) }, as: UTF8.self)
    }

    /// UTF-16 without a byte order mark (SQL Server's `bcp -w`) is valid UTF-8 byte for byte, a
    /// NUL beside each letter, so nothing else names it: a first line that is mostly such pairs
    /// gets the `--encoding` that reads it.
    private func utf16WithoutMark(_ firstLine: UnsafeRawBufferPointer) -> RecordFailure? {
        guard file.options.encoding == .utf8, firstLine.count >= 4 else { return nil }
        let pairs = firstLine.count / 2
        let nulsFirst = stride(from: 0, to: 2 * pairs, by: 2).count { firstLine[$0] == 0 }
        let nulsSecond = stride(from: 1, to: 2 * pairs, by: 2).count { firstLine[$0] == 0 }
        let encoding: TextEncoding
        if 4 * nulsSecond >= 3 * pairs && nulsFirst == 0 {
            encoding = .utf16le
        } else if 4 * nulsFirst >= 3 * pairs && nulsSecond <= 1 {
            encoding = .utf16be
        } else {
            return nil
        }
        return RecordFailure(reason: .badUTF8, detail: "the file is UTF-16 without a byte order mark (a NUL byte beside each letter), "
            + "as SQL Server's bcp -w writes: ingest it with --encoding \(encoding.rawValue)")
    }

    /// Why a file whose first line is this cannot be JSON Lines (one object to a line), with
    /// the `jq` line that converts it: a JSON array (`[` first, as pandas' `to_json` writes
    /// without `lines=True`), or objects printed over many lines (`{` alone, as `jq .` and
    /// `json.dumps(indent=…)` write). Nil for any other line.
    private func notJSONLines(_ firstLine: UnsafeRawBufferPointer) -> RecordFailure? {
        let visible = firstLine.filter { !Self.isBlank($0) }
        let (what, filter): (String, String)
        if visible.first == UInt8(ascii: "[") {
            (what, filter) = ("one JSON array (as pandas' to_json writes without lines=True)", "'.[]'")
        } else if visible == [UInt8(ascii: "{")] {
            (what, filter) = ("JSON objects printed over many lines (as jq . writes)", ".")
        } else {
            return nil
        }
        return RecordFailure(reason: .badJSON, detail: "the file is \(what), not JSON Lines of one object to a line; "
            + "convert it: \(jsonLinesConversion(filter))")
    }

    private func jsonLinesConversion(_ filter: String) -> String {
        "jq -c \(filter) \(InputFormat.shellQuoted(file.path)) | casebook ingest --kind \(file.kind.rawValue) --format jsonl -"
    }

    /// Whether a line that begins with `[` also ends the array (`]` last but for blanks): then
    /// it is the whole file only if no record follows it.
    private static func isWholeArray(_ line: UnsafeRawBufferPointer) -> Bool {
        line.last(where: { !isBlank($0) }) == UInt8(ascii: "]")
    }

    private static func isPowerShellTypeLine(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.count > 6 && bytes.starts(with: "#TYPE ".utf8)
    }

    /// The separator an Excel `sep=X` line names, or nil when the line is not one.
    private static func separatorLine(_ bytes: UnsafeRawBufferPointer) -> String? {
        guard bytes.count <= 6 else { return nil }
        let text = String(decoding: trimmingCarriageReturn(bytes), as: UTF8.self)
        guard text.count == 5, text.lowercased().hasPrefix("sep=") else { return nil }
        return String(text.suffix(1))
    }

    private static func trimmingCarriageReturn(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        bytes.last == 0x0D ? Array(bytes.dropLast()) : Array(bytes)
    }

    /// Whether `bytes` are `row`, but for a final carriage return; without copying, as it
    /// runs on every CSV record.
    private static func isRow(_ bytes: UnsafeRawBufferPointer, _ row: [UInt8]) -> Bool {
        let count = bytes.last == 0x0D ? bytes.count - 1 : bytes.count
        guard count == row.count, count > 0 else { return false }
        return row.withUnsafeBytes { memcmp($0.baseAddress!, bytes.baseAddress!, count) == 0 }
    }

    private static func isBlank(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.allSatisfy(isBlank)
    }

    /// A space, a tab, or the carriage return of a CRLF line break.
    private static func isBlank(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0D
    }

    private static func damageDescription(_ error: FileError) -> String {
        switch error {
        case .gzipTruncated: return "the gzip stream ends early (the file is truncated)"
        case let .gzipCorrupt(_, offset, reason): return "the gzip data is corrupt at compressed byte \(offset) (\(reason))"
        case let .readFailed(_, reason), let .writeFailed(_, reason): return "reading failed (\(reason))"
        case let .cannotOpen(_, reason): return "cannot open (\(reason))"
        }
    }
}
