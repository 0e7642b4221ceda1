import CasebookAudit
import CasebookStore
import Foundation

/// A complete read of a file when it was shorter: its digest and size then, and where reading stopped.
struct EarlierRead: Sendable {
    let sha256: String
    let sizeBytes: Int64
    let offset: Int64
    let line: Int64
}

/// What the writer knows of a file when it starts reading it.
enum FileStart: Sendable {
    /// A file with the same content was already read to its end: nothing to do.
    case alreadyIngested(fileID: Int64, path: String, status: String)
    /// Read from `offset` (decompressed bytes) on, numbering lines from `line`.
    case read(fileID: Int64, offset: Int64, line: Int64)
}

/// The single writer of an ingest: turns batches into rows, each batch together with the
/// file's resume cursor in the same transaction, so a killed ingest restarts exactly after
/// the last committed batch. Several batches may share a transaction (see `commit`).
///
/// Runs on its own thread and owns its connection.
final class BatchWriter {
    private let database: Database
    private let actor: String
    private var filePaths: [Int64: String] = [:]

    // Identity caches for the hot path; cleared when a transaction rolls back.
    private var accountKeys = KeyCache()
    private var ipKeys = KeyCache()
    private var modelKeys = KeyCache()
    private var userAgentKeys = KeyCache()
    private static let cacheLimit = 2_000_000

    /// Records written in the open transaction (none open when 0 and `inTransaction` is false).
    private(set) var recordsInTransaction = 0
    private var inTransaction = false

    /// Prepared on first use: it names the unique index on exchange ids, which a resumed load may find set aside.
    private lazy var insertExchange = Result {
        try database.prepare(Self.exchangeInsertSQL(rows: 1) + " ON CONFLICT (exchange_id) DO NOTHING")
    }
    /// The same insert while the unique index on exchange ids is set aside (see `ExchangeIdCheck`).
    private let insertExchangeWithoutIndex: Statement
    /// A group's insert skips a row whose id is taken with `OR IGNORE`, not `ON CONFLICT DO NOTHING`:
    /// a statement of several rows that may abort (a `NOT NULL` column, ABORT by default) first
    /// copies every page it changes to a statement journal, so as to undo its own rows alone;
    /// with ids in no order that was 5.3 GiB of temporary writes at 701,545 exchanges. Ignoring
    /// never aborts, and the columns `NOT NULL` makes it ignore are always bound with a value.
    /// It names no index, so it serves whether the unique index is there or set aside.
    private let insertExchangeGroup: Statement
    /// Exchanges are inserted this many to a statement: SQLite starts its program, opens its
    /// cursors and resets the statement once per 16 rows. `bench/rows-per-statement.c`: a
    /// quarter fewer instructions a row, and a third less CPU over 700,000 rows.
    private static let exchangeGroup = 16
    /// The parameters one exchange binds.
    private static let exchangeColumns: Int32 = 17
    private let exchangeIds: ExchangeIdCheck
    private let findExchange: Statement
    private let findAccount: Statement
    private let insertAccount: Statement
    private let insertReferencedAccount: Statement
    private let describeAccount: Statement
    private let insertPayment: Statement
    private let findPayment: Statement
    private let findIP: Statement
    private let insertIP: Statement
    private let insertReferencedIP: Statement
    private let describeIP: Statement
    private let findModel: Statement
    private let insertModel: Statement
    private let findUserAgent: Statement
    private let insertUserAgent: Statement
    private let insertReject: Statement
    private let advanceFile: Statement

