import CasebookGenerate
import CasebookGraph
import CasebookIngest
import CasebookStore
import Foundation
import XCTest

/// A floor on linking quality for a small generated campaign with a fixed seed.
/// (bench/link measures the real targets on larger campaigns and several seeds.)
final class LinkQualityTests: XCTestCase {
    func testLinkingRecoversPlantedOperatorsWithoutMergingStrangers() throws {
        let directory = NSTemporaryDirectory() + "casebook-quality-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var spec = CampaignSpec(benignAccounts: 1_600, fraudAccounts: 400, exchanges: 40_000)
        spec.seed = 7
        let report = try CampaignWriter.write(spec, to: directory + "/in")
        let database = directory + "/case.db"
        _ = try Ingest(databasePath: database).run(IngestPlan(paths: [directory + "/in"], kind: nil, format: nil).files)
        _ = try LinkRun.run(databasePath: database)

        var truth: [String: (operator: String, fraud: Bool)] = [:]
        for line in try String(contentsOfFile: report.groundTruthFile, encoding: .utf8).split(separator: "\n").dropFirst() {
            let cells = line.split(separator: ",").map(String.init)
            truth[cells[0]] = (cells[2], cells[1] == "fraud")
        }
        let db = try CaseFile.open(database, access: .read)
        var clusters: [Int64: [String]] = [:]
        for (cluster, account) in try db.prepare("SELECT cluster_id, account_id FROM cluster_members").rows([], { ($0.int64(0), $0.string(1)!) }) {
            clusters[cluster, default: []].append(account)
        }
        func pairs(_ n: Int) -> Int { n * (n - 1) / 2 }
        var predicted = 0, correct = 0, benignInFraud = 0
        for members in clusters.values {
            predicted += pairs(members.count)
            var byOperator: [String: Int] = [:]
            for member in members { byOperator[truth[member]!.operator, default: 0] += 1 }
            correct += byOperator.values.reduce(0) { $0 + pairs($1) }
            let fraud = members.filter { truth[$0]!.fraud }.count
            if fraud * 2 > members.count { benignInFraud += members.count - fraud }
        }
        var operatorSizes: [String: Int] = [:]
        for (_, value) in truth { operatorSizes[value.operator, default: 0] += 1 }
        let truePairs = operatorSizes.values.reduce(0) { $0 + pairs($1) }
        let precision = Double(correct) / Double(max(predicted, 1))
        let recall = Double(correct) / Double(max(truePairs, 1))
        XCTAssertGreaterThanOrEqual(precision, 0.97, "pairwise precision")
        XCTAssertGreaterThanOrEqual(recall, 0.9, "pairwise recall")
        XCTAssertEqual(benignInFraud, 0, "benign accounts in fraud clusters")

        // Fraud-majority clusters rank above benign ones by risk.
        let risks = try db.prepare("SELECT cluster_id, risk_score FROM clusters").rows { ($0.int64(0), $0.double(1)) }
        let fraudRisks = risks.filter { clusters[$0.0]!.filter { truth[$0]!.fraud }.count * 2 > clusters[$0.0]!.count }.map(\.1)
        let benignRisks = risks.filter { clusters[$0.0]!.filter { truth[$0]!.fraud }.count * 2 <= clusters[$0.0]!.count }.map(\.1)
        XCTAssertFalse(fraudRisks.isEmpty)
        XCTAssertGreaterThan(fraudRisks.min()!, benignRisks.max() ?? 0)
    }

    /// An ingest stopped before its end leaves the account-and-time index unbuilt; link
    /// builds it and links exactly as on a finished load (the features read each account's
    /// exchanges in time order, which a plain table scan does not give).
    func testLinkAfterAnUnfinishedLoadLinksAsAfterAFinishedOne() throws {
        let directory = NSTemporaryDirectory() + "casebook-deferred-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var spec = CampaignSpec(benignAccounts: 300, fraudAccounts: 100, exchanges: 12_000)
        spec.seed = 19
        _ = try CampaignWriter.write(spec, to: directory + "/in")
        let finished = directory + "/finished.db", unfinished = directory + "/unfinished.db"
        _ = try Ingest(databasePath: finished).run(IngestPlan(paths: [directory + "/in"], kind: nil, format: nil).files)
        try FileManager.default.copyItem(atPath: finished, toPath: unfinished)
        do {
            let database = try CaseFile.open(unfinished, access: .write)
            let sql = try XCTUnwrap(database.prepare("SELECT sql FROM sqlite_master WHERE name = 'exchange_rows_by_account_ts'").rows { $0.string(0) }.first ?? nil)
            try database.prepare("INSERT INTO deferred_indexes (name, sql) VALUES ('exchange_rows_by_account_ts', ?1)").run([sql])
            try database.execute("DROP INDEX exchange_rows_by_account_ts")
        }
        _ = try LinkRun.run(databasePath: finished)
        _ = try LinkRun.run(databasePath: unfinished)
        func memberships(_ path: String) throws -> [String] {
            try CaseFile.open(path, access: .read).prepare("SELECT account_id || ':' || cluster_id FROM cluster_members ORDER BY account_id")
                .rows { $0.string(0) ?? "" }
        }
        XCTAssertEqual(try memberships(unfinished), try memberships(finished))
        let rebuilt = try CaseFile.open(unfinished, access: .read)
        XCTAssertEqual(try rebuilt.scalarInt("SELECT count(*) FROM deferred_indexes"), 0)
        XCTAssertEqual(try rebuilt.scalarInt("SELECT count(*) FROM sqlite_master WHERE name = 'exchange_rows_by_account_ts'"), 1)
    }

