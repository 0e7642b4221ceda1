import CasebookCases
@testable import CasebookExport
import CasebookGenerate
import CasebookGraph
import CasebookIO
import CasebookIngest
import CasebookStore
import Crypto
import Foundation
import XCTest

/// Evidence bundles as a legal team receives them: complete, checkable with standard tools,
/// and every kind of tampering found and named.
final class ExportTests: XCTestCase {
    /// A generated campaign with a case on its riskiest cluster, hostile text in notes and
    /// prompts, built once.
    nonisolated(unsafe) static var root: String!
    nonisolated(unsafe) static var caseFile: String!
    nonisolated(unsafe) static var clusterID: Int64 = 0
    static let hostile = ["=HYPERLINK(\"http://evil.example/\",\"x\")", "+1+2", "-2+3", "@SUM(A1:A9)", "\tTAB", "\rCR"]

    override class func setUp() {
        super.setUp()
        do {
            root = NSTemporaryDirectory() + "casebook-export-\(UUID().uuidString)"
            setenv("XDG_CONFIG_HOME", root + "/config", 1)
            caseFile = root + "/case.db"
            var spec = CampaignSpec(benignAccounts: 240, fraudAccounts: 60, exchanges: 9_000)
            spec.seed = 23
            _ = try CampaignWriter.write(spec, to: root + "/in")
            _ = try Ingest(databasePath: caseFile, actor: "ana").run(IngestPlan(paths: [root + "/in"], kind: nil, format: nil).files)
            _ = try LinkRun.run(databasePath: caseFile, actor: "ana")
            let database = try CaseFile.open(caseFile, access: .write)
            clusterID = try XCTUnwrap(database.scalarInt("SELECT cluster_id FROM clusters ORDER BY risk_score DESC, cluster_id LIMIT 1"))
            let member = try XCTUnwrap(database.prepare("SELECT account_id FROM cluster_members WHERE cluster_id = ?1 ORDER BY account_id LIMIT 1")
                .rows([clusterID]) { $0.string(0) }.first ?? nil)
            // Hostile prompts on a member's exchanges, through the contract like any other input.
            let lines = hostile.enumerated().map { index, prompt in
                "{\"exchange_id\":\"hostile-\(index)\",\"account_id\":\"\(member)\",\"ts\":1768465800,\"prompt\":\(jsonString(prompt))}"
            }.joined(separator: "\n") + "\n"
            try lines.write(toFile: root + "/exchanges-hostile.jsonl", atomically: false, encoding: .utf8)
            _ = try Ingest(databasePath: caseFile, actor: "ana").run(IngestPlan(paths: [root + "/exchanges-hostile.jsonl"], kind: nil, format: nil).files)
            let book = CaseBook(database: database, actor: "ana")
            let caseID = try book.create(title: "Reasoning harvest", clusters: [clusterID])
            try book.setAttribution(caseID, "Operator behind the card farm", confidence: .medium)
            let email = try XCTUnwrap(database.prepare("SELECT email FROM account_rows WHERE account_id = ?1").rows([member]) { $0.string(0) }.first ?? nil)
            _ = try book.addNote(to: Target(.case, String(caseID)), "Paid with one card; contact \(email)")
            for value in hostile { _ = try book.addNote(to: Target(.cluster, String(clusterID)), value) }
            try book.addTag("card-farm", to: Target(.cluster, String(clusterID)))
            // Another case's note: its audit entry must be withheld from this case's bundle.
            let other = try book.create(title: "Unrelated", accounts: [])
            _ = try book.addNote(to: Target(.case, String(other)), "private to another investigation")
        } catch {
            preconditionFailure("fixture: \(error)")
        }
    }

    override class func tearDown() {
        try? FileManager.default.removeItem(atPath: root)
        super.tearDown()
    }

    private static func jsonString(_ text: String) -> String {
        String(decoding: try! JSONSerialization.data(withJSONObject: [text], options: []), as: UTF8.self).dropFirst().dropLast().description
    }

