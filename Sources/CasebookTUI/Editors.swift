import CasebookIO
/// A multi-line text editor for notes: a list of lines of characters (graphemes,
/// so UTF-8 and wide characters move as one), a cursor, and a scroll.
struct NoteEditor {
    let title: String
    private(set) var lines: [[Character]]
    private(set) var row = 0
    private(set) var column = 0
    private var scroll = 0

    init(title: String, text: String = "") {
        self.title = title
        lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { Array($0) }
        if lines.isEmpty { lines = [[]] }
        row = lines.count - 1
        column = lines[row].count
    }

    var text: String { lines.map { String($0) }.joined(separator: "\n") }

    /// Applies an editing key; false when the key is not an editing key.
    mutating func apply(_ key: Key) -> Bool {
        switch key {
        case let .character(c):
            lines[row].insert(c, at: column)
            column += 1
        case .enter:
            let rest = Array(lines[row][column...])
            lines[row].removeSubrange(column...)
            lines.insert(rest, at: row + 1)
            row += 1
            column = 0
        case .tab:
            lines[row].insert(contentsOf: "    ", at: column)
            column += 4
        case .backspace:
            if column > 0 {
                lines[row].remove(at: column - 1)
                column -= 1
            } else if row > 0 {
                column = lines[row - 1].count
                lines[row - 1] += lines[row]
                lines.remove(at: row)
                row -= 1
            }
        case .delete:
            if column < lines[row].count {
                lines[row].remove(at: column)
            } else if row + 1 < lines.count {
                lines[row] += lines[row + 1]
                lines.remove(at: row + 1)
            }
        case .left:
            if column > 0 { column -= 1 } else if row > 0 { row -= 1; column = lines[row].count }
        case .right:
            if column < lines[row].count { column += 1 } else if row + 1 < lines.count { row += 1; column = 0 }
        case .up:
            if row > 0 { row -= 1; column = min(column, lines[row].count) }
        case .down:
            if row + 1 < lines.count { row += 1; column = min(column, lines[row].count) }
        case .home, .control("a"): column = 0
        case .end, .control("e"): column = lines[row].count
        default: return false
        }
        return true
    }

    /// Draws the editor as a box over the lower part of the screen; where the cursor is.
    mutating func draw(_ screen: inout Screen, top: Int, height: Int) -> (row: Int, column: Int) {
        screen.clear(row: top, style: Style(.title, bold: true))
        screen.put(" \(title) — Ctrl-S saves, Esc cancels", row: top, column: 0, style: Style(.title, bold: true))
        let visible = max(1, height - 1)
        if row < scroll { scroll = row }
        if row >= scroll + visible { scroll = row - visible + 1 }
        var cursor = (row: top + 1, column: 0)
        for line in 0..<visible {
            let y = top + 1 + line
            screen.clear(row: y)
            let index = scroll + line
            guard index < lines.count else { continue }
            // Long lines scroll horizontally around the cursor.
            let characters = lines[index]
            var start = 0
            if index == row {
                while DisplayWidth.of(String(characters[start..<column])) > screen.width - 2 { start += 1 }
                cursor = (y, DisplayWidth.of(String(characters[start..<column])))
            }
            screen.put(oneLine(String(characters[start...])), row: y, column: 0)
        }
        screen.paint(row: cursor.row, column: cursor.column, count: 1, style: Style(.selected))
        return cursor
    }
}

/// A one-line prompt at the bottom of the screen (search, filter, tag, title, command),
/// with completion from a list when it has one.
struct LinePrompt {
    enum Purpose { case search, filter, tag, caseTitle, verb, fullText, confirmIndex, jump }

    let purpose: Purpose
    let label: String
    var text: [Character] = []
    /// Tab completes to the first of these starting with the text.
    var completions: [String] = []

    init(_ purpose: Purpose, label: String, completions: [String] = []) {
        self.purpose = purpose
        self.label = label
        self.completions = completions
    }

    var value: String { String(text) }

    mutating func apply(_ key: Key) -> Bool {
        switch key {
        case let .character(c): text.append(c)
        case .backspace: if !text.isEmpty { text.removeLast() }
        case .tab:
            if let match = completions.first(where: { $0.hasPrefix(value) && $0 != value }) { text = Array(match) }
        default: return false
        }
        return true
    }

    /// The completions on offer for what is typed so far.
    var suggestions: [String] { completions.filter { $0.hasPrefix(value) && $0 != value } }
}

/// A short list to pick from (a case status, attach to which case).
struct Menu {
    let title: String
    let items: [String]
    var selected = 0
    let choose: (Int) throws -> SheetAction
}
