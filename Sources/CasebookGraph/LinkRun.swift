import CasebookAudit
import CasebookIO
import CasebookStore
import Foundation

/// What a link run produced.
public struct LinkSummary: Sendable {
    public let runID: Int64
    public let accounts: Int
    public let clusters: Int
    public let clusteredAccounts: Int
    public let links: Int
    public let seconds: Double
    /// new / same / grown / shrunk / merged / split → number of clusters.
    public let changes: [String: Int]
    public let dissolved: Int
    /// The identity traits of which the case file holds one value ("country", "client", "card
    /// BIN", "email domain"); two or more make it look like one operator's accounts alone, whose
    /// crowds are judged only by what the operator varies.
    public let uniformTraits: [String]
    /// In such a file, the values shared by more than a few accounts that weighed nothing.
    public let uncontrasted: [UncontrastedValue]
    /// Placeholders read as absent (`unknown`, `000000`, `0.0.0.0`), most accounts first.
    public let placeholders: [PlaceholderUse]
    /// Account ids that are another account's id written another way: one account split in two.
    public let splitIDs: [SplitID]

    /// What bears on every cluster, as `link_run_caveats` keeps it and `casebook link --json`
    /// prints it (schema/README.md lists the keys).
    public var caveats: [String: Any] {
        [
            "uniform_traits": uniformTraits,
            "uncontrasted": uncontrasted.map { ["signal": $0.signal, "value": $0.value, "accounts": $0.accounts] },
            "placeholders": placeholders.map { ["field": $0.field, "value": $0.value, "accounts": $0.accounts] },
            "split_ids": splitIDs.map { ["id": $0.id, "same_as": $0.sameAs, "form": $0.form.rawValue] },
        ]
    }

    /// `caveats` as JSON text.
    public func caveatsJSON() throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: caveats, options: [.sortedKeys]), as: UTF8.self)
    }
}

/// An account id that is another account's id written another way (`1001.0` for `1001`,
/// `" a1"` for `a1`), so that one account is two in the case file.
public struct SplitID: Sendable, Equatable {
    public enum Form: String, Sendable {
        /// A whole number written as a float, as pandas writes an integer column with a gap.
        case decimal
        /// With white space around it, as fixed-width exports pad.
        case padded
    }

    public let id: String
    public let sameAs: String
    public let form: Form
}

/// A placeholder an export wrote in one field (`Placeholder`), read as absent by the link run,
/// and how many accounts had it.
public struct PlaceholderUse: Sendable, Equatable {
    /// The input field (`account_id`, `fingerprint`, `bin`, `email`, `country`, `org_id`, `signup_ip`, `ip`, `user_agent`).
    public let field: String
    /// As written; for an email at a reserved domain, `@` and the domain.
    public let value: String
    public let accounts: Int

    struct Key: Hashable {
        let field: String
        let value: String
    }
}

/// A value shared by more than a few accounts that weighed nothing in a case file of one kind
/// of account: nothing in the file showed what strangers look like.
public struct UncontrastedValue: Sendable, Equatable {
    public let signal: String
    public let value: String
    public let accounts: Int
}

/// `casebook link`: reads the facts, links accounts, and stores the run: its
/// parameters, every cluster with its risk, every member, and the links (with
/// evidence) that justify each membership. The run becomes visible in one
/// transaction, so a killed run leaves the previous one in place.
public enum LinkRun {
    /// SHA-256 of the run's membership, one line `cluster_id:account_pk` per member in that
    /// order: what the audit log records as the run's result, recomputable with SQL.
    static func membersDigest(_ database: Database, runID: Int64) throws -> String {
        var text: [UInt8] = []
        for line in try database.prepare("""
            SELECT cluster_id || ':' || account_pk FROM run_members WHERE run_id = ?1 ORDER BY cluster_id, account_pk
            """).rows([runID], { $0.string(0) ?? "" }) {
            text += Array(line.utf8)
            text.append(0x0A)
        }
        return FileDigest.sha256(bytes: text)
    }

