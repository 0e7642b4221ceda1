import CasebookAudit
import CasebookCases
import CasebookIO
import CasebookGraph
import CasebookQueries
import CasebookStore
import Foundation

/// The sheets of the TUI, each built from the read queries.
enum Sheets {
    // MARK: - Clusters

    static func clusters(_ context: SheetContext) throws -> Sheet {
        guard let run = context.run else {
            return DocumentSheet(crumb: "clusters", paragraphs: [
                Paragraph("This case file has no link run yet.", Style(bold: true)),
                Paragraph.blank,
                Paragraph("Run `casebook link` to group accounts into operator clusters, then open the TUI again."),
                Paragraph("C shows the cases; : runs a casebook command; ? lists every key."),
            ])
        }
        let caveats = try LinkCaveats.of(run: run, in: context.database)
        if let totals = try BrowseQueries.runTotals(context.database, run: run), totals.clusters == 0 {
            var paragraphs = [
                Paragraph("The latest link run (run \(run)) put none of the \(grouped(totals.accounts)) accounts in a cluster.",
                          Style(bold: true)),
                Paragraph.blank,
                Paragraph("Every account is still here: @ opens one by id, F searches the prompts, C shows the cases."),
                Paragraph("A case file of one operator's accounts alone gives the link run nothing to compare them with "
                          + "(`casebook link` says so in a note): ingest them together with the accounts around them, "
                          + "then run `casebook link` again (: runs a casebook command). ? lists every key."),
            ]
            if let sentences = caveats?.sentences, !sentences.isEmpty {
                paragraphs += [Paragraph.blank, Paragraph("What the link run said of this case file:", Style(.warning, bold: true))]
                paragraphs += sentences.map { Paragraph($0, Style(.warning)) }
            }
            return DocumentSheet(crumb: "clusters", paragraphs: paragraphs)
        }
        // What bears on every cluster, one line each above the list.
        let headlines = (caveats?.headlines ?? []).map { Paragraph([Span("caveat ", Style(.warning, bold: true)), Span($0, Style(.warning))]) }
        return try TableSheet(crumb: "clusters", context: context, query: BrowseQueries.clusters(context.database, run: run),
                              header: { headlines }) { row in
            .push(try cluster(context, run: run, id: Int64(row.id) ?? 0))
        }
    }

    static func cluster(_ context: SheetContext, run: Int64, id: Int64) throws -> Sheet {
        let target = Target(.cluster, String(id))
        return try ClusterSheet(crumb: String(id), target: target, context: context,
                                query: try BrowseQueries.members(context.database, run: run, cluster: id),
                                header: { try clusterHeader(context, run: run, id: id) }) { row in
            .push(try account(context, id: row.id))
        }
    }

    private static func clusterHeader(_ context: SheetContext, run: Int64, id: Int64) throws -> [Paragraph] {
        guard let c = try DetailQueries.cluster(context.database, run: run, cluster: id) else {
            return [Paragraph("cluster \(id) is not in the latest link run", Style(.warning))]
        }
        let span = [c.firstSeenMilliseconds, c.lastSeenMilliseconds].map { $0.map(day) ?? "?" }.joined(separator: " → ")
        // The discount goes beside the risk it lowers: at the end of the indicators it was cut
        // off on an ordinary terminal.
        let discount = c.indicators.first { $0.value > 0 && $0.name == Schema.discountIndicator }
        var lines = [Paragraph([Span("cluster \(id)", Style(.accent, bold: true)),
                                Span("  risk \(String(format: "%.2f", c.riskScore))", Style(c.riskScore >= 0.7 ? .warning : .normal, bold: true))]
                               + (discount.map { [Span(" (discounted: \($0.name) \(String(format: "%.2f", $0.value)))", Style(.dim))] } ?? [])
                               + [Span("  \(grouped(c.size)) accounts  \(grouped(c.exchanges)) exchanges  \(span)  \(c.change)")])]
        lines.append(Paragraph([Span("indicators ", Style(.dim))]
            + c.indicators.filter { $0.value > 0 && $0.name != Schema.discountIndicator }.prefix(6)
                .map { Span("\($0.name) \(String(format: "%.2f", $0.value))  ") }))
        lines.append(Paragraph([Span("links      ", Style(.dim))] + c.signals.prefix(6).map { Span("\($0.name) \(grouped($0.links))  ") }))
        lines.append(Paragraph([Span("per day    ", Style(.dim)), Span(sparkline(c.days), Style(.accent)),
                                Span("  peak \(grouped(c.days.map(\.exchanges).max() ?? 0))/day", Style(.dim))]))
        let cases = c.cases.map { "#\($0.caseID) \($0.status) \(oneLine($0.title))" }
        lines.append(Paragraph([Span("cases      ", Style(.dim)),
                                Span(cases.isEmpty ? "none (o opens one)" : cases.joined(separator: "; "))]))
        lines.append(annotations(context, Target(.cluster, String(id))))
        return lines
    }

