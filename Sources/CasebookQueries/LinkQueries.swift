import CasebookIO
import CasebookStore

/// A cluster of the latest link run, as listed by `casebook clusters`.
public struct ClusterRow: Sendable {
    public let clusterID: Int64
    public let size: Int
    public let exchanges: Int
    public let riskScore: Double
    /// JSON objects: indicator → value, signal → number of links.
    public let indicators: String
    public let signals: String
    public let change: String
}

/// An input row behind a piece of evidence: where it came from, and which
/// exchange or account row it became (to open it).
public struct SourceRow: Sendable, Equatable, CustomStringConvertible {
    public let path: String
    public let line: Int
    public let exchangeID: String?
    public let accountID: String?

    public var description: String { "\(path):\(line)" }
}

/// One shared value of a link: the signal, the value, its weight, and the rows it rests on.
public struct EvidenceItem: Sendable {
    public let signal: String
    public let value: String
    public let weight: Double
    public let sources: [SourceRow]
}

/// One link as explained: the two accounts, the score, and each piece of
/// evidence with the input rows (file:line) it comes from.
public struct ExplainedLink: Sendable {
    public let from: String
    public let to: String
    public let score: Double
    public let evidence: [EvidenceItem]
}

/// A value two accounts have in common in the case file's rows, whether or not the link run
/// counted it: what an investigator checks when two accounts they suspect were not linked.
public struct SharedValue: Sendable {
    /// The link signal the value would be evidence under (`card`, `ip`, `ip_net`, `user_agent`, `email_domain`,
    /// `prompt_template`, `synchronized_activity`).
    public let signal: String
    public let value: String
    /// The address's kind for `ip`, the kinds of both accounts' addresses in the block for `ip_net`; nil otherwise.
    public let kind: String?
    /// How many accounts hold the value, where the case file can say without a scan of every exchange.
    public let accounts: Int?
    public let sources: [SourceRow]
    /// A value exports write where they know nothing (`unknown`, `0.0.0.0`, `example.com`):
    /// the link run reads it as absent (`Placeholder`).
    public var isPlaceholder: Bool {
        switch signal {
        case "card", "user_agent": return Placeholder.isPlaceholder(value)
        case "ip": return Placeholder.isPlaceholderIP(value)
        case "email_domain": return Placeholder.isPlaceholderEmail("@" + value)
        default: return false
        }
    }
}

/// Two accounts the latest link run did not put in one cluster: the cluster of each, and what they share.
public struct UnlinkedPair: Sendable {
    public let firstCluster: Int64?
    public let secondCluster: Int64?
    public let shared: [SharedValue]
    /// Shared values past the first `sharedListed` of a signal (two accounts behind one proxy pool
    /// can share thousands of exits): counted, not listed.
    public let unlisted: [String: Int]
}

public struct AccountExplanation: Sendable {
    public let accountID: String
    public let clusterID: Int64?
    public let clusterSize: Int
    public let riskScore: Double?
    public let links: [ExplainedLink]
}

/// Read-side queries over the latest link run.
public enum LinkQueries {
    public enum QueryError: CategorizedError {
        case noLinkRun
        case unknownAccount(String)

        public var category: ErrorCategory { .notFound }

        public var description: String {
            switch self {
            case .noLinkRun: return "the case file has no link run yet; run `casebook link` first"
            case let .unknownAccount(id): return "no account \(id) in the case file"
            }
        }
    }

    public static func topClusters(_ database: Database, limit: Int) throws -> [ClusterRow] {
        guard try database.scalarInt("SELECT run_id FROM latest_link_run") != nil else { throw QueryError.noLinkRun }
        return try database.prepare("""
            SELECT cluster_id, size, exchanges, risk_score, indicators, signals, change FROM clusters
            ORDER BY risk_score DESC, size DESC, cluster_id LIMIT ?1
            """).rows([limit]) {
            ClusterRow(clusterID: $0.int64(0), size: $0.int(1), exchanges: $0.int(2), riskScore: $0.double(3),
                       indicators: $0.string(4) ?? "{}", signals: $0.string(5) ?? "{}", change: $0.string(6) ?? "")
        }
    }

