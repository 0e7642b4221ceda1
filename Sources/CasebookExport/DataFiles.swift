import CasebookIO
import CasebookQueries
import CasebookStore
import Foundation

/// The bundle's `data/` folder: each part of the evidence as JSON Lines (exact) and CSV
/// (for spreadsheets), written from the subset so every file agrees with `evidence.sqlite`.
enum DataFiles {
    /// One data set: its file name and the query over the subset's public views.
    struct Part {
        let name: String
        let sql: String
        var csv = true
    }

    /// Exchanges are listed as ingested (by `exchange_pk`, the order they lie in): sorting a
    /// million of them by account would cost more than the rest of the export. They are read
    /// by `ExchangeRows`, which gives what this query gives, faster.
    static let exchangesSQL = "SELECT \(ExchangeRows.columns.joined(separator: ", ")) FROM exchanges ORDER BY exchange_pk"

    static let parts: [Part] = [
        Part(name: "clusters", sql: "SELECT * FROM clusters ORDER BY risk_score DESC, cluster_id"),
        Part(name: "cluster_members", sql: """
            SELECT m.cluster_id, a.account_id, m.exchanges,
                   strftime('%Y-%m-%dT%H:%M:%fZ', m.first_seen_ms / 1000.0, 'unixepoch') AS first_seen,
                   strftime('%Y-%m-%dT%H:%M:%fZ', m.last_seen_ms / 1000.0, 'unixepoch') AS last_seen
            FROM run_members m JOIN account_rows a USING (account_pk) ORDER BY m.cluster_id, a.account_id
            """),
        Part(name: "cluster_days", sql: "SELECT * FROM cluster_days ORDER BY cluster_id, day"),
        Part(name: "accounts", sql: "SELECT * FROM accounts ORDER BY account_id"),
        Part(name: "payments", sql: "SELECT * FROM payments ORDER BY account_id, fingerprint"),
        Part(name: "ips", sql: """
            SELECT i.ip, NOT i.described AS referenced_only, i.asn, i.as_org, i.country, i.city, i.kind, i.extra,
                   f.path AS source_file, i.source_line
            FROM ip_rows i LEFT JOIN source_files f ON f.file_id = i.source_file_id ORDER BY i.ip
            """),
        // Written by `ExchangeRows`; this query is what those files must equal (a test checks).
        Part(name: "exchanges", sql: exchangesSQL),
        Part(name: "links", sql: "SELECT * FROM links ORDER BY cluster_id, score DESC, link_id"),
        Part(name: "notes", sql: """
            SELECT n.note_id, n.target_type, n.target_id, v.version, v.author,
                   strftime('%Y-%m-%dT%H:%M:%fZ', v.at_ms / 1000.0, 'unixepoch') AS at, v.body
            FROM notes n JOIN note_versions v USING (note_id) ORDER BY n.note_id, v.version
            """),
        Part(name: "tags", sql: """
            SELECT target_type, target_id, tag, added_by, strftime('%Y-%m-%dT%H:%M:%fZ', added_at_ms / 1000.0, 'unixepoch') AS added_at
            FROM tags ORDER BY target_type, target_id, tag
            """),
        Part(name: "cases", sql: """
            SELECT case_id, title, status, assignee, findings, attribution, confidence, created_by,
                   strftime('%Y-%m-%dT%H:%M:%fZ', created_at_ms / 1000.0, 'unixepoch') AS created_at,
                   strftime('%Y-%m-%dT%H:%M:%fZ', updated_at_ms / 1000.0, 'unixepoch') AS updated_at
            FROM cases
            """),
        Part(name: "case_history", sql: """
            SELECT seq, strftime('%Y-%m-%dT%H:%M:%fZ', at_ms / 1000.0, 'unixepoch') AS at, actor, action, target, payload
            FROM audit_log WHERE target IN (SELECT 'case:' || case_id FROM cases) ORDER BY seq
            """),
        // Exact, for `casebook verify` and anyone recomputing the chain: JSON Lines only.
        Part(name: "audit", sql: """
            SELECT a.seq, a.at_ms, a.actor, a.action, a.target, a.payload, a.prev_hash, a.hash,
                   x.withheld AS payload_withheld, x.redacted AS payload_redacted
            FROM audit_log a JOIN temp.x_audit x USING (seq) ORDER BY a.seq
            """, csv: false),
    ]

