import CasebookIngest
import CasebookIO
import Foundation

/// How an ingest summary reads, for people and for scripts.
enum IngestReport {
    static func progressLine(_ p: IngestProgress) -> String {
        let rate = p.seconds > 0 ? Double(p.records) / p.seconds : 0
        let megabytes = p.seconds > 0 ? Double(p.bytesRead) / p.seconds / 1e6 : 0
        var line = "ingesting \(Terminal.grouped(p.records)) records, \(Terminal.grouped(Int(rate))) records/s, "
            + String(format: "%.1f MB/s", megabytes)
        if let total = p.bytesTotal, total > 0 {
            let fraction = min(1, Double(p.bytesRead) / Double(total))
            line += String(format: ", %.0f%%", fraction * 100)
            if fraction > 0.01 { line += ", ETA " + Terminal.duration(p.seconds / fraction - p.seconds) }
        }
        return line
    }

    static func text(_ summary: IngestSummary, databasePath: String) -> String {
        let total = summary.total()
        let rate = summary.seconds > 0 ? Double(total.read) / summary.seconds : 0
        var out = "Ingested into \(Printable.escaped(databasePath)): \(summary.files.count) file(s), \(Terminal.grouped(total.read)) records read in "
            + String(format: "%.1f s", summary.seconds)
        // Files skipped as already ingested are still hashed; a rate of their bytes would say nothing.
        if total.read > 0 {
            out += String(format: " (%@ records/s, %.1f MB/s)", Terminal.grouped(Int(rate)),
                          summary.seconds > 0 ? Double(summary.bytesRead) / summary.seconds / 1e6 : 0)
        }
        out += "\n"
        out += "  kind         loaded  duplicate   rejected\n"
        for kind in RecordKind.allCases {
            let counts = summary.total(kind)
            guard counts.read > 0 || summary.files.contains(where: { $0.file.kind == kind }) else { continue }
            out += "  " + kind.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0)
                + pad(counts.loaded) + pad(counts.duplicate) + pad(counts.rejected) + "\n"
        }
        if !total.rejectedByReason.isEmpty {
            out += "Rejected records by reason (see the rejects table):\n"
            for (reason, count) in total.rejectedByReason.sorted(by: { $0.key < $1.key }) {
                out += "  " + reason.padding(toLength: 14, withPad: " ", startingAt: 0) + pad(count) + "\n"
                // The first one's sentence: where a whole export is rejected, it says what to do.
                if let first = total.firstRejects[reason] {
                    out += "      first: \(Printable.escaped(first.path ?? "")):\(first.line): \(Printable.escaped(first.detail))\n"
                }
            }
        }
        for result in summary.files {
            // File names and reasons come from outside: control characters are printed escaped.
            let file = Printable.escaped(result.file.path)
            switch result.outcome {
            case .complete:
                if result.resumed { out += "  \(file): resumed after an interruption and completed\n" }
                // An export cut off before its first record (an empty upload, a header alone) looks
                // like success in the totals; say which file gave nothing.
                if result.counts.read == 0 { out += "  \(file): holds no records\n" }
            case let .alreadyIngested(path, status):
                // "as" only for another name (a copy, a link): a re-run of the same path names nothing twice.
                out += "  \(file): already ingested" + (path == result.file.provenancePath ? "" : " as \(Printable.escaped(path))")
                    + (status == "damaged" ? " (damaged)" : "") + "; skipped\n"
            case let .damaged(reason):
                // What the file gave, not a promise: a header that cannot be used loads nothing.
                let counts = result.counts
                out += "  \(file): DAMAGED: \(Printable.escaped(reason)); of its records "
                    + "\(Terminal.grouped(counts.loaded)) loaded, \(Terminal.grouped(counts.duplicate)) duplicate, "
                    + "\(Terminal.grouped(counts.rejected)) rejected\n"
            case let .unreadable(reason):
                out += "  \(file): UNREADABLE: \(Printable.escaped(reason))\n"
            }
            if case .complete = result.outcome, result.file.options.encoding == .utf8,
               let count = result.counts.rejectedByReason[RejectReason.badUTF8.rawValue], count > 0 {
                out += "  \(file): \(Terminal.grouped(count)) record\(count == 1 ? " is" : "s are") not UTF-8; if the file was saved in "
                    + "Windows-1252, as Excel on Windows saves CSV, ingest it again with --encoding windows-1252\n"
            }
            if result.changedSinceHashed {
                out += "  \(file): changed between hashing and reading; the SHA-256 and size recorded are those of the bytes read\n"
            }
        }
        return out
    }

    private static func pad(_ value: Int) -> String {
        let text = Terminal.grouped(value)
        return String(repeating: " ", count: max(1, 11 - text.count)) + text
    }

    static func json(_ summary: IngestSummary, databasePath: String) -> String {
        struct Example: Encodable {
            let file: String?
            let line: Int64
            let detail: String
        }
        struct Counts: Encodable {
            let read, loaded, duplicate, rejected: Int
            let rejected_by_reason: [String: Int]
            let first_rejects: [String: Example]
            init(_ c: FileCounts) {
                (read, loaded, duplicate, rejected, rejected_by_reason) = (c.read, c.loaded, c.duplicate, c.rejected, c.rejectedByReason)
                first_rejects = c.firstRejects.mapValues { Example(file: $0.path, line: $0.line, detail: $0.detail) }
            }
        }
        struct File: Encodable {
            let path, kind, format, status: String
            let resumed: Bool
            let changed_since_hashed: Bool
            let detail: String?
            let counts: Counts
        }
        struct Report: Encodable {
            let database: String
            let seconds: Double
            let bytes_read: Int64
            let exit_status: Int32
            let totals: Counts
            let by_kind: [String: Counts]
            let files: [File]
            let stages: [Stage]
        }
        struct Stage: Encodable {
            let stage: String
            let seconds: Double
        }
        let files = summary.files.map { result -> File in
            let (status, detail): (String, String?) = switch result.outcome {
            case .complete: ("complete", nil)
            case let .alreadyIngested(path, _): ("already_ingested", path)
            case let .damaged(reason): ("damaged", reason)
            case let .unreadable(reason): ("unreadable", reason)
            }
            return File(path: result.file.path, kind: result.file.kind.rawValue, format: result.file.format.rawValue,
                        status: status, resumed: result.resumed,
                        changed_since_hashed: result.changedSinceHashed, detail: detail, counts: Counts(result.counts))
        }
        var byKind: [String: Counts] = [:]
        for kind in RecordKind.allCases where summary.files.contains(where: { $0.file.kind == kind }) {
            byKind[kind.rawValue] = Counts(summary.total(kind))
        }
        let report = Report(database: databasePath, seconds: (summary.seconds * 1000).rounded() / 1000,
                            bytes_read: summary.bytesRead, exit_status: summary.exitStatus,
                            totals: Counts(summary.total()), by_kind: byKind, files: files,
                            stages: summary.stages.map { Stage(stage: $0.name, seconds: ($0.seconds * 1000).rounded() / 1000) })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(report)) ?? Data("{}".utf8), as: UTF8.self)
    }
}
