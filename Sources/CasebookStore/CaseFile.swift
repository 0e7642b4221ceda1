import CSQLite
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Why a case file could not be opened or used.
public enum CaseFileError: Error, CustomStringConvertible, Sendable {
    case newerSchema(path: String, found: Int, supported: Int)
    case notACaseFile(path: String, reason: String)
    case damagedSchema(path: String, missing: [String])
    case missing(path: String)
    case notARegularFile(path: String)
    case emptyPath
    case cannotCreate(path: String, reason: String)
    case writerBusy(path: String, holder: String)
    case evidenceSubset(path: String)
    case unfinishedIngest(path: String)
    case openElsewhere(path: String)
    case interruptedExclusiveLoad(path: String)

    public var description: String {
        switch self {
        case let .newerSchema(path, found, supported):
            return "\(path) was written by a newer casebook (schema version \(found); this casebook understands up to \(supported)). Upgrade casebook to open it."
        case let .notACaseFile(path, reason):
            return "\(path) is not a casebook case file (\(reason)); name the right file with --db"
        case let .damagedSchema(path, missing):
            return "\(path) is a case file whose schema was altered: missing \(missing.joined(separator: ", ")). Restore it from a backup."
        case let .missing(path):
            return "\(path) does not exist; run `casebook ingest` or `casebook demo` to create it, or name another file with --db"
        case let .notARegularFile(path):
            return "\(path) is not a regular file (a directory, device or pipe cannot hold a case file)"
        case .emptyPath:
            return "the case file path is empty; name a file with --db or CASEBOOK_DB"
        case let .cannotCreate(path, reason):
            return "cannot create \(path): \(reason)"
        case let .writerBusy(path, holder):
            return "\(path) is being written by another casebook process (\(holder)); wait for it to finish or stop it, then run this command again"
        case let .evidenceSubset(path):
            return "\(path) is the portable subset of an evidence bundle: casebook only reads it, so it keeps matching the bundle's signed digests"
        case let .unfinishedIngest(path):
            return "the last ingest into \(path) was stopped before it checked its exchange ids for repeats; run that ingest again (it resumes where it stopped), then this command"
        case let .openElsewhere(path):
            return "\(path) is open in another program (casebook tui, a query, a SQL client); --exclusive needs the file alone. Close those, or ingest without --exclusive."
        case let .interruptedExclusiveLoad(path):
            return "\(path) holds the journal of an ingest --exclusive that was stopped mid-transaction (\(path)-journal), and only a command that can write the file rolls it back; run that ingest again where the file and its folder can be written (it resumes where it stopped)"
        }
    }
}

/// Opening a case file: the file mode, the pragmas, the schema.
///
/// Every command goes through here, so every case file is created 0600 (it
/// holds account and payment data), runs in WAL mode (readers are never blocked
/// by an ingest, unless it asked for the file alone: `beginExclusiveLoad`) and is
/// at the current schema version before it is used. A
/// file that is not a case file is refused, never migrated into one.
public enum CaseFile {
    public enum Access: Sendable { case read, write }

    /// Opens an existing case file, or with `create` a new one.
    public static func open(_ path: String, access: Access, create: Bool = false) throws -> Database {
        try checkPath(path, create: access == .write && create)
        switch access {
        case .read:
            var database = try Database(path: path, mode: .readOnly)
            database.setBusyTimeout(milliseconds: 10_000)
            let version: Int
            do {
                version = try identifySchema(database, path: path)
            } catch let error as StoreError where error.isUnrolledJournal {
                // Never read as immutable: that would ignore the journal and show half a transaction.
                try rollBackInterruptedLoad(path)
                database = try Database(path: path, mode: .readOnly)
                database.setBusyTimeout(milliseconds: 10_000)
                version = try identifySchema(database, path: path)
            } catch let error as StoreError where error.code & 0xff == SQLITE_READONLY && inReadOnlyFolder(path) {
                // WAL mode needs a -shm file beside the database; in a folder nobody can write
                // no writer can run either, so the file cannot change while it is read.
                database = try Database(path: path, mode: .immutable)
                version = try identifySchema(database, path: path)
            }
            if version > Schema.currentVersion {
                throw CaseFileError.newerSchema(path: path, found: version, supported: Schema.currentVersion)
            }
            try checkObjects(database, path: path, version: version)
            return database
        case .write:
            let database = try Database(path: path, mode: .readWrite)
            database.setBusyTimeout(milliseconds: 10_000)
            let version = try identifySchema(database, path: path)
            // Before anything is written (not even the switch to WAL).
            if try database.scalarInt("PRAGMA application_id") == Int64(Subset.applicationID) {
                throw CaseFileError.evidenceSubset(path: path)
            }
            if version == 0 {
                // A new file: 16 KiB pages suit rows that carry prompt text
                // (measured about 20% faster bulk loads than 4 KiB).
                try database.execute("PRAGMA page_size = 16384")
            } else if try database.scalarInt("PRAGMA user_version") == 0 {
                // A dump restored by the sqlite3 shell keeps the tables but not the version.
                try database.execute("PRAGMA user_version = \(version)")
            }
            try database.execute("PRAGMA journal_mode = WAL")
            try database.execute("PRAGMA synchronous = NORMAL")
            try migrate(database, path: path)
            try checkObjects(database, path: path, version: Schema.currentVersion)
            return database
        }
    }

