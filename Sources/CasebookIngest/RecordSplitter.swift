import CasebookIO
#if canImport(Glibc)
import Glibc
#endif

/// One record's raw bytes as cut from the stream, valid until the next call.
struct RawRecord {
    enum Ending {
        /// A line break ended the record.
        case lineBreak
        /// The stream ended cleanly right after the record, with no final line break.
        case endOfStream
        /// The stream stopped inside the record: a read error, or end of input inside a quoted CSV cell.
        case cutOff
    }

    var bytes: UnsafeRawBufferPointer
    /// 1-based number of the physical line the record starts on.
    var line: Int64
    /// Decompressed byte offset just past the record (and its line break).
    var endOffset: Int64
    var ending: Ending
    /// True when the record was longer than the limit; `bytes` then holds only its start.
    var oversized: Bool
}

/// Cuts a byte stream into records: lines for JSON Lines, RFC 4180 records
/// (quoted cells may hold line breaks) for CSV. Records up to `maxRecordBytes`
/// come out whole; longer ones are skipped with their first 64 KiB kept, so one
/// huge record cannot exhaust memory.
///
/// A quote opens a quoted cell only at the start of a cell, as `CSVRecordParser` reads it:
/// a quote inside an unquoted cell (`5'11"`, an exporter that does not escape) is a
/// letter, and does not carry the rest of the file into one record.
final class RecordSplitter {
    enum Mode { case lines, csv }

    private let source: ByteSource
    private let mode: Mode
    /// The CSV cell separator, known once the header (or an Excel `sep=` line) is read.
    var separator = UInt8(ascii: ",")
    let maxRecordBytes: Int
    private var buffer: UnsafeMutableRawBufferPointer
    private let oversizedHead: UnsafeMutableRawBufferPointer
    private var start = 0
    private var end = 0
    private var atEOF = false
    private var pendingError: Error?
    /// Decompressed offset of `buffer[start]`.
    private(set) var offset: Int64 = 0
    /// Line number of the next record.
    private(set) var nextLine: Int64 = 1

    init(source: ByteSource, mode: Mode, maxRecordBytes: Int = 64 << 20) {
        self.source = source
        self.mode = mode
        self.maxRecordBytes = maxRecordBytes
        buffer = .allocate(byteCount: 1 << 20, alignment: 16)
        oversizedHead = .allocate(byteCount: 64 << 10, alignment: 16)
    }

    deinit {
        buffer.deallocate()
        oversizedHead.deallocate()
    }

    /// Skips a UTF-8 byte order mark at the very start of the stream (a UTF-16 stream's mark
    /// is UTF-8's by now: `TextDecodingSource`).
    func skipByteOrderMark() throws {
        guard offset == 0 else { return }
        while end - start < 3 && !atEOF && pendingError == nil { _ = try fill() }
        if end - start >= 3, buffer[start] == 0xEF, buffer[start + 1] == 0xBB, buffer[start + 2] == 0xBF {
            start += 3
            offset += 3
        }
    }

    /// Discards input up to decompressed offset `target` (resuming); `line` is the next line's number.
    func skip(to target: Int64, line: Int64) throws {
        while offset < target {
            if start == end {
                if atEOF { break }
                if let pendingError { throw pendingError }
                _ = try fill()
                continue
            }
            let take = Int(min(Int64(end - start), target - offset))
            start += take
            offset += Int64(take)
        }
        nextLine = line
    }

    /// The next record, or nil at the end. A read error is thrown after the
    /// partial record before it has been handed out (as `.cutOff`).
    func next() throws -> RawRecord? {
        var scan = ScanState(from: start)
        while true {
            if let (recordEnd, breakLength) = findEnd(&scan) {
                return take(upTo: recordEnd, breakLength: breakLength, ending: .lineBreak, lineBreaks: scan.lineBreaks)
            }
            if end - start >= maxRecordBytes { return try skipOversized(&scan) }
            if atEOF || pendingError != nil {
                if start == end {
                    if let pendingError { self.pendingError = nil; throw pendingError }
                    return nil
                }
                let ending: RawRecord.Ending = pendingError != nil || (mode == .csv && scan.inQuotes) ? .cutOff : .endOfStream
                return take(upTo: end, breakLength: 0, ending: ending, lineBreaks: scan.lineBreaks)
            }
            scan.from -= try fill()
        }
    }