    /// - Parameter cacheBytes: the page cache: it holds a transaction of several batches with the
    ///   index pages it changes (see `commit`); a sixteenth of it bounds the exchange-id index that
    ///   is kept up to date while ids arrive in no order (`ExchangeIdCheck`). Measured at 700,000 and
    ///   2 million UUIDs, a quarter kept it too long: the load ran 20% slower at 2 million.
    init(database: Database, actor: String, cacheBytes: Int) throws {
        self.database = database
        self.actor = actor
        try database.execute("PRAGMA cache_size = -\(cacheBytes / 1024)")
        // Checkpoints run on the Checkpointer's thread during the load.
        try database.execute("PRAGMA wal_autocheckpoint = 0")
        exchangeIds = try ExchangeIdCheck(database: database, indexBytesKept: cacheBytes / 16)
        insertExchangeWithoutIndex = try database.prepare(Self.exchangeInsertSQL(rows: 1))
        insertExchangeGroup = try database.prepare(Self.exchangeInsertSQL(rows: Self.exchangeGroup, orIgnore: true))
        findExchange = try database.prepare(
            "SELECT content_hash, source_file_id, source_line FROM exchange_rows WHERE exchange_id = ?1")
        findAccount = try database.prepare(
            "SELECT account_pk, described, content_hash, source_file_id, source_line FROM account_rows WHERE account_id = ?1")
        insertAccount = try database.prepare("""
            INSERT INTO account_rows (account_id, described, created_at_ms, email, org_id, country, signup_ip_pk,
                status, plan, extra, source_file_id, source_line, content_hash)
            VALUES (?1, 1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
            """)
        insertReferencedAccount = try database.prepare(
            "INSERT INTO account_rows (account_id, described, source_file_id, source_line) VALUES (?1, 0, ?2, ?3)")
        describeAccount = try database.prepare("""
            UPDATE account_rows SET described = 1, created_at_ms = ?2, email = ?3, org_id = ?4, country = ?5,
                signup_ip_pk = ?6, status = ?7, plan = ?8, extra = ?9, source_file_id = ?10, source_line = ?11,
                content_hash = ?12
            WHERE account_pk = ?1
            """)
        insertPayment = try database.prepare("""
            INSERT INTO payment_rows (account_pk, fingerprint, type, brand, bin, last4, country, billing_postal,
                first_used_ms, last_used_ms, chargebacks, extra, source_file_id, source_line, content_hash)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)
            ON CONFLICT (account_pk, fingerprint) DO NOTHING
            """)
        findPayment = try database.prepare(
            "SELECT content_hash, source_file_id, source_line FROM payment_rows WHERE account_pk = ?1 AND fingerprint = ?2")
        findIP = try database.prepare(
            "SELECT ip_pk, described, content_hash, source_file_id, source_line FROM ip_rows WHERE ip = ?1")
        insertIP = try database.prepare("""
            INSERT INTO ip_rows (ip, described, asn, as_org, country, city, kind, extra, source_file_id, source_line, content_hash)
            VALUES (?1, 1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
            """)
        insertReferencedIP = try database.prepare("INSERT INTO ip_rows (ip) VALUES (?1)")
        describeIP = try database.prepare("""
            UPDATE ip_rows SET described = 1, asn = ?2, as_org = ?3, country = ?4, city = ?5, kind = ?6, extra = ?7,
                source_file_id = ?8, source_line = ?9, content_hash = ?10
            WHERE ip_pk = ?1
            """)
        findModel = try database.prepare("SELECT model_pk FROM models WHERE name = ?1")
        insertModel = try database.prepare("INSERT INTO models (name) VALUES (?1)")
        findUserAgent = try database.prepare("SELECT user_agent_pk FROM user_agents WHERE text = ?1")
        insertUserAgent = try database.prepare("INSERT INTO user_agents (text) VALUES (?1)")
        insertReject = try database.prepare("""
            INSERT INTO rejects (source_file_id, line, kind, reason, detail, raw, conflict_file_id, conflict_line)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
            """)
        advanceFile = try database.prepare("""
            UPDATE source_files SET records_read = records_read + ?2, records_loaded = records_loaded + ?3,
                records_duplicate = records_duplicate + ?4, records_rejected = records_rejected + ?5,
                resume_offset = ?6, resume_line = ?7
            WHERE file_id = ?1
            """)
    }

    // MARK: - Files

    /// Registers a file about to be read, or finds where an earlier run stopped.
    ///
    /// A file's identity is its content read as a kind in a format: the same bytes
    /// read as another kind are another file.
    ///
    /// - Parameter continuing: an earlier, complete read of this file when it was shorter
    ///   (a growing export): reading starts where that read ended.
    func begin(_ file: InputFile, sha256: String?, sizeBytes: Int64?, startedAt: Int64,
               continuing: EarlierRead? = nil) throws -> FileStart {
        try database.transaction {
            if let sha256, let (fileID, path, status, offset, line) = try sameContent(sha256, as: file) {
                filePaths[fileID] = path
                if status != "loading" { return .alreadyIngested(fileID: fileID, path: path, status: status) }
                return .read(fileID: fileID, offset: offset, line: max(line, 1))
            }
            if let continuing {
                try database.prepare("""
                    INSERT INTO source_files (path, sha256, size_bytes, kind, format, compression, started_at_ms, status,
                        resume_offset, resume_line, read_options)
                    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'loading', ?8, ?9, ?10)
                    """).run([file.provenancePath, sha256, sizeBytes.map(Int.init), file.kind.rawValue, file.format.rawValue,
                              file.gzip ? "gzip" : "none", Int(startedAt), continuing.offset, continuing.line,
                              file.readOptions])
                let fileID = database.lastInsertedRowID
                filePaths[fileID] = file.provenancePath
                return .read(fileID: fileID, offset: continuing.offset, line: continuing.line)
            }
            try database.prepare("""
                INSERT INTO source_files (path, sha256, size_bytes, kind, format, compression, started_at_ms, status,
                    read_options)
                VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'loading', ?8)
                """).run([file.provenancePath, sha256, sizeBytes.map(Int.init), file.kind.rawValue, file.format.rawValue,
                          file.gzip ? "gzip" : "none", Int(startedAt), file.readOptions])
            let fileID = database.lastInsertedRowID
            filePaths[fileID] = file.provenancePath
            return .read(fileID: fileID, offset: 0, line: 1)
        }
    }