    /// "notes 2 (latest: …) · tags a, b" for a header.
    static func annotations(_ context: SheetContext, _ target: Target) -> Paragraph {
        let notes = (try? context.caseBook.notes(on: target)) ?? []
        let tags = (try? context.caseBook.tags(on: target)) ?? []
        var spans = [Span("notes      ", Style(.dim)), Span(notes.isEmpty ? "none (a writes one)" : "\(notes.count)")]
        if let latest = notes.last { spans.append(Span("  latest: " + oneLine(latest.body), Style(.dim))) }
        spans.append(Span("  tags ", Style(.dim)))
        spans.append(Span(tags.isEmpty ? "none" : tags.map(oneLine).joined(separator: ", "), Style(.highlight)))
        return Paragraph(spans)
    }

    /// Requests per day as a row of eighth-blocks, oldest day first.
    static func sparkline(_ days: [(day: Int64, exchanges: Int)], width: Int = 60) -> String {
        guard let first = days.first?.day, let last = days.last?.day else { return "(no activity)" }
        let span = Int(last - first) + 1
        var counts = Array(repeating: 0, count: span)
        for d in days { counts[Int(d.day - first)] += d.exchanges }
        // More days than columns: sum neighbouring days into one bar.
        let buckets = min(span, width)
        var bars = Array(repeating: 0, count: buckets)
        for (index, count) in counts.enumerated() { bars[index * buckets / span] += count }
        let peak = max(1, bars.max() ?? 1)
        let blocks = Array("▁▂▃▄▅▆▇█")
        return String(bars.map { $0 == 0 ? " " : blocks[min(7, ($0 * 8 - 1) / peak)] })
    }