    private struct ScanState {
        var from: Int
        var cell = CSVCell.start
        var lineBreaks: Int64 = 0
        /// True when the input stopped inside a quoted CSV cell.
        var inQuotes: Bool { cell == .quoted }
    }

    /// Where a CSV scan is within a cell.
    private enum CSVCell {
        case start, unquoted, quoted
        /// Just past a quote inside a quoted cell: a doubled quote, or the cell's end.
        case quoteInQuoted
    }

    private func take(upTo recordEnd: Int, breakLength: Int, ending: RawRecord.Ending, lineBreaks: Int64) -> RawRecord {
        var contentEnd = recordEnd
        if breakLength > 0, contentEnd > start, buffer[contentEnd - 1] == UInt8(ascii: "\r") { contentEnd -= 1 }
        let consumed = recordEnd + breakLength - start
        let record = RawRecord(bytes: UnsafeRawBufferPointer(rebasing: buffer[start..<contentEnd]), line: nextLine,
                               endOffset: offset + Int64(consumed), ending: ending, oversized: false)
        offset += Int64(consumed)
        start += consumed
        nextLine += lineBreaks + 1
        return record
    }

    /// Finds the end of the record that starts at `start`, resuming an earlier scan.
    private func findEnd(_ scan: inout ScanState) -> (Int, Int)? {
        let base = buffer.baseAddress!
        switch mode {
        case .lines:
            let remaining = end - scan.from
            guard remaining > 0, let hit = memchr(base + scan.from, 0x0A, remaining) else {
                scan.from = end
                return nil
            }
            return (base.distance(to: hit), 1)
        case .csv:
            let quote = UInt8(ascii: "\""), separator = self.separator
            var index = scan.from
            var cell = scan.cell
            while index < end {
                let c = buffer[index]
                index += 1
                switch cell {
                case .quoted:
                    if c == quote { cell = .quoteInQuoted } else if c == 0x0A { scan.lineBreaks += 1 }
                    continue
                case .start:
                    if c == quote { cell = .quoted; continue }
                case .quoteInQuoted:
                    if c == quote { cell = .quoted; continue }
                case .unquoted:
                    break
                }
                if c == separator {
                    cell = .start
                } else if c == 0x0A {
                    scan.from = index - 1
                    scan.cell = cell
                    return (index - 1, 1)
                } else {
                    cell = .unquoted
                }
            }
            scan.from = end
            scan.cell = cell
            return nil
        }
    }

    /// Consumes a record longer than the limit without holding it, keeping its start.
    private func skipOversized(_ scan: inout ScanState) throws -> RawRecord {
        let kept = min(oversizedHead.count, end - start)
        oversizedHead.copyMemory(from: UnsafeRawBufferPointer(rebasing: buffer[start..<(start + kept)]))
        let head = UnsafeRawBufferPointer(rebasing: oversizedHead[0..<kept])
        let line = nextLine
        while true {
            if let (recordEnd, breakLength) = findEnd(&scan) {
                let consumed = recordEnd + breakLength - start
                offset += Int64(consumed)
                start += consumed
                nextLine += scan.lineBreaks + 1
                return RawRecord(bytes: head, line: line, endOffset: offset, ending: .lineBreak, oversized: true)
            }
            // Everything scanned so far belongs to this record: drop it.
            offset += Int64(scan.from - start)
            start = scan.from
            if atEOF || pendingError != nil {
                nextLine += scan.lineBreaks + 1
                let ending: RawRecord.Ending = pendingError != nil || (mode == .csv && scan.inQuotes) ? .cutOff : .endOfStream
                return RawRecord(bytes: head, line: line, endOffset: offset, ending: ending, oversized: true)
            }
            scan.from -= try fill()
        }
    }

    /// Reads more input; returns how far the unread bytes moved towards the front.
    private func fill() throws -> Int {
        var shift = 0
        if start > 0 && (start == end || end == buffer.count) {
            let count = end - start
            if count > 0 { memmove(buffer.baseAddress!, buffer.baseAddress! + start, count) }
            shift = start
            start = 0
            end = count
        }
        if end == buffer.count {
            let grown = UnsafeMutableRawBufferPointer.allocate(byteCount: buffer.count * 2, alignment: 16)
            grown.copyMemory(from: UnsafeRawBufferPointer(rebasing: buffer[0..<end]))
            buffer.deallocate()
            buffer = grown
        }
        do {
            let count = try source.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[end...]))
            if count == 0 { atEOF = true }
            end += count
        } catch {
            pendingError = error
        }
        return shift
    }
}
