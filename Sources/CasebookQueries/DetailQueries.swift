import CasebookStore

/// A cluster of a run, with what the cluster sheet shows above its members.
public struct ClusterDetail: Sendable {
    public let clusterID: Int64
    public let size: Int
    public let exchanges: Int
    public let riskScore: Double
    /// Indicator → value in [0, 1], strongest first.
    public let indicators: [(name: String, value: Double)]
    /// Signal → number of links resting on it, most first.
    public let signals: [(name: String, links: Int)]
    public let firstSeenMilliseconds: Int64?
    public let lastSeenMilliseconds: Int64?
    public let change: String
    /// Requests per day (days since 1970), in day order.
    public let days: [(day: Int64, exchanges: Int)]
    public let cases: [(caseID: Int64, status: String, title: String)]
}

/// An account as the account sheet shows it above its exchanges.
public struct AccountProfile: Sendable {
    public let accountKey: Int64
    public let accountID: String
    public let fields: [(name: String, value: String)]
    /// Card instruments as BIN and last four only, with brand, country, chargebacks and fingerprint.
    public let payments: [String]
    public let cluster: (id: Int64, risk: Double)?
    public let exchanges: Int?
}

/// Where an account's traffic came from, over its latest exchanges.
public struct AccountTraffic: Sendable {
    public let exchangesRead: Int
    public let ips: [(ip: String, kind: String, owner: String, exchanges: Int)]
    public let clients: [(client: String, exchanges: Int)]
}

/// Every field of one exchange, and where it came from.
public struct ExchangeDetail: Sendable {
    public let exchangeID: String
    public let accountID: String
    public let fields: [(name: String, value: String)]
    public let prompt: String
    public let response: String
    public let provenance: String
}

/// The detail reads behind the sheets that show one thing.
public enum DetailQueries {
    public static func cluster(_ database: Database, run: Int64, cluster: Int64) throws -> ClusterDetail? {
        guard let row = try database.prepare("""
            SELECT size, exchanges, risk_score, indicators, signals, first_seen_ms, last_seen_ms, change
            FROM run_clusters WHERE run_id = ?1 AND cluster_id = ?2
            """).rows([run, cluster], { ($0.int(0), $0.int(1), $0.double(2), $0.string(3) ?? "{}", $0.string(4) ?? "{}",
                                          $0.optionalInt64(5), $0.optionalInt64(6), $0.string(7) ?? "") }).first else { return nil }
        let indicators = try database.prepare("SELECT key, value FROM json_each(?1) ORDER BY value DESC, key")
            .rows([row.3]) { (name: $0.string(0) ?? "", value: $0.double(1)) }
        let signals = try database.prepare("SELECT key, value FROM json_each(?1) ORDER BY value DESC, key")
            .rows([row.4]) { (name: $0.string(0) ?? "", links: $0.int(1)) }
        let days = try database.prepare("SELECT day, exchanges FROM run_cluster_days WHERE run_id = ?1 AND cluster_id = ?2 ORDER BY day")
            .rows([run, cluster]) { (day: $0.int64(0), exchanges: $0.int(1)) }
        let cases = try database.prepare("""
            SELECT k.case_id, k.status, k.title FROM case_clusters cc JOIN cases k ON k.case_id = cc.case_id
            WHERE cc.cluster_id = ?1 ORDER BY k.case_id
            """).rows([cluster]) { (caseID: $0.int64(0), status: $0.string(1) ?? "", title: $0.string(2) ?? "") }
        return ClusterDetail(clusterID: cluster, size: row.0, exchanges: row.1, riskScore: row.2, indicators: indicators,
                             signals: signals, firstSeenMilliseconds: row.5, lastSeenMilliseconds: row.6, change: row.7,
                             days: days, cases: cases)
    }