    /// Every part but those in `skipping` (written elsewhere).
    static func write(_ subset: EvidenceSubset, root: String, skipping: Set<String> = [],
                      progress: (ExportProgress) -> Void) throws -> [BundleEntry] {
        var entries: [BundleEntry] = []
        let total = subset.counts.exchanges
        for part in parts where !skipping.contains(part.name) {
            let jsonl = try BundleFile(root: root, relativePath: "data/\(part.name).jsonl")
            let csv = part.csv ? try BundleFile(root: root, relativePath: "data/\(part.name).csv") : nil
            if part.name == "exchanges" {
                let rows = try ExchangeRows(subset.database)
                let writer = RowWriter(columns: ExchangeRows.columns, jsonl: jsonl, csv: csv)
                var after = Int64.min, done = 0
                while true {
                    let (read, last) = try rows.write(after: after, through: .max, to: writer)
                    if read == 0 { break }
                    after = last
                    done += read
                    progress(ExportProgress(phase: "writing exchanges", done: done, total: total))
                }
            } else {
                _ = try RowWriter.write(try subset.database.prepare(part.sql), jsonl: jsonl, csv: csv)
            }
            entries.append(try jsonl.finish())
            if let csv { entries.append(try csv.finish()) }
        }
        entries += try writeEvidence(subset, root: root)
        return entries
    }

    /// Each link's evidence with the input rows (file:line) behind it, strongest first.
    private static func writeEvidence(_ subset: EvidenceSubset, root: String) throws -> [BundleEntry] {
        let jsonl = try BundleFile(root: root, relativePath: "data/link_evidence.jsonl")
        let csv = try BundleFile(root: root, relativePath: "data/link_evidence.csv")
        csv.write("link_id,cluster_id,account_a,account_b,signal,value,weight,source_rows\r\n")
        let statement = try subset.database.prepare("""
            SELECT k.link_id, k.cluster_id, a.account_id, b.account_id, e.signal, e.value, e.weight, k.account_a, k.account_b
            FROM run_links k JOIN run_link_evidence e USING (run_id, link_id)
            JOIN account_rows a ON a.account_pk = k.account_a JOIN account_rows b ON b.account_pk = k.account_b
            ORDER BY k.cluster_id, k.score DESC, k.link_id, e.weight DESC, e.signal
            """)
        while try statement.step() {
            let signal = statement.string(4) ?? "", value = statement.string(5) ?? ""
            let sources = try LinkQueries.sources(subset.database, signal: signal, value: value,
                                                  accounts: [statement.int64(7), statement.int64(8)])
            let sourceText = sources.map(\.description).joined(separator: "; ")
            // Written by hand (keys sorted, as in every JSON Lines file here): Foundation's
            // serializer cost more than the rest of the data files together.
            jsonl.append { out in
                func key(_ name: String, _ first: Bool = false) {
                    out.append(contentsOf: (first ? "{\"" : ", \"").utf8)
                    out.append(contentsOf: name.utf8)
                    out.append(contentsOf: "\": ".utf8)
                }
                func text(_ value: String) {
                    var copy = value
                    copy.withUTF8 { JSONText.appendString(UnsafeRawBufferPointer($0), to: &out) }
                }
                key("account_a", true); text(statement.string(2) ?? "")
                key("account_b"); text(statement.string(3) ?? "")
                key("cluster_id"); out.append(contentsOf: String(statement.int64(1)).utf8)
                key("link_id"); out.append(contentsOf: String(statement.int64(0)).utf8)
                key("signal"); text(signal)
                key("source_rows"); out.append(UInt8(ascii: "["))
                for (index, row) in sources.enumerated() {
                    if index > 0 { out.append(contentsOf: ", ".utf8) }
                    if let id = row.accountID { key("account_id", true); text(id) }
                    if let id = row.exchangeID { key("exchange_id", row.accountID == nil); text(id) }
                    key("file", row.accountID == nil && row.exchangeID == nil); text(row.path)
                    key("line"); out.append(contentsOf: String(row.line).utf8)
                    out.append(UInt8(ascii: "}"))
                }
                out.append(UInt8(ascii: "]"))
                key("value"); text(value)
                key("weight"); RowWriter.appendJSON(.real(statement.double(6)), to: &out)
                out.append(contentsOf: "}\n".utf8)
            }
            let cells: [String] = [String(statement.int64(0)), String(statement.int64(1)), CSVText.cell(statement.string(2) ?? ""),
                                   CSVText.cell(statement.string(3) ?? ""), CSVText.cell(signal), CSVText.cell(value),
                                   "\(statement.double(6))", CSVText.cell(sourceText)]
            csv.write(cells.joined(separator: ",") + "\r\n")
            try jsonl.flushIfFull()
            try csv.flushIfFull()
        }
        return [try jsonl.finish(), try csv.finish()]
    }
}


