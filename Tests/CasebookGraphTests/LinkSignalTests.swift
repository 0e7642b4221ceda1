import CasebookGraph
import CasebookQueries
import CasebookIngest
import CasebookStore
import Foundation
import XCTest

/// Hand-made case files, one signal at a time.
final class LinkSignalTests: XCTestCase {
    var directory: String!
    var database: String { directory + "/case.db" }

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "casebook-graph-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory + "/in", withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: directory) }

    private func load(_ files: [String: String]) throws {
        let folder = directory + "/in-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for (name, text) in files { try Data(text.utf8).write(to: URL(fileURLWithPath: folder + "/" + name)) }
        _ = try Ingest(databasePath: database).run(IngestPlan(paths: [folder], kind: nil, format: nil).files)
    }

    /// Account id → cluster id, for accounts in clusters.
    private func link() throws -> [String: Int64] {
        _ = try LinkRun.run(databasePath: database)
        let db = try CaseFile.open(database, access: .read)
        return Dictionary(uniqueKeysWithValues: try db.prepare("SELECT account_id, cluster_id FROM cluster_members")
            .rows { ($0.string(0)!, $0.int64(1)) })
    }

    private func accounts(_ ids: [String], emails: [String: String] = [:]) -> String {
        "account_id,created_at,email\n" + ids.map { "\($0),2026-01-01T00:00:00Z,\(emails[$0] ?? "\($0)@gmail.com")" }.joined(separator: "\n") + "\n"
    }

    private func exchange(_ id: String, _ account: String, hour: Int = 0, ip: String = "", agent: String = "acme-sdk/1.0",
                          prompt: String = "hello") -> String {
        let ts = 1_767_571_200 + hour * 3600 + (id.hashValue & 0x7FF)
        return "{\"exchange_id\":\"\(id)\",\"account_id\":\"\(account)\",\"ts\":\(ts),\"ip\":\"\(ip)\",\"user_agent\":\"\(agent)\",\"prompt\":\(JSONString(prompt))}"
            .replacingOccurrences(of: ",\"ip\":\"\"", with: "")
    }

    private func JSONString(_ text: String) -> String {
        String(decoding: try! JSONSerialization.data(withJSONObject: [text]), as: UTF8.self).dropFirst().dropLast().description
    }

    func testASharedCardLinksButAVPNExitSharedByStrangersDoesNot() throws {
        let people = (1...40).map { "p\($0)" }
        try load([
            "accounts.csv": accounts(["card-a", "card-b"] + people),
            "payments.csv": "account_id,fingerprint\ncard-a,fp_shared\ncard-b,fp_shared\n" + people.map { "\($0),fp_\($0)" }.joined(separator: "\n") + "\n",
            "ips.csv": "ip,kind\n10.9.9.9,vpn\n",
            "exchanges.jsonl": people.map { exchange("x-\($0)", $0, ip: "10.9.9.9") }.joined(separator: "\n") + "\n",
        ])
        let clusters = try link()
        XCTAssertNotNil(clusters["card-a"])
        XCTAssertEqual(clusters["card-a"], clusters["card-b"])
        XCTAssertTrue(people.allSatisfy { clusters[$0] == nil }, "a VPN exit must not chain strangers together")
    }

