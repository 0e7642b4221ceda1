import CasebookIO
import CasebookQueries
import CasebookStore

/// A scrolling table over a `PagedQuery`: holds only a window of rows around the
/// cursor (a few pages), fetches the next page by keyset when the cursor leaves
/// it, and counts the rows in the background. Memory stays flat however long the
/// list; every move is one indexed query at most.
final class TableView {
    let query: PagedQuery
    private let work: BackgroundWork
    private(set) var rows: [PageRow] = []
    /// Index of the selected row in `rows`.
    private(set) var cursor = 0
    /// Index in `rows` of the first row on screen.
    private var scroll = 0
    /// Position of `rows[0]` in the whole list, when known.
    private var offset: Int? = 0
    private var atStart = true
    private var atEnd = false
    /// The number of rows, once the background count is in.
    private(set) var total: Int?
    private var countGeneration = 0
    /// Columns scrolled off to the left.
    private var firstColumn = 0
    /// Rows on screen, set when drawn; paging moves by this much.
    private var pageHeight = 20
    private static let pageSize = 100
    private static let windowLimit = 400

    init(query: PagedQuery, work: BackgroundWork) throws {
        self.query = query
        self.work = work
        try reload()
    }

    var selected: PageRow? { rows.indices.contains(cursor) ? rows[cursor] : nil }
    var isEmpty: Bool { rows.isEmpty }

    /// Back to the first row, counting again.
    func reload() throws {
        rows = try query.page(after: nil, limit: Self.pageSize)
        cursor = 0
        scroll = 0
        offset = 0
        atStart = true
        atEnd = rows.count < Self.pageSize
        total = atEnd ? rows.count : nil
        if !atEnd { startCount() }
    }

    /// Reads the window again from the case file (after a note, a tag, a new case),
    /// keeping the cursor on the same row.
    func refresh() throws {
        guard let key = selected?.key, let first = rows.first else { return try reload() }
        let before = try query.page(after: first.key, forward: false, limit: 1)
        let wanted = max(rows.count, Self.pageSize)
        let fresh = try query.page(after: before.last?.key, limit: wanted)
        rows = fresh
        cursor = fresh.firstIndex { $0.key == key } ?? max(0, min(cursor, fresh.count - 1))
        atStart = before.isEmpty
        if atStart { offset = 0 }
        atEnd = fresh.count < wanted
        if !atEnd || total != nil { startCount() }
    }

    private func startCount() {
        countGeneration += 1
        let generation = countGeneration
        let request = query.countRequest()
        work.submit("counting rows", job: { database in try request.run(on: database) }) { [weak self] result in
            guard let self, generation == self.countGeneration, case let .success(count) = result else { return }
            self.total = count
            if self.atEnd { self.offset = count - self.rows.count }
        }
    }

    // MARK: - Moving

    func move(by delta: Int) throws {
        guard !rows.isEmpty else { return }
        var target = cursor + delta
        if target >= rows.count && !atEnd { try extendForward(need: target - rows.count + 1); target = min(target, rows.count - 1) }
        if target < 0 && !atStart {
            let added = try extendBackward(need: -target)
            target += added
        }
        cursor = max(0, min(rows.count - 1, target))
        trimWindow()
    }

    func movePage(_ direction: Int) throws { try move(by: direction * max(1, pageHeight - 1)) }

    func toTop() throws {
        if atStart { cursor = 0; scroll = 0; return }
        try reload()
    }

    func toBottom() throws {
        if atEnd { cursor = rows.count - 1; return }
        rows = try query.page(after: nil, forward: false, limit: Self.pageSize)
        atEnd = true
        atStart = rows.count < Self.pageSize
        offset = atStart ? 0 : total.map { $0 - rows.count }
        cursor = max(0, rows.count - 1)
        scroll = max(0, rows.count - pageHeight)
    }

    /// Jumps to the next row containing `text`, loading the window around it.
    func find(_ text: String, forward: Bool) throws -> Bool {
        guard let found = try query.find(text, after: selected?.key, forward: forward) else { return false }
        if let index = rows.firstIndex(of: found) {
            cursor = index
            return true
        }
        let after = try query.page(after: found.key, limit: Self.pageSize)
        let before = try query.page(after: found.key, forward: false, limit: pageHeight)
        rows = before + [found] + after
        cursor = before.count
        scroll = max(0, cursor - pageHeight / 2)
        atStart = before.count < pageHeight
        atEnd = after.count < Self.pageSize
        offset = atStart ? 0 : nil
        if offset == nil { locate(found) }
        return true
    }

