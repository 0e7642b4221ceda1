@testable import CasebookIngest
import CasebookStore
import Foundation
import XCTest

/// Exchange ids in no order (UUIDs) are checked for repeats at the end of a bulk load instead
/// of through the unique index at every insert; the outcome must be the one the index gives.
final class ExchangeIdOrderTests: XCTestCase {
    /// Two files whose ids ascend, or land anywhere, with repeats: identical, identical but
    /// written differently, and changed, inside a file and across files. The first file is
    /// three batches (8,192 records each), so the index may be set aside after the first. Each
    /// file ends with 13 new ids after its repeats, so the repeats are inside a group of 16 rows
    /// inserted by one statement, not among the rows left over at the end of a batch.
    /// - Returns: the three changed lines, as written.
    @discardableResult
    private func writeRepeats(_ f: Fixture, id: (Int) -> String) throws -> [String] {
        func line(_ i: Int, prompt: String? = nil) -> String {
            #"{"exchange_id":"\#(id(i))","account_id":"a\#(i % 50)","ts":\#(1_768_465_800 + i),"prompt":"\#(prompt ?? "p\(i)")"}"#
        }
        var first = (0..<20000).map { line($0) }
        first.append(line(10))
        first.append(#"{ "exchange_id" : "\#(id(20))", "account_id":"a20","ts":\#(1_768_465_820),"prompt":"changed" }"#)
        first.append(#"{"prompt":"p30","ts":\#(1_768_465_830),"account_id":"a30","exchange_id":"\#(id(30))"}"#)
        first += (30000..<30013).map { line($0) }
        try f.write("exchanges-1.jsonl", first.joined(separator: "\n") + "\n")
        var second = (20000..<22000).map { line($0) }
        second.append(line(100))
        second.append(line(200, prompt: "changed too"))
        second.append(line(21000, prompt: "changed in its own file"))
        second += (40000..<40013).map { line($0) }
        try f.write("exchanges-2.jsonl", second.joined(separator: "\n") + "\n")
        return [first[20001], second[2001], second[2002]]
    }

    private func outcome(_ f: Fixture) throws -> [String] {
        try f.strings("""
            SELECT path || ' ' || records_read || ' ' || records_loaded || ' ' || records_duplicate || ' ' || records_rejected
            FROM source_files ORDER BY file_id
            """).map { String($0.split(separator: "/").last!) }
            + f.strings("""
                SELECT r.source_file_id || ':' || r.line || ' ' || r.reason || ' ' || r.conflict_file_id || ':' || r.conflict_line
                    || ' ' || r.raw FROM rejects r ORDER BY r.source_file_id, r.line
                """)
            + f.strings("SELECT count(*) || ' ' || count(DISTINCT exchange_id) FROM exchange_rows")
            // The first version of each id is the one kept.
            + f.strings("SELECT 'changed versions loaded: ' || count(*) FROM exchange_rows WHERE prompt LIKE 'changed%'")
            // The chain of custody holds each file's final counts.
            + f.strings("""
                SELECT json_extract(payload, '$.records_loaded') || ' ' || json_extract(payload, '$.records_duplicate')
                    || ' ' || json_extract(payload, '$.records_rejected')
                FROM audit_log WHERE action = 'ingest.file' ORDER BY target
                """)
    }

    private func checked(_ summary: IngestSummary) -> Bool {
        summary.stages.contains { $0.name.hasPrefix("exchange ids checked") }
    }

    func testIdsInNoOrderAreCheckedAtTheEndWithTheOutcomeTheIndexGives() throws {
        func scatteredID(_ i: Int) -> String {
            var hasher = ContentHasher()
            hasher.add(field: 0, int: Int64(i))
            return String(format: "%016llx", UInt64(bitPattern: hasher.value))
        }
        // A 1 MiB cache keeps the index while it is under 64 KiB: about 2,000 entries of these ids,
        // so it is set aside at the second batch.
        let ascending = try Fixture()
        let ascendingChanges = try writeRepeats(ascending) { String(format: "ex-%013d", $0) }
        XCTAssertFalse(checked(try ascending.ingest(cacheMiB: 1)), "ascending ids keep their index")

        let scattered = try Fixture()
        let scatteredChanges = try writeRepeats(scattered, id: scatteredID)
        XCTAssertTrue(checked(try scattered.ingest(cacheMiB: 1)), "ids in no order set the index aside once it outgrows the cache")

        let fitting = try Fixture()
        let fittingChanges = try writeRepeats(fitting, id: scatteredID)
        XCTAssertFalse(checked(try fitting.ingest()), "an index that fits in the cache is kept")

        let expected = [
            "exchanges-1.jsonl 20016 20013 2 1", "exchanges-2.jsonl 2016 2013 1 2",
            "22026 22026", "changed versions loaded: 0", "20013 2 1", "2013 1 2",
        ]
        for (name, f, changes) in [("ascending", ascending, ascendingChanges), ("scattered", scattered, scatteredChanges),
                                   ("fitting", fitting, fittingChanges)] {
            let found = try outcome(f)
            XCTAssertEqual(found.filter { !$0.contains(" conflict ") }, expected, name)
            let conflicts = found.filter { $0.contains(" conflict ") }
            // Each conflict names the version kept and holds its line exactly as read.
            XCTAssertEqual(conflicts, zip(["1:20002 conflict 1:21", "2:2002 conflict 1:201", "2:2003 conflict 2:1001"], changes)
                .map { $0 + " " + $1 }, name)
            XCTAssertEqual(try f.strings("SELECT sql FROM sqlite_master WHERE name = 'exchange_rows_by_exchange_id'").first?
                .hasPrefix("CREATE UNIQUE INDEX"), true, name)
            XCTAssertEqual(try f.int("SELECT count(*) FROM exchange_id_suspects"), 0, name)
            XCTAssertEqual(try f.int("SELECT count(*) FROM deferred_indexes"), 0, name)
        }
    }

    func testAnotherIngestIntoAFilledCaseFileKeepsTheIndex() throws {
        let f = try Fixture()
        try f.write("exchanges-0.jsonl", #"{"exchange_id":"first","account_id":"a1","ts":1768465800}"# + "\n")
        try f.ingest()
        try writeRepeats(f) { i in String(format: "%08x", UInt32(truncatingIfNeeded: i &* 2_654_435_761)) }
        XCTAssertFalse(checked(try f.ingest(cacheMiB: 1)), "only a load that began on an empty table sets the index aside")
        XCTAssertEqual(try f.int("SELECT count(*) FROM exchange_rows"), 22027)
    }

    func testTheFilterNeverForgetsAnIdAndRarelyFlagsANewOne() {
        let filter = IdFilter()
        func add(_ id: String) -> Bool {
            var text = id
            return text.withUTF8 { filter.insert(UnsafeRawBufferPointer($0)) }
        }
        let count = 200_000
        var flaggedNew = 0
        for i in 0..<count where add(UUID().uuidString + "\(i)") { flaggedNew += 1 }
        XCTAssertLessThan(flaggedNew, 20, "new ids flagged as seen (about 1 in 100,000 expected at this size)")
        XCTAssertFalse(add("y"))
        XCTAssertTrue(add("y"), "an id added is always flagged afterwards")
    }
}