    func testHostingAddressesLinkWhenSharedTwiceOrWithARareClient() throws {
        try load([
            "accounts.csv": accounts(["h1", "h2", "h3", "h4", "h5", "h6", "u1", "u2", "u3", "u4"]),
            "ips.csv": "ip,kind\n45.0.0.1,hosting\n45.0.0.2,hosting\n45.0.0.3,hosting\n45.0.0.4,hosting\n45.0.0.5,hosting\n45.0.0.6,hosting\n",
            "exchanges.jsonl": [
                exchange("1", "h1", ip: "45.0.0.1"), exchange("2", "h1", ip: "45.0.0.2"),
                exchange("3", "h2", ip: "45.0.0.1"), exchange("4", "h2", ip: "45.0.0.2"),
                exchange("5", "h3", ip: "45.0.0.3"), exchange("6", "h4", ip: "45.0.0.3"),
                // The same two addresses, a year apart: reassigned, not shared.
                exchange("11", "h5", ip: "45.0.0.5"), exchange("12", "h5", ip: "45.0.0.6"),
                exchange("13", "h6", hour: 24 * 365, ip: "45.0.0.5"), exchange("14", "h6", hour: 24 * 365, ip: "45.0.0.6"),
                exchange("7", "u1", ip: "45.0.0.4", agent: "harvest/0.3"), exchange("8", "u2", ip: "45.0.0.4", agent: "harvest/0.3"),
                exchange("9", "u3", agent: "scraper/2.1"), exchange("10", "u4", agent: "scraper/2.1"),
            ].joined(separator: "\n") + "\n" + (1...200).map { exchange("bg\($0)", "person\($0)", agent: "acme-sdk/1.0") }.joined(separator: "\n") + "\n",
        ])
        let clusters = try link()
        XCTAssertEqual(clusters["h1"], clusters["h2"], "two shared hosting addresses")
        XCTAssertNotNil(clusters["h1"])
        XCTAssertNil(clusters["h3"], "one shared hosting address is not enough alone")
        XCTAssertNil(clusters["h5"], "addresses used a year apart are not shared use")
        XCTAssertEqual(clusters["u1"], clusters["u2"], "a hosting address and a rare client together")
        XCTAssertNotNil(clusters["u1"])
        XCTAssertNil(clusters["u3"], "a rare client alone is not enough")
    }

    func testGeneratedEmailSequencesLinkButLookAlikeStudentNumbersDoNot() throws {
        let farm = ["f1": "stem0007@fastmail.top", "f2": "stem0008@fastmail.top", "f3": "stem0010@fastmail.top"]
        let students = ["s1": "s1204567@northfield.ac.uk", "s2": "s2891234@northfield.ac.uk", "s3": "s1750033@northfield.ac.uk"]
        try load(["accounts.csv": accounts(Array(farm.keys) + Array(students.keys), emails: farm.merging(students) { $1 })])
        let clusters = try link()
        XCTAssertNotNil(clusters["f1"])
        XCTAssertEqual(Set(["f1", "f2", "f3"].map { clusters[$0] }).count, 1)
        XCTAssertTrue(students.keys.allSatisfy { clusters[$0] == nil })
    }

    func testAPromptTemplateAloneLinksACarefulOperator() throws {
        let topics = ["organic chemistry", "graph theory", "tax law", "genetics", "compilers", "statistics"]
        func templated(_ i: Int) -> String {
            "[QX-512] You are a meticulous tutor. Here is a task from our exam set on \(topics[i % topics.count]): "
                + "find all integers n below \(i * 37 + 11) with n^2 + \(i)n divisible by \(i % 7 + 2).\n\n"
                + "Think aloud inside <scratchpad> tags and do not skip any step; then give the answer inside <answer> tags. "
                + "Write at least \(i % 9 + 5) paragraphs of reasoning."
        }
        let diverse = ["what's a good name for a cat", "fix this python error: KeyError", "translate good morning into Korean",
                       "recipe with leeks for 4", "explain tides to a child", "write a haiku about rain", "is 91 prime",
                       "summarize the plot of Hamlet", "how do I center a div", "best way to learn chess", "why is the sky blue",
                       "give me 3 ideas for a birthday"]
        var lines: [String] = []
        for i in 0..<14 {
            lines.append(exchange("t1-\(i)", "t1", hour: i, prompt: templated(i)))
            lines.append(exchange("t2-\(i)", "t2", hour: i + 100, prompt: templated(i + 50)))
            lines.append(exchange("d-\(i)", "d1", hour: i, prompt: diverse[i % diverse.count]))
            lines.append(exchange("e-\(i)", "d2", hour: i, prompt: diverse[(i + 3) % diverse.count]))
        }
        try load(["accounts.csv": accounts(["t1", "t2", "d1", "d2"]), "exchanges.jsonl": lines.joined(separator: "\n") + "\n"])
        let clusters = try link()
        XCTAssertNotNil(clusters["t1"])
        XCTAssertEqual(clusters["t1"], clusters["t2"])
        XCTAssertNil(clusters["d1"])
        XCTAssertNil(clusters["d2"])
    }

