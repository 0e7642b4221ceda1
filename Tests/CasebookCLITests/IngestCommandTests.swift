import CasebookStore
import Foundation
import XCTest

final class IngestCommandTests: XCTestCase {
    var directory: String!

    override func setUpWithError() throws { directory = try temporaryDirectory("ingest") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: directory) }

    private func generate(_ name: String, accounts: Int, exchanges: Int, seed: Int = 5) throws -> String {
        let result = try Casebook.run(["generate", "--out", name, "--accounts", "\(accounts)", "--exchanges", "\(exchanges)",
                                       "--seed", "\(seed)", "--faults"], in: directory)
        XCTAssertEqual(result.status, 0, result.stderr)
        return directory + "/" + name
    }

    /// The facts of a case file, row by row (run times left out), for comparing two files.
    private func content(_ path: String) throws -> [String] {
        let database = try CaseFile.open(path, access: .read)
        var lines: [String] = []
        let queries = [
            "SELECT * FROM account_rows ORDER BY account_pk", "SELECT * FROM payment_rows ORDER BY payment_pk",
            "SELECT * FROM ip_rows ORDER BY ip_pk", "SELECT * FROM models ORDER BY model_pk",
            "SELECT * FROM user_agents ORDER BY user_agent_pk", "SELECT * FROM exchange_rows ORDER BY exchange_pk",
            "SELECT * FROM rejects ORDER BY reject_id", "SELECT * FROM deferred_indexes", "SELECT * FROM exchange_id_suspects",
            """
            SELECT file_id, path, sha256, size_bytes, kind, format, compression, status, records_read, records_loaded,
                   records_duplicate, records_rejected, resume_offset, resume_line, damage FROM source_files ORDER BY file_id
            """,
            "SELECT name, sql FROM sqlite_master ORDER BY name",
        ]
        for query in queries {
            let statement = try database.prepare(query)
            lines += try statement.rows { row in
                (0..<row.columnCount).map { row.string($0) ?? "NULL" }.joined(separator: "|")
            }
        }
        return lines
    }

    /// A file that gives no records (empty, a header alone, an empty gzip) is named in the
    /// summary, so that an export cut off before its first record is not taken for success.
    func testAFileWithoutRecordsIsNamedInTheSummary() throws {
        try Data().write(to: URL(fileURLWithPath: directory + "/accounts.csv"))
        try Data("exchange_id,account_id,ts\r\n".utf8).write(to: URL(fileURLWithPath: directory + "/exchanges.csv"))
        try Data("{\"ip\":\"10.0.0.1\"}\n".utf8).write(to: URL(fileURLWithPath: directory + "/ips.jsonl"))
        let result = try Casebook.run(["ingest", "--db", "c.db", "accounts.csv", "exchanges.csv", "ips.jsonl"], in: directory)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("accounts.csv: holds no records\n"), result.stdout)
        XCTAssertTrue(result.stdout.contains("exchanges.csv: holds no records\n"), result.stdout)
        XCTAssertFalse(result.stdout.contains("ips.jsonl: holds no records"), result.stdout)
    }

    /// A file read again under the name it was read by is "already ingested"; under another
    /// name (a copy, a link) the summary names the one it was read by.
    func testAFileAlreadyIngestedIsNamedAsItWasReadOnlyUnderAnotherName() throws {
        try Data("account_id,created_at\na1,2026-01-01T00:00:00Z\n".utf8).write(to: URL(fileURLWithPath: directory + "/accounts.csv"))
        try FileManager.default.copyItem(atPath: directory + "/accounts.csv", toPath: directory + "/accounts-copy.csv")
        XCTAssertEqual(try Casebook.run(["ingest", "--db", "c.db", "accounts.csv"], in: directory).status, 0)
        let again = try Casebook.run(["ingest", "--db", "c.db", "accounts.csv", "accounts-copy.csv"], in: directory)
        XCTAssertEqual(again.status, 0, again.stderr)
        let real = URL(fileURLWithPath: directory).resolvingSymlinksInPath().path
        XCTAssertTrue(again.stdout.contains("  accounts.csv: already ingested; skipped\n"), again.stdout)
        XCTAssertTrue(again.stdout.contains("  accounts-copy.csv: already ingested as \(real)/accounts.csv; skipped\n"), again.stdout)
    }

    func testKillNineAtAnyMomentThenResumingGivesTheSameCaseFile() throws {
        // More exchanges than one transaction of several batches holds (65,536 records), so
        // committed work shows mid-file even when the writer groups batches.
        try assertKillNineThenResumingGivesTheSameCaseFile(try generate("campaign", accounts: 300, exchanges: 100_000))
    }

    /// With ids in no order the exchange-id index is set aside once it outgrows a sixteenth of the
    /// cache (here after 8,192 exchanges, at the second batch) and the ids are checked at the end: a load killed
    /// before or after that must resume into the same state, repeats found as without the kill.
    func testKillNineWhileExchangeIdsAreUncheckedThenResumingGivesTheSameCaseFile() throws {
        try assertKillNineThenResumingGivesTheSameCaseFile(try writeScatteredExchanges(count: 100_000),
                                                           options: ["--cache-mib", "1"], idsChecked: true)
    }

    /// `count` exchanges with ids in no order, and every 500th line a repeat of an earlier
    /// id: alternately the same record and a changed one. Prompts of about 500 bytes, so an
    /// ingest takes long enough to be killed.
    private func writeScatteredExchanges(count: Int) throws -> String {
        let filler = String(repeating: "Explain step by step, showing all reasoning. ", count: 11)
        func id(_ i: Int) -> String { String(format: "%08x-%04d", UInt32(truncatingIfNeeded: i &* 2_654_435_761), i % 7919) }
        var text = ""
        for line in 1...count {
            let i = line % 500 == 0 ? line / 3 : line
            let prompt = (line % 1000 == 0 ? "changed" : "p\(i)") + filler
            text += #"{"exchange_id":"\#(id(i))","account_id":"a\#(i % 300)","ts":\#(1_768_465_800 + i),"prompt":"\#(prompt)"}"# + "\n"
        }
        let path = directory + "/exchanges-scattered.jsonl"
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    func testLinkWaitsForAnInterruptedCheckOfExchangeIds() throws {
        let input = try writeScatteredExchanges(count: 5_000)
        XCTAssertEqual(try Casebook.run(["ingest", "--db", "case.db", input], in: directory).status, 0)
        let database = try Database(path: directory + "/case.db", mode: .readWrite)
        func rows(_ sql: String) throws -> [String] { try database.prepare(sql).rows { $0.string(0) ?? "NULL" } }
        // Lines 1000, 2000, 4000, 5000 change an earlier record; 500, 2500, 3500 repeat one (1500, 3000
        // and 4500 name ids first seen there).
        XCTAssertEqual(try rows("SELECT reason || ' ' || count(*) FROM rejects GROUP BY reason"), ["conflict 4"])
        XCTAssertEqual(try rows("SELECT records_loaded || ' ' || records_duplicate FROM source_files"), ["4993 3"])
        // The state a load killed before its check leaves.
        try database.execute("""
            INSERT INTO deferred_indexes SELECT name, sql FROM sqlite_master WHERE name = 'exchange_rows_by_exchange_id';
            DROP INDEX exchange_rows_by_exchange_id;
            """)
        let refused = try Casebook.run(["link", "--db", "case.db"], in: directory)
        XCTAssertEqual(refused.status, 3, refused.stderr)
        XCTAssertTrue(refused.stderr.contains("was stopped before it checked its exchange ids"), refused.stderr)
        let resumed = try Casebook.run(["ingest", "--db", "case.db", input], in: directory)
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertEqual(try rows("SELECT count(*) FROM deferred_indexes"), ["0"])
        XCTAssertEqual(try Casebook.run(["link", "--db", "case.db"], in: directory).status, 0)
    }

    /// An exclusive load killed at any moment leaves its unfinished transaction in a journal: the
    /// next opener, a reader included, rolls it back, and resuming gives the same case file.
    func testKillNineDuringAnExclusiveIngestThenResumingGivesTheSameCaseFile() throws {
        try assertKillNineThenResumingGivesTheSameCaseFile(try generate("campaign", accounts: 300, exchanges: 100_000),
                                                           options: ["--exclusive"])
    }

    /// - Parameter options: with `--exclusive`, readers are locked out while the ingest runs, so the
    ///   kill points are sizes of the case file instead of committed records, and a reader opens
    ///   the killed file before the ingest resumes.
    private func assertKillNineThenResumingGivesTheSameCaseFile(_ input: String, options: [String] = [],
                                                                idsChecked: Bool = false) throws {
        let reference = try Casebook.run(["ingest", "--db", "reference.db", "--json", input] + options, in: directory)
        XCTAssertEqual(reference.status, 0, reference.stderr)
        XCTAssertEqual(reference.stdout.contains("exchange ids checked for repeats"), idsChecked)
        let expected = try content(directory + "/reference.db")
        XCTAssertGreaterThan(expected.count, 100_000)

        // Kill points: before anything is committed, then after growing amounts of committed work.
        let killAfterRecords = [-1, 1, 12_000, 30_000]
        let exclusive = options.contains("--exclusive")
        var killedWhileRunning = 0
        for threshold in killAfterRecords {
            let process = Casebook.process(["ingest", "--db", "killed.db", input] + options, directory: directory)
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            if threshold < 0 {
                usleep(30_000)
            } else if exclusive {
                // About 400 bytes of case file a record.
                while process.isRunning, fileSize(directory + "/killed.db") < threshold * 400 { usleep(2_000) }
            } else {
                while process.isRunning, try committedRecords(directory + "/killed.db") < threshold { usleep(2_000) }
            }
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                killedWhileRunning += 1
            }
            process.waitUntilExit()
            if exclusive && FileManager.default.fileExists(atPath: directory + "/killed.db") {
                let reader = try CaseFile.open(directory + "/killed.db", access: .read)
                XCTAssertEqual(try reader.prepare("PRAGMA integrity_check").rows { $0.string(0) }, ["ok"])
            }
        }
        XCTAssertGreaterThanOrEqual(killedWhileRunning, 3, "the ingest finished before it could be killed; use more data")
        let resumed = try Casebook.run(["ingest", "--db", "killed.db", input] + options, in: directory)
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        let actual = try content(directory + "/killed.db")
        XCTAssertEqual(actual.count, expected.count)
        XCTAssertTrue(actual == expected, "first difference: \(zip(actual, expected).first { $0 != $1 }.map { "\($0.0)\n!=\n\($0.1)" } ?? "lengths")")
        let check = try CaseFile.open(directory + "/killed.db", access: .read).prepare("PRAGMA integrity_check").rows { $0.string(0) }
        XCTAssertEqual(check, ["ok"])
        if exclusive { try assertGivenBack(directory + "/killed.db") }
    }

    /// A case file after an exclusive load: in WAL mode again, no journal beside it.
    private func assertGivenBack(_ path: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let database = try Database(path: path, mode: .readOnly)
        XCTAssertEqual(try database.prepare("PRAGMA journal_mode").rows { $0.string(0) }, ["wal"], file: file, line: line)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path + "-journal"), file: file, line: line)
    }

    func testAnExclusiveIngestLoadsWhatAnyIngestLoadsAndGivesTheFileBack() throws {
        let input = try generate("campaign", accounts: 200, exchanges: 20_000)
        for (name, options) in [("shared.db", [String]()), ("exclusive.db", ["--exclusive"])] {
            let result = try Casebook.run(["ingest", "--db", name, "--json", input] + options, in: directory)
            XCTAssertEqual(result.status, 0, result.stderr)
            XCTAssertEqual(result.stdout.contains("case file given back"), !options.isEmpty, result.stdout)
        }
        let shared = try content(directory + "/shared.db"), exclusive = try content(directory + "/exclusive.db")
        XCTAssertGreaterThan(shared.count, 20_000)
        XCTAssertTrue(shared == exclusive, "first difference: \(zip(shared, exclusive).first { $0 != $1 }.map { "\($0.0)\n!=\n\($0.1)" } ?? "lengths")")
        try assertGivenBack(directory + "/exclusive.db")
        // The next exclusive ingest into the same file adds to it and gives it back again.
        let again = try Casebook.run(["ingest", "--db", "exclusive.db", "--exclusive", "--kind", "exchanges", "--format", "jsonl", "-"],
                                     in: directory, stdin: Data(#"{"exchange_id":"late","account_id":"a1","ts":1}"#.utf8 + [10]))
        XCTAssertEqual(again.status, 0, again.stderr)
        try assertGivenBack(directory + "/exclusive.db")
    }

    func testAnExclusiveIngestLocksReadersOutAndIsRefusedWhileTheFileIsOpenElsewhere() throws {
        let input = try generate("campaign", accounts: 300, exchanges: 40_000)
        let small = try generate("small", accounts: 20, exchanges: 200, seed: 6)
        XCTAssertEqual(try Casebook.run(["ingest", "--db", "case.db", small], in: directory).status, 0)
        var reader: Database? = try Database(path: directory + "/case.db", mode: .readOnly)
        XCTAssertNotNil(try reader?.scalarInt("SELECT count(*) FROM exchange_rows"))
        let refused = try Casebook.run(["ingest", "--db", "case.db", "--exclusive", input], in: directory)
        XCTAssertEqual(refused.status, 3, refused.stderr)
        XCTAssertTrue(refused.stderr.contains("--exclusive needs the file alone"), refused.stderr)
        reader = nil

        let ingest = Casebook.process(["ingest", "--db", "case.db", "--exclusive", input], directory: directory)
        ingest.standardOutput = FileHandle.nullDevice
        try ingest.run()
        // A reader with no busy timeout is refused at once while the load runs.
        var lockedOut = false
        while ingest.isRunning && !lockedOut {
            do {
                _ = try Database(path: directory + "/case.db", mode: .readOnly).scalarInt("SELECT count(*) FROM exchange_rows")
                usleep(20_000)
            } catch let error as StoreError where error.isBusy {
                lockedOut = true
            }
        }
        ingest.waitUntilExit()
        XCTAssertEqual(ingest.terminationStatus, 0)
        XCTAssertTrue(lockedOut, "the exclusive ingest ended before a reader tried it")
        XCTAssertGreaterThan(try Database(path: directory + "/case.db", mode: .readOnly).scalarInt("SELECT count(*) FROM exchange_rows") ?? 0, 35_000)
        try assertGivenBack(directory + "/case.db")
    }

    private func fileSize(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path)[.size]) as? Int) ?? 0
    }

    private func committedRecords(_ path: String) throws -> Int {
        guard FileManager.default.fileExists(atPath: path),
              let database = try? CaseFile.open(path, access: .read) else { return 0 }
        return Int((try? database.scalarInt("SELECT coalesce(sum(records_read), 0) FROM source_files")) ?? 0)
    }

    func testExitStatusesAndTheJSONSummary() throws {
        let input = try generate("small", accounts: 100, exchanges: 3_000)
        let first = try Casebook.run(["ingest", "--db", "case.db", "--json", input], in: directory)
        XCTAssertEqual(first.status, 0, first.stderr)
        let summary = try JSONSerialization.jsonObject(with: Data(first.stdout.utf8)) as! [String: Any]
        let totals = summary["totals"] as! [String: Any]
        XCTAssertEqual(totals["read"] as? Int, (totals["loaded"] as! Int) + (totals["duplicate"] as! Int) + (totals["rejected"] as! Int))
        XCTAssertGreaterThan((totals["rejected_by_reason"] as! [String: Int])["card_number"] ?? 0, 0)
        let firstCard = try XCTUnwrap((totals["first_rejects"] as? [String: [String: Any]])?["card_number"])
        XCTAssertEqual(firstCard["file"] as? String, input + "/payments.csv")
        XCTAssertGreaterThan(firstCard["line"] as? Int ?? 0, 1)
        XCTAssertFalse((firstCard["detail"] as? String ?? "").isEmpty)
        XCTAssertEqual(summary["exit_status"] as? Int, 0)
        // No progress output when stderr is not a terminal: only the note on the ground truth
        // beside the generated inputs, a CSV file whose name says no record kind.
        XCTAssertEqual(first.stderr.split(separator: "\n").map(String.init),
                       ["casebook: note: skipped \(input)/ground_truth.csv: its name does not start with accounts, payments, ips or exchanges (ingest it by its path with --kind)"])

        let again = try Casebook.run(["ingest", "--db", "case.db", "--json", input], in: directory)
        let files = (try JSONSerialization.jsonObject(with: Data(again.stdout.utf8)) as! [String: Any])["files"] as! [[String: Any]]
        XCTAssertTrue(files.allSatisfy { $0["status"] as? String == "already_ingested" })

        try Data("{\"exchange_id\":\"x\",\"account_id\":\"a\",\"ts\":1}\n{\"exch".utf8).write(to: URL(fileURLWithPath: directory + "/exchanges-cut.jsonl"))
        XCTAssertEqual(try Casebook.run(["ingest", "--db", "case.db", "exchanges-cut.jsonl"], in: directory).status, 1)

        let usage = [["ingest"], ["ingest", "--db", "case.db", "notes.txt"], ["ingest", "--db", "case.db", "-"],
                     ["ingest", "--kind", "pizzas", "x.csv"], ["generate", "--out", "x", "--preset", "huge"], ["frobnicate"],
                     ["explain", "--db", "case.db", ""]]
        try Data().write(to: URL(fileURLWithPath: directory + "/notes.txt"))
        for arguments in usage {
            let result = try Casebook.run(arguments, in: directory)
            XCTAssertEqual(result.status, 2, "\(arguments): \(result.stderr)")
            XCTAssertFalse(result.stderr.isEmpty)
            XCTAssertFalse(result.stderr.contains("Fatal error"), result.stderr)
        }
        let unwritable = try Casebook.run(["ingest", "--db", directory + "/no/such/dir/case.db", input], in: directory)
        XCTAssertEqual(unwritable.status, 3)
        XCTAssertTrue(unwritable.stderr.contains("cannot create"), unwritable.stderr)
    }

    /// A CSV saved by Excel on Windows: the summary says which file is not UTF-8 and the option
    /// that reads it; `--encoding` takes the labels such files are described by.
    func testAFileInWindows1252IsNamedAndReadWithEncoding() throws {
        let bytes = Array("ip,as_org\n1.2.3.4,Telek".utf8) + [0xF6] + Array("m\n1.2.3.5,Tel\n".utf8)
        try Data(bytes).write(to: URL(fileURLWithPath: directory + "/ips.csv"))
        let first = try Casebook.run(["ingest", "--db", "case.db", "ips.csv"], in: directory)
        XCTAssertEqual(first.status, 0, first.stderr)
        XCTAssertTrue(first.stdout.contains("  bad_utf8                1\n      first: ips.csv:2: the record is not valid UTF-8"), first.stdout)
        XCTAssertTrue(first.stdout.contains("ips.csv: 1 record is not UTF-8; if the file was saved in Windows-1252, "
                                            + "as Excel on Windows saves CSV, ingest it again with --encoding windows-1252"), first.stdout)
        let again = try Casebook.run(["ingest", "--db", "case.db", "--encoding", "latin1", "ips.csv"], in: directory)
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertFalse(again.stdout.contains("not UTF-8"), again.stdout)
        let database = try CaseFile.open(directory + "/case.db", access: .read)
        XCTAssertEqual(try database.prepare("SELECT as_org FROM ips ORDER BY ip").rows { $0.string(0) ?? "" }, ["Teleköm", "Tel"])
        let unknown = try Casebook.run(["ingest", "--db", "case.db", "--encoding", "ebcdic", "ips.csv"], in: directory)
        XCTAssertEqual(unknown.status, 2)
        XCTAssertTrue(unknown.stderr.contains("'utf-8', 'windows-1252', 'utf-16le' or 'utf-16be'"), unknown.stderr)
    }

    func testStandardInputNeedsKindAndFormatAndIsRecordedWithItsDigest() throws {
        let lines = "{\"exchange_id\":\"s1\",\"account_id\":\"a\",\"ts\":1}\n{\"exchange_id\":\"s2\",\"account_id\":\"a\",\"ts\":2}\n"
        let result = try Casebook.run(["ingest", "--db", "case.db", "--kind", "exchanges", "--format", "jsonl", "-"],
                                      in: directory, stdin: Data(lines.utf8))
        XCTAssertEqual(result.status, 0, result.stderr)
        let database = try CaseFile.open(directory + "/case.db", access: .read)
        XCTAssertEqual(try database.scalarInt("SELECT count(*) FROM exchanges"), 2)
        let digest = try database.prepare("SELECT sha256, size_bytes, path FROM source_files").rows { "\($0.string(0) ?? "") \($0.int(1)) \($0.string(2) ?? "")" }
        XCTAssertEqual(digest.first?.hasSuffix(" \(lines.utf8.count) -"), true)
        XCTAssertEqual(digest.first?.count, 64 + 1 + String(lines.utf8.count).count + 2)
    }

    func testASecondWriterIsRefusedAndReadersAreNotBlocked() throws {
        let input = try generate("campaign", accounts: 300, exchanges: 30_000)
        let first = Casebook.process(["ingest", "--db", "case.db", input], directory: directory)
        first.standardOutput = FileHandle.nullDevice
        try first.run()
        while first.isRunning, try committedRecords(directory + "/case.db") < 1 { usleep(2_000) }
        XCTAssertTrue(first.isRunning, "the first ingest ended too soon to test against")
        let second = try Casebook.run(["ingest", "--db", "case.db", input], in: directory)
        XCTAssertEqual(second.status, 3)
        XCTAssertTrue(second.stderr.contains("being written by another casebook process"), second.stderr)
        // A reader with no busy timeout at all still reads while the ingest writes.
        var reads = 0
        while first.isRunning && reads < 50 {
            let reader = try Database(path: directory + "/case.db", mode: .readOnly)
            XCTAssertNotNil(try reader.scalarInt("SELECT count(*) FROM exchange_rows"))
            reads += 1
            usleep(5_000)
        }
        first.waitUntilExit()
        XCTAssertEqual(first.terminationStatus, 0)
        XCTAssertGreaterThan(reads, 0)
    }

    func testAFullDiskIsAClearErrorAndTheSameCommandResumes() throws {
        let input = try generate("campaign", accounts: 200, exchanges: 20_000)
        // A 6 MiB file-size limit stands in for a full disk: writes past it fail like ENOSPC.
        let full = try Casebook.run(["ingest", "--db", "case.db", input], in: directory, shell: "ulimit -f 6144")
        XCTAssertEqual(full.status, 3, full.stdout + full.stderr)
        XCTAssertTrue(full.stderr.contains("run the same command again to resume"), full.stderr)
        XCTAssertFalse(full.stderr.contains("Fatal error"))
        let check = try CaseFile.open(directory + "/case.db", access: .read).prepare("PRAGMA integrity_check").rows { $0.string(0) }
        XCTAssertEqual(check, ["ok"])
        let resumed = try Casebook.run(["ingest", "--db", "case.db", input], in: directory)
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        let reference = try Casebook.run(["ingest", "--db", "reference.db", input], in: directory)
        XCTAssertEqual(reference.status, 0)
        let count = { (path: String) in try CaseFile.open(path, access: .read).scalarInt("SELECT count(*) || '/' || (SELECT count(*) FROM rejects) FROM exchange_rows") }
        XCTAssertEqual(try count(directory + "/case.db"), try count(directory + "/reference.db"))
    }

    func testHelpAndVersion() throws {
        let version = try Casebook.run(["--version"], in: directory)
        XCTAssertEqual(version.status, 0)
        XCTAssertTrue(version.stdout.contains("casebook 0.1.0 (schema version \(Schema.currentVersion))"), version.stdout)
        for command in [[], ["ingest"], ["generate"], ["demo"]] {
            let help = try Casebook.run(command + ["--help"], in: directory)
            XCTAssertEqual(help.status, 0)
            XCTAssertTrue(help.stdout.contains("Example"), "\(command): \(help.stdout)")
        }
    }
}
