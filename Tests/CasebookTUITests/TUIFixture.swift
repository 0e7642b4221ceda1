import CasebookGenerate
import CasebookGraph
import CasebookIngest
import CasebookStore
import CasebookTUI
import Foundation
import XCTest

/// A small generated campaign, ingested and linked once per test run, copied for
/// each test that writes; and helpers to drive the TUI headless.
enum TUIFixture {
    /// The built case file (read-only use; copy it to annotate).
    static let caseFile: String = {
        // A fixed-length name: a path cut at the screen's edge then reads the same in every run.
        let directory = NSTemporaryDirectory() + "casebook-tui-fixture-" + String(format: "%010d", getpid())
        let path = directory + "/case.db"
        // Built afresh: a folder left by an earlier run whose process had the same id would
        // hold a campaign from another version of the generator.
        try? FileManager.default.removeItem(atPath: directory)
        var spec = CampaignSpec(benignAccounts: 240, fraudAccounts: 60, exchanges: 9_000)
        spec.seed = 11
        _ = try! CampaignWriter.write(spec, to: directory + "/in")
        _ = try! Ingest(databasePath: path, actor: "fixture").run(IngestPlan(paths: [directory + "/in"], kind: nil, format: nil).files)
        _ = try! LinkRun.run(databasePath: path, actor: "fixture")
        return path
    }()

    static var inputDirectory: String { (caseFile as NSString).deletingLastPathComponent + "/in" }

    /// A private copy of the case file, for a test that annotates.
    static func copy() throws -> String {
        let directory = NSTemporaryDirectory() + "casebook-tui-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let source = try CaseFile.open(caseFile, access: .read)
        try source.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        let target = directory + "/case.db"
        try FileManager.default.copyItem(atPath: caseFile, toPath: target)
        return target
    }

    /// A headless app on `path` with key scripts applied; the screen after them.
    /// A case file in a scratch folder of its own, ingested from one JSON Lines file of
    /// `lines`, linked when `link`; the caller removes the folder (the file's parent).
    static func caseFile(_ name: String, lines: [String], link: Bool = false) throws -> String {
        let directory = NSTemporaryDirectory() + "casebook-tui-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try (lines.joined(separator: "\n") + "\n").write(toFile: directory + "/" + name, atomically: true, encoding: .utf8)
        let path = directory + "/case.db"
        _ = try Ingest(databasePath: path).run(IngestPlan(paths: [directory + "/" + name], kind: nil, format: nil).files)
        if link { _ = try LinkRun.run(databasePath: path, actor: "ana") }
        return path
    }

    static func app(_ path: String = caseFile, size: (Int, Int) = (100, 30), actor: String = "ana") throws -> App {
        let database = try CaseFile.open(path, access: .write)
        return try App(database: database, path: path, actor: actor, readOnly: false, work: ImmediateWork(database: database),
                       size: size, runVerb: { "ran: " + $0 })
    }

    @discardableResult
    static func press(_ app: App, _ script: String) throws -> Screen {
        for key in try Key.script(script) { _ = app.handle(key) }
        return app.render()
    }

    /// The screen's text with what changes from run to run (temporary paths, today's date) replaced,
    /// and trailing spaces dropped (a replaced path changes a line's length).
    static func stable(_ screen: Screen) -> String {
        let directory = (caseFile as NSString).deletingLastPathComponent
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyy-MM-dd"
        formatter.timeZone = TimeZone(identifier: "UTC")
        let today = formatter.string(from: Date())
        return screen.rows.indices.map { index in
            var line = screen.line(index)
            for (volatile, fixed) in [(directory, "$FIXTURE"), (today, "$TODAY")] {
                line = line.replacingOccurrences(of: volatile, with: fixed)
            }
            // The time of day of something done during the test.
            line = line.replacingOccurrences(of: #"\$TODAY \d\d:\d\d"#, with: "$TODAY HH:MM", options: .regularExpression)
            while line.last == " " { line.removeLast() }
            return line
        }.joined(separator: "\n") + "\n"
    }
}

/// Compares a screen with `Snapshots/NAME.txt`; `CASEBOOK_RECORD_SNAPSHOTS=1` writes it instead.
func assertSnapshot(_ screen: Screen, _ name: String, file: StaticString = #filePath, line: UInt = #line) {
    let directory = URL(fileURLWithPath: "\(file)").deletingLastPathComponent().appendingPathComponent("Snapshots")
    let url = directory.appendingPathComponent(name + ".txt")
    let actual = TUIFixture.stable(screen)
    if ProcessInfo.processInfo.environment["CASEBOOK_RECORD_SNAPSHOTS"] == "1" {
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try? actual.write(to: url, atomically: true, encoding: .utf8)
        return
    }
    guard let expected = try? String(contentsOf: url, encoding: .utf8) else {
        XCTFail("no snapshot \(name).txt; record it with CASEBOOK_RECORD_SNAPSHOTS=1", file: file, line: line)
        return
    }
    if actual != expected {
        let a = actual.split(separator: "\n", omittingEmptySubsequences: false)
        let e = expected.split(separator: "\n", omittingEmptySubsequences: false)
        let first = zip(a, e).enumerated().first { $0.element.0 != $0.element.1 }
        XCTFail("screen differs from \(name).txt at line \((first?.offset ?? min(a.count, e.count)) + 1):\n"
                + "expected: \(first.map { String($0.element.1) } ?? "")\nactual:   \(first.map { String($0.element.0) } ?? "")\n\nwhole screen:\n\(actual)",
                file: file, line: line)
    }
}
