import ArgumentParser
import CasebookAudit
import CasebookIO
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
            the damage is kept), an output could not be written, or `audit verify` found a \
            break; 2 usage error; 3 the case file could not be used (missing, not a case file, \
            locked by another writer, disk full, not writable, damaged, or made by a newer \
            casebook); 4 what was asked for is not there (an unknown account, case or cluster, \
            no link run yet); 5 `sql` stopped by its --timeout; 130 or 143 interrupted (run the same command again).

            Example:
              casebook demo
              casebook ingest --db case.db exports/
            """,
        version: "casebook \(version) (schema version \(Schema.currentVersion))",
        subcommands: [Demo.self, Generate.self, Ingest.self, Link.self, Clusters.self, Explain.self, Case.self, Audit.self, TUI.self, Index.self, SQL.self, Export.self, Verify.self, Backup.self]
    )
}

/// The case file option every subcommand shares.
struct CaseFileOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The case file (SQLite). Default: $CASEBOOK_DB, else casebook.db.", valueName: "file"))
    var db: String?

    @Option(help: ArgumentHelp("Who is acting, for the audit log. Default: $CASEBOOK_INVESTIGATOR, else the login name.", valueName: "name"))
    var investigator: String?

    var actor: String { Investigator.resolve(investigator) }

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
    static let notFound: Int32 = 4
    static let timedOut: Int32 = 5
}

/// An error the command already explained; carries the exit status to use.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String
    let status: Int32
}

/// Ctrl-C and `kill`: one line saying what happened, then the conventional status.
/// Every batch and link run commits whole, so the same command resumes.
enum Interruption {
    static func install() {
        signal(SIGINT) { _ in Interruption.report(status: 130) }
        signal(SIGTERM) { _ in Interruption.report(status: 143) }
    }

    /// Async-signal-safe: a fixed message by write(2), then _exit.
    private static func report(status: Int32) -> Never {
        let message: StaticString = "\ncasebook: interrupted; the case file is consistent, and running the same command again resumes or repeats the work\n"
        _ = write(STDERR_FILENO, message.utf8Start, message.utf8CodeUnitCount)
        _exit(status)
    }
}

@main
enum Main {
    static func main() {
        // A file-size limit (ulimit -f) should be an error message, not a silent kill.
        signal(SIGXFSZ, SIG_IGN)
        Interruption.install()
        do {
            // Arguments from the raw argv, so a file name that is not UTF-8 survives to open().
            let arguments = (1..<Int(CommandLine.argc)).compactMap { CommandLine.unsafeArgv[$0].map { SystemPath.string(UnsafePointer($0)) } }
            var command = try Casebook.parseAsRoot(arguments)
            try command.run()
        } catch let failure as CommandFailure {
            Terminal.error(failure.description)
            exit(failure.status)
        } catch let error as CategorizedError {
            Terminal.error(error.description)
            switch error.category {
            case .usage: exit(ExitStatus.usage)
            case .notFound: exit(ExitStatus.notFound)
            case .caseFile: exit(ExitStatus.caseFile)
            }
        } catch let code as ExitCode {
            exit(code.rawValue)
        } catch {
            let code = Casebook.exitCode(for: error)
            let message = Casebook.fullMessage(for: error)
            if code == .success {
                print(message)
                exit(0)
            }
            // Usage messages may quote arguments: control characters in them are escaped, line breaks kept.
            Terminal.writeError(message.split(separator: "\n", omittingEmptySubsequences: false)
                .map { Printable.escaped(String($0)) }.joined(separator: "\n") + "\n")
            exit(code == .validationFailure ? ExitStatus.usage : code.rawValue)
        }
    }
}
