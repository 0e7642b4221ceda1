import ArgumentParser
import CasebookGraph
import CasebookQueries
import CasebookIO
import CasebookStore
import Foundation

extension Casebook {
    struct Link: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Link accounts into operator clusters, with evidence and a risk score per cluster.",
            discussion: """
                Weighs what accounts share (payment fingerprints, IPs by kind and crowd size, \
                rare user agents, email domains and generated local parts, chargeback BINs, \
                prompt templates, synchronized activity) and links pairs whose weights reach \
                the threshold. Each run is stored with its parameters; clusters that continue \
                keep their ids across runs.

                Examples:
                  casebook link --db case.db
                  casebook link --db case.db --threshold 1.2 --json
                """
        )

        @OptionGroup var caseFile: CaseFileOptions

        @Option(help: "Summed evidence weight a pair needs to be linked (default 1.0).")
        var threshold: Double?

        @Flag(help: "Print the summary as one JSON object.")
        var json = false

        @Flag(help: "No progress line and no summary.")
        var quiet = false

        func validate() throws {
            if let threshold, !threshold.isFinite || threshold <= 0 {
                throw ValidationError("--threshold must be a positive number")
            }
        }

        func run() throws {
            Terminal.quiet = quiet
            var parameters = LinkParameters()
            if let threshold { parameters.threshold = threshold }
            let summary = try withCaseFile(caseFile.path) {
                defer { Terminal.clearProgress() }
                return try LinkRun.run(databasePath: caseFile.path, parameters: parameters, actor: caseFile.actor) {
                    Terminal.progress($0)
                }
            }
            if json {
                let object = summary.caveats.merging([
                    "run_id": summary.runID, "accounts": summary.accounts, "clusters": summary.clusters,
                    "clustered_accounts": summary.clusteredAccounts, "links": summary.links,
                    "seconds": (summary.seconds * 1000).rounded() / 1000, "changes": summary.changes, "dissolved": summary.dissolved,
                ]) { caveat, _ in caveat }
                let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
                print(String(decoding: data, as: UTF8.self))
            } else if !quiet {
                print(Self.describe(summary))
                let caveats = try JSONDecoder().decode(LinkCaveats.self, from: Data(summary.caveatsJSON().utf8))
                for sentence in caveats.sentences { Terminal.note(sentence) }
            }
        }

        static func describe(_ s: LinkSummary) -> String {
            let changes = s.changes.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
            return "Link run \(s.runID): \(Terminal.grouped(s.clusteredAccounts)) of \(Terminal.grouped(s.accounts)) accounts in "
                + "\(Terminal.grouped(s.clusters)) clusters, \(Terminal.grouped(s.links)) links, "
                + String(format: "%.1f s", s.seconds) + (changes.isEmpty ? "" : " (\(changes)"
                + (s.dissolved > 0 ? ", \(s.dissolved) dissolved" : "") + ")")
        }
    }

    struct Clusters: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the clusters of the latest link run, riskiest first.",
            discussion: """
                Example:
                  casebook clusters --db case.db --limit 10
                """
        )

        @OptionGroup var caseFile: CaseFileOptions

        @Option(help: "How many clusters to list (0: all of them).")
        var limit = 20

        @Flag(help: "Print one JSON object per cluster, in an array.")
        var json = false

        func validate() throws {
            guard limit >= 0 else { throw ValidationError("--limit must be 0 (all) or more") }
        }

        func run() throws {
            let rows = try withCaseFile(caseFile.path) {
                let database = try CaseFile.open(caseFile.path, access: .read)
                return try withQueryErrors { try LinkQueries.topClusters(database, limit: limit == 0 ? -1 : limit) }
            }
            if json {
                let objects: [[String: Any]] = rows.map { row in
                    ["cluster_id": row.clusterID, "size": row.size, "exchanges": row.exchanges, "risk_score": row.riskScore,
                     "indicators": (try? JSONSerialization.jsonObject(with: Data(row.indicators.utf8))) ?? [:],
                     "signals": (try? JSONSerialization.jsonObject(with: Data(row.signals.utf8))) ?? [:], "change": row.change]
                }
                let data = try JSONSerialization.data(withJSONObject: objects, options: [.sortedKeys])
                print(String(decoding: data, as: UTF8.self))
                return
            }
            print("cluster  accounts   exchanges  risk  change  top indicators / links by signal")
            for row in rows {
                let columns = [Terminal.right(String(row.clusterID), 7), Terminal.right(Terminal.grouped(row.size), 9),
                               Terminal.right(Terminal.grouped(row.exchanges), 11), String(format: "%5.2f", row.riskScore),
                               row.change.padding(toLength: 6, withPad: " ", startingAt: 0)]
                print(columns.joined(separator: " ") + "  " + topEntries(row.indicators, count: 3, leaving: Schema.discountIndicator))
                print(String(repeating: " ", count: 45) + "  links: " + topEntries(row.signals, count: 4))
            }
        }

        /// The `count` largest entries of a JSON object of numbers, leaving out the key `leaving`
        /// (a discount is not a risk driver).
        private func topEntries(_ json: String, count: Int, leaving: String? = nil) -> String {
            guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Double] else { return "" }
            return object.filter { $0.key != leaving }.sorted { $0.value > $1.value || ($0.value == $1.value && $0.key < $1.key) }.prefix(count)
                .map { "\($0.key) \($0.value == $0.value.rounded() ? String(Int($0.value)) : String(format: "%.2f", $0.value))" }
                .joined(separator: ", ")
        }
    }

    struct Explain: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Explain why an account is in its cluster, or how two accounts are linked.",
            discussion: """
                With one account: its cluster and every link that touches it. With two: the \
                chain of links between them. Each link lists what the accounts share, the \
                weight of each signal, and the input rows (file:line) it comes from. Two \
                accounts that are not in one cluster: the cluster of each, and what they \
                share all the same (cards, addresses, address blocks, clients, email domain, \
                templates alike), \
                none of it enough for a link between them.

                Examples:
                  casebook explain acct-7h2k9x
                  casebook explain acct-7h2k9x acct-p3m8qz
                """
        )

        @OptionGroup var caseFile: CaseFileOptions

        @Argument(help: "One or two account ids.")
        var accounts: [String]

        func validate() throws {
            guard (1...2).contains(accounts.count) else { throw ValidationError("give one account, or two to explain the chain between them") }
            guard accounts.count == 1 || accounts[0] != accounts[1] else { throw ValidationError("give two different accounts") }
            // An empty argument is a script's unset variable, not an account that is missing.
            guard !accounts.contains("") else { throw ValidationError("an account id cannot be empty") }
        }

        @Flag(help: "Print the explanation as one JSON object.")
        var json = false

        func run() throws {
            try withCaseFile(caseFile.path) {
                let database = try CaseFile.open(caseFile.path, access: .read)
                if accounts.count == 1 {
                    try explainOne(try withQueryErrors { try LinkQueries.explain(database, account: accounts[0]) })
                } else {
                    let hops = try withQueryErrors { try LinkQueries.path(database, from: accounts[0], to: accounts[1]) }
                    if let hops { return try explainChain(hops) }
                    try explainUnlinked(try withQueryErrors {
                        try LinkQueries.inCommon(database, accounts[0], accounts[1],
                                                 templateLikeness: try TemplateComparison.alike(database, accounts[0], accounts[1]))
                    })
                }
            }
        }

        private func explainOne(_ explanation: AccountExplanation) throws {
            if json {
                return try printJSON(["account_id": explanation.accountID, "cluster_id": explanation.clusterID as Any? ?? NSNull(),
                                      "cluster_size": explanation.clusterSize, "risk_score": explanation.riskScore as Any? ?? NSNull(),
                                      "links": explanation.links.map(Self.object),
                                      "placeholder": Placeholder.isPlaceholder(explanation.accountID)])
            }
            let account = Printable.escaped(explanation.accountID)
            guard let cluster = explanation.clusterID else {
                if Placeholder.isPlaceholder(explanation.accountID) {
                    print("\(account) is in no cluster: its id is \(LinkCaveats.placeholderAccount)")
                } else {
                    print("\(account) is in no cluster: nothing it shares with another account reaches the link threshold.")
                }
                return
            }
            print("\(account) is in cluster \(cluster) (\(Terminal.grouped(explanation.clusterSize)) accounts, risk "
                  + String(format: "%.2f", explanation.riskScore ?? 0) + ") through \(explanation.links.count) link(s):")
            for link in explanation.links { print(Self.describe(link)) }
        }

        private func explainChain(_ hops: [ExplainedLink]) throws {
            if json {
                return try printJSON(["from": accounts[0], "to": accounts[1], "linked": true, "links": hops.map(Self.object)])
            }
            print("\(Printable.escaped(accounts[0])) and \(Printable.escaped(accounts[1])) are linked in \(hops.count) step(s):")
            for hop in hops { print(Self.describe(hop)) }
        }

        private func explainUnlinked(_ pair: UnlinkedPair) throws {
            if json {
                return try printJSON([
                    "from": accounts[0], "to": accounts[1], "linked": false, "links": [],
                    "clusters": ["from": pair.firstCluster as Any? ?? NSNull(), "to": pair.secondCluster as Any? ?? NSNull()],
                    "unlisted": pair.unlisted,
                    "placeholder_accounts": accounts.filter(Placeholder.isPlaceholder),
                    "shared": pair.shared.map { value -> [String: Any] in
                        ["signal": value.signal, "value": value.value, "kind": value.kind as Any? ?? NSNull(),
                         "accounts": value.accounts as Any? ?? NSNull(), "sources": value.sources.map(\.description),
                         "placeholder": value.isPlaceholder]
                    },
                ])
            }
            let (from, to) = (Printable.escaped(accounts[0]), Printable.escaped(accounts[1]))
            func place(_ cluster: Int64?) -> String { cluster.map { "in cluster \($0)" } ?? "in no cluster" }
            print("\(from) and \(to) are not in the same cluster (\(from) \(place(pair.firstCluster)), \(to) \(place(pair.secondCluster))).")
            for account in accounts where Placeholder.isPlaceholder(account) {
                print("\(Printable.escaped(account)): its id is \(LinkCaveats.placeholderAccount)")
            }
            guard !pair.shared.isEmpty else {
                print("They share no card, address, address block, client, email domain or template.")
                return
            }
            print("What they share, which was not enough for the link run to link them (a value is weighed by how many")
            print("accounts share it and whether its sharers look like one operator; see \"How accounts are linked\" in schema/README.md):")
            for value in pair.shared {
                var line = "  \(value.signal): \(Printable.escaped(value.value))"
                if let kind = value.kind { line += " (\(Printable.escaped(kind)))" }
                if let count = value.accounts { line += ", held by \(Terminal.grouped(count)) account(s)" }
                if value.isPlaceholder { line += "; a placeholder, read as absent" }
                print(line)
                if !value.sources.isEmpty { print("      from " + Printable.escaped(value.sources.map(\.description).joined(separator: ", "))) }
            }
            for (signal, count) in pair.unlisted.sorted(by: { $0.key < $1.key }) {
                print("  … and \(Terminal.grouped(count)) more \(signal) value(s) in common")
            }
        }

        private func printJSON(_ object: [String: Any]) throws {
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        }

        static func object(_ link: ExplainedLink) -> [String: Any] {
            ["from": link.from, "to": link.to, "score": link.score,
             "evidence": link.evidence.map { item -> [String: Any] in
                 ["signal": item.signal, "value": item.value, "weight": item.weight, "sources": item.sources.map(\.description)]
             }]
        }

        static func describe(_ link: ExplainedLink) -> String {
            var out = "  \(Printable.escaped(link.from)) — \(Printable.escaped(link.to))  score " + String(format: "%.2f", link.score)
            for item in link.evidence {
                out += "\n      " + String(format: "+%.2f  ", item.weight) + "\(item.signal): \(Printable.escaped(item.value))"
                if !item.sources.isEmpty {
                    out += "\n             from " + Printable.escaped(item.sources.map(\.description).joined(separator: ", "))
                }
            }
            return out
        }
    }
}

/// Runs `body`, turning failures of the case file itself into exit status 3 with a sentence.
func withCaseFile<T>(_ path: String, _ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as CaseFileError {
        throw CommandFailure(description: error.description, status: ExitStatus.caseFile)
    } catch let error as StoreError {
        throw CommandFailure(description: CaseFile.explain(error, path: path), status: ExitStatus.caseFile)
    }
}

/// "Run link first", "no such account": nothing is wrong, what was asked for is not there (exit status 4).
func withQueryErrors<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as LinkQueries.QueryError {
        throw CommandFailure(description: error.description, status: ExitStatus.notFound)
    }
}