    /// Opens a case file for a bulk writer (ingest, link): the writer lock first, then the file.
    public static func openExclusive(_ path: String, create: Bool) throws -> (lock: WriterLock, database: Database) {
        try checkPath(path, create: create)
        let lock = try WriterLock(databasePath: path)
        return (lock, try open(path, access: .write))
    }

    /// The unique index on exchange ids, which a bulk load of ids in no order sets aside.
    public static let exchangeIdIndex = "exchange_rows_by_exchange_id"

    /// True while a load that set the exchange-id index aside has not checked its ids for
    /// repeats: only the ingest, run again, can finish it (it keeps their input text).
    public static func exchangeIdCheckPending(_ database: Database) throws -> Bool {
        try database.prepare("SELECT 1 FROM deferred_indexes WHERE name = ?1").rows([exchangeIdIndex]) { _ in true }.first ?? false
    }

    /// Sets an index aside for a bulk load: drops it and records its definition in
    /// `deferred_indexes`, to be built again by one sort when the load is over. Call inside the
    /// load's transaction, so the record and the drop go together.
    /// - Returns: false when the case file has no such index.
    @discardableResult
    public static func setIndexAside(_ name: String, _ database: Database) throws -> Bool {
        let sql = try database.prepare("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?1 AND sql IS NOT NULL")
            .rows([name]) { $0.string(0) }.first ?? nil
        guard let sql else { return false }
        try database.prepare("INSERT OR REPLACE INTO deferred_indexes (name, sql) VALUES (?1, ?2)").run([name, sql])
        try database.execute("DROP INDEX \(Database.quotedIdentifier(name))")
        return true
    }

    /// Builds every index a bulk load set aside (recorded in `deferred_indexes`), as a load
    /// that was stopped before its end leaves them; all but the exchange-id index, which the
    /// ingest builds when it checks the ids (`exchangeIdCheckPending`). Call with the writer lock held.
    public static func buildDeferredIndexes(_ database: Database) throws {
        let pending = try database.prepare("SELECT name, sql FROM deferred_indexes WHERE name <> ?1 ORDER BY name")
            .rows([exchangeIdIndex]) { ($0.string(0) ?? "", $0.string(1) ?? "") }
        guard !pending.isEmpty else { return }
        try sortingIndexes(database) {
            for (name, sql) in pending {
                try database.transaction {
                    try database.execute(sql)
                    try database.prepare("DELETE FROM deferred_indexes WHERE name = ?1").run([name])
                }
            }
        }
    }

    /// Runs `body`, which builds indexes, with the settings that make SQLite sort them fast.
    ///
    /// An index is built by sorting its entries. A cache smaller than the entries makes SQLite's
    /// sorter write several sorted runs, which a second thread sorts in parallel; one run the
    /// size of the cache is sorted by one thread. Each run is a linked list merged in memory, so
    /// its sort waits on memory: runs of 4 MiB sort faster than runs of 16 (BENCHMARKS.md,
    /// "The account index's sort runs").
    public static func sortingIndexes(_ database: Database, _ body: () throws -> Void) throws {
        let cacheSize = try database.scalarInt("PRAGMA cache_size") ?? -2000
        try database.execute("PRAGMA threads = 2")
        try database.execute("PRAGMA cache_size = -4096")
        defer {
            try? database.execute("PRAGMA threads = 0")
            try? database.execute("PRAGMA cache_size = \(cacheSize)")
        }
        try body()
    }