    /// Complete earlier reads of the file at this path, as the kind and format given,
    /// when it was shorter than `sizeBytes`: candidates for a file that grew.
    func earlierReads(of file: InputFile, sizeBytes: Int64) throws -> [EarlierRead] {
        try database.prepare("""
            SELECT sha256, size_bytes, resume_offset, resume_line FROM source_files
            WHERE path = ?1 AND kind = ?2 AND format = ?3 AND compression = ?4 AND read_options = ?6
                AND status = 'complete' AND sha256 IS NOT NULL AND size_bytes < ?5
            ORDER BY size_bytes DESC
            """).rows([file.provenancePath, file.kind.rawValue, file.format.rawValue, file.gzip ? "gzip" : "none",
                       Int(sizeBytes), file.readOptions]) {
            EarlierRead(sha256: $0.string(0) ?? "", sizeBytes: $0.int64(1), offset: $0.int64(2), line: max($0.int64(3), 1))
        }
    }

    /// The file already registered with this content, read as the same kind, format,
    /// compression and timestamp rules (an unfinished one last).
    private func sameContent(_ sha256: String, as file: InputFile, excluding: Int64 = 0)
        throws -> (Int64, String, String, Int64, Int64)? {
        try database.prepare("""
            SELECT file_id, path, status, resume_offset, resume_line FROM source_files
            WHERE sha256 = ?1 AND kind = ?2 AND format = ?3 AND compression = ?4 AND read_options = ?6 AND file_id <> ?5
            ORDER BY status = 'loading', file_id LIMIT 1
            """).rows([sha256, file.kind.rawValue, file.format.rawValue, file.gzip ? "gzip" : "none", excluding,
                       file.readOptions]) {
            ($0.int64(0), $0.string(1) ?? "", $0.string(2) ?? "", $0.int64(3), $0.int64(4))
        }.first
    }

    /// Marks a file read to its end (or to its damage). `sha256` and `sizeBytes`, when given, are
    /// those of the bytes read: a stream's, or a file's rewritten since it was hashed.
    ///
    /// A stream whose content was ingested before (standard input fed the same
    /// export twice) loaded nothing new: its row and its repeated rejects are
    /// removed, and the earlier file is returned.
    func finish(_ file: InputFile, fileID: Int64, damage: String?, sha256: String?, sizeBytes: Int64?, finishedAt: Int64) throws
        -> (fileID: Int64, path: String, status: String)? {
        try database.transaction {
            if let sha256,
               try database.prepare("SELECT records_loaded FROM source_files WHERE file_id = ?1").rows([fileID], { $0.int64(0) }) == [0],
               let (earlierID, path, status, _, _) = try sameContent(sha256, as: file, excluding: fileID), status != "loading" {
                try database.prepare("DELETE FROM rejects WHERE source_file_id = ?1").run([fileID])
                try database.prepare("DELETE FROM source_files WHERE file_id = ?1").run([fileID])
                return (earlierID, path, status)
            }
            try database.prepare("""
                UPDATE source_files SET status = ?2, damage = ?3, finished_at_ms = ?4,
                    sha256 = coalesce(?5, sha256), size_bytes = coalesce(?6, size_bytes)
                WHERE file_id = ?1
                """).run([fileID, damage == nil ? "complete" : "damaged", damage, Int(finishedAt), sha256,
                          sizeBytes.map(Int.init)])
            // Its counts are final only once its exchange ids are checked (`rebuildDeferredIndexes`).
            if !(exchangeIds.indexSetAside && file.kind == .exchanges) { try recordInAuditLog(fileID, at: finishedAt) }
            return nil
        }
    }

    /// The chain of custody starts here: each file read, with its digest and counts.
    private func recordInAuditLog(_ fileID: Int64, at milliseconds: Int64) throws {
        let row = try database.prepare("""
            SELECT path, sha256, size_bytes, kind, format, compression, read_options, status, records_read, records_loaded,
                   records_duplicate, records_rejected, damage
            FROM source_files WHERE file_id = ?1
            """).rows([fileID]) { row -> [String: Any] in
            ["file_id": fileID, "path": row.string(0) ?? "", "sha256": row.string(1) ?? NSNull(), "size_bytes": row.int64(2),
             "kind": row.string(3) ?? "", "format": row.string(4) ?? "", "compression": row.string(5) ?? "",
             "read_options": row.string(6) ?? "", "status": row.string(7) ?? "", "records_read": row.int64(8),
             "records_loaded": row.int64(9), "records_duplicate": row.int64(10), "records_rejected": row.int64(11),
             "damage": row.string(12) ?? NSNull()]
        }
        guard let payload = row.first else { return }
        try AuditLog.append(database, actor: actor, action: .ingestFile, target: "file:\(fileID)", payload: payload,
                            at: milliseconds)
    }

