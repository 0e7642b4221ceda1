import CasebookIO
import CasebookStore
import Crypto
import Foundation

/// A file of the bundle being written: private (0600), hashed as it is written, synced to
/// disk before the bundle is renamed into place.
///
/// Formatting rows and hashing plus writing them take about as long as each other, so
/// full buffers go to a writer thread of their own (at most a few in flight) while the
/// next rows are formatted.
final class BundleFile: @unchecked Sendable {
    let relativePath: String
    private let descriptor: Int32
    private var buffer: [UInt8] = []
    private let path: String
    // Touched only on `writer`, then read after it has drained.
    private var hasher = SHA256()
    private var written: Int64 = 0
    /// Bytes from the start already dropped from the page cache.
    private var dropped: Int64 = 0
    private var failure: ExportError?

    private static let bufferBytes = 4 << 20
    private let writer = DispatchQueue(label: "casebook.bundle-file")
    private let inFlight = DispatchSemaphore(value: 4)
    /// Buffers the writer has emptied, for the next rows: a fresh multi-megabyte buffer for
    /// every 4 MiB written cost a page fault per page of it.
    private var spare: [Chunk] = []
    private let spareLock = NSLock()

    private final class Chunk: @unchecked Sendable {
        var bytes: [UInt8] = []
    }

    init(root: String, relativePath: String) throws {
        self.relativePath = relativePath
        path = root + "/" + relativePath
        descriptor = SystemPath.withCString(path) { open($0, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o600) }
        guard descriptor >= 0 else { throw ExportError.output("cannot create \(path): \(String(cString: strerror(errno)))") }
        buffer.reserveCapacity(Self.bufferBytes + (1 << 20))
    }

    deinit { close(descriptor) }

    func write(_ text: String) {
        buffer.append(contentsOf: text.utf8)
    }

    func write(bytes: UnsafeRawBufferPointer) { buffer.append(contentsOf: bytes) }

    func append(_ body: (inout [UInt8]) -> Void) { body(&buffer) }

    /// Hands what is buffered to the writer once it is large; call after each row.
    func flushIfFull() throws { if buffer.count >= Self.bufferBytes { flush() } }

    private func flush() {
        guard !buffer.isEmpty else { return }
        inFlight.wait()
        let chunk = spareLock.withLock { spare.popLast() } ?? Chunk()
        if chunk.bytes.capacity == 0 { chunk.bytes.reserveCapacity(Self.bufferBytes + (1 << 20)) }
        swap(&chunk.bytes, &buffer)
        writer.async { [self] in
            if failure == nil { writeOut(chunk.bytes) }
            chunk.bytes.removeAll(keepingCapacity: true)
            spareLock.withLock { spare.append(chunk) }
            inFlight.signal()
        }
    }

    /// Hashes and writes one full buffer; runs on `writer`.
    private func writeOut(_ full: [UInt8]) {
        hasher.update(data: full)
        full.withUnsafeBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let count = Glibc.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                if count < 0 {
                    if errno == EINTR { continue }
                    failure = .output("cannot write \(path): \(String(cString: strerror(errno)))")
                    return
                }
                offset += count
            }
        }
        // Start writing this part to disk now (on Linux, DONTNEED starts writeback of the
        // range), so the fsync at the end waits for the last part only.
        posix_fadvise(descriptor, off_t(written), off_t(full.count), POSIX_FADV_DONTNEED)
        written += Int64(full.count)
        // Parts written a few buffers ago are on disk by now and are dropped from the page
        // cache: gigabytes of bundle would otherwise push out the case file's pages, which
        // this export and the next one read.
        let settled = written - Int64(Self.bufferBytes * 8)
        if settled > dropped {
            posix_fadvise(descriptor, off_t(dropped), off_t(settled - dropped), POSIX_FADV_DONTNEED)
            dropped = settled
        }
    }

    /// Writes the rest, syncs, and returns the file's entry for the manifest.
    func finish() throws -> BundleEntry {
        flush()
        let (digest, size, failed) = writer.sync { (FileDigest.hex(hasher.finalize()), written, failure) }
        if let failed { throw failed }
        guard fsync(descriptor) == 0 else { throw ExportError.output("cannot sync \(path): \(String(cString: strerror(errno)))") }
        PageCache.drop(descriptor)
        return BundleEntry(path: relativePath, sha256: digest, size: size)
    }
}

/// The bundle is not read again by this export: once on disk, its pages leave the page cache
/// rather than the case file's.
enum PageCache {
    /// Drops the clean cached pages of an open file.
    static func drop(_ descriptor: Int32) {
        posix_fadvise(descriptor, 0, 0, POSIX_FADV_DONTNEED)
    }

    /// Drops the clean cached pages of the file at `path`.
    static func drop(path: String) {
        let descriptor = SystemPath.withCString(path) { open($0, O_RDONLY | O_CLOEXEC) }
        guard descriptor >= 0 else { return }
        drop(descriptor)
        close(descriptor)
    }
}

/// One file in the manifest.
public struct BundleEntry: Sendable, Equatable {
    public let path: String
    public let sha256: String
    public let size: Int64
}

/// Rows of a query written as JSON Lines (every value exact, in its SQLite type) and as CSV
/// for spreadsheets (RFC 4180; text a spreadsheet would run as a formula is neutralised).
struct RowWriter {
    private let keys: [[UInt8]]
    private let jsonl: BundleFile
    private let csv: BundleFile?