    private func export(_ subject: ExportRequest.Subject = .caseFile(1), zip: Bool = false, redact: String? = nil) throws -> String {
        var request = ExportRequest(caseFilePath: Self.caseFile, subject: subject, actor: "ana", casebookVersion: "test")
        request.outputPath = Self.root + "/bundle-\(UUID().uuidString)" + (zip ? ".zip" : "")
        request.zip = zip
        if let redact { request.redaction = try RedactionProfile(parsing: redact) }
        return try Exporter.export(request).path
    }

    private func shell(_ command: String, in directory: String) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, output)
    }

    func testABundleVerifiesWithCasebookAndWithStandardTools() throws {
        let bundle = try export()
        let report = try BundleVerifier.verify(bundle)
        XCTAssertTrue(report.isValid, "\(report.failures)")
        let (status, output) = try shell("sha256sum -c MANIFEST.sha256", in: bundle)
        XCTAssertEqual(status, 0, output)
        XCTAssertFalse(output.contains("FAILED"))
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl") {
            let (verified, text) = try shell("openssl pkeyutl -verify -pubin -inkey public-key.pem -rawin -in manifest.json -sigfile manifest.sig", in: bundle)
            XCTAssertEqual(verified, 0, text)
            XCTAssertTrue(text.contains("Signature Verified Successfully"), text)
        }
        // Every file is in both lists; the bundle is private.
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: bundle + "/manifest.json"))) as! [String: Any]
        let files = (manifest["files"] as! [[String: Any]]).map { $0["path"] as! String }
        for expected in ["evidence.sqlite", "report.html", "report.md", "data/exchanges.jsonl", "data/exchanges.csv", "data/links.csv",
                         "data/link_evidence.jsonl", "data/notes.csv", "data/tags.jsonl", "data/audit.jsonl", "data/case_history.jsonl"] {
            XCTAssertTrue(files.contains(expected), "manifest lacks \(expected)")
        }
        // Each link's evidence is one JSON object a line, naming the input rows behind it.
        let evidence = try String(contentsOfFile: bundle + "/data/link_evidence.jsonl", encoding: .utf8).split(separator: "\n")
        XCTAssertFalse(evidence.isEmpty)
        for line in evidence {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            XCTAssertNotNil(object?["weight"] as? Double, String(line))
            let sources = object?["source_rows"] as? [[String: Any]] ?? []
            XCTAssertFalse(sources.isEmpty, String(line))
            XCTAssertTrue(sources.allSatisfy { $0["file"] is String && $0["line"] is Int }, String(line))
        }
        let last = try CaseFile.open(Self.caseFile, access: .read).scalarInt("SELECT max(seq) FROM audit_log") ?? 0
        XCTAssertEqual((manifest["audit_head"] as? [String: Any])?["seq"] as? Int, Int(last) - 1, "the head just before the export's own entry")
        var info = stat()
        stat(bundle, &info)
        XCTAssertEqual(info.st_mode & 0o777, 0o700)
        stat(bundle + "/data/exchanges.jsonl", &info)
        XCTAssertEqual(info.st_mode & 0o777, 0o600)
        // The export is in the audit log, naming the manifest's digest.
        let manifestSHA = try FileDigest.sha256(path: bundle + "/manifest.json")
        let logged = try CaseFile.open(Self.caseFile, access: .read).prepare("SELECT payload FROM audit_log WHERE action = 'export'")
            .rows { $0.string(0) ?? "" }
        XCTAssertTrue(logged.contains { $0.contains(manifestSHA) && $0.contains("unredacted") }, "\(logged)")
    }

    func testEachTamperingIsFoundAndNamed() throws {
        func tampered(_ change: (String) throws -> Void) throws -> [String] {
            let bundle = try export()
            try change(bundle)
            let report = try BundleVerifier.verify(bundle)
            XCTAssertFalse(report.isValid)
            return report.failures
        }
        let flipped = try tampered { bundle in
            let path = bundle + "/data/exchanges.csv"
            var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
            bytes[bytes.count / 2] ^= 0x01
            try bytes.write(to: URL(fileURLWithPath: path))
        }
        XCTAssertTrue(flipped.contains { $0.contains("data/exchanges.csv was altered") }, "\(flipped)")

        let edited = try tampered { bundle in
            let path = bundle + "/manifest.json"
            let text = try String(contentsOfFile: path, encoding: .utf8).replacingOccurrences(of: "\"investigator\" : \"ana\"", with: "\"investigator\" : \"eve\"")
            try text.write(toFile: path, atomically: false, encoding: .utf8)
        }
        XCTAssertTrue(edited.contains { $0.contains("manifest.json was altered") }, "\(edited)")
        XCTAssertTrue(edited.contains { $0.contains("signature does not match") }, "\(edited)")

        let missing = try tampered { try FileManager.default.removeItem(atPath: $0 + "/data/notes.csv") }
        XCTAssertTrue(missing.contains { $0.contains("data/notes.csv") && $0.contains("missing") }, "\(missing)")

        let extra = try tampered { try "planted".write(toFile: $0 + "/data/planted.csv", atomically: false, encoding: .utf8) }
        XCTAssertTrue(extra.contains { $0.contains("data/planted.csv is not part of the bundle") }, "\(extra)")

        // Re-signed by someone else, with every digest made consistent again: only the key tells.
        let otherKey = Curve25519.Signing.PrivateKey()
        let resigned = try export()
        let manifest = try Data(contentsOf: URL(fileURLWithPath: resigned + "/manifest.json"))
        try Data(try otherKey.signature(for: manifest)).write(to: URL(fileURLWithPath: resigned + "/manifest.sig"))
        try SigningKey.publicKeyPEM(otherKey.publicKey).write(toFile: resigned + "/public-key.pem", atomically: false, encoding: .utf8)
        _ = try shell("sha256sum data/* evidence.sqlite manifest.json manifest.sig public-key.pem report.html report.md > MANIFEST.sha256", in: resigned)
        let mine = try SigningKey.load(nil)
        try mine.publicKeyPEM.write(toFile: Self.root + "/expected.pem", atomically: false, encoding: .utf8)
        let byOther = try BundleVerifier.verify(resigned, expectedKey: Self.root + "/expected.pem")
        XCTAssertTrue(byOther.failures.contains { $0.contains("not signed by the expected key") }, "\(byOther.failures)")
        XCTAssertTrue(byOther.failures.contains { $0.contains("public-key.pem is not the key manifest.json names") }, "\(byOther.failures)")

        let truncated = try tampered { bundle in
            let path = bundle + "/data/audit.jsonl"
            var lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
            lines.removeLast()
            try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: false, encoding: .utf8)
        }
        XCTAssertTrue(truncated.contains { $0.contains("audit excerpt ends at entry") && $0.contains("cut short") }, "\(truncated)")
    }

    func testAZipBundleVerifiesAndItsTamperingIsFound() throws {
        let bundle = try export(.cluster(Self.clusterID), zip: true)
        XCTAssertTrue(bundle.hasSuffix(".zip"))
        XCTAssertTrue(try BundleVerifier.verify(bundle).isValid)
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/unzip") {
            let (status, output) = try shell("mkdir x && cd x && unzip -q '\(bundle)' && sha256sum -c --quiet MANIFEST.sha256", in: Self.root)
            XCTAssertEqual(status, 0, output)
            try? FileManager.default.removeItem(atPath: Self.root + "/x")
        }
        var bytes = try Data(contentsOf: URL(fileURLWithPath: bundle))
        bytes[bytes.count / 3] ^= 0x40
        try bytes.write(to: URL(fileURLWithPath: bundle))
        XCTAssertFalse(try BundleVerifier.verify(bundle).isValid)
    }

    func testFormulaInjectionIsNeutralisedInCSVAndExactInJSONLines() throws {
        let bundle = try export()
        let notesCSV = try String(contentsOfFile: bundle + "/data/notes.csv", encoding: .utf8)
        let notesJSONL = try String(contentsOfFile: bundle + "/data/notes.jsonl", encoding: .utf8)
        let exchangesCSV = try String(contentsOfFile: bundle + "/data/exchanges.csv", encoding: .utf8)
        let bodies = notesJSONL.split(separator: "\n").compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["body"] as? String
        }
        for value in Self.hostile {
            XCTAssertTrue(bodies.contains(value), "JSONL must keep \(value.debugDescription) exactly")
            let neutral = "\"'" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
            XCTAssertTrue(notesCSV.contains(neutral), "notes.csv must hold \(neutral.debugDescription)")
            XCTAssertTrue(exchangesCSV.contains(neutral), "exchanges.csv must hold \(neutral.debugDescription)")
            for line in (notesCSV + exchangesCSV).split(separator: "\r\n") {
                for cell in line.split(separator: ",") where cell.hasPrefix(value.prefix(2)) {
                    XCTFail("an unneutralised cell: \(cell.debugDescription)")
                }
            }
        }
    }

    func testCSVCellsQuoteExactly() {
        let cases: [(String, String)] = [
            ("plain", "plain"), ("", ""), ("a,b", "\"a,b\""), ("\"", "\"\"\"\""), ("say \"hi\", twice \"\"", "\"say \"\"hi\"\", twice \"\"\"\"\""),
            ("line\nbreak", "\"line\nbreak\""), ("=1+1", "\"'=1+1\""), ("ends with \"", "\"ends with \"\"\""),
        ]
        for (value, expected) in cases { XCTAssertEqual(CSVText.cell(value), expected, value.debugDescription) }
    }

    func testThePortableSubsetHoldsExactlyTheExportedRows() throws {
        let bundle = try export(.cluster(Self.clusterID))
        let subset = try CaseFile.open(bundle + "/evidence.sqlite", access: .read)
        let source = try CaseFile.open(Self.caseFile, access: .read)
        let members = try source.prepare("SELECT account_id FROM cluster_members WHERE cluster_id = ?1 ORDER BY account_id")
            .rows([Self.clusterID]) { $0.string(0) ?? "" }
        XCTAssertEqual(try subset.prepare("SELECT account_id FROM accounts ORDER BY account_id").rows { $0.string(0) ?? "" }, members)
        let expected = try source.prepare("""
            SELECT exchange_id, content_hash FROM exchange_rows WHERE account_pk IN
            (SELECT account_pk FROM cluster_members WHERE cluster_id = ?1) ORDER BY exchange_id
            """).rows([Self.clusterID]) { "\($0.string(0) ?? ""):\($0.int64(1))" }
        let found = try subset.prepare("SELECT exchange_id, content_hash FROM exchange_rows ORDER BY exchange_id")
            .rows { "\($0.string(0) ?? ""):\($0.int64(1))" }
        XCTAssertEqual(found, expected)
        XCTAssertGreaterThan(found.count, 100)
        XCTAssertEqual(try subset.scalarInt("SELECT count(DISTINCT cluster_id) FROM clusters"), 1)
        XCTAssertEqual(try subset.scalarInt("SELECT count(*) FROM cases"), 0, "a cluster export carries no case")
        // The same counts in the data files as in the subset.
        let lines = try String(contentsOfFile: bundle + "/data/exchanges.jsonl", encoding: .utf8).split(separator: "\n").count
        XCTAssertEqual(lines, found.count)
        // A single file, readable by the sqlite3 shell too.
        XCTAssertFalse(FileManager.default.fileExists(atPath: bundle + "/evidence.sqlite-wal"))
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/sqlite3") {
            let (status, output) = try shell("sqlite3 -readonly evidence.sqlite 'SELECT count(*) FROM exchanges'", in: bundle)
            XCTAssertEqual(status, 0)
            XCTAssertEqual(output.trimmingCharacters(in: .whitespacesAndNewlines), String(found.count))
        }
    }

    func testRedactedValuesAppearNowhereInARedactedBundle() throws {
        let bundle = try export(redact: "emails,ips,prompts")
        XCTAssertTrue(try BundleVerifier.verify(bundle).isValid)
        let source = try CaseFile.open(Self.caseFile, access: .read)
        let subset = try CaseFile.open(bundle + "/evidence.sqlite", access: .read)
        let accounts = try subset.prepare("SELECT account_pk FROM account_rows").rows { $0.int64(0) }
        XCTAssertFalse(accounts.isEmpty)
        var secrets = Set<String>()
        for account in accounts {
            secrets.formUnion(try source.prepare("SELECT email FROM account_rows WHERE account_pk = ?1 AND email IS NOT NULL").rows([account]) { $0.string(0) ?? "" })
            secrets.formUnion(try source.prepare("""
                SELECT DISTINCT i.ip FROM exchange_rows e JOIN ip_rows i USING (ip_pk) WHERE e.account_pk = ?1
                UNION SELECT i.ip FROM account_rows a JOIN ip_rows i ON i.ip_pk = a.signup_ip_pk WHERE a.account_pk = ?1
                """).rows([account]) { $0.string(0) ?? "" })
            secrets.formUnion(try source.prepare("SELECT prompt FROM exchange_rows WHERE account_pk = ?1 AND length(prompt) > 12 LIMIT 20")
                .rows([account]) { $0.string(0) ?? "" })
        }
        XCTAssertGreaterThan(secrets.count, 50)
        let needles = secrets.filter { !$0.isEmpty }.map { Array($0.utf8) }
        for file in try ZipBundle.files(in: bundle) {
            let bytes = try Array(Data(contentsOf: URL(fileURLWithPath: bundle + "/" + file)))
            for needle in needles where Self.contains(bytes, needle) {
                XCTFail("\(file) holds a redacted value: \(String(decoding: needle, as: UTF8.self).prefix(40))")
            }
        }
        // Shared values stay shared: accounts on one card still share it, two accounts on one
        // e-mail domain still share the domain's pseudonym.
        let domains = try subset.scalarInt("SELECT count(DISTINCT substr(email, instr(email, '@'))) FROM account_rows") ?? 0
        let sourceDomains = try source.prepare("SELECT count(DISTINCT substr(email, instr(email, '@'))) FROM account_rows WHERE account_pk IN (\(accounts.map(String.init).joined(separator: ",")))")
            .rows { $0.int64(0) }.first ?? -1
        XCTAssertEqual(domains, sourceDomains)
        let manifest = try String(contentsOfFile: bundle + "/manifest.json", encoding: .utf8)
        XCTAssertTrue(manifest.contains("\"emails\""), "the manifest records the redaction")
    }

    /// What the link run said of the case file (here: placeholders it read as absent) is in the
    /// report and in the subset, redacted or not.
    func testTheLinkRunsCaveatsAreInTheReportAndTheSubset() throws {
        let copy = Self.root + "/caveats-\(UUID().uuidString).db"
        try CaseFile.open(Self.caseFile, access: .write).execute("PRAGMA wal_checkpoint(TRUNCATE)")
        try FileManager.default.copyItem(atPath: Self.caseFile, toPath: copy)
        let members = try CaseFile.open(copy, access: .read).prepare("SELECT account_id FROM account_rows ORDER BY account_pk LIMIT 3")
            .rows { $0.string(0) ?? "" }
        let payments = members.enumerated().map { #"{"account_id":"\#($1)","fingerprint":"fp-caveat-\#($0)","bin":"000000"}"# }
        try (payments.joined(separator: "\n") + "\n").write(toFile: Self.root + "/payments-caveats.jsonl", atomically: true, encoding: .utf8)
        _ = try Ingest(databasePath: copy, actor: "ana").run(IngestPlan(paths: [Self.root + "/payments-caveats.jsonl"], kind: nil, format: nil).files)
        _ = try LinkRun.run(databasePath: copy, actor: "ana")
        for redact in [nil, "emails,ips,prompts"] {
            var request = ExportRequest(caseFilePath: copy, subject: .caseFile(1), actor: "ana", casebookVersion: "test")
            request.outputPath = Self.root + "/bundle-\(UUID().uuidString)"
            if let redact { request.redaction = try RedactionProfile(parsing: redact) }
            let bundle = try Exporter.export(request).path
            let report = try String(contentsOfFile: bundle + "/report.md", encoding: .utf8)
            XCTAssertTrue(report.contains("What the link run said of the case file it linked"), report)
            XCTAssertTrue(report.contains(#"read as absent, as placeholders an export writes where it has no value: bin "000000" (3 accounts)"#), report)
            let subset = try CaseFile.open(bundle + "/evidence.sqlite", access: .read)
            XCTAssertEqual(try subset.scalarInt("SELECT json_array_length(caveats -> '$.placeholders') FROM link_run_caveats"), 1)
        }
    }

    /// The steps a legal team follows to check a bundle are numbered in both reports; in
    /// Markdown a bullet before "1." would open a nested list numbered anew in every item.
    /// The HTML report prints as a legal team reads it: headings stay with what follows.
    func testTheVerificationStepsAreNumberedAndTheReportPrintsWithoutGaps() throws {
        let bundle = try export()
        let markdown = try String(contentsOfFile: bundle + "/report.md", encoding: .utf8)
        XCTAssertTrue(markdown.contains("\n1. Check every file's digest: sha256sum -c MANIFEST.sha256\n2. Check the signature"), markdown)
        XCTAssertFalse(markdown.contains("- 1. "), markdown)
        XCTAssertTrue(markdown.contains("No findings have been recorded.\n\n### What the bundle holds\n\n| What | Count |"), markdown)
        let html = try String(contentsOfFile: bundle + "/report.html", encoding: .utf8)
        XCTAssertTrue(html.contains("<ol><li>Check every file&#39;s digest: sha256sum -c MANIFEST.sha256</li>"), html)
        // Printed, a long table breaks between rows under its header repeated, not after a blank page.
        XCTAssertTrue(html.contains(#"<table><thead><tr><th class="k">Link</th>"#), html)
        XCTAssertFalse(html.contains("table, svg { page-break-inside: avoid; }"), html)
    }

    /// A report is read in a browser, a viewer or a terminal (`cat report.md`): a terminal escape
    /// or a bidirectional override in a note or an id is shown escaped there, as on every screen
    /// of casebook; the data files keep the exact text.
    func testTerminalEscapesAndBidiOverridesAreShownEscapedInTheReports() throws {
        let copy = Self.root + "/escapes-\(UUID().uuidString).db"
        try CaseFile.open(Self.caseFile, access: .write).execute("PRAGMA wal_checkpoint(TRUNCATE)")
        try FileManager.default.copyItem(atPath: Self.caseFile, toPath: copy)
        let note = "clear \u{1B}[2J screen, then \u{202E}txt.exe\u{2066} and a bell \u{07}"
        _ = try CaseBook(database: CaseFile.open(copy, access: .write), actor: "ana").addNote(to: Target(.case, "1"), note)
        var request = ExportRequest(caseFilePath: copy, subject: .caseFile(1), actor: "ana", casebookVersion: "test")
        request.outputPath = Self.root + "/bundle-\(UUID().uuidString)"
        let bundle = try Exporter.export(request).path
        for name in ["report.md", "report.html"] {
            let report = try String(contentsOfFile: bundle + "/" + name, encoding: .utf8)
            for scalar in ["\u{1B}", "\u{202E}", "\u{2066}", "\u{07}"] {
                XCTAssertFalse(report.unicodeScalars.contains(scalar.unicodeScalars.first!), "\(name) holds U+\(String(scalar.unicodeScalars.first!.value, radix: 16))")
            }
            XCTAssertTrue(report.contains("u{1b}") && report.contains("2J screen, then") && report.contains("u{202e}txt.exe"), name)
        }
        let notes = try String(contentsOfFile: bundle + "/data/notes.jsonl", encoding: .utf8)
        XCTAssertTrue(notes.contains("\u{202E}txt.exe\u{2066}"), "the data keep the exact text")
    }

    /// Naive search; the bundles here are a few megabytes.
    private static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard let first = needle.first, needle.count <= haystack.count else { return false }
        var index = 0
        let last = haystack.count - needle.count
        while index <= last {
            if haystack[index] == first, haystack[index..<(index + needle.count)].elementsEqual(needle) { return true }
            index += 1
        }
        return false
    }

    /// The exchanges' data files are written a committed slice at a time while the copy goes on;
    /// however the rows are sliced, the files are the same.
    func testExchangeFilesAreTheSameWhateverTheSlices() throws {
        let whole = try export(.cluster(Self.clusterID))
        EvidenceSubset.sliceRows = 97
        defer { EvidenceSubset.sliceRows = 50_000 }
        let sliced = try export(.cluster(Self.clusterID))
        for file in ["data/exchanges.jsonl", "data/exchanges.csv"] {
            XCTAssertEqual(try FileDigest.sha256(path: whole + "/" + file), try FileDigest.sha256(path: sliced + "/" + file), file)
        }
        let lines = try String(contentsOfFile: sliced + "/data/exchanges.jsonl", encoding: .utf8).split(separator: "\n").count
        XCTAssertGreaterThan(lines, 97 * 3, "several slices")
        XCTAssertTrue(try BundleVerifier.verify(sliced).isValid)
        XCTAssertEqual(try CaseFile.open(sliced + "/evidence.sqlite", access: .read).scalarInt("SELECT count(*) FROM exchange_rows"), Int64(lines))
    }

    /// The exchanges' data files are written from the table with the view's joins done in
    /// memory; what they hold must be what the `exchanges` view lists, whatever a hand-edited
    /// case file holds: times SQLite formats itself or not at all, missing names, rows the
    /// view's joins leave out.
    func testExchangeFilesListWhatTheViewLists() throws {
        let folder = Self.root + "/view-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let copy = folder + "/edited.db"
        try CaseFile.open(Self.caseFile, access: .read).prepare("VACUUM INTO ?1").run([copy])
        let database = try Database(path: copy, mode: .readWrite)
        let edits: [String] = [
            "ts_ms = \(TimestampText.supported.lowerBound)", "ts_ms = \(TimestampText.supported.upperBound)",
            "ts_ms = \(TimestampText.supported.lowerBound - 1)", "ts_ms = \(TimestampText.supported.upperBound + 1)",
            "ts_ms = \(Int64.max)", "ts_ms = \(Int64.min)", "ts_ms = -1", "ts_ms = 0", "ts_ms = 951782400000",
            "ts_ms = -2203891200001", "ts_ms = 1768465800123.5", "ts_ms = 'soon'", "ts_ms = x'00ff'",
            "model_pk = NULL", "model_pk = 999999", "ip_pk = NULL", "ip_pk = 999999", "user_agent_pk = 999999",
            "user_agent_pk = 'text'", "account_pk = 999999", "source_file_id = 999999", "api_key_id = x'c3'", "extra = 2.5",
        ]
        let pks = try database.prepare("SELECT exchange_pk FROM exchange_rows ORDER BY exchange_pk LIMIT ?1").rows([edits.count]) { $0.int64(0) }
        for (edit, pk) in zip(edits, pks) {
            try database.prepare("UPDATE exchange_rows SET \(edit) WHERE exchange_pk = ?1").run([pk])
        }
        try database.execute("UPDATE ip_rows SET ip = x'0a00' WHERE ip_pk = (SELECT ip_pk FROM exchange_rows WHERE ip_pk IS NOT NULL LIMIT 1 OFFSET 40)")
        func files(_ name: String, _ write: (RowWriter) throws -> Void) throws -> [String] {
            let jsonl = try BundleFile(root: folder, relativePath: name + ".jsonl"), csv = try BundleFile(root: folder, relativePath: name + ".csv")
            try write(RowWriter(columns: ExchangeRows.columns, jsonl: jsonl, csv: csv))
            return [try jsonl.finish().sha256, try csv.finish().sha256]
        }
        let viewRows = try database.scalarInt("SELECT count(*) FROM exchanges")
        let fromView = try files("view") { writer in
            let statement = try database.prepare(DataFiles.exchangesSQL)
            XCTAssertEqual(try writer.writeRows(statement), Int(viewRows ?? -1))
        }
        let rows = try ExchangeRows(database)
        let fromTable = try files("table") { writer in
            var after = Int64.min, read = 0
            repeat {
                let batch = try rows.write(after: after, through: .max, to: writer)
                read = batch.read
                after = batch.last
            } while read > 0
        }
        XCTAssertEqual(fromTable, fromView)
        let table = try String(contentsOfFile: folder + "/table.jsonl", encoding: .utf8)
        XCTAssertTrue(table.contains("\"ts\": \"0001-01-01T00:00:00.000Z\""))
        XCTAssertTrue(table.contains("\"ts\": \"9999-12-31T23:59:59.999Z\""))
        XCTAssertTrue(table.contains("\"ts\": \"2000-02-29T00:00:00.000Z\""))
        XCTAssertTrue(table.contains("\"ts\": \"1900-02-28T23:59:59.999Z\""))
        XCTAssertEqual(table.split(separator: "\n").count, Int(viewRows ?? -1))
        let allRows = try XCTUnwrap(database.scalarInt("SELECT count(*) FROM exchange_rows"))
        XCTAssertEqual(viewRows, allRows - 2, "the rows without an account or a source file are left out")
    }

    /// The time text written without SQLite is the proleptic Gregorian calendar's, as Python's
    /// `datetime` writes it, over the years ingest accepts; and it is the text of SQLite's
    /// `strftime`, which the views use, except on 1 March 300, which SQLite 3.40 calls 29 February
    /// (its day arithmetic, e.g. `date('0300-02-28', '+1 day')`). Random values once met that day.
    func testTimestampTextIsTheGregorianCalendarsAndSQLitesStrftime() throws {
        var generator = SystemRandomNumberGenerator()
        let march1st300 = Int64(-52_695_014_400_000)
        var values: [Int64] = [TimestampText.supported.lowerBound, TimestampText.supported.upperBound, -1, 0, 1, 999, 1000,
                               951_868_799_999, 951_868_800_000, 4_107_542_399_999, 4_107_542_400_000, -2_208_988_800_001,
                               march1st300 - 1, march1st300, march1st300 + 86_399_999, march1st300 + 86_400_000]
        for _ in 0..<20_000 { values.append(Int64.random(in: TimestampText.supported, using: &generator)) }
        let folder = NSTemporaryDirectory() + "timestamps-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try values.map(String.init).joined(separator: "\n").write(toFile: folder + "/values", atomically: true, encoding: .utf8)
        let (status, output) = try shell("""
            python3 -c "import sys, datetime as d
            for v in open('values'):
                t = d.datetime(1970, 1, 1) + d.timedelta(milliseconds=int(v))
                print('%04d-%02d-%02dT%02d:%02d:%02d.%03dZ' % (t.year, t.month, t.day, t.hour, t.minute, t.second, t.microsecond // 1000))"
            """, in: folder)
        XCTAssertEqual(status, 0, output)
        let gregorian = output.split(separator: "\n").map(String.init)
        XCTAssertEqual(gregorian.count, values.count)
        let database = try Database(path: ":memory:", mode: .readWriteCreate)
        let strftime = try database.prepare("SELECT strftime('%Y-%m-%dT%H:%M:%fZ', ?1 / 1000.0, 'unixepoch')")
        for (value, expected) in zip(values, gregorian) {
            let text = TimestampText.rfc3339(value)
            XCTAssertEqual(text, expected, "\(value)")
            let sqlite = try strftime.rows([value]) { $0.string(0) }.first ?? nil
            if (march1st300..<(march1st300 + 86_400_000)).contains(value) {
                XCTAssertEqual(sqlite?.prefix(10), "0300-02-29", "\(value): SQLite's day for 1 March 300")
            } else {
                XCTAssertEqual(text, sqlite, "\(value)")
            }
        }
    }

    func testAnAuditEntryAboutAnotherCaseIsWithheldButStillChains() throws {
        let bundle = try export()
        let audit = try String(contentsOfFile: bundle + "/data/audit.jsonl", encoding: .utf8)
        XCTAssertFalse(audit.contains("private to another investigation"))
        XCTAssertTrue(audit.contains("\"payload_withheld\": 1"))
        XCTAssertTrue(try BundleVerifier.verify(bundle).isValid)
    }

    func testAnExportRefusesToOverwriteAndLeavesNothingBehindOnFailure() throws {
        let target = Self.root + "/taken"
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
        var request = ExportRequest(caseFilePath: Self.caseFile, subject: .caseFile(1), actor: "ana", casebookVersion: "test")
        request.outputPath = target
        XCTAssertThrowsError(try Exporter.export(request))
        request.outputPath = Self.root + "/never"
        request.subject = .cluster(999_999)
        XCTAssertThrowsError(try Exporter.export(request)) { XCTAssertTrue("\($0)".contains("no cluster 999999")) }
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: Self.root).filter { $0.contains("partial") || $0 == "never" }
        XCTAssertEqual(leftovers, [])
    }
}
