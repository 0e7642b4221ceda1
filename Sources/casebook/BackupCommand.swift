import ArgumentParser
import CasebookIO
import CasebookStore
import Foundation

extension Casebook {
    struct Backup: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy the case file safely, even while it is being written: private (0600), schema version kept.",
            discussion: """
                Uses SQLite's online backup API. `VACUUM INTO` and the sqlite3 shell's .dump make \
                world-readable copies, and .dump drops the schema version.

                Example:
                  casebook backup --db case.db /backups/case-2026-02-01.db
                """
        )

        @OptionGroup var caseFile: CaseFileOptions

        @Argument(help: "The new file (must not exist).") var destination: String

        func run() throws {
            try withCaseFile(caseFile.path) {
                try CaseFile.backup(caseFile.path, to: destination) { done, total in
                    Terminal.progress("copying: \(total > 0 ? done * 100 / total : 0)%")
                }
            }
            Terminal.clearProgress()
            print("Copied \(Printable.escaped(caseFile.path)) to \(Printable.escaped(destination))")
        }
    }
}
