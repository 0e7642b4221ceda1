import CasebookIO
@testable import CasebookTUI
import CasebookAudit
import CasebookCases
import CasebookGraph
import CasebookIngest
import CasebookStore
import XCTest

/// The keymap, every command, annotating through the cases library, and terminal hygiene.
final class AppBehaviourTests: XCTestCase {
    func testTheKeymapHasNoDoubleBindingsAndEveryCommandHelp() {
        var seen: [Key: CommandName] = [:]
        for command in Command.table {
            XCTAssertFalse(command.help.isEmpty, "\(command.name) has no help")
            XCTAssertFalse(command.keys.isEmpty, "\(command.name) has no key")
            for key in command.keys {
                XCTAssertNil(seen[key], "\(key) is bound to \(seen[key].map { "\($0)" } ?? "") and \(command.name)")
                seen[key] = command.name
            }
        }
        XCTAssertEqual(Set(Command.table.map(\.name)), Set(CommandName.allCases), "every command is in the table")
        // The help screen lists every command's help text.
        let help = Sheets.help() as! DocumentSheet
        var screen = Screen(width: 120, height: 80)
        help.draw(&screen, top: 0, height: 80)
        for command in Command.table { XCTAssertTrue(screen.text.contains(command.help), command.help) }
    }

    /// Each command's first key, pressed where it applies, with what must show afterwards.
    func testEveryCommandDoesWhatItsHelpSays() throws {
        let path = try TUIFixture.copy()
        func check(_ name: CommandName, setup: String = "", expect: (App, Screen) -> Bool, file: StaticString = #filePath, line: UInt = #line) throws {
            let app = try TUIFixture.app(path)
            try TUIFixture.press(app, setup)
            let key = Command.table.first { $0.name == name }!.keys.first!
            _ = app.handle(key)
            let screen = app.render()
            XCTAssertTrue(expect(app, screen), "\(name) after \"\(setup)\":\n\(screen.text)", file: file, line: line)
        }
        let status = { (screen: Screen) in screen.line(screen.height - 2) }
        try check(.down, expect: { _, s in status(s).contains("row 2 of") })
        try check(.up, setup: "jj", expect: { _, s in status(s).contains("row 2 of") })
        try check(.pageDown, setup: "<Enter>", expect: { _, s in !status(s).contains("row 1 of") })
        try check(.pageUp, setup: "j<Enter><PgDn><PgDn>", expect: { _, s in status(s).contains("row 12 of 31") })
        try check(.bottom, expect: { _, s in status(s).contains("row 11 of 11") })
        try check(.top, setup: "G", expect: { _, s in status(s).contains("row 1 of 11") })
        try check(.right, expect: { _, s in !s.line(1).contains("cluster") })
        try check(.left, setup: "ll", expect: { _, s in s.line(1).hasPrefix("risk") || s.line(1).contains("accounts") })
        try check(.open, expect: { app, _ in app.breadcrumb.hasPrefix("clusters › ") })
        try check(.back, setup: "<Enter>", expect: { app, _ in app.breadcrumb == "clusters" })
        try check(.help, expect: { app, _ in app.breadcrumb.hasSuffix("help") })
        try check(.refresh, expect: { app, _ in app.breadcrumb == "clusters" })
        try check(.search, expect: { _, s in s.line(s.height - 1).hasPrefix("search:") })
        try check(.searchNext, setup: "/hosting<Enter>", expect: { _, s in !status(s).contains("row 1 of") })
        try check(.searchPrevious, setup: "/hosting<Enter>n", expect: { _, s in status(s).contains("row") })
        try check(.filter, expect: { _, s in s.line(s.height - 1).contains("keep rows containing") })
        try check(.sort, expect: { _, s in status(s).contains("sort accounts") })
        try check(.reverseSort, expect: { _, s in status(s).contains("↑") })
        try check(.fullText, expect: { _, s in s.line(s.height - 1).contains("full-text index") })
        try check(.cases, expect: { app, _ in app.breadcrumb.hasSuffix("cases") })
        try check(.jump, expect: { _, s in s.line(s.height - 1).hasPrefix("open (account id") })
        try check(.evidence, setup: "<Enter>", expect: { app, _ in app.breadcrumb.hasSuffix("links") })
        try check(.mark, setup: "<Enter>j", expect: { _, s in status(s).contains("marked") })
        try check(.whyLinked, setup: "<Enter>jmjj", expect: { app, _ in app.breadcrumb.contains("why ") })
        try check(.prompts, setup: "<Enter>jmjj", expect: { app, _ in app.breadcrumb.hasSuffix("prompts") })
        try check(.note, setup: "<Enter>", expect: { _, s in s.text.contains("Ctrl-S saves") })
        try check(.tag, setup: "<Enter>", expect: { _, s in s.line(s.height - 1).hasPrefix("tag cluster:") })
        try check(.status, setup: "o<Enter>T<Enter>C<Enter>", expect: { _, s in s.text.contains("status of case 1") })
        try check(.openCase, expect: { _, s in s.text.contains("new case…") })
        try check(.export, expect: { _, s in status(s).contains("export is not available") })
        try check(.verb, expect: { _, s in s.line(s.height - 1).hasPrefix(":") })
        try check(.cancel, expect: { _, s in status(s).contains("cancelled") })
        try check(.quit, expect: { app, _ in !app.handle(.character("Q")) })
    }

