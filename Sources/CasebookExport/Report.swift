import CasebookIO
import CasebookQueries
import CasebookStore
import Foundation

/// The bundle's human-readable report, as `report.html` (self-contained, printable) and
/// `report.md`: both rendered from one list of blocks, so they say the same thing.
enum Report {
    enum Block {
        case heading(Int, String)
        case paragraph(String)
        case list([String])
        /// Steps to follow in order: numbered in both renderings.
        case steps([String])
        case table([String], [[String]])
        case code(String)
        /// Requests per day: an SVG bar chart in HTML, a table in Markdown.
        case timeline([(day: String, count: Int)])
    }

    static func write(_ subset: EvidenceSubset, custody: Custody, root: String) throws -> [BundleEntry] {
        let blocks = try compose(subset, custody: custody)
        let html = try BundleFile(root: root, relativePath: "report.html")
        html.write(HTMLRenderer.render(blocks, title: title(subset)))
        let markdown = try BundleFile(root: root, relativePath: "report.md")
        markdown.write(MarkdownRenderer.render(blocks))
        return [try html.finish(), try markdown.finish()]
    }

    private static func title(_ subset: EvidenceSubset) -> String {
        switch subset.subject {
        case let .caseFile(id): return "Evidence bundle: case \(id)"
        case let .cluster(id): return "Evidence bundle: cluster \(id)"
        }
    }

