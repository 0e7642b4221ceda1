import CasebookStore
import Foundation

/// What a bundle holds, copied from the case file into `evidence.sqlite` in one transaction:
/// one consistent snapshot even while an ingest or an investigator writes the case file.
/// Every data file and the report are then written from this subset, so they agree with
/// it and with each other, and a redacted value is replaced once, on the way in.
struct EvidenceSubset {
    enum Subject: Equatable {
        case caseFile(Int64)
        case cluster(Int64)
    }

    struct Counts {
        var accounts = 0, exchanges = 0, clusters = 0, links = 0, notes = 0, tags = 0, auditEntries = 0
    }

    /// Exchanges copied per transaction when the data files are written alongside.
    nonisolated(unsafe) static var sliceRows = 50_000

    let database: Database
    let subject: Subject
    let runID: Int64?
    let clusterIDs: [Int64]
    let counts: Counts
    let auditHead: (seq: Int64, hash: String)?
    /// The selection and copy statements, as run: recorded in the manifest.
    let queries: [String]
    /// Seconds each copy statement took, by the table it fills (for benchmarks).
    let timings: [(String, Double)]

    /// Builds the subset at `path` from the case file at `source`.
    /// Without redaction, `committed` is told each time exchanges up to a row id are in the
    /// subset's file (for writing them out meanwhile), with how many of how many that is.
    static func build(at path: String, from source: String, subject: Subject, redactor: Redactor?,
                      committed: (_ rowID: Int64, _ done: Int, _ total: Int) throws -> Void = { _, _, _ in }) throws -> EvidenceSubset {
        var queries: [String] = []
        var timings: [(String, Double)] = []
        /// Adds the time `body` takes to the stage `label` (a stage met again adds up).
        func timed<T>(_ label: String, _ body: () throws -> T) rethrows -> T {
            let started = Date()
            defer {
                let seconds = Date().timeIntervalSince(started)
                if let index = timings.firstIndex(where: { $0.0 == label }) { timings[index].1 += seconds } else { timings.append((label, seconds)) }
            }
            return try body()
        }
        let database = try timed("create, attach the case file") { try Subset.create(path, from: source) }
        let freeText = redactor == nil ? [] : try quotableText(database)
        redactor?.expectQuotes(in: freeText)
        try defineRedaction(database, redactor, freeText: freeText)
        func run(_ sql: String, _ values: [SQLValue?] = []) throws {
            // A statement run a slice at a time is listed once, with its total time.
            if !queries.contains(sql) { queries.append(sql) }
            try timed(sql.split(whereSeparator: \.isWhitespace).prefix(4).joined(separator: " ")) { try database.prepare(sql).run(values) }
        }
        try database.execute("""
            CREATE TEMP TABLE x_accounts (account_pk INTEGER PRIMARY KEY);
            CREATE TEMP TABLE x_clusters (cluster_id INTEGER PRIMARY KEY);
            CREATE TEMP TABLE x_audit (seq INTEGER PRIMARY KEY, withheld INTEGER NOT NULL, redacted INTEGER NOT NULL);
            """)
        try database.execute("BEGIN IMMEDIATE")
        do {
            let runID = try database.scalarInt("SELECT run_id FROM src.latest_link_run")
            switch subject {
            case let .caseFile(caseID):
                guard try database.prepare("SELECT 1 FROM src.cases WHERE case_id = ?1").rows([caseID], { _ in true }).first != nil else {
                    throw ExportError.notFound("no case \(caseID) in the case file")
                }
                try run("INSERT INTO x_clusters SELECT cluster_id FROM src.case_clusters WHERE case_id = ?1", [caseID])
                try run("""
                    INSERT OR IGNORE INTO x_accounts SELECT m.account_pk FROM src.run_members m
                    WHERE m.run_id = ?1 AND m.cluster_id IN (SELECT cluster_id FROM x_clusters)
                    """, [runID])
                try run("""
                    INSERT OR IGNORE INTO x_accounts SELECT a.account_pk FROM src.account_rows a
                    WHERE a.account_id IN (SELECT account_id FROM src.case_accounts WHERE case_id = ?1)
                    """, [caseID])
            case let .cluster(clusterID):
                guard let runID else { throw ExportError.notFound("no link run yet: run `casebook link` first") }
                guard try database.prepare("SELECT 1 FROM src.run_clusters WHERE run_id = ?1 AND cluster_id = ?2")
                    .rows([runID, clusterID], { _ in true }).first != nil else {
                    throw ExportError.notFound("no cluster \(clusterID) in the latest link run")
                }
                try run("INSERT INTO x_clusters VALUES (?1)", [clusterID])
                try run("INSERT INTO x_accounts SELECT account_pk FROM src.run_members WHERE run_id = ?1 AND cluster_id = ?2", [runID, clusterID])
            }
            let indexes = try copyRows(database, run: run, runID: runID, subject: subject, redacting: redactor != nil)
            let head = try database.prepare("SELECT seq, hash FROM src.audit_log ORDER BY seq DESC LIMIT 1")
                .rows { ($0.int64(0), $0.string(1) ?? "") }.first
            try copyAuditExcerpt(database, run: run, subject: subject)
            try database.execute("COMMIT")
            if redactor == nil {
                // Exchange rows are never changed once ingested, so these later transactions copy
                // exactly the rows the selection above saw; committed a slice at a time, each slice
                // can be written out to the data files while the next is copied.
                let rowIDs = try timed("exchange row ids, sorted") {
                    try database.prepare("SELECT exchange_pk FROM x_exchanges ORDER BY exchange_pk").rows { $0.int64(0) }
                }
                let slice = sliceRows
                var next = 0
                var copiedThrough = Int64.min
                while next < rowIDs.count {
                    let end = rowIDs[min(next + slice, rowIDs.count) - 1]
                    try timed("exchanges: begin") { try database.execute("BEGIN IMMEDIATE") }
                    try copyExchanges(run: run, redacting: false, after: copiedThrough, through: end)
                    try timed("exchanges: commit") { try database.execute("COMMIT") }
                    try timed("exchanges: hand over to the data files") { try committed(end, min(next + slice, rowIDs.count), rowIDs.count) }
                    copiedThrough = end
                    next += slice
                }
            }
            // A small cache makes SQLite's sorter write several sorted runs, which its second
            // thread sorts and merges in parallel (`PRAGMA threads`); one run the size of the cache
            // is sorted by one thread, its time spent waiting for memory.
            try database.execute("PRAGMA main.cache_size = -4096")
            try timed("indexes: begin") { try database.execute("BEGIN IMMEDIATE") }
            for index in indexes { try run(index.sql, []) }
            try timed("indexes: commit") { try database.execute("COMMIT") }
            let clusterIDs = try database.prepare("SELECT cluster_id FROM x_clusters ORDER BY cluster_id").rows { $0.int64(0) }
            let countsStarted = Date()
            var counts = Counts()
            counts.accounts = Int(try database.scalarInt("SELECT count(*) FROM main.account_rows") ?? 0)
            counts.exchanges = Int(try database.scalarInt("SELECT count(*) FROM main.exchange_rows") ?? 0)
            counts.clusters = clusterIDs.count
            counts.links = Int(try database.scalarInt("SELECT count(*) FROM main.run_links") ?? 0)
            counts.notes = Int(try database.scalarInt("SELECT count(*) FROM main.notes") ?? 0)
            counts.tags = Int(try database.scalarInt("SELECT count(*) FROM main.tags") ?? 0)
            counts.auditEntries = Int(try database.scalarInt("SELECT count(*) FROM main.audit_log") ?? 0)
            try database.execute("DETACH DATABASE src")
            timings.append(("counts", Date().timeIntervalSince(countsStarted)))
            return EvidenceSubset(database: database, subject: subject, runID: runID, clusterIDs: clusterIDs,
                                  counts: counts, auditHead: head, queries: queries, timings: timings)
        } catch {
            try? database.execute("ROLLBACK")
            throw error
        }
    }