    func testNotesTagsAndStatusGoThroughTheCasesLibraryIntoTheAuditLog() throws {
        let path = try TUIFixture.copy()
        let app = try TUIFixture.app(path, actor: "ana")
        try TUIFixture.press(app, "<Enter>aRotating /24s<Enter>ünïcödé 中文 ✓<Left><BS><C-s>")
        try TUIFixture.press(app, "tproxy-farm<Enter>")
        try TUIFixture.press(app, "o<Enter>Proxy farm<Enter>")
        try TUIFixture.press(app, "qC<Enter>S<Down><Down><Enter>")
        let database = try CaseFile.open(path, access: .read)
        let book = CaseBook(database: database, actor: "test")
        let cluster = try database.prepare("SELECT cluster_id FROM clusters ORDER BY risk_score DESC LIMIT 1").rows { $0.int64(0) }[0]
        XCTAssertEqual(try book.notes(on: Target(.cluster, String(cluster))).map(\.body), ["Rotating /24s\nünïcödé 中文✓"])
        XCTAssertEqual(try book.tags(on: Target(.cluster, String(cluster))), ["proxy-farm"])
        XCTAssertEqual(try book.detail(1).summary.status, .confirmed)
        XCTAssertEqual(try book.detail(1).clusterIDs, [cluster])
        let actions = try AuditLog.entries(database).filter { $0.actor == "ana" }.map(\.action)
        XCTAssertEqual(actions, ["note.add", "tag.add", "case.create", "case.attach", "case.status"])
        guard case .intact = try AuditLog.verifyChain(database) else { return XCTFail() }
    }

    func testResizeQuitAndBack() throws {
        let app = try TUIFixture.app()
        try TUIFixture.press(app, "<Enter><Resize 80x24>")
        let small = app.render()
        XCTAssertEqual(small.width, 80)
        XCTAssertEqual(small.height, 24)
        XCTAssertTrue(small.line(23).hasPrefix(" Enter open"))
        XCTAssertTrue(app.handle(.character("q")), "q from a sheet goes back")
        XCTAssertFalse(app.handle(.character("q")), "q from the first sheet quits")
    }

    func testWideAndControlCharactersKeepColumnsAligned() {
        var screen = Screen(width: 20, height: 2)
        screen.put("中文ab\u{1B}[31m", row: 0, column: 0)
        screen.put(oneLine("x\u{1B}[2Jy\nz"), row: 1, column: 0)
        XCTAssertEqual(screen.rows[0].reduce(0) { $0 + $1.width }, 20, "every row is exactly the screen width")
        XCTAssertEqual(screen.line(0).prefix(3), "中文a")
        XCTAssertFalse(screen.text.contains("\u{1B}"), "no escape character reaches the screen")
        XCTAssertTrue(screen.line(1).hasPrefix("x\\u{1b}[2Jy↵z"), screen.line(1))
        XCTAssertEqual(DisplayWidth.of("👩‍👩‍👧"), 2)
        XCTAssertEqual(DisplayWidth.of("e\u{301}"), 1)
        // A wide character that would straddle the edge is left out, not split.
        var edge = Screen(width: 3, height: 1)
        edge.put("ab中", row: 0, column: 0)
        XCTAssertEqual(edge.line(0), "ab ")
    }

