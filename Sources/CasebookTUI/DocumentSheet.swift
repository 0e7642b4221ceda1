import CasebookCases
import CasebookIO

/// A run of text in one style.
struct Span {
    var text: String
    var style: Style

    init(_ text: String, _ style: Style = .normal) {
        self.text = text
        self.style = style
    }
}

/// A paragraph of a document: spans wrapped to the screen width, optionally
/// something Enter opens.
struct Paragraph {
    var spans: [Span]
    var indent = 0
    var action: (() throws -> SheetAction)?

    init(_ spans: [Span], indent: Int = 0, action: (() throws -> SheetAction)? = nil) {
        self.spans = spans
        self.indent = indent
        self.action = action
    }

    init(_ text: String, _ style: Style = .normal, indent: Int = 0, action: (() throws -> SheetAction)? = nil) {
        self.init([Span(text, style)], indent: indent, action: action)
    }

    static var blank: Paragraph { Paragraph("") }
}

/// A scrollable document: an exchange, an explanation, help, a command's output.
/// Text from the case file arrives here escaped; it is wrapped at the width the
/// screen has now, so a resize re-wraps it.
final class DocumentSheet: Sheet {
    let crumb: String
    let target: Target?
    /// The two accounts a sheet is about (why they are linked, or not): p compares their prompts from it.
    let accounts: (String, String)?
    private var paragraphs: [Paragraph]
    private let build: (() throws -> [Paragraph])?
    private var cursor = 0
    private var scroll = 0
    private var wrapped: [(spans: [Span], paragraph: Int)] = []
    private var wrappedWidth = -1
    private var pageHeight = 20
    /// A paragraph to put the cursor on once the text is wrapped (a search before the first draw).
    private var pendingParagraph: Int?

    /// `build` makes the paragraphs, again on reload (after a note or tag).
    init(crumb: String, target: Target? = nil, accounts: (String, String)? = nil, build: @escaping () throws -> [Paragraph]) throws {
        self.crumb = crumb
        self.target = target
        self.accounts = accounts
        self.build = build
        paragraphs = try build()
    }

    init(crumb: String, paragraphs: [Paragraph]) {
        self.crumb = crumb
        target = nil
        accounts = nil
        build = nil
        self.paragraphs = paragraphs
    }

    func reload() throws {
        guard let build else { return }
        paragraphs = try build()
        wrappedWidth = -1
    }

    var status: String {
        wrapped.isEmpty ? "empty" : "line \(grouped(cursor + 1)) of \(grouped(wrapped.count))"
    }

    func draw(_ screen: inout Screen, top: Int, height: Int) {
        pageHeight = max(1, height)
        if wrappedWidth != screen.width { rewrap(width: screen.width) }
        if let paragraph = pendingParagraph {
            cursor = wrapped.firstIndex { $0.paragraph == paragraph } ?? cursor
            pendingParagraph = nil
        }
        cursor = min(cursor, max(0, wrapped.count - 1))
        if cursor < scroll { scroll = cursor }
        if cursor >= scroll + pageHeight { scroll = cursor - pageHeight + 1 }
        for line in 0..<pageHeight {
            let row = top + line
            let index = scroll + line
            screen.clear(row: row)
            guard index < wrapped.count else { continue }
            let selected = index == cursor
            var x = 0
            for span in wrapped[index].spans {
                let style = selected ? Style(.selected, bold: span.style.bold) : span.style
                x += screen.put(span.text, row: row, column: x, style: style)
            }
            if selected { screen.paint(row: row, style: Style(.selected)) }
        }
    }

    /// Splits paragraphs into screen lines at word boundaries.
    private func rewrap(width: Int) {
        wrappedWidth = width
        wrapped = []
        for (number, paragraph) in paragraphs.enumerated() {
            let available = max(10, width - paragraph.indent)
            let indent = Span(String(repeating: " ", count: paragraph.indent))
            var line: [Span] = [indent]
            var used = 0
            func flush() {
                wrapped.append((line, number))
                line = [indent]
                used = 0
            }
            if paragraph.spans.allSatisfy({ $0.text.isEmpty }) { flush(); continue }
            for span in paragraph.spans {
                for word in words(span.text) {
                    var piece = word
                    let w = DisplayWidth.of(piece)
                    if used + w > available && used > 0 {
                        flush()
                        if piece.first == " " { piece = String(piece.drop(while: { $0 == " " })) }
                    }
                    // A word longer than the line is cut into line-sized pieces.
                    while DisplayWidth.of(piece) > available {
                        var head = ""
                        var headWidth = 0
                        var rest = Substring(piece)
                        while let c = rest.first, headWidth + DisplayWidth.of(c) <= available - used {
                            head.append(c)
                            headWidth += DisplayWidth.of(c)
                            rest = rest.dropFirst()
                        }
                        line.append(Span(head, span.style))
                        flush()
                        piece = String(rest)
                    }
                    line.append(Span(piece, span.style))
                    used += DisplayWidth.of(piece)
                }
            }
            flush()
        }
    }

    /// Text in pieces that each start with their leading spaces.
    private func words(_ text: String) -> [String] {
        var pieces: [String] = []
        var current = ""
        var inWord = false
        for c in text {
            if c == " " && inWord {
                pieces.append(current)
                current = ""
                inWord = false
            }
            if c != " " { inWord = true }
            current.append(c)
        }
        if !current.isEmpty { pieces.append(current) }
        return pieces
    }

    func handle(_ command: CommandName) throws -> SheetAction {
        switch command {
        case .down: cursor = min(max(0, wrapped.count - 1), cursor + 1)
        case .up: cursor = max(0, cursor - 1)
        case .pageDown: cursor = min(max(0, wrapped.count - 1), cursor + pageHeight - 1)
        case .pageUp: cursor = max(0, cursor - pageHeight + 1)
        case .top: cursor = 0
        case .bottom: cursor = max(0, wrapped.count - 1)
        case .open:
            guard wrapped.indices.contains(cursor), let action = paragraphs[wrapped[cursor].paragraph].action else {
                return .message("nothing to open on this line")
            }
            return try action()
        default: return .unhandled
        }
        return .handled
    }

    func search(_ text: String, forward: Bool) throws -> Bool {
        let needle = text.lowercased()
        guard wrappedWidth >= 0 else {
            // Not drawn yet: search the paragraphs, and place the cursor when they are wrapped.
            let found = paragraphs.firstIndex { $0.spans.map(\.text).joined().lowercased().contains(needle) }
            pendingParagraph = found
            return found != nil
        }
        guard !wrapped.isEmpty else { return false }
        let order = forward ? Array((cursor + 1)..<wrapped.count) : Array((0..<cursor).reversed())
        for index in order where wrapped[index].spans.map(\.text).joined().lowercased().contains(needle) {
            cursor = index
            return true
        }
        return false
    }
}