    /// Closes the rows of streams whose ingest was killed: a stream cannot be
    /// resumed, so what it loaded stays and the row says where it stopped.
    /// Called while holding the writer lock, so no live ingest owns such a row.
    func closeInterruptedStreams(finishedAt: Int64) throws {
        try database.transaction {
            try database.prepare("""
                UPDATE source_files SET status = 'damaged', finished_at_ms = ?1,
                    damage = 'the ingest of this stream was interrupted before line ' || resume_line || '; the records before it are kept'
                WHERE status = 'loading' AND sha256 IS NULL
                """).run([Int(finishedAt)])
        }
    }

    /// Counts of one file as stored, including work done by earlier, interrupted runs.
    func fileReport(fileID: Int64) throws -> FileCounts {
        let totals = try database.prepare("""
            SELECT records_read, records_loaded, records_duplicate, records_rejected FROM source_files WHERE file_id = ?1
            """).rows([fileID]) { FileCounts(read: $0.int(0), loaded: $0.int(1), duplicate: $0.int(2), rejected: $0.int(3)) }
        var counts = totals.first ?? FileCounts()
        // With min(), SQLite takes the bare column `detail` from the row holding the minimum.
        for (reason, count, line, detail) in try database.prepare(
            "SELECT reason, count(*), min(line), detail FROM rejects WHERE source_file_id = ?1 GROUP BY reason ORDER BY reason"
        ).rows([fileID], { ($0.string(0) ?? "", $0.int(1), $0.int64(2), $0.string(3) ?? "") }) {
            counts.rejectedByReason[reason] = count
            counts.firstRejects[reason] = RejectExample(line: line, detail: detail)
        }
        return counts
    }

    // MARK: - Secondary indexes

    /// Sets the exchanges table's secondary indexes aside when a load starts on an empty table,
    /// and tells the exchange-id check whether this run continues such a load (a killed one's).
    func deferIndexesIfEmpty() throws {
        if try database.scalarInt("SELECT count(*) FROM (SELECT 1 FROM exchange_rows LIMIT 1)") == 0 {
            try database.transaction {
                let indexes = try database.prepare("""
                    SELECT name FROM sqlite_master
                    WHERE type = 'index' AND tbl_name = 'exchange_rows' AND sql IS NOT NULL AND sql NOT LIKE 'CREATE UNIQUE%'
                    """).rows { $0.string(0) ?? "" }
                for name in indexes { try CaseFile.setIndexAside(name, database) }
            }
        }
        try exchangeIds.loadStarted()
    }

    /// Builds every index that a load set aside (this run's or a killed run's). When the
    /// exchange-id index was among them, the ids are checked for repeats first, and the files
    /// whose audit entries waited for that check get them, with their final counts.
    /// - Returns: the seconds the check took, when there was one.
    func rebuildDeferredIndexes() throws -> Double? {
        var checkSeconds: Double?
        if exchangeIds.indexSetAside {
            let started = DispatchTime.now().uptimeNanoseconds
            try database.transaction {
                try exchangeIds.resolve()
                let waiting = try database.prepare("""
                    SELECT file_id FROM source_files
                    WHERE kind = 'exchanges' AND status <> 'loading'
                        AND NOT EXISTS (SELECT 1 FROM audit_log WHERE target = 'file:' || file_id AND action = ?1)
                    ORDER BY file_id
                    """).rows([AuditAction.ingestFile.rawValue]) { $0.int64(0) }
                let now = Ingest.nowMilliseconds()
                for fileID in waiting { try recordInAuditLog(fileID, at: now) }
            }
            exchangeIds.resolved()
            checkSeconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        }
        try CaseFile.buildDeferredIndexes(database)
        return checkSeconds
    }

    /// Copies the whole log into the database and empties it, so a finished
    /// ingest leaves no large -wal file behind.
    func finishLoad() throws {
        try database.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    }

    // MARK: - Batches