    func testAHugePromptIsShownInPartAndSaysWhereTheRestIs() throws {
        let prompt = String(repeating: "word ", count: 300_000)
        let path = try TUIFixture.caseFile("exchanges.jsonl", lines: [#"{"exchange_id":"huge","account_id":"a","ts":1768000000,"prompt":"\#(prompt)"}"#])
        defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
        let app = try TUIFixture.app(path)
        let screen = try TUIFixture.press(app, "@exchange:huge<Enter>/more characters<Enter>")
        XCTAssertTrue(screen.text.contains("451,424 more characters"), screen.text)
    }

    func testALinkRunWithNoClusterSaysSoAndTheAccountsStayReachable() throws {
        let lines = (0..<6).map { #"{"account_id":"person-\#($0)","created_at":"2026-01-0\#($0 + 1)T10:00:00Z","country":"US"}"# }
        let path = try TUIFixture.caseFile("accounts.jsonl", lines: lines, link: true)
        defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
        let app = try TUIFixture.app(path)
        let first = app.render()
        XCTAssertTrue(first.text.contains("The latest link run (run 1) put none of the 6 accounts in a cluster."), first.text)
        XCTAssertTrue(first.text.contains("@ opens one by id"), first.text)
        let account = try TUIFixture.press(app, "@person-3<Enter>")
        XCTAssertTrue(account.line(0).contains("person-3"), account.line(0))
    }

    /// Exchanges the export could not attribute, under the account `NULL`: its sheet and the
    /// why sheet say it is a placeholder the link run left out, not an account kept apart.
    func testAPlaceholderAccountSaysWhyItIsInNoCluster() throws {
        let lines = (0..<4).map { #"{"exchange_id":"x\#($0)","account_id":"\#($0 < 2 ? "NULL" : "a\($0)")","ts":\#(1_768_000_000 + $0),"ip":"45.3.3.9"}"# }
        let path = try TUIFixture.caseFile("exchanges.jsonl", lines: lines, link: true)
        defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
        let app = try TUIFixture.app(path, size: (120, 30))
        let first = app.render()
        XCTAssertTrue(first.text.contains("What the link run said of this case file:"), first.text)
        XCTAssertTrue(first.text.contains("account_id \"NULL\" (1 account)"), first.text)
        let account = try TUIFixture.press(app, "@NULL<Enter>")
        XCTAssertTrue(account.text.contains("none (a placeholder id, left out of linking)"), account.text)
        let why = try TUIFixture.press(app, "m@a2<Enter>w")
        XCTAssertTrue(why.text.contains("NULL is a placeholder an export writes where it has no account"), why.text)
        XCTAssertTrue(why.text.contains("ip: 45.3.3.9"), why.text)
    }

    func testPagingThroughAManyRowedListKeepsMemoryFlat() throws {
        let lines = (1...3_000).map { #"{"exchange_id":"x\#($0)","account_id":"big","ts":\#(1_768_000_000 + $0),"prompt":"p\#($0)"}"# }
        let path = try TUIFixture.caseFile("exchanges.jsonl", lines: lines)
        defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
        let database = try CaseFile.open(path, access: .write)
        let context = try SheetContext(database: database, actor: "ana", readOnly: false, work: ImmediateWork(database: database))
        let sheet = try Sheets.account(context, id: "big") as! TableSheet
        var screen = Screen(width: 100, height: 30)
        var most = 0
        for _ in 0..<200 {
            _ = try sheet.handle(.pageDown)
            context.work.deliver()
            sheet.draw(&screen, top: 1, height: 27)
            most = max(most, sheet.table.rows.count)
        }
        XCTAssertLessThanOrEqual(most, 500, "the window of rows stays bounded")
        XCTAssertTrue(sheet.status.hasPrefix("row 3,000 of 3,000"), sheet.status)
        _ = try sheet.handle(.top)
        context.work.deliver()
        XCTAssertTrue(sheet.status.hasPrefix("row 1 of 3,000"), sheet.status)
        XCTAssertEqual(sheet.table.selected?.id, "x3000", "newest first")
        _ = try sheet.handle(.bottom)
        XCTAssertEqual(sheet.table.selected?.id, "x1")
        XCTAssertTrue(sheet.status.hasPrefix("row 3,000 of 3,000"), sheet.status)
        for _ in 0..<30 { _ = try sheet.handle(.pageUp) }
        XCTAssertTrue(sheet.status.hasPrefix("row 2,"), sheet.status)
        XCTAssertTrue(try sheet.search("p1500", forward: false) || sheet.search("p1500", forward: true))
        context.work.deliver()
        XCTAssertEqual(sheet.table.selected?.id, "x1500")
        XCTAssertTrue(sheet.status.hasPrefix("row 1,501 of 3,000"), sheet.status)
    }
}
