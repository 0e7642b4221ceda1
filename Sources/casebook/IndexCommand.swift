import ArgumentParser
import CasebookQueries
import CasebookStore
import Foundation

extension Casebook {
    struct Index: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Build the full-text index of prompts (FTS5), or add what later ingests brought.",
            discussion: """
                Search it in the TUI (F) or with SQL (see schema/README.md). The index is built in \
                committed chunks: Ctrl-C keeps what was done and the same command continues.

                Example:
                  casebook index --db case.db
                """
        )

        @OptionGroup var caseFile: CaseFileOptions

        @Flag(help: "Print the result as one JSON object.")
        var json = false

        func run() throws {
            let started = Date()
            let (state, bytes) = try withCaseFile(caseFile.path) { () -> (PromptIndex.State, Int64) in
                let database = try CaseFile.open(caseFile.path, access: .write)
                let before = try Self.indexBytes(database)
                let state = try PromptIndex.build(database) { done, total in
                    let seconds = Date().timeIntervalSince(started)
                    let percent = total > 0 ? Int(done * 100 / total) : 100
                    Terminal.progress("indexing prompts: \(Terminal.grouped(Int(done))) of \(Terminal.grouped(Int(total))) exchanges (\(percent)%), \(Terminal.duration(seconds))")
                    return true
                }
                Terminal.clearProgress()
                return (state, try Self.indexBytes(database) - before)
            }
            let seconds = Date().timeIntervalSince(started)
            if json {
                let object: [String: Any] = ["indexed_through": state.indexedThrough, "missing": state.missing,
                                             "seconds": (seconds * 1000).rounded() / 1000, "index_bytes_added": bytes]
                let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
                print(String(decoding: data, as: UTF8.self))
            } else {
                print("Full-text index of prompts up to exchange \(Terminal.grouped(Int(state.indexedThrough))) in "
                      + Terminal.duration(seconds) + String(format: " (%.1f MB added)", Double(bytes) / 1_048_576))
            }
        }

        /// Bytes of the index's own tables, from SQLite's dbstat table.
        static func indexBytes(_ database: Database) throws -> Int64 {
            try database.scalarInt("SELECT coalesce(sum(pgsize), 0) FROM dbstat WHERE name LIKE 'prompt_index%'") ?? 0
        }
    }
}
