import CasebookCases
import CasebookQueries

/// A sheet that is a table, with an optional block of lines above it (a
/// cluster's indicators and timeline, an account's profile).
class TableSheet: Sheet {
    let crumb: String
    let target: Target?
    let context: SheetContext
    let table: TableView
    /// What Enter on a row opens.
    private let opener: (PageRow) throws -> SheetAction
    /// The block above the table; rebuilt on reload.
    private let headerBuilder: () throws -> [Paragraph]
    private(set) var header: [Paragraph] = []

    init(crumb: String, target: Target? = nil, context: SheetContext, query: PagedQuery,
         header: @escaping () throws -> [Paragraph] = { [] }, open: @escaping (PageRow) throws -> SheetAction) throws {
        self.crumb = crumb
        self.target = target
        self.context = context
        table = try TableView(query: query, work: context.work)
        opener = open
        headerBuilder = header
        self.header = try header()
    }

    var status: String { table.status }

    func reload() throws {
        header = try headerBuilder()
        try table.refresh()
    }

    /// Lets a subclass replace the header when background work completes.
    func replaceHeader(_ paragraphs: [Paragraph]) { header = paragraphs }

    func draw(_ screen: inout Screen, top: Int, height: Int) {
        // The header takes at most half the area; each paragraph is one line, cut at the edge.
        let headerLines = min(header.count, max(0, height / 2))
        for line in 0..<headerLines {
            let row = top + line
            screen.clear(row: row)
            var x = header[line].indent
            for span in header[line].spans { x += screen.put(span.text, row: row, column: x, style: span.style) }
        }
        table.draw(&screen, top: top + headerLines, height: height - headerLines)
    }

    func handle(_ command: CommandName) throws -> SheetAction {
        switch command {
        case .down: try table.move(by: 1)
        case .up: try table.move(by: -1)
        case .pageDown: try table.movePage(1)
        case .pageUp: try table.movePage(-1)
        case .top: try table.toTop()
        case .bottom: try table.toBottom()
        case .left: table.scrollColumns(-1)
        case .right: table.scrollColumns(1)
        case .sort: try table.sortNext()
        case .reverseSort: try table.sortReverse()
        case .open:
            guard let row = table.selected else { return .message("nothing to open") }
            return try opener(row)
        default: return .unhandled
        }
        return .handled
    }

    func search(_ text: String, forward: Bool) throws -> Bool { try table.find(text, forward: forward) }

    func filter(_ text: String?) throws -> Bool {
        try table.setFilter(text)
        return true
    }
}
