import Foundation
import XCTest

/// `casebook export` and `casebook verify` as a script and a TUI user run them.
final class ExportCommandTests: XCTestCase {
    var directory: String!
    var environment: [String: String] { ["XDG_CONFIG_HOME": directory + "/config", "CASEBOOK_INVESTIGATOR": "ana"] }

    override func setUpWithError() throws {
        directory = try temporaryDirectory("export")
        for arguments in [["generate", "--out", "in", "--accounts", "200", "--exchanges", "6000", "--seed", "8"],
                          ["ingest", "--db", "case.db", "in"], ["link", "--db", "case.db"],
                          ["case", "new", "Farm", "--db", "case.db", "--cluster", "1"]] {
            let result = try run(arguments)
            XCTAssertEqual(result.status, 0, "\(arguments): \(result.stderr)")
        }
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: directory) }

    private func run(_ arguments: [String]) throws -> CommandResult {
        try Casebook.run(arguments, in: directory, environment: environment)
    }

    func testExportThenVerifyAndTheExitStatusesScriptsRelyOn() throws {
        let exported = try run(["export", "--db", "case.db", "--case", "1", "--out", "b", "--json"])
        XCTAssertEqual(exported.status, 0, exported.stderr)
        let summary = try JSONSerialization.jsonObject(with: Data(exported.stdout.utf8)) as! [String: Any]
        XCTAssertEqual(summary["bundle"] as? String, "b")
        var info = stat()
        XCTAssertEqual(stat(directory + "/config/casebook/signing-key.pem", &info), 0, "the key is made on first use")
        XCTAssertEqual(info.st_mode & 0o777, 0o600)
        let verified = try run(["verify", "b"])
        XCTAssertEqual(verified.status, 0, verified.stdout + verified.stderr)
        XCTAssertTrue(verified.stdout.contains("bundle verified"))
        // The key can be checked against the one the investigator handed over.
        let key = try run(["verify", "b", "--key", directory + "/config/casebook/signing-key.pem", "--json"])
        XCTAssertEqual(key.status, 0, key.stdout)

        // Its portable subset is opened read-only by casebook: browsing or annotating it changes nothing.
        XCTAssertEqual(try run(["tui", "--db", "b/evidence.sqlite", "--headless", "--keys", "j<Enter>q"]).status, 0)
        XCTAssertEqual(try run(["clusters", "--db", "b/evidence.sqlite"]).status, 0)
        let note = try run(["case", "note", "case:1", "x", "--db", "b/evidence.sqlite"])
        XCTAssertEqual(note.status, 3)
        XCTAssertTrue(note.stderr.contains("portable subset of an evidence bundle"), note.stderr)
        XCTAssertEqual(try run(["verify", "b"]).status, 0, "the bundle still verifies")

        try "x".write(toFile: directory + "/b/data/extra.txt", atomically: false, encoding: .utf8)
        let tampered = try run(["verify", "b"])
        XCTAssertEqual(tampered.status, 1)
        XCTAssertTrue(tampered.stdout.contains("FAILED: data/extra.txt is not part of the bundle"), tampered.stdout)

        XCTAssertEqual(try run(["export", "--db", "case.db", "--case", "1", "--cluster", "1"]).status, 2)
        XCTAssertEqual(try run(["export", "--db", "case.db", "--case", "1", "--redact", "phones"]).status, 2)
        XCTAssertEqual(try run(["export", "--db", "case.db", "--cluster", "424242"]).status, 4)
        XCTAssertEqual(try run(["export", "--db", "case.db", "--case", "1", "--out", "b"]).status, 1, "never overwrites")
        XCTAssertEqual(try run(["verify", "no-such-bundle"]).status, 4)
        let audit = try run(["audit", "log", "--db", "case.db", "--json"])
        XCTAssertEqual(audit.stdout.components(separatedBy: "\"action\":\"export\"").count - 1, 1, "one export, one entry")
        XCTAssertEqual(try run(["audit", "verify", "--db", "case.db"]).status, 0)
    }

    /// The TUI's `x` on a cluster writes the same bundle the CLI writes.
    func testTheTUIExportKeyWritesTheSameBundleAsTheCLI() throws {
        let tui = try run(["tui", "--db", "case.db", "--headless", "--keys", "x", "--dump-screen", "screen.txt"])
        XCTAssertEqual(tui.status, 0, tui.stderr)
        let screen = try String(contentsOfFile: directory + "/screen.txt", encoding: .utf8)
        let names = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasPrefix("cluster-") && $0.hasSuffix(".bundle") }
        XCTAssertEqual(names.count, 1, screen)
        let fromTUI = try XCTUnwrap(names.first)
        XCTAssertTrue(screen.contains("exported cluster:"), screen)
        let cluster = String(fromTUI.dropFirst("cluster-".count).prefix { $0 != "-" })
        XCTAssertEqual(try run(["export", "--db", "case.db", "--cluster", cluster, "--out", "cli"]).status, 0)
        XCTAssertEqual(try run(["verify", fromTUI]).status, 0)
        func listing(_ bundle: String) throws -> [String: String] {
            let text = try String(contentsOfFile: directory + "/" + bundle + "/MANIFEST.sha256", encoding: .utf8)
            return Dictionary(uniqueKeysWithValues: text.split(separator: "\n").map { line in
                (String(line.dropFirst(66)), String(line.prefix(64)))
            })
        }
        let (a, b) = (try listing(fromTUI), try listing("cli"))
        XCTAssertEqual(Set(a.keys), Set(b.keys))
        // The rows are the same; only what records the moment (time, audit head) differs.
        for file in a.keys where file.hasPrefix("data/") && !file.contains("audit") && !file.contains("case_history") {
            XCTAssertEqual(a[file], b[file], "\(file) differs between the TUI's and the CLI's bundle")
        }
    }
}