    static func compose(_ subset: EvidenceSubset, custody: Custody) throws -> [Block] {
        let db = subset.database
        var blocks: [Block] = [.heading(1, title(subset))]

        // Summary
        blocks.append(.heading(2, "Summary"))
        if case let .caseFile(id) = subset.subject,
           let row = try db.prepare("SELECT title, status, assignee, findings, attribution, confidence, created_by FROM cases WHERE case_id = ?1")
            .rows([id], { row in (0..<7).map { row.string(Int32($0)) } }).first {
            blocks.append(.table(["", ""], [
                ["Case", "\(id): \(row[0] ?? "")"], ["Status", row[1] ?? ""], ["Assignee", row[2] ?? "—"],
                ["Opened by", row[6] ?? ""],
            ]))
            blocks.append(.heading(3, "Attribution"))
            let attribution = row[4].map { "\($0) (confidence: \(row[5] ?? "not stated"))" } ?? "No attribution has been recorded."
            blocks.append(.paragraph(attribution))
            blocks.append(.heading(3, "Findings"))
            blocks.append(.paragraph(row[3] ?? "No findings have been recorded."))
        }
        let span = try db.prepare("""
            SELECT strftime('%Y-%m-%dT%H:%M:%SZ', min(ts_ms) / 1000, 'unixepoch'), strftime('%Y-%m-%dT%H:%M:%SZ', max(ts_ms) / 1000, 'unixepoch')
            FROM exchange_rows
            """).rows { ($0.string(0) ?? "—", $0.string(1) ?? "—") }.first ?? ("—", "—")
        let counts = subset.counts
        // Under a heading of its own: after a case's findings it would read as part of them.
        blocks.append(.heading(3, "What the bundle holds"))
        blocks.append(.table(["What", "Count"], [
            ["Clusters", grouped(counts.clusters)], ["Accounts", grouped(counts.accounts)],
            ["Exchanges", grouped(counts.exchanges)], ["Links (with their evidence)", grouped(counts.links)],
            ["Notes", grouped(counts.notes)], ["Tags", grouped(counts.tags)],
            ["First exchange", span.0], ["Last exchange", span.1],
        ]))

        // Methodology
        var appendix: [Block] = []
        blocks.append(.heading(2, "Methodology"))
        blocks.append(.paragraph("""
            Accounts were linked by casebook \(custody.casebookVersion): two accounts are linked when the weights of \
            the signals they share add up to at least the threshold. The signals, by the names used in the data files: \
            card (a payment fingerprint), ip (an address used by both within days of each other), ip_net (hosting \
            addresses in one /24 or /48 block), user_agent (a client), email_domain, email_sequence (generated \
            addresses), chargeback_bin, prompt_template (the phrases that recur across an account's prompts), \
            synchronized_activity (the same active hours, far beyond chance) and succession (an account stops and \
            another starts within hours on the same address, block or template). A value shared by more than a few \
            accounts counts only when its sharers otherwise agree (country, client, sign-up week, daily rhythm, card \
            BIN, e-mail domain, each measured against the case file's own mix), and only between sharers that fit that \
            crowd: a VPN exit, a carrier NAT, a proxy exit or a public prompt template shared by strangers weighs \
            nothing. Linked accounts form a cluster; each cluster gets a risk score in [0, 1] from the indicators \
            listed with it.
            """))
        if let parameters = try db.prepare("SELECT parameters, run_id, strftime('%Y-%m-%dT%H:%M:%SZ', started_at_ms / 1000, 'unixepoch') FROM link_runs")
            .rows([], { ($0.string(0) ?? "{}", $0.int64(1), $0.string(2) ?? "") }).first {
            let rows = flatten(parameters.0)
            let threshold = rows.first { $0[0] == "threshold" }?[1] ?? "?"
            let weights = rows.filter { $0[0].hasSuffix("Weight") }.map { "\($0[0].dropLast(6)) \($0[1])" }.joined(separator: ", ")
            blocks.append(.paragraph("Link run \(parameters.1), started \(parameters.2). Threshold \(threshold); weights: \(weights). Every parameter of the run is listed in the appendix."))
            if let sentences = try LinkCaveats.of(run: parameters.1, in: db)?.sentences, !sentences.isEmpty {
                blocks.append(.paragraph("What the link run said of the case file it linked, which bears on every cluster below:"))
                blocks.append(.list(sentences))
            }
            appendix = [.heading(2, "Appendix: parameters of link run \(parameters.1)"), .table(["Parameter", "Value"], rows)]
        }

        // Clusters
        let clusters = try db.prepare("""
            SELECT cluster_id, size, exchanges, risk_score, indicators, signals, first_seen, last_seen FROM clusters
            ORDER BY risk_score DESC, cluster_id
            """).rows { row in (row.int64(0), row.int(1), row.int(2), row.double(3), row.string(4) ?? "{}", row.string(5) ?? "{}",
                                row.string(6) ?? "—", row.string(7) ?? "—") }
        for cluster in clusters {
            blocks.append(.heading(2, "Cluster \(cluster.0)"))
            blocks.append(.table(["", ""], [
                ["Risk score", String(format: "%.3f", cluster.3)], ["Accounts", grouped(cluster.1)],
                ["Exchanges", grouped(cluster.2)], ["Active", "\(cluster.6) to \(cluster.7)"],
                ["Links by signal", flatten(cluster.5).map { "\($0[0]): \($0[1])" }.joined(separator: ", ")],
            ]))
            blocks.append(.heading(3, "Indicators"))
            // The discount lowers the score; the reader should not take it for a risk driver.
            blocks.append(.table(["Indicator", "Value"], flatten(cluster.4).map {
                $0[0] == Schema.discountIndicator ? ["\($0[0]) (discount: the score is lowered by half this share)", $0[1]] : $0
            }))
            blocks.append(.heading(3, "Activity timeline (requests per day, UTC)"))
            let days = try db.prepare("SELECT day, exchanges FROM cluster_days WHERE cluster_id = ?1 ORDER BY day")
                .rows([cluster.0]) { (day: $0.string(0) ?? "", count: $0.int(1)) }
            blocks.append(.timeline(days))
            blocks.append(.heading(3, "Strongest links"))
            let links = try db.prepare("""
                SELECT l.link_id, l.account_a, l.account_b, l.score,
                       (SELECT group_concat(signal || ' ' || value || ' (' || round(weight, 2) || ')', char(10))
                        FROM (SELECT * FROM link_evidence e WHERE e.link_id = l.link_id ORDER BY weight DESC))
                FROM links l WHERE l.cluster_id = ?1 ORDER BY l.score DESC, l.link_id LIMIT 25
                """).rows([cluster.0]) { [String($0.int64(0)), $0.string(1) ?? "", $0.string(2) ?? "", String(format: "%.2f", $0.double(3)), $0.string(4) ?? ""] }
            blocks.append(.table(["Link", "Account", "Account", "Score", "Evidence (signal, shared value, weight)"], links))
            if counts.links > 25 {
                blocks.append(.paragraph("Every link, its evidence and the input rows behind it: data/links.csv and data/link_evidence.csv."))
            }
        }

        // Notes and tags
        let notes = try db.prepare("""
            SELECT target_type || ' ' || target_id, last_author, updated_at, version, body FROM current_notes ORDER BY updated_at_ms
            """).rows { [$0.string(0) ?? "", $0.string(1) ?? "", $0.string(2) ?? "", String($0.int(3)), $0.string(4) ?? ""] }
        blocks.append(.heading(2, "Notes"))
        blocks.append(notes.isEmpty ? .paragraph("No notes.") : .table(["About", "Author", "Updated", "Version", "Note"], notes))
        let tags = try db.prepare("SELECT target_type || ' ' || target_id, group_concat(tag, ', ') FROM tags GROUP BY target_type, target_id")
            .rows { [$0.string(0) ?? "", $0.string(1) ?? ""] }
        blocks.append(.heading(2, "Tags"))
        blocks.append(tags.isEmpty ? .paragraph("No tags.") : .table(["About", "Tags"], tags))

        // Custody
        blocks.append(.heading(2, "Custody record"))
        var custodyRows: [[String]] = [
            ["Exported by", custody.actor], ["Exported at (UTC)", Exporter.iso(custody.at)], ["Bundle", custody.bundleName],
            ["From case file", custody.caseFile], ["casebook version", custody.casebookVersion],
            ["Schema version", String(Schema.currentVersion)],
            ["Audit log head at export", subset.auditHead.map { "entry \($0.seq), hash \($0.hash)" } ?? "empty"],
            ["Redaction", custody.redaction.isEmpty ? "none (unredacted export)" : custody.redaction.names.joined(separator: ", ") + " replaced by keyed pseudonyms"],
            ["Signing key (SHA-256 of the Ed25519 public key)", custody.keyFingerprint],
        ]
        custodyRows.append(["Audit excerpt", "data/audit.jsonl: \(grouped(counts.auditEntries)) entries, from the first ingest to the export"])
        blocks.append(.table(["", ""], custodyRows))
        let inputs = try db.prepare("SELECT path, sha256, size_bytes, status FROM source_files ORDER BY file_id")
            .rows { [$0.string(0) ?? "", $0.string(1) ?? "—", $0.optionalInt64(2).map { grouped(Int($0)) } ?? "—", $0.string(3) ?? ""] }
        blocks.append(.heading(3, "Input files"))
        blocks.append(.table(["File", "SHA-256", "Bytes", "Status"], inputs))

        // Verification
        blocks.append(.heading(2, "How to verify this bundle"))
        blocks.append(.paragraph("Every file is listed with its SHA-256 in MANIFEST.sha256 and in manifest.json; manifest.json is signed with Ed25519 (manifest.sig, 64 raw bytes) by the key in public-key.pem. From inside the bundle folder:"))
        blocks.append(.steps([
            "Check every file's digest: sha256sum -c MANIFEST.sha256",
            "Check the signature with OpenSSL 3: openssl pkeyutl -verify -pubin -inkey public-key.pem -rawin -in manifest.json -sigfile manifest.sig",
            "Compare the public key's fingerprint with the one the investigator gave you: the SHA-256 of the key's 32 raw bytes is \(custody.keyFingerprint)",
            "Or run: casebook verify BUNDLE --key EXPECTED-public-key.pem (checks digests, missing or extra files, the signature and the audit excerpt)",
        ]))
        blocks.append(.paragraph("With Python's cryptography package:"))
        blocks.append(.code("""
            from cryptography.hazmat.primitives.serialization import load_pem_public_key
            key = load_pem_public_key(open("public-key.pem", "rb").read())
            key.verify(open("manifest.sig", "rb").read(), open("manifest.json", "rb").read())  # raises if altered
            """))
        blocks.append(.paragraph("The audit excerpt chains: each entry's hash is the SHA-256 of the previous entry's hash followed by json_array(seq, at_ms, actor, action, target, payload) as SQLite writes it; its last entry is the head recorded in manifest.json. Entries about other cases keep their place and hash but not their payload (payload_withheld)."))
        return blocks + appendix
    }