    static func day(_ milliseconds: Int64) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd"
        return formatter.string(from: Date(timeIntervalSince1970: Double(milliseconds) / 1000))
    }

    static func links(_ context: SheetContext, run: Int64, cluster: Int64) throws -> Sheet {
        try TableSheet(crumb: "links", context: context, query: BrowseQueries.links(context.database, run: run, cluster: cluster)) { row in
            let pair = row.id.split(separator: " ", maxSplits: 1).map(String.init)
            guard pair.count == 2 else { return .message("this link has no accounts") }
            return .push(try whyLinked(context, pair[0], pair[1]))
        }
    }

    // MARK: - Accounts and exchanges

    static func account(_ context: SheetContext, id: String) throws -> Sheet {
        guard let profile = try DetailQueries.account(context.database, id: id) else {
            return DocumentSheet(crumb: DisplayWidth.truncate(oneLine(id), to: 16), paragraphs: [Paragraph("no account \(oneLine(id))", Style(.warning))])
        }
        let sheet = try AccountSheet(crumb: DisplayWidth.truncate(oneLine(id), to: 16), target: Target(.account, id), context: context,
                                     query: BrowseQueries.exchanges(context.database, accountKey: profile.accountKey),
                                     header: { try accountHeader(context, id: id, traffic: nil) }) { row in
            .push(try exchange(context, id: row.id))
        }
        sheet.loadTraffic(accountKey: profile.accountKey) { traffic in try accountHeader(context, id: id, traffic: traffic) }
        return sheet
    }

    private static func accountHeader(_ context: SheetContext, id: String, traffic: AccountTraffic?) throws -> [Paragraph] {
        guard let profile = try DetailQueries.account(context.database, id: id) else { return [] }
        let field = Dictionary(profile.fields.map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a })
        var lines = [Paragraph([Span("account \(oneLine(id))", Style(.accent, bold: true)),
                                Span("  created \(field["created"] ?? "-")  \(oneLine(field["email"] ?? "-"))  \(field["country"] ?? "-")  status \(field["status"] ?? "-")  plan \(oneLine(field["plan"] ?? "-"))")])]
        var place = [Span("cluster    ", Style(.dim))]
        if let cluster = profile.cluster {
            place.append(Span("\(cluster.id) (risk \(String(format: "%.2f", cluster.risk)))"))
        } else {
            place.append(Span("none"))
            if Placeholder.isPlaceholder(id) { place.append(Span(" (a placeholder id, left out of linking)", Style(.warning))) }
        }
        place.append(Span("  signup ip \(field["signup ip"] ?? "-")  org \(oneLine(field["org"] ?? "-"))  source \(oneLine(field["source"] ?? "-"))", Style(.dim)))
        lines.append(Paragraph(place))
        lines.append(Paragraph([Span("payments   ", Style(.dim)),
                                Span(profile.payments.isEmpty ? "none" : profile.payments.map(oneLine).joined(separator: "; "))]))
        if let traffic {
            lines.append(Paragraph([Span("ips        ", Style(.dim)), Span(traffic.ips.prefix(4).map {
                "\($0.ip) \($0.kind) \(oneLine($0.owner)) ×\(grouped($0.exchanges))"
            }.joined(separator: "; "))]))
            lines.append(Paragraph([Span("clients    ", Style(.dim)), Span(traffic.clients.prefix(3).map {
                "\(oneLine($0.client)) ×\(grouped($0.exchanges))"
            }.joined(separator: "; "))]))
        } else {
            lines.append(Paragraph([Span("ips        ", Style(.dim)), Span("reading…", Style(.dim))]))
        }
        lines.append(annotations(context, Target(.account, id)))
        return lines
    }

    static func exchange(_ context: SheetContext, id: String) throws -> Sheet {
        try DocumentSheet(crumb: DisplayWidth.truncate(oneLine(id), to: 16), target: Target(.exchange, id)) {
            guard let e = try DetailQueries.exchange(context.database, id: id) else {
                return [Paragraph("no exchange \(oneLine(id))", Style(.warning))]
            }
            var paragraphs = [Paragraph([Span("exchange \(oneLine(e.exchangeID))", Style(.accent, bold: true)),
                                         Span("  account \(oneLine(e.accountID))")],
                                        action: { .push(try account(context, id: e.accountID)) })]
            paragraphs += e.fields.filter { $0.value != "-" }.map { Paragraph([Span(DisplayWidth.fit($0.name, to: 14), Style(.dim)), Span(oneLine($0.value))]) }
            paragraphs.append(Paragraph([Span(DisplayWidth.fit("from", to: 14), Style(.dim)), Span(oneLine(e.provenance))]))
            paragraphs.append(annotations(context, Target(.exchange, id)))
            for (title, body) in [("prompt", e.prompt), ("response", e.response)] {
                paragraphs.append(Paragraph.blank)
                paragraphs.append(Paragraph(title, Style(.header, bold: true)))
                paragraphs += text(String(body.prefix(shownCharacters)))
                if body.count > shownCharacters {
                    paragraphs.append(Paragraph("(\(grouped(body.count - shownCharacters)) more characters: read them with SQL from the exchanges view)",
                                                Style(.warning)))
                }
            }
            return paragraphs
        }
    }

    /// How much of a prompt or response the exchange sheet wraps: a 64 MiB record stays readable and quick.
    static let shownCharacters = 1 << 20

    /// Multi-line text from the case file as paragraphs: one per line, tabs as spaces, controls escaped.
    static func text(_ body: String, indent: Int = 2) -> [Paragraph] {
        body.replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n", omittingEmptySubsequences: false).map {
            Paragraph(Printable.escaped(String($0).replacingOccurrences(of: "\t", with: "    ")), indent: indent)
        }
    }

    // MARK: - Why linked

    static func whyLinked(_ context: SheetContext, _ first: String, _ second: String) throws -> Sheet {
        try DocumentSheet(crumb: "why \(DisplayWidth.truncate(oneLine(first), to: 10))–\(DisplayWidth.truncate(oneLine(second), to: 10))",
                          accounts: (first, second)) {
            guard let hops = try LinkQueries.path(context.database, from: first, to: second) else {
                return try notLinked(context, first, second)
            }
            var paragraphs = [Paragraph([Span("\(oneLine(first)) and \(oneLine(second))", Style(.accent, bold: true)),
                                         Span(" are linked in \(hops.count) step(s). Enter on a source row opens it; p compares prompts.")])]
            for hop in hops {
                paragraphs.append(Paragraph.blank)
                paragraphs.append(Paragraph([Span("\(oneLine(hop.from)) — \(oneLine(hop.to))", Style(bold: true)),
                                             Span("  score \(String(format: "%.2f", hop.score))")]))
                for item in hop.evidence {
                    paragraphs.append(Paragraph([Span(String(format: "+%.2f  ", item.weight), Style(.accent)),
                                                 Span("\(item.signal): "), Span(oneLine(item.value), Style(.highlight))], indent: 2))
                    paragraphs += item.sources.map { sourceParagraph(context, $0) }
                }
            }
            return paragraphs
        }
    }

    /// Two accounts the link run kept apart: the cluster of each and what they share all the same.
    private static func notLinked(_ context: SheetContext, _ first: String, _ second: String) throws -> [Paragraph] {
        let pair = try LinkQueries.inCommon(context.database, first, second,
                                            templateLikeness: try TemplateComparison.alike(context.database, first, second))
        func place(_ cluster: Int64?) -> String { cluster.map { "cluster \($0)" } ?? "no cluster" }
        var paragraphs = [
            Paragraph([Span("\(oneLine(first)) and \(oneLine(second))", Style(.accent, bold: true)),
                       Span(" are not in the same cluster", Style(.warning)),
                       Span(" (\(place(pair.firstCluster)) and \(place(pair.secondCluster))). p compares prompts.")]),
            Paragraph.blank,
        ]
        for account in [first, second] where Placeholder.isPlaceholder(account) {
            paragraphs += [Paragraph([Span(oneLine(account), Style(.accent)),
                                      Span(" is " + LinkCaveats.placeholderAccount, Style(.warning))]),
                           Paragraph.blank]
        }
        guard !pair.shared.isEmpty else {
            return paragraphs + [Paragraph("They share no card, address, address block, client, email domain or template.")]
        }
        paragraphs.append(Paragraph("What they share, which was not enough for the link run to link them (a value is weighed by "
                                    + "how many accounts share it and whether its sharers look like one operator):", Style(.dim)))
        for value in pair.shared {
            var spans = [Span("\(value.signal): "), Span(oneLine(value.value), Style(.highlight))]
            if let kind = value.kind { spans.append(Span(" (\(oneLine(kind)))")) }
            if let count = value.accounts { spans.append(Span(", held by \(count) account(s)", Style(.dim))) }
            if value.isPlaceholder { spans.append(Span("; a placeholder, read as absent", Style(.warning))) }
            paragraphs.append(Paragraph(spans, indent: 2))
            paragraphs += value.sources.map { sourceParagraph(context, $0) }
        }
        for (signal, count) in pair.unlisted.sorted(by: { $0.key < $1.key }) {
            paragraphs.append(Paragraph("… and \(count) more \(signal) value(s) in common", Style(.dim), indent: 2))
        }
        return paragraphs
    }

    /// An input row behind a value; Enter opens the exchange or account it became.
    private static func sourceParagraph(_ context: SheetContext, _ source: SourceRow) -> Paragraph {
        Paragraph("from \(oneLine(source.description))", Style(.dim), indent: 8) {
            if let exchangeID = source.exchangeID { return .push(try exchange(context, id: exchangeID)) }
            if let accountID = source.accountID { return .push(try account(context, id: accountID)) }
            return .message("this source row is not loaded as an exchange or account")
        }
    }

    static func prompts(_ context: SheetContext, _ first: String, _ second: String) throws -> Sheet {
        let left = try DetailQueries.sampledPrompts(context.database, accountID: first)
        let right = try DetailQueries.sampledPrompts(context.database, accountID: second)
        return SideBySideSheet(crumb: "prompts", titles: [first, second], texts: [left, right])
    }

    // MARK: - Cases

    static func cases(_ context: SheetContext) throws -> Sheet {
        try TableSheet(crumb: "cases", context: context, query: BrowseQueries.cases(context.database)) { row in
            .push(try caseSheet(context, id: Int64(row.id) ?? 0))
        }
    }

    static func caseSheet(_ context: SheetContext, id: Int64) throws -> Sheet {
        try DocumentSheet(crumb: "case \(id)", target: Target(.case, String(id))) {
            let detail = try context.caseBook.detail(id)
            let s = detail.summary
            var paragraphs = [
                Paragraph([Span("case \(id)", Style(.accent, bold: true)), Span("  " + oneLine(s.title), Style(bold: true))]),
                Paragraph([Span("status ", Style(.dim)), Span(s.status.rawValue, Style(.highlight, bold: true)),
                           Span("  assignee ", Style(.dim)), Span(oneLine(s.assignee ?? "nobody")),
                           Span("  opened by ", Style(.dim)), Span(oneLine(s.createdBy) + " " + day(s.createdAtMilliseconds))]),
                Paragraph([Span("findings    ", Style(.dim)), Span(oneLine(detail.findings ?? "-"))]),
                Paragraph([Span("attribution ", Style(.dim)), Span(oneLine(detail.attribution ?? "-")),
                           Span("  confidence ", Style(.dim)), Span(detail.confidence?.rawValue ?? "-")]),
                Paragraph([Span("tags        ", Style(.dim)), Span(detail.tags.isEmpty ? "none" : detail.tags.map(oneLine).joined(separator: ", "), Style(.highlight))]),
                Paragraph.blank,
                Paragraph("clusters (Enter opens)", Style(.header, bold: true)),
            ]
            if let run = context.run {
                for cluster in detail.clusterIDs {
                    paragraphs.append(Paragraph("cluster \(cluster)", indent: 2) { .push(try Sheets.cluster(context, run: run, id: cluster)) })
                }
            }
            if detail.clusterIDs.isEmpty { paragraphs.append(Paragraph("none", Style(.dim), indent: 2)) }
            paragraphs.append(Paragraph("accounts", Style(.header, bold: true)))
            for account in detail.accountIDs {
                paragraphs.append(Paragraph(oneLine(account), indent: 2) { .push(try Sheets.account(context, id: account)) })
            }
            if detail.accountIDs.isEmpty { paragraphs.append(Paragraph("none", Style(.dim), indent: 2)) }
            paragraphs.append(Paragraph("notes", Style(.header, bold: true)))
            for note in detail.notes {
                paragraphs.append(Paragraph("note \(note.noteID) · v\(note.version) · \(oneLine(note.author)) · \(day(note.atMilliseconds))", Style(.dim), indent: 2))
                paragraphs += text(note.body, indent: 4)
            }
            if detail.notes.isEmpty { paragraphs.append(Paragraph("none (a writes one)", Style(.dim), indent: 2)) }
            paragraphs.append(Paragraph("history (audit log)", Style(.header, bold: true)))
            for entry in try context.caseBook.auditHistory(of: Target(.case, String(id))) {
                paragraphs.append(Paragraph("#\(entry.seq) \(day(entry.atMilliseconds)) \(oneLine(entry.actor)) \(entry.action) \(oneLine(entry.payload))",
                                            indent: 2))
            }
            return paragraphs
        }
    }

    /// The sheet for `kind:id` (a bare id is an account).
    static func open(_ context: SheetContext, _ text: String) throws -> Sheet {
        let target = text.contains(":") ? try Target(parsing: text) : Target(.account, text)
        switch target.kind {
        case .account: return try account(context, id: target.id)
        case .exchange: return try exchange(context, id: target.id)
        case .case:
            guard let id = Int64(target.id) else { throw CasesError.invalid("a case id is a number") }
            _ = try context.caseBook.detail(id)
            return try caseSheet(context, id: id)
        case .cluster:
            guard let run = context.run, let id = Int64(target.id) else { throw CasesError.notFound("no cluster \(target.id) in the latest link run") }
            return try cluster(context, run: run, id: id)
        }
    }

    // MARK: - Help and search

    static func help() -> Sheet {
        var paragraphs = [Paragraph("casebook keys", Style(.accent, bold: true)),
                          Paragraph("Every key below is a command; the same table drives the keymap.", Style(.dim))]
        var group = ""
        for command in Command.table {
            if command.group != group {
                group = command.group
                paragraphs.append(Paragraph.blank)
                paragraphs.append(Paragraph(group, Style(.header, bold: true)))
            }
            paragraphs.append(Paragraph([Span(DisplayWidth.fit(command.keys.map(\.description).joined(separator: " "), to: 22), Style(bold: true)),
                                         Span(command.help)], indent: 2))
        }
        paragraphs.append(Paragraph.blank)
        paragraphs.append(Paragraph("In the note editor: arrows, Home/End, Backspace/Del; Enter is a new line; Ctrl-S saves; Esc cancels.", Style(.dim)))
        return DocumentSheet(crumb: "help", paragraphs: paragraphs)
    }

    static func promptSearch(_ context: SheetContext, match: String) throws -> Sheet {
        try TableSheet(crumb: "search \(DisplayWidth.truncate(oneLine(match), to: 12))", context: context,
                       query: BrowseQueries.promptSearch(context.database, match: match)) { row in
            .push(try exchange(context, id: row.id))
        }
    }
}

/// A cluster: its header, and its members; `e` lists its links, `m`/`w`/`p` compare two members.
final class ClusterSheet: TableSheet {
    override func handle(_ command: CommandName) throws -> SheetAction {
        switch command {
        case .evidence:
            guard let run = context.run, let id = target.flatMap({ Int64($0.id) }) else { return .unhandled }
            return .push(try Sheets.links(context, run: run, cluster: id))
        default:
            return try super.handle(command)
        }
    }
}

/// An account: its profile (with its traffic summarised in the background) and its exchanges, newest first.
final class AccountSheet: TableSheet {
    private var reloadTraffic: (() -> Void)?

    override func reload() throws {
        try super.reload()
        reloadTraffic?()
    }

    func loadTraffic(accountKey: Int64, header: @escaping (AccountTraffic) throws -> [Paragraph]) {
        reloadTraffic = { [weak self] in self?.loadTraffic(accountKey: accountKey, header: header) }
        context.work.submit("reading the account's traffic", job: { database in
            try DetailQueries.traffic(database, accountKey: accountKey)
        }) { [weak self] result in
            guard let self, case let .success(traffic) = result, let lines = try? header(traffic) else { return }
            self.replaceHeader(lines)
        }
    }
}