    /// Why an account is in its cluster: the links that touch it, with their evidence.
    public static func explain(_ database: Database, account accountID: String) throws -> AccountExplanation {
        guard let run = try database.scalarInt("SELECT run_id FROM latest_link_run") else { throw QueryError.noLinkRun }
        let account = try accountKey(database, accountID)
        let cluster = try database.prepare("""
            SELECT m.cluster_id, c.size, c.risk_score FROM run_members m
            JOIN run_clusters c ON c.run_id = m.run_id AND c.cluster_id = m.cluster_id
            WHERE m.run_id = ?1 AND m.account_pk = ?2
            """).rows([run, account]) { ($0.int64(0), $0.int(1), $0.double(2)) }.first
        let linkIDs = try database.prepare("""
            SELECT link_id, account_a, account_b, score FROM run_links WHERE run_id = ?1 AND (account_a = ?2 OR account_b = ?2)
            ORDER BY score DESC, link_id
            """).rows([run, account]) { ($0.int64(0), $0.int64(1), $0.int64(2), $0.double(3)) }
        let links = try linkIDs.map { link in
            try explainedLink(database, run: run, linkID: link.0, a: link.1, b: link.2, score: link.3)
        }
        return AccountExplanation(accountID: accountID, clusterID: cluster?.0, clusterSize: cluster?.1 ?? 1,
                                  riskScore: cluster?.2, links: links)
    }

    /// The chain of links between two accounts of one cluster, or nil when they are not in the same cluster.
    public static func path(_ database: Database, from first: String, to second: String) throws -> [ExplainedLink]? {
        guard let run = try database.scalarInt("SELECT run_id FROM latest_link_run") else { throw QueryError.noLinkRun }
        let (a, b) = (try accountKey(database, first), try accountKey(database, second))
        guard let cluster = try clusterOf(database, run: run, account: a),
              try clusterOf(database, run: run, account: b) == cluster else { return nil }
        var adjacency: [Int64: [(Int64, Int64, Double)]] = [:]
        for (linkID, x, y, score) in try database.prepare(
            "SELECT link_id, account_a, account_b, score FROM run_links WHERE run_id = ?1 AND cluster_id = ?2"
        ).rows([run, cluster], { ($0.int64(0), $0.int64(1), $0.int64(2), $0.double(3)) }) {
            adjacency[x, default: []].append((y, linkID, score))
            adjacency[y, default: []].append((x, linkID, score))
        }
        // Breadth-first: the shortest chain of stored links.
        var cameFrom: [Int64: (Int64, Int64, Double)] = [a: (a, 0, 0)]
        var queue = [a]
        var head = 0
        while head < queue.count, cameFrom[b] == nil {
            let node = queue[head]
            head += 1
            for (next, linkID, score) in adjacency[node] ?? [] where cameFrom[next] == nil {
                cameFrom[next] = (node, linkID, score)
                queue.append(next)
            }
        }
        guard cameFrom[b] != nil else { return nil }
        var hops: [ExplainedLink] = []
        var node = b
        while node != a {
            let (previous, linkID, score) = cameFrom[node]!
            hops.append(try explainedLink(database, run: run, linkID: linkID, a: previous, b: node, score: score))
            node = previous
        }
        return hops.reversed()
    }

    /// Shared values listed of each signal by `inCommon`, each with its source rows.
    public static let sharedListed = 20

