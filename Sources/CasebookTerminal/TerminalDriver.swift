import CNCursesW
import CasebookTUI
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The only code that talks to the terminal: keys from ncurses into the app,
/// the app's `Screen` onto the terminal. Colours when the terminal has them and
/// `NO_COLOR` is unset, bold and reverse otherwise. The terminal is restored on
/// exit, on a fatal signal and on a crash.
@MainActor
public enum TerminalDriver {
    /// Runs the app until it quits. Background work is delivered between keys.
    public static func run(_ app: App, work: BackgroundWork) {
        start()
        defer { stop() }
        _ = app.handle(.resize(width: Int(cncurses_cols()), height: Int(cncurses_lines())))
        draw(app.render(), cursor: app.cursor)
        while true {
            var character: wint_t = 0
            let kind = get_wch(&character)
            if kind == ERR {
                // No key within the timeout: deliver finished background work.
                if work.deliver() { draw(app.render(), cursor: app.cursor) } else if !work.running.isEmpty { draw(app.render(), cursor: app.cursor) }
                continue
            }
            guard let key = translate(kind: kind, code: character) else { continue }
            if !app.handle(key) { return }
            draw(app.render(), cursor: app.cursor)
        }
    }

    // MARK: - Setup

    private static func start() {
        if setlocale(LC_ALL, "") == nil || !String(cString: nl_langinfo(nl_item(CODESET))).uppercased().contains("UTF") {
            setlocale(LC_ALL, "C.UTF-8")
        }
        saveTerminalState()
        installCrashHandlers()
        initscr()
        raw()
        noecho()
        nonl()
        keypad(cncurses_stdscr(), true)
        set_escdelay(25)
        timeout(100)
        curs_set(0)
        let noColor = ProcessInfo.processInfo.environment["NO_COLOR"].map { !$0.isEmpty } ?? false
        colors = has_colors() && !noColor
        if colors {
            start_color()
            use_default_colors()
            for (pair, colours) in palette.enumerated() { init_pair(Int16(pair + 1), colours.0, colours.1) }
        }
    }

    private static func stop() {
        curs_set(1)
        endwin()
    }

    nonisolated(unsafe) private static var colors = false

    /// Foreground and background per role, in `Style.Role` order after `.normal`.
    private static let palette: [(Int16, Int16)] = [
        (Int16(COLOR_BLACK), Int16(COLOR_CYAN)),   // title
        (Int16(COLOR_BLACK), Int16(COLOR_WHITE)),  // status
        (Int16(COLOR_YELLOW), -1),                 // header
        (Int16(COLOR_BLACK), Int16(COLOR_YELLOW)), // selected
        (Int16(COLOR_WHITE), -1),                  // dim
        (Int16(COLOR_CYAN), -1),                   // accent
        (Int16(COLOR_RED), -1),                    // warning
        (Int16(COLOR_GREEN), -1),                  // highlight
    ]

    private static func attributes(_ style: Style) -> attr_t {
        var value: attr_t = style.bold ? cncurses_attr_bold() : 0
        let roles: [Style.Role] = [.title, .status, .header, .selected, .dim, .accent, .warning, .highlight]
        if colors, let index = roles.firstIndex(of: style.role) {
            value |= cncurses_color_pair(Int32(index + 1))
            if style.role == .dim { value |= cncurses_attr_dim() }
            return value
        }
        switch style.role {
        case .normal: break
        case .title, .status, .selected: value |= cncurses_attr_reverse()
        case .header: value |= cncurses_attr_bold() | cncurses_attr_underline()
        case .dim: value |= cncurses_attr_dim()
        case .accent, .warning: value |= cncurses_attr_bold()
        case .highlight: value |= cncurses_attr_underline()
        }
        return value
    }

    // MARK: - Drawing

    private static func draw(_ screen: Screen, cursor: (row: Int, column: Int)?) {
        let height = min(screen.height, Int(cncurses_lines()))
        let width = min(screen.width, Int(cncurses_cols()))
        for y in 0..<height {
            var x = 0
            let row = screen.rows[y]
            while x < width {
                // One run of cells with the same style at a time.
                let style = row[x].style
                var text: [wchar_t] = []
                let start = x
                while x < width, row[x].style == style {
                    let cell = row[x]
                    if cell.width > 0 {
                        if x + cell.width > width { text.append(wchar_t(32)); x += 1; continue }
                        text += cell.text.unicodeScalars.map { wchar_t(bitPattern: $0.value) }
                    }
                    x += max(1, cell.width)
                }
                cncurses_attrset(attributes(style))
                text.append(0)
                _ = text.withUnsafeBufferPointer { mvaddwstr(Int32(y), Int32(start), $0.baseAddress) }
            }
        }
        cncurses_attrset(0)
        if let cursor {
            curs_set(1)
            move(Int32(cursor.row), Int32(cursor.column))
        } else {
            curs_set(0)
        }
        refresh()
    }

    // MARK: - Keys

    private static func translate(kind: Int32, code: wint_t) -> Key? {
        if kind == KEY_CODE_YES {
            switch Int32(code) {
            case KEY_UP: return .up
            case KEY_DOWN: return .down
            case KEY_LEFT: return .left
            case KEY_RIGHT: return .right
            case KEY_PPAGE: return .pageUp
            case KEY_NPAGE: return .pageDown
            case KEY_HOME: return .home
            case KEY_END: return .end
            case KEY_BACKSPACE: return .backspace
            case KEY_DC: return .delete
            case KEY_BTAB: return .backTab
            case KEY_ENTER: return .enter
            case KEY_RESIZE: return .resize(width: Int(cncurses_cols()), height: Int(cncurses_lines()))
            default:
                for n in 1...12 where Int32(code) == cncurses_key_f(Int32(n)) { return .function(n) }
                return nil
            }
        }
        switch code {
        case 27: return .escape
        case 9: return .tab
        case 10, 13: return .enter
        case 127, 8: return .backspace
        case 1...26: return .control(Character(Unicode.Scalar(UInt8(code) + 96)))
        default:
            guard let scalar = Unicode.Scalar(UInt32(code)) else { return nil }
            return .character(Character(scalar))
        }
    }

    // MARK: - Restoring the terminal

    nonisolated(unsafe) private static var savedTerminal = termios()
    nonisolated(unsafe) private static var haveSavedTerminal = false

    private static func saveTerminalState() {
        haveSavedTerminal = tcgetattr(STDIN_FILENO, &savedTerminal) == 0
    }

    /// On a fatal signal: put the terminal back (settings, cursor, main screen) and die as the signal says.
    private static func installCrashHandlers() {
        for signal in [SIGTERM, SIGHUP, SIGQUIT, SIGSEGV, SIGBUS, SIGILL, SIGTRAP, SIGABRT, SIGFPE] {
            Glibc.signal(signal) { received in
                if TerminalDriver.haveSavedTerminal { tcsetattr(STDIN_FILENO, TCSANOW, &TerminalDriver.savedTerminal) }
                let reset: StaticString = "\u{1B}[0m\u{1B}[?25h\u{1B}[?1049l\r\n"
                _ = write(STDOUT_FILENO, reset.utf8Start, reset.utf8CodeUnitCount)
                Glibc.signal(received, SIG_DFL)
                raise(received)
            }
        }
    }
}
