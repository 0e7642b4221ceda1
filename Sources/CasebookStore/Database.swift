import CSQLite
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One SQLite connection.
///
/// Not thread-safe and deliberately not `Sendable`: it is opened without SQLite's
/// own mutex, so a connection belongs to one thread at a time (the ingest writer
/// thread, the TUI's main actor). That rule is checked: every use from another
/// thread stops the program, unless the new thread first `adopt`s the connection
/// as its only user. The handle is closed when the object goes away.
public final class Database {
    public let path: String
    let handle: OpaquePointer
    private var owner = pthread_self()

    public enum Mode: Sendable {
        case readOnly, readWrite, readWriteCreate
        /// Read-only, promising SQLite that nothing changes the file: no locks, no -shm
        /// (for a case file in a folder that cannot be written).
        case immutable
    }

    /// Opens `path` with SQLite's own flags; file mode and schema are the
    /// business of `CaseFile`, which is what callers normally use.
    /// With `uriFilenames`, `ATTACH` takes `file:` URIs (to attach another file read-only).
    public init(path: String, mode: Mode, uriFilenames: Bool = false) throws {
        _ = Self.configured
        self.path = path
        var flags: Int32 = SQLITE_OPEN_NOMUTEX | (uriFilenames ? SQLITE_OPEN_URI : 0)
        var name = path
        switch mode {
        case .readOnly: flags |= SQLITE_OPEN_READONLY
        case .readWrite: flags |= SQLITE_OPEN_READWRITE
        case .readWriteCreate: flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
        case .immutable:
            flags |= SQLITE_OPEN_READONLY | SQLITE_OPEN_URI
            name = "file:" + Self.uriEscaped(path) + "?immutable=1"
        }
        var opened: OpaquePointer?
        let rc = sqlite3_open_v2(name, &opened, flags, nil)
        guard let opened else { throw StoreError(code: rc, message: "cannot open \(path)") }
        guard rc == SQLITE_OK else {
            let message = String(cString: sqlite3_errmsg(opened))
            sqlite3_close_v2(opened)
            throw StoreError(code: rc, message: "cannot open \(path): \(message)")
        }
        handle = opened
        sqlite3_extended_result_codes(handle, 1)
    }

    deinit { sqlite3_close_v2(handle) }

    /// Process-wide settings, which SQLite takes only before its first connection: no memory
    /// statistics (a global mutex on every allocation, for figures casebook never reads).
    private static let configured: Void = {
        _ = csqlite_config_memory_statistics(0)
    }()

    /// A name for SQL text, in double quotes. Names put into SQL come from `sqlite_master` or the
    /// code, never from input; quoting keeps them inert anyway.
    public static func quotedIdentifier(_ name: String) -> String {
        "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// A path as the path part of an SQLite URI: `%`, `?` and `#` (and anything outside
    /// printable ASCII) percent-encoded.
    static func uriEscaped(_ path: String) -> String {
        var out = ""
        for byte in path.utf8 {
            switch byte {
            case UInt8(ascii: "%"), UInt8(ascii: "?"), UInt8(ascii: "#"), 0..<0x21, 0x7F...:
                out += String(format: "%%%02X", byte)
            default:
                out.unicodeScalars.append(Unicode.Scalar(byte))
            }
        }
        return out
    }

    /// Makes the calling thread the connection's only user (a hand-over, e.g. to a writer thread).
    public func adopt() { owner = pthread_self() }

    /// Stops at a use from a thread that does not own the connection: a programming error
    /// that would otherwise corrupt SQLite's state silently.
    @inline(__always) func checkThread() {
        precondition(pthread_equal(owner, pthread_self()) != 0, "a casebook Database was used from a thread that does not own it")
    }

    /// Runs one or more statements that take no parameters (DDL, pragmas, BEGIN/COMMIT).
    public func execute(_ sql: String) throws {
        checkThread()
        let rc = sqlite3_exec(handle, sql, nil, nil, nil)
        guard rc == SQLITE_OK else { throw error(rc, sql: sql) }
    }

    public func prepare(_ sql: String) throws -> Statement {
        checkThread()
        return try Statement(database: self, sql: sql)
    }

    /// Runs `body` inside `BEGIN IMMEDIATE ... COMMIT`; rolls back if it throws.
    ///
    /// IMMEDIATE takes the write lock at once, so a busy file fails here, before
    /// any work is done, rather than at COMMIT.
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        try execute("BEGIN IMMEDIATE")
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }

    /// First column of the first row of a parameterless query, as an integer.
    public func scalarInt(_ sql: String) throws -> Int64? {
        let statement = try prepare(sql)
        guard try statement.step() else { return nil }
        return statement.isNull(0) ? nil : statement.int64(0)
    }

    public var lastInsertedRowID: Int64 { sqlite3_last_insert_rowid(handle) }
    public var changes: Int { Int(sqlite3_changes(handle)) }

    public func setBusyTimeout(milliseconds: Int32) { sqlite3_busy_timeout(handle, milliseconds) }

    /// Replaces this database's content with `source`'s, a batch of pages at a time
    /// (readers and writers of the source wait only for one batch each).
    func copy(from source: Database, progress: (Int, Int) -> Void) throws {
        checkThread()
        guard let backup = sqlite3_backup_init(handle, "main", source.handle, "main") else {
            throw error(sqlite3_errcode(handle), sql: nil)
        }
        var rc: Int32
        repeat {
            rc = sqlite3_backup_step(backup, 1024)
            progress(Int(sqlite3_backup_pagecount(backup) - sqlite3_backup_remaining(backup)), Int(sqlite3_backup_pagecount(backup)))
            if rc == SQLITE_BUSY || rc == SQLITE_LOCKED { sqlite3_sleep(20) }
        } while rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED
        let finish = sqlite3_backup_finish(backup)
        guard rc == SQLITE_DONE, finish == SQLITE_OK else { throw error(finish == SQLITE_OK ? rc : finish, sql: nil) }
    }

    /// Stops the statement running on this connection as soon as it can (it fails with
    /// SQLITE_INTERRUPT). The one call that is safe from any thread.
    public func interrupt() { sqlite3_interrupt(handle) }

    func error(_ rc: Int32, sql: String?) -> StoreError {
        StoreError(code: rc, message: String(cString: sqlite3_errmsg(handle)), sql: sql)
    }
}