    /// What two accounts have in common (cards, addresses, address blocks, clients, email domain,
    /// active hours) and the cluster of each in the latest link run: the answer to "why are these two not linked?".
    /// Reads each account's own rows through its indexes; counts sharers only of cards and domains,
    /// which need no scan of the exchanges. `templateLikeness`, the share of recurring phrases
    /// their templates have in common as the link engine measures it, is listed with their first prompts.
    public static func inCommon(_ database: Database, _ first: String, _ second: String,
                                templateLikeness: Double? = nil) throws -> UnlinkedPair {
        guard let run = try database.scalarInt("SELECT run_id FROM latest_link_run") else { throw QueryError.noLinkRun }
        let (a, b) = (try accountKey(database, first), try accountKey(database, second))
        var shared: [SharedValue] = []
        var unlisted: [String: Int] = [:]
        func add(_ signal: String, _ value: String, kind: String? = nil, accounts: @autoclosure () throws -> Int? = nil) throws {
            guard shared.count(where: { $0.signal == signal }) < sharedListed else { unlisted[signal, default: 0] += 1; return }
            shared.append(SharedValue(signal: signal, value: value, kind: kind, accounts: try accounts(),
                                      sources: try sources(database, signal: signal, value: value, accounts: [a, b])))
        }

        let cards = try database.prepare("SELECT DISTINCT fingerprint FROM payment_rows WHERE account_pk = ?1")
        let cardHolders = try database.prepare("SELECT count(DISTINCT account_pk) FROM payment_rows WHERE fingerprint = ?1")
        let cardsOfB = Set(try cards.rows([b]) { $0.string(0) ?? "" })
        for card in try cards.rows([a], { $0.string(0) ?? "" }).sorted() where cardsOfB.contains(card) {
            try add("card", card, accounts: try cardHolders.rows([card]) { $0.int(0) }.first)
        }

        let addresses = try database.prepare("""
            SELECT i.ip, i.kind FROM (SELECT DISTINCT ip_pk FROM exchange_rows WHERE account_pk = ?1) e JOIN ip_rows i USING (ip_pk)
            """)
        let addressesOfA = try addresses.rows([a]) { ($0.string(0) ?? "", $0.string(1)) }
        let addressesOfB = try addresses.rows([b]) { ($0.string(0) ?? "", $0.string(1)) }
        let textsOfB = Set(addressesOfB.map(\.0))
        for (ip, kind) in addressesOfA.sorted(by: { $0.0 < $1.0 }) where textsOfB.contains(ip) { try add("ip", ip, kind: kind) }
        // A block is listed with the kinds of both accounts' addresses in it: the link run weighs
        // only blocks of hosting, business or unclassified addresses.
        func kindsByBlock(_ addresses: [(String, String?)]) -> [String: Set<String>] {
            var kinds: [String: Set<String>] = [:]
            for (ip, kind) in addresses where !Placeholder.isPlaceholderIP(ip) {
                guard let block = IPBlock.block(of: ip) else { continue }
                kinds[block, default: []].formUnion(kind.map { [$0] } ?? [])
            }
            return kinds
        }
        let blocksOfA = kindsByBlock(addressesOfA), blocksOfB = kindsByBlock(addressesOfB)
        for (block, kindsOfA) in blocksOfA.sorted(by: { $0.key < $1.key }) {
            guard let kindsOfB = blocksOfB[block] else { continue }
            let kinds = kindsOfA.union(kindsOfB).sorted().joined(separator: ", ")
            try add("ip_net", block, kind: kinds.isEmpty ? nil : kinds)
        }

        let clients = try database.prepare("""
            SELECT u.text FROM (SELECT DISTINCT user_agent_pk FROM exchange_rows WHERE account_pk = ?1) e JOIN user_agents u USING (user_agent_pk)
            """)
        let clientsOfB = Set(try clients.rows([b]) { $0.string(0) ?? "" })
        for client in try clients.rows([a], { $0.string(0) ?? "" }).sorted() where clientsOfB.contains(client) { try add("user_agent", client) }

        // The domain after the last '@', lower-cased, as the link run reads it.
        let email = try database.prepare("SELECT email FROM account_rows WHERE account_pk = ?1")
        func domain(_ account: Int64) throws -> String? {
            guard let address = try email.rows([account], { $0.string(0) }).first ?? nil,
                  let domain = EmailText.domain(of: address.lowercased()), !domain.isEmpty else { return nil }
            return domain
        }
        if let domainOfA = try domain(a), try domain(b) == domainOfA {
            let holders = try database.prepare("SELECT count(*) FROM account_rows WHERE substr(lower(email), -length(?1) - 1) = '@' || ?1")
                .rows([domainOfA]) { $0.int(0) }.first
            try add("email_domain", domainOfA, accounts: holders)
        }
        if let templateLikeness {
            try add("prompt_template", String(format: "%.2f of recurring phrases shared", templateLikeness))
        }
        if let hours = try commonHours(database, a, b) { shared.append(hours) }
        return UnlinkedPair(firstCluster: try clusterOf(database, run: run, account: a),
                            secondCluster: try clusterOf(database, run: run, account: b), shared: shared, unlisted: unlisted)
    }

