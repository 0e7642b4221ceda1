import CasebookCases
import CasebookIO

/// Two accounts' sampled prompts side by side, the phrases they share (word
/// 3-grams, as the template signal compares them) highlighted: a template shows
/// as the same lit words on both sides with different fillers between them.
final class SideBySideSheet: Sheet {
    let crumb: String
    let target: Target? = nil
    private let titles: [String]
    /// Per side, per prompt: words and whether each is part of a shared phrase.
    private let marked: [[[(word: String, shared: Bool)]]]
    let sharedPhrases: Int
    private var scroll = 0
    private var lines: [[[Span]]] = [[], []]
    private var wrappedWidth = -1
    private var pageHeight = 20

    init(crumb: String, titles: [String], texts: [[String]]) {
        self.crumb = crumb
        self.titles = titles
        let words = texts.map { side in side.map { $0.split(whereSeparator: \.isWhitespace).map(String.init) } }
        let grams = words.map { side in Set(side.flatMap { Self.trigrams($0) }) }
        let shared = grams[0].intersection(grams[1])
        sharedPhrases = shared.count
        marked = words.map { side in
            side.map { prompt in
                var lit = Array(repeating: false, count: prompt.count)
                let lower = prompt.map { $0.lowercased() }
                if prompt.count >= 3 {
                    for start in 0...(prompt.count - 3) where shared.contains(lower[start..<(start + 3)].joined(separator: " ")) {
                        for i in start..<(start + 3) { lit[i] = true }
                    }
                }
                return zip(prompt, lit).map { ($0, $1) }
            }
        }
    }

    static func trigrams(_ words: [String]) -> [String] {
        guard words.count >= 3 else { return [] }
        let lower = words.map { $0.lowercased() }
        return (0...(words.count - 3)).map { lower[$0..<($0 + 3)].joined(separator: " ") }
    }

    var status: String { "\(sharedPhrases) shared phrase(s) · line \(scroll + 1) of \(max(lines[0].count, lines[1].count))" }

    func draw(_ screen: inout Screen, top: Int, height: Int) {
        pageHeight = max(1, height - 1)
        let half = max(10, (screen.width - 1) / 2)
        if wrappedWidth != screen.width {
            wrappedWidth = screen.width
            lines = marked.map { wrap($0, width: half) }
        }
        screen.clear(row: top, style: Style(.header, bold: true))
        for (side, title) in titles.enumerated() {
            screen.put(DisplayWidth.fit(oneLine(title), to: half), row: top, column: side * (half + 1), style: Style(.header, bold: true))
        }
        for line in 0..<pageHeight {
            let row = top + 1 + line
            screen.clear(row: row)
            for side in 0..<2 {
                guard scroll + line < lines[side].count else { continue }
                var x = side * (half + 1)
                for span in lines[side][scroll + line] { x += screen.put(span.text, row: row, column: x, limit: half, style: span.style) }
            }
            screen.put("│", row: row, column: half, style: Style(.dim))
        }
    }

    /// Each prompt as lines of at most `width` columns, a blank line between prompts.
    private func wrap(_ prompts: [[(word: String, shared: Bool)]], width: Int) -> [[Span]] {
        var out: [[Span]] = []
        for prompt in prompts {
            var line: [Span] = []
            var used = 0
            for (word, shared) in prompt {
                let text = Printable.escaped(word)
                let w = DisplayWidth.of(text)
                if used > 0 && used + 1 + w > width { out.append(line); line = []; used = 0 }
                if used > 0 { line.append(Span(" ")); used += 1 }
                line.append(Span(DisplayWidth.truncate(text, to: width), shared ? Style(.highlight, bold: true) : .normal))
                used += min(w, width)
            }
            out.append(line)
            out.append([])
        }
        return out
    }

    func handle(_ command: CommandName) throws -> SheetAction {
        let longest = max(lines[0].count, lines[1].count)
        switch command {
        case .down: scroll = min(max(0, longest - 1), scroll + 1)
        case .up: scroll = max(0, scroll - 1)
        case .pageDown: scroll = min(max(0, longest - 1), scroll + pageHeight)
        case .pageUp: scroll = max(0, scroll - pageHeight)
        case .top: scroll = 0
        case .bottom: scroll = max(0, longest - pageHeight)
        default: return .unhandled
        }
        return .handled
    }

    func search(_ text: String, forward: Bool) throws -> Bool {
        let needle = text.lowercased()
        let longest = max(lines[0].count, lines[1].count)
        let order = forward ? Array((scroll + 1)..<max(scroll + 1, longest)) : Array((0..<scroll).reversed())
        for index in order where lines.contains(where: { index < $0.count && $0[index].map(\.text).joined().lowercased().contains(needle) }) {
            scroll = index
            return true
        }
        return false
    }
}
