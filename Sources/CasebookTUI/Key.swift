/// A key press, as the terminal driver or a headless script delivers it.
public enum Key: Hashable, Sendable, CustomStringConvertible {
    case character(Character)
    case control(Character)
    case up, down, left, right, pageUp, pageDown, home, end
    case enter, escape, tab, backTab, backspace, delete
    case function(Int)
    /// The terminal changed size (rows, columns).
    case resize(width: Int, height: Int)

    public var description: String {
        switch self {
        case let .character(c): return c == " " ? "Space" : String(c)
        case let .control(c): return "Ctrl-" + String(c).uppercased()
        case .up: return "↑"
        case .down: return "↓"
        case .left: return "←"
        case .right: return "→"
        case .pageUp: return "PgUp"
        case .pageDown: return "PgDn"
        case .home: return "Home"
        case .end: return "End"
        case .enter: return "Enter"
        case .escape: return "Esc"
        case .tab: return "Tab"
        case .backTab: return "Shift-Tab"
        case .backspace: return "Backspace"
        case .delete: return "Del"
        case let .function(n): return "F\(n)"
        case let .resize(width, height): return "resize \(width)x\(height)"
        }
    }

    /// Parses a key script: characters stand for themselves; `<Enter>`, `<Esc>`, `<Up>`,
    /// `<Down>`, `<Left>`, `<Right>`, `<PgUp>`, `<PgDn>`, `<Home>`, `<End>`, `<Tab>`, `<BS>`,
    /// `<Del>`, `<Space>`, `<F1>`…`<F12>`, `<C-s>` (control), `<Resize 80x24>`, `<lt>` for `<`.
    public static func script(_ text: String) throws -> [Key] {
        var keys: [Key] = []
        var index = text.startIndex
        while index < text.endIndex {
            let c = text[index]
            guard c == "<", let close = text[index...].firstIndex(of: ">"), close > text.index(after: index) else {
                keys.append(c == "\n" ? .enter : .character(c))
                index = text.index(after: index)
                continue
            }
            let name = String(text[text.index(after: index)..<close])
            keys.append(try named(name))
            index = text.index(after: close)
        }
        return keys
    }

    private static func named(_ name: String) throws -> Key {
        let fixed: [String: Key] = [
            "enter": .enter, "cr": .enter, "esc": .escape, "up": .up, "down": .down, "left": .left, "right": .right,
            "pgup": .pageUp, "pgdn": .pageDown, "home": .home, "end": .end, "tab": .tab, "s-tab": .backTab,
            "bs": .backspace, "del": .delete, "space": .character(" "), "lt": .character("<"),
        ]
        let lower = name.lowercased()
        if let key = fixed[lower] { return key }
        if lower.hasPrefix("c-"), lower.count == 3 { return .control(lower.last!) }
        if lower.hasPrefix("f"), let n = Int(lower.dropFirst()), (1...12).contains(n) { return .function(n) }
        if lower.hasPrefix("resize ") {
            let size = lower.dropFirst("resize ".count).split(separator: "x").compactMap { Int($0) }
            if size.count == 2, size[0] > 0, size[1] > 0 { return .resize(width: size[0], height: size[1]) }
        }
        throw KeyScriptError(name: name)
    }
}

/// A key script naming a key that does not exist.
public struct KeyScriptError: Error, CustomStringConvertible {
    public let name: String
    public var description: String { "unknown key <\(name)> in the key script" }
}