    /// The hours (UTC, on the clock) in which both accounts sent a request, against the hours each
    /// was active, with the first exchange of each in the first such hour; nil when they share none.
    /// The link run weighs shared hours only between accounts of one country active in at most half
    /// of their span (synchronized activity); this is the raw overlap, for the investigator to judge.
    private static func commonHours(_ database: Database, _ a: Int64, _ b: Int64) throws -> SharedValue? {
        // A time the link run places nowhere (written for none, or before 1970) is in no hour here
        // either: SQLite's integer division would put every time before 1970 in the hour after it.
        let times = try database.prepare("SELECT DISTINCT ts_ms FROM exchange_rows WHERE account_pk = ?1")
        func hours(_ account: Int64) throws -> Set<Int64> {
            var hours = Set<Int64>()
            for ms in try times.rows([account], { $0.int64(0) }) where Placeholder.unplacedExchangeTime(milliseconds: ms) == nil {
                hours.insert(ms / 3_600_000)
            }
            return hours
        }
        let hoursOfA = try hours(a), hoursOfB = try hours(b)
        let common = hoursOfA.intersection(hoursOfB)
        guard let first = common.min() else { return nil }
        let union = hoursOfA.count + hoursOfB.count - common.count
        let firstExchange = try database.prepare("""
            SELECT f.path, e.source_line, e.exchange_id FROM exchange_rows e JOIN source_files f ON f.file_id = e.source_file_id
            WHERE e.account_pk = ?1 AND e.ts_ms >= ?2 AND e.ts_ms < ?2 + 3600000 ORDER BY e.ts_ms LIMIT 1
            """)
        let sources = try [a, b].flatMap { account in
            try firstExchange.rows([account, first * 3_600_000]) {
                SourceRow(path: $0.string(0) ?? "?", line: $0.int(1), exchangeID: $0.string(2), accountID: nil)
            }
        }
        var value = String(format: "%d active hour(s) in common, of %d and %d (Jaccard %.2f)",
                           common.count, hoursOfA.count, hoursOfB.count, Double(common.count) / Double(union))
        // An account busy in most hours of its span shares hours with anyone active then (a
        // dozen hours at least, as the link run asks before it compares schedules).
        let busy = [hoursOfA, hoursOfB].contains { (hours: Set<Int64>) -> Bool in
            guard hours.count >= 12, let earliest = hours.min(), let latest = hours.max() else { return false }
            return Int64(hours.count) * 2 > latest - earliest + 1
        }
        if busy { value += "; one is active in most hours of its span, so shared hours say little" }
        return SharedValue(signal: "synchronized_activity", value: value, kind: nil, accounts: nil, sources: sources)
    }

    /// The account's cluster in link run `run`, nil when it is in none.
    private static func clusterOf(_ database: Database, run: Int64, account: Int64) throws -> Int64? {
        try database.prepare("SELECT cluster_id FROM run_members WHERE run_id = ?1 AND account_pk = ?2").rows([run, account]) { $0.int64(0) }.first
    }

    private static func accountKey(_ database: Database, _ accountID: String) throws -> Int64 {
        guard let key = try database.prepare("SELECT account_pk FROM account_rows WHERE account_id = ?1")
            .rows([accountID], { $0.int64(0) }).first else { throw QueryError.unknownAccount(accountID) }
        return key
    }

    private static func accountID(_ database: Database, _ key: Int64) throws -> String {
        try database.prepare("SELECT account_id FROM account_rows WHERE account_pk = ?1").rows([key]) { $0.string(0) ?? "" }.first ?? "?"
    }

    private static func explainedLink(_ database: Database, run: Int64, linkID: Int64, a: Int64, b: Int64,
                                      score: Double) throws -> ExplainedLink {
        let evidence = try database.prepare("""
            SELECT signal, value, weight FROM run_link_evidence WHERE run_id = ?1 AND link_id = ?2 ORDER BY weight DESC, signal, value
            """).rows([run, linkID]) { ($0.string(0) ?? "", $0.string(1) ?? "", $0.double(2)) }
        let items = try evidence.map { signal, value, weight in
            EvidenceItem(signal: signal, value: value, weight: weight,
                         sources: try sources(database, signal: signal, value: value, accounts: [a, b]))
        }
        return ExplainedLink(from: try accountID(database, a), to: try accountID(database, b), score: score, evidence: items)
    }

