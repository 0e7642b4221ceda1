import CasebookIO

/// How a cell is drawn: a role the terminal maps to a colour (or to bold and
/// reverse without colours), plus emphasis.
public struct Style: Hashable, Sendable {
    public enum Role: Sendable, Hashable {
        case normal, title, status, header, selected, dim, accent, warning, highlight
    }

    public var role: Role
    public var bold: Bool

    public init(_ role: Role = .normal, bold: Bool = false) {
        self.role = role
        self.bold = bold
    }

    public static let normal = Style()
}

/// One terminal cell: a grapheme and its display width (2 for wide characters;
/// the cell after a wide one has width 0 and no text).
public struct Cell: Hashable, Sendable {
    public var text: String
    public var width: Int
    public var style: Style

    public static let blank = Cell(text: " ", width: 1, style: .normal)
}

/// What the TUI draws: a grid of cells. The terminal driver copies it to the
/// screen; tests read it as text.
public struct Screen: Sendable, Equatable {
    public let width: Int
    public let height: Int
    public private(set) var rows: [[Cell]]

    public init(width: Int, height: Int) {
        self.width = width
        self.height = height
        rows = Array(repeating: Array(repeating: .blank, count: width), count: height)
    }

    /// Writes `text` at (`row`, `column`), at most `limit` columns wide; returns the
    /// columns used. Control characters are written escaped (`\u{1b}`), so nothing from
    /// the case file can reach the terminal as a command; a wide character that would
    /// straddle the edge is left out.
    @discardableResult
    public mutating func put(_ text: String, row: Int, column: Int, limit: Int? = nil, style: Style = .normal) -> Int {
        guard row >= 0, row < height, column < width else { return 0 }
        let end = min(width, column + (limit ?? width))
        var x = column
        for character in Printable.escaped(text) {
            let w = DisplayWidth.of(character)
            if w == 0 {
                // A combining mark or zero-width joiner belongs to the previous cell.
                if x > column, x - 1 < width { rows[row][x - 1].text.append(character) }
                continue
            }
            guard x + w <= end else { break }
            if x >= 0 {
                rows[row][x] = Cell(text: String(character), width: w, style: style)
                if w == 2 { rows[row][x + 1] = Cell(text: "", width: 0, style: style) }
            }
            x += w
        }
        return x - column
    }

    /// Paints `count` cells from `column` with `style`, keeping their text.
    public mutating func paint(row: Int, column: Int = 0, count: Int? = nil, style: Style) {
        guard row >= 0, row < height else { return }
        let end = min(width, column + (count ?? width))
        for x in max(0, column)..<max(max(0, column), end) { rows[row][x].style = style }
    }

    /// Fills a row with blanks in `style`.
    public mutating func clear(row: Int, style: Style = .normal) {
        guard row >= 0, row < height else { return }
        rows[row] = Array(repeating: Cell(text: " ", width: 1, style: style), count: width)
    }

    /// The screen as plain text, one line per row, trailing spaces kept: what snapshot tests compare.
    public var text: String {
        rows.map { $0.map(\.text).joined() }.joined(separator: "\n")
    }

    /// Row `index` as plain text.
    public func line(_ index: Int) -> String { rows[index].map(\.text).joined() }
}