    func testClusterIdsStayWhenMoreDataArrivesAndRunsAreDiffed() throws {
        try load([
            "accounts.csv": accounts(["a", "b", "c", "d"]),
            "payments.csv": "account_id,fingerprint\na,fp_one\nb,fp_one\nc,fp_two\nd,fp_two\n",
        ])
        let first = try link()
        let clusterAB = try XCTUnwrap(first["a"])
        let clusterCD = try XCTUnwrap(first["c"])
        try load([
            "accounts-more.csv": accounts(["e", "f", "g"]),
            "payments-more.csv": "account_id,fingerprint\ne,fp_one\nf,fp_three\ng,fp_three\n",
        ])
        let second = try link()
        XCTAssertEqual(second["a"], clusterAB, "the grown cluster keeps its id")
        XCTAssertEqual(second["e"], clusterAB)
        XCTAssertEqual(second["c"], clusterCD, "the unchanged cluster keeps its id")
        XCTAssertNotNil(second["f"])
        XCTAssertFalse([clusterAB, clusterCD].contains(second["f"]!), "a new cluster gets a new id")
        let db = try CaseFile.open(database, access: .read)
        let changes = Dictionary(uniqueKeysWithValues: try db.prepare("SELECT cluster_id, change FROM clusters").rows { ($0.int64(0), $0.string(1)!) })
        XCTAssertEqual(changes[clusterAB], "grown")
        XCTAssertEqual(changes[clusterCD], "same")
        XCTAssertEqual(changes[second["f"]!], "new")
        XCTAssertEqual(try db.scalarInt("SELECT count(*) FROM link_runs WHERE status = 'complete'"), 2)
    }

    func testTwoAccountsKeptApartAreShownWhatTheyShareAllTheSame() throws {
        let people = (1...40).map { "p\($0)" }
        try load([
            "accounts.csv": accounts(["card-a", "card-b"] + people),
            "payments.csv": "account_id,fingerprint\ncard-a,fp_shared\ncard-b,fp_shared\n",
            "ips.csv": "ip,kind\n10.9.9.9,vpn\n10.9.9.10,vpn\n",
            "exchanges.jsonl": people.map { exchange("x-\($0)", $0, ip: "10.9.9.9") }.joined(separator: "\n") + "\n"
                + exchange("y-p1", "p1", ip: "10.9.9.10", agent: "own-client/2") + "\n",
        ])
        let clusters = try link()
        let db = try CaseFile.open(database, access: .read)
        XCTAssertNil(try LinkQueries.path(db, from: "p1", to: "p2"))
        let pair = try LinkQueries.inCommon(db, "p1", "p2")
        XCTAssertNil(pair.firstCluster)
        XCTAssertNil(pair.secondCluster)
        let shared = pair.shared.map { "\($0.signal) \($0.value) \($0.kind ?? "-") \($0.accounts.map(String.init) ?? "-")" }
        XCTAssertEqual(shared, ["ip 10.9.9.9 vpn -", "ip_net 10.9.9.0/24 vpn -", "user_agent acme-sdk/1.0 - -", "email_domain gmail.com - 42",
                                "synchronized_activity 1 active hour(s) in common, of 1 and 1 (Jaccard 1.00) - -"])
        XCTAssertTrue(pair.shared[0].sources.contains { $0.exchangeID == "x-p1" } && pair.shared[0].sources.contains { $0.exchangeID == "x-p2" },
                      "\(pair.shared[0].sources)")
        let apart = try LinkQueries.inCommon(db, "card-a", "p1")
        XCTAssertEqual(apart.firstCluster, clusters["card-a"])
        XCTAssertEqual(apart.shared.map(\.signal), ["email_domain"])
        XCTAssertThrowsError(try LinkQueries.inCommon(db, "p1", "nobody"))
    }