    /// Writes one batch and the file's cursor, in the open transaction or a new one.
    func write(_ batch: RecordBatch) throws -> BatchOutcome {
        do {
            if !inTransaction {
                try database.execute("BEGIN IMMEDIATE")
                inTransaction = true
            }
            recordsInTransaction += batch.records.count + batch.rejects.count
            var outcome = BatchOutcome()
            var conflicts: [RejectedRecord] = []
            try batch.arena.withUnsafeBytes { arena in try batch.rawArena.withUnsafeBytes { rawArena in
                let context = BatchContext(batch: batch, arena: arena, rawArena: rawArena)
                if batch.kind == .exchanges,
                   try exchangeIds.shouldSetIndexAside(count: batch.records.count, id: { context.bytes($0, ExchangeField.exchangeID)! }) {
                    try exchangeIds.setIndexAside()
                }
                func tally(_ index: Int, _ result: RecordOutcome) throws {
                    switch result {
                    case .loaded: outcome.loaded += 1
                    case .duplicate: outcome.duplicate += 1
                    case let .conflict(fileID, line, key):
                        conflicts.append(try conflictReject(index, context, otherFileID: fileID, otherLine: line, key: key))
                    }
                }
                func writeEach(_ write: (Int, BatchContext) throws -> RecordOutcome) throws {
                    for index in batch.records.indices { try tally(index, try write(index, context)) }
                }
                switch batch.kind {
                case .exchanges: try writeExchanges(context, tally)
                case .accounts: try writeEach(writeAccount)
                case .payments: try writeEach(writePayment)
                case .ips: try writeEach(writeIP)
                }
            } }
            // In line order, so reject ids follow the file whatever the batch boundaries were.
            for reject in (batch.rejects + conflicts).sorted(by: { $0.line < $1.line }) {
                try store(reject, fileID: batch.fileID, kind: batch.kind)
                outcome.rejected += 1
            }
            advanceFile.bind(1, batch.fileID)
            advanceFile.bind(2, Int64(batch.recordsRead))
            advanceFile.bind(3, Int64(outcome.loaded))
            advanceFile.bind(4, Int64(outcome.duplicate))
            advanceFile.bind(5, Int64(outcome.rejected))
            advanceFile.bind(6, batch.endOffset)
            advanceFile.bind(7, batch.endLine)
            try advanceFile.step()
            advanceFile.reset()
            return outcome
        } catch {
            rollBack()
            throw error
        }
    }

    /// Commits the open transaction, if any. The ingest commits every few batches rather than
    /// after each: every commit writes each page the transaction changed, and exchange ids that
    /// do not ascend (UUIDs) change pages all over their index.
    func commit() throws {
        guard inTransaction else { return }
        do {
            try database.execute("COMMIT")
            inTransaction = false
            recordsInTransaction = 0
        } catch {
            rollBack()
            throw error
        }
    }

    private func rollBack() {
        if inTransaction {
            try? database.execute("ROLLBACK")
            inTransaction = false
            recordsInTransaction = 0
        }
        // The rows behind cached keys may have been rolled back, and the exchange-id index set aside with them.
        try? exchangeIds.rolledBack()
        accountKeys.removeAll()
        ipKeys.removeAll()
        modelKeys.removeAll()
        userAgentKeys.removeAll()
    }

    private struct BatchContext {
        let batch: RecordBatch
        let arena: UnsafeRawBufferPointer
        /// Each record's exact input text (`RecordBatch.rawRanges`).
        let rawArena: UnsafeRawBufferPointer

        func raw(_ record: Int) -> UnsafeRawBufferPointer {
            UnsafeRawBufferPointer(rebasing: rawArena[batch.rawRanges[record]])
        }

        func slot(_ record: Int, _ field: Int) -> Slot { batch.slot(record, field) }

        func text(_ record: Int, _ field: Int) -> String? {
            bytes(record, field).map { String(decoding: $0, as: UTF8.self) }
        }

        /// A text field's bytes in the arena, valid while the batch is being written.
        func bytes(_ record: Int, _ field: Int) -> UnsafeRawBufferPointer? {
            guard case let .text(start, count) = slot(record, field) else { return nil }
            return UnsafeRawBufferPointer(rebasing: arena[start..<(start + count)])
        }

        func bind(_ statement: Statement, _ index: Int32, _ slot: Slot) {
            switch slot {
            case .absent: statement.bindNull(index)
            case let .int(value): statement.bind(index, value)
            case let .text(start, count):
                statement.bindText(index, borrowing: UnsafeRawBufferPointer(rebasing: arena[start..<(start + count)]))
            }
        }

        func bind(_ statement: Statement, _ index: Int32, record: Int, field: Int) {
            bind(statement, index, slot(record, field))
        }
    }

    private enum RecordOutcome {
        case loaded, duplicate
        case conflict(fileID: Int64, line: Int64, key: String)
    }

