import Foundation
import XCTest

/// `casebook tui` as a script drives it: headless screens, and misuse.
final class TUICommandTests: XCTestCase {
    var directory: String!

    override func setUpWithError() throws {
        directory = try temporaryDirectory("tui")
        let lines = #"{"exchange_id":"e1","account_id":"a1","ts":1768465800,"prompt":"hello\u001b[2J"}"# + "\n"
        XCTAssertEqual(try Casebook.run(["ingest", "--db", "case.db", "--kind", "exchanges", "--format", "jsonl", "-"],
                                        in: directory, stdin: Data(lines.utf8)).status, 0)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: directory) }

    func testHeadlessScreensAndTheirOutputs() throws {
        let result = try Casebook.run(["tui", "--db", "case.db", "--headless", "--size", "120x24", "--keys", "@a1<Enter>"], in: directory)
        XCTAssertEqual(result.status, 0, result.stderr)
        let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        XCTAssertEqual(lines.count, 25)
        XCTAssertTrue(lines[0].contains("casebook · clusters › a1"), String(lines[0]))
        XCTAssertTrue(result.stdout.contains("hello\\u{1b}[2J"), "control characters from the data are shown escaped")
        XCTAssertFalse(result.stdout.contains("\u{1B}"))
        // A pipe named as the output is written into, not replaced.
        let fifo = directory + "/screen.fifo"
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        let reader = Process()
        reader.executableURL = URL(fileURLWithPath: "/bin/cat")
        reader.arguments = [fifo]
        let pipe = Pipe()
        reader.standardOutput = pipe
        try reader.run()
        XCTAssertEqual(try Casebook.run(["tui", "--db", "case.db", "--headless", "--dump-screen", fifo], in: directory).status, 0)
        let received = pipe.fileHandleForReading.readDataToEndOfFile()
        reader.waitUntilExit()
        var info = stat()
        XCTAssertEqual(stat(fifo, &info), 0)
        XCTAssertEqual(info.st_mode & S_IFMT, S_IFIFO, "the FIFO is still a FIFO")
        XCTAssertTrue(String(decoding: received, as: UTF8.self).contains("no link run yet"))
    }

    func testMisuseIsAUsageError() throws {
        for arguments in [["--headless", "--size", "10x2"], ["--headless", "--keys", "<Nope>"], ["--keys", "j"],
                          ["--size", "100x30"]] {
            let result = try Casebook.run(["tui", "--db", "case.db"] + arguments, in: directory)
            XCTAssertEqual(result.status, 2, "\(arguments): \(result.stderr)")
        }
        XCTAssertEqual(try Casebook.run(["tui", "--db", "missing.db", "--headless"], in: directory).status, 3)
    }
}
