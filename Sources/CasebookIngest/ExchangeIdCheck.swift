import CasebookStore
import Foundation

/// Keeps exchange ids unique without inserting each into a large index when they arrive in
/// no order (UUIDs, as most platforms write them).
///
/// Inserting an id anywhere in an index larger than the cache reads and rewrites a page per
/// row, and every commit writes each page it changed: at 2 million UUIDs the writer spent twice
/// the CPU it spends on ascending ids. So a bulk load (one that began on an empty table) that
/// meets a batch of ids out of order, once the index outgrows a sixteenth of the writer's cache
/// (while it is that small, inserting costs no more than sorting at the end), sets the unique
/// index aside, as it does the account index, and rebuilds it by sorting once at the end.
/// Meanwhile `IdFilter` names the records whose id may repeat one already loaded; they are
/// loaded with their exact input text kept in `exchange_id_suspects`. At the end (`resolve`)
/// they are taken out, the unique index is built over the rest (unique by construction: no
/// repeat escapes the filter), and they go back in load order: a repeat is then a duplicate
/// or a conflict, as it would have been at insert time, and is removed from `exchange_rows`.
///
/// Every step is in the writer's transactions, so a killed load resumes in the same state:
/// the filter is rebuilt from the table and the check still happens once, at the end.
final class ExchangeIdCheck {
    private let database: Database
    /// The unique index is set aside: the writer inserts without it, and the check at the end
    /// of the load is pending.
    private(set) var indexSetAside: Bool
    /// Whether this load may set the index aside: it began on an empty table (its other
    /// indexes were set aside too), so the index is rebuilt at its end anyway.
    private var bulkLoad = false
    private var filter: IdFilter?
    private var keepSuspect: Statement?
    /// The index stays while its estimated size is under this.
    private let indexBytesKept: Int

    /// A batch with fewer exchanges than this is not evidence of the ids' order.
    static let minimumBatch = 1024

    init(database: Database, indexBytesKept: Int) throws {
        self.database = database
        self.indexBytesKept = indexBytesKept
        indexSetAside = try CaseFile.exchangeIdCheckPending(database)
    }

    /// Called once the load has set its other indexes aside (or found them set aside by a killed run).
    func loadStarted() throws {
        bulkLoad = try database.scalarInt("SELECT count(*) FROM deferred_indexes") ?? 0 > 0
    }

    /// True when `ids` (one batch's exchange ids, in line order) say the index should be set aside now:
    /// more than one in sixteen is smaller than the id before it, and the index, estimated from
    /// the rows loaded and these ids' length, has outgrown `indexBytesKept`. (Both depend only on
    /// the table and the batch, so a resumed load decides as the killed one would have.)
    func shouldSetIndexAside(count: Int, id: (Int) -> UnsafeRawBufferPointer) throws -> Bool {
        guard bulkLoad, !indexSetAside, count >= Self.minimumBatch else { return false }
        var descents = 0
        var idBytes = 0
        var previous = id(0)
        for index in 1..<count {
            let current = id(index)
            if Self.compare(current, previous) < 0 { descents += 1 }
            idBytes += current.count
            previous = current
        }
        guard descents * 16 > count else { return false }
        let rows = Int(try database.scalarInt("SELECT max(exchange_pk) FROM exchange_rows") ?? 0)
        // An entry holds the id, the row key and a few bytes of cell and page overhead.
        return rows * (idBytes / (count - 1) + 16) > indexBytesKept
    }

    /// Sets the unique index aside, in the writer's open transaction; every id loaded so far
    /// goes into the filter (read from that index before it is dropped).
    func setIndexAside() throws {
        try fillFilter()
        guard try CaseFile.setIndexAside(CaseFile.exchangeIdIndex, database) else {
            throw StoreError(code: 1, message: "the unique index on exchange ids is missing", sql: nil)
        }
        indexSetAside = true
    }

    /// Adds a loaded record's id to the filter; when it may repeat an earlier one, keeps its raw text.
    /// Call once its row, under key `exchangePK`, is inserted.
    func loaded(id: UnsafeRawBufferPointer, raw: UnsafeRawBufferPointer, exchangePK: Int64) throws {
        if filter == nil { try fillFilter() }
        guard filter!.insert(id) else { return }
        if keepSuspect == nil {
            keepSuspect = try database.prepare("INSERT INTO exchange_id_suspects (exchange_pk, raw) VALUES (?1, ?2)")
        }
        let statement = keepSuspect!
        statement.bind(1, exchangePK)
        statement.bindText(2, borrowing: raw)
        try statement.step()
        statement.reset()
    }

    /// After a rollback: the index may be back. The filter may keep ids of rolled-back rows,
    /// which only adds suspects.
    func rolledBack() throws {
        indexSetAside = try CaseFile.exchangeIdCheckPending(database)
        if !indexSetAside { filter = nil }
    }