    /// Exports write placeholders where they know nothing: a BIN of 000000, a card of "N/A",
    /// a country of ZZ, a mailbox at example.com. Shared by every account the export knew nothing
    /// about, across operators and strangers, they are read as absent: the operators are linked
    /// as without them, and no stranger joins one.
    func testPlaceholdersInTheExportNeitherSplitOperatorsNorJoinStrangers() throws {
        let directory = NSTemporaryDirectory() + "casebook-placeholders-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var spec = CampaignSpec(benignAccounts: 1_000, fraudAccounts: 500, exchanges: 30_000)
        spec.seed = 7
        let report = try CampaignWriter.write(spec, to: directory + "/plain")
        try FileManager.default.copyItem(atPath: directory + "/plain", toPath: directory + "/scrubbed")
        // Every third row of payments and accounts loses what the export did not know.
        func scrub(_ name: String, _ columns: [String: String]) throws {
            let path = directory + "/scrubbed/" + name
            var lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            let header = lines[0].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            for index in stride(from: 1, to: lines.count, by: 3) where !lines[index].isEmpty && !lines[index].contains("\"") {
                var cells = lines[index].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
                for (column, value) in columns { cells[try XCTUnwrap(header.firstIndex(of: column))] = value }
                lines[index] = cells.joined(separator: ",")
            }
            try lines.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
        }
        try scrub("payments.csv", ["fingerprint": "N/A", "bin": "000000"])
        try scrub("accounts.csv", ["email": "unknown@example.com", "country": "ZZ", "signup_ip": "0.0.0.0"])

        var truth: [String: (operator: String, fraud: Bool)] = [:]
        for line in try String(contentsOfFile: report.groundTruthFile, encoding: .utf8).split(separator: "\n").dropFirst() {
            let cells = line.split(separator: ",").map(String.init)
            truth[cells[0]] = (cells[2], cells[1] == "fraud")
        }
        func link(_ folder: String) throws -> (recall: Double, strangersJoined: Int) {
            let database = directory + "/\(folder).db"
            _ = try Ingest(databasePath: database).run(IngestPlan(paths: [directory + "/" + folder], kind: nil, format: nil).files)
            _ = try LinkRun.run(databasePath: database)
            var clusters: [Int64: [String]] = [:]
            for (cluster, account) in try CaseFile.open(database, access: .read).prepare("SELECT cluster_id, account_id FROM cluster_members")
                .rows([], { ($0.int64(0), $0.string(1)!) }) {
                clusters[cluster, default: []].append(account)
            }
            func pairs(_ n: Int) -> Int { n * (n - 1) / 2 }
            var correct = 0, strangers = 0, operators: [String: Int] = [:]
            for value in truth.values where value.fraud { operators[value.operator, default: 0] += 1 }
            for members in clusters.values {
                var byOperator: [String: Int] = [:]
                for member in members where truth[member]!.fraud { byOperator[truth[member]!.operator, default: 0] += 1 }
                correct += byOperator.values.reduce(0) { $0 + pairs($1) }
                if !byOperator.isEmpty { strangers += members.filter { !truth[$0]!.fraud }.count }
            }
            return (Double(correct) / Double(operators.values.reduce(0) { $0 + pairs($1) }), strangers)
        }
        let plain = try link("plain"), scrubbed = try link("scrubbed")
        XCTAssertEqual(scrubbed.strangersJoined, 0)
        XCTAssertEqual(plain.strangersJoined, 0)
        // A third of the cards are gone, so some links go with them; what is left must not split.
        XCTAssertGreaterThanOrEqual(scrubbed.recall, plain.recall - 0.05, "recall \(scrubbed.recall) against \(plain.recall) without placeholders")
    }
}