/// `data/exchanges.*` written from the subset on a thread of its own while the exchanges are
/// still being copied into it: each committed slice is formatted while the next is copied.
final class ExchangeFiles: @unchecked Sendable {
    private let condition = NSCondition()
    private var committedThrough: Int64 = -1
    private var copyFinished = false
    private var outcome: Result<[BundleEntry], Error>?
    private let exited = DispatchSemaphore(value: 0)

    init(subset path: String, root: String) {
        Thread.detachNewThread { [self] in
            let result = Result { try write(subset: path, root: root) }
            condition.lock()
            outcome = result
            condition.unlock()
            exited.signal()
        }
    }

    /// Exchanges up to `rowID` are committed in the subset.
    func advance(to rowID: Int64) {
        condition.lock()
        committedThrough = rowID
        condition.broadcast()
        condition.unlock()
    }

    /// No more slices come; waits for the files, closes the thread's connection. Call once.
    func finish() throws -> [BundleEntry] {
        condition.lock()
        copyFinished = true
        condition.broadcast()
        condition.unlock()
        exited.wait()
        return try outcome!.get()
    }

    private func write(subset path: String, root: String) throws -> [BundleEntry] {
        let database = try CaseFile.open(path, access: .read)
        let jsonl = try BundleFile(root: root, relativePath: "data/exchanges.jsonl")
        let csv = try BundleFile(root: root, relativePath: "data/exchanges.csv")
        let rows = try ExchangeRows(database)
        let writer = RowWriter(columns: ExchangeRows.columns, jsonl: jsonl, csv: csv)
        var written: Int64 = .min
        while true {
            condition.lock()
            while committedThrough <= written && !copyFinished { condition.wait() }
            let target = committedThrough
            condition.unlock()
            guard target > written else { break }
            while written < target {
                let (read, last) = try rows.write(after: written, through: target, to: writer)
                written = read < ExchangeRows.batch ? target : last
            }
        }
        return [try jsonl.finish(), try csv.finish()]
    }
}

/// A subset's exchanges exactly as its `exchanges` view lists them (the same rows, columns and
/// values, checked by a test), read from `exchange_rows` with the names the view joins looked
/// up in memory and the time written here. On 843,636 exchanges the view's five joins and its
/// date formatting took 3.3 s, reading the table 1.3 s.
final class ExchangeRows {
    static let columns = [
        "exchange_id", "account_id", "ts", "ts_ms", "model", "api_key_id", "ip", "user_agent", "input_tokens", "output_tokens",
        "status", "latency_ms", "prompt", "response", "extra", "source_file", "source_line",
    ]
    /// Rows a statement: a writer waiting to commit the next slice of the subset waits for one batch.
    static let batch = 2_000

    /// A looked-up value, its bytes kept in `arena`.
    private enum Stored {
        case null, integer(Int64), real(Double), text(Range<Int>), blob(Range<Int>)
    }

    private let statement: Statement
    private var arena: [UInt8] = []
    private var accounts: [Int64: Stored] = [:], models: [Int64: Stored] = [:], ips: [Int64: Stored] = [:]
    private var agents: [Int64: Stored] = [:], files: [Int64: Stored] = [:]