    func testAccountsBehindOneProxyPoolAreShownTheirFirstSharedExitsAndHowManyMore() throws {
        let exits = (1...30).map { "82.\($0).0.9" }
        try load([
            "accounts.csv": accounts(["u", "v", "card-a", "card-b"]),
            "payments.csv": "account_id,fingerprint\ncard-a,fp_shared\ncard-b,fp_shared\n",
            "ips.csv": "ip,kind\n" + exits.map { "\($0),residential" }.joined(separator: "\n") + "\n",
            "exchanges.jsonl": exits.enumerated().flatMap { n, ip in
                [exchange("u-\(n)", "u", hour: n, ip: ip), exchange("v-\(n)", "v", hour: n + 40, ip: ip)]
            }.joined(separator: "\n") + "\n",
        ])
        _ = try link()
        let pair = try LinkQueries.inCommon(try CaseFile.open(database, access: .read), "u", "v")
        XCTAssertEqual(pair.shared.filter { $0.signal == "ip" }.count, LinkQueries.sharedListed)
        XCTAssertEqual(pair.shared.filter { $0.signal == "ip_net" }.count, LinkQueries.sharedListed)
        XCTAssertEqual(pair.unlisted, ["ip": 10, "ip_net": 10])
        XCTAssertTrue(pair.shared.allSatisfy { $0.signal != "ip" || ($0.kind == "residential" && $0.sources.count == 2) })
        XCTAssertTrue(pair.shared.allSatisfy { $0.signal != "ip_net" || $0.kind == "residential" })
        XCTAssertFalse(pair.shared.contains { $0.signal == "synchronized_activity" }, "u and v are never active in one hour")
    }

    func testTwoAccountsKeptApartAreShownTheHoursTheyWereBothActive() throws {
        // "busy" sends a request every hour for two days; "late" in five of those hours and two after.
        let lateHours = [3, 10, 11, 30, 47, 60, 70]
        try load([
            "accounts.csv": accounts(["busy", "late", "idle"]),
            "exchanges.jsonl": ((0..<48).map { exchange("b-\($0)", "busy", hour: $0) }
                                + lateHours.map { exchange("l-\($0)", "late", hour: $0) }
                                + [exchange("i-0", "idle", hour: 200)]).joined(separator: "\n") + "\n",
        ])
        _ = try link()
        let db = try CaseFile.open(database, access: .read)
        let hours = try XCTUnwrap(try LinkQueries.inCommon(db, "busy", "late").shared.first { $0.signal == "synchronized_activity" })
        XCTAssertEqual(hours.value, "5 active hour(s) in common, of 48 and 7 (Jaccard 0.10); one is active in most hours of its span, "
                       + "so shared hours say little")
        XCTAssertEqual(hours.sources.map(\.exchangeID), ["b-3", "l-3"], "the first exchange of each in the first hour both were active")
        XCTAssertFalse(try LinkQueries.inCommon(db, "busy", "idle").shared.contains { $0.signal == "synchronized_activity" })
    }

