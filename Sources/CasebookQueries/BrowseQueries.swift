import CasebookStore

/// The lists an investigator pages through, each a `PagedQuery` over the latest link run.
public enum BrowseQueries {
    private static func day(_ column: String) -> String {
        "coalesce(strftime('%Y-%m-%d', \(column) / 1000, 'unixepoch'), '-')"
    }

    private static func date(_ column: String) -> String {
        "coalesce(strftime('%Y-%m-%d %H:%M', \(column) / 1000, 'unixepoch'), '-')"
    }

    /// The latest complete link run, or nil before the first.
    public static func latestRun(_ database: Database) throws -> Int64? {
        try database.scalarInt("SELECT run_id FROM latest_link_run")
    }

    /// How many accounts a run linked and how many clusters it found.
    public static func runTotals(_ database: Database, run: Int64) throws -> (accounts: Int, clusters: Int)? {
        try database.prepare("SELECT accounts, clusters FROM link_runs WHERE run_id = ?1")
            .rows([run]) { (Int($0.int64(0)), Int($0.int64(1))) }.first
    }

    /// Clusters of a run: risk, size, exchanges, first and last seen, top indicators, case status.
    public static func clusters(_ database: Database, run: Int64) -> PagedQuery {
        PagedQuery(
            database,
            columns: [Column("cluster", width: 7, .right), Column("risk", width: 5, .right), Column("accounts", width: 8, .right),
                      Column("exchanges", width: 10, .right), Column("first seen", width: 10), Column("last seen", width: 10),
                      Column("case", width: 13), Column("top indicators", width: 30)],
            cells: ["c.cluster_id", "printf('%.2f', c.risk_score)", "printf('%,d', c.size)", "printf('%,d', c.exchanges)",
                    day("c.first_seen_ms"), day("c.last_seen_ms"),
                    """
                    coalesce((SELECT k.status FROM case_clusters cc JOIN cases k ON k.case_id = cc.case_id
                              WHERE cc.cluster_id = c.cluster_id ORDER BY k.updated_at_ms DESC LIMIT 1), '')
                    """,
                    """
                    coalesce((SELECT group_concat(key, ' ') FROM (SELECT key FROM json_each(c.indicators)
                              WHERE value > 0 AND key <> '\(Schema.discountIndicator)' ORDER BY value DESC, key LIMIT 3)), '')
                    """],
            id: "c.cluster_id",
            from: "FROM run_clusters c WHERE c.run_id = ?", parameters: [.integer(run)],
            sorts: [PagedQuery.Sort(column: 1, expression: "c.risk_score"), PagedQuery.Sort(column: 2, expression: "c.size"),
                    PagedQuery.Sort(column: 3, expression: "c.exchanges"),
                    PagedQuery.Sort(column: 4, expression: "coalesce(c.first_seen_ms, 0)"),
                    PagedQuery.Sort(column: 5, expression: "coalesce(c.last_seen_ms, 0)"),
                    PagedQuery.Sort(column: 0, expression: "c.cluster_id")],
            tiebreak: "c.cluster_id",
            searchable: "c.cluster_id || ' ' || c.indicators || ' ' || c.signals || ' ' || c.change")
    }

    /// A cluster's members, busiest first (by account id for runs made before members' counts were kept).
    public static func members(_ database: Database, run: Int64, cluster: Int64) throws -> PagedQuery {
        let counted = try database.prepare("SELECT exchanges IS NOT NULL FROM run_members WHERE run_id = ?1 LIMIT 1")
            .rows([run]) { $0.int64(0) == 1 }.first ?? false
        let sorts = counted
            ? [PagedQuery.Sort(column: 1, expression: "m.exchanges"), PagedQuery.Sort(column: 0, expression: "a.account_id")]
            : [PagedQuery.Sort(column: 0, expression: "a.account_id")]
        return PagedQuery(
            database,
            columns: [Column("account", width: 22), Column("exchanges", width: 10, .right), Column("first seen", width: 16),
                      Column("last seen", width: 16), Column("country", width: 7), Column("email", width: 24)],
            cells: ["a.account_id", "coalesce(printf('%,d', m.exchanges), '-')", date("m.first_seen_ms"), date("m.last_seen_ms"),
                    "coalesce(a.country, '')", "coalesce(a.email, '')"],
            id: "a.account_id",
            from: "FROM run_members m JOIN account_rows a ON a.account_pk = m.account_pk WHERE m.run_id = ? AND m.cluster_id = ?",
            parameters: [.integer(run), .integer(cluster)],
            sorts: sorts,
            tiebreak: "m.account_pk",
            searchable: "a.account_id || ' ' || coalesce(a.email, '') || ' ' || coalesce(a.country, '')",
            descending: counted)
    }