    /// A JSON object's entries as rows, nested objects flattened to `a.b`.
    static func flatten(_ json: String) -> [[String]] {
        guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else { return [] }
        var rows: [[String]] = []
        func walk(_ value: Any, _ prefix: String) {
            if let dictionary = value as? [String: Any] {
                for key in dictionary.keys.sorted() { walk(dictionary[key]!, prefix.isEmpty ? key : prefix + "." + key) }
            } else if let array = value as? [Any] {
                rows.append([prefix, array.map { "\($0)" }.joined(separator: ", ")])
            } else if let number = value as? NSNumber {
                let double = number.doubleValue
                rows.append([prefix, double == double.rounded() && abs(double) < 1e15 ? String(Int64(double)) : String(format: "%.4g", double)])
            } else {
                rows.append([prefix, "\(value)"])
            }
        }
        walk(object, "")
        return rows
    }

    static func grouped(_ value: Int) -> String {
        let formatter = NumberFormatter()
        formatter.numberStyle = .decimal
        formatter.locale = Locale(identifier: "en_US")
        return formatter.string(from: NSNumber(value: value)) ?? String(value)
    }
}

enum HTMLRenderer {
    static func render(_ blocks: [Report.Block], title: String) -> String {
        var out = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>\(escape(title))</title>
            <style>
            body { font: 11pt/1.45 "DejaVu Sans", Helvetica, Arial, sans-serif; margin: 2em auto; max-width: 60em; color: #111; }
            h1 { font-size: 1.6em; border-bottom: 2px solid #333; } h2 { font-size: 1.25em; margin-top: 1.6em; border-bottom: 1px solid #aaa; }
            h3 { font-size: 1.05em; } table { border-collapse: collapse; margin: .5em 0; width: 100%; }
            td, th { border: 1px solid #bbb; padding: .2em .4em; vertical-align: top; text-align: left; word-break: break-word; }
            th { background: #eee; } .k { white-space: nowrap; } pre { background: #f4f4f4; padding: .6em; white-space: pre-wrap; word-break: break-all; }
            ul { list-style: none; padding-left: 0; } ol { padding-left: 1.6em; } li { margin: .3em 0; font-family: "DejaVu Sans Mono", monospace; font-size: 9.5pt; word-break: break-all; }
            svg { width: 100%; height: auto; } @media print { h1, h2, h3 { break-after: avoid; } tr, svg { break-inside: avoid; } }
            </style></head><body>

            """
        for block in blocks {
            switch block {
            case let .heading(level, text): out += "<h\(level)>\(escape(text))</h\(level)>\n"
            case let .paragraph(text): out += "<p>\(escape(text).replacingOccurrences(of: "\n", with: "<br>"))</p>\n"
            case let .list(items): out += "<ul>" + items.map { "<li>\(escape($0))</li>" }.joined() + "</ul>\n"
            case let .steps(items): out += "<ol>" + items.map { "<li>\(escape($0))</li>" }.joined() + "</ol>\n"
            case let .code(text): out += "<pre>\(escape(text))</pre>\n"
            case let .table(headers, rows):
                out += "<table>"
                // A header in <thead> is repeated on every printed page the table spans.
                if headers.contains(where: { !$0.isEmpty }) { out += "<thead><tr>" + headers.map { "<th\(keep($0))>\(escape($0))</th>" }.joined() + "</tr></thead>" }
                out += "<tbody>"
                for row in rows {
                    out += "<tr>" + row.map { "<td\(keep($0))>\(escape($0).replacingOccurrences(of: "\n", with: "<br>"))</td>" }.joined() + "</tr>"
                }
                out += "</tbody></table>\n"
            case let .timeline(days): out += svg(days) + "\n"
            }
        }
        return out + "</body></html>\n"
    }

    /// Bars per day with the busiest day's count and the first and last day labelled.
    static func svg(_ days: [(day: String, count: Int)]) -> String {
        guard let first = days.first, let last = days.last else { return "<p>No activity recorded.</p>" }
        let width = 720.0, height = 180.0, left = 50.0, bottom = 30.0, top = 10.0
        let peak = max(1, days.map(\.count).max() ?? 1)
        let slot = (width - left - 10) / Double(days.count)
        var out = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" aria-label=\"requests per day\">"
        out += "<line x1=\"\(left)\" y1=\"\(height - bottom)\" x2=\"\(width - 10)\" y2=\"\(height - bottom)\" stroke=\"#333\"/>"
        for (index, day) in days.enumerated() {
            let barHeight = (height - bottom - top) * Double(day.count) / Double(peak)
            let x = left + Double(index) * slot
            out += "<rect x=\"\(String(format: "%.2f", x))\" y=\"\(String(format: "%.2f", height - bottom - barHeight))\" width=\"\(String(format: "%.2f", max(0.5, slot * 0.85)))\" height=\"\(String(format: "%.2f", barHeight))\" fill=\"#3465a4\"><title>\(escape(day.day)): \(day.count)</title></rect>"
        }
        out += "<text x=\"\(left - 4)\" y=\"\(top + 8)\" font-size=\"10\" text-anchor=\"end\">\(peak)</text>"
        out += "<text x=\"\(left - 4)\" y=\"\(height - bottom)\" font-size=\"10\" text-anchor=\"end\">0</text>"
        out += "<text x=\"\(left)\" y=\"\(height - 10)\" font-size=\"10\">\(escape(first.day))</text>"
        out += "<text x=\"\(width - 10)\" y=\"\(height - 10)\" font-size=\"10\" text-anchor=\"end\">\(escape(last.day))</text>"
        return out + "</svg>"
    }

    /// Short single words (ids, scores, dates) are kept on one line; long text wraps around them.
    private static func keep(_ text: String) -> String {
        text.count <= 24 && !text.contains(" ") ? " class=\"k\"" : ""
    }

    /// HTML text, with controls and bidirectional overrides shown escaped as on every screen.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in Printable.escaped(text, keepingLineBreaks: true).unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}

enum MarkdownRenderer {
    static func render(_ blocks: [Report.Block]) -> String {
        var out = ""
        for block in blocks {
            switch block {
            case let .heading(level, text): out += String(repeating: "#", count: level) + " " + inline(text) + "\n\n"
            case let .paragraph(text): out += inline(text) + "\n\n"
            case let .list(items): out += items.map { "- " + inline($0) }.joined(separator: "\n") + "\n\n"
            case let .steps(items): out += items.enumerated().map { "\($0.offset + 1). " + inline($0.element) }.joined(separator: "\n") + "\n\n"
            case let .code(text): out += "```\n" + text + "\n```\n\n"
            case let .table(headers, rows):
                out += "| " + headers.map(cell).joined(separator: " | ") + " |\n"
                out += "|" + headers.map { _ in "---|" }.joined() + "\n"
                for row in rows { out += "| " + row.map(cell).joined(separator: " | ") + " |\n" }
                out += "\n"
            case let .timeline(days):
                out += "| Day | Requests |\n|---|---|\n" + days.map { "| \($0.day) | \($0.count) |" }.joined(separator: "\n") + "\n\n"
            }
        }
        return out
    }

    /// Text that Markdown would read as markup (or raw HTML) is escaped, and so are controls and
    /// bidirectional overrides, which a terminal showing the file would act on.
    private static func inline(_ text: String) -> String {
        var out = ""
        for character in Printable.escaped(text, keepingLineBreaks: true) {
            if "\\`*_[]<>|#".contains(character) { out.append("\\") }
            out.append(character)
        }
        return out
    }

    private static func cell(_ text: String) -> String {
        inline(text).replacingOccurrences(of: "\n", with: "<br>")
    }
}
