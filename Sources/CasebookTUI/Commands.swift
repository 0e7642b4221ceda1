/// Every command of the TUI. The keymap and the help screen are both made from
/// `Command.table`, so a key and its help cannot drift apart.
public enum CommandName: String, CaseIterable, Sendable {
    // Moving
    case up, down, pageUp, pageDown, top, bottom, left, right
    // Sheets
    case open, back, quit, help
    // Finding
    case search, searchNext, searchPrevious, filter, sort, reverseSort
    // Going places
    case cases, evidence, whyLinked, mark, prompts, fullText, jump
    // Annotating
    case note, tag, status, openCase
    // Other
    case export, verb, cancel, refresh
}

/// A command: its keys and the one line of help that says what it does.
public struct Command: Sendable {
    public let name: CommandName
    public let keys: [Key]
    public let help: String
    public let group: String

    /// The keymap, as data. Keys follow less, lnav and VisiData: arrows and j/k,
    /// PgUp/PgDn and Space/b, g/G, Enter, q/Esc back, Q quit, / search, ? help.
    public static let table: [Command] = [
        Command(name: .down, keys: [.down, .character("j")], help: "next row", group: "Moving"),
        Command(name: .up, keys: [.up, .character("k")], help: "previous row", group: "Moving"),
        Command(name: .pageDown, keys: [.pageDown, .character(" "), .control("f")], help: "next page", group: "Moving"),
        Command(name: .pageUp, keys: [.pageUp, .character("b"), .control("b")], help: "previous page", group: "Moving"),
        Command(name: .top, keys: [.home, .character("g")], help: "first row", group: "Moving"),
        Command(name: .bottom, keys: [.end, .character("G")], help: "last row", group: "Moving"),
        Command(name: .left, keys: [.left, .character("h")], help: "scroll left", group: "Moving"),
        Command(name: .right, keys: [.right, .character("l")], help: "scroll right", group: "Moving"),
        Command(name: .open, keys: [.enter], help: "open the selected row (drill down)", group: "Sheets"),
        Command(name: .back, keys: [.character("q"), .escape], help: "back to the previous sheet (quits from the first)", group: "Sheets"),
        Command(name: .quit, keys: [.character("Q"), .control("c")], help: "quit from anywhere", group: "Sheets"),
        Command(name: .help, keys: [.character("?"), .function(1)], help: "this help", group: "Sheets"),
        Command(name: .refresh, keys: [.control("l")], help: "reload the sheet from the case file", group: "Sheets"),
        Command(name: .search, keys: [.character("/")], help: "search this sheet", group: "Finding"),
        Command(name: .searchNext, keys: [.character("n")], help: "next match", group: "Finding"),
        Command(name: .searchPrevious, keys: [.character("N")], help: "previous match", group: "Finding"),
        Command(name: .filter, keys: [.character("|")], help: "keep only rows containing a text (empty: all)", group: "Finding"),
        Command(name: .sort, keys: [.character("s")], help: "sort by the next sortable column", group: "Finding"),
        Command(name: .reverseSort, keys: [.character("r")], help: "reverse the sort", group: "Finding"),
        Command(name: .fullText, keys: [.character("F")], help: "full-text search of prompts", group: "Finding"),
        Command(name: .cases, keys: [.character("C")], help: "the cases", group: "Going places"),
        Command(name: .jump, keys: [.character("@")], help: "open an account by id, or cluster:ID, case:ID, exchange:ID", group: "Going places"),
        Command(name: .evidence, keys: [.character("e")], help: "a cluster's links, strongest first", group: "Going places"),
        Command(name: .mark, keys: [.character("m")], help: "mark an account, to explain its link to another", group: "Going places"),
        Command(name: .whyLinked, keys: [.character("w")], help: "why the marked and selected accounts are linked", group: "Going places"),
        Command(name: .prompts, keys: [.character("p")], help: "two accounts' prompts side by side, shared phrases lit", group: "Going places"),
        Command(name: .note, keys: [.character("a")], help: "annotate: write a note (Ctrl-S saves, Esc cancels)", group: "Annotating"),
        Command(name: .tag, keys: [.character("t")], help: "tag (Tab completes existing tags)", group: "Annotating"),
        Command(name: .status, keys: [.character("S")], help: "set the case's status", group: "Annotating"),
        Command(name: .openCase, keys: [.character("o")], help: "open a case for this cluster, or attach it to one", group: "Annotating"),
        Command(name: .export, keys: [.character("x")], help: "export an evidence bundle", group: "Other"),
        Command(name: .verb, keys: [.character(":")], help: "run a casebook command (:case list, :audit verify)", group: "Other"),
        Command(name: .cancel, keys: [.control("g")], help: "cancel long work (counting, indexing)", group: "Other"),
    ]

    /// Key → command, built from the table.
    public static let keymap: [Key: CommandName] = {
        var map: [Key: CommandName] = [:]
        for command in table { for key in command.keys { map[key] = command.name } }
        return map
    }()
}
