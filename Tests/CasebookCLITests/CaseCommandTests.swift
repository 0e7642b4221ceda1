import CasebookStore
import Foundation
import XCTest

/// `casebook case` and `casebook audit` as scripts use them.
final class CaseCommandTests: XCTestCase {
    var directory: String!

    override func setUpWithError() throws {
        directory = try temporaryDirectory("case")
        let lines = #"{"exchange_id":"e1","account_id":"a1","ts":1768465800}"# + "\n"
        let result = try Casebook.run(["ingest", "--db", "case.db", "--kind", "exchanges", "--format", "jsonl", "-"],
                                      in: directory, stdin: Data(lines.utf8))
        XCTAssertEqual(result.status, 0, result.stderr)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: directory) }

    private func run(_ arguments: [String], stdin: Data? = nil) throws -> CommandResult {
        try Casebook.run(arguments + ["--db", "case.db"], in: directory, stdin: stdin,
                         environment: ["CASEBOOK_INVESTIGATOR": "ana"])
    }

    private func json(_ result: CommandResult) throws -> Any {
        XCTAssertEqual(result.status, 0, result.stderr)
        return try JSONSerialization.jsonObject(with: Data(result.stdout.utf8))
    }

    func testCaseVerbsForScriptsAndTheirAuditTrail() throws {
        let created = try json(try run(["case", "new", "Proxy farm", "--account", "a1", "--json"])) as! [String: Any]
        XCTAssertEqual(created["case_id"] as? Int, 1)
        XCTAssertEqual(try run(["case", "status", "1", "referred-to-legal"]).status, 0)
        XCTAssertEqual(try run(["case", "assign", "1", "bo"]).status, 0)
        XCTAssertEqual(try run(["case", "attribute", "1", "--findings", "one BIN", "--attribution", "Operator X",
                                "--confidence", "high"]).status, 0)
        XCTAssertEqual(try run(["case", "note", "account:a1", "-"], stdin: Data("line one\nline two\n".utf8)).status, 0)
        XCTAssertEqual(try run(["case", "note", "--edit", "1", "line one, edited"]).status, 0)
        XCTAssertEqual(try run(["case", "tag", "exchange:e1", "harvest", "cot"]).status, 0)
        XCTAssertEqual(try json(try run(["case", "tag", "exchange:e1", "--json"])) as? [String], ["cot", "harvest"])

        let list = try json(try run(["case", "list", "--json", "--status", "referred-to-legal"])) as! [[String: Any]]
        XCTAssertEqual(list.map { $0["title"] as? String }, ["Proxy farm"])
        let shown = try json(try run(["case", "show", "1", "--json"])) as! [String: Any]
        XCTAssertEqual(shown["assignee"] as? String, "bo")
        XCTAssertEqual(shown["attribution"] as? String, "Operator X")
        XCTAssertEqual(shown["confidence"] as? String, "high")
        XCTAssertEqual(shown["account_ids"] as? [String], ["a1"])
        XCTAssertEqual((shown["history"] as? [[String: Any]])?.map { $0["action"] as? String },
                       ["case.create", "case.attach", "case.status", "case.assign", "case.edit", "case.edit"])
        let notes = try json(try run(["case", "note", "account:a1", "--list", "--json"])) as! [[String: Any]]
        XCTAssertEqual(notes.first?["body"] as? String, "line one, edited")
        XCTAssertEqual(notes.first?["version"] as? Int, 2)
        let versions = try json(try run(["case", "note", "--history", "1", "--json"])) as! [[String: Any]]
        XCTAssertEqual(versions.map { $0["body"] as? String }, ["line one\nline two\n", "line one, edited"])

        let log = try run(["audit", "log", "--json"])
        let entries = log.stdout.split(separator: "\n").map { try! JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        XCTAssertEqual(entries.first?["action"] as? String, "ingest.file")
        XCTAssertTrue(entries.dropFirst().allSatisfy { $0["actor"] as? String == "ana" })
        let verified = try json(try run(["audit", "verify", "--json"])) as! [String: Any]
        XCTAssertEqual(verified["intact"] as? Bool, true)
        XCTAssertEqual(verified["entries"] as? Int, entries.count)

        // Errors: unknown case (4), unknown status (2), a target that does not exist (4).
        XCTAssertEqual(try run(["case", "status", "9", "open"]).status, 4)
        XCTAssertEqual(try run(["case", "status", "1", "closed"]).status, 2)
        XCTAssertEqual(try run(["case", "note", "cluster:77", "x"]).status, 4)
        XCTAssertEqual(try run(["case", "tag", "galaxy:1", "x"]).status, 2)
    }

    func testAuditVerifyNamesTheFirstBrokenEntry() throws {
        XCTAssertEqual(try run(["case", "new", "A"]).status, 0)
        XCTAssertEqual(try run(["case", "note", "1", "text"]).status, 0)
        let database = try Database(path: directory + "/case.db", mode: .readWrite)
        try database.execute("DROP TRIGGER audit_log_is_append_only_update; UPDATE audit_log SET actor = 'mallory' WHERE seq = 2")
        let result = try run(["audit", "verify"])
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.stdout.contains("BROKEN at entry 2"), result.stdout)
        XCTAssertTrue(result.stdout.contains("audit_log_is_append_only_update was dropped"), result.stdout)
    }

    func testANoteWhileAnIngestRunsWaitsAMomentAtMost() throws {
        let ingest = try Casebook.ingestInBackground(in: directory)
        XCTAssertTrue(ingest.isRunning, "the ingest ended too soon to test against")
        let started = Date()
        let note = try run(["case", "note", "account:a1", "written during an ingest"])
        let seconds = Date().timeIntervalSince(started)
        XCTAssertEqual(note.status, 0, note.stderr)
        XCTAssertLessThan(seconds, 5)
        ingest.waitUntilExit()
        XCTAssertEqual(ingest.terminationStatus, 0)
        XCTAssertEqual(try json(try run(["audit", "verify", "--json"])).self is [String: Any], true)
    }
}