    private static func exchangeInsertSQL(rows: Int, orIgnore: Bool = false) -> String {
        let row = "(" + Array(repeating: "?", count: Int(exchangeColumns)).joined(separator: ", ") + ")"
        return """
            INSERT\(orIgnore ? " OR IGNORE" : "") INTO exchange_rows (exchange_id, account_pk, ts_ms, model_pk, api_key_id, ip_pk, user_agent_pk,
                input_tokens, output_tokens, status, latency_ms, prompt, response, extra,
                source_file_id, source_line, content_hash)
            VALUES \(Array(repeating: row, count: rows).joined(separator: ", "))
            """
    }

    /// A batch's exchanges, `exchangeGroup` to a statement and the rest one by one, each
    /// outcome reported to `tally` in line order.
    private func writeExchanges(_ c: BatchContext, _ tally: (Int, RecordOutcome) throws -> Void) throws {
        let count = c.batch.records.count
        var first = 0
        while first < count {
            let rows = count - first >= Self.exchangeGroup ? Self.exchangeGroup : 1
            try writeExchangeGroup(first..<(first + rows), c, tally)
            first += rows
        }
    }

    /// Inserts the exchanges of `records` (a whole group, or one) in one statement.
    private func writeExchangeGroup(_ records: Range<Int>, _ c: BatchContext, _ tally: (Int, RecordOutcome) throws -> Void) throws {
        let indexSetAside = exchangeIds.indexSetAside
        let statement = records.count == Self.exchangeGroup ? insertExchangeGroup
            : indexSetAside ? insertExchangeWithoutIndex : try insertExchange.get()
        for (row, i) in records.enumerated() {
            try bindExchange(i, c, to: statement, from: Int32(row) * Self.exchangeColumns + 1)
        }
        try statement.step()
        statement.reset()
        if indexSetAside {
            // Without the unique index every row goes in, under consecutive keys.
            guard database.changes == records.count else {
                throw StoreError(code: 1, message: "a group of exchanges inserted while the exchange-id index is set aside did not all go in")
            }
            let lastKey = database.lastInsertedRowID
            for (row, i) in records.enumerated() {
                let key = lastKey - Int64(records.count - 1 - row)
                try exchangeIds.loaded(id: c.bytes(i, ExchangeField.exchangeID)!, raw: c.raw(i), exchangePK: key)
                try tally(i, .loaded)
            }
            return
        }
        let allLoaded = database.changes == records.count
        for i in records {
            try tally(i, allLoaded ? .loaded : try outcomeOfGroupedExchange(i, c))
        }
    }

    /// Whether a record of a group that was not loaded whole went in: the row under its id is
    /// its own (this file, this line), else the row it repeats (a duplicate or a conflict).
    private func outcomeOfGroupedExchange(_ i: Int, _ c: BatchContext) throws -> RecordOutcome {
        let record = c.batch.records[i]
        c.bind(findExchange, 1, record: i, field: ExchangeField.exchangeID)
        guard try findExchange.step() else {
            findExchange.reset()
            throw StoreError(code: 1, message: "an exchange inserted in a group could not be found again", sql: findExchange.sql)
        }
        if findExchange.int64(1) == c.batch.fileID && findExchange.int64(2) == record.line {
            findExchange.reset()
            return .loaded
        }
        return try compareExisting(findExchange, hashColumn: 0, record: record,
                                   key: "exchange_id \(c.text(i, ExchangeField.exchangeID)!)", alreadyStepped: true)
    }

    /// Binds exchange `i`'s 17 values to parameters `first` on, finding or creating the keys it names.
    private func bindExchange(_ i: Int, _ c: BatchContext, to statement: Statement, from first: Int32) throws {
        typealias F = ExchangeField
        let record = c.batch.records[i]
        c.bind(statement, first, record: i, field: F.exchangeID)
        statement.bind(first + 1, try accountKey(c.bytes(i, F.accountID)!, fileID: c.batch.fileID, line: record.line))
        c.bind(statement, first + 2, record: i, field: F.ts)
        statement.bind(first + 3, try c.bytes(i, F.model).map { try key($0, cache: &modelKeys, find: findModel, insert: insertModel) })
        c.bind(statement, first + 4, record: i, field: F.apiKeyID)
        statement.bind(first + 5, try c.bytes(i, F.ip).map { try ipKey($0) })
        statement.bind(first + 6, try c.bytes(i, F.userAgent).map {
            try key($0, cache: &userAgentKeys, find: findUserAgent, insert: insertUserAgent)
        })
        c.bind(statement, first + 7, record: i, field: F.inputTokens)
        c.bind(statement, first + 8, record: i, field: F.outputTokens)
        c.bind(statement, first + 9, record: i, field: F.status)
        c.bind(statement, first + 10, record: i, field: F.latencyMS)
        c.bind(statement, first + 11, record: i, field: F.prompt)
        c.bind(statement, first + 12, record: i, field: F.response)
        bindProvenance(statement, from: first + 13, record: record, c)
    }

