import CSQLite
import Foundation

/// Building a portable subset of a case file (an evidence bundle's `evidence.sqlite`):
/// a new case file at the current schema, with the source attached read-only so rows
/// are copied by SQLite itself in one transaction (one consistent snapshot of the source,
/// even while an ingest writes it).
public enum Subset {
    /// `PRAGMA application_id` of a subset ("CBEV"): casebook refuses to open such a file for
    /// writing, since any write (even the switch to WAL) would change the bytes a bundle signs.
    public static let applicationID: Int32 = 0x4342_4556

    /// Creates `path` (0600, must not exist) as an empty case file and attaches `source` as `src`, read-only.
    public static func create(_ path: String, from source: String) throws -> Database {
        // Checks the source is a case file this casebook reads, before anything is created.
        _ = try CaseFile.open(source, access: .read)
        guard !CaseFile.fileExists(path) else { throw CaseFileError.cannotCreate(path: path, reason: "it already exists") }
        try CaseFile.createPrivately(path)
        // An absolute name, so a relative one that happens to begin with "file:" is not read as a URI.
        let database = try Database(path: absolute(path), mode: .readWrite, uriFilenames: true)
        try database.execute("PRAGMA page_size = 16384")
        try CaseFile.migrate(database, path: path)
        try database.execute("PRAGMA application_id = \(applicationID)")
        // One file, no -wal beside it (each page written once; a WAL would write every page twice),
        // and no rollback journal either: until it is sealed the subset is scratch, deleted with
        // its bundle folder if anything fails. A reader of committed rows and this writer take
        // turns through SQLite's locks.
        try database.execute("PRAGMA journal_mode = OFF")
        database.setBusyTimeout(milliseconds: 60_000)
        // The copy inserts into the exchanges' indexes in another order than the rows; with
        // SQLite's default 2 MB cache each insert would read and write index pages again.
        try database.execute("PRAGMA cache_size = -262144")
        // The exchanges' indexes are built by sorting once the rows are in. SQLite's sorter uses
        // a second thread only when temporary data may go to files (never with temp_store =
        // MEMORY): on 843,636 exchanges the two indexes took 1.6 s that way against 3.0 s.
        // The temporary files are unlinked as they are opened; the temporary tables (the
        // exported row ids) stay in their cache.
        try database.execute("PRAGMA temp_store = FILE")
        try database.execute("PRAGMA temp.cache_size = -65536")
        try database.execute("PRAGMA threads = 2")
        // Synced once, whole, before the bundle is renamed into place; until then it is scratch.
        try database.execute("PRAGMA synchronous = OFF")
        let uri = "file:" + Database.uriEscaped(absolute(source)) + (CaseFile.inReadOnlyFolder(source) ? "?immutable=1" : "?mode=ro")
        try database.prepare("ATTACH DATABASE ?1 AS src").run([uri])
        return database
    }

    /// Starts writing what is committed in `path` to disk, without waiting: the subset is built
    /// unsynced and synced once at the end, which then finds little left to write.
    public static func startWriteback(_ path: String) {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        _ = csqlite_start_writeback(descriptor)
        close(descriptor)
    }

    private static func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    }
}

extension Database {
    /// Makes a Swift function callable from SQL on this connection (deterministic, scalar).
    /// Errors it throws become SQL errors with their description.
    public func defineFunction(_ name: String, arguments: Int32, _ body: @escaping ([SQLiteValue]) throws -> SQLiteValue) throws {
        checkThread()
        let box = Unmanaged.passRetained(FunctionBox(body)).toOpaque()
        let rc = sqlite3_create_function_v2(handle, name, arguments, SQLITE_UTF8 | SQLITE_DETERMINISTIC, box, { context, count, values in
            let box = Unmanaged<FunctionBox>.fromOpaque(sqlite3_user_data(context)!).takeUnretainedValue()
            let arguments = (0..<Int(count)).map { SQLiteValue(values![$0]) }
            do {
                switch try box.body(arguments) {
                case .null: sqlite3_result_null(context)
                case let .integer(value): sqlite3_result_int64(context, value)
                case let .real(value): sqlite3_result_double(context, value)
                case let .text(text): sqlite3_result_text(context, text, -1, csqlite_transient())
                case let .blob(bytes): bytes.withUnsafeBytes { sqlite3_result_blob(context, $0.baseAddress, Int32($0.count), csqlite_transient()) }
                }
            } catch {
                sqlite3_result_error(context, "\(error)", -1)
            }
        }, nil, nil, { box in
            if let box { Unmanaged<FunctionBox>.fromOpaque(box).release() }
        })
        guard rc == SQLITE_OK else { throw self.error(rc, sql: nil) }
    }
}

private final class FunctionBox {
    let body: ([SQLiteValue]) throws -> SQLiteValue
    init(_ body: @escaping ([SQLiteValue]) throws -> SQLiteValue) { self.body = body }
}

extension SQLiteValue {
    init(_ value: OpaquePointer?) {
        switch sqlite3_value_type(value) {
        case SQLITE_INTEGER: self = .integer(sqlite3_value_int64(value))
        case SQLITE_FLOAT: self = .real(sqlite3_value_double(value))
        case SQLITE_TEXT:
            let count = Int(sqlite3_value_bytes(value))
            guard let text = sqlite3_value_text(value) else { self = .text(""); return }
            self = .text(String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self))
        case SQLITE_BLOB:
            let count = Int(sqlite3_value_bytes(value))
            guard count > 0, let bytes = sqlite3_value_blob(value) else { self = .blob([]); return }
            self = .blob(Array(UnsafeRawBufferPointer(start: bytes, count: count)))
        default: self = .null
        }
    }
}
