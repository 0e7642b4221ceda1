import ArgumentParser
import CasebookIngest
import CasebookIO
import Foundation

extension RecordKind: ExpressibleByArgument {}
extension InputFormat: ExpressibleByArgument {}
extension TimestampRules.EpochUnit: ExpressibleByArgument {}

extension CSVSeparator: ExpressibleByArgument {
    public init?(argument: String) { self.init(text: argument) }
}

extension TextEncoding: ExpressibleByArgument {
    public init?(argument: String) { self.init(label: argument) }
}

extension Casebook {
    struct Ingest: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Load accounts, payments, IP data and exchanges into the case file.",
            discussion: """
                Takes CSV or JSON Lines files, gzip-compressed or not, and directories (every \
                input file in them). The record kind comes from the file name (accounts*, \
                payments*, ips*, exchanges*) unless --kind says otherwise; "-" reads standard \
                input and then needs --kind and --format.

                Nothing is lost: every record is loaded, recognised as an identical duplicate, \
                or stored in the rejects table with the reason. Re-running the same command \
                changes nothing; after an interruption (even kill -9) it resumes where it stopped.

                Examples:
                  casebook ingest --db case.db exports/
                  casebook ingest exchanges-000.jsonl.gz exchanges-001.jsonl.gz --json
                  zcat dump.gz | casebook ingest --kind exchanges --format jsonl -
                  casebook ingest --epoch-unit ms exchanges-from-pandas.jsonl
                  duckdb -c "COPY (SELECT * FROM 'x.parquet') TO '/dev/stdout' (FORMAT csv, HEADER)" \\
                    | casebook ingest --kind exchanges --format csv -
                """
        )

        @OptionGroup var caseFile: CaseFileOptions

        @Argument(help: ArgumentHelp("Files, directories, or - for standard input.", valueName: "path"))
        var paths: [String]

        @Option(help: "Record kind for every path, overriding the file names: accounts, payments, ips, exchanges.")
        var kind: RecordKind?

        @Option(help: "Input format for every path, overriding the file names: csv or jsonl.")
        var format: InputFormat?

        @Flag(help: "Standard input is gzip-compressed.")
        var gzip = false

        @Option(name: .customLong("epoch-unit"), help: "Unit of epoch-number timestamps: s (default), ms (pandas' default) or us.")
        var epochUnit: TimestampRules.EpochUnit = .s

        @Option(help: ArgumentHelp("Zone of timestamps written without an offset: UTC, +01:00 or an IANA name such as Europe/Paris. Without it they are rejected.", valueName: "zone"))
        var timezone: String?

        @Option(help: ArgumentHelp("Character encoding of every file: utf-8 (the contract's, default), windows-1252 (also cp1252, latin1, iso-8859-1), in which Excel on Windows saves CSV, or utf-16le / utf-16be. A file that starts with a byte order mark is read in the encoding the mark names.", valueName: "encoding"))
        var encoding: TextEncoding = .utf8

        @Option(help: ArgumentHelp("Separator between CSV cells when not the comma: ';' (Excel in much of Europe), tab or '|'. An Excel sep= line above the header says it without this.", valueName: "separator"))
        var separator: CSVSeparator?

        @Option(name: .customLong("null"), help: ArgumentHelp("A text the export writes for no value, read as absent in every field of the contract as an empty cell is: \\N (MySQL), NA (R), NULL. May be given more than once.", valueName: "text"))
        var nullTexts: [String] = []

        @Option(name: .customLong("cache-mib"), help: ArgumentHelp("Memory for the case file's page cache while loading, in MiB. Exchange ids that arrive in no order are kept in their index while it fits in a sixteenth of it, and checked at the end of the load after that.", valueName: "MiB"))
        var cacheMiB = CasebookIngest.Ingest.defaultCacheMiB

        @Flag(help: "Keep the case file to this ingest until it finishes. Each page is then written once (a rollback journal instead of the write-ahead log), which loads faster, but no other program can open the file meanwhile: queries, notes and casebook tui wait, then fail. Refused while the file is open elsewhere.")
        var exclusive = false

        @Flag(help: "Print the summary as one JSON object.")
        var json = false

        @Flag(help: "No progress line and no summary (errors still go to standard error).")
        var quiet = false

        func validate() throws {
            guard (1...65_536).contains(cacheMiB) else { throw ValidationError("--cache-mib must be between 1 and 65536") }
            if nullTexts.contains(where: \.isEmpty) { throw ValidationError("--null needs a text; an empty value is absent already") }
            if let timezone, TimestampRules.zone(named: timezone) == nil {
                throw ValidationError("--timezone \(timezone) is not a zone; use UTC, an offset such as +01:00, or an IANA name such as Europe/Paris")
            }
        }

        func run() throws {
            Terminal.quiet = quiet
            let rules = TimestampRules(epochUnit: epochUnit, zone: timezone.flatMap(TimestampRules.zone(named:)))
            let options = ReadOptions(timestamps: rules, encoding: encoding, nullTexts: nullTexts, separator: separator)
            let summary = try Self.ingest(paths: paths, kind: kind, format: format, gzip: gzip, options: options,
                                          databasePath: caseFile.path, actor: caseFile.actor, cacheMiB: cacheMiB,
                                          exclusive: exclusive)
            if json {
                print(IngestReport.json(summary, databasePath: caseFile.path))
            } else if !quiet {
                print(IngestReport.text(summary, databasePath: caseFile.path), terminator: "")
            }
            if summary.exitStatus != 0 { throw ExitCode(summary.exitStatus) }
        }

        /// Plans and runs an ingest, with a progress line on a terminal; shared with `demo`.
        static func ingest(paths: [String], kind: RecordKind?, format: InputFormat?, gzip: Bool,
                           options: ReadOptions = ReadOptions(), databasePath: String, actor: String,
                           cacheMiB: Int = CasebookIngest.Ingest.defaultCacheMiB,
                           exclusive: Bool = false) throws -> IngestSummary {
            let plan: IngestPlan
            do {
                plan = try IngestPlan(paths: paths, kind: kind, format: format, gzip: gzip, options: options)
            } catch let error as UsageError {
                throw CommandFailure(description: error.description, status: ExitStatus.usage)
            }
            for note in plan.notes { Terminal.note(note) }
            do {
                let summary = try CasebookIngest.Ingest(databasePath: databasePath, actor: actor, cacheMiB: cacheMiB,
                                                        exclusive: exclusive)
                    .run(plan.files) { progress in
                    Terminal.progress(IngestReport.progressLine(progress))
                }
                Terminal.clearProgress()
                return summary
            } catch let failure as CaseFileFailure {
                Terminal.clearProgress()
                throw CommandFailure(description: failure.description, status: ExitStatus.caseFile)
            }
        }
    }
}