    /// Text written by investigators (notes, findings, attribution, audit payloads), where a
    /// prompt may be quoted. Read before the copy, outside its snapshot: it can only have grown,
    /// and what it quotes is looked for, never copied from here.
    private static func quotableText(_ database: Database) throws -> [String] {
        try database.prepare("""
            SELECT body FROM src.note_versions
            UNION ALL SELECT coalesce(findings, '') || char(10) || coalesce(attribution, '') FROM src.cases
            UNION ALL SELECT payload FROM src.audit_log WHERE action LIKE 'note.%' OR action LIKE 'case.%'
            """).rows { $0.string(0) ?? "" }
    }

    /// SQL functions that replace values as the profile says (identity without redaction).
    private static func defineRedaction(_ database: Database, _ redactor: Redactor?, freeText: [String]) throws {
        func text(_ transform: @escaping (String) -> String) -> ([SQLiteValue]) -> SQLiteValue {
            { values in
                guard case let .text(value) = values[0] else { return values[0] }
                return .text(transform(value))
            }
        }
        let profile = redactor?.profile ?? RedactionProfile()
        try database.defineFunction("x_email", arguments: 1, text { value in
            guard let redactor, profile.emails else { return value }
            redactor.noteDomain(ofEmail: value)
            return redactor.email(value)
        })
        try database.defineFunction("x_ip", arguments: 1, text { value in
            guard let redactor, profile.ips else { return value }
            return redactor.ip(value)
        })
        try database.defineFunction("x_prompt", arguments: 1, text { value in
            guard let redactor, profile.prompts else { return value }
            redactor.noteQuotable(value) { freeText }
            return redactor.prompt(value)
        })
        try database.defineFunction("x_response", arguments: 1, text { value in
            guard let redactor, profile.prompts else { return value }
            return redactor.response(value)
        })
        try database.defineFunction("x_text", arguments: 1, text { value in redactor?.scrub(value) ?? value })
        // An audit payload is JSON: its strings are scrubbed as text (a quoted prompt is escaped there).
        try database.defineFunction("x_payload", arguments: 1, text { value in
            guard let redactor, let object = try? JSONSerialization.jsonObject(with: Data(value.utf8)) else { return value }
            var changed = false
            func scrub(_ node: Any) -> Any {
                if let text = node as? String {
                    let scrubbed = redactor.scrub(text)
                    if scrubbed != text { changed = true }
                    return scrubbed
                }
                if let array = node as? [Any] { return array.map(scrub) }
                if let dictionary = node as? [String: Any] { return dictionary.mapValues(scrub) }
                return node
            }
            let scrubbed = scrub(object)
            // An untouched payload keeps its exact bytes, so its hash can still be recomputed.
            guard changed, let data = try? JSONSerialization.data(withJSONObject: scrubbed, options: [.sortedKeys, .withoutEscapingSlashes])
            else { return value }
            return String(decoding: data, as: UTF8.self)
        })
        try database.defineFunction("x_evidence", arguments: 2) { values in
            guard let redactor, case let .text(signal) = values[0], case let .text(value) = values[1] else { return values[1] }
            switch signal {
            case "ip" where profile.ips: return .text(redactor.ip(value))
            case "email_domain" where profile.emails: return .text(redactor.domain(value))
            default: return .text(redactor.scrub(value))
            }
        }
    }