    /// Input rows (file:line) behind a shared value, one per account where found.
    public static func sources(_ database: Database, signal: String, value: String, accounts: [Int64]) throws -> [SourceRow] {
        let sql: String
        switch signal {
        case "card":
            sql = """
                SELECT f.path, p.source_line, NULL, a.account_id FROM payment_rows p JOIN source_files f ON f.file_id = p.source_file_id
                JOIN account_rows a ON a.account_pk = p.account_pk WHERE p.account_pk = ?1 AND p.fingerprint = ?2 LIMIT 1
                """
        case "chargeback_bin":
            sql = """
                SELECT f.path, p.source_line, NULL, a.account_id FROM payment_rows p JOIN source_files f ON f.file_id = p.source_file_id
                JOIN account_rows a ON a.account_pk = p.account_pk
                WHERE p.account_pk = ?1 AND p.bin = ?2 AND p.chargebacks > 0 LIMIT 1
                """
        case "ip":
            sql = """
                SELECT f.path, e.source_line, e.exchange_id, NULL FROM exchange_rows e JOIN source_files f ON f.file_id = e.source_file_id
                WHERE e.account_pk = ?1 AND e.ip_pk = (SELECT ip_pk FROM ip_rows WHERE ip = ?2) LIMIT 1
                """
        case "user_agent":
            sql = """
                SELECT f.path, e.source_line, e.exchange_id, NULL FROM exchange_rows e JOIN source_files f ON f.file_id = e.source_file_id
                WHERE e.account_pk = ?1 AND e.user_agent_pk = (SELECT user_agent_pk FROM user_agents WHERE text = ?2) LIMIT 1
                """
        case "ip_net":
            // The account's first exchange from an address in the block.
            let addresses = try database.prepare("""
                SELECT i.ip, min(e.exchange_pk) FROM exchange_rows e JOIN ip_rows i USING (ip_pk) WHERE e.account_pk = ?1 GROUP BY e.ip_pk
                """)
            let row = try database.prepare("""
                SELECT f.path, e.source_line, e.exchange_id, NULL FROM exchange_rows e JOIN source_files f ON f.file_id = e.source_file_id
                WHERE e.exchange_pk = ?1
                """)
            return try accounts.flatMap { account -> [SourceRow] in
                let first = try addresses.rows([account]) { ($0.string(0) ?? "", $0.int64(1)) }
                    .filter { IPBlock.block(of: $0.0) == value }.map(\.1).min()
                guard let first else { return [] }
                return try row.rows([first]) { SourceRow(path: $0.string(0) ?? "?", line: $0.int(1), exchangeID: $0.string(2), accountID: nil) }
            }
        case "succession":
            // The last exchange of the account that stopped and the first of the one that followed.
            sql = """
                SELECT * FROM (SELECT f.path, e.source_line, e.exchange_id, NULL FROM exchange_rows e
                    JOIN source_files f ON f.file_id = e.source_file_id WHERE e.account_pk = ?1 AND ?2 IS NOT NULL ORDER BY e.ts_ms DESC LIMIT 1)
                UNION ALL
                SELECT * FROM (SELECT f.path, e.source_line, e.exchange_id, NULL FROM exchange_rows e
                    JOIN source_files f ON f.file_id = e.source_file_id WHERE e.account_pk = ?1 AND ?2 IS NOT NULL ORDER BY e.ts_ms LIMIT 1)
                """
        case "prompt_template", "synchronized_activity":
            sql = """
                SELECT f.path, e.source_line, e.exchange_id, NULL FROM exchange_rows e JOIN source_files f ON f.file_id = e.source_file_id
                WHERE e.account_pk = ?1 AND ?2 IS NOT NULL ORDER BY e.ts_ms LIMIT 1
                """
        default:
            sql = """
                SELECT f.path, a.source_line, NULL, a.account_id FROM account_rows a JOIN source_files f ON f.file_id = a.source_file_id
                WHERE a.account_pk = ?1 AND ?2 IS NOT NULL
                """
        }
        let statement = try database.prepare(sql)
        return try accounts.flatMap { account in
            try statement.rows([account, value]) {
                SourceRow(path: $0.string(0) ?? "?", line: $0.int(1), exchangeID: $0.string(2), accountID: $0.string(3))
            }
        }
    }
}