    private func writePayment(_ i: Int, _ c: BatchContext) throws -> RecordOutcome {
        typealias F = PaymentField
        let record = c.batch.records[i]
        let statement = insertPayment
        let account = try accountKey(c.bytes(i, F.accountID)!, fileID: c.batch.fileID, line: record.line)
        statement.bind(1, account)
        for (parameter, field) in [(2, F.fingerprint), (3, F.type), (4, F.brand), (5, F.bin), (6, F.last4),
                                   (7, F.country), (8, F.billingPostal), (9, F.firstUsed), (10, F.lastUsed),
                                   (11, F.chargebacks)] {
            c.bind(statement, Int32(parameter), record: i, field: field)
        }
        try runWithProvenance(statement, from: 12, record: record, c)
        if database.changes == 1 { return .loaded }
        findPayment.bind(1, account)
        c.bind(findPayment, 2, record: i, field: F.fingerprint)
        return try compareExisting(findPayment, hashColumn: 0, record: record,
                                   key: "payment (\(c.text(i, F.accountID)!), fingerprint)")
    }

    private func writeAccount(_ i: Int, _ c: BatchContext) throws -> RecordOutcome {
        typealias F = AccountField
        let record = c.batch.records[i]
        let accountID = c.text(i, F.accountID)!
        findAccount.bind(1, accountID)
        var existing: (pk: Int64, described: Bool)?
        if try findAccount.step() {
            existing = (findAccount.int64(0), findAccount.int64(1) != 0)
            if existing!.described {
                return try compareExisting(findAccount, hashColumn: 2, record: record, key: "account_id \(accountID)",
                                           alreadyStepped: true)
            }
        }
        findAccount.reset()
        let signupIP = try c.bytes(i, F.signupIP).map { try ipKey($0) }
        let statement = existing == nil ? insertAccount : describeAccount
        if let existing { statement.bind(1, existing.pk) } else { statement.bind(1, accountID) }
        c.bind(statement, 2, record: i, field: F.createdAt)
        c.bind(statement, 3, record: i, field: F.email)
        c.bind(statement, 4, record: i, field: F.orgID)
        c.bind(statement, 5, record: i, field: F.country)
        statement.bind(6, signupIP)
        c.bind(statement, 7, record: i, field: F.status)
        c.bind(statement, 8, record: i, field: F.plan)
        try runWithProvenance(statement, from: 9, record: record, c)
        if existing == nil { remember(c.bytes(i, F.accountID)!, database.lastInsertedRowID, in: &accountKeys) }
        return .loaded
    }

    private func writeIP(_ i: Int, _ c: BatchContext) throws -> RecordOutcome {
        typealias F = IPField
        let record = c.batch.records[i]
        let ip = c.text(i, F.ip)!
        findIP.bind(1, ip)
        var existing: Int64?
        if try findIP.step() {
            existing = findIP.int64(0)
            if findIP.int64(1) != 0 {
                return try compareExisting(findIP, hashColumn: 2, record: record, key: "ip \(ip)", alreadyStepped: true)
            }
        }
        findIP.reset()
        let statement = existing == nil ? insertIP : describeIP
        if let existing { statement.bind(1, existing) } else { statement.bind(1, ip) }
        for (parameter, field) in [(2, F.asn), (3, F.asOrg), (4, F.country), (5, F.city), (6, F.kind)] {
            c.bind(statement, Int32(parameter), record: i, field: field)
        }
        try runWithProvenance(statement, from: 7, record: record, c)
        if existing == nil { remember(c.bytes(i, F.ip)!, database.lastInsertedRowID, in: &ipKeys) }
        return .loaded
    }

    /// Binds the columns every fact row ends with (extra, source file, line, content hash),
    /// starting at parameter `first`, and runs the insert or update.
    private func runWithProvenance(_ statement: Statement, from first: Int32, record: ParsedRecord, _ c: BatchContext) throws {
        bindProvenance(statement, from: first, record: record, c)
        try statement.step()
        statement.reset()
    }

    private func bindProvenance(_ statement: Statement, from first: Int32, record: ParsedRecord, _ c: BatchContext) {
        c.bind(statement, first, record.extra)
        statement.bind(first + 1, c.batch.fileID)
        statement.bind(first + 2, record.line)
        statement.bind(first + 3, record.contentHash)
    }