    /// The links that hold a cluster together, strongest first; a row opens as "account_a account_b".
    public static func links(_ database: Database, run: Int64, cluster: Int64) -> PagedQuery {
        PagedQuery(
            database,
            columns: [Column("score", width: 6, .right), Column("account", width: 22), Column("account", width: 22),
                      Column("evidence", width: 40)],
            cells: ["printf('%.2f', k.score)", "a.account_id", "b.account_id",
                    """
                    coalesce((SELECT group_concat(signal, ', ') FROM (SELECT DISTINCT signal FROM run_link_evidence
                              WHERE run_id = k.run_id AND link_id = k.link_id ORDER BY weight DESC)), '')
                    """],
            id: "a.account_id || ' ' || b.account_id",
            from: """
                FROM run_links k JOIN account_rows a ON a.account_pk = k.account_a JOIN account_rows b ON b.account_pk = k.account_b
                WHERE k.run_id = ? AND k.cluster_id = ?
                """,
            parameters: [.integer(run), .integer(cluster)],
            sorts: [PagedQuery.Sort(column: 0, expression: "k.score")],
            tiebreak: "k.link_id",
            searchable: "a.account_id || ' ' || b.account_id")
    }

    /// An account's exchanges, newest first, through the (account, time) index.
    public static func exchanges(_ database: Database, accountKey: Int64) -> PagedQuery {
        PagedQuery(
            database,
            columns: [Column("time", width: 19), Column("model", width: 14), Column("ip", width: 15),
                      Column("in", width: 6, .right), Column("out", width: 6, .right), Column("status", width: 6, .right),
                      Column("prompt", width: 40)],
            cells: ["strftime('%Y-%m-%d %H:%M:%S', e.ts_ms / 1000, 'unixepoch')",
                    "coalesce((SELECT name FROM models WHERE model_pk = e.model_pk), '')",
                    "coalesce((SELECT ip FROM ip_rows WHERE ip_pk = e.ip_pk), '')",
                    "coalesce(e.input_tokens, '')", "coalesce(e.output_tokens, '')", "coalesce(e.status, '')",
                    "substr(coalesce(e.prompt, ''), 1, 300)"],
            id: "e.exchange_id",
            from: "FROM exchange_rows e WHERE e.account_pk = ?", parameters: [.integer(accountKey)],
            sorts: [PagedQuery.Sort(column: 0, expression: "e.ts_ms")],
            tiebreak: "e.exchange_pk",
            searchable: "e.exchange_id || ' ' || coalesce(e.prompt, '')")
    }

    /// Exchanges whose prompt matches a full-text query (`casebook index` first), newest rows first.
    public static func promptSearch(_ database: Database, match: String) -> PagedQuery {
        PagedQuery(
            database,
            columns: [Column("time", width: 19), Column("account", width: 22), Column("prompt", width: 60)],
            cells: ["strftime('%Y-%m-%d %H:%M:%S', e.ts_ms / 1000, 'unixepoch')",
                    "(SELECT account_id FROM account_rows WHERE account_pk = e.account_pk)",
                    "substr(coalesce(e.prompt, ''), 1, 300)"],
            id: "e.exchange_id",
            from: """
                FROM prompt_index t JOIN exchange_rows e ON e.exchange_pk = t.rowid WHERE prompt_index MATCH ?
                """,
            parameters: [.text(match)],
            sorts: [PagedQuery.Sort(column: 0, expression: "t.rowid")],
            tiebreak: "t.rowid",
            searchable: "e.exchange_id")
    }

    /// Cases, most recently changed first.
    public static func cases(_ database: Database) -> PagedQuery {
        PagedQuery(
            database,
            columns: [Column("case", width: 5, .right), Column("status", width: 17), Column("assignee", width: 12),
                      Column("clusters", width: 8, .right), Column("updated", width: 16), Column("title", width: 30)],
            cells: ["k.case_id", "k.status", "coalesce(k.assignee, '')",
                    "(SELECT count(*) FROM case_clusters WHERE case_id = k.case_id)", date("k.updated_at_ms"), "k.title"],
            id: "k.case_id",
            from: "FROM cases k WHERE 1",
            sorts: [PagedQuery.Sort(column: 4, expression: "k.updated_at_ms"), PagedQuery.Sort(column: 0, expression: "k.case_id")],
            tiebreak: "k.case_id",
            searchable: "k.title || ' ' || k.status || ' ' || coalesce(k.assignee, '')")
    }
}