    /// Copies a case file, consistent even while an ingest writes it, through SQLite's
    /// online backup API: the copy is created 0600 and keeps the schema version (what
    /// `VACUUM INTO` and `.dump` lose). Refuses to overwrite an existing file.
    public static func backup(_ path: String, to destination: String, progress: (Int, Int) -> Void = { _, _ in }) throws {
        let source = try open(path, access: .read)
        var info = stat()
        guard stat(destination, &info) != 0 else { throw CaseFileError.cannotCreate(path: destination, reason: "it already exists") }
        try createPrivately(destination)
        do {
            let target = try Database(path: destination, mode: .readWrite)
            try target.copy(from: source, progress: progress)
            try target.execute("PRAGMA journal_mode = WAL")
        } catch {
            unlink(destination)
            throw error
        }
    }

    /// One sentence for a failure of the case file itself (not of an input), with what to do about it.
    public static func explain(_ error: Error, path: String) -> String {
        if let error = error as? CaseFileError { return error.description }
        if let error = error as? StoreError {
            if error.isDiskFull {
                return "the disk holding \(path) is full; the last change was rolled back and the case file is consistent. Free some space and run the same command again to resume."
            }
            if error.isBusy {
                return "\(path) is locked by another process for longer than 10 seconds (an ingest --exclusive keeps it until it finishes); try again when it is done"
            }
            if error.isNotWritable {
                return "cannot write \(path): \(error.message) (a full disk, a file-size limit or missing permissions). The last change was rolled back and the case file is consistent; fix the cause and run the same command again to resume."
            }
            if error.isCorrupt {
                return "\(path) is damaged (\(error.message)); restore it from a backup or re-create it with casebook ingest"
            }
            return "case file \(path): \(error.description)"
        }
        return "case file \(path): \(error)"
    }

    /// True when the case file's folder cannot be written and no un-checkpointed log lies beside
    /// the file: then it can be read as immutable (a log with content would be ignored, so it is not).
    static func inReadOnlyFolder(_ path: String) -> Bool {
        // Split by hand: NSString's path methods stop the program on a one-character name.
        let folder = path.lastIndex(of: "/").map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
        var info = stat()
        let logHasContent = stat(path + "-wal", &info) == 0 && info.st_size > 0
        return access(folder, W_OK) != 0 && !logHasContent
    }

    /// Refuses what cannot be a case file before SQLite sees it; creates a new file 0600 when asked.
    static func checkPath(_ path: String, create: Bool) throws {
        guard !path.isEmpty else { throw CaseFileError.emptyPath }
        var info = stat()
        if stat(path, &info) == 0 {
            guard (info.st_mode & S_IFMT) == S_IFREG else { throw CaseFileError.notARegularFile(path: path) }
            return
        }
        guard create else { throw CaseFileError.missing(path: path) }
        try createPrivately(path)
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
            throw CaseFileError.notACaseFile(path: path, reason: "not an SQLite database")
        }
    }

    /// The file's schema version: `user_version`, or for a file without one, the
    /// version its tables show (a dumped and restored case file), or 0 for an empty file.
    static func identifySchema(_ database: Database, path: String) throws -> Int {
        let version = try schemaVersion(database, path: path)
        if version > 0 { return version }
        let tables = Set(try objectNames(database).filter { $0.hasPrefix("table ") })
        if tables.isEmpty { return 0 }
        for migration in Schema.migrations.reversed() {
            let expected = Schema.objects(upTo: migration.version).filter { $0.hasPrefix("table ") }
            if expected.isSubset(of: tables) { return migration.version }
        }
        throw CaseFileError.notACaseFile(path: path, reason: "an SQLite database without casebook's tables")
    }

    /// Names the tables and views of `version` that the file lacks. (Missing indexes are
    /// rebuilt or deferred by ingest; missing triggers are what `casebook audit verify` reports.)
    static func checkObjects(_ database: Database, path: String, version: Int) throws {
        guard version > 0 else { return }
        let present = Set(try objectNames(database))
        let missing = Schema.objects(upTo: version)
            .filter { ($0.hasPrefix("table ") || $0.hasPrefix("view ")) && !present.contains($0) }.sorted()
        if !missing.isEmpty { throw CaseFileError.damagedSchema(path: path, missing: missing) }
    }

    /// The schema's triggers (the audit log's and note versions' guards) that were dropped.
    public static func missingTriggers(_ database: Database) throws -> [String] {
        let present = Set(try objectNames(database))
        let version = Int(try database.scalarInt("PRAGMA user_version") ?? 0)
        return Schema.objects(upTo: version).filter { $0.hasPrefix("trigger ") && !present.contains($0) }
            .map { String($0.dropFirst("trigger ".count)) }.sorted()
    }

    /// "table name", "view name", ... for every schema object of the file.
    static func objectNames(_ database: Database) throws -> [String] {
        try database.prepare("SELECT type || ' ' || name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'")
            .rows { $0.string(0) ?? "" }
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
