import Crypto
import Foundation
import XCTest

/// `casebook sql` as analysts' scripts use it: read-only whatever the SQL says.
final class SQLCommandTests: XCTestCase {
    /// One small campaign with a link run, a prompt index and a case with notes and tags, shared by the tests.
    nonisolated(unsafe) static var directory: String!

    override class func setUp() {
        super.setUp()
        do {
            directory = try temporaryDirectory("sql")
            func run(_ arguments: [String]) throws -> CommandResult {
                let result = try Casebook.run(arguments, in: directory, environment: ["CASEBOOK_INVESTIGATOR": "ana"])
                precondition(result.status == 0, "\(arguments): \(result.stderr)")
                return result
            }
            for arguments in [["generate", "--out", "in", "--accounts", "300", "--exchanges", "20000", "--seed", "5", "--faults"],
                              ["ingest", "--db", "case.db", "in"], ["link", "--db", "case.db"], ["index", "--db", "case.db"]] {
                _ = try run(arguments)
            }
            let member = try run(["sql", "--db", "case.db", "--format", "csv", "SELECT account_id FROM cluster_members WHERE cluster_id = 1 LIMIT 1"])
            let account = String(member.stdout.split(separator: "\r\n")[1])
            for arguments in [["case", "new", "Proxy farm", "--db", "case.db", "--cluster", "1", "--account", account],
                              ["case", "note", "case:1", "Shared card and synchronized bursts", "--db", "case.db"],
                              ["case", "note", "cluster:1", "Templated reasoning prompts", "--db", "case.db"],
                              ["case", "tag", "cluster:1", "card-farm", "--db", "case.db"]] {
                _ = try run(arguments)
            }
            let exchange = try run(["sql", "--db", "case.db", "--format", "csv", "SELECT exchange_id FROM exchanges LIMIT 1"])
            _ = try run(["case", "tag", "exchange:\(exchange.stdout.split(separator: "\r\n")[1])", "reasoning-extraction", "--db", "case.db"])
        } catch {
            preconditionFailure("fixture: \(error)")
        }
    }

    override class func tearDown() {
        try? FileManager.default.removeItem(atPath: directory)
        super.tearDown()
    }

    private func sql(_ arguments: [String], stdin: Data? = nil, db: String = "case.db") throws -> CommandResult {
        try Casebook.run(["sql", "--db", db] + arguments, in: Self.directory, stdin: stdin)
    }

