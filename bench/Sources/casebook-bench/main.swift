import CasebookIO
import CasebookStore
import Foundation

// Reference loaders for bench/ingest: what SQLite alone can do with the same
// exchanges, so casebook's ingest rate can be reported as a ratio measured in
// the same run on the same machine.
//
//   casebook-bench raw-insert DB FILE...   one prepared statement, rows parsed beforehand (untimed)
//   casebook-bench write-csv OUT FILE...   the same exchanges as plain CSV, for the sqlite3 shell's .import

struct Row {
    var exchangeID, accountID: String
    var ts: Int64
    var model, apiKey, ip, userAgent: String?
    var inputTokens, outputTokens, status, latency: Int64?
    var prompt, response: String?
}

func readRows(_ paths: [String]) throws -> [Row] {
    var rows: [Row] = []
    for path in paths {
        let file = try FileSource(path: path)
        let source: ByteSource = path.hasSuffix(".gz") ? GzipSource(upstream: file, path: path) : file
        var pending: [UInt8] = []
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        func flushLines(final: Bool) {
            var start = 0
            while let newline = pending[start...].firstIndex(of: 0x0A) ?? (final && start < pending.count ? pending.count : nil) {
                let line = Data(pending[start..<newline])
                start = newline + 1
                guard let object = try? JSONSerialization.jsonObject(with: line) as? [String: Any],
                      let id = object["exchange_id"] as? String, let account = object["account_id"] as? String,
                      let tsText = object["ts"] as? String, let ts = utcMilliseconds(tsText) else { continue }
                func int(_ key: String) -> Int64? { (object[key] as? NSNumber)?.int64Value }
                rows.append(Row(exchangeID: id, accountID: account, ts: ts,
                                model: object["model"] as? String, apiKey: object["api_key_id"] as? String,
                                ip: object["ip"] as? String, userAgent: object["user_agent"] as? String,
                                inputTokens: int("input_tokens"), outputTokens: int("output_tokens"),
                                status: int("status"), latency: int("latency_ms"),
                                prompt: object["prompt"] as? String, response: object["response"] as? String))
                if start >= pending.count { break }
            }
            pending.removeFirst(min(start, pending.count))
        }
        while true {
            let count = try source.read(into: buffer)
            if count == 0 { break }
            pending.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
            flushLines(final: false)
        }
        flushLines(final: true)
    }
    return rows
}

/// `2026-01-15T08:30:00.250Z` to milliseconds: the generator's form, parsed by hand
/// because Foundation's ISO 8601 formatter made preparing the rows take minutes.
func utcMilliseconds(_ text: String) -> Int64? {
    let b = Array(text.utf8)
    guard b.count == 24, b[4] == 45, b[10] == 84, b[23] == 90 else { return nil }
    func n(_ from: Int, _ count: Int) -> Int { b[from..<(from + count)].reduce(0) { $0 * 10 + Int($1) - 48 } }
    let (year, month, day) = (n(0, 4), n(5, 2), n(8, 2))
    let y = month <= 2 ? year - 1 : year
    let era = (y >= 0 ? y : y - 399) / 400
    let yoe = y - era * 400
    let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
    let days = era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468
    return Int64(days * 86_400 + n(11, 2) * 3600 + n(14, 2) * 60 + n(17, 2)) * 1000 + Int64(n(20, 3))
}

/// Interns repeated strings to integer keys, as the case file's dictionary tables do.
struct Interner {
    var keys: [String: Int64] = [:]
    mutating func key(_ value: String?) -> Int64? {
        guard let value else { return nil }
        if let key = keys[value] { return key }
        let key = Int64(keys.count + 1)
        keys[value] = key
        return key
    }
}

func rawInsert(database path: String, rows: [Row]) throws -> Double {
    var accounts = Interner(), models = Interner(), ips = Interner(), agents = Interner()
    let keyed = rows.map { row in
        (accounts.key(row.accountID)!, models.key(row.model), ips.key(row.ip), agents.key(row.userAgent))
    }
    let database = try CaseFile.open(path, access: .write, create: true)
    try database.execute("PRAGMA cache_size = -65536")
    let secondary = try database.prepare("""
        SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'exchange_rows' AND sql NOT LIKE 'CREATE UNIQUE%'
        """).rows { ($0.string(0)!, $0.string(1)!) }
    for (name, _) in secondary { try database.execute("DROP INDEX \(name)") }
    try database.execute("INSERT INTO source_files (file_id, path, kind, format, compression, started_at_ms, status) VALUES (1, 'reference', 'exchanges', 'jsonl', 'gzip', 0, 'loading')")

    let started = Date()
    let insert = try database.prepare("""
        INSERT INTO exchange_rows (exchange_id, account_pk, ts_ms, model_pk, api_key_id, ip_pk, user_agent_pk,
            input_tokens, output_tokens, status, latency_ms, prompt, response, extra, source_file_id, source_line, content_hash)
        VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, NULL, 1, ?14, ?15)
        """)
    var index = 0
    while index < rows.count {
        try database.transaction {
            for i in index..<min(rows.count, index + 8192) {
                let row = rows[i], keys = keyed[i]
                insert.bind(1, row.exchangeID); insert.bind(2, keys.0); insert.bind(3, row.ts); insert.bind(4, keys.1)
                insert.bind(5, row.apiKey); insert.bind(6, keys.2); insert.bind(7, keys.3); insert.bind(8, row.inputTokens)
                insert.bind(9, row.outputTokens); insert.bind(10, row.status); insert.bind(11, row.latency)
                insert.bind(12, row.prompt); insert.bind(13, row.response); insert.bind(14, Int64(i + 1)); insert.bind(15, Int64(i))
                try insert.step()
                insert.reset()
            }
        }
        index += 8192
    }
    for (_, sql) in secondary { try database.execute(sql) }
    return Date().timeIntervalSince(started)
}

func csvCell(_ value: String?) -> String {
    guard let value else { return "" }
    guard value.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return value }
    return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
}

func writeCSV(_ rows: [Row], to path: String) throws {
    let out = try OutputFile(path: path)
    try out.write("exchange_id,account_id,ts,model,api_key_id,ip,user_agent,input_tokens,output_tokens,status,latency_ms,prompt,response\n")
    for row in rows {
        let cells: [String?] = [row.exchangeID, row.accountID, String(row.ts), row.model, row.apiKey, row.ip, row.userAgent,
                                row.inputTokens.map(String.init), row.outputTokens.map(String.init), row.status.map(String.init),
                                row.latency.map(String.init), row.prompt, row.response]
        try out.write(cells.map(csvCell).joined(separator: ",") + "\n")
    }
    try out.finish()
}

let arguments = CommandLine.arguments
guard arguments.count >= 4 else {
    FileHandle.standardError.write(Data("usage: casebook-bench raw-insert DB FILE... | write-csv OUT FILE...\n".utf8))
    exit(2)
}
do {
    let rows = try readRows(Array(arguments[3...]))
    switch arguments[1] {
    case "raw-insert":
        let seconds = try rawInsert(database: arguments[2], rows: rows)
        print(String(format: "rows=%d seconds=%.3f rate=%.0f", rows.count, seconds, Double(rows.count) / seconds))
    case "write-csv":
        try writeCSV(rows, to: arguments[2])
        print("rows=\(rows.count)")
    default:
        FileHandle.standardError.write(Data("unknown command \(arguments[1])\n".utf8))
        exit(2)
    }
} catch {
    FileHandle.standardError.write(Data("casebook-bench: \(error)\n".utf8))
    exit(1)
}
