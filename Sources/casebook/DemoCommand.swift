import ArgumentParser
import CasebookGenerate
import Foundation

extension Casebook {
    struct Demo: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Generate the built-in demo campaign and ingest it into a case file.",
            discussion: """
                Writes the demo campaign (2,000 accounts, 60,000 exchanges, a few planted \
                malformed records) into a directory and ingests it. Running it again \
                recognises the files as already ingested.

                Example:
                  casebook demo
                  casebook demo --db mycase.db --dir /tmp/demo-campaign
                """
        )

        @Option(help: ArgumentHelp("The case file to create or update.", valueName: "file"))
        var db = "demo.casebook.db"

        @Option(help: ArgumentHelp("Where the generated input files go.", valueName: "dir"))
        var dir = "demo-campaign"

        @OptionGroup var campaign: CampaignOptions

        func run() throws {
            let report = try CampaignWriter.write(campaign.spec(defaultPreset: "demo"), to: dir)
            print(Generate.describe(report))
            let summary = try Ingest.ingest(paths: [dir], kind: nil, format: nil, gzip: false, databasePath: db)
            print(IngestReport.text(summary, databasePath: db), terminator: "")
            print("""

                Explore it with SQL, for example:
                  sqlite3 \(db) "SELECT reason, count(*) FROM rejects GROUP BY reason"
                  sqlite3 \(db) "SELECT account_id, count(*) AS n FROM exchanges GROUP BY account_id ORDER BY n DESC LIMIT 5"
                The tables and views are documented in schema/README.md.
                """)
            if summary.exitStatus != 0 { throw ExitCode(summary.exitStatus) }
        }
    }
}
