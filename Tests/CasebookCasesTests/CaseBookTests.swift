import CasebookAudit
import CasebookCases
import CasebookIngest
import CasebookStore
import Foundation
import XCTest

/// Cases, notes and tags through the library, and the audit log that records them.
final class CaseBookTests: XCTestCase {
    var directory: String!
    var path: String { directory + "/case.db" }

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "casebook-cases-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try Data("""
            {"exchange_id":"e1","account_id":"a1","ts":1768465800}
            {"exchange_id":"e2","account_id":"a2","ts":1768465801}

            """.utf8).write(to: URL(fileURLWithPath: directory + "/exchanges.jsonl"))
        let files = try IngestPlan(paths: [directory + "/exchanges.jsonl"], kind: nil, format: nil).files
        _ = try Ingest(databasePath: path, actor: "loader").run(files)
        // A cluster as a link run leaves it.
        let database = try CaseFile.open(path, access: .write)
        try database.execute("""
            INSERT INTO link_runs (run_id, started_at_ms, parameters, status) VALUES (1, 0, '{}', 'complete');
            INSERT INTO cluster_ids (cluster_id, first_run_id) VALUES (42, 1);
            """)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: directory) }

    private func book(_ actor: String = "ana") throws -> CaseBook {
        CaseBook(database: try CaseFile.open(path, access: .write), actor: actor)
    }

    private func database() throws -> Database { try CaseFile.open(path, access: .write) }

    func testACaseIsWorkedAndEveryChangeIsAuditedWithItsAuthor() throws {
        let book = try book()
        let id = try book.create(title: "Proxy farm", clusters: [42], accounts: ["a1"])
        try book.setStatus(id, .investigating)
        try book.assign(id, to: "bo")
        try book.setFindings(id, "38 accounts on one BIN")
        try book.setAttribution(id, "Operator X", confidence: .medium)
        let note = try book.addNote(to: Target(.cluster, "42"), "first\nsecond line")
        XCTAssertEqual(try book.editNote(note, "first\nsecond line, corrected"), 2)
        try book.addTag("proxy", to: Target(.exchange, "e1"))
        try book.addTag("urgent", to: Target(.case, String(id)))
        try book.removeTag("urgent", from: Target(.case, String(id)))

        let detail = try book.detail(id)
        XCTAssertEqual(detail.summary.status, .investigating)
        XCTAssertEqual(detail.summary.assignee, "bo")
        XCTAssertEqual(detail.clusterIDs, [42])
        XCTAssertEqual(detail.accountIDs, ["a1"])
        XCTAssertEqual(detail.findings, "38 accounts on one BIN")
        XCTAssertEqual(detail.attribution, "Operator X")
        XCTAssertEqual(detail.confidence, .medium)
        XCTAssertEqual(try book.notes(on: Target(.cluster, "42")).map(\.body), ["first\nsecond line, corrected"])
        XCTAssertEqual(try book.history(ofNote: note).map(\.body), ["first\nsecond line", "first\nsecond line, corrected"])
        XCTAssertEqual(try book.tagsInUse(), ["proxy"])

        let entries = try AuditLog.entries(try database())
        XCTAssertEqual(entries.map(\.action), ["ingest.file", "case.create", "case.attach", "case.status", "case.assign", "case.edit",
                                               "case.edit", "note.add", "note.edit", "tag.add", "tag.add", "tag.remove"])
        XCTAssertEqual(entries.first?.actor, "loader")
        XCTAssertTrue(entries.dropFirst().allSatisfy { $0.actor == "ana" })
        guard case .intact(entries: 12, _) = try AuditLog.verifyChain(try database()) else { return XCTFail() }
        XCTAssertEqual(try AnnotationCheck.mismatches(try database()), [])
        // A script joins tags to exchanges through plain SQL.
        XCTAssertEqual(try database().prepare("""
            SELECT e.exchange_id FROM tags t JOIN exchanges e ON t.target_type = 'exchange' AND t.target_id = e.exchange_id
            WHERE t.tag = 'proxy'
            """).rows { $0.string(0) ?? "" }, ["e1"])
    }

    func testUnknownTargetsAndBadTextAreRefused() throws {
        let book = try book()
        for target in [Target(.cluster, "7"), Target(.account, "nobody"), Target(.exchange, "e9"), Target(.case, "3")] {
            XCTAssertThrowsError(try book.addNote(to: target, "x")) { error in
                XCTAssertEqual((error as? CasesError)?.category, .notFound, "\(target)")
            }
        }
        XCTAssertThrowsError(try book.create(title: "  "))
        XCTAssertThrowsError(try book.addTag("two words", to: Target(.account, "a1")))
        XCTAssertThrowsError(try book.addNote(to: Target(.account, "a1"), "\n \n"))
        XCTAssertThrowsError(try Target(parsing: "planet:3"))
        // A title or tag with a terminal escape is refused saying so, not for its length.
        XCTAssertThrowsError(try book.create(title: "Proxy farm \u{1B}[31m")) { error in
            XCTAssertEqual("\(error)", "a case title must be one line without control characters (it has U+001B)")
        }
        XCTAssertThrowsError(try book.create(title: String(repeating: "x", count: 201))) { error in
            XCTAssertEqual("\(error)", "a case title must be one line of at most 200 characters (this one has 201)")
        }
        XCTAssertEqual(try Target(parsing: "7"), Target(.case, "7"))
        XCTAssertEqual(try Target(parsing: "account:a:b"), Target(.account, "a:b"))
    }

    func testTheLogAndNoteVersionsRefuseUpdateAndDelete() throws {
        let book = try book()
        _ = try book.addNote(to: Target(.account, "a1"), "kept")
        let db = try database()
        for sql in ["UPDATE audit_log SET actor = 'mallory'", "DELETE FROM audit_log", "UPDATE note_versions SET body = 'x'",
                    "DELETE FROM note_versions"] {
            XCTAssertThrowsError(try db.execute(sql), sql)
        }
    }

    // MARK: - Tampering through plain SQL, with the triggers dropped

    private func tamper(_ sql: String) throws {
        let db = try Database(path: path, mode: .readWrite)
        try db.execute("""
            DROP TRIGGER audit_log_is_append_only_update; DROP TRIGGER audit_log_is_append_only_delete;
            DROP TRIGGER note_versions_are_kept_update; DROP TRIGGER note_versions_are_kept_delete;
            """)
        try db.execute(sql)
    }

    private func populate() throws {
        let book = try book()
        let id = try book.create(title: "Case")
        _ = try book.addNote(to: Target(.case, String(id)), "original text")
        try book.setStatus(id, .confirmed)
        try book.addTag("reviewed", to: Target(.account, "a2"))
    }

    private func broken() throws -> (Int64, String)? {
        if case let .broken(seq, reason) = try AuditLog.verifyChain(try database()) { return (seq, reason) }
        return nil
    }

    func testAnEditedEntryIsNamed() throws {
        try populate()
        try tamper("UPDATE audit_log SET payload = replace(payload, 'original', 'forged') WHERE seq = 3")
        XCTAssertEqual(try broken()?.0, 3)
        XCTAssertTrue(try broken()!.1.contains("altered"))
    }

    func testADeletedEntryIsNamed() throws {
        try populate()
        try tamper("DELETE FROM audit_log WHERE seq = 3")
        XCTAssertEqual(try broken()?.0, 3)
        XCTAssertTrue(try broken()!.1.contains("missing"))
        XCTAssertTrue(try AnnotationCheck.mismatches(try database()).contains { $0.contains("note 1 version 1 has no audit entry") })
    }

    func testReorderedEntriesAreNamed() throws {
        try populate()
        try tamper("""
            UPDATE audit_log SET seq = 100 WHERE seq = 3; UPDATE audit_log SET seq = 3 WHERE seq = 4;
            UPDATE audit_log SET seq = 4 WHERE seq = 100;
            """)
        XCTAssertEqual(try broken()?.0, 3)
        XCTAssertTrue(try broken()!.1.contains("does not chain"))
    }

    func testAnnotationsChangedBehindTheLogAreNamed() throws {
        try populate()
        try tamper("""
            UPDATE note_versions SET body = 'forged text';
            UPDATE cases SET status = 'dismissed', assignee = 'mallory';
            DELETE FROM tags;
            """)
        guard case .intact = try AuditLog.verifyChain(try database()) else { return XCTFail("the chain itself is untouched") }
        let mismatches = try AnnotationCheck.mismatches(try database())
        XCTAssertEqual(mismatches.count, 8, "\(mismatches)")
        XCTAssertEqual(mismatches.prefix(4).filter { $0.contains("was dropped") }.count, 4, "\(mismatches)")
        XCTAssertTrue(mismatches[4].contains("note 1 version 1 differs from what audit entry 3 recorded"), mismatches[4])
        XCTAssertTrue(mismatches[5].contains("case 1 has a status other than audit entry 4 set"), mismatches[5])
        XCTAssertTrue(mismatches[6].contains("case 1 has an assignee no audit entry set"), mismatches[6])
        XCTAssertTrue(mismatches[7].contains("tag reviewed on account:a2 was added by audit entry 5"), mismatches[7])
    }

    func testEveryIngestIsRecordedWithItsDigest() throws {
        let entry = try AuditLog.entries(try database()).first!
        XCTAssertEqual(entry.action, "ingest.file")
        XCTAssertEqual(entry.target, "file:1")
        let payload = try JSONSerialization.jsonObject(with: Data(entry.payload.utf8)) as! [String: Any]
        XCTAssertEqual(payload["sha256"] as? String, try FileDigestProbe.sha256(directory + "/exchanges.jsonl"))
        XCTAssertEqual(payload["records_loaded"] as? Int, 2)
        XCTAssertEqual(entry.previousHash, AuditLog.genesis)
    }
}

/// sha256sum, to check the recorded digest with a tool other than casebook.
enum FileDigestProbe {
    static func sha256(_ path: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        process.arguments = [path]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(String(decoding: data, as: UTF8.self).prefix(64))
    }
}