    public static func account(_ database: Database, id accountID: String) throws -> AccountProfile? {
        guard let row = try database.prepare("""
            SELECT account_pk, created_at, email, org_id, country, signup_ip, status, plan, referenced_only,
                   source_file || ':' || source_line, extra
            FROM accounts WHERE account_id = ?1
            """).rows([accountID], { row in
                (row.int64(0), [("created", row.string(1) ?? "-"), ("email", row.string(2) ?? "-"), ("org", row.string(3) ?? "-"),
                                ("country", row.string(4) ?? "-"), ("signup ip", row.string(5) ?? "-"),
                                ("status", row.string(6) ?? "-"), ("plan", row.string(7) ?? "-"),
                                ("described", row.int64(8) == 1 ? "no (referenced only)" : "yes"),
                                ("source", row.string(9) ?? "-"), ("extra", row.string(10) ?? "-")])
            }).first else { return nil }
        let payments = try database.prepare("""
            SELECT coalesce(type, 'card'), coalesce(brand, ''), coalesce(bin, '??????'), coalesce(last4, '????'),
                   coalesce(country, '--'), coalesce(chargebacks, 0), fingerprint
            FROM payment_rows WHERE account_pk = ?1 ORDER BY payment_pk
            """).rows([row.0]) {
            "\($0.string(0) ?? "") \($0.string(1) ?? "") \($0.string(2) ?? "")…\($0.string(3) ?? "") \($0.string(4) ?? "") chargebacks \($0.int(5)) fp \($0.string(6) ?? "")"
        }
        let run = try BrowseQueries.latestRun(database)
        let cluster = try run.flatMap { run in
            try database.prepare("""
                SELECT m.cluster_id, c.risk_score, m.exchanges FROM run_members m
                JOIN run_clusters c ON c.run_id = m.run_id AND c.cluster_id = m.cluster_id
                WHERE m.run_id = ?1 AND m.account_pk = ?2
                """).rows([run, row.0]) { ($0.int64(0), $0.double(1), $0.optionalInt64(2)) }.first
        }
        return AccountProfile(accountKey: row.0, accountID: accountID, fields: row.1, payments: payments,
                              cluster: cluster.map { ($0.0, $0.1) }, exchanges: cluster?.2.map(Int.init))
    }

    /// IPs (with their kind and owner) and clients of an account's latest `limit` exchanges.
    public static func traffic(_ database: Database, accountKey: Int64, limit: Int = 100_000) throws -> AccountTraffic {
        let latest = "SELECT ip_pk, user_agent_pk FROM exchange_rows WHERE account_pk = ?1 ORDER BY ts_ms DESC LIMIT ?2"
        let read = try database.prepare("SELECT count(*) FROM (\(latest))").rows([accountKey, limit]) { $0.int(0) }.first ?? 0
        let ips = try database.prepare("""
            SELECT i.ip, coalesce(i.kind, '?'), trim(coalesce('AS' || i.asn, '') || ' ' || coalesce(i.as_org, '')), count(*) AS n
            FROM (\(latest)) x JOIN ip_rows i ON i.ip_pk = x.ip_pk GROUP BY x.ip_pk ORDER BY n DESC, i.ip LIMIT 20
            """).rows([accountKey, limit]) { (ip: $0.string(0) ?? "", kind: $0.string(1) ?? "", owner: $0.string(2) ?? "", exchanges: $0.int(3)) }
        let clients = try database.prepare("""
            SELECT u.text, count(*) AS n FROM (\(latest)) x JOIN user_agents u ON u.user_agent_pk = x.user_agent_pk
            GROUP BY x.user_agent_pk ORDER BY n DESC, u.text LIMIT 10
            """).rows([accountKey, limit]) { (client: $0.string(0) ?? "", exchanges: $0.int(1)) }
        return AccountTraffic(exchangesRead: read, ips: ips, clients: clients)
    }

    public static func exchange(_ database: Database, id exchangeID: String) throws -> ExchangeDetail? {
        try database.prepare("""
            SELECT exchange_id, account_id, ts, model, api_key_id, ip, user_agent, input_tokens, output_tokens, status,
                   latency_ms, extra, coalesce(prompt, ''), coalesce(response, ''), source_file || ':' || source_line
            FROM exchanges WHERE exchange_id = ?1
            """).rows([exchangeID]) { row in
            let names = ["time", "model", "api key", "ip", "client", "input tokens", "output tokens", "status", "latency ms", "extra"]
            let fields = names.enumerated().map { (offset, name) in (name: name, value: row.string(Int32(offset + 2)) ?? "-") }
            return ExchangeDetail(exchangeID: row.string(0) ?? "", accountID: row.string(1) ?? "", fields: fields,
                                  prompt: row.string(12) ?? "", response: row.string(13) ?? "", provenance: row.string(14) ?? "")
        }.first
    }

    /// An account's first `limit` prompts in time order: what the template signal compared.
    public static func sampledPrompts(_ database: Database, accountID: String, limit: Int = 12) throws -> [String] {
        try database.prepare("""
            SELECT e.prompt FROM exchange_rows e WHERE e.account_pk = (SELECT account_pk FROM account_rows WHERE account_id = ?1)
                AND e.prompt IS NOT NULL ORDER BY e.ts_ms, e.exchange_pk LIMIT ?2
            """).rows([accountID, limit]) { $0.string(0) ?? "" }
    }
}