    init(_ database: Database) throws {
        // Times outside the years this file writes itself are left to SQLite, as in the view.
        statement = try database.prepare("""
            SELECT exchange_id, account_pk, ts_ms, model_pk, api_key_id, ip_pk, user_agent_pk, input_tokens, output_tokens,
                   status, latency_ms, prompt, response, extra, source_file_id, source_line, exchange_pk,
                   CASE WHEN typeof(ts_ms) = 'integer' AND ts_ms BETWEEN ?3 AND ?4 THEN NULL
                        ELSE strftime('%Y-%m-%dT%H:%M:%fZ', ts_ms / 1000.0, 'unixepoch') END
            FROM exchange_rows WHERE exchange_pk > ?1 AND exchange_pk <= ?2 ORDER BY exchange_pk LIMIT \(Self.batch)
            """)
        accounts = try load(database, "SELECT account_pk, account_id FROM account_rows")
        models = try load(database, "SELECT model_pk, name FROM models")
        ips = try load(database, "SELECT ip_pk, ip FROM ip_rows")
        agents = try load(database, "SELECT user_agent_pk, text FROM user_agents")
        files = try load(database, "SELECT file_id, path FROM source_files")
    }

    private func load(_ database: Database, _ sql: String) throws -> [Int64: Stored] {
        var map: [Int64: Stored] = [:]
        let rows = try database.prepare(sql)
        while try rows.step() {
            func keep(_ bytes: UnsafeRawBufferPointer) -> Range<Int> {
                arena.append(contentsOf: bytes)
                return arena.count - bytes.count..<arena.count
            }
            switch rows.raw(1) {
            case .null: map[rows.int64(0)] = .null
            case let .integer(value): map[rows.int64(0)] = .integer(value)
            case let .real(value): map[rows.int64(0)] = .real(value)
            case let .text(bytes): map[rows.int64(0)] = .text(keep(bytes))
            case let .blob(bytes): map[rows.int64(0)] = .blob(keep(bytes))
            }
        }
        return map
    }

    /// Writes up to `batch` exchanges with row ids in `after + 1 ... through`, in row-id order.
    /// Returns how many rows were read (a row the view would leave out is read, not written)
    /// and the last row id read.
    func write(after: Int64, through: Int64, to writer: RowWriter) throws -> (read: Int, last: Int64) {
        statement.bind([after, through, TimestampText.supported.lowerBound, TimestampText.supported.upperBound])
        defer { statement.reset() }
        var read = 0, last = after
        var time: [UInt8] = []
        time.reserveCapacity(32)
        try arena.withUnsafeBytes { arena in
            func value(_ stored: Stored?) -> Statement.RawValue {
                switch stored {
                case nil, .null: return .null
                case let .integer(value): return .integer(value)
                case let .real(value): return .real(value)
                case let .text(range): return .text(UnsafeRawBufferPointer(rebasing: arena[range]))
                case let .blob(range): return .blob(UnsafeRawBufferPointer(rebasing: arena[range]))
                }
            }
            func lookup(_ map: [Int64: Stored], _ column: Int32) -> Stored? {
                guard case let .integer(key) = statement.raw(column) else { return nil }
                return map[key]
            }
            while try statement.step() {
                read += 1
                last = statement.int64(16)
                // The view joins accounts and source files; an exchange without either is not listed.
                guard let account = lookup(accounts, 1), let file = lookup(files, 14) else { continue }
                let model = lookup(models, 3), ip = lookup(ips, 5), agent = lookup(agents, 6)
                time.removeAll(keepingCapacity: true)
                if case let .integer(milliseconds) = statement.raw(2), TimestampText.supported.contains(milliseconds) {
                    TimestampText.append(milliseconds, to: &time)
                }
                try time.withUnsafeBytes { timeText in
                    try writer.writeRow { column in
                        switch column {
                        case 0: return statement.raw(0)
                        case 1: return value(account)
                        case 2: return timeText.isEmpty ? statement.raw(17) : .text(timeText)
                        case 3: return statement.raw(2)
                        case 4: return value(model)
                        case 5: return statement.raw(4)
                        case 6: return value(ip)
                        case 7: return value(agent)
                        case 15: return value(file)
                        case 16: return statement.raw(15)
                        default: return statement.raw(Int32(column - 1))  // input_tokens ... extra
                        }
                    }
                }
            }
        }
        return (read, last)
    }
}
