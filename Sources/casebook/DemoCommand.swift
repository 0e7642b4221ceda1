import ArgumentParser
import CasebookAudit
import CasebookGenerate
import CasebookGraph
import Foundation

extension Casebook {
    struct Demo: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Generate the built-in demo campaign, ingest it and link it.",
            discussion: """
                Writes the demo campaign (2,000 accounts, 60,000 exchanges, a few planted \
                malformed records) into a directory, ingests it and links the accounts into \
                operator clusters, then opens the TUI on them when run on a terminal. Running \
                it again recognises the files as already ingested and links again (cluster ids stay).

                Example:
                  casebook demo
                  casebook demo --db mycase.db --dir /tmp/demo-campaign
                """
        )

        @Option(help: ArgumentHelp("The case file to create or update. Default: $CASEBOOK_DB, else demo.casebook.db.", valueName: "file"))
        var db: String?

        @Option(help: ArgumentHelp("Where the generated input files go.", valueName: "dir"))
        var dir = "demo-campaign"

        @OptionGroup var campaign: CampaignOptions

        @Flag(name: .customLong("no-tui"), help: "Do not open the TUI at the end, even on a terminal.")
        var noTUI = false

        func run() throws {
            let db = db ?? ProcessInfo.processInfo.environment["CASEBOOK_DB"].flatMap { $0.isEmpty ? nil : $0 } ?? "demo.casebook.db"
            let report = try Generate.write(campaign.spec(defaultPreset: "demo"), to: dir)
            print(Generate.describe(report))
            // The files it wrote, not the directory: the ground truth beside them is not an input.
            let summary = try Ingest.ingest(paths: report.files, kind: nil, format: nil, gzip: false, databasePath: db,
                                            actor: Investigator.resolve())
            print(IngestReport.text(summary, databasePath: db), terminator: "")
            let link = try withCaseFile(db) {
                defer { Terminal.clearProgress() }
                return try LinkRun.run(databasePath: db) { Terminal.progress($0) }
            }
            print(Link.describe(link))
            if !noTUI && isatty(STDIN_FILENO) == 1 && isatty(STDOUT_FILENO) == 1 {
                let tui = try TUI.parse(["--db", db])
                try tui.run()
                if summary.exitStatus != 0 { throw ExitCode(summary.exitStatus) }
                return
            }
            print("""

                Next:
                  casebook tui --db \(db)                       browse clusters, accounts, exchanges; work cases
                  casebook clusters --db \(db)                  the riskiest clusters
                  casebook explain --db \(db) ACCOUNT_ID        why an account is in its cluster
                  sqlite3 \(db) "SELECT reason, count(*) FROM rejects GROUP BY reason"
                The tables and views are documented in schema/README.md.
                """)
            if summary.exitStatus != 0 { throw ExitCode(summary.exitStatus) }
        }
    }
}
