import CSQLite

/// A bulk load that keeps the case file to itself (`casebook ingest --exclusive`).
///
/// In WAL mode every page a load writes goes to disk twice: into the log at commit, then
/// into the database when the log is checkpointed. A rollback journal writes a new page
/// once (SQLite journals only pages that existed when the transaction began, and a bulk
/// load mostly appends). The price is that readers cannot read while the load runs, so
/// it is a choice for the caller, never the default.
extension CaseFile {
    /// Takes the file for `database` alone and switches it to a rollback journal. Until
    /// `endExclusiveLoad`, other connections cannot open it: they wait out their busy
    /// timeout and fail with SQLITE_BUSY.
    ///
    /// Throws `CaseFileError.openElsewhere` when another connection has the file open:
    /// leaving WAL mode needs every other connection gone.
    public static func beginExclusiveLoad(_ database: Database, path: String) throws {
        try database.execute("PRAGMA locking_mode = EXCLUSIVE")
        // An idle connection elsewhere blocks the switch as much as a busy one; waiting long is pointless.
        database.setBusyTimeout(milliseconds: 1_000)
        defer { database.setBusyTimeout(milliseconds: 10_000) }
        let mode: String?
        do {
            mode = try database.prepare("PRAGMA journal_mode = DELETE").rows { $0.string(0) }.first ?? nil
        } catch let error as StoreError where error.isBusy {
            try? database.execute("PRAGMA locking_mode = NORMAL")
            throw CaseFileError.openElsewhere(path: path)
        }
        guard mode == "delete" else {
            try? database.execute("PRAGMA locking_mode = NORMAL")
            throw CaseFileError.openElsewhere(path: path)
        }
        // Every commit syncs the journal before the database is overwritten, so a power
        // failure cannot leave a half-written page without its original in the journal.
        try database.execute("PRAGMA synchronous = FULL")
        // Take the lock now rather than at the first write, so readers are refused from the start.
        try database.execute("BEGIN EXCLUSIVE")
        try database.execute("COMMIT")
    }

    /// Gives the file back to WAL mode and to other connections.
    ///
    /// - Returns: false when a reader that was let in once the lock was released kept the
    ///   switch to WAL waiting past the busy timeout. The file is then still in rollback-journal
    ///   mode, which every SQLite client reads correctly, and the next casebook command that
    ///   writes switches it back.
    @discardableResult
    public static func endExclusiveLoad(_ database: Database) throws -> Bool {
        try database.execute("PRAGMA locking_mode = NORMAL")
        // SQLite drops the exclusive lock at the next access to the file.
        _ = try database.scalarInt("PRAGMA user_version")
        do {
            try database.execute("PRAGMA journal_mode = WAL")
        } catch let error as StoreError where error.isBusy {
            return false
        }
        try database.execute("PRAGMA synchronous = NORMAL")
        return true
    }

    /// Rolls back what an exclusive load that was stopped mid-transaction left in its journal,
    /// as SQLite does on the first read by a connection that may write; a read-only
    /// connection cannot (SQLITE_READONLY_ROLLBACK).
    static func rollBackInterruptedLoad(_ path: String) throws {
        do {
            let writer = try Database(path: path, mode: .readWrite)
            writer.setBusyTimeout(milliseconds: 10_000)
            _ = try writer.scalarInt("PRAGMA user_version")
        } catch let error as StoreError where error.isNotWritable {
            throw CaseFileError.interruptedExclusiveLoad(path: path)
        }
    }
}
