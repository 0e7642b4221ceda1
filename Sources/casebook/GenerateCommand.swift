import ArgumentParser
import CasebookGenerate
import CasebookIO
import Foundation

/// Campaign size options shared by `generate` and `demo`.
struct CampaignOptions: ParsableArguments {
    @Option(help: "Size preset: demo, small or campaign (about 25,000 fraudulent accounts, 28.8 million exchanges).")
    var preset: String?

    @Option(help: "Number of accounts (overrides the preset; a fifth of them fraudulent unless --fraud-share says).")
    var accounts: Int?

    @Option(help: "Share of accounts that are fraudulent, 0.01 to 0.95 (default 0.2).")
    var fraudShare: Double?

    @Option(help: "Number of exchanges (overrides the preset).")
    var exchanges: Int?

    @Option(help: "Random seed: the same seed writes the same campaign.")
    var seed: UInt64 = 1

    @Flag(help: "Plant malformed records (bad timestamps, broken JSON, a card number, conflicts).")
    var faults = false

    func validate() throws {
        if let preset, CampaignSpec.preset(preset) == nil {
            throw ValidationError("unknown preset '\(preset)'; choose one of \(CampaignSpec.presetNames.joined(separator: ", "))")
        }
        if let accounts, !(10...CampaignSpec.maxAccounts).contains(accounts) {
            throw ValidationError("--accounts must be between 10 and \(Terminal.grouped(CampaignSpec.maxAccounts))")
        }
        if let fraudShare, !(0.01...0.95).contains(fraudShare) {
            throw ValidationError("--fraud-share must be between 0.01 and 0.95")
        }
        if let exchanges, !(0...CampaignSpec.maxExchanges).contains(exchanges) {
            throw ValidationError("--exchanges must be between 0 and \(Terminal.grouped(CampaignSpec.maxExchanges))")
        }
    }

    func spec(defaultPreset: String) -> CampaignSpec {
        var spec = CampaignSpec.preset(preset ?? defaultPreset)!
        if accounts != nil || fraudShare != nil {
            spec.setFraudAccountShare(fraudShare ?? 0.2, accounts: accounts ?? spec.benignAccounts + spec.fraudAccounts)
        }
        if let exchanges { spec.exchanges = exchanges }
        spec.seed = seed
        if faults { spec.faults = true }
        return spec
    }
}

extension Casebook {
    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a synthetic distillation campaign in the input format, with its ground truth.",
            discussion: """
                Plants fraud operators (card farms, hydra networks with one prepaid card per \
                account whose banned accounts are succeeded within hours, small rings, careful \
                operators linked only by prompt template and timing, some sharing a bought \
                template, operators rotating through one hosting /24) of sizes up to thousands \
                of accounts among benign traps (households, addresses reassigned to another \
                household, VPN exits, carrier NAT, a university behind NAT, a residential-proxy \
                pool, companies sharing one card, evaluation companies running machine-timed \
                reasoning prompts, people pasting popular public prompt templates). The \
                ground truth (operator and label of every account) goes to ground_truth.csv, \
                which ingest does not read. Output is streamed: memory does not grow with size.

                Examples:
                  casebook generate --out campaign/ --preset small --seed 7
                  casebook generate --out big/ --preset campaign
                  casebook generate --out tiny/ --accounts 200 --exchanges 5000
                  casebook generate --out suspects/ --preset small --fraud-share 0.85
                """
        )

        @Option(help: ArgumentHelp("Directory to write into (created if missing).", valueName: "dir"))
        var out: String

        @OptionGroup var campaign: CampaignOptions

        func run() throws {
            let spec = campaign.spec(defaultPreset: "small")
            let report = try Self.write(spec, to: out) { written in
                Terminal.progress("generating: \(Terminal.grouped(written)) exchanges")
            }
            Terminal.clearProgress()
            print(Self.describe(report))
        }

        /// Writes a campaign; an output that cannot be written is exit status 1 with the file and reason.
        static func write(_ spec: CampaignSpec, to directory: String,
                          progress: (Int) -> Void = { _ in }) throws -> GenerationReport {
            do {
                return try CampaignWriter.write(spec, to: directory, progress: progress)
            } catch let error as FileError {
                Terminal.clearProgress()
                throw CommandFailure(description: error.description, status: ExitStatus.inputDamaged)
            }
        }

        static func describe(_ report: GenerationReport) -> String {
            "Wrote \(Terminal.grouped(report.accounts)) accounts (\(Terminal.grouped(report.fraudAccounts)) fraudulent, "
                + "\(report.operators) fraud operators) and \(Terminal.grouped(report.exchanges)) exchanges to \(report.directory) "
                + "in \(report.files.count) files; ground truth in \(report.groundTruthFile)"
        }
    }
}