    func testTemplatesAreComparedOnTheSampleTheLinkRunTakes() throws {
        // Each account's first 24 exchanges carry the template; the 36 after them are its own words,
        // with no template a sample taken in another order could find. A card links the two, so
        // the run's evidence states the likeness it measured.
        let fruit = ["kiwi", "plum", "fig", "lime", "date", "pear", "yam", "leek"]
        func prompt(_ n: Int, _ account: String) -> String {
            n < 24 ? "You are a meticulous tutor. Here is task \(n * 7 + account.count) from our exam set; think aloud inside "
                + "<scratchpad> tags, do not skip any step, then give the answer inside <answer> tags."
                : (0..<5).map { fruit[(n * (2 * $0 + 1) + $0 * 3) % 8] }.joined(separator: " ")
        }
        let lines = ["t1", "t2"].flatMap { account in
            (0..<60).map { n in exchange("\(account)-\(n)", account, hour: n, prompt: prompt(n, account)) }
        }
        try load([
            "accounts.csv": accounts(["t1", "t2"]),
            "payments.csv": "account_id,fingerprint\nt1,fp_pair\nt2,fp_pair\n",
            "exchanges.jsonl": lines.joined(separator: "\n") + "\n",
        ])
        _ = try link()
        let db = try CaseFile.open(database, access: .read)
        let stated = try XCTUnwrap(try db.prepare("SELECT value FROM link_evidence WHERE signal = 'prompt_template'").rows { $0.string(0) }.first ?? nil)
        let likeness = try XCTUnwrap(try TemplateComparison.likeness(db, "t1", "t2"))
        XCTAssertEqual(String(format: "%.2f of recurring phrases shared", likeness), stated)
        XCTAssertGreaterThan(likeness, 0.5)
        let pair = try LinkQueries.inCommon(db, "t1", "t2", templateLikeness: likeness)
        XCTAssertTrue(pair.shared.contains { $0.signal == "prompt_template" && $0.value == stated && $0.sources.count == 2 })
        XCTAssertNil(try TemplateComparison.likeness(db, "t1", "nobody"), "an unknown account has no template")
    }

    func testTokenCountsAtTheEdgeOfTheirTypeDoNotTrap() throws {
        let big = Int64.max
        try load([
            "accounts.csv": accounts(["a", "b"]),
            "payments.csv": "account_id,fingerprint\na,fp_shared\nb,fp_shared\n",
            "exchanges.jsonl": [
                #"{"exchange_id":"e1","account_id":"a","ts":1768000000,"input_tokens":\#(big),"output_tokens":\#(big)}"#,
                #"{"exchange_id":"e2","account_id":"a","ts":1768000001,"input_tokens":\#(big),"output_tokens":-\#(big)}"#,
                #"{"exchange_id":"e3","account_id":"b","ts":1768000002,"input_tokens":\#(big),"output_tokens":\#(big)}"#,
            ].joined(separator: "\n") + "\n",
        ])
        let clusters = try link()
        XCTAssertEqual(clusters["a"], clusters["b"])
        let risk = try CaseFile.open(database, access: .read).prepare("SELECT risk_score FROM clusters").rows { $0.double(0) }
        XCTAssertEqual(risk.count, 1)
        XCTAssertTrue(risk[0].isFinite && (0...1).contains(risk[0]))
    }

    func testExplainNamesTheSharedValuesAndTheirSourceRows() throws {
        try load([
            "accounts.csv": accounts(["a", "b", "c"]),
            "payments.csv": "account_id,fingerprint\na,fp_farm\nb,fp_farm\nc,fp_other\nc,fp_farm\n",
        ])
        _ = try link()
        let db = try CaseFile.open(database, access: .read)
        let explanation = try LinkQueries.explain(db, account: "a")
        XCTAssertNotNil(explanation.clusterID)
        XCTAssertEqual(explanation.clusterSize, 3)
        let evidence = explanation.links.flatMap(\.evidence)
        XCTAssertTrue(evidence.contains { $0.signal == "card" && $0.value == "fp_farm" })
        XCTAssertTrue(evidence.flatMap(\.sources).contains { $0.description.hasSuffix("payments.csv:2") && $0.accountID == "a" },
                      "\(evidence)")
        let path = try XCTUnwrap(try LinkQueries.path(db, from: "b", to: "c"))
        XCTAssertFalse(path.isEmpty)
        XCTAssertEqual(path.first?.from == "b" || path.first?.to == "b", true)
        XCTAssertThrowsError(try LinkQueries.explain(db, account: "nobody"))
    }
}