    /// Every id in the table (the index's entries before it is dropped, else the table's rows).
    private func fillFilter() throws {
        let filter = IdFilter()
        let ids = try database.prepare("SELECT exchange_id FROM exchange_rows")
        defer { ids.reset() }
        while try ids.step() {
            if case let .text(id) = ids.raw(0) { _ = filter.insert(id) }
        }
        self.filter = filter
    }

    /// The check at the end of a load, in the caller's transaction: builds the unique index and
    /// settles every suspect.
    func resolve() throws {
        guard indexSetAside else { return }
        let sql = try database.prepare("SELECT sql FROM deferred_indexes WHERE name = ?1")
            .rows([CaseFile.exchangeIdIndex]) { $0.string(0) }.first ?? nil
        guard let sql else { throw StoreError(code: 1, message: "the unique index on exchange ids was not recorded", sql: nil) }
        let columns = try database.prepare("SELECT name FROM pragma_table_info('exchange_rows') ORDER BY cid")
            .rows { Database.quotedIdentifier($0.string(0) ?? "") }
            .joined(separator: ", ")
        try database.execute("DROP TABLE IF EXISTS temp.held_exchanges")
        // The suspects drive the join (CROSS JOIN keeps them outside): the table may hold millions of rows.
        try database.execute("""
            CREATE TEMP TABLE held_exchanges AS
            SELECT e.*, s.raw AS held_raw
            FROM exchange_id_suspects s CROSS JOIN exchange_rows e ON e.exchange_pk = s.exchange_pk
            """)
        try database.execute("DELETE FROM exchange_rows WHERE exchange_pk IN (SELECT exchange_pk FROM exchange_id_suspects)")
        try CaseFile.sortingIndexes(database) { try database.execute(sql) }

        // In load order, so the first of several versions is the one kept, as at insert time.
        try database.execute("""
            INSERT INTO exchange_rows (\(columns)) SELECT \(columns) FROM temp.held_exchanges WHERE true ORDER BY exchange_pk
            ON CONFLICT (exchange_id) DO NOTHING
            """)
        let countDuplicate = try database.prepare("""
            UPDATE source_files SET records_loaded = records_loaded - 1, records_duplicate = records_duplicate + 1
            WHERE file_id = ?1
            """)
        let countConflict = try database.prepare("""
            UPDATE source_files SET records_loaded = records_loaded - 1, records_rejected = records_rejected + 1
            WHERE file_id = ?1
            """)
        let reject = try database.prepare("""
            INSERT INTO rejects (source_file_id, line, kind, reason, detail, raw, conflict_file_id, conflict_line)
            VALUES (?1, ?2, 'exchanges', 'conflict', ?3, ?4, ?5, ?6)
            """)
        // The suspects that did not go back in: repeats of the row now under their id.
        let repeats = try database.prepare("""
            SELECT h.exchange_id, h.content_hash, h.source_file_id, h.source_line, h.held_raw,
                   k.content_hash, k.source_file_id, k.source_line, coalesce(f.path, '?')
            FROM temp.held_exchanges h
            JOIN exchange_rows k ON k.exchange_id = h.exchange_id AND k.exchange_pk <> h.exchange_pk
            LEFT JOIN source_files f ON f.file_id = k.source_file_id
            ORDER BY h.exchange_pk
            """)
        while try repeats.step() {
            let fileID = repeats.int64(2)
            if repeats.int64(1) == repeats.int64(5) {
                try countDuplicate.run([fileID])
                continue
            }
            let key = "exchange_id \(repeats.string(0) ?? "")"
            reject.bind(1, fileID)
            reject.bind(2, repeats.int64(3))
            reject.bind(3, BatchWriter.conflictDetail(key: key, path: repeats.string(8) ?? "?", line: repeats.int64(7)))
            reject.bind(4, repeats.string(4))
            reject.bind(5, repeats.int64(6))
            reject.bind(6, repeats.int64(7))
            try reject.step()
            reject.reset()
            try countConflict.run([fileID])
        }
        repeats.reset()
        try database.execute("DROP TABLE temp.held_exchanges")
        try database.execute("DELETE FROM exchange_id_suspects")
        try database.prepare("DELETE FROM deferred_indexes WHERE name = ?1").run([CaseFile.exchangeIdIndex])
    }

    /// The index is back (the transaction that built it committed).
    func resolved() {
        indexSetAside = false
        filter = nil
        keepSuspect = nil
    }

    /// Byte order, as SQLite's BINARY collation compares the ids in the index.
    private static func compare(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Int {
        let common = min(a.count, b.count)
        if common > 0, let left = a.baseAddress, let right = b.baseAddress {
            let order = memcmp(left, right, common)
            if order != 0 { return Int(order) }
        }
        return a.count - b.count
    }
}
