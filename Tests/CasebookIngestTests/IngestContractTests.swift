import CasebookIngest
import CasebookIO
import CasebookStore
import Foundation
import XCTest

/// The input contract's rules, one by one, through the real ingest.
final class IngestContractTests: XCTestCase {
    func testEveryBadRecordIsRejectedWithItsReasonAndNothingIsLost() throws {
        let f = try Fixture()
        try f.write("exchanges.jsonl", """
            {"exchange_id":"e1","account_id":"a1","ts":"2026-01-15T08:30:00Z"}
            {"exchange_id":"e2","ts":"2026-01-15T08:30:00Z"}
            {"exchange_id":"e3","account_id":"a1","ts":"soon"}
            {"exchange_id":"e4","account_id":"a1","ts":1768465800,"ip":"300.1.1.1"}
            {"exchange_id":"e5","account_id":"a1","ts":1768465800,"input_tokens":"12k"}
            {"exchange_id":"e6","account_id":"a1","ts":1768465800,"model":{"name":"x"}}
            {"exchange_id":"e7","account_id":"a1","ts":1768465800
            {"exchange_id":"e8","account_id":"a1","ts":1768465800,"ts":1768465801}
            [1,2,3]

            {"exchange_id":"e9","account_id":"a1","ts":1768465800,"status":null}

            """)
        var bytes = Array(#"{"exchange_id":"e10","account_id":"a1","ts":1768465800,"prompt":"bad "#.utf8)
        bytes += [0xFF, 0xFE]
        bytes += Array("\"}\n".utf8)
        try f.write("exchanges-bytes.jsonl", bytes: bytes)

        let summary = try f.ingest()
        XCTAssertEqual(summary.exitStatus, 0, "rejects are reported, not fatal")
        // exchanges-bytes.jsonl sorts before exchanges.jsonl in the directory.
        XCTAssertEqual(try f.rejects(), ["1 bad_utf8", "2 missing_field", "3 bad_timestamp", "4 bad_ip", "5 bad_integer",
                                         "6 wrong_type", "7 bad_json", "8 bad_json", "9 bad_json"])
        XCTAssertEqual(try f.strings("SELECT exchange_id FROM exchanges ORDER BY exchange_id"), ["e1", "e9"])
        let total = summary.total()
        XCTAssertEqual(total.read, 11, "blank lines are not records")
        XCTAssertEqual(total.loaded + total.duplicate + total.rejected, total.read, "every record is accounted for")
        XCTAssertEqual(total.rejectedByReason["bad_json"], 3)
        // Invalid UTF-8 is kept byte for byte, as a BLOB.
        XCTAssertEqual(try f.strings("SELECT typeof(raw) FROM rejects WHERE reason = 'bad_utf8'"), ["blob"])
        XCTAssertEqual(try f.int("SELECT length(raw) FROM rejects WHERE reason = 'bad_utf8'"), bytes.count - 1)
        // A reject names file and line.
        XCTAssertEqual(try f.strings("SELECT f.path || ':' || line FROM rejects JOIN source_files f ON f.file_id = source_file_id WHERE reason = 'bad_ip'")
            .first?.hasSuffix("/in/exchanges.jsonl:4"), true)
    }

    func testValuesAreStoredByTheirContractTypes() throws {
        let f = try Fixture()
        try f.write("accounts.csv", """
            account_id,created_at,email,signup_ip,status
            a1,2026-01-15T09:30:00.250+01:00,a@example.com,::ffff:10.0.0.1,active
            a2,1768465800.5,,2001:DB8::1,

            """)
        try f.write("ips.jsonl", #"{"ip":"10.0.0.1","asn":"64500","kind":"hosting","rir":"RIPE"}"# + "\n")
        try f.ingest()
        XCTAssertEqual(try f.strings("SELECT account_id || ' ' || created_at || ' ' || created_at_ms || ' ' || coalesce(signup_ip, '-') || ' ' || coalesce(email, '-') FROM accounts ORDER BY account_id"),
                       ["a1 2026-01-15T08:30:00.250Z 1768465800250 10.0.0.1 a@example.com",
                        "a2 2026-01-15T08:30:00.500Z 1768465800500 2001:db8::1 -"])
        XCTAssertEqual(try f.strings("SELECT ip || ' ' || asn || ' ' || kind || ' ' || extra FROM ips"), [#"10.0.0.1 64500 hosting {"rir":"RIPE"}"#])
        XCTAssertEqual(try f.strings("SELECT typeof(asn) FROM ips"), ["integer"])
    }

    func testUnknownFieldsAreKeptInExtra() throws {
        let f = try Fixture()
        try f.write("exchanges.jsonl", #"{"exchange_id":"e1","account_id":"a1","ts":1,"region":"eu","tags":["x",{"y":null}],"n":1.5e3,"ok":true,"gone":null}"# + "\n")
        try f.write("payments.csv", "account_id,fingerprint,Note,bin\na1,fp1,\"said \"\"hi\"\"\",411111\n")
        try f.ingest()
        XCTAssertEqual(try f.strings("SELECT extra FROM exchanges"), [#"{"region":"eu","tags":["x",{"y":null}],"n":1.5e3,"ok":true}"#])
        XCTAssertEqual(try f.strings("SELECT extra FROM payments"), [#"{"Note":"said \"hi\""}"#])
        XCTAssertEqual(try f.strings("SELECT json_extract(extra, '$.tags[1].y') IS NULL AND json_valid(extra) FROM exchanges"), ["1"])
    }

    func testTextIsStoredByteExact() throws {
        let f = try Fixture()
        let prompt = "line one\nline \"two\"\r\n\ttab, comma; emoji 😀👩‍👩‍👧 RTL: مرحبا بالعالم עברית \u{0007} and a backslash \\ end"
        let escaped = String(decoding: try JSONSerialization.data(withJSONObject: ["p": prompt]), as: UTF8.self)
            .replacingOccurrences(of: #"{"p":"#, with: "").dropLast()
        try f.write("exchanges.jsonl", #"{"exchange_id":"j1","account_id":"a","ts":1,"prompt":\#(escaped),"response":"\ud83d\ude00 \u00e9"}"# + "\n")
        let csvCell = "\"" + prompt.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        try f.write("exchanges-2.csv", "exchange_id,account_id,ts,prompt\nc1,a,1,\(csvCell)\n")
        try f.ingest()
        XCTAssertEqual(try f.strings("SELECT prompt FROM exchanges ORDER BY exchange_id"), [prompt, prompt])
        XCTAssertEqual(try f.strings("SELECT response FROM exchanges WHERE exchange_id = 'j1'"), ["😀 é"])
    }

    func testAMultiMegabytePromptIsStoredWholeAndAnOversizedOneIsRejectedNotTruncated() throws {
        let f = try Fixture()
        let big = String(repeating: "0123456789abcdef", count: 3 << 16)  // 3 MiB
        try f.write("exchanges.jsonl", #"{"exchange_id":"big","account_id":"a","ts":1,"prompt":"\#(big)"}"# + "\n"
            + #"{"exchange_id":"huge","account_id":"a","ts":1,"prompt":"\#(big)\#(big)"}"# + "\n"
            + #"{"exchange_id":"after","account_id":"a","ts":1}"# + "\n")
        let summary = try f.ingest(maxRecordBytes: 4 << 20)
        XCTAssertEqual(summary.exitStatus, 0)
        XCTAssertEqual(try f.int("SELECT length(prompt) FROM exchanges WHERE exchange_id = 'big'"), big.utf8.count)
        XCTAssertEqual(try f.strings("SELECT exchange_id FROM exchanges ORDER BY exchange_id"), ["after", "big"])
        XCTAssertEqual(try f.rejects(), ["2 too_large"])
        XCTAssertEqual(try f.int("SELECT length(raw) FROM rejects"), 64 << 10, "raw keeps the start of an oversized record")
    }

    func testCSVQuotingMultiLineCellsBOMAndCRLF() throws {
        let f = try Fixture()
        let text = "\u{FEFF}exchange_id,account_id,ts,prompt\r\n"
            + "c1,a,1,\"first line\r\nsecond, with comma\nthird \"\"quoted\"\"\"\r\n"
            + "c2,a,2,plain\r\n"
            + "c3,a,3\r\n"
            + "c4,a,4,\"x\"y\r\n"
            + "c5,a,5,\"\"\r\n"
        try f.write("exchanges.csv", text)
        try f.ingest()
        XCTAssertEqual(try f.strings("SELECT exchange_id || '=' || coalesce(prompt, 'NULL') FROM exchanges ORDER BY exchange_id"),
                       ["c1=first line\r\nsecond, with comma\nthird \"quoted\"", "c2=plain", "c5=NULL"])
        // Line numbers are physical lines: c2 starts on line 5 because c1 spans three.
        XCTAssertEqual(try f.strings("SELECT exchange_id || '@' || source_line FROM exchanges ORDER BY exchange_id"), ["c1@2", "c2@5", "c5@8"])
        XCTAssertEqual(try f.rejects(), ["6 bad_csv", "7 bad_csv"])
        XCTAssertTrue(try f.strings("SELECT detail FROM rejects ORDER BY line").first!.contains("expected 4 columns"))
    }

    func testAccountsOnlyReferencedAreVisibleAsSuchUntilDescribed() throws {
        let f = try Fixture()
        let exchanges = try f.write("exchanges.jsonl", #"{"exchange_id":"e1","account_id":"ghost","ts":1}"# + "\n")
        let payments = try f.write("payments.csv", "account_id,fingerprint\nphantom,fp9\n")
        try f.ingest([exchanges, payments])
        XCTAssertEqual(try f.strings("SELECT account_id || ' ' || referenced_only FROM accounts ORDER BY account_id"), ["ghost 1", "phantom 1"])
        let accounts = try f.write("accounts.csv", "account_id,created_at\nghost,2026-01-01T00:00:00Z\n")
        try f.ingest([accounts])
        XCTAssertEqual(try f.strings("SELECT account_id || ' ' || referenced_only || ' ' || coalesce(created_at, '-') FROM accounts ORDER BY account_id"),
                       ["ghost 0 2026-01-01T00:00:00.000Z", "phantom 1 -"])
        XCTAssertEqual(try f.strings("SELECT account_id FROM exchanges"), ["ghost"])
    }

    func testReingestingChangesNothingAndTheSameContentUnderAnotherNameIsRecognised() throws {
        let f = try Fixture()
        let content = #"{"exchange_id":"e1","account_id":"a","ts":1}"# + "\n" + #"{"exchange_id":"e2","account_id":"a","ts":2}"# + "\n"
        let first = try f.write("exchanges-1.jsonl", content)
        try f.ingest([first])
        let before = try snapshot(f)
        let again = try f.ingest([first])
        guard case let .alreadyIngested(path, _) = again.files[0].outcome else { return XCTFail("\(again.files[0].outcome)") }
        XCTAssertTrue(path.hasSuffix("exchanges-1.jsonl"))
        let renamed = try f.write("exchanges-copy.jsonl", content)
        let copy = try f.ingest([renamed])
        guard case .alreadyIngested = copy.files[0].outcome else { return XCTFail("\(copy.files[0].outcome)") }
        XCTAssertEqual(try snapshot(f), before)
        // The same records inside a different file are identical duplicates: counted, not loaded twice.
        let overlapping = try f.write("exchanges-2.jsonl", content + #"{"exchange_id":"e3","account_id":"a","ts":3}"# + "\n")
        let third = try f.ingest([overlapping])
        XCTAssertEqual(third.total().duplicate, 2)
        XCTAssertEqual(third.total().loaded, 1)
        XCTAssertEqual(try f.int("SELECT count(*) FROM exchanges"), 3)
        XCTAssertEqual(try f.int("SELECT count(*) FROM rejects"), 0)
    }

    func testCSVAndJSONVersionsOfTheSameRecordAreDuplicatesNotConflicts() throws {
        let f = try Fixture()
        try f.write("exchanges.jsonl", #"{"exchange_id":"e1","account_id":"a","ts":"2026-01-15T08:30:00Z","ip":"::ffff:1.2.3.4","status":200}"# + "\n")
        try f.write("exchanges.csv", "exchange_id,account_id,ts,ip,status\ne1,a,1768465800,1.2.3.4,200\n")
        let summary = try f.ingest()
        XCTAssertEqual(summary.total().duplicate, 1)
        XCTAssertEqual(try f.int("SELECT count(*) FROM rejects"), 0)
    }

    func testAConflictIsRejectedNamingBothSourcesAndTheFirstVersionIsKept() throws {
        let f = try Fixture()
        let first = try f.write("exchanges-a.jsonl", #"{"exchange_id":"e1","account_id":"a","ts":1,"prompt":"original"}"# + "\n")
        let second = try f.write("exchanges-b.jsonl", "\n" + #"{"exchange_id":"e1","account_id":"a","ts":1,"prompt":"changed"}"# + "\n")
        try f.ingest([first, second])
        XCTAssertEqual(try f.strings("SELECT prompt FROM exchanges"), ["original"])
        XCTAssertEqual(try f.rejects(), ["2 conflict"])
        let detail = try f.strings("SELECT detail FROM rejects").first!
        XCTAssertTrue(detail.contains("exchanges-a.jsonl line 1"), detail)
        XCTAssertEqual(try f.strings("SELECT f.path FROM rejects r JOIN source_files f ON f.file_id = r.conflict_file_id").first?.hasSuffix("exchanges-a.jsonl"), true)
        XCTAssertTrue(try f.strings("SELECT raw FROM rejects").first!.contains("changed"))

        // Conflicts hold for accounts, payments and ips too.
        try f.write("accounts.csv", "account_id,created_at,email\nx,1,one@example.com\nx,1,two@example.com\nx,1,one@example.com\n")
        try f.write("payments.csv", "account_id,fingerprint,last4\nx,fp,1234\nx,fp,9999\n")
        try f.write("ips.csv", "ip,asn\n1.2.3.4,1\n1.2.3.4,2\n")
        let summary = try f.ingest([f.directory + "/in/accounts.csv", f.directory + "/in/payments.csv", f.directory + "/in/ips.csv"])
        XCTAssertEqual(summary.total().rejectedByReason["conflict"], 3)
        XCTAssertEqual(summary.total().duplicate, 1)
        XCTAssertEqual(try f.strings("SELECT email FROM accounts WHERE account_id = 'x'"), ["one@example.com"])
    }

    /// Exchanges go in sixteen rows to a statement: repeats inside one such group, across two,
    /// in the rows left over at a batch's end and in a later file must come out as they would
    /// one row at a time: the first version kept, each repeat a duplicate or a conflict naming it.
    func testRepeatsInsideAGroupOfInsertedRowsComeOutAsOneAtATime() throws {
        let f = try Fixture()
        func line(_ id: Int, _ prompt: String = "same") -> String {
            #"{"exchange_id":"e\#(id)","account_id":"a\#(id % 3)","ts":\#(1_768_465_800 + id),"prompt":"\#(prompt)"}"#
        }
        // 40 lines: groups are lines 1-16 and 17-32, lines 33-40 go one by one.
        var first = (1...40).map { line($0) }
        first[2] = line(2)              // line 3 repeats line 2 as it is
        first[4] = line(1, "changed")   // line 5 changes line 1
        first[15] = line(5)             // line 16 is e5, whose first version is this line (line 5 was e1)
        first[17] = line(17, "changed") // line 18 changes line 17, in the second group
        first[37] = line(20)            // line 38, left over, repeats line 20 of the second group
        let a = try f.write("exchanges-a.jsonl", first.joined(separator: "\n") + "\n")
        var second = (41...60).map { line($0) }
        second[0] = line(1)             // repeats file a's line 1
        second[1] = line(4, "changed")  // changes file a's line 4
        second[2] = line(41)            // its own line 1 was replaced: e41 is new here
        let b = try f.write("exchanges-b.jsonl", second.joined(separator: "\n") + "\n")
        try f.ingest([a, b])

        XCTAssertEqual(try f.strings("""
            SELECT r.source_file_id || ':' || r.line || ' ' || r.reason || ' ' || r.conflict_file_id || ':' || r.conflict_line
            FROM rejects r ORDER BY r.source_file_id, r.line
            """), ["1:5 conflict 1:1", "1:18 conflict 1:17", "2:2 conflict 1:4"])
        XCTAssertEqual(try f.strings("""
            SELECT records_read || ' ' || records_loaded || ' ' || records_duplicate || ' ' || records_rejected
            FROM source_files ORDER BY file_id
            """), ["40 36 2 2", "20 18 1 1"])
        // Each id once, under the line that first gave it, with that line's text.
        XCTAssertEqual(try f.int("SELECT count(*) FROM exchange_rows"), 54)
        XCTAssertEqual(try f.int("SELECT count(DISTINCT exchange_id) FROM exchange_rows"), 54)
        XCTAssertEqual(try f.int("SELECT count(*) FROM exchange_rows WHERE prompt = 'changed'"), 0)
        XCTAssertEqual(try f.strings("""
            SELECT exchange_id || ' ' || source_file_id || ':' || source_line FROM exchange_rows
            WHERE exchange_id IN ('e1', 'e2', 'e5', 'e17', 'e20', 'e41') ORDER BY exchange_pk
            """), ["e1 1:1", "e2 1:2", "e5 1:16", "e17 1:17", "e20 1:20", "e41 2:3"])
    }

    func testACardNumberAnywhereInAPaymentIsRejectedAndNeverStored() throws {
        let f = try Fixture()
        let pan = "4539148803436467"
        try f.write("payments.csv", """
            account_id,fingerprint,last4,memo
            a1,fp1,6467,ok
            a2,fp2,6467,customer typed 4539 1488 0343 6467 into the form
            a3,fp-\(pan),6467,

            """)
        try f.write("payments.jsonl", #"{"account_id":"a4","fingerprint":"fp4","bin":"\#(pan)"}"# + "\n")
        let summary = try f.ingest()
        XCTAssertEqual(summary.total().rejectedByReason["card_number"], 3)
        XCTAssertEqual(try f.strings("SELECT account_id FROM payments"), ["a1"])
        XCTAssertTrue(try f.strings("SELECT raw FROM rejects").contains("a2,fp2,6467,customer typed **** **** **** 6467 into the form"))
        // Neither the database nor its log holds the number, in any spacing.
        for suffix in ["", "-wal"] {
            let path = f.databasePath + suffix
            guard let data = FileManager.default.contents(atPath: path) else { continue }
            XCTAssertNil(data.range(of: Data(pan.utf8)), "PAN found in \(path)")
            XCTAssertNil(data.range(of: Data("4539 1488 0343 6467".utf8)), "spaced PAN found in \(path)")
        }
        let messages = summary.files.map { "\($0)" }.joined()
        XCTAssertFalse(messages.contains(pan))
    }

    func testGzipInputAndATruncatedGzipKeepsEverythingBeforeTheDamage() throws {
        let f = try Fixture()
        var lines = ""
        for i in 1...2000 { lines += #"{"exchange_id":"g\#(i)","account_id":"a","ts":\#(i),"prompt":"prompt number \#(i) with some text to compress"}"# + "\n" }
        let whole = try f.writeGzip("exchanges-whole.jsonl.gz", lines)
        let summary = try f.ingest([whole])
        XCTAssertEqual(summary.exitStatus, 0)
        XCTAssertEqual(try f.int("SELECT count(*) FROM exchanges"), 2000)

        let g = try Fixture()
        let data = try Data(contentsOf: URL(fileURLWithPath: whole))
        let cut = try g.write("exchanges-cut.jsonl.gz", bytes: Array(data.prefix(data.count * 2 / 3)))
        let damaged = try g.ingest([cut])
        XCTAssertEqual(damaged.exitStatus, 1)
        guard case let .damaged(reason) = damaged.files[0].outcome else { return XCTFail("\(damaged.files[0].outcome)") }
        XCTAssertTrue(reason.contains("gzip stream ends early"), reason)
        let loaded = try g.int("SELECT count(*) FROM exchanges")
        XCTAssertGreaterThan(loaded, 500)
        XCTAssertLessThan(loaded, 2000)
        // Loaded records are exactly the first ones, the partial one is in rejects, nothing after it.
        XCTAssertEqual(try g.int("SELECT max(source_line) FROM exchanges"), loaded)
        XCTAssertEqual(try g.rejects(), ["\(loaded + 1) truncated"])
        XCTAssertEqual(try g.strings("SELECT status || ': ' || damage FROM source_files").first?.hasPrefix("damaged: the gzip stream ends early"), true)
        // Running it again still reports the damage, and loads nothing twice.
        let again = try g.ingest([cut])
        XCTAssertEqual(again.exitStatus, 1)
        XCTAssertEqual(try g.int("SELECT count(*) FROM exchanges"), loaded)

        let h = try Fixture()
        var corrupt = Array(data)
        corrupt[corrupt.count / 2] ^= 0xFF
        corrupt[corrupt.count / 2 + 1] ^= 0xFF
        let bad = try h.write("exchanges-corrupt.jsonl.gz", bytes: corrupt)
        XCTAssertEqual(try h.ingest([bad]).exitStatus, 1)
    }

    func testACutOffLastLineIsDamageButAMissingFinalNewlineIsNot() throws {
        let f = try Fixture()
        let clean = try f.write("exchanges-a.jsonl", #"{"exchange_id":"a1","account_id":"a","ts":1}"#)
        let cut = try f.write("exchanges-b.jsonl", #"{"exchange_id":"b1","account_id":"a","ts":1}"# + "\n" + #"{"exchange_id":"b2","acc"#)
        let summary = try f.ingest([clean, cut])
        XCTAssertEqual(summary.files[0].outcome, .complete)
        guard case let .damaged(reason) = summary.files[1].outcome else { return XCTFail("\(summary.files[1].outcome)") }
        XCTAssertTrue(reason.contains("line 2"), reason)
        XCTAssertEqual(summary.exitStatus, 1)
        XCTAssertEqual(try f.strings("SELECT exchange_id FROM exchanges ORDER BY exchange_id"), ["a1", "b1"])
        XCTAssertEqual(try f.rejects(), ["2 truncated"])
    }

    func testAnUnterminatedQuotedCSVCellAtTheEndIsDamage() throws {
        let f = try Fixture()
        try f.write("exchanges.csv", "exchange_id,account_id,ts,prompt\nc1,a,1,ok\nc2,a,2,\"never closed\n")
        let summary = try f.ingest()
        XCTAssertEqual(summary.exitStatus, 1)
        XCTAssertEqual(try f.rejects(), ["3 truncated"])
    }

    func testAnUnreadableFileIsReportedAndTheOthersStillLoad() throws {
        let f = try Fixture()
        let good = try f.write("exchanges.jsonl", #"{"exchange_id":"e1","account_id":"a","ts":1}"# + "\n")
        let summary = try f.ingest([f.directory + "/in/exchanges-missing.jsonl", good])
        XCTAssertEqual(summary.exitStatus, 1)
        XCTAssertTrue(summary.files.contains { if case .unreadable = $0.outcome { return true }; return false })
        XCTAssertEqual(try f.int("SELECT count(*) FROM exchanges"), 1)
    }

    func testKindsAndFormatsFollowNamesUnlessOverridden() throws {
        let f = try Fixture()
        try f.write("exchanges-000.jsonl", "")
        try f.write("accounts.csv.gz", "")
        try f.write("notes.txt", "")
        try f.write("ground_truth.csv", "")
        let files = try IngestPlan(paths: [f.directory + "/in"], kind: nil, format: nil).files
        XCTAssertEqual(files.map { "\($0.kind.rawValue) \($0.format.rawValue) \($0.gzip)" }, ["accounts csv true", "exchanges jsonl false"])
        let odd = try f.write("dump.dat", #"{"exchange_id":"e1","account_id":"a","ts":1}"# + "\n")
        XCTAssertThrowsError(try IngestPlan(paths: [odd], kind: nil, format: nil).files)
        XCTAssertThrowsError(try IngestPlan(paths: ["-"], kind: .exchanges, format: nil).files)
        try f.ingest([odd], kind: .exchanges, format: .jsonl)
        XCTAssertEqual(try f.int("SELECT count(*) FROM exchanges"), 1)
    }

    func testProvenanceRecordsEachFileAndEachRowsLine() throws {
        let f = try Fixture()
        let path = try f.write("exchanges.jsonl", "\n" + #"{"exchange_id":"e1","account_id":"a","ts":1}"# + "\n")
        try f.ingest([path])
        let row = try f.database().prepare("""
            SELECT path, sha256, size_bytes, kind, format, compression, status, records_read, records_loaded, finished_at_ms >= started_at_ms
            FROM source_files
            """).rows { s in (0..<10).map { s.string(Int32($0)) ?? "NULL" } }.first!
        let expectedSHA = try FileDigest.sha256(path: path)
        XCTAssertEqual(Array(row[1...]), [expectedSHA, "46", "exchanges", "jsonl", "none", "complete", "1", "1", "1"])
        XCTAssertTrue(row[0].hasPrefix("/") && row[0].hasSuffix("/in/exchanges.jsonl"))
        XCTAssertEqual(try f.strings("SELECT source_file || ':' || source_line FROM exchanges").first?.hasSuffix("exchanges.jsonl:2"), true)
    }

    /// The facts of a case file, without run times.
    private func snapshot(_ f: Fixture) throws -> [String] {
        try f.strings("SELECT exchange_id || '|' || account_id || '|' || ts_ms || '|' || source_line FROM exchanges ORDER BY exchange_id")
            + f.strings("SELECT path || '|' || status || '|' || records_read || '|' || records_loaded FROM source_files ORDER BY file_id")
            + f.strings("SELECT line || reason FROM rejects ORDER BY reject_id")
    }
}
