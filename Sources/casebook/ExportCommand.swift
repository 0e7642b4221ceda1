import ArgumentParser
import CasebookExport
import CasebookIO
import CasebookStore
import Foundation

extension Casebook {
    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a signed evidence bundle of a case or a cluster, for a legal team.",
            discussion: """
                The bundle (a folder, or one .zip with --zip) holds manifest.json, MANIFEST.sha256 \
                (sha256sum -c format), manifest.sig (Ed25519) and public-key.pem, the data as JSON Lines \
                and CSV, evidence.sqlite (the exported rows as a case file), report.html and report.md. \
                It is written under a temporary name, synced, and renamed into place when complete; the \
                export is recorded in the audit log. The signing key is created on first use at \
                $XDG_CONFIG_HOME/casebook/signing-key.pem (else ~/.config/casebook/, mode 0600); \
                --signing-key names another.

                --redact emails,ips,prompts replaces those values by keyed pseudonyms in every file \
                (the same value, the same pseudonym); the default is an unredacted export, and the \
                audit log and manifest say which.

                Examples:
                  casebook export --case 1
                  casebook export --cluster 42 --zip --out cluster-42.zip --redact emails,ips
                  casebook verify cluster-42.zip --key counsel-expects.pem
                """
        )

        @OptionGroup var caseFile: CaseFileOptions
        @Option(name: .customLong("case"), help: "Export this case: its clusters, accounts, notes, tags and history.") var caseID: Int64?
        @Option(help: "Export this cluster of the latest link run.") var cluster: Int64?
        @Option(help: ArgumentHelp("Where to write the bundle (must not exist).", valueName: "path")) var out: String?
        @Flag(help: "Write one .zip instead of a folder.") var zip = false
        @Option(help: ArgumentHelp("Values to replace by pseudonyms: emails, ips, prompts (comma-separated).", valueName: "list")) var redact: String?
        @Option(help: ArgumentHelp("The Ed25519 private key (PEM) to sign with.", valueName: "path")) var signingKey: String?
        @Flag(help: "Print the result as one JSON object.") var json = false

        func validate() throws {
            guard (caseID == nil) != (cluster == nil) else { throw ValidationError("give exactly one of --case and --cluster") }
        }

        func run() throws {
            var request = ExportRequest(caseFilePath: caseFile.path, subject: caseID.map { .caseFile($0) } ?? .cluster(cluster!),
                                        actor: caseFile.actor, casebookVersion: Casebook.version)
            request.outputPath = out
            request.zip = zip
            request.signingKeyPath = signingKey
            do {
                if let redact { request.redaction = try RedactionProfile(parsing: redact) }
            } catch let error as ExportError {
                throw CommandFailure(description: error.description, status: ExitStatus.usage)
            }
            let result = try Self.perform(request) { progress in
                Terminal.progress(progress.total > 0
                    ? "\(progress.phase): \(Terminal.grouped(progress.done)) of \(Terminal.grouped(progress.total))"
                    : progress.phase + "…")
            }
            Terminal.clearProgress()
            if json {
                let object: [String: Any] = ["bundle": result.path, "files": result.files, "bytes": result.bytes, "accounts": result.accounts,
                                             "exchanges": result.exchanges, "clusters": result.clusters,
                                             "manifest_sha256": result.manifestSHA256, "key_sha256": result.keyFingerprint,
                                             "audit_head_seq": result.auditSeq, "key_file": result.keyPath,
                                             "stages": result.stages.map { ["stage": $0.name, "seconds": ($0.seconds * 1000).rounded() / 1000] as [String: Any] }]
                print(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]), as: UTF8.self))
            } else {
                print("Wrote \(Printable.escaped(result.path)): \(Terminal.grouped(result.clusters)) clusters, \(Terminal.grouped(result.accounts)) accounts, \(Terminal.grouped(result.exchanges)) exchanges, \(result.files) files")
                print("Signed with key \(result.keyFingerprint) (\(Printable.escaped(result.keyPath)))")
                print("Check it with: casebook verify \(Printable.escaped(result.path))   (or sha256sum -c MANIFEST.sha256 inside it)")
            }
        }

        /// Runs an export with errors mapped to exit statuses; shared with the TUI's export key.
        static func perform(_ request: ExportRequest, progress: (ExportProgress) -> Void = { _ in }) throws -> ExportResult {
            do {
                return try withCaseFile(request.caseFilePath) { try Exporter.export(request, progress: progress) }
            } catch let error as ExportError {
                Terminal.clearProgress()
                switch error {
                case .usage: throw CommandFailure(description: error.description, status: ExitStatus.usage)
                case .notFound: throw CommandFailure(description: error.description, status: ExitStatus.notFound)
                case .output: throw CommandFailure(description: error.description, status: ExitStatus.inputDamaged)
                }
            } catch let error as SigningKey.Failure {
                Terminal.clearProgress()
                throw CommandFailure(description: error.description, status: ExitStatus.usage)
            }
        }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check an evidence bundle: digests, missing or extra files, signature, audit excerpt.",
            discussion: """
                Exit status 0 when every check holds; 1 naming each failed check; 2 when the bundle or \
                key cannot be read at all.

                Example:
                  casebook verify case-1-20260301T120000Z.bundle --key investigator.pem
                """
        )

        @Argument(help: "The bundle folder or .zip.") var bundle: String
        @Option(help: ArgumentHelp("The public (or private) key the bundle must be signed by, in PEM.", valueName: "path")) var key: String?
        @Flag(help: "Print the result as one JSON object.") var json = false

        func run() throws {
            let report: BundleVerifier.Report
            do {
                report = try BundleVerifier.verify(bundle, expectedKey: key)
            } catch let error as ExportError {
                throw CommandFailure(description: error.description, status: error.isNotFound ? ExitStatus.notFound : ExitStatus.usage)
            }
            if json {
                let object: [String: Any] = ["valid": report.isValid, "checks": report.checks, "failures": report.failures,
                                             "key_sha256": report.keyFingerprint ?? NSNull()]
                print(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]), as: UTF8.self))
            } else {
                for check in report.checks { print("ok: " + Printable.escaped(check)) }
                for failure in report.failures { print("FAILED: " + Printable.escaped(failure)) }
                print(report.isValid ? "bundle verified" : "bundle NOT verified: \(report.failures.count) check(s) failed")
            }
            if !report.isValid { throw ExitCode(ExitStatus.inputDamaged) }
        }
    }
}