    /// The exported rows, table by table, in the order their references need.
    /// Returns the exchanges' indexes, dropped until every exchange is in.
    private static func copyRows(_ database: Database, run: (String, [SQLValue?]) throws -> Void, runID: Int64?, subject: Subject,
                                 redacting: Bool) throws -> [(name: String, sql: String)] {
        // Without redaction the columns are copied as they are, not through the functions.
        func x(_ function: String, _ column: String) -> String { redacting ? "\(function)(\(column))" : column }
        try run("INSERT INTO main.source_files SELECT * FROM src.source_files", [])
        try run("INSERT INTO main.models SELECT * FROM src.models", [])
        try run("""
            INSERT INTO main.account_rows
            SELECT account_pk, account_id, described, created_at_ms, \(x("x_email", "email")), org_id, country, signup_ip_pk,
                   status, plan, \(x("x_text", "extra")), source_file_id, source_line, content_hash
            FROM src.account_rows WHERE account_pk IN (SELECT account_pk FROM x_accounts)
            """, [])
        try run("""
            INSERT INTO main.ip_rows
            SELECT ip_pk, \(x("x_ip", "ip")), described, asn, as_org, country, city, kind, \(x("x_text", "extra")), source_file_id, source_line, content_hash
            FROM src.ip_rows WHERE ip_pk IN (
                SELECT signup_ip_pk FROM main.account_rows
                UNION SELECT ip_pk FROM src.exchange_rows WHERE account_pk IN (SELECT account_pk FROM x_accounts))
            """, [])
        try run("""
            INSERT INTO main.payment_rows
            SELECT payment_pk, account_pk, fingerprint, type, brand, bin, last4, country, billing_postal, first_used_ms,
                   last_used_ms, chargebacks, \(x("x_text", "extra")), source_file_id, source_line, content_hash
            FROM src.payment_rows WHERE account_pk IN (SELECT account_pk FROM x_accounts)
            """, [])
        try run("""
            INSERT INTO main.user_agents SELECT * FROM src.user_agents WHERE user_agent_pk IN (
                SELECT user_agent_pk FROM src.exchange_rows WHERE account_pk IN (SELECT account_pk FROM x_accounts))
            """, [])
        // The exchanges' row ids first (from the account index), then the rows in row-id order:
        // the source is read forward and the subset's table is appended to, never split.
        try run("CREATE TEMP TABLE x_exchanges (exchange_pk INTEGER PRIMARY KEY)", [])
        // Sorted first, the row ids are appended to the temporary table rather than inserted at random.
        try run("""
            INSERT INTO x_exchanges SELECT exchange_pk FROM src.exchange_rows
            WHERE account_pk IN (SELECT account_pk FROM x_accounts) ORDER BY exchange_pk
            """, [])
        // The exchanges' indexes are built after the rows (a sort, not a million scattered
        // inserts), from their own definitions, so the schema stays the same.
        let indexes = try database.prepare("SELECT name, sql FROM main.sqlite_master WHERE type = 'index' AND tbl_name = 'exchange_rows' AND sql IS NOT NULL")
            .rows([]) { ($0.string(0) ?? "", $0.string(1) ?? "") }
        for (name, _) in indexes { try database.execute("DROP INDEX main.\"\(name.replacingOccurrences(of: "\"", with: "\"\""))\"") }
        if redacting {
            // Prompts quoted in notes are found while the exchanges pass, so they go first.
            try copyExchanges(run: run, redacting: true, after: Int64.min, through: Int64.max)
        }
        if let runID {
            try run("INSERT INTO main.link_runs SELECT * FROM src.link_runs WHERE run_id = ?1", [runID])
            // What bears on every cluster of the run. Redacted, the values strangers shared and the
            // account ids written two ways stay behind; the traits and placeholders say no one's data.
            if try database.scalarInt("SELECT count(*) FROM src.sqlite_master WHERE name = 'link_run_caveats'") == 1 {
                let caveats = redacting
                    ? "json_object('uniform_traits', json(caveats -> '$.uniform_traits'), 'placeholders', json(caveats -> '$.placeholders'))"
                    : "caveats"
                try run("INSERT INTO main.link_run_caveats SELECT run_id, \(caveats) FROM src.link_run_caveats WHERE run_id = ?1", [runID])
            }
            try run("INSERT INTO main.cluster_ids SELECT * FROM src.cluster_ids WHERE cluster_id IN (SELECT cluster_id FROM x_clusters)", [])
            try run("""
                INSERT INTO main.run_clusters SELECT * FROM src.run_clusters
                WHERE run_id = ?1 AND cluster_id IN (SELECT cluster_id FROM x_clusters)
                """, [runID])
            try run("""
                INSERT INTO main.run_members SELECT * FROM src.run_members
                WHERE run_id = ?1 AND account_pk IN (SELECT account_pk FROM x_accounts)
                """, [runID])
            try run("""
                INSERT INTO main.run_links SELECT * FROM src.run_links
                WHERE run_id = ?1 AND cluster_id IN (SELECT cluster_id FROM x_clusters)
                """, [runID])
            try run("""
                INSERT INTO main.run_link_evidence SELECT run_id, link_id, signal, \(redacting ? "x_evidence(signal, value)" : "value"), weight
                FROM src.run_link_evidence WHERE run_id = ?1 AND link_id IN (SELECT link_id FROM main.run_links)
                """, [runID])
            try run("""
                INSERT INTO main.run_cluster_days SELECT * FROM src.run_cluster_days
                WHERE run_id = ?1 AND cluster_id IN (SELECT cluster_id FROM x_clusters)
                """, [runID])
        }
        if case let .caseFile(caseID) = subject {
            try run("""
                INSERT INTO main.cases SELECT case_id, title, status, assignee, \(x("x_text", "findings")), \(x("x_text", "attribution")), confidence,
                       created_by, created_at_ms, updated_at_ms FROM src.cases WHERE case_id = ?1
                """, [caseID])
            try run("INSERT INTO main.case_clusters SELECT * FROM src.case_clusters WHERE case_id = ?1", [caseID])
            try run("INSERT INTO main.case_accounts SELECT * FROM src.case_accounts WHERE case_id = ?1", [caseID])
        }
        try run("CREATE TEMP TABLE x_targets (target_type TEXT, target_id TEXT, PRIMARY KEY (target_type, target_id))", [])
        try run("""
            INSERT OR IGNORE INTO x_targets
            SELECT 'case', CAST(case_id AS TEXT) FROM main.cases
            UNION ALL SELECT 'cluster', CAST(cluster_id AS TEXT) FROM x_clusters
            UNION ALL SELECT 'account', account_id FROM main.account_rows
            UNION ALL SELECT 'exchange', e.exchange_id FROM src.notes n JOIN src.exchange_rows e
                ON n.target_type = 'exchange' AND e.exchange_id = n.target_id
                WHERE e.exchange_pk IN (SELECT exchange_pk FROM x_exchanges)
            UNION ALL SELECT 'exchange', e.exchange_id FROM src.tags t JOIN src.exchange_rows e
                ON t.target_type = 'exchange' AND e.exchange_id = t.target_id
                WHERE e.exchange_pk IN (SELECT exchange_pk FROM x_exchanges)
            """, [])
        try run("""
            INSERT INTO main.notes SELECT n.* FROM src.notes n
            WHERE (n.target_type, n.target_id) IN (SELECT target_type, target_id FROM x_targets)
            """, [])
        try run("""
            INSERT INTO main.note_versions SELECT note_id, version, \(x("x_text", "body")), author, at_ms FROM src.note_versions
            WHERE note_id IN (SELECT note_id FROM main.notes)
            """, [])
        try run("""
            INSERT INTO main.tags SELECT t.* FROM src.tags t
            WHERE (t.target_type, t.target_id) IN (SELECT target_type, target_id FROM x_targets)
            """, [])
        return indexes.map { (name: $0.0, sql: $0.1) }
    }

    /// Copies the exported exchanges with row ids in `after + 1 ... through`, in row-id order:
    /// the source read forwards, the subset appended to. The bounds are given, not read from
    /// the subset: a statement that reads the table it inserts into has SQLite hold all its
    /// rows in a temporary table first.
    private static func copyExchanges(run: (String, [SQLValue?]) throws -> Void, redacting: Bool, after: Int64, through: Int64) throws {
        func x(_ function: String, _ column: String) -> String { redacting ? "\(function)(\(column))" : column }
        try run("""
            INSERT INTO main.exchange_rows
            SELECT e.exchange_pk, e.exchange_id, e.account_pk, e.ts_ms, e.model_pk, e.api_key_id, e.ip_pk, e.user_agent_pk,
                   e.input_tokens, e.output_tokens, e.status, e.latency_ms, \(x("x_prompt", "e.prompt")), \(x("x_response", "e.response")),
                   \(x("x_text", "e.extra")), e.source_file_id, e.source_line, e.content_hash
            FROM x_exchanges x CROSS JOIN src.exchange_rows e ON e.exchange_pk = x.exchange_pk
            WHERE x.exchange_pk > ?1 AND x.exchange_pk <= ?2
            """, [after, through])
    }

    /// The audit log from the first ingest to now, contiguous so it chains. Entries about
    /// other cases, clusters and accounts keep their place and hash but not their payload
    /// (`withheld`); a payload that redaction changed is marked `redacted`. Both still chain.
    private static func copyAuditExcerpt(_ database: Database, run: (String, [SQLValue?]) throws -> Void, subject: Subject) throws {
        try run("""
            INSERT INTO x_audit
            SELECT seq,
                   NOT (target LIKE 'file:%' OR target LIKE 'run:%'
                        OR (substr(target, 1, instr(target, ':') - 1), substr(target, instr(target, ':') + 1))
                           IN (SELECT target_type, target_id FROM x_targets)),
                   0
            FROM src.audit_log
            WHERE seq >= coalesce((SELECT min(seq) FROM src.audit_log WHERE action = 'ingest.file'), 1)
            """, [])
        try run("""
            INSERT INTO main.audit_log
            SELECT a.seq, a.at_ms, a.actor, a.action, a.target,
                   CASE WHEN x.withheld THEN '' ELSE x_payload(a.payload) END, a.prev_hash, a.hash
            FROM src.audit_log a JOIN x_audit x ON x.seq = a.seq ORDER BY a.seq
            """, [])
        try run("""
            UPDATE x_audit SET redacted = 1 WHERE NOT withheld AND seq IN (
                SELECT m.seq FROM main.audit_log m JOIN src.audit_log a ON a.seq = m.seq WHERE m.payload IS NOT a.payload)
            """, [])
    }
}