    private func rows(_ result: CommandResult) throws -> [[String: Any]] {
        XCTAssertEqual(result.status, 0, result.stderr)
        return try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]] ?? []
    }

    /// Every query of the cookbook in schema/README.md runs and finds something in a campaign.
    func testEveryCookbookQueryRunsAndFindsRows() throws {
        let readme = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("schema/README.md")
        let text = try String(contentsOf: readme, encoding: .utf8)
        let cookbook = try XCTUnwrap(text.components(separatedBy: "## Cookbook").dropFirst().first)
        let blocks = cookbook.components(separatedBy: "```sql\n").dropFirst().map { $0.components(separatedBy: "```")[0] }
        XCTAssertGreaterThanOrEqual(blocks.count, 10)
        let first = try rows(try sql(["--format", "json", "SELECT exchange_id, account_id, ts_ms FROM exchanges ORDER BY exchange_pk LIMIT 1"]))[0]
        let values: [String: String] = [
            "cluster": "1", "case": "1", "phrase": "step", "account": first["account_id"] as! String,
            "exchange": first["exchange_id"] as! String, "from_ms": "0", "to_ms": String(Int64.max),
        ]
        for block in blocks {
            let used = values.keys.filter { block.contains(":" + $0) }.map { "--param=\($0)=\(values[$0]!)" }
            let found = try rows(try sql(["--format", "json"] + used + [block]))
            XCTAssertFalse(found.isEmpty, "no rows from:\n\(block)")
        }
    }

    func testWritesSchemaChangesAttachAndExtensionsAreRefusedAndTheFileIsUnchanged() throws {
        let before = try digest()
        let attempts = [
            "INSERT INTO cases (title, created_by, created_at_ms, updated_at_ms) VALUES ('x', 'y', 1, 1)",
            "UPDATE cases SET status = 'dismissed'",
            "DELETE FROM audit_log",
            "DROP TABLE notes",
            "CREATE TABLE evil (x)",
            "CREATE TEMP TABLE scratch (x)",
            "ALTER TABLE cases ADD COLUMN y",
            "ATTACH DATABASE 'other.db' AS other",
            "SELECT load_extension('/tmp/evil')",
            "PRAGMA journal_mode = DELETE",
            "PRAGMA user_version = 99",
            "PRAGMA writable_schema = 1",
            "VACUUM",
            "VACUUM INTO 'copy.db'",
            "REINDEX",
            "ANALYZE",
            "BEGIN IMMEDIATE",
            "SELECT 1; DELETE FROM tags",
            "WITH x AS (SELECT 1) INSERT INTO tags SELECT 'case', '1', 'evil', 'x', 1 FROM x",
            "REPLACE INTO tags VALUES ('case', '1', 'evil', 'x', 1)",
            "INSERT INTO prompt_index (prompt_index) VALUES ('delete-all')",
        ]
        for attempt in attempts {
            let result = try sql([attempt])
            XCTAssertEqual(result.status, 2, "\(attempt) was not refused: \(result.stdout) \(result.stderr)")
            XCTAssertTrue(result.stderr.contains("refused") || result.stderr.contains("statement"), result.stderr)
            XCTAssertFalse(result.stderr.contains("Fatal error"), result.stderr)
        }
        XCTAssertEqual(try digest(), before, "the case file's bytes changed")
        // The authorizer itself refuses (not only the read-only connection behind it).
        XCTAssertTrue(try sql([attempts[0]]).stderr.contains("refused: INSERT into cases"))
        XCTAssertTrue(try sql(["INSERT INTO prompt_index (prompt_index) VALUES ('delete-all')"]).stderr.contains("refused: INSERT into prompt_index"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: Self.directory + "/copy.db"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: Self.directory + "/other.db"))
        // The refusal names the statement and its line.
        let named = try sql(["SELECT 1;\n\n  -- a comment\n  DELETE FROM tags"])
        XCTAssertTrue(named.stderr.contains("statement 2 (line 4) refused: DELETE from tags"), named.stderr)
        XCTAssertEqual(named.stdout, "", "a script with a refused statement runs none of it")
    }

    func testARunawayRecursiveQueryIsStoppedByTheTimeout() throws {
        let started = Date()
        let result = try sql(["--timeout", "0.5", "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT count(*) FROM r"])
        XCTAssertEqual(result.status, 5, result.stderr)
        XCTAssertTrue(result.stderr.contains("--timeout"), result.stderr)
        XCTAssertLessThan(Date().timeIntervalSince(started), 10)
    }

    func testSyntaxErrorsAndParameterMistakesAreUsageErrors() throws {
        let syntax = try sql(["SELECT 1;\nSELEC 2"])
        XCTAssertEqual(syntax.status, 2)
        XCTAssertTrue(syntax.stderr.contains("statement 2 (line 2)") && syntax.stderr.contains("syntax error"), syntax.stderr)
        XCTAssertEqual(syntax.stdout, "", "a script with a syntax error runs none of it")
        let unbound = try sql(["SELECT :who"])
        XCTAssertEqual(unbound.status, 2)
        XCTAssertTrue(unbound.stderr.contains(":who"), unbound.stderr)
        let unused = try sql(["--param", "who=ana", "SELECT 1"])
        XCTAssertEqual(unused.status, 2)
        let secret = try sql(["--param", "x=4111111111111111-secret", "SELECT :x +"])
        XCTAssertEqual(secret.status, 2)
        XCTAssertFalse(secret.stderr.contains("4111111111111111"), "a bound value appeared in an error message")
    }

    func testParametersByNameNumberAndPosition() throws {
        let found = try rows(try sql(["--format", "json", "--param", "a=7", "--param", "2=x=y", "--param", "plain", "--param", "007",
                                      "SELECT :a AS a, ?2 AS b, ? AS c, ? AS d, typeof(:a) AS t"]))
        XCTAssertEqual(found.count, 1)
        XCTAssertEqual(found[0]["a"] as? Int, 7)
        XCTAssertEqual(found[0]["b"] as? String, "x=y")
        XCTAssertEqual(found[0]["t"] as? String, "integer")
        XCTAssertEqual(found[0]["c"] as? String, "plain")
        XCTAssertEqual(found[0]["d"] as? String, "007", "a zero-padded number stays text")
    }

    func testFormatsAreExactForScriptsAndAlignedForPeople() throws {
        let query = "SELECT 'a,b' AS x, 'say \"hi\"' AS y, 'two\nlines' AS z, NULL AS n, x'00ff' AS b, 1.5 AS r, 'tab\there' AS t"
        let csv = try sql(["--format", "csv", query])
        XCTAssertEqual(csv.stdout, "x,y,z,n,b,r,t\r\n\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",,X'00FF',1.5,tab\there\r\n")
        let tsv = try sql(["--format", "tsv", query])
        XCTAssertEqual(tsv.stdout, "x\ty\tz\tn\tb\tr\tt\na,b\tsay \"hi\"\ttwo\\nlines\t\tX'00FF'\t1.5\ttab\\there\n")
        let jsonl = try sql(["--format", "jsonl", query + " UNION ALL SELECT 1, 2, 3, 4, 5, 6, 7"])
        let lines = jsonl.stdout.split(separator: "\n")
        XCTAssertEqual(lines.count, 2)
        let object = try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as! [String: Any]
        XCTAssertEqual(object["z"] as? String, "two\nlines")
        XCTAssertTrue(object["n"] is NSNull)
        XCTAssertEqual((object["b"] as? [String: String])?["hex"], "00ff")
        let table = try sql(["SELECT '日本語' AS name, 1 AS n UNION ALL SELECT 'abc\u{1B}[31m', 22"])
        let tableLines = table.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(tableLines[0], "name           n")
        XCTAssertEqual(tableLines[2], "日本語" + String(repeating: " ", count: 10) + "1", "wide characters take two columns")
        XCTAssertEqual(tableLines[3], "abc\\u{1b}[31m  22", "control characters are escaped on a terminal")
        XCTAssertEqual(tableLines.last, "(2 rows)")
        let script = try sql(["--format", "json"], stdin: Data("SELECT 1 AS one;\nSELECT 2 AS two;\n".utf8))
        XCTAssertEqual(script.status, 0, script.stderr)
        XCTAssertEqual(script.stdout, "[\n{\"one\": 1}\n]\n[\n{\"two\": 2}\n]\n")
    }

    func testItReadsWhileAnIngestWritesTheSameFile() throws {
        let directory = try temporaryDirectory("sql-busy")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let ingest = try Casebook.ingestInBackground(in: directory)
        XCTAssertTrue(ingest.isRunning, "the ingest ended too soon to test against")
        let result = try Casebook.run(["sql", "--db", "case.db", "--format", "csv", "SELECT count(*) > 0 FROM exchanges"], in: directory)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stdout, "count(*) > 0\r\n1\r\n")
        ingest.waitUntilExit()
        XCTAssertEqual(ingest.terminationStatus, 0)
    }

    private func digest() throws -> String {
        var hasher = SHA256()
        for suffix in ["", "-wal"] {
            if let data = FileManager.default.contents(atPath: Self.directory + "/case.db" + suffix) { hasher.update(data: data) }
        }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }
}