    /// Works out the absolute position of a row reached by a jump, in the background.
    private func locate(_ row: PageRow) {
        let request = query.positionRequest(of: row.key)
        work.submit("finding the position", job: { database in try request.run(on: database) }) { [weak self] result in
            guard let self, case let .success(before) = result, let index = self.rows.firstIndex(of: row) else { return }
            self.offset = before - index
        }
    }

    private func extendForward(need: Int) throws {
        guard let last = rows.last else { return }
        let page = try query.page(after: last.key, limit: max(Self.pageSize, need))
        rows += page
        if page.count < max(Self.pageSize, need) { atEnd = true }
    }

    /// Loads rows before the window; how many were added.
    private func extendBackward(need: Int) throws -> Int {
        guard let first = rows.first else { return 0 }
        let page = try query.page(after: first.key, forward: false, limit: max(Self.pageSize, need))
        rows = page + rows
        cursor += page.count
        scroll += page.count
        if page.count < max(Self.pageSize, need) { atStart = true; offset = 0 } else { offset = offset.map { $0 - page.count } }
        return page.count
    }

    /// Drops rows far from the cursor so the window never grows.
    private func trimWindow() {
        guard rows.count > Self.windowLimit else { return }
        let keepFrom = max(0, min(cursor - Self.windowLimit / 2, rows.count - Self.windowLimit))
        let keepTo = min(rows.count, keepFrom + Self.windowLimit)
        if keepTo < rows.count { rows.removeSubrange(keepTo...); atEnd = false }
        if keepFrom > 0 {
            rows.removeSubrange(0..<keepFrom)
            cursor -= keepFrom
            scroll = max(0, scroll - keepFrom)
            offset = offset.map { $0 + keepFrom }
            atStart = false
        }
    }

    func scrollColumns(_ delta: Int) { firstColumn = max(0, min(query.columns.count - 1, firstColumn + delta)) }

    func sortNext() throws { query.nextSort(); try reload() }
    func sortReverse() throws { query.reverseSort(); try reload() }
    func setFilter(_ text: String?) throws { query.setFilter(text); try reload() }

    // MARK: - Drawing

    /// "row 6 of 1,204", "row 6 of ~100+" while counting, plus sort and filter.
    var status: String {
        var parts: [String] = []
        if rows.isEmpty {
            parts.append("no rows")
        } else {
            let position = offset.map { grouped($0 + cursor + 1) } ?? "?"
            let of = total.map { grouped($0) } ?? "~\(grouped((offset ?? 0) + rows.count))+"
            parts.append("row \(position) of \(of)")
        }
        let sorted = query.columns[query.sortColumn].title
        parts.append("sort \(sorted) \(query.descending ? "↓" : "↑")")
        if let filter = query.filter { parts.append("filter \"\(oneLine(filter))\"") }
        return parts.joined(separator: " · ")
    }

    func draw(_ screen: inout Screen, top: Int, height: Int) {
        guard height > 1 else { return }
        pageHeight = height - 1
        let columns = Array(query.columns.enumerated()).dropFirst(firstColumn)
        // Header.
        screen.clear(row: top, style: Style(.header, bold: true))
        var x = 0
        for (index, column) in columns {
            let width = index == query.columns.count - 1 ? max(column.width, screen.width - x) : column.width
            var title = column.title
            if index == query.sortColumn { title += query.descending ? "↓" : "↑" }
            x += screen.put(DisplayWidth.fit(title, to: width, right: column.alignment == .right), row: top, column: x,
                            style: Style(.header, bold: true))
            x += 1
            if x >= screen.width { break }
        }
        // Rows: keep the cursor on screen.
        if cursor < scroll { scroll = cursor }
        if cursor >= scroll + pageHeight { scroll = cursor - pageHeight + 1 }
        for line in 0..<pageHeight {
            let row = top + 1 + line
            let index = scroll + line
            guard index < rows.count else { screen.clear(row: row); continue }
            let style = index == cursor ? Style(.selected) : Style.normal
            screen.clear(row: row, style: style)
            var x = 0
            for (column, spec) in columns {
                let width = column == query.columns.count - 1 ? max(spec.width, screen.width - x) : spec.width
                let cell = oneLine(rows[index].cells[column])
                x += screen.put(DisplayWidth.fit(cell, to: width, right: spec.alignment == .right), row: row, column: x, style: style)
                x += 1
                if x >= screen.width { break }
            }
        }
        if rows.isEmpty { screen.put("  (nothing here)", row: top + 1, column: 0, style: Style(.dim)) }
    }
}
