import CasebookGenerate
import CasebookIngest
import CasebookStore
import Foundation
import XCTest

final class CampaignWriterTests: XCTestCase {
    var directory: String!

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "casebook-generate-\(UUID().uuidString)"
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: directory) }

    private func spec(seed: UInt64, faults: Bool = false) -> CampaignSpec {
        var spec = CampaignSpec(benignAccounts: 1_600, fraudAccounts: 400, exchanges: 20_000)
        spec.seed = seed
        spec.faults = faults
        spec.shardSize = 8_000
        return spec
    }

    private func contents(_ report: GenerationReport) throws -> [Data] {
        try (report.files + [report.groundTruthFile]).map { try Data(contentsOf: URL(fileURLWithPath: $0)) }
    }

    func testTheSameSeedWritesTheSameCampaignAndAnotherSeedDoesNot() throws {
        let first = try CampaignWriter.write(spec(seed: 11), to: directory + "/a")
        let again = try CampaignWriter.write(spec(seed: 11), to: directory + "/b")
        let other = try CampaignWriter.write(spec(seed: 12), to: directory + "/c")
        XCTAssertEqual(first.files.map { ($0 as NSString).lastPathComponent }, ["ips.csv", "accounts.csv", "payments.csv",
                       "exchanges-000.jsonl.gz", "exchanges-001.jsonl.gz", "exchanges-002.jsonl.gz"])
        XCTAssertTrue(try contents(first) == contents(again))
        XCTAssertFalse(try contents(first) == contents(other))
        XCTAssertEqual(first.accounts, 2_000)
        XCTAssertEqual(first.fraudAccounts, 400)
        XCTAssertEqual(Double(first.exchanges), 20_000, accuracy: 1_000)
    }

    /// Loads a generated campaign and its ground truth into one case file.
    private func loadCampaign(seed: UInt64, faults: Bool = false) throws -> (Database, IngestSummary) {
        let report = try CampaignWriter.write(spec(seed: seed, faults: faults), to: directory + "/in")
        let database = directory + "/case.db"
        let summary = try Ingest(databasePath: database).run(IngestPlan(paths: [directory + "/in"], kind: nil, format: nil).files)
        let db = try CaseFile.open(database, access: .write)
        try db.execute("CREATE TEMP TABLE truth (account_id TEXT PRIMARY KEY, label TEXT, operator_id TEXT, operator_type TEXT)")
        let insert = try db.prepare("INSERT INTO truth VALUES (?1, ?2, ?3, ?4)")
        let lines = try String(contentsOfFile: report.groundTruthFile, encoding: .utf8).split(separator: "\n").dropFirst()
        for line in lines {
            let cells = line.split(separator: ",").map(String.init)
            try insert.run([cells[0], cells[1], cells[2], cells[3]])
        }
        return (db, summary)
    }

    func testACampaignWithoutFaultsLoadsWithoutRejects() throws {
        let seed: UInt64 = 3
        let (db, summary) = try loadCampaign(seed: seed)
        XCTAssertEqual(summary.exitStatus, 0)
        XCTAssertEqual(summary.total().rejected, 0, "a campaign without --faults follows the contract to the letter")
        XCTAssertEqual(try db.scalarInt("SELECT count(*) FROM accounts WHERE referenced_only"), 0)
        XCTAssertEqual(try db.scalarInt("SELECT count(*) FROM accounts a LEFT JOIN truth t USING (account_id) WHERE t.label IS NULL"), 0)
    }

    func testEveryOperatorTypeAndEveryBenignTrapIsPlanted() throws {
        let (db, _) = try loadCampaign(seed: 4)
        let types = try db.prepare("SELECT DISTINCT operator_type FROM truth ORDER BY 1").rows { $0.string(0)! }
        XCTAssertEqual(types, ["card_farm", "company", "eval_company", "household", "hydra", "individual", "public_template_user",
                               "small_ring", "subnet_rotation", "template_only", "university_student"])

        // Card farms share a few cards across many accounts.
        XCTAssertEqual(try db.scalarInt("""
            SELECT min(accounts_per_card) >= 5 FROM (
              SELECT t.operator_id, count(DISTINCT p.account_id) * 1.0 / count(DISTINCT p.fingerprint) AS accounts_per_card
              FROM payments p JOIN truth t USING (account_id) WHERE t.operator_type = 'card_farm' GROUP BY t.operator_id)
            """), 1)
        // Hydra and template-only accounts each have a card of their own.
        XCTAssertEqual(try db.scalarInt("""
            SELECT count(*) FROM (SELECT fingerprint FROM payments p JOIN truth t USING (account_id)
              WHERE t.operator_type IN ('hydra', 'template_only') GROUP BY fingerprint HAVING count(*) > 1)
            """), 0)
        // Hydras use hosting addresses; template-only operators hide in the residential proxy pool.
        XCTAssertEqual(try db.scalarInt("""
            SELECT count(*) FROM exchanges e JOIN truth t USING (account_id) JOIN ips i ON i.ip = e.ip
            WHERE t.operator_type = 'hydra' AND i.kind <> 'hosting'
            """), 0)
        // Traps: one VPN exit and one carrier NAT address each serve many unrelated people.
        for kind in ["vpn", "mobile", "education"] {
            let shared = try db.scalarInt("""
                SELECT max(n) FROM (SELECT count(DISTINCT t.operator_id) AS n FROM exchanges e JOIN ips i ON i.ip = e.ip
                  JOIN truth t USING (account_id) WHERE i.kind = '\(kind)' GROUP BY e.ip)
                """) ?? 0
            XCTAssertGreaterThan(shared, 10, kind)
        }
        // The proxy pool is shared by fraud operators and ordinary homes alike.
        XCTAssertEqual(try db.scalarInt("""
            SELECT count(*) > 0 FROM (SELECT e.ip FROM exchanges e JOIN truth t USING (account_id) GROUP BY e.ip
              HAVING sum(t.operator_type = 'template_only') > 0 AND sum(t.label = 'benign') > 0)
            """), 1)
        // A company's accounts share one corporate card.
        XCTAssertEqual(try db.scalarInt("""
            SELECT min(cards) FROM (SELECT count(DISTINCT p.fingerprint) AS cards FROM payments p JOIN truth t USING (account_id)
              WHERE t.operator_type = 'company' GROUP BY t.operator_id)
            """), 1)
        // Fraud prompts coerce reasoning, and so do evaluation companies' (benign, on purpose); ordinary
        // people's do not, but for those who paste a public template now and then.
        let coercive = "(prompt LIKE '%step by step%' OR prompt LIKE '%reasoning%' OR prompt LIKE '%each step%')"
        XCTAssertEqual(try db.scalarInt("SELECT avg(\(coercive)) > 0.95 FROM exchanges JOIN truth USING (account_id) WHERE label = 'fraud'"), 1)
        XCTAssertEqual(try db.scalarInt("SELECT avg(\(coercive)) > 0.95 FROM exchanges JOIN truth USING (account_id) WHERE operator_type = 'eval_company'"), 1)
        XCTAssertEqual(try db.scalarInt("""
            SELECT avg(\(coercive)) < 0.02 FROM exchanges JOIN truth USING (account_id)
            WHERE label = 'benign' AND operator_type NOT IN ('eval_company', 'public_template_user')
            """), 1)
        XCTAssertEqual(try db.scalarInt("SELECT avg(\(coercive)) BETWEEN 0.3 AND 0.95 FROM exchanges JOIN truth USING (account_id) WHERE operator_type = 'public_template_user'"), 1)
        // A banned hydra account is succeeded within hours on the same address; a subnet-rotation
        // operator gives each account its own address in one /24.
        XCTAssertEqual(try db.scalarInt("""
            SELECT count(*) > 0 FROM accounts a JOIN truth t USING (account_id) WHERE t.operator_type = 'hydra' AND a.status = 'banned'
            """), 1)
        XCTAssertEqual(try db.scalarInt("""
            SELECT max(n) = 1 FROM (SELECT count(DISTINCT e.account_id) AS n FROM exchanges e JOIN truth t USING (account_id)
              WHERE t.operator_type = 'subnet_rotation' GROUP BY e.ip)
            """), 1)
    }

    func testFaultsExerciseTheRejectLog() throws {
        let (db, summary) = try loadCampaign(seed: 5, faults: true)
        let reasons = Set(try db.prepare("SELECT DISTINCT reason FROM rejects").rows { $0.string(0)! })
        XCTAssertEqual(reasons, ["missing_field", "bad_timestamp", "bad_json", "bad_ip", "conflict", "card_number", "bad_integer"])
        XCTAssertGreaterThan(summary.total(.exchanges).duplicate, 0)
    }
}
