@testable import CasebookTUI
import CasebookStore
import XCTest

/// Every sheet at 100×30 and 80×24, compared with recorded screens.
final class SheetSnapshotTests: XCTestCase {
    /// Key scripts that reach each sheet from the start (the clusters list).
    static let journeys: [(name: String, keys: String)] = [
        ("clusters", ""),
        ("clusters-sorted-by-size", "s"),
        ("cluster", "<Enter>"),
        ("cluster-links", "<Enter>e"),
        ("account", "<Enter><Enter>"),
        ("exchange", "<Enter><Enter><Enter>"),
        ("exchange-scrolled", "<Enter><Enter><Enter><PgDn>"),
        ("why-linked", "<Enter>jmjjw"),
        ("prompts-side-by-side", "<Enter>jmjjp"),
        ("help", "?"),
        ("cases-empty", "C"),
        ("search-prompt", "/acct"),
        ("note-editor", "<Enter>aFirst line<Enter>second ✓ 中文"),
        ("tag-prompt", "<Enter>tpro"),
        ("open-case-menu", "o"),
        ("verb-output", ":case list<Enter>"),
        ("jump-to-exchange", "@exchange:ex-0000000042<Enter>"),
        ("jump-to-unknown-account", "@nobody<Enter>"),
    ]

    func testEverySheetAt100x30And80x24() throws {
        for size in [(100, 30), (80, 24)] {
            for journey in Self.journeys {
                let app = try TUIFixture.app(size: size)
                let screen = try TUIFixture.press(app, journey.keys)
                assertSnapshot(screen, "\(journey.name)-\(size.0)x\(size.1)")
            }
        }
    }

    func testCaseSheetsAfterOpeningACase() throws {
        let path = try TUIFixture.copy()
        for size in [(100, 30), (80, 24)] {
            let app = try TUIFixture.app(path, size: size)
            if size.0 == 100 { try TUIFixture.press(app, "o<Enter>Proxy farm<Enter>") }
            assertSnapshot(try TUIFixture.press(app, "C"), "cases-\(size.0)x\(size.1)")
            assertSnapshot(try TUIFixture.press(app, "<Enter>"), "case-\(size.0)x\(size.1)")
            assertSnapshot(try TUIFixture.press(app, "S"), "case-status-menu-\(size.0)x\(size.1)")
        }
    }

    func testTheFullTextIndexIsOfferedWithItsCostThenSearched() throws {
        let path = try TUIFixture.copy()
        let app = try TUIFixture.app(path)
        let offer = try TUIFixture.press(app, "F")
        XCTAssertTrue(offer.line(29).contains("no full-text index yet"), offer.line(29))
        XCTAssertTrue(offer.line(29).contains("index 9,133 exchanges now (about"), offer.line(29))
        try TUIFixture.press(app, "y<Enter>")
        let results = try TUIFixture.press(app, "Fquestion<Enter>")
        assertSnapshot(results, "search-results-100x30")
        _ = app.handle(.resize(width: 80, height: 24))
        assertSnapshot(app.render(), "search-results-80x24")
        _ = app.handle(.resize(width: 100, height: 30))
        XCTAssertTrue(app.breadcrumb.hasSuffix("search question"), app.breadcrumb)
        XCTAssertFalse(results.line(3).trimmingCharacters(in: .whitespaces).isEmpty, TUIFixture.stable(results))
        let exchange = try TUIFixture.press(app, "<Enter>")
        XCTAssertTrue(exchange.text.lowercased().contains("question"))
    }
}
