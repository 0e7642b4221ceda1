import CasebookStore
import Foundation
import XCTest

/// Misuse of the case file and of standard input that once corrupted or poisoned a case file.
final class CaseFileSafetyTests: XCTestCase {
    var directory: String!

    override func setUpWithError() throws { directory = try temporaryDirectory("safety") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: directory) }

    private let lines = #"{"exchange_id":"s1","account_id":"a","ts":1}"# + "\n" + #"{"exchange_id":"s2","account_id":"a","ts":"soon"}"# + "\n"

    private func ingestStandardInput(_ db: String = "case.db") throws -> CommandResult {
        try Casebook.run(["ingest", "--db", db, "--kind", "exchanges", "--format", "jsonl", "-"], in: directory,
                         stdin: Data(lines.utf8))
    }

    private func scalar(_ sql: String, _ db: String = "case.db") throws -> String {
        let database = try CaseFile.open(directory + "/" + db, access: .read)
        return try database.prepare(sql).rows { $0.string(0) ?? "NULL" }.joined(separator: ",")
    }

    func testAWriterThroughAHardLinkOrSymlinkIsRefused() throws {
        XCTAssertEqual(try ingestStandardInput().status, 0)
        XCTAssertEqual(link(directory + "/case.db", directory + "/hard.db"), 0)
        XCTAssertEqual(symlink(directory + "/case.db", directory + "/soft.db"), 0)
        // Another process holds the lock on the file itself (as a running ingest does).
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        holder.arguments = ["python3", "-c", "import fcntl, sys, time; f = open(sys.argv[1]); fcntl.flock(f, fcntl.LOCK_EX); print('locked', flush=True); time.sleep(60)",
                            directory + "/case.db"]
        let ready = Pipe()
        holder.standardOutput = ready
        try holder.run()
        defer { holder.terminate(); holder.waitUntilExit() }
        var said = ""
        while !said.hasSuffix("\n") {
            let chunk = ready.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            said += String(decoding: chunk, as: UTF8.self)
        }
        XCTAssertEqual(said, "locked\n")
        XCTAssertEqual(try Casebook.run(["link", "--db", "case.db"], in: directory).status, 3)
        for name in ["hard.db", "soft.db"] {
            let result = try Casebook.run(["ingest", "--db", name, "--kind", "exchanges", "--format", "jsonl", "-"],
                                          in: directory, stdin: Data(lines.utf8))
            XCTAssertEqual(result.status, 3, "\(name): \(result.stderr)")
            XCTAssertTrue(result.stderr.contains("being written by another casebook process"), result.stderr)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory + "/case.db.lock"), "no side file is left")
    }

    func testStandardInputTwiceIsRecognisedAndAKilledOneIsClosed() throws {
        XCTAssertEqual(try ingestStandardInput().status, 0)
        let again = try ingestStandardInput()
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertTrue(again.stdout.contains("already ingested"), again.stdout)
        XCTAssertTrue(again.stdout.contains("0 records read in"), again.stdout)
        XCTAssertFalse(again.stdout.contains("MB/s"), "no rate of bytes only hashed: \(again.stdout)")
        XCTAssertEqual(try scalar("SELECT count(*) FROM source_files"), "1")
        XCTAssertEqual(try scalar("SELECT count(*) FROM rejects"), "1")

        // A stream killed mid-way leaves no row 'loading' for ever.
        let process = Casebook.process(["ingest", "--db", "case.db", "--kind", "exchanges", "--format", "jsonl", "-"],
                                       directory: directory)
        let input = Pipe()
        process.standardInput = input
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let batch = (1...20_000).map { #"{"exchange_id":"k\#($0)","account_id":"a","ts":\#($0)}"# }.joined(separator: "\n") + "\n"
        input.fileHandleForWriting.write(Data(batch.utf8))
        var loading = ""
        for _ in 0..<500 where loading != "1" {
            loading = (try? scalar("SELECT count(*) FROM source_files WHERE status = 'loading' AND records_read > 0")) ?? ""
            usleep(10_000)
        }
        XCTAssertEqual(loading, "1")
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        XCTAssertEqual(try ingestStandardInput().status, 0)
        XCTAssertEqual(try scalar("SELECT count(*) FROM source_files WHERE status = 'loading'"), "0")
        XCTAssertTrue(try scalar("SELECT damage FROM source_files WHERE file_id = 2").contains("interrupted"))
    }

    func testAProcessSubstitutionIsReadAsAStream() throws {
        try Data(lines.utf8).write(to: URL(fileURLWithPath: directory + "/exchanges.jsonl"))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-c", "exec '\(Casebook.executable.path)' ingest --db case.db --kind exchanges --format jsonl <(cat exchanges.jsonl)"]
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0)
        XCTAssertEqual(try scalar("SELECT count(*) FROM exchanges"), "1")
        let real = try Casebook.run(["ingest", "--db", "case.db", "exchanges.jsonl"], in: directory)
        XCTAssertTrue(real.stdout.contains("already ingested"), real.stdout)
        XCTAssertEqual(try scalar("SELECT count(*) FROM rejects"), "1")
    }

    func testADamagedStreamIsRecordedWithTheDigestOfEveryByteItGave() throws {
        // A gzip member followed by megabytes that are not gzip: the records stop at the
        // damage, but the stream's digest and size are those of all of it (what `sha256sum`
        // of the same bytes prints), so a stream that differs only after the damage is not
        // taken for this one.
        let records = (1...1_000).map { #"{"exchange_id":"d\#($0)","account_id":"a","ts":\#($0)}"# + "\n" }
        try Data(records.joined().utf8).write(to: URL(fileURLWithPath: directory + "/stream.jsonl"))
        let script = """
            gzip -n stream.jsonl
            cat stream.jsonl.gz > damaged.gz
            head -c 3000000 /dev/urandom >> damaged.gz
            stat -c %s damaged.gz > size.txt
            sha256sum damaged.gz > digest.txt
            cat damaged.gz | "$0" ingest --db case.db --kind exchanges --format jsonl --gzip -
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-c", script, Casebook.executable.path]
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 1, "the stream is damaged")
        let size = try String(contentsOfFile: directory + "/size.txt", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let digest = try String(contentsOfFile: directory + "/digest.txt", encoding: .utf8).prefix(64)
        XCTAssertEqual(try scalar("SELECT status || ' ' || size_bytes || ' ' || sha256 FROM source_files"), "damaged \(size) \(digest)")
        XCTAssertEqual(try scalar("SELECT count(*) FROM exchanges"), "1000")
    }

    func testAnUnrelatedDatabaseOrAMissingFileIsRefusedNotConverted() throws {
        let other = directory + "/other.db"
        let database = try Database(path: other, mode: .readWriteCreate)
        try database.execute("CREATE TABLE recipes (name TEXT); INSERT INTO recipes VALUES ('soup')")
        let before = try Data(contentsOf: URL(fileURLWithPath: other))
        for arguments in [["ingest", "--db", "other.db", "--kind", "exchanges", "--format", "jsonl", "-"],
                          ["link", "--db", "other.db"], ["clusters", "--db", "other.db"]] {
            let result = try Casebook.run(arguments, in: directory, stdin: Data(lines.utf8))
            XCTAssertEqual(result.status, 3, "\(arguments): \(result.stderr)")
            XCTAssertTrue(result.stderr.contains("not a casebook case file"), result.stderr)
        }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: other)), before)
        for command in ["link", "clusters", "explain"] {
            let result = try Casebook.run([command, "--db", "typo.db"] + (command == "explain" ? ["a"] : []), in: directory)
            XCTAssertEqual(result.status, 3, "\(command): \(result.stderr)")
            XCTAssertTrue(result.stderr.contains("does not exist"), result.stderr)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory + "/typo.db"))
        for path in ["", "/dev/null", directory!] {
            let result = try Casebook.run(["ingest", "--db", path, "--kind", "exchanges", "--format", "jsonl", "-"],
                                          in: directory, stdin: Data(lines.utf8))
            XCTAssertEqual(result.status, 3, "\(path): \(result.stderr)")
            XCTAssertFalse(result.stderr.contains("full"), result.stderr)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: "/dev/null.lock"))
    }

    func testADumpedAndRestoredCaseFileIsRecognised() throws {
        XCTAssertEqual(try ingestStandardInput().status, 0)
        let restore = Process()
        restore.executableURL = URL(fileURLWithPath: "/bin/bash")
        restore.arguments = ["-c", "sqlite3 case.db .dump | sqlite3 restored.db"]
        restore.currentDirectoryURL = URL(fileURLWithPath: directory)
        try restore.run()
        restore.waitUntilExit()
        XCTAssertEqual(try scalar("PRAGMA user_version", "restored.db"), "0", "the dump dropped the version")
        let link = try Casebook.run(["link", "--db", "restored.db"], in: directory)
        XCTAssertEqual(link.status, 0, link.stderr)
        XCTAssertEqual(try scalar("PRAGMA user_version", "restored.db"), "\(Schema.currentVersion)")
    }

    func testABackupIsPrivateKeepsTheVersionAndNeverOverwrites() throws {
        XCTAssertEqual(try ingestStandardInput().status, 0)
        let backup = try Casebook.run(["backup", "--db", "case.db", "copy.db"], in: directory)
        XCTAssertEqual(backup.status, 0, backup.stderr)
        XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: directory + "/copy.db")[.posixPermissions] as? Int, 0o600)
        XCTAssertEqual(try scalar("PRAGMA user_version", "copy.db"), "\(Schema.currentVersion)")
        XCTAssertEqual(try scalar("SELECT count(*) || '/' || (SELECT count(*) FROM rejects) FROM exchanges", "copy.db"), "1/1")
        XCTAssertNotEqual(try Casebook.run(["backup", "--db", "case.db", "copy.db"], in: directory).status, 0)
    }

    /// A folder of `directory` whose files user nobody may read but not write, as a mounted
    /// evidence share; skips the test where it cannot be arranged.
    private func readOnlyFolder(filledBy fill: (String) throws -> Void) throws -> String {
        try XCTSkipUnless(getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv"),
                          "needs root to run the reader as another user")
        let folder = directory + "/ro"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try fill(folder)
        for name in try FileManager.default.contentsOfDirectory(atPath: folder) { chmod(folder + "/" + name, 0o644) }
        chmod(folder, 0o555)
        chmod(directory, 0o755)
        addTeardownBlock { chmod(folder, 0o755) }
        return folder
    }

    /// Runs a copy of the casebook binary as user nobody, standard output and error together.
    private func runAsNobody(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let binary = directory + "/casebook-copy"
        if !FileManager.default.fileExists(atPath: binary) {
            try FileManager.default.copyItem(atPath: Casebook.executable.path, toPath: binary)
            chmod(binary, 0o755)
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
        process.arguments = ["--reuid=65534", "--regid=65534", "--clear-groups", binary] + arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = out
        try process.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, text)
    }

    func testACaseFileInAReadOnlyFolderCanBeRead() throws {
        XCTAssertEqual(try ingestStandardInput().status, 0)
        let folder = try readOnlyFolder { try FileManager.default.copyItem(atPath: self.directory + "/case.db", toPath: $0 + "/case.db") }
        for (command, expected) in [(["audit", "log"], "ingest.file"), (["sql", "--format", "csv", "SELECT count(*) AS n FROM exchanges"], "n\r\n1\r\n")] {
            let (status, text) = try runAsNobody(command + ["--db", folder + "/case.db"])
            XCTAssertEqual(status, 0, text)
            XCTAssertTrue(text.contains(expected), text)
        }
    }

    /// Copies `case.db` and its journal at a moment inside an exclusive load's transaction, once the
    /// transaction has written into the file: what `kill -9` at that moment leaves beside a case file.
    private func copyTakenMidExclusiveLoad(to folder: String) throws {
        XCTAssertEqual(try ingestStandardInput().status, 0)
        let path = directory + "/case.db"
        let database = try CaseFile.open(path, access: .write)
        try CaseFile.beginExclusiveLoad(database, path: path)
        try database.execute("PRAGMA cache_size = 8")  // pages: the transaction spills into the file
        try database.execute("BEGIN")
        try database.execute("UPDATE exchange_rows SET prompt = 'during'")
        try database.execute("""
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
            INSERT INTO user_agents (text) SELECT hex(zeroblob(1000)) || i FROM n
            """)
        for suffix in ["", "-journal"] {
            try FileManager.default.copyItem(atPath: path + suffix, toPath: folder + "/case.db" + suffix)
        }
        try database.execute("ROLLBACK")
        try CaseFile.endExclusiveLoad(database)
        XCTAssertThrowsError(try Database(path: folder + "/case.db", mode: .readOnly).scalarInt("SELECT 1 FROM exchange_rows")) {
            XCTAssertTrue(($0 as? StoreError)?.isUnrolledJournal == true, "\($0)")
        }
    }

    func testAReaderRollsBackTheTransactionOfAKilledExclusiveLoad() throws {
        let folder = directory + "/killed"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try copyTakenMidExclusiveLoad(to: folder)
        let result = try Casebook.run(["sql", "--db", folder + "/case.db", "--format", "csv",
                                       "SELECT count(*) || ' ' || (SELECT count(*) FROM user_agents) || ' ' || (SELECT count(*) FROM exchange_rows WHERE prompt = 'during') FROM exchanges"],
                                      in: directory)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.hasSuffix("\r\n1 0 0\r\n"), result.stdout)
        XCTAssertEqual(try scalar("PRAGMA integrity_check", "killed/case.db"), "ok")
    }

    /// Where nothing can be written the journal cannot be rolled back; the file is then never read
    /// as immutable (that would show half a transaction) but refused with a sentence.
    func testAKilledExclusiveLoadInAReadOnlyFolderIsRefusedNotMisread() throws {
        let folder = try readOnlyFolder { try copyTakenMidExclusiveLoad(to: $0) }
        let (status, text) = try runAsNobody(["sql", "--db", folder + "/case.db", "SELECT count(*) FROM user_agents"])
        XCTAssertEqual(status, 3, text)
        XCTAssertTrue(text.contains("stopped mid-transaction"), text)
    }

    /// Foundation's path methods stop the program on a one-character name; casebook must not.
    func testOneCharacterNamesWork() throws {
        XCTAssertEqual(try ingestStandardInput("c").status, 0)
        XCTAssertEqual(try Casebook.run(["tui", "--db", "c", "--headless", "--keys", "q"], in: directory).status, 0)
        XCTAssertEqual(try Casebook.run(["backup", "--db", "c", "d"], in: directory).status, 0)
        XCTAssertEqual(try Casebook.run(["generate", "--out", "g", "--accounts", "20", "--exchanges", "100"], in: directory).status, 0)
    }

    func testADamagedOrWrongCaseFileIsExitStatusThreeWithASentence() throws {
        XCTAssertEqual(try ingestStandardInput().status, 0)
        try FileManager.default.copyItem(atPath: directory + "/case.db", toPath: directory + "/cut.db")
        let handle = FileHandle(forWritingAtPath: directory + "/cut.db")!
        try handle.truncate(atOffset: 40_000)
        try handle.close()
        try Data((0..<100).map { UInt8($0 * 7 & 0xFF) }).write(to: URL(fileURLWithPath: directory + "/junk.db"))
        for (file, words) in [("cut.db", "damaged"), ("junk.db", "not a casebook case file"), (directory!, "not a regular file")] {
            for command in [["clusters"], ["link"], ["explain", "a"], ["audit", "verify"], ["case", "list"]] {
                let result = try Casebook.run(command + ["--db", file], in: directory)
                XCTAssertEqual(result.status, 3, "\(command) on \(file): \(result.stderr)")
                XCTAssertTrue(result.stderr.contains(words), "\(command) on \(file): \(result.stderr)")
                XCTAssertFalse(result.stderr.contains("SQLite code"), result.stderr)
            }
        }
    }

    func testControlCharactersInNamesAndArgumentsArePrintedEscaped() throws {
        let name = "exchanges-\u{1B}[31mred\u{07}.jsonl"
        try Data("{\"exchange_id\":\"x\",\"account_id\":\"a\",\"ts\":1}\n{\"cut".utf8)
            .write(to: URL(fileURLWithPath: directory + "/" + name))
        for arguments in [["ingest", "--db", "case.db", name], ["ingest", "--db", "case.db", "missing-\u{1B}[2J.csv"],
                          ["case", "status", "--db", "case.db", "1", "x\u{1B}[2J"], ["explain", "--db", "case.db", "\u{1B}]0;pwned\u{07}"]] {
            let result = try Casebook.run(arguments, in: directory)
            XCTAssertFalse(result.stdout.contains("\u{1B}") || result.stderr.contains("\u{1B}"), "\(arguments): \(result.stdout)\(result.stderr)")
            XCTAssertFalse(result.stdout.contains("\u{07}") || result.stderr.contains("\u{07}"), "\(arguments)")
            if arguments[0] != "explain" {
                XCTAssertTrue((result.stdout + result.stderr).contains("\\u{1b}"), "\(arguments): \(result.stdout)\(result.stderr)")
            }
        }
    }

    func testAFileNameThatIsNotUTF8IsOpenedAndPrintedEscaped() throws {
        // Swift strings cannot hold the name: the shell makes the file and passes its name.
        let script = """
            printf '{"exchange_id":"n1","account_id":"a","ts":1}\\n{"cut' > "in/$(printf 'exchanges-\\377.jsonl')"
            exec "$0" ingest --db case.db "in/$(printf 'exchanges-\\377.jsonl')"
            """
        try FileManager.default.createDirectory(atPath: directory + "/in", withIntermediateDirectories: true)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-c", script, Casebook.executable.path]
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 1, "the file is cut off: damaged, " + text)
        XCTAssertTrue(text.contains("exchanges-\\xff.jsonl: DAMAGED"), text)
        XCTAssertTrue(text.contains("of its records 1 loaded, 0 duplicate, 1 rejected"), text)
        XCTAssertEqual(try scalar("SELECT count(*) FROM exchanges"), "1")
        // The same file found through its directory is recognised, not read again.
        let again = try Casebook.run(["ingest", "--db", "case.db", "in"], in: directory)
        XCTAssertTrue(again.stdout.contains("already ingested"), again.stdout)
    }

    func testADamagedHeaderSaysNothingWasLoadedAndWhereTheRowsWent() throws {
        // A header naming a column twice cannot be used: its rows are rejected, none loaded,
        // and the report says so rather than promising records before the damage.
        let csv = "account_id,created_at,created_at\na1,2026-01-01T00:00:00Z,x\na2,2026-01-01T00:00:00Z,y\n"
        try Data(csv.utf8).write(to: URL(fileURLWithPath: directory + "/accounts.csv"))
        let result = try Casebook.run(["ingest", "--db", "case.db", "accounts.csv"], in: directory)
        XCTAssertEqual(result.status, 1, result.stdout + result.stderr)
        XCTAssertTrue(result.stdout.contains("accounts.csv: DAMAGED"), result.stdout)
        XCTAssertTrue(result.stdout.contains("of its records 0 loaded, 0 duplicate, 2 rejected"), result.stdout)
        XCTAssertEqual(try scalar("SELECT count(*) FROM rejects"), "2")
    }

    func testASchemaAlteredByHandIsNamed() throws {
        XCTAssertEqual(try ingestStandardInput().status, 0)
        let database = try Database(path: directory + "/case.db", mode: .readWrite)
        try database.execute("DROP VIEW exchanges")
        for arguments in [["link", "--db", "case.db"], ["clusters", "--db", "case.db"]] {
            let result = try Casebook.run(arguments, in: directory)
            XCTAssertEqual(result.status, 3, "\(arguments): \(result.stderr)")
            XCTAssertTrue(result.stderr.contains("view exchanges"), result.stderr)
        }
    }
}
