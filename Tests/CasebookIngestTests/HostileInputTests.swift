import CasebookIngest
import CasebookIO
import CasebookStore
import Foundation
import XCTest

/// Reproductions of inputs that once lost, corrupted or exposed data.
final class HostileInputTests: XCTestCase {

    // MARK: - Pipes

    func testANamedPipeIsReadAsAStreamAndDoesNotPoisonTheRealFile() throws {
        let f = try Fixture()
        let text = (1...50).map { #"{"exchange_id":"p\#($0)","account_id":"a","ts":\#($0)}"# }.joined(separator: "\n") + "\n"
        let real = try f.write("exchanges.jsonl", text)
        let fifo = f.directory + "/exchanges-pipe.jsonl"
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        let writer = Thread { try? Data(text.utf8).write(to: URL(fileURLWithPath: fifo)) }
        writer.start()
        let plan = try IngestPlan(paths: [fifo], kind: nil, format: nil)
        XCTAssertEqual(plan.files.map(\.isStream), [true])
        let summary = try Ingest(databasePath: f.databasePath).run(plan.files)
        XCTAssertEqual(summary.total().loaded, 50)
        XCTAssertEqual(try f.strings("SELECT status || ' ' || size_bytes || ' ' || (sha256 IS NOT NULL) FROM source_files"),
                       ["complete \(text.utf8.count) 1"])
        // The real file has the same content, read and parsed: it is recognised, and all 50 rows are there.
        let again = try f.ingest([real])
        XCTAssertEqual(again.files.first?.outcome, .alreadyIngested(path: fifo, status: "complete"))
        XCTAssertEqual(try f.int("SELECT count(*) FROM exchanges"), 50)
    }

    func testADirectorySkipsAPipeAndPlanRefusesADevice() throws {
        let f = try Fixture()
        try f.write("accounts.csv", "account_id,created_at\na1,1\n")
        XCTAssertEqual(mkfifo(f.directory + "/in/exchanges-fifo.jsonl", 0o600), 0)
        let plan = try IngestPlan(paths: [f.directory + "/in"], kind: nil, format: nil)
        XCTAssertEqual(plan.files.map { ($0.path as NSString).lastPathComponent }, ["accounts.csv"])
        XCTAssertEqual(plan.notes.count, 1)
        XCTAssertTrue(plan.notes[0].contains("exchanges-fifo.jsonl"), plan.notes[0])
        // An export named its own way is named in a note, not passed over in silence; other files are not inputs.
        try f.write("export_of_accounts.csv", "account_id,created_at\na2,1\n")
        try f.write("readme.txt", "not data\n")
        let named = try IngestPlan(paths: [f.directory + "/in"], kind: nil, format: nil)
        XCTAssertEqual(named.files.map { ($0.path as NSString).lastPathComponent }, ["accounts.csv"])
        XCTAssertEqual(named.notes.filter { $0.contains("export_of_accounts.csv") && $0.contains("--kind") }.count, 1, "\(named.notes)")
        XCTAssertEqual(named.notes.count, 2, "\(named.notes)")
        // A link to nothing and a loop of links are named with the system's reason.
        XCTAssertEqual(symlink("missing.jsonl", f.directory + "/in/exchanges-dangling.jsonl"), 0)
        XCTAssertEqual(symlink("exchanges-loop.jsonl", f.directory + "/in/exchanges-loop.jsonl"), 0)
        let linked = try IngestPlan(paths: [f.directory + "/in"], kind: nil, format: nil).notes
        XCTAssertTrue(linked.contains { $0.hasSuffix("exchanges-dangling.jsonl: cannot be opened: No such file or directory") }, "\(linked)")
        XCTAssertTrue(linked.contains { $0.hasSuffix("exchanges-loop.jsonl: cannot be opened: Too many levels of symbolic links") }, "\(linked)")
        XCTAssertThrowsError(try IngestPlan(paths: ["/dev/zero"], kind: .exchanges, format: .jsonl)) { error in
            XCTAssertTrue("\(error)".contains("device"), "\(error)")
        }
        XCTAssertThrowsError(try IngestPlan(paths: [f.directory + "/in/missing.dat"], kind: nil, format: nil)) { error in
            XCTAssertTrue("\(error)".contains("no such file"), "\(error)")
        }
    }

    // MARK: - Kinds

    func testAKindThatContradictsTheNameIsAUsageErrorAndKindIsPartOfIdentity() throws {
        let f = try Fixture()
        try f.write("accounts.csv", "account_id,created_at\na1,1\n")
        XCTAssertThrowsError(try IngestPlan(paths: [f.directory + "/in"], kind: .exchanges, format: nil)) { error in
            XCTAssertTrue("\(error)".contains("contradicts"), "\(error)")
        }
        // An odd name read as the wrong kind does not lock the file out for the right one.
        let odd = try f.write("dump.jsonl", #"{"exchange_id":"e1","account_id":"a1","ts":1}"# + "\n")
        XCTAssertEqual(try f.ingest([odd], kind: .accounts).total().rejected, 1)
        let right = try f.ingest([odd], kind: .exchanges)
        XCTAssertEqual(right.files.first?.outcome, .complete)
        XCTAssertEqual(try f.int("SELECT count(*) FROM exchanges"), 1)
    }

    // MARK: - Headers

    func testAnUnusableHeaderRejectsEveryRowAndACorrectedFileLoads() throws {
        let f = try Fixture()
        let bad = try f.write("accounts.csv", "account_id,created_at,account_id\na1,1,x\na2,2,y\n")
        let summary = try f.ingest([bad])
        XCTAssertEqual(summary.exitStatus, 1)
        XCTAssertEqual(try f.rejects(), ["2 bad_csv", "3 bad_csv"])
        XCTAssertEqual(try f.strings("SELECT raw FROM rejects ORDER BY line"), ["a1,1,x", "a2,2,y"])
        let fixed = try f.write("accounts-fixed.csv", "account_id,created_at,note\na1,1,x\na2,2,y\n")
        XCTAssertEqual(try f.ingest([fixed]).files.first?.outcome, .complete)
        XCTAssertEqual(try f.int("SELECT count(*) FROM accounts"), 2)
    }

    /// PowerShell's `>` and `Out-File`, and Excel's "Unicode Text", write UTF-16 with a byte
    /// order mark: every line of such a file was rejected. It is read as the text it is, in
    /// either byte order; a record with an unpaired surrogate is `bad_utf8`, not loaded with a
    /// character that was not written. Without a mark (`bcp -w`), `--encoding utf-16le` reads it.
    func testAUTF16FileIsReadAsTheTextItIs() throws {
        let f = try Fixture()
        func utf16(_ text: String, littleEndian: Bool = true, mark: Bool = true) -> [UInt8] {
            var bytes: [UInt8] = mark ? (littleEndian ? [0xFF, 0xFE] : [0xFE, 0xFF]) : []
            for unit in text.utf16 {
                bytes += littleEndian ? [UInt8(unit & 0xFF), UInt8(unit >> 8)] : [UInt8(unit >> 8), UInt8(unit & 0xFF)]
            }
            return bytes
        }
        var little = utf16("account_id,created_at,org_id\r\na1,1,Grüße 😀\r\na2,2,x\r\n")
        little += [0x00, 0xD8] + utf16("\r\n", mark: false)
        let big = utf16("{\"account_id\":\"b1\",\"created_at\":1,\"org_id\":\"日本\"}\n", littleEndian: false)
        let summary = try f.ingest([try f.write("accounts-le.csv", bytes: little), try f.write("accounts-be.jsonl", bytes: big)])
        XCTAssertEqual(summary.files.map(\.outcome), [.complete, .complete])
        XCTAssertEqual(try f.strings("SELECT account_id || ' ' || org_id FROM accounts ORDER BY account_id"), ["a1 Grüße 😀", "a2 x", "b1 日本"])
        XCTAssertEqual(try f.strings("SELECT line || ' ' || reason FROM rejects"), ["4 bad_utf8"])

        let unmarked = try f.write("accounts-bcp.csv", bytes: utf16("account_id,created_at\r\nc1,1\r\n", mark: false))
        guard case let .damaged(reason) = try f.ingest([unmarked]).files.first?.outcome else { return XCTFail("read as UTF-8") }
        XCTAssertTrue(reason.hasSuffix("as SQL Server's bcp -w writes: ingest it with --encoding utf-16le"), reason)
        let unmarkedJSON = try f.write("accounts-bcp.jsonl", bytes: utf16("{\"account_id\":\"d1\",\"created_at\":1}\n", littleEndian: false, mark: false))
        guard case let .damaged(jsonReason) = try f.ingest([unmarkedJSON]).files.first?.outcome else { return XCTFail("read as UTF-8") }
        XCTAssertTrue(jsonReason.contains("ingest it with --encoding utf-16be"), jsonReason)
        let files = try IngestPlan(paths: [unmarked], kind: nil, format: nil, options: ReadOptions(encoding: .utf16le)).files
        XCTAssertEqual(try Ingest(databasePath: f.databasePath).run(files).total().loaded, 1)
        XCTAssertEqual(try f.strings("SELECT read_options FROM source_files WHERE path LIKE '%bcp.csv' ORDER BY file_id"), ["", "encoding=utf-16le"])
    }

    // MARK: - Card numbers

    /// A 16-digit number that passes the Luhn check.
    private static let card = "4160308246281948"

    func testCardNumbersHiddenByEscapesSeparatorsAndWideDigitsAreRejectedAndNeverStored() throws {
        XCTAssertTrue(TextChecksProbe.passesLuhn(Self.card))
        let f = try Fixture()
        let wide = String(Self.card.unicodeScalars.map { Character(Unicode.Scalar($0.value - 0x30 + 0xFF10)!) })
        let spaced = stride(from: 0, to: 16, by: 4).map { i in
            String(Self.card.dropFirst(i).prefix(4))
        }
        let variants = [
            #"\u0034"# + Self.card.dropFirst(),
            spaced.joined(separator: "  "),
            spaced.joined(separator: "\t"),
            spaced.joined(separator: "\u{00A0}"),
            spaced.joined(separator: " - "),
            spaced.joined(separator: "."),
            spaced.joined(separator: "/"),
            wide,
        ]
        var lines: [String] = []
        for (index, variant) in variants.enumerated() {
            let escapedVariant = variant.replacingOccurrences(of: "\t", with: #"\t"#)
            lines.append(#"{"account_id":"a\#(index)","fingerprint":"fp\#(index)","billing_postal":"\#(escapedVariant)"}"#)
            lines.append(#"{"account_id":"b\#(index)","fingerprint":"\#(escapedVariant)"}"#)
            lines.append(#"{"account_id":"c\#(index)","fingerprint":"fc\#(index)","note":"\#(escapedVariant)"}"#)
        }
        // Not cards: an epoch time with a fraction, a short number.
        lines.append(#"{"account_id":"ok1","fingerprint":"fo1","first_used":1768465800.250}"#)
        lines.append(#"{"account_id":"ok2","fingerprint":"fo2","billing_postal":"4111 1111"}"#)
        try f.write("payments.jsonl", lines.joined(separator: "\n") + "\n")
        let csvLines = variants.dropFirst().enumerated().map { "d\($0.offset),\"fp\",\"\($0.element)\"" }
        try f.write("payments.csv", "account_id,fingerprint,billing_postal\n" + csvLines.joined(separator: "\n") + "\n")
        let summary = try f.ingest()
        XCTAssertEqual(summary.total().rejectedByReason["card_number"], variants.count * 3 + variants.count - 1)
        XCTAssertEqual(try f.strings("SELECT account_id FROM payments ORDER BY account_id"), ["ok1", "ok2"])
        // Not in any table, index, log or shared-memory page, in any of its written forms.
        try f.database().execute("PRAGMA wal_checkpoint(PASSIVE)")
        let forms = [Self.card, String(Self.card.dropFirst()), wide, spaced.joined(separator: "  "), spaced.joined(separator: ".")]
        for suffix in ["", "-wal", "-shm"] {
            guard let bytes = FileManager.default.contents(atPath: f.databasePath + suffix) else { continue }
            for form in forms {
                XCTAssertNil(bytes.range(of: Data(form.utf8)), "\(form) found in case.db\(suffix)")
            }
        }
        let raws = try f.strings("SELECT raw FROM rejects")
        XCTAssertTrue(raws.allSatisfy { $0.contains("*") && !$0.contains("8246") && !$0.contains("８２４６") }, "\(raws)")
    }

    /// Card columns that a tool wrote as a float (pandas' `to_csv`, Java's `Double.toString`),
    /// and card digits grouped by line breaks, underscores or invisible spaces.
    func testCardNumbersWrittenAsFloatsOrGroupedByLineBreaksAreRejectedAndNeverStored() throws {
        let f = try Fixture()
        let groups = stride(from: 0, to: 16, by: 4).map { String(Self.card.dropFirst($0).prefix(4)) }
        let jsonValues = [
            Self.card + ".0",
            "4." + Self.card.dropFirst() + "E15",
            groups.joined(separator: #"\n"#),
            groups.joined(separator: #"\r\n"#),
            groups.joined(separator: "_"),
            groups.joined(separator: "\u{200D}"),
            groups.joined(separator: "\u{FEFF}"),
        ]
        var lines = jsonValues.enumerated().map { #"{"account_id":"j\#($0.offset)","fingerprint":"fp","memo":"\#($0.element)"}"# }
        lines.append(#"{"account_id":"jn","fingerprint":"fp","memo":\#(Self.card).0}"#)
        try f.write("payments.jsonl", lines.joined(separator: "\n") + "\n")
        // In CSV a quoted cell may hold raw line breaks.
        try f.write("payments.csv", "account_id,fingerprint,memo\nc1,fp,\"\(groups.joined(separator: "\n"))\"\nc2,fp,\(Self.card).0\n")
        let summary = try f.ingest()
        XCTAssertEqual(summary.total().rejectedByReason["card_number"], jsonValues.count + 3)
        XCTAssertEqual(summary.total().loaded, 0)
        try f.database().execute("PRAGMA wal_checkpoint(PASSIVE)")
        for suffix in ["", "-wal", "-shm"] {
            guard let bytes = FileManager.default.contents(atPath: f.databasePath + suffix) else { continue }
            for form in [Self.card, String(Self.card.dropFirst()), groups.joined(separator: "_")] {
                XCTAssertNil(bytes.range(of: Data(form.utf8)), "\(form) found in case.db\(suffix)")
            }
        }
    }

    /// Two card numbers in one run of digit groups (`4111 1111 1111 1111 / 5500 0000 0000 0004`),
    /// a card after other digits that pass the Luhn check together with its first group, or a
    /// card followed by a short group (its CVV): every card is found and masked in a reject's
    /// raw text, not the first stretch alone nor only a run of 20 digits or more.
    func testEveryCardNumberInARunOfDigitGroupsIsMaskedInRaw() throws {
        let f = try Fixture()
        let groups = stride(from: 0, to: 16, by: 4).map { String(Self.card.dropFirst($0).prefix(4)) }
        let other = "5500 0000 0000 0004"
        // Twelve digits that, with the card's first group, make a stretch of their own that passes.
        let lead = (0..<100).lazy.map { String(format: "1234 5678 90%02d", $0) }
            .first { TextChecksProbe.passesLuhn($0.replacingOccurrences(of: " ", with: "") + groups[0]) }!
        let texts = [
            groups.joined(separator: " ") + " / " + other,
            other + " " + groups.joined(separator: " "),
            lead + " " + groups.joined(separator: " "),
            groups.joined(separator: " ") + " 123",
            groups.joined(separator: " ") + " 12",
        ]
        let csv = texts.enumerated().map { "a\($0.offset),fp\($0.offset),card,\"cards \($0.element) on file\"" }
        try f.write("payments.csv", "account_id,fingerprint,type,note\n" + csv.joined(separator: "\n") + "\n")
        // An exchange may hold a card in its prompt; a record rejected for another reason keeps it masked too.
        let json = texts.enumerated().map { #"{"exchange_id":"e\#($0.offset)","account_id":"a1","ts":"x","prompt":"\#($0.element)"}"# }
        try f.write("exchanges.jsonl", json.joined(separator: "\n") + "\n")
        let summary = try f.ingest()
        XCTAssertEqual(summary.total().rejectedByReason["card_number"], texts.count)
        XCTAssertEqual(summary.total().rejectedByReason["bad_timestamp"], texts.count)
        try f.database().execute("PRAGMA wal_checkpoint(PASSIVE)")
        let forms = [groups.joined(separator: " "), other, Self.card, "5500000000000004"]
        for suffix in ["", "-wal", "-shm"] {
            guard let bytes = FileManager.default.contents(atPath: f.databasePath + suffix) else { continue }
            for form in forms {
                XCTAssertNil(bytes.range(of: Data(form.utf8)), "\(form) found in case.db\(suffix)")
            }
        }
        for raw in try f.strings("SELECT raw FROM rejects") {
            XCTAssertTrue(raw.contains("**** **** **** 1948") && !raw.contains("0000 0000 0004"), raw)
        }
    }

    /// A reject's detail may quote the value it could not read (an epoch number too large to
    /// be seconds): a card number there is masked as in its raw text, in every kind of file.
    func testACardNumberQuotedByARejectsDetailIsMasked() throws {
        let f = try Fixture()
        try f.write("exchanges.jsonl", #"{"exchange_id":"e1","account_id":"a1","ts":\#(Self.card)}"# + "\n")
        try f.write("accounts.csv", "account_id,created_at\na1,\(Self.card)\n")
        let summary = try f.ingest()
        XCTAssertEqual(summary.total().rejectedByReason["bad_timestamp"], 2)
        for detail in try f.strings("SELECT detail FROM rejects") {
            XCTAssertTrue(detail.contains("\"************1948\" is not plausible as seconds"), detail)
        }
        try f.database().execute("PRAGMA wal_checkpoint(PASSIVE)")
        for suffix in ["", "-wal", "-shm"] {
            guard let bytes = FileManager.default.contents(atPath: f.databasePath + suffix) else { continue }
            XCTAssertNil(bytes.range(of: Data(Self.card.utf8)), "found in case.db\(suffix)")
        }
    }

    /// A header that cannot be used marks its file damaged with a sentence quoting the column
    /// name at fault: a card number written as a column name is masked there as in a reject
    /// (in a payments file such a header is refused for the card number first).
    func testACardNumberInAnUnusableHeaderIsMaskedInTheFilesDamage() throws {
        let f = try Fixture()
        let grouped = "4160 3082 4628 1948"
        try f.write("accounts.csv", "account_id,created_at,\(grouped),\(grouped)\na1,2026-01-01T00:00:00Z,x,y\n")
        _ = try f.ingest()
        let damage = try f.strings("SELECT damage FROM source_files")
        XCTAssertEqual(damage.count, 1)
        XCTAssertTrue(damage[0].contains("names column '**** **** **** 1948' twice"), damage[0])
        try f.database().execute("PRAGMA wal_checkpoint(PASSIVE)")
        for suffix in ["", "-wal", "-shm"] {
            guard let bytes = FileManager.default.contents(atPath: f.databasePath + suffix) else { continue }
            XCTAssertNil(bytes.range(of: Data(grouped.utf8)), "found in case.db\(suffix)")
        }
    }

    /// A column name is part of every record under it (the key of its value in `extra`): a
    /// payments header that names a column with a card number loads none of its rows.
    func testACardNumberAsAPaymentColumnsNameIsNeverStored() throws {
        let f = try Fixture()
        let grouped = "4160-3082-4628-1948"
        try f.write("payments.csv", "account_id,fingerprint,\(grouped)\na1,fp1,x\na2,fp2,\n")
        let summary = try f.ingest()
        XCTAssertEqual(summary.total().loaded, 0)
        XCTAssertEqual(try f.strings("SELECT line || ' ' || reason FROM rejects ORDER BY line"), ["2 card_number", "3 card_number"])
        let damage = try f.strings("SELECT damage FROM source_files")
        XCTAssertEqual(damage, ["not loaded: the header row (line 1) names a column with what looks like a full card number (PAN); "
                                + "rename the column, then ingest the file again"])
        try f.database().execute("PRAGMA wal_checkpoint(PASSIVE)")
        for suffix in ["", "-wal", "-shm"] {
            guard let bytes = FileManager.default.contents(atPath: f.databasePath + suffix) else { continue }
            XCTAssertNil(bytes.range(of: Data(grouped.utf8)), "found in case.db\(suffix)")
            XCTAssertNil(bytes.range(of: Data("4160308246281948".utf8)), "found in case.db\(suffix)")
        }
    }

    /// An epoch in milliseconds has 13 digits (16 in microseconds), and one in ten passes the
    /// Luhn check: as a payment's timestamp it is a time, not a card; the same digits in a
    /// field that is not a time are still a card.
    func testAnEpochTimestampThatPassesLuhnIsATimeNotACard() throws {
        let f = try Fixture()
        let milliseconds = (1_767_225_600_000...).lazy.map(String.init).first { TextChecksProbe.passesLuhn($0) }!
        let microseconds = (1_767_225_600_000_000...).lazy.map(String.init).first { TextChecksProbe.passesLuhn($0) }!
        try f.write("payments-ms.jsonl", """
            {"account_id":"a1","fingerprint":"fp1","first_used":\(milliseconds),"last_used":"\(milliseconds)"}
            {"account_id":"a2","fingerprint":"fp2","first_used":\(milliseconds),"memo":"\(milliseconds)"}

            """)
        try f.write("payments-us.csv", "account_id,fingerprint,last_used\na3,fp3,\(microseconds)\n")
        func ingest(_ name: String, _ unit: TimestampRules.EpochUnit) throws {
            let files = try IngestPlan(paths: [f.directory + "/in/" + name], kind: nil, format: nil,
                                       options: ReadOptions(timestamps: TimestampRules(epochUnit: unit))).files
            _ = try Ingest(databasePath: f.databasePath).run(files)
        }
        try ingest("payments-ms.jsonl", .ms)
        try ingest("payments-us.csv", .us)
        XCTAssertEqual(try f.strings("SELECT first_used || ' ' || last_used FROM payments WHERE account_id = 'a1'"),
                       ["2026-01-01T00:00:00.\(milliseconds.suffix(3))Z 2026-01-01T00:00:00.\(milliseconds.suffix(3))Z"])
        XCTAssertEqual(try f.strings("SELECT account_id FROM payments ORDER BY account_id"), ["a1", "a3"])
        XCTAssertEqual(try f.rejects(), ["2 card_number"])
    }

    /// A spreadsheet's CSV separated by semicolons or tabs, or names in other letter case:
    /// every record is kept in rejects, and the reason says what the header lacks and why.
    func testAHeaderWithoutARequiredColumnSaysWhatComesClose() throws {
        let f = try Fixture()
        try f.write("accounts-semicolon.csv", "account_id;created_at\na1;2026-01-01T00:00:00Z\na2;2026-01-01T00:00:00Z\n")
        try f.write("accounts-tabs.csv", "account_id\tcreated_at\na3\t2026-01-01T00:00:00Z\n")
        try f.write("accounts-case.csv", "Account_ID, created_at\na4,2026-01-01T00:00:00Z\n")
        try f.write("accounts-other.csv", "id,created\na5,2026-01-01T00:00:00Z\n")
        try f.write("accounts.jsonl", #"{"Account_ID":"a6","created_at":"2026-01-01T00:00:00Z"}"# + "\n")
        let summary = try f.ingest()
        XCTAssertEqual(summary.total().loaded, 0)
        XCTAssertEqual(summary.total().rejectedByReason["missing_field"], 6)
        let damaged = summary.files.filter { if case .damaged = $0.outcome { return true } else { return false } }
        XCTAssertEqual(damaged.count, 4, "\(summary.files)")
        let details = try f.strings("""
            SELECT substr(f.path, length(f.path) - 20) || ': ' || r.detail FROM rejects r
            JOIN source_files f ON f.file_id = r.source_file_id ORDER BY f.path, r.line
            """)
        XCTAssertEqual(details.count, 6)
        XCTAssertTrue(details[0].hasSuffix("it has no column account_id; 'Account_ID' comes close, but column names are exact and case-sensitive"), details[0])
        XCTAssertTrue(details[1].hasSuffix("it has no column account_id (its columns: 'id', 'created')"), details[1])
        XCTAssertTrue(details[2].hasSuffix("as cells are read separated by ','; this file looks separated by ';': ingest it with --separator ';'"), details[2])
        XCTAssertTrue(details[4].hasSuffix("this file looks separated by tabs: ingest it with --separator tab"), details[4])
        XCTAssertTrue(details[5].hasSuffix("required field account_id is missing, empty or white space alone; the record has Account_ID, but field names are case-sensitive"), details[5])
    }

    /// Spreadsheets end rows with separators (`a,b,,`): the unnamed columns are named by their
    /// place, a value under one kept in `extra`, and the file loads.
    func testUnnamedColumnsFromASpreadsheetAreNoClash() throws {
        let f = try Fixture()
        try f.write("accounts.csv", "account_id,created_at,,\r\na1,2026-01-01T00:00:00Z,,\r\na2,2026-01-01T00:00:00Z,,note\r\n")
        let summary = try f.ingest()
        XCTAssertEqual(summary.total().loaded, 2, "\(summary.files)")
        XCTAssertEqual(summary.total().rejected, 0)
        XCTAssertEqual(try f.strings("SELECT account_id || ' ' || coalesce(json_extract(extra, '$.\"column 4\"'), '-') FROM accounts ORDER BY 1"),
                       ["a1 -", "a2 note"])
    }

    /// pandas' `to_json(orient="records")` without `lines=True` writes one JSON array, on one
    /// line or pretty-printed; `jq .` writes each object over many lines. Not JSON Lines: no
    /// record of them is loaded on its own (before, the pretty-printed array's last element
    /// was, and the objects file was not even damaged), every line is in `rejects`, and the
    /// file's damage says how to convert it.
    func testJSONThatIsNotJSONLinesSaysHowToConvertIt() throws {
        let f = try Fixture()
        let one = #"{"account_id":"a1","created_at":"2026-01-01T00:00:00Z"}"#, two = #"{"account_id":"a2","created_at":"2026-01-01T00:00:00Z"}"#
        try f.write("accounts-flat.jsonl", "[\(one),\(two)]")  // pandas writes no final line break
        try f.write("accounts-pretty.jsonl", "[\n  \(one),\n  \(two)\n]\n")
        try f.write("accounts-objects.jsonl", "{\n  \"account_id\": \"a3\",\n  \"created_at\": \"2026-01-01T00:00:00Z\"\n}\n")
        let summary = try f.ingest()
        XCTAssertEqual(summary.total().loaded, 0)
        XCTAssertEqual(summary.total().rejectedByReason, ["bad_json": 9])
        for file in summary.files {
            guard case let .damaged(reason) = file.outcome else { XCTFail("\(file)"); continue }
            let filter = file.file.path.hasSuffix("objects.jsonl") ? "." : "'.[]'"
            XCTAssertTrue(reason.hasPrefix("the file is "), reason)
            XCTAssertTrue(reason.hasSuffix("jq -c \(filter) \(file.file.path) | casebook ingest --kind accounts --format jsonl -"), reason)
        }
    }

    /// A JSON Lines file whose first record is an array on its line is not one JSON array when
    /// records follow it: that line is rejected and the rest load (before, every record of the
    /// file was rejected as part of an array, and the file marked damaged).
    func testAnArrayOnTheFirstLineRejectsThatLineAlone() throws {
        let f = try Fixture()
        try f.write("accounts.jsonl", "[1,2,3]\n" + #"{"account_id":"a1","created_at":"2026-01-01T00:00:00Z"}"# + "\n"
                        + #"{"account_id":"a2","created_at":"2026-01-01T00:00:00Z"}"# + "\n")
        let summary = try f.ingest()
        XCTAssertEqual(try f.strings("SELECT account_id FROM accounts ORDER BY account_id"), ["a1", "a2"])
        XCTAssertEqual(summary.total().rejectedByReason, ["bad_json": 1])
        XCTAssertEqual(summary.files.map(\.outcome), [.complete], "\(summary.files)")
        let detail = try f.strings("SELECT line || ' ' || detail FROM rejects")
        XCTAssertEqual(detail.count, 1)
        XCTAssertTrue(detail[0].hasPrefix("1 the line is a JSON array, not one object; a file that is one JSON array"), detail[0])
    }

    /// A quote inside an unquoted cell is a letter (`5'11"`, or an exporter that does not escape
    /// quotes), as the record parser reads it. Before, it opened a quoted cell when the
    /// records were cut, and every record after it was read into one rejected record.
    func testAQuoteInsideAnUnquotedCellIsALetter() throws {
        let f = try Fixture()
        let rows = (1...50).map { "a\($0),2026-01-01T00:00:00Z,free\n" }.joined()
        try f.write("accounts.csv", "account_id,created_at,plan\na0,2026-01-01T00:00:00Z,pro \"x\n" + rows
                        + "b0,2026-01-01T00:00:00Z,\"pro\" x\nb1,2026-01-01T00:00:00Z,\"5'11\"\"\"\r\n")
        try f.write("accounts-semicolons.csv", "sep=;\naccount_id;created_at;plan\nc0;2026-01-01T00:00:00Z;5'11\"\nc1;2026-01-01T00:00:00Z;\"x;\ny\"\n")
        let summary = try f.ingest()
        XCTAssertEqual(summary.total().loaded, 54, "\(summary.files)")
        XCTAssertEqual(try f.strings("SELECT plan FROM accounts WHERE account_id IN ('a0', 'b1', 'c0', 'c1') ORDER BY account_id"),
                       ["pro \"x", "5'11\"", "5'11\"", "x;\ny"])
        // Text after a closing quote is still not a cell: that record alone is rejected.
        XCTAssertEqual(try f.rejects(), ["53 bad_csv"])
    }

    /// A quote that opens a cell and is never closed takes the rest of the file into one record:
    /// the file's damage says which lines, and what to do, instead of calling it cut off.
    func testAQuotedCellNeverClosedNamesTheLinesItTook() throws {
        let f = try Fixture()
        let rows = (1...20).map { "a\($0),2026-01-01T00:00:00Z,free\n" }.joined()
        try f.write("accounts.csv", "account_id,created_at,plan\na0,2026-01-01T00:00:00Z,\"pro\n" + rows)
        let summary = try f.ingest()
        guard case let .damaged(reason) = summary.files.first?.outcome else { return XCTFail("\(summary.files)") }
        XCTAssertTrue(reason.hasPrefix("the record at line 2 opens a quoted cell that is never closed, so lines 2-22 were read as that one record"), reason)
        XCTAssertEqual(try f.rejects(), ["2 truncated"])
    }

    /// Excel may write `sep=,` above the header: read past it; a `sep=;` file is not comma
    /// separated, and says so (before, `sep=,` was taken for the header and nothing loaded).
    func testExcelsSeparatorLineIsReadPast() throws {
        let f = try Fixture()
        try f.write("accounts-excel.csv", "sep=,\r\naccount_id,created_at\r\na1,2026-01-01T00:00:00Z\r\n")
        try f.write("accounts-semicolons.csv", "SEP=;\naccount_id;created_at;plan\na2;2026-01-01T00:00:00Z;\"pro; yearly\"\n")
        try f.write("accounts-hashes.csv", "sep=#\naccount_id#created_at\na3#2026-01-01T00:00:00Z\n")
        let summary = try f.ingest()
        XCTAssertEqual(summary.total().loaded, 2)
        XCTAssertEqual(try f.strings("SELECT account_id || ' ' || coalesce(plan, '-') FROM accounts ORDER BY account_id"), ["a1 -", "a2 pro; yearly"])
        XCTAssertEqual(try f.strings("SELECT line || ' ' || reason FROM rejects ORDER BY line"), ["3 bad_csv"])
        let damaged = summary.files.compactMap { if case let .damaged(reason) = $0.outcome { return reason } else { return nil } }
        XCTAssertEqual(damaged, ["not loaded: line 1, sep=# as Excel writes it, says the cells are separated by '#'; "
                                 + "cells are read separated by commas, semicolons, tabs or '|': save it with one of them"])
        // The line says the separator: --separator saying another is a contradiction.
        let files = try IngestPlan(paths: [f.directory + "/in/accounts-semicolons.csv"], kind: nil, format: nil, options: ReadOptions(separator: .tab)).files
        let contradicted = try Ingest(databasePath: f.databasePath).run(files)
        XCTAssertEqual(contradicted.files.first?.outcome,
                       .damaged("not loaded: line 1, sep=; as Excel writes it, says the cells are separated by ';', but --separator says tab"))
    }

    /// Tab-separated files named `.tsv` (BigQuery, Hive, spreadsheets) are CSV with tabs.
    func testATSVFileIsReadAsTabSeparated() throws {
        let f = try Fixture()
        try f.write("ips.tsv", "ip\tasn\tas_org\n1.2.3.4\t64500\tExample, Inc.\n")
        try f.writeGzip("accounts.TSV.gz", "account_id\tcreated_at\na1\t2026-01-01T00:00:00Z\n")
        let summary = try f.ingest()
        XCTAssertEqual(summary.total().loaded, 2)
        XCTAssertEqual(try f.strings("SELECT as_org FROM ips"), ["Example, Inc."])
        XCTAssertEqual(try f.strings("SELECT format || ' ' || read_options FROM source_files ORDER BY path"), ["csv separator=tab", "csv separator=tab"])
    }

    /// Excel in much of Europe saves CSV with semicolons, and warehouses export tab-separated
    /// text: without a `sep=` line the file says nothing of it, so `--separator` does.
    func testASeparatorOtherThanTheCommaIsReadWhenNamed() throws {
        let f = try Fixture()
        let semicolons = try f.write("accounts.csv", "account_id;created_at;country\na1;2026-01-01T00:00:00Z;DE\n")
        let tabs = try f.write("ips.csv", "ip\tasn\tas_org\n1.2.3.4\t64500\tExample, Inc.\n")
        let plain = try f.ingest()
        XCTAssertEqual(plain.total().loaded, 0)
        let damaged = plain.files.compactMap { if case let .damaged(reason) = $0.outcome { return reason } else { return nil } }
        XCTAssertTrue(damaged.contains { $0.hasSuffix("this file looks separated by ';': ingest it with --separator ';'") }, "\(damaged)")
        XCTAssertTrue(damaged.contains { $0.hasSuffix("this file looks separated by tabs: ingest it with --separator tab") }, "\(damaged)")

        let bySemicolon = try Ingest(databasePath: f.databasePath).run(try IngestPlan(paths: [semicolons], kind: nil, format: nil, options: ReadOptions(separator: .semicolon)).files)
        let byTab = try Ingest(databasePath: f.databasePath).run(try IngestPlan(paths: [tabs], kind: nil, format: nil, options: ReadOptions(separator: .tab)).files)
        XCTAssertEqual(bySemicolon.total().loaded + byTab.total().loaded, 2)
        XCTAssertEqual(try f.strings("SELECT account_id || ' ' || country FROM accounts"), ["a1 DE"])
        XCTAssertEqual(try f.strings("SELECT as_org FROM ips"), ["Example, Inc."])
        XCTAssertEqual(try f.strings("SELECT read_options FROM source_files ORDER BY file_id"), ["", "", "separator=semicolon", "separator=tab"])
    }

    /// Exports that quote every cell (R's write.csv2, PostgreSQL's FORCE QUOTE) quote the header
    /// too: with another separator the header's first cell ends in a quote and a `;`, and the
    /// file is told which separator it looks written with, as an unquoted header is.
    func testAQuotedHeaderWithAnotherSeparatorSaysWhichSeparator() throws {
        let f = try Fixture()
        try f.write("accounts.csv", "\"account_id\";\"created_at\"\r\n\"a1\";\"2026-01-01T00:00:00Z\"\r\n")
        try f.write("ips.csv", "\"ip\"\t\"asn\"\n\"1.2.3.4\"\t\"64500\"\n")
        let summary = try f.ingest()
        let damaged = summary.files.compactMap { if case let .damaged(reason) = $0.outcome { return reason } else { return nil } }
        XCTAssertEqual(damaged.count, 2, "\(summary.files)")
        XCTAssertTrue(damaged.contains { $0.hasSuffix("text after a closing quote in column 1; this file looks separated by ';': ingest it with --separator ';'") }, "\(damaged)")
        XCTAssertTrue(damaged.contains { $0.hasSuffix("this file looks separated by tabs: ingest it with --separator tab") }, "\(damaged)")
        let files = try IngestPlan(paths: [f.directory + "/in/accounts.csv"], kind: nil, format: nil, options: ReadOptions(separator: .semicolon)).files
        XCTAssertEqual(try Ingest(databasePath: f.databasePath).run(files).total().loaded, 1)
    }

    /// Fixed-width exports pad numbers and times with blanks (`  812`, a CHAR column): a padded
    /// int or timestamp is that value, as a padded address already was. Ids are left as written.
    func testAPaddedNumberOrTimestampIsThatValue() throws {
        let f = try Fixture()
        try f.write("exchanges.csv", "exchange_id,account_id,ts,input_tokens,status\n"
                        + "e1,a1, 2026-01-01T00:00:00Z ,  812 ,\t200\n"
                        + "e2,a1,1767225600 , -3,200\n"
                        + "e3,a1,2026-01-01T00:00:00Z,8 12,200\n"
                        + "e4,a1,2026-01-01T00:00:00Z,\" 1,234 \",200\n")
        try f.write("exchanges.jsonl", "{\"exchange_id\":\"j1\",\"account_id\":\"a1\",\"ts\":\"2026-01-01 00:00:00+00 \",\"status\":\" 200\"}\n")
        let summary = try f.ingest()
        XCTAssertEqual(summary.total().loaded, 3, "\(summary.files)")
        XCTAssertEqual(try f.strings("SELECT exchange_id || ' ' || ts || ' ' || coalesce(input_tokens, '-') || ' ' || status FROM exchanges ORDER BY exchange_id"),
                       ["e1 2026-01-01T00:00:00.000Z 812 200", "e2 2026-01-01T00:00:00.000Z -3 200", "j1 2026-01-01T00:00:00.000Z - 200"])
        XCTAssertEqual(try f.rejects(), ["4 bad_integer", "5 bad_integer"])
        // A padded value that is still no int says why, as the value inside would.
        XCTAssertEqual(try f.strings("SELECT detail FROM rejects WHERE line = 5"),
                       ["field input_tokens: expected a base-10 integer that fits in 64 bits: written with thousands separators (1,234 or 1 234); the field takes the digits alone"])
    }

    /// CSV files joined with `cat` keep each one's header: the header row again is no record
    /// (before, it loaded as a payment of an account named `account_id`).
    func testARepeatedHeaderRowIsNoRecord() throws {
        let f = try Fixture()
        try f.write("payments.csv", "account_id,fingerprint\na1,fp1\naccount_id,fingerprint\na2,fp2\naccount_id,fingerprint\r\n")
        let summary = try f.ingest()
        XCTAssertEqual(summary.total().loaded, 2)
        XCTAssertEqual(try f.strings("SELECT line || ' ' || reason FROM rejects ORDER BY line"), ["3 bad_csv", "5 bad_csv"])
        XCTAssertEqual(try f.int("SELECT count(*) FROM accounts WHERE account_id = 'account_id'"), 0)
        XCTAssertEqual(try f.int("SELECT count(*) FROM payments WHERE fingerprint = 'fingerprint'"), 0)
    }

    /// Files saved with a UTF-8 byte order mark (Excel's "CSV UTF-8", Notepad) and joined with
    /// `cat` keep each mark at the start of a line: the JSON record after it was `bad_json`, and
    /// the CSV header after it was taken for a record (a row without its header, for a record
    /// whose first cell began with the mark). The mark is read past; a reject's raw text keeps it.
    func testByteOrderMarksOfFilesJoinedWithCatAreReadPast() throws {
        let f = try Fixture()
        let mark: [UInt8] = [0xEF, 0xBB, 0xBF]
        let part = { (id: String) in mark + Array("account_id,created_at\r\n\(id),2026-01-01T00:00:00Z\r\n".utf8) }
        try f.write("accounts.csv", bytes: part("c1") + part("c2") + mark + Array("c3,2026-01-01T00:00:00Z\r\n".utf8))
        let line = { (id: String) in mark + Array("{\"account_id\":\"\(id)\",\"created_at\":\"2026-01-01T00:00:00Z\"}\n".utf8) }
        try f.write("accounts.jsonl", bytes: line("j1") + line("j2") + mark + Array("{\"account_id\":\n".utf8))
        let summary = try f.ingest()
        XCTAssertEqual(try f.strings("SELECT account_id FROM accounts ORDER BY account_id"), ["c1", "c2", "c3", "j1", "j2"])
        XCTAssertEqual(summary.total().loaded, 5)
        XCTAssertEqual(try f.strings("SELECT reason || ' ' || hex(substr(CAST(raw AS BLOB), 1, 3)) FROM rejects ORDER BY source_file_id, line"),
                       ["bad_csv EFBBBF", "bad_json EFBBBF"])
    }

    /// Excel for Mac's "CSV (Macintosh)" ends lines with a carriage return alone: the header
    /// swallowed every row, and the file was damaged with its rows in no table.
    func testAFileWhoseLinesEndInCarriageReturnsAloneLoads() throws {
        let f = try Fixture()
        try f.write("accounts.csv", "account_id,created_at,plan\ra1,2026-01-01T00:00:00Z,\"two\rlines\"\ra2,2026-01-01T00:00:00Z,x\ra3,bad,y\r")
        let summary = try f.ingest()
        XCTAssertEqual(summary.files.first?.outcome, .complete)
        XCTAssertEqual(try f.strings("SELECT account_id || ' ' || plan || ' ' || source_line FROM accounts ORDER BY account_id"),
                       ["a1 two\nlines 2", "a2 x 4"])
        XCTAssertEqual(try f.strings("SELECT line || ' ' || reason FROM rejects"), ["5 bad_timestamp"])
    }

    /// A download saved without `.gz` (sent with `Content-Encoding: gzip`) and a `.gz` that was
    /// never compressed: read by their content, with a note; the case file records what was read.
    /// A `.gz` that is neither gzip nor text is still damaged.
    func testWhetherAFileIsGzipIsToldByItsContent() throws {
        let f = try Fixture()
        try f.writeGzip("accounts-download.csv", "account_id,created_at\na1,2026-01-01T00:00:00Z\n")
        try f.write("accounts-plain.csv.gz", "account_id,created_at\na2,2026-01-01T00:00:00Z\n")
        try f.write("accounts-broken.csv.gz", bytes: [0x00, 0x8B, 0x08, 0x00, 0x61, 0x62, 0x0A])
        let plan = try IngestPlan(paths: [f.directory + "/in"], kind: nil, format: nil)
        XCTAssertEqual(plan.notes, [
            "\(f.directory)/in/accounts-download.csv: read as gzip, as its content is gzip-compressed (its name does not end in .gz)",
            "\(f.directory)/in/accounts-plain.csv.gz: read as plain text, as it is not compressed (its name ends in .gz)",
        ])
        let summary = try Ingest(databasePath: f.databasePath).run(plan.files)
        XCTAssertEqual(summary.total().loaded, 2)
        XCTAssertEqual(try f.strings("SELECT substr(path, instr(path, 'accounts-')) || ' ' || compression || ' ' || status FROM source_files ORDER BY path"),
                       ["accounts-broken.csv.gz gzip damaged", "accounts-download.csv gzip complete", "accounts-plain.csv.gz none complete"])
    }

    /// A folder of exports as they arrive: a sub-folder, `.CSV` from a Windows tool, Parquet,
    /// another compression, a half-written copy. What is read is read; each of the others
    /// is named with why (and how to stream it in); a README passes unremarked.
    func testAFolderSaysWhatItPassesOverAndHowToReadIt() throws {
        let f = try Fixture()
        let folder = f.directory + "/in"
        try FileManager.default.createDirectory(atPath: folder + "/2026-01", withIntermediateDirectories: true)
        for name in ["2026-01/accounts.csv", "accounts.CSV", "exchanges.parquet", "exchanges-1.jsonl.zst", "accounts.csv.part", "README.txt"] {
            try f.write(name, "account_id,created_at\na1,2026-01-01T00:00:00Z\n")
        }
        let plan = try IngestPlan(paths: [folder], kind: nil, format: nil)
        XCTAssertEqual(plan.files.map(\.path), [folder + "/accounts.CSV"])
        XCTAssertEqual(plan.files.first?.format, .csv)
        XCTAssertEqual(plan.notes, [
            "skipped \(folder)/2026-01: a directory; its files are read when it is named itself",
            "skipped \(folder)/accounts.csv.part: its name does not end in .csv, .tsv, .jsonl, .ndjson or .json, optionally .gz (ingest it by its path with --format)",
            "skipped \(folder)/exchanges-1.jsonl.zst: only gzip compression is read; stream it in: zstd -dc \(folder)/exchanges-1.jsonl.zst | casebook ingest --kind exchanges --format jsonl -",
            "skipped \(folder)/exchanges.parquet: Parquet is not read; stream it in as CSV: duckdb -c \"COPY (SELECT * FROM '\(folder)/exchanges.parquet') TO '/dev/stdout' (FORMAT csv, HEADER)\" | casebook ingest --kind exchanges --format csv -",
        ])
        // Named alone, such a file is a usage error with the same advice; --format overrides.
        XCTAssertThrowsError(try IngestPlan(paths: [folder + "/exchanges.parquet"], kind: nil, format: nil)) { error in
            XCTAssertTrue("\(error)".contains("Parquet is not read; stream it in as CSV: duckdb"), "\(error)")
        }
        XCTAssertEqual(try IngestPlan(paths: [folder + "/exchanges.parquet"], kind: nil, format: .csv).files.count, 1)
        XCTAssertThrowsError(try IngestPlan(paths: [folder + "/2026-01", folder + "/README.txt"], kind: nil, format: nil))
        try FileManager.default.removeItem(atPath: folder + "/accounts.CSV")
        XCTAssertThrowsError(try IngestPlan(paths: [folder], kind: nil, format: nil)) { error in
            XCTAssertTrue("\(error)".hasSuffix("; skipped \(folder)/exchanges.parquet: Parquet is not read; stream it in as CSV: duckdb -c \"COPY (SELECT * FROM '\(folder)/exchanges.parquet') TO '/dev/stdout' (FORMAT csv, HEADER)\" | casebook ingest --kind exchanges --format csv -"), "\(error)")
        }
    }

    /// A file compressed otherwise than with gzip, whatever its name (`xz` into `.csv.gz`, a zip
    /// saved as `.csv`), is told by its first bytes and passed over with how to stream it in;
    /// named alone it is a usage error. Before, the first was damaged gzip, the second every
    /// record rejected.
    func testAnotherCompressionIsToldByItsContent() throws {
        let f = try Fixture()
        let folder = f.directory + "/in"
        try f.write("accounts.csv", "account_id,created_at\na1,2026-01-01T00:00:00Z\n")
        try f.write("accounts-2.csv.gz", bytes: [0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00, 0x00, 0x04, 0xE6, 0xD6])
        try f.write("exchanges.jsonl", bytes: [0x50, 0x4B, 0x03, 0x04, 0x14, 0x00, 0x00, 0x00])
        try f.write("exchanges-2.jsonl", bytes: Array("BZh91AY&SY".utf8))
        try f.write("exchanges-3.jsonl", "BZh is not bzip2 without a block size\n")
        let plan = try IngestPlan(paths: [folder], kind: nil, format: nil)
        XCTAssertEqual(plan.files.map(\.path), [folder + "/accounts.csv", folder + "/exchanges-3.jsonl"])
        XCTAssertEqual(plan.notes, [
            "skipped \(folder)/accounts-2.csv.gz: its content is xz-compressed, and only gzip compression is read; stream it in: xz -dc \(folder)/accounts-2.csv.gz | casebook ingest --kind accounts --format csv -",
            "skipped \(folder)/exchanges-2.jsonl: its content is bzip2-compressed, and only gzip compression is read; stream it in: bzip2 -dc \(folder)/exchanges-2.jsonl | casebook ingest --kind exchanges --format jsonl -",
            "skipped \(folder)/exchanges.jsonl: its content is zip-compressed, and only gzip compression is read; stream it in: unzip -p \(folder)/exchanges.jsonl | casebook ingest --kind exchanges --format jsonl -",
        ])
        XCTAssertThrowsError(try IngestPlan(paths: [folder + "/accounts-2.csv.gz"], kind: nil, format: nil)) { error in
            XCTAssertTrue("\(error)".contains("its content is xz-compressed"), "\(error)")
        }
    }

    /// BigQuery and Snowflake write JSON Lines as `.json` (gzip or not), `.ndjson` is another
    /// common name: all are read as JSON Lines, and a `.json` file that is one array says how
    /// to convert it.
    func testJSONLinesNamedJSONOrNDJSONAreRead() throws {
        let f = try Fixture()
        let folder = f.directory + "/in"
        try f.write("accounts-000000000000.json", "{\"account_id\":\"a1\",\"created_at\":\"2026-01-01T00:00:00Z\"}\n")
        try f.write("accounts-b.ndjson", "{\"account_id\":\"a2\",\"created_at\":\"2026-01-01T00:00:00Z\"}\n")
        try f.write("accounts-c.json", "[{\"account_id\":\"a3\",\"created_at\":\"2026-01-01T00:00:00Z\"}]\n")
        let plan = try IngestPlan(paths: [folder], kind: nil, format: nil)
        XCTAssertEqual(plan.notes, [])
        XCTAssertEqual(plan.files.map(\.format), [.jsonl, .jsonl, .jsonl])
        let summary = try Ingest(databasePath: f.databasePath).run(plan.files)
        XCTAssertEqual(try f.strings("SELECT account_id FROM accounts ORDER BY account_id"), ["a1", "a2"])
        guard case let .damaged(reason) = summary.files.first(where: { $0.file.path.hasSuffix("c.json") })?.outcome else {
            return XCTFail("\(summary.files)")
        }
        XCTAssertTrue(reason.contains("the file is one JSON array"), reason)
    }

    /// Windows tools and some warehouses write names in capitals (`ACCOUNTS.CSV`): the kind is
    /// told from the name in any letter case, as the ending is.
    func testAKindIsToldFromANameInAnyLetterCase() throws {
        let f = try Fixture()
        let folder = f.directory + "/in"
        try f.write("ACCOUNTS.CSV", "account_id,created_at\r\na1,2026-01-01T00:00:00Z\r\n")
        try f.write("Exchanges-000.JSONL", "{\"exchange_id\":\"e1\",\"account_id\":\"a1\",\"ts\":1769940000}\n")
        let plan = try IngestPlan(paths: [folder], kind: nil, format: nil)
        XCTAssertEqual(plan.notes, [])
        XCTAssertEqual(plan.files.map(\.kind), [.accounts, .exchanges])
        _ = try Ingest(databasePath: f.databasePath).run(plan.files)
        XCTAssertEqual(try f.strings("SELECT account_id || ' ' || referenced_only || ' ' || (SELECT count(*) FROM exchanges) FROM accounts"), ["a1 0 1"])
    }

    // MARK: - Gzip damage

    func testAFlippedChecksumKeepsEveryRecord() throws {
        let f = try Fixture()
        let path = try f.writeGzip("exchanges.jsonl.gz", Self.exchanges(5_000))
        var bytes = try Array(Data(contentsOf: URL(fileURLWithPath: path)))
        bytes[bytes.count - 6] ^= 0xFF  // inside the CRC-32 trailer
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let summary = try f.ingest([path])
        guard case .damaged = summary.files.first?.outcome else { return XCTFail("\(summary.files)") }
        XCTAssertEqual(summary.total().loaded, 5_000)
    }

    func testAByteFlippedMidStreamKeepsEveryRecordInflatedBeforeIt() throws {
        let f = try Fixture()
        let text = Self.exchanges(20_000)
        let path = try f.writeGzip("exchanges.jsonl.gz", text)
        var bytes = try Array(Data(contentsOf: URL(fileURLWithPath: path)))
        let flipped = bytes.count * 6 / 10
        bytes[flipped] ^= 0x55
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        // What zlib itself inflates before it reports the damage, read with Python's zlib.
        let reference = try python("""
            import sys, zlib
            d = zlib.decompressobj(31); data = open(sys.argv[1], 'rb').read(); out = b''
            for i in range(0, len(data), 4096):
                try: out += d.decompress(data[i:i + 4096])
                except zlib.error: break
            print(sum(1 for line in out.split(b'\\n')[:-1] if line.strip(b' \\t\\r')))
            """, path)
        let summary = try f.ingest([path])
        guard case .damaged = summary.files.first?.outcome else { return XCTFail("\(summary.files)") }
        // The bytes after the damage are hashed too: the file is recorded by its whole content.
        XCTAssertEqual(summary.files.first?.changedSinceHashed, false)
        XCTAssertEqual(try f.strings("SELECT sha256 FROM source_files"), [try FileDigest.sha256(path: path)])
        let total = summary.total()
        XCTAssertGreaterThanOrEqual(total.loaded + total.rejected, reference - 1, "every non-blank line inflated before the damage is a record, loaded or rejected")
        XCTAssertGreaterThan(reference, 5_000)
    }

    // MARK: - Growth

    func testAFileThatGrowsDuringIngestIsReadAsItWasAndItsGrowthLater() throws {
        let f = try Fixture()
        let original = Self.exchanges(20_000) + "{\"broken\n"
        let path = try f.write("exchanges.jsonl", original)
        var appended = false
        let files = try IngestPlan(paths: [path], kind: nil, format: nil).files
        _ = try Ingest(databasePath: f.databasePath).run(files) { _ in
            guard !appended else { return }
            appended = true
            let handle = FileHandle(forWritingAtPath: path)!
            handle.seekToEndOfFile()
            handle.write(Data("{\"exchange_id\":\"late\",\"account_id\":\"a\",\"ts\":1}\n".utf8))
            handle.closeFile()
        }
        XCTAssertTrue(appended)
        XCTAssertEqual(try f.strings("SELECT size_bytes || ' ' || sha256 FROM source_files"),
                       ["\(original.utf8.count) \(try FileDigest.sha256(path: path, length: Int64(original.utf8.count)))"])
        XCTAssertEqual(try f.int("SELECT count(*) FROM exchanges WHERE exchange_id = 'late'"), 0)
        XCTAssertEqual(try f.int("SELECT count(*) FROM rejects"), 1)
        // The next run reads only what was appended: the late record, no second reject.
        _ = try f.ingest([path])
        XCTAssertEqual(try f.int("SELECT count(*) FROM exchanges WHERE exchange_id = 'late'"), 1)
        XCTAssertEqual(try f.int("SELECT count(*) FROM rejects"), 1)
        XCTAssertEqual(try f.int("SELECT sum(records_read) FROM source_files"), 20_002)
    }

    func testAFileRewrittenAfterItWasHashedIsRecordedByTheBytesRead() throws {
        // The next file is hashed while the one before it loads; rewriting it in place (same
        // inode, as `cp` over it does) in between must not leave the old digest on the new records.
        let f = try Fixture()
        let first = try f.write("exchanges-1.jsonl", Self.exchanges(20_000))
        let old = (1...5).map { #"{"exchange_id":"o\#($0)","account_id":"a","ts":\#(1_768_000_000 + $0)}"# }.joined(separator: "\n") + "\n"
        let new = old.replacingOccurrences(of: #""o"#, with: #""n"#)
        let second = try f.write("exchanges-2.jsonl", old)
        var rewritten = false
        let files = try IngestPlan(paths: [first, second], kind: nil, format: nil).files
        XCTAssertEqual(files.map(\.path), [first, second])
        let summary = try Ingest(databasePath: f.databasePath).run(files) { progress in
            guard !rewritten, progress.file == first else { return }
            rewritten = true
            let handle = FileHandle(forWritingAtPath: second)!
            handle.truncateFile(atOffset: 0)
            handle.write(Data(new.utf8))
            handle.closeFile()
        }
        XCTAssertTrue(rewritten)
        XCTAssertEqual(summary.files.map(\.outcome), [.complete, .complete])
        XCTAssertEqual(summary.files.map(\.changedSinceHashed), [false, true])
        XCTAssertEqual(try f.strings("SELECT sha256 || ' ' || size_bytes FROM source_files WHERE path LIKE '%exchanges-2.jsonl'"),
                       ["\(FileDigest.sha256(bytes: Array(new.utf8))) \(new.utf8.count)"])
        XCTAssertEqual(try f.strings("SELECT exchange_id FROM exchanges WHERE exchange_id NOT LIKE 'x%' ORDER BY 1"),
                       ["n1", "n2", "n3", "n4", "n5"])
        // The file as it now is was read, so it is recognised.
        let again = try f.ingest([second])
        XCTAssertEqual(again.files.first?.outcome, .alreadyIngested(path: second, status: "complete"))
    }

    // MARK: - Conflicts

    func testAConflictKeepsTheRecordsExactText() throws {
        let f = try Fixture()
        try f.write("exchanges-1.jsonl", #"{"exchange_id":"e1","account_id":"a","ts":"2026-02-01T00:00:00Z"}"# + "\n")
        let line = #"{ "exchange_id": "e1", "account_id": "a",  "ts": "2026-02-02T00:00:00Z" }"#
        try f.write("exchanges-2.jsonl", line + "\n")
        try f.ingest()
        XCTAssertEqual(try f.strings("SELECT raw FROM rejects WHERE reason = 'conflict'"), [line])
    }

    // MARK: - Files written by real tools

    func testPandasMillisecondsAreRefusedAsSecondsAndReadWithTheirUnit() throws {
        let f = try Fixture()
        // pandas' to_json(orient="records", lines=True) writes epoch milliseconds.
        let path = try f.write("exchanges.jsonl", #"{"exchange_id":"e1","account_id":"a","ts":1769940000000}"# + "\n")
        let asSeconds = try f.ingest([path])
        XCTAssertEqual(asSeconds.total().rejectedByReason["bad_timestamp"], 1)
        XCTAssertTrue(try f.strings("SELECT detail FROM rejects")[0].contains("--epoch-unit ms"))
        // Read again with the right unit: another reading of the file, not "already ingested".
        let files = try IngestPlan(paths: [path], kind: nil, format: nil, options: ReadOptions(timestamps: TimestampRules(epochUnit: .ms))).files
        let asMilliseconds = try Ingest(databasePath: f.databasePath).run(files)
        XCTAssertEqual(asMilliseconds.files.first?.outcome, .complete)
        XCTAssertEqual(try f.strings("SELECT ts FROM exchanges"), ["2026-02-01T10:00:00.000Z"])
        XCTAssertEqual(try f.strings("SELECT read_options FROM source_files ORDER BY file_id"), ["", "epoch_unit=ms"])
    }

    /// Excel on Windows saves CSV in Windows-1252: each row with an accent or a euro sign is
    /// not UTF-8. Such rows are rejected with the option that reads them, and with it they load
    /// as the text they are: another reading of the file, not "already ingested".
    func testAWindows1252FileIsReadWithItsEncoding() throws {
        let f = try Fixture()
        var bytes = Array("ip,as_org,city\r\n1.2.3.4,Telek".utf8) + [0xF6] + Array("m,M".utf8) + [0xFC] + Array("nchen ".utf8) + [0x80]
        bytes += Array("\r\n1.2.3.5,Tel,Berlin\r\n".utf8)
        let path = try f.write("ips.csv", bytes: bytes)
        let asUTF8 = try f.ingest([path])
        XCTAssertEqual(asUTF8.total().loaded, 1)
        XCTAssertEqual(asUTF8.total().rejectedByReason["bad_utf8"], 1)
        XCTAssertTrue(try f.strings("SELECT detail FROM rejects")[0].contains("--encoding windows-1252"))

        let files = try IngestPlan(paths: [path], kind: nil, format: nil, options: ReadOptions(encoding: .windows1252)).files
        let asWindows1252 = try Ingest(databasePath: f.databasePath).run(files)
        XCTAssertEqual(asWindows1252.files.first?.outcome, .complete)
        XCTAssertEqual(asWindows1252.total().loaded, 1)
        XCTAssertEqual(asWindows1252.total().duplicate, 1)
        XCTAssertEqual(try f.strings("SELECT as_org || ' ' || city FROM ips WHERE ip = '1.2.3.4'"), ["Teleköm München €"])
        XCTAssertEqual(try f.strings("SELECT read_options FROM source_files ORDER BY file_id"), ["", "encoding=windows-1252"])
    }

    /// MySQL writes NULL as `\N`, R as `NA`, others as `NULL`: in a typed field each rejected
    /// the whole record. The reject says which option reads it, and with `--null` such a value
    /// is absent, as an empty cell is; a value outside the contract's fields is kept as written.
    func testTheTextAnExportWritesForNullIsReadAsAbsentWhenNamed() throws {
        let f = try Fixture()
        let path = try f.write("accounts.csv", """
            account_id,created_at,signup_ip,country,note
            a1,2026-01-01T00:00:00Z,\\N,\\N,\\N
            a2,2026-01-01T00:00:00Z,NULL,DE,x
            a4,2026-01-01T00:00:00Z,-,,
            a5,2026-01-01T00:00:00Z,no address,,
            \\N,2026-01-01T00:00:00Z,,,

            """)
        let plain = try f.ingest([path])
        XCTAssertEqual(plain.total().loaded, 1)
        XCTAssertEqual(try f.strings("SELECT line || ' ' || reason || ' ' || detail FROM rejects ORDER BY line"), [
            "2 bad_ip field signup_ip: expected an IPv4 or IPv6 address; the export may write \\N for no value: ingest with --null '\\N'",
            "3 bad_ip field signup_ip: expected an IPv4 or IPv6 address; the export may write NULL for no value: ingest with --null 'NULL'",
            "4 bad_ip field signup_ip: expected an IPv4 or IPv6 address; the export may write - for no value: ingest with --null '-'",
            "5 bad_ip field signup_ip: expected an IPv4 or IPv6 address",
        ])

        let files = try IngestPlan(paths: [path], kind: nil, format: nil, options: ReadOptions(nullTexts: ["\\N", "NULL"])).files
        let named = try Ingest(databasePath: f.databasePath).run(files)
        XCTAssertEqual(named.files.first?.outcome, .complete)
        XCTAssertEqual(named.total().loaded, 2)
        XCTAssertEqual(try f.strings("SELECT account_id || ' ' || coalesce(signup_ip, '-') || ' ' || coalesce(country, '-') || ' ' || extra "
                                     + "FROM accounts WHERE account_id IN ('a1', 'a2') ORDER BY account_id"), ["a1 - - {\"note\":\"\\\\N\"}", "a2 - DE {\"note\":\"x\"}"])
        XCTAssertEqual(try f.strings("SELECT line || ' ' || reason FROM rejects WHERE source_file_id = 2 ORDER BY line"),
                       ["4 bad_ip", "5 bad_ip", "6 missing_field"])
        XCTAssertEqual(try f.strings("SELECT read_options FROM source_files ORDER BY file_id"), ["", #"null=["\\N","NULL"]"#])
    }

    /// pandas writes an integer column with a gap as floats (`812.0`), in CSV and in JSON: each
    /// exchange of such an export was rejected. A whole number is read as the number it is.
    func testIntegersWrittenAsWholeFloatsLoad() throws {
        let f = try Fixture()
        try f.write("exchanges.csv", """
            exchange_id,account_id,ts,input_tokens,output_tokens,status
            e1,a,2026-02-01T10:00:00Z,120.0,,200.0
            e2,a,2026-02-01T10:00:01Z,80.0,812.0,
            e3,a,2026-02-01T10:00:02Z,80.5,1.0,200

            """)
        try f.write("exchanges-pandas.jsonl", #"{"exchange_id":"e4","account_id":"a","ts":"2026-02-01T10:00:03Z","input_tokens":7.0,"output_tokens":null}"# + "\n")
        let summary = try f.ingest()
        XCTAssertEqual(summary.total().loaded, 3)
        XCTAssertEqual(try f.strings("SELECT exchange_id || ' ' || input_tokens || ' ' || coalesce(output_tokens, '-') || ' ' || coalesce(status, '-') "
                                     + "FROM exchanges ORDER BY exchange_id"), ["e1 120 - 200", "e2 80 812 -", "e4 7 - -"])
        XCTAssertEqual(try f.rejects(), ["4 bad_integer"])
    }

    /// Python's json.dumps writes a missing float as a bare `NaN` (not JSON): as a field's value
    /// it is absent, as null is. Inside an object or array kept in `extra`, or as Infinity, the
    /// record is still bad_json: `extra` holds JSON only.
    func testPythonsNaNIsAbsentAsAFieldsValue() throws {
        let f = try Fixture()
        try f.write("exchanges.jsonl", """
            {"exchange_id": "e1", "account_id": "a", "ts": "2026-02-01T10:00:00Z", "latency_ms": NaN, "score": NaN}
            {"exchange_id": "e2", "account_id": "a", "ts": "2026-02-01T10:00:01Z", "meta": {"x": NaN}}
            {"exchange_id": "e3", "account_id": "a", "ts": "2026-02-01T10:00:02Z", "latency_ms": Infinity}
            {"exchange_id": "e4", "account_id": "a", "ts": "2026-02-01T10:00:03Z", "latency_ms": NaNa}

            """)
        let summary = try f.ingest()
        XCTAssertEqual(summary.total().loaded, 1)
        XCTAssertEqual(try f.strings("SELECT exchange_id || ' ' || coalesce(latency_ms, '-') || ' ' || coalesce(extra, '-') FROM exchanges"), ["e1 - -"])
        XCTAssertEqual(try f.rejects(), ["2 bad_json", "3 bad_json", "4 bad_json"])
    }

    /// JSON converted from CSV (Miller, csvjson) writes an empty cell as "": in a typed field it
    /// is absent, as the empty cell was, not a bad address or number. An id of white space alone
    /// is no id.
    func testAnEmptyStringInATypedFieldIsAbsentAndAnIdOfSpacesIsMissing() throws {
        let f = try Fixture()
        try f.write("exchanges.jsonl", """
            {"exchange_id":"e1","account_id":"a","ts":"2026-02-01T10:00:00Z","ip":"","latency_ms":"","status":""}
            {"exchange_id":"e2","account_id":"a","ts":""}
            {"exchange_id":"e3","account_id":"  ","ts":"2026-02-01T10:00:00Z"}

            """)
        try f.write("accounts.csv", "account_id,created_at\n\" \t\",2026-01-01T00:00:00Z\n")
        let summary = try f.ingest()
        XCTAssertEqual(summary.total().loaded, 1)
        XCTAssertEqual(try f.strings("SELECT exchange_id || ' ' || coalesce(ip, '-') || ' ' || coalesce(latency_ms, '-') FROM exchanges"), ["e1 - -"])
        XCTAssertEqual(try f.strings("SELECT reason || ' ' || detail FROM rejects ORDER BY source_file_id, line"), [
            "missing_field required field account_id is missing, empty or white space alone",
            "missing_field required field ts is missing, empty or white space alone",
            "missing_field required field account_id is missing, empty or white space alone",
        ])
    }

    /// Load-balancer logs write the client as `address:port`; each such exchange was a `bad_ip`
    /// reject. The address is the value, one address with the same address written bare.
    /// Values that are not one address say what they are instead.
    func testAnAddressWithItsPortLoadsAsTheAddressAndOtherFormsSayWhy() throws {
        let f = try Fixture()
        try f.write("exchanges.csv", """
            exchange_id,account_id,ts,ip
            e1,a,2026-02-01T10:00:00Z,203.0.113.7:51234
            e2,b,2026-02-01T10:00:00Z,203.0.113.7
            e3,c,2026-02-01T10:00:00Z,[2001:db8::7]:443
            e4,c,2026-02-01T10:00:00Z,"203.0.113.7, 10.0.0.1"
            e5,c,2026-02-01T10:00:00Z,fe80::1%eth0
            e6,c,2026-02-01T10:00:00Z,203.0.113.07

            """)
        let summary = try f.ingest()
        XCTAssertEqual(summary.total().loaded, 3)
        XCTAssertEqual(try f.strings("SELECT exchange_id || ' ' || ip FROM exchanges ORDER BY exchange_id"),
                       ["e1 203.0.113.7", "e2 203.0.113.7", "e3 2001:db8::7"])
        XCTAssertEqual(try f.strings("SELECT count(DISTINCT ip_pk) FROM exchange_rows"), ["2"])
        XCTAssertEqual(try f.strings("SELECT line || ' ' || detail FROM rejects ORDER BY line"), [
            "5 field ip: expected an IPv4 or IPv6 address: a list of addresses (as an X-Forwarded-For header holds, the client's usually first); the field takes one address",
            "6 field ip: expected an IPv4 or IPv6 address: an IPv6 address with a zone (%...), which names an address on one host's own link, not a client's",
            "7 field ip: expected an IPv4 or IPv6 address: a part of the dotted quad starts with 0 (as in 010.1.2.3), which some tools read as octal and others as decimal; write each part without leading zeros",
        ])
    }

    /// Windows PowerShell's Export-Csv writes a `#TYPE` line above the header, every cell
    /// quoted: the file was damaged ("no column account_id"), every row rejected.
    func testPowerShellsTypeLineIsReadPast() throws {
        let f = try Fixture()
        try f.write("accounts.csv", """
            #TYPE System.Management.Automation.PSCustomObject
            "account_id","created_at","email"
            "a1","2026-01-01T00:00:00Z","x@example.org"
            "account_id","created_at","email"

            """)
        let summary = try f.ingest()
        XCTAssertEqual(summary.files.first?.outcome, .complete)
        XCTAssertEqual(try f.strings("SELECT account_id || ' ' || email || ' ' || source_line FROM accounts"), ["a1 x@example.org 3"])
        XCTAssertEqual(try f.strings("SELECT line || ' ' || reason FROM rejects"), ["4 bad_csv"])
    }

    func testDuckDBAndPostgreSQLTimestampsLoad() throws {
        let f = try Fixture()
        try f.write("exchanges.csv", """
            exchange_id,account_id,ts
            e1,a,2026-02-01 10:00:00+00
            e2,a,2026-02-01 10:00:00.5+00
            e3,a,2026-02-01 10:00:00 UTC
            e4,a,2026-02-01 10:00:00

            """)
        let summary = try f.ingest()
        XCTAssertEqual(summary.total().loaded, 3)
        XCTAssertEqual(try f.strings("SELECT ts FROM exchanges ORDER BY exchange_id"),
                       ["2026-02-01T10:00:00.000Z", "2026-02-01T10:00:00.500Z", "2026-02-01T10:00:00.000Z"])
        XCTAssertTrue(try f.strings("SELECT detail FROM rejects")[0].contains("no time zone offset"))
    }

    /// `true` is no identifier: a JSON boolean where the contract wants an id is the wrong type,
    /// not an account named "true" that every such record would share. A number is an id.
    func testAnIdentifierThatIsTrueOrFalseIsTheWrongType() throws {
        let f = try Fixture()
        try f.write("accounts.jsonl", """
            {"account_id":true,"created_at":"2026-01-01T00:00:00Z"}
            {"account_id":1001,"created_at":"2026-01-01T00:00:00Z","plan":false}

            """)
        try f.write("payments.jsonl", #"{"account_id":"1001","fingerprint":false}"# + "\n")
        let summary = try f.ingest()
        XCTAssertEqual(summary.total().loaded, 1)
        XCTAssertEqual(try f.strings("SELECT reason || ' ' || detail FROM rejects ORDER BY source_file_id, line"), [
            "wrong_type field account_id: expected a string, found true or false",
            "wrong_type field fingerprint: expected a string, found true or false",
        ])
        XCTAssertEqual(try f.strings("SELECT account_id || ' ' || plan FROM accounts"), ["1001 false"])
    }

    func testAFieldOutsideTheContractNamedTwiceIsBadJSON() throws {
        let f = try Fixture()
        try f.write("exchanges.jsonl", #"{"exchange_id":"e1","account_id":"a","ts":1,"region":"eu","regi\u006fn":"us"}"# + "\n")
        try f.ingest()
        XCTAssertEqual(try f.rejects(), ["1 bad_json"])
    }

    // MARK: - Helpers

    static func exchanges(_ count: Int) -> String {
        (1...count).map { #"{"exchange_id":"x\#($0)","account_id":"a\#($0 % 97)","ts":\#(1_768_000_000 + $0),"prompt":"question number \#($0) about something"}"# }
            .joined(separator: "\n") + "\n"
    }

    private func python(_ script: String, _ argument: String) throws -> Int {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, argument]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Int(String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
    }
}

/// The Luhn check, written out here so the test does not trust the code it tests.
enum TextChecksProbe {
    static func passesLuhn(_ digits: String) -> Bool {
        let values = digits.compactMap { $0.wholeNumberValue }.reversed()
        let sum = values.enumerated().reduce(0) { total, item in
            let doubled = item.offset % 2 == 1 ? item.element * 2 : item.element
            return total + (doubled > 9 ? doubled - 9 : doubled)
        }
        return sum % 10 == 0
    }
}