    /// Compares a record with the row already loaded under its identity (columns: hash, file, line).
    private func compareExisting(_ finder: Statement, hashColumn: Int32, record: ParsedRecord, key: String,
                                 alreadyStepped: Bool = false) throws -> RecordOutcome {
        defer { finder.reset() }
        guard try alreadyStepped || finder.step() else {
            throw StoreError(code: 1, message: "a row that conflicted on insert could not be found again", sql: finder.sql)
        }
        if finder.int64(hashColumn) == record.contentHash { return .duplicate }
        return .conflict(fileID: finder.int64(hashColumn + 1), line: finder.int64(hashColumn + 2), key: key)
    }

    // MARK: - Identities

    /// The key of an account named by an exchange or payment; an unknown one is created "referenced only".
    private func accountKey(_ accountID: UnsafeRawBufferPointer, fileID: Int64, line: Int64) throws -> Int64 {
        try key(accountID, cache: &accountKeys, find: findAccount, insert: insertReferencedAccount) { insert in
            insert.bind(2, fileID)
            insert.bind(3, line)
        }
    }

    private func ipKey(_ ip: UnsafeRawBufferPointer) throws -> Int64 {
        try key(ip, cache: &ipKeys, find: findIP, insert: insertReferencedIP)
    }

    /// The row key for `value`: from the cache, else found by `find` (key in column 0), else
    /// inserted by `insert` (value bound first, then whatever `bindRest` adds).
    private func key(_ value: UnsafeRawBufferPointer, cache: inout KeyCache, find: Statement, insert: Statement,
                     bindRest: (Statement) -> Void = { _ in }) throws -> Int64 {
        if let key = cache.key(for: value) { return key }
        find.bindText(1, borrowing: value)
        let found = try find.step() ? find.int64(0) : nil
        find.reset()
        let key: Int64
        if let found {
            key = found
        } else {
            insert.bindText(1, borrowing: value)
            bindRest(insert)
            try insert.step()
            insert.reset()
            key = database.lastInsertedRowID
        }
        remember(value, key, in: &cache)
        return key
    }

    private func remember(_ value: UnsafeRawBufferPointer, _ key: Int64, in cache: inout KeyCache) {
        if cache.count >= Self.cacheLimit { cache.removeAll() }
        cache.insert(value, key: key)
    }

    // MARK: - Rejects

    private func store(_ reject: RejectedRecord, fileID: Int64, kind: RecordKind) throws {
        insertReject.bind(1, fileID)
        insertReject.bind(2, reject.line)
        insertReject.bind(3, kind.rawValue)
        insertReject.bind(4, reject.reason.rawValue)
        insertReject.bind(5, reject.detail)
        try reject.raw.withUnsafeBytes { raw in
            if reject.rawIsText { insertReject.bindText(6, copying: raw) } else { insertReject.bindBlob(6, copying: raw) }
            insertReject.bind(7, reject.conflictWith?.fileID)
            insertReject.bind(8, reject.conflictWith?.line)
            try insertReject.step()
        }
        insertReject.reset()
    }

    private func conflictReject(_ index: Int, _ c: BatchContext, otherFileID: Int64, otherLine: Int64,
                                key: String) throws -> RejectedRecord {
        return RejectedRecord(line: c.batch.records[index].line, reason: .conflict,
                              detail: Self.conflictDetail(key: key, path: try path(of: otherFileID), line: otherLine),
                              raw: c.batch.raw(of: index), rawIsText: true,
                              conflictWith: (otherFileID, otherLine))
    }

    /// What a conflict reject says, whether the writer found it or the check at the end of a load.
    static func conflictDetail(key: String, path: String, line: Int64) -> String {
        "\(key) was already loaded from \(path) line \(line) with different content; the first version is kept"
    }

    private func path(of fileID: Int64) throws -> String {
        if let path = filePaths[fileID] { return path }
        let path = try database.prepare("SELECT path FROM source_files WHERE file_id = ?1")
            .rows([fileID]) { $0.string(0) ?? "?" }.first ?? "?"
        filePaths[fileID] = path
        return path
    }
}

/// Rows a batch added, recognised as duplicates, or rejected.
struct BatchOutcome: Sendable {
    var loaded = 0
    var duplicate = 0
    var rejected = 0
}

/// A file's totals as stored in `source_files` and `rejects`.
public struct FileCounts: Sendable, Equatable {
    public var read = 0
    public var loaded = 0
    public var duplicate = 0
    public var rejected = 0
    public var rejectedByReason: [String: Int] = [:]
    /// Per reason, its first reject: the sentence of what to do is in its detail.
    public var firstRejects: [String: RejectExample] = [:]
}

/// One reject, shown as an example of its reason.
public struct RejectExample: Sendable, Equatable {
    /// The input as the ingest was given it; nil within one file's counts.
    public var path: String?
    public let line: Int64
    public let detail: String

    init(path: String? = nil, line: Int64, detail: String) {
        self.path = path
        self.line = line
        self.detail = detail
    }
}