    /// Prepares for rows of the columns `names` and writes the CSV header.
    init(columns names: [String], jsonl: BundleFile, csv: BundleFile?) {
        keys = names.map { name in
            var key: [UInt8] = []
            var name = name
            name.withUTF8 { JSONText.appendString(UnsafeRawBufferPointer($0), to: &key) }
            return key + Array(": ".utf8)
        }
        self.jsonl = jsonl
        self.csv = csv
        csv?.write(names.map { CSVText.cell($0) }.joined(separator: ",") + "\r\n")
    }

    /// Prepares for the rows of `statement` (its columns name the keys) and writes the CSV header.
    init(columnsOf statement: Statement, jsonl: BundleFile, csv: BundleFile?) {
        self.init(columns: (0..<statement.columnCount).map { statement.columnName($0) }, jsonl: jsonl, csv: csv)
    }

    /// Writes one row, the value of each column (valid during the call) given by `value`.
    func writeRow(_ value: (Int) -> Statement.RawValue) throws {
        jsonl.append { out in
            out.append(UInt8(ascii: "{"))
            for column in keys.indices {
                if column > 0 { out.append(contentsOf: [UInt8(ascii: ","), UInt8(ascii: " ")]) }
                out.append(contentsOf: keys[column])
                Self.appendJSON(value(column), to: &out)
            }
            out.append(contentsOf: [UInt8(ascii: "}"), 0x0A])
        }
        if let csv {
            csv.append { out in
                for column in keys.indices {
                    if column > 0 { out.append(UInt8(ascii: ",")) }
                    Self.appendCSV(value(column), to: &out)
                }
                out.append(contentsOf: [0x0D, 0x0A])
            }
            try csv.flushIfFull()
        }
        try jsonl.flushIfFull()
    }

    /// Writes every row `statement` still yields; returns how many.
    func writeRows(_ statement: Statement, row: () -> Void = {}) throws -> Int {
        var rows = 0
        while try statement.step() {
            try writeRow { statement.raw(Int32($0)) }
            rows += 1
            row()
        }
        statement.reset()
        return rows
    }

    /// Writes every row of `statement` to `jsonl` and, when given, to `csv`; returns the row count.
    static func write(_ statement: Statement, jsonl: BundleFile, csv: BundleFile?, row: () -> Void = {}) throws -> Int {
        try RowWriter(columnsOf: statement, jsonl: jsonl, csv: csv).writeRows(statement, row: row)
    }

    static func appendJSON(_ value: Statement.RawValue, to out: inout [UInt8]) {
        switch value {
        case .null: out.append(contentsOf: "null".utf8)
        case let .integer(number): JSONText.appendInteger(number, to: &out)
        case let .real(number): out.append(contentsOf: (number.isFinite ? "\(number)" : "null").utf8)
        case let .text(bytes): JSONText.appendString(bytes, to: &out)
        case let .blob(bytes): out.append(contentsOf: ("{\"hex\": \"" + FileDigest.hex(bytes) + "\"}").utf8)
        }
    }

    static func appendCSV(_ value: Statement.RawValue, to out: inout [UInt8]) {
        switch value {
        case .null: break
        case let .integer(number): JSONText.appendInteger(number, to: &out)
        case let .real(number): out.append(contentsOf: "\(number)".utf8)
        case let .text(bytes): CSVText.appendCell(bytes, to: &out)
        case let .blob(bytes): out.append(contentsOf: ("X'" + FileDigest.hex(bytes).uppercased() + "'").utf8)
        }
    }
}

/// CSV cells for spreadsheets.
enum CSVText {
    /// Text starting with `=`, `+`, `-`, `@`, tab or carriage return is run as a formula by
    /// spreadsheet programs; such a cell gets a leading apostrophe (shown as text, and the
    /// JSON Lines file keeps the exact value).
    static func appendCell(_ bytes: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        let dangerous = bytes.first.map { [UInt8(ascii: "="), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "@"), 0x09, 0x0D].contains($0) } ?? false
        let needsQuotes = dangerous || ByteScan.containsCSVSpecial(bytes)
        guard needsQuotes else {
            out.append(contentsOf: bytes)
            return
        }
        out.append(UInt8(ascii: "\""))
        if dangerous { out.append(UInt8(ascii: "'")) }
        var start = 0
        // Quoted cells are common (a prompt with a comma); quotes inside them are rare.
        while start < bytes.count, let quote = memchr(bytes.baseAddress! + start, Int32(UInt8(ascii: "\"")), bytes.count - start) {
            let index = bytes.baseAddress!.distance(to: UnsafeRawPointer(quote))
            // The quote and the run before it, then the quote again: "" inside a quoted cell.
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[start...index]))
            out.append(UInt8(ascii: "\""))
            start = index + 1
        }
        if bytes.count > start { out.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[start..<bytes.count])) }
        out.append(UInt8(ascii: "\""))
    }

    static func cell(_ text: String) -> String {
        var out: [UInt8] = []
        var copy = text
        copy.withUTF8 { appendCell(UnsafeRawBufferPointer($0), to: &out) }
        return String(decoding: out, as: UTF8.self)
    }
}
