import ArgumentParser
import CasebookAudit
import CasebookCases
import CasebookIO
import CasebookStore
import Foundation

extension Casebook {
    struct Audit: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check and read the audit log: every ingest, link run, case change, note and tag, hash-chained.",
            discussion: """
                Examples:
                  casebook audit verify
                  casebook audit log --target case:1
                  casebook audit log --json --after 120
                """,
            subcommands: [Verify.self, Log.self]
        )
    }
}

extension Casebook.Audit {
    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check the chain of hashes, and the notes, statuses and tags against what the log recorded.",
            discussion: "Exit status 0 when everything holds; 1 naming the first broken entry and every disagreement.")

        @OptionGroup var caseFile: CaseFileOptions
        @Flag(help: "Print the result as one JSON object.") var json = false

        func run() throws {
            let (chain, mismatches) = try withCaseFile(caseFile.path) {
                let database = try CaseFile.open(caseFile.path, access: .read)
                return (try AuditLog.verifyChain(database), try AnnotationCheck.mismatches(database))
            }
            var intact = mismatches.isEmpty
            var result: [String: Any] = ["mismatches": mismatches]
            switch chain {
            case let .intact(entries, head):
                result["entries"] = entries
                result["head"] = head.map { ["seq": $0.seq, "hash": $0.hash] } ?? NSNull()
                if !json { print("audit log intact: \(Terminal.grouped(entries)) entries" + (head.map { ", head \($0.seq) \($0.hash)" } ?? "")) }
            case let .broken(seq, reason):
                intact = false
                result["first_broken_entry"] = seq
                result["reason"] = reason
                if !json { print("audit log BROKEN at entry \(seq): \(reason)") }
            }
            result["intact"] = intact
            if json {
                let data = try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys])
                print(String(decoding: data, as: UTF8.self))
            } else {
                for mismatch in mismatches { print("MISMATCH: " + Printable.escaped(mismatch)) }
            }
            if !intact { throw ExitCode(ExitStatus.inputDamaged) }
        }
    }

    struct Log: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List audit entries, oldest first.")

        @OptionGroup var caseFile: CaseFileOptions
        @Option(help: "Only entries about this target (case:1, cluster:42, file:3, run:2, ...).") var target: String?
        @Option(help: "Only entries after this sequence number.") var after: Int64 = 0
        @Option(help: "At most this many entries (0: all).") var limit = 0
        @Flag(help: "Print one JSON object per line.") var json = false

        func validate() throws {
            guard limit >= 0, after >= 0 else { throw ValidationError("--limit and --after cannot be negative") }
        }

        func run() throws {
            let entries = try withCaseFile(caseFile.path) {
                let database = try CaseFile.open(caseFile.path, access: .read)
                return try AuditLog.entries(database, target: target, afterSeq: after, limit: limit == 0 ? -1 : limit)
            }
            for entry in entries {
                if json {
                    let data = try JSONSerialization.data(withJSONObject: Self.object(entry), options: [.sortedKeys, .withoutEscapingSlashes])
                    print(String(decoding: data, as: UTF8.self))
                } else {
                    print(Self.line(entry))
                }
            }
        }

        static func object(_ entry: AuditEntry) -> [String: Any] {
            ["seq": entry.seq, "at": Terminal.timestamp(entry.atMilliseconds),
             "at_ms": entry.atMilliseconds, "actor": entry.actor, "action": entry.action, "target": entry.target,
             "payload": (try? JSONSerialization.jsonObject(with: Data(entry.payload.utf8))) ?? entry.payload,
             "prev_hash": entry.previousHash, "hash": entry.hash]
        }

        /// One line: sequence, time, actor, action, target, payload (escaped, shortened).
        static func line(_ entry: AuditEntry) -> String {
            let time = Terminal.timestamp(entry.atMilliseconds)
            var payload = Printable.escaped(entry.payload)
            if payload.count > 160 { payload = String(payload.prefix(159)) + "…" }
            return "\(Terminal.right(String(entry.seq), 6))  \(time)  \(Printable.escaped(entry.actor))  \(entry.action)  \(Printable.escaped(entry.target))  \(payload)"
        }
    }
}