    public static func run(databasePath: String, parameters: LinkParameters = LinkParameters(),
                           actor: String = Investigator.resolve(),
                           progress: (String) -> Void = { _ in }) throws -> LinkSummary {
        let (lock, database) = try CaseFile.openExclusive(databasePath, create: false)
        defer { withExtendedLifetime(lock) {} }
        let started = Date()
        // An ingest stopped before its end leaves the account-and-time index unbuilt; the
        // features are read through it. Exchanges whose ids are not yet checked may be counted twice.
        if try CaseFile.exchangeIdCheckPending(database) { throw CaseFileError.unfinishedIngest(path: databasePath) }
        try CaseFile.buildDeferredIndexes(database)
        // The prompt sample walks the table after the index scan; read the file meanwhile.
        let prefetcher = Prefetcher(path: databasePath)
        prefetcher.start()
        let features: AccountFeatures
        do {
            defer { prefetcher.stop() }
            features = try FeatureReader.read(database, parameters: parameters, progress: progress)
        }
        progress("linking \(features.count) accounts")
        var linker = Linker(features: features, parameters: parameters)
        linker.buildAttributes()
        let (components, links) = linker.cluster(linker.candidatePairs())

        var membersByRoot: [Int32: [Int]] = [:]
        for (account, root) in components.enumerated() { membersByRoot[root, default: []].append(account) }
        let clusters = membersByRoot.values.filter { $0.count >= 2 }.sorted { $0[0] < $1[0] }
        let clusterOfAccount = Dictionary(uniqueKeysWithValues: clusters.enumerated().flatMap { index, members in
            members.map { ($0, index) }
        })

        progress("storing \(clusters.count) clusters")
        return try database.transaction {
            try database.execute("DELETE FROM link_runs WHERE status = 'running'")
            let previousRun = try database.scalarInt("SELECT run_id FROM latest_link_run")
            var previousMembership: [Int64: Int64] = [:]
            var previousSizes: [Int64: Int] = [:]
            if let previousRun {
                for (account, cluster) in try database.prepare("SELECT account_pk, cluster_id FROM run_members WHERE run_id = ?1")
                    .rows([previousRun], { ($0.int64(0), $0.int64(1)) }) {
                    previousMembership[account] = cluster
                    previousSizes[cluster, default: 0] += 1
                }
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            let parametersJSON = String(decoding: try encoder.encode(parameters), as: UTF8.self)
            try database.prepare("""
                INSERT INTO link_runs (started_at_ms, parameters, status) VALUES (?1, ?2, 'running')
                """).run([Int64(started.timeIntervalSince1970 * 1000), parametersJSON])
            let runID = database.lastInsertedRowID

            let (assignments, dissolved) = ClusterIdentity.assign(
                clusters: clusters.map { $0.map { features.accountKeys[$0] } },
                previousMembership: previousMembership, previousSizes: previousSizes)
            let newID = try database.prepare("INSERT INTO cluster_ids (first_run_id) VALUES (?1)")
            let insertCluster = try database.prepare("""
                INSERT INTO run_clusters (run_id, cluster_id, size, exchanges, risk_score, indicators, signals, change, previous,
                    first_seen_ms, last_seen_ms)
                VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
                """)
            let insertMember = try database.prepare("""
                INSERT INTO run_members (run_id, account_pk, cluster_id, exchanges, first_seen_ms, last_seen_ms)
                VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                """)
            let insertDay = try database.prepare("INSERT INTO run_cluster_days (run_id, cluster_id, day, exchanges) VALUES (?1, ?2, ?3, ?4)")
            var clusterIDs: [Int64] = []
            var changes: [String: Int] = [:]
            var signalCounts = Array(repeating: [String: Int](), count: clusters.count)
            for link in links {
                guard let index = clusterOfAccount[Int(link.a)] else { continue }
                for evidence in link.evidence { signalCounts[index][evidence.signal, default: 0] += 1 }
            }
            for (index, members) in clusters.enumerated() {
                let assignment = assignments[index]
                let clusterID: Int64
                if let existing = assignment.clusterID { clusterID = existing } else {
                    try newID.run([runID])
                    clusterID = database.lastInsertedRowID
                }
                clusterIDs.append(clusterID)
                changes[assignment.change, default: 0] += 1
                let risk = RiskAssessment.assess(members: members, features: features)
                let signals = "{" + signalCounts[index].sorted { $0.value > $1.value || ($0.value == $1.value && $0.key < $1.key) }
                    .map { "\"\($0.key)\":\($0.value)" }.joined(separator: ",") + "}"
                let active = members.filter { features.isSeenInTime($0) }
                try insertCluster.run([runID, clusterID, members.count, members.reduce(0) { $0 &+ features.exchanges[$1] },
                                       risk.score, risk.json, signals, assignment.change,
                                       assignment.previous.isEmpty ? nil : "[" + assignment.previous.map(String.init).joined(separator: ",") + "]",
                                       active.map { features.firstSeen[$0] }.min(), active.map { features.lastSeen[$0] }.max()])
                var days: [Int32: Int] = [:]
                for member in members {
                    let seen = features.isSeenInTime(member)
                    try insertMember.run([runID, features.accountKeys[member], clusterID, features.exchanges[member],
                                          seen ? features.firstSeen[member] : nil, seen ? features.lastSeen[member] : nil])
                    for (day, count) in features.dayCounts[member] { days[day, default: 0] &+= Int(count) }
                }
                for (day, count) in days.sorted(by: { $0.key < $1.key }) { try insertDay.run([runID, clusterID, Int(day), count]) }
            }
            let insertLink = try database.prepare("""
                INSERT INTO run_links (run_id, link_id, cluster_id, account_a, account_b, score) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                """)
            let insertEvidence = try database.prepare("""
                INSERT OR IGNORE INTO run_link_evidence (run_id, link_id, signal, value, weight) VALUES (?1, ?2, ?3, ?4, ?5)
                """)
            for (linkID, link) in links.enumerated() {
                guard let index = clusterOfAccount[Int(link.a)] else { continue }
                try insertLink.run([runID, linkID + 1, clusterIDs[index], features.accountKeys[Int(link.a)],
                                    features.accountKeys[Int(link.b)], (link.score * 1000).rounded() / 1000])
                for evidence in link.evidence {
                    try insertEvidence.run([runID, linkID + 1, evidence.signal, evidence.value, evidence.weight])
                }
            }
            if let previousRun {
                let insertDissolved = try database.prepare("INSERT INTO run_dissolved (run_id, cluster_id, size) VALUES (?1, ?2, ?3)")
                for cluster in dissolved { try insertDissolved.run([previousRun, cluster, previousSizes[cluster]!]) }
            }
            let seconds = Date().timeIntervalSince(started)
            let finished = Int64(Date().timeIntervalSince1970 * 1000)
            try database.prepare("""
                UPDATE link_runs SET finished_at_ms = ?2, accounts = ?3, clusters = ?4, links = ?5, status = 'complete' WHERE run_id = ?1
                """).run([runID, finished, features.count, clusters.count, links.count])
            let summary = LinkSummary(runID: runID, accounts: features.count, clusters: clusters.count,
                                      clusteredAccounts: clusters.reduce(0) { $0 + $1.count }, links: links.count,
                                      seconds: seconds, changes: changes, dissolved: dissolved.count,
                                      uniformTraits: linker.judge.uniformIdentity.map(\.name), uncontrasted: linker.uncontrasted,
                                      placeholders: features.placeholders, splitIDs: features.splitIDs)
            try database.prepare("INSERT INTO link_run_caveats (run_id, caveats) VALUES (?1, ?2)").run([runID, try summary.caveatsJSON()])
            try AuditLog.append(database, actor: actor, action: .linkRun, target: "run:\(runID)", payload: [
                "parameters": (try? JSONSerialization.jsonObject(with: Data(parametersJSON.utf8))) ?? parametersJSON,
                "accounts": features.count, "clusters": clusters.count, "links": links.count,
                "members_sha256": try membersDigest(database, runID: runID),
            ], at: finished)
            return summary
        }
    }
}
