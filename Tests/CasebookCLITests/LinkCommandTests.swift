import Foundation
import XCTest

final class LinkCommandTests: XCTestCase {
    var directory: String!

    override func setUpWithError() throws { directory = try temporaryDirectory("link") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: directory) }

    /// Writes `name` as JSON Lines, one object per line.
    private func write(_ name: String, _ records: [[String: Any]]) throws {
        let lines = try records.map { String(decoding: try JSONSerialization.data(withJSONObject: $0, options: [.sortedKeys]), as: UTF8.self) }
        try (lines.joined(separator: "\n") + "\n").write(toFile: directory + "/" + name, atomically: true, encoding: .utf8)
    }

    /// Twelve accounts of one operator, each on its own hosting address of one /24, on one client,
    /// signed up within hours, working around the clock; `strangers` people of other countries,
    /// clients, sign-up months and hours, at home.
    private func writeCampaign(strangers: Int) throws {
        let start = 1_767_571_200.0
        var accounts: [[String: Any]] = [], exchanges: [[String: Any]] = [], ips: [[String: Any]] = []
        for n in 0..<12 {
            let id = "op-\(n)", ip = "45.3.3.\(n + 10)"
            accounts.append(["account_id": id, "created_at": start + Double(n) * 600, "country": "KR", "email": "op\(n)@gmail.com"])
            ips.append(["ip": ip, "kind": "hosting"])
            for h in 0..<120 {
                exchanges.append(["exchange_id": "\(id)-\(h)", "account_id": id, "ts": start + 86_400 + Double(h) * 3_600 + Double(n) * 60,
                                  "ip": ip, "user_agent": "harvester/0.9", "input_tokens": 100, "output_tokens": 900])
            }
        }
        let countries = ["US", "GB", "DE", "FR", "BR"]
        for n in 0..<strangers {
            let id = "person-\(n)", ip = "74.1.\(n).9"
            accounts.append(["account_id": id, "created_at": start - Double(n + 1) * 40 * 86_400, "country": countries[n % 5],
                             "email": "p\(n)@gmail.com"])
            ips.append(["ip": ip, "kind": "residential"])
            for d in 0..<30 {
                exchanges.append(["exchange_id": "\(id)-\(d)", "account_id": id, "ts": start + Double(d) * 86_400 + Double(9 + n * 5) * 3_600,
                                  "ip": ip, "user_agent": "client-\(n)", "input_tokens": 100, "output_tokens": 300])
            }
        }
        try write("accounts.jsonl", accounts)
        try write("ips.jsonl", ips)
        try write("exchanges.jsonl", exchanges)
    }

    func testLinkNamesTheSharedValuesTheCaseFileHoldsNothingToCompareWith() throws {
        try writeCampaign(strangers: 0)
        XCTAssertEqual(try Casebook.run(["ingest", "--db", "alone.db", "--quiet", "."], in: directory).status, 0)
        let link = try Casebook.run(["link", "--db", "alone.db"], in: directory)
        XCTAssertEqual(link.status, 0, link.stderr)
        XCTAssertTrue(link.stdout.hasPrefix("Link run 1: 0 of 12 accounts in 0 clusters"), link.stdout)
        XCTAssertTrue(link.stderr.contains("nearly every account in the case file has one country and client, as one "
                                           + "operator's accounts alone would; 2 value(s) shared by more than a few accounts "
                                           + "were judged by the traits the file varies alone, and weighed nothing: "
                                           + "ip_net 45.3.3.0/24 (12 accounts), user_agent harvester/0.9 (12 accounts)."), link.stderr)
        XCTAssertTrue(link.stderr.contains("ingest these accounts together with the accounts around them"), link.stderr)
        let json = try Casebook.run(["link", "--db", "alone.db", "--json"], in: directory)
        let summary = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let values = try XCTUnwrap(summary["uncontrasted"] as? [[String: Any]])
        XCTAssertEqual(Set(values.compactMap { $0["signal"] as? String }), ["ip_net", "user_agent"])
        XCTAssertTrue(values.allSatisfy { $0["accounts"] as? Int == 12 })
        XCTAssertEqual(summary["uniform_traits"] as? [String], ["country", "client"])
        XCTAssertEqual(try Casebook.run(["link", "--db", "alone.db", "--quiet"], in: directory).stderr, "")
        // Kept with each run, for the TUI and a bundle's report.
        let kept = try Casebook.run(["sql", "--db", "alone.db", "--format", "csv",
                                     "SELECT run_id, caveats ->> '$.uniform_traits[1]', json_array_length(caveats -> '$.uncontrasted') FROM link_run_caveats"],
                                    in: directory)
        XCTAssertEqual(kept.stdout.split(whereSeparator: \.isNewline).dropFirst(), ["1,client,2", "2,client,2", "3,client,2"], kept.stdout + kept.stderr)

        // The same operator among five strangers: one cluster, and nothing to report.
        try writeCampaign(strangers: 5)
        XCTAssertEqual(try Casebook.run(["ingest", "--db", "among.db", "--quiet", "."], in: directory).status, 0)
        let among = try Casebook.run(["link", "--db", "among.db", "--json"], in: directory)
        let amongSummary = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(among.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(amongSummary["clusters"] as? Int, 1, among.stdout)
        XCTAssertEqual(amongSummary["clustered_accounts"] as? Int, 12, among.stdout)
        XCTAssertEqual((amongSummary["uncontrasted"] as? [Any])?.count, 0)
        XCTAssertEqual((amongSummary["uniform_traits"] as? [Any])?.count, 0)
        XCTAssertFalse(try Casebook.run(["link", "--db", "among.db"], in: directory).stderr.contains("weighed nothing"))
    }

    /// Three strangers whose payments the export wrote as "N/A" share no card: the value is
    /// read as absent, said so by link, and marked in explain.
    func testAPlaceholderSharedByStrangersLinksNothingAndIsNamed() throws {
        try writeCampaign(strangers: 5)
        try write("payments.jsonl", (0..<3).map { ["account_id": "person-\($0)", "fingerprint": "N/A", "bin": "000000"] })
        XCTAssertEqual(try Casebook.run(["ingest", "--db", "case.db", "--quiet", "."], in: directory).status, 0)
        let link = try Casebook.run(["link", "--db", "case.db"], in: directory)
        XCTAssertEqual(link.status, 0, link.stderr)
        XCTAssertTrue(link.stdout.hasPrefix("Link run 1: 12 of 17 accounts in 1 clusters"), link.stdout)
        XCTAssertTrue(link.stderr.contains("read as absent, as placeholders an export writes where it has no value: "
                                           + "bin \"000000\" (3 accounts), fingerprint \"N/A\" (3 accounts)"), link.stderr)
        let json = try Casebook.run(["link", "--db", "case.db", "--json"], in: directory)
        let summary = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let uses = try XCTUnwrap(summary["placeholders"] as? [[String: Any]])
        XCTAssertEqual(uses.map { "\($0["field"]!) \($0["value"]!) \($0["accounts"]!)" }, ["bin 000000 3", "fingerprint N/A 3"])

        let explain = try Casebook.run(["explain", "--db", "case.db", "--json", "person-0", "person-1"], in: directory)
        let pair = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(explain.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(pair["linked"] as? Bool, false)
        let card = try XCTUnwrap((pair["shared"] as? [[String: Any]])?.first { $0["signal"] as? String == "card" })
        XCTAssertEqual(card["value"] as? String, "N/A")
        XCTAssertEqual(card["placeholder"] as? Bool, true)
        XCTAssertTrue(try Casebook.run(["explain", "--db", "case.db", "person-0", "person-1"], in: directory).stdout
            .contains("card: N/A, held by 3 account(s); a placeholder, read as absent"))
    }

    /// Exchanges whose export wrote NULL for the account (`NULL`, MySQL's `\N`) all name one
    /// "account" that is many people's: it is left out of linking, not joined to the operator
    /// whose addresses some of its exchanges came from, and named.
    func testAnAccountIdThatStandsForNoneIsLeftOutOfLinking() throws {
        try writeCampaign(strangers: 5)
        let start = 1_767_571_200.0
        var exchanges: [[String: Any]] = []
        for (id, n) in [("NULL", 0), ("\\N", 1)] {
            for h in 0..<24 {
                let ip = h % 2 == 0 ? "45.3.3.\(10 + h % 12)" : "74.1.\(h % 5).9"
                exchanges.append(["exchange_id": "none-\(n)-\(h)", "account_id": id, "ts": start + 86_400 + Double(h) * 3_600,
                                  "ip": ip, "user_agent": "harvester/0.9", "input_tokens": 100, "output_tokens": 900])
            }
        }
        try write("exchanges-unattributed.jsonl", exchanges)
        XCTAssertEqual(try Casebook.run(["ingest", "--db", "case.db", "--quiet", "."], in: directory).status, 0)
        let link = try Casebook.run(["link", "--db", "case.db"], in: directory)
        XCTAssertEqual(link.status, 0, link.stderr)
        XCTAssertTrue(link.stdout.hasPrefix("Link run 1: 12 of 17 accounts in 1 clusters"), link.stdout)
        XCTAssertTrue(link.stderr.contains("account_id \"NULL\" (1 account), account_id \"\\N\" (1 account)"), link.stderr)
        XCTAssertEqual(try Casebook.run(["sql", "--db", "case.db", "--format", "csv", "SELECT count(*) AS n FROM cluster_members WHERE account_id IN ('NULL', '\\N')"], in: directory).stdout.split(whereSeparator: \.isNewline), ["n", "0"])
        XCTAssertTrue(try Casebook.run(["explain", "--db", "case.db", "NULL"], in: directory).stdout
            .contains("NULL is in no cluster: its id is a placeholder an export writes where it has no account"))
        let pair = try Casebook.run(["explain", "--db", "case.db", "NULL", "op-1"], in: directory)
        XCTAssertTrue(pair.stdout.contains("NULL: its id is a placeholder"), pair.stdout)
        XCTAssertTrue(pair.stdout.contains("ip_net: 45.3.3.0/24 (hosting)"), pair.stdout)
    }

    /// Exports write the epoch's 0 (1970-01-01T00:00:00Z) for a time they do not have. Strangers
    /// with such exchanges were active "in one hour", synchronized; such a time is read as
    /// absent for linking and named, and the exchanges still count.
    func testATimeWrittenForNoneSynchronizesNobody() throws {
        try writeCampaign(strangers: 5)
        // person-7 signed up, dated, on an address of the operator's, but its exchanges all lack a time.
        try write("accounts-more.jsonl", (5..<8).map {
            ["account_id": "person-\($0)", "created_at": $0 == 7 ? 1_767_571_200 : 0, "country": "US", "email": "q\($0)@gmail.com",
             "signup_ip": $0 == 7 ? "45.3.3.10" : "74.2.\($0).9"]
        })
        var exchanges: [[String: Any]] = []
        for n in 0..<8 {
            for k in 0..<12 {
                exchanges.append(["exchange_id": "zero-\(n)-\(k)", "account_id": "person-\(n)", "ts": "1970-01-01T00:00:00Z",
                                  "ip": "74.1.\(n).9", "user_agent": "client-\(n)", "input_tokens": 100, "output_tokens": 300])
            }
        }
        // A year written wrong (1969) is no time either: every such time was the link run's hour 0.
        exchanges.append(["exchange_id": "wrong-year", "account_id": "person-0", "ts": "1969-07-20T20:17:00Z"])
        try write("exchanges-undated.jsonl", exchanges)
        XCTAssertEqual(try Casebook.run(["ingest", "--db", "case.db", "--quiet", "."], in: directory).status, 0)
        let link = try Casebook.run(["link", "--db", "case.db", "--json"], in: directory)
        XCTAssertEqual(link.status, 0, link.stderr)
        let summary = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(link.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(summary["clusters"] as? Int, 1, link.stdout)
        XCTAssertEqual(summary["clustered_accounts"] as? Int, 12, link.stdout)
        let uses = try XCTUnwrap(summary["placeholders"] as? [[String: Any]])
        XCTAssertEqual(uses.map { "\($0["field"]!) \($0["value"]!) \($0["accounts"]!)" },
                       ["ts 1970-01-01T00:00:00.000Z 8", "created_at 1970-01-01T00:00:00.000Z 2", "ts before 1970 1"])
        let plain = try Casebook.run(["link", "--db", "case.db"], in: directory)
        XCTAssertTrue(plain.stderr.contains("ts \"before 1970\" (1 account); a time before 1970 is no placeholder but a clock or sign error"),
                      plain.stderr)
        let pair = try Casebook.run(["explain", "--db", "case.db", "--json", "person-0", "person-6"], in: directory)
        let shared = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(pair.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(shared["linked"] as? Bool, false)
        XCTAssertFalse(pair.stdout.contains("synchronized_activity"), pair.stdout)
        XCTAssertEqual(try Casebook.run(["sql", "--db", "case.db", "--format", "csv", "SELECT count(*) AS n FROM exchanges WHERE account_id = 'person-6'"],
                                        in: directory).stdout.split(whereSeparator: \.isNewline), ["n", "12"])

        // Half an hour before 1970 and half an hour after are two hours, not one.
        try write("exchanges-1969.jsonl", [["exchange_id": "old-1", "account_id": "early", "ts": -1_800],
                                           ["exchange_id": "old-2", "account_id": "late", "ts": 1_800]])
        XCTAssertEqual(try Casebook.run(["ingest", "--db", "case.db", "--quiet", "."], in: directory).status, 0)
        let apart = try Casebook.run(["explain", "--db", "case.db", "early", "late"], in: directory)
        XCTAssertEqual(apart.status, 0, apart.stderr)
        XCTAssertFalse(apart.stdout.contains("active hour(s) in common"), apart.stdout)
    }

    /// pandas writes an integer column with a gap as floats: the exchanges' `1001.0` is then
    /// another account than the accounts file's `1001`; a fixed-width export pads ` 1004`.
    /// Link says so, and what to do.
    func testAccountIdsWrittenTwoWaysAreNamed() throws {
        try write("accounts.jsonl", (1001...1004).map { ["account_id": "\($0)", "created_at": "2026-01-05T00:00:00Z"] })
        try write("exchanges.jsonl", (0..<6).map { n -> [String: Any] in
            ["exchange_id": "e\(n)", "account_id": n < 3 ? "\(1001 + n).0" : n == 3 ? " 1004" : "1003", "ts": "2026-01-06T00:00:00Z"]
        })
        XCTAssertEqual(try Casebook.run(["ingest", "--db", "case.db", "--quiet", "."], in: directory).status, 0)
        let link = try Casebook.run(["link", "--db", "case.db"], in: directory)
        XCTAssertEqual(link.status, 0, link.stderr)
        XCTAssertTrue(link.stderr.contains("4 account ids are other accounts' ids written another way, so one account is two in the case "
                                           + "file: \" 1004\" is 1004 with spaces around it, \"1001.0\" is 1001 as a decimal, \"1002.0\" is 1002 "
                                           + "as a decimal, … (casebook link --json lists them); pandas writes integer ids with a gap as floats"), link.stderr)
        XCTAssertTrue(link.stderr.contains("; fixed-width exports pad ids with spaces. Write each id one way"), link.stderr)
        let json = try Casebook.run(["link", "--db", "case.db", "--json"], in: directory)
        let summary = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let split = try XCTUnwrap(summary["split_ids"] as? [[String: String]])
        XCTAssertEqual(split.map { "\($0["id"]!)=\($0["same_as"]!) \($0["form"]!)" },
                       [" 1004=1004 padded", "1001.0=1001 decimal", "1002.0=1002 decimal", "1003.0=1003 decimal"])
    }
}
