import ArgumentParser
import CasebookCases
import CasebookExport
import CasebookIO
import CasebookStore
import CasebookTerminal
import CasebookTUI
import Foundation

extension Casebook {
    struct TUI: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "tui",
            abstract: "Browse clusters, accounts and exchanges, and work cases, in the terminal.",
            discussion: """
                Keys follow less, lnav and VisiData: arrows or j/k, PgUp/PgDn or Space/b, g/G, \
                Enter opens, q or Esc goes back, Q quits, / searches, ? lists every key.

                --headless runs a key script without a terminal and writes the final screen as \
                text, for scripts and tests: keys stand for themselves, <Enter>, <Esc>, <PgDn>, \
                <C-s>, <Resize 80x24> name the others.

                Examples:
                  casebook tui --db case.db
                  casebook tui --db case.db --headless --size 100x30 --keys "jj<Enter>" --dump-screen screen.txt
                """
        )

        @OptionGroup var caseFile: CaseFileOptions

        @Flag(help: "Run without a terminal: apply --keys and write the screen.")
        var headless = false

        @Option(help: "Screen size for --headless, as COLUMNSxROWS.")
        var size = "100x30"

        @Option(help: "Key script for --headless.")
        var keys = ""

        @Option(name: .customLong("dump-screen"), help: ArgumentHelp("Where --headless writes the final screen (- for standard output).", valueName: "file"))
        var dumpScreen = "-"

        @Option(help: ArgumentHelp("With --headless: write each key's handling and drawing time in microseconds and the resident memory in KiB after it, one key per line.", valueName: "file"))
        var timing: String?

        @Flag(help: "With --headless: run background work (counts, summaries) on its own thread as on a terminal, instead of finishing it within each key; the final screen waits for it.")
        var asyncBackground = false

        func validate() throws {
            guard parsedSize != nil else { throw ValidationError("--size is COLUMNSxROWS, at least 40x10, e.g. 100x30") }
            if !headless && (!keys.isEmpty || timing != nil) { throw ValidationError("--keys and --timing go with --headless") }
            if !headless && (isatty(STDIN_FILENO) == 0 || isatty(STDOUT_FILENO) == 0) {
                throw ValidationError("the TUI needs a terminal; use --headless for scripts")
            }
        }

        private var parsedSize: (width: Int, height: Int)? {
            let parts = size.lowercased().split(separator: "x").compactMap { Int($0) }
            guard parts.count == 2, parts[0] >= 40, parts[1] >= 10, parts[0] <= 1000, parts[1] <= 1000 else { return nil }
            return (parts[0], parts[1])
        }

        func run() throws {
            let started = DispatchTime.now()
            let path = caseFile.path
            let (database, readOnly) = try withCaseFile(path) { try Self.open(path) }
            if headless {
                let script: [Key]
                do { script = try Key.script(keys) } catch { throw ValidationError("\(error)") }
                let work: BackgroundWork = asyncBackground ? ThreadedWork(path: path) : ImmediateWork(database: database)
                let app = try withCaseFile(path) {
                    try App(database: database, path: path, actor: caseFile.actor, readOnly: readOnly, work: work,
                            size: parsedSize!, runVerb: { Self.runVerb($0, path: path) }, export: Self.exporter(path: path, actor: caseFile.actor))
                }
                var screen = app.render()
                var times = ["first-screen \(Self.microseconds(since: started)) \(Self.residentKiB())"]
                for key in script {
                    let keyStarted = DispatchTime.now()
                    if !app.handle(key) { break }
                    screen = app.render()
                    times.append("\(String(describing: key).replacingOccurrences(of: " ", with: "_")) \(Self.microseconds(since: keyStarted)) \(Self.residentKiB())")
                }
                // The final screen shows finished background work.
                var delivered = work.deliver()
                while !work.running.isEmpty {
                    usleep(2_000)
                    if work.deliver() { delivered = true }
                }
                if work.deliver() || delivered { screen = app.render() }
                if let timing { try Self.write(times.joined(separator: "\n") + "\n", to: timing) }
                let text = screen.text + "\n"
                if dumpScreen == "-" { print(text, terminator: "") } else { try Self.write(text, to: dumpScreen) }
                return
            }
            let work = ThreadedWork(path: path)
            let app = try withCaseFile(path) {
                try App(database: database, path: path, actor: caseFile.actor, readOnly: readOnly, work: work,
                        size: (80, 24), runVerb: { Self.runVerb($0, path: path) }, export: Self.exporter(path: path, actor: caseFile.actor))
            }
            MainActor.assumeIsolated { TerminalDriver.run(app, work: work) }
        }

        /// The export key: the same export as `casebook export --case/--cluster`, into the current folder.
        static func exporter(path: String, actor: String) -> @Sendable (Target) throws -> String {
            { target in
                guard let id = Int64(target.id) else { throw CommandFailure(description: "cannot export \(target)", status: ExitStatus.usage) }
                let request = ExportRequest(caseFilePath: path, subject: target.kind == .case ? .caseFile(id) : .cluster(id),
                                            actor: actor, casebookVersion: Casebook.version)
                let result = try Export.perform(request)
                return "exported \(target) to \(result.path) (\(result.files) files, key \(result.keyFingerprint.prefix(16))…); casebook verify checks it"
            }
        }

        /// Read-write when it can be (notes, tags), else read-only (a read-only folder or file).
        static func open(_ path: String) throws -> (Database, Bool) {
            do {
                return (try CaseFile.open(path, access: .write), false)
            } catch let error as StoreError where error.isNotWritable {
                return (try CaseFile.open(path, access: .read), true)
            } catch CaseFileError.evidenceSubset {
                return (try CaseFile.open(path, access: .read), true)
            }
        }

        /// Writes in place (not by renaming a temporary file over it), so a device or pipe
        /// named as the output stays what it is; a failure is exit status 1 naming the file.
        static func write(_ text: String, to path: String) throws {
            do {
                let out = try OutputFile(path: path)
                try out.write(text)
                try out.finish()
            } catch let error as FileError {
                throw CommandFailure(description: error.description, status: ExitStatus.inputDamaged)
            }
        }

        /// Resident memory of this process in KiB, from /proc/self/statm.
        static func residentKiB() -> Int {
            guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8),
                  let pages = text.split(separator: " ").dropFirst().first.flatMap({ Int($0) }) else { return 0 }
            return pages * Int(sysconf(Int32(_SC_PAGESIZE))) / 1024
        }

        static func microseconds(since start: DispatchTime) -> UInt64 {
            (DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1000
        }

        /// Runs a casebook command line as a child process on the same case file and returns what it printed.
        static func runVerb(_ line: String, path: String) -> String {
            let words = shellWords(line)
            guard let verb = words.first else { return "" }
            guard !["tui", "demo"].contains(verb) else { return "casebook \(verb) cannot run inside the TUI" }
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/proc/self/exe")
            process.arguments = words + ["--db", path]
            let output = Pipe()
            process.standardOutput = output
            process.standardError = output
            process.standardInput = FileHandle.nullDevice
            do { try process.run() } catch { return "cannot run casebook: \(error)" }
            let data = output.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            let text = String(decoding: data, as: UTF8.self)
            return text + (process.terminationStatus == 0 ? "" : "\n(exit status \(process.terminationStatus))")
        }

        /// Splits a command line into words, honouring single and double quotes.
        static func shellWords(_ line: String) -> [String] {
            var words: [String] = []
            var current = ""
            var quote: Character?
            var inWord = false
            for c in line {
                if let open = quote {
                    if c == open { quote = nil } else { current.append(c) }
                } else if c == "'" || c == "\"" {
                    quote = c
                    inWord = true
                } else if c.isWhitespace {
                    if inWord { words.append(current); current = ""; inWord = false }
                } else {
                    current.append(c)
                    inWord = true
                }
            }
            if inWord { words.append(current) }
            return words
        }
    }
}
