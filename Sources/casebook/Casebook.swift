import ArgumentParser
import CasebookStore
import Foundation

/// The `casebook` command: one subcommand per capability, each in its own file.
struct Casebook: ParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "casebook",
        abstract: "A forensic case database for investigating LLM distillation campaigns.",
        discussion: """
            Every command works on one case file (an SQLite database), chosen with --db, \
            the CASEBOOK_DB environment variable, or casebook.db in the current directory.

            Exit status: 0 success; 1 an input was damaged or unreadable (everything before \
            the damage is kept); 2 usage error; 3 the case file could not be used (locked by \
            another writer, disk full, not writable, or made by a newer casebook).

            Example:
              casebook demo
              casebook ingest --db case.db exports/
            """,
        version: "casebook \(version) (schema version \(Schema.currentVersion))",
        subcommands: [Demo.self, Generate.self, Ingest.self, Link.self, Clusters.self, Explain.self]
    )
}

/// The case file option every subcommand shares.
struct CaseFileOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The case file (SQLite). Default: $CASEBOOK_DB, else casebook.db.", valueName: "file"))
    var db: String?

    var path: String {
        if let db { return db }
        if let fromEnvironment = ProcessInfo.processInfo.environment["CASEBOOK_DB"], !fromEnvironment.isEmpty {
            return fromEnvironment
        }
        return "casebook.db"
    }
}

/// Exit statuses scripts can rely on (see the root command's help).
enum ExitStatus {
    static let inputDamaged: Int32 = 1
    static let usage: Int32 = 2
    static let caseFile: Int32 = 3
}

/// An error the command already explained; carries the exit status to use.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String
    let status: Int32
}

@main
enum Main {
    static func main() {
        // A file-size limit (ulimit -f) should be an error message, not a silent kill.
        signal(SIGXFSZ, SIG_IGN)
        do {
            var command = try Casebook.parseAsRoot()
            try command.run()
        } catch let failure as CommandFailure {
            Terminal.error(failure.description)
            exit(failure.status)
        } catch let code as ExitCode {
            exit(code.rawValue)
        } catch {
            let code = Casebook.exitCode(for: error)
            let message = Casebook.fullMessage(for: error)
            if code == .success {
                print(message)
                exit(0)
            }
            Terminal.writeError(message + "\n")
            exit(code == .validationFailure ? ExitStatus.usage : code.rawValue)
        }
    }
}
