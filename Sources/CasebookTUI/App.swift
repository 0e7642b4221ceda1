import CasebookCases
import CasebookIO
import CasebookQueries
import CasebookStore
import Foundation

/// The TUI without a terminal: keys in, a `Screen` out.
///
/// A stack of sheets (Enter pushes, q/Esc pops), modes for prompts, the note
/// editor and menus, and the status line. The terminal driver and the headless
/// runner both feed it keys and draw what `render` returns, so every screen a
/// person sees can be scripted and compared in a test.
public final class App {
    private let context: SheetContext
    private let caseFilePath: String
    private var stack: [Sheet] = []
    public private(set) var size: (width: Int, height: Int)
    private var message: String?
    private var lastSearch: String?

    private enum Mode {
        case normal
        case prompt(LinePrompt)
        case editor(NoteEditor, Target, noteID: Int64?)
        case menu(Menu)
    }
    private var mode: Mode = .normal

    /// Runs a casebook command line (`case list`) and returns its output; nil when not available.
    private let runVerb: ((String) -> String)?
    /// Writes an evidence bundle of a case or cluster (the CLI's export) and says where; run
    /// as background work. Nil where exporting is not offered.
    private let export: (@Sendable (Target) throws -> String)?

    /// The full-text index being built, if it is.
    private var indexing: JobProgress?

    /// The cursor position the terminal should show (the editor's), if any.
    public private(set) var cursor: (row: Int, column: Int)?

    public init(database: Database, path: String, actor: String, readOnly: Bool, work: BackgroundWork,
                size: (width: Int, height: Int), runVerb: ((String) -> String)? = nil,
                export: (@Sendable (Target) throws -> String)? = nil) throws {
        context = try SheetContext(database: database, actor: actor, readOnly: readOnly, work: work)
        caseFilePath = path
        self.size = size
        self.runVerb = runVerb
        self.export = export
        stack = [try Sheets.clusters(context)]
        work.deliver()
    }

    /// The sheet on top of the stack.
    var topSheet: Sheet { stack[stack.count - 1] }

    /// The breadcrumb: `clusters › 4242 › acct_17…`.
    public var breadcrumb: String { stack.map(\.crumb).joined(separator: " › ") }

    // MARK: - Keys

    /// Handles one key; false when the app should quit.
    public func handle(_ key: Key) -> Bool {
        if case let .resize(width, height) = key {
            size = (max(20, width), max(6, height))
            return true
        }
        message = nil
        // Finished background work shows on the screen drawn after this key.
        defer { context.work.deliver() }
        do {
            switch mode {
            case .normal: return try handleNormal(key)
            case var .prompt(prompt):
                if key == .escape { mode = .normal; return true }
                if key == .enter { mode = .normal; try submit(prompt); return true }
                _ = prompt.apply(key)
                mode = .prompt(prompt)
            case .editor(var editor, let target, let noteID):
                switch key {
                case .escape: mode = .normal; message = "note discarded"
                case .control("s"): mode = .normal; try save(editor.text, on: target, noteID: noteID)
                default:
                    _ = editor.apply(key)
                    mode = .editor(editor, target, noteID: noteID)
                }
            case var .menu(menu):
                switch key {
                case .escape, .character("q"): mode = .normal
                case .down, .character("j"): menu.selected = min(menu.items.count - 1, menu.selected + 1); mode = .menu(menu)
                case .up, .character("k"): menu.selected = max(0, menu.selected - 1); mode = .menu(menu)
                case .enter:
                    mode = .normal
                    apply(try menu.choose(menu.selected))
                default: break
                }
            }
        } catch {
            mode = .normal
            message = describe(error)
        }
        return true
    }

    private func handleNormal(_ key: Key) throws -> Bool {
        guard let name = Command.keymap[key] else {
            message = "\(key) does nothing here (? lists the keys)"
            return true
        }
        let sheet = stack[stack.count - 1]
        let action = try sheet.handle(name)
        if case .unhandled = action {} else {
            apply(action)
            return true
        }
        switch name {
        case .back:
            if stack.count == 1 { return false }
            stack.removeLast()
            try stack.last?.reload()
        case .quit: return false
        case .help: stack.append(Sheets.help())
        case .refresh: try sheet.reload()
        case .search: mode = .prompt(LinePrompt(.search, label: "search: "))
        case .searchNext, .searchPrevious:
            guard let lastSearch else { message = "no search yet (/ searches)"; break }
            if try !sheet.search(lastSearch, forward: name == .searchNext) { message = "no more matches for \"\(oneLine(lastSearch))\"" }
        case .filter: mode = .prompt(LinePrompt(.filter, label: "keep rows containing (empty: all): "))
        case .cases: stack.append(try Sheets.cases(context))
        case .jump: mode = .prompt(LinePrompt(.jump, label: "open (account id, cluster:ID, case:ID, exchange:ID): "))
        case .fullText: try offerFullText()
        case .note:
            guard let target = try annotationTarget() else { break }
            mode = .editor(NoteEditor(title: "note on \(target)"), target, noteID: nil)
        case .tag:
            guard let target = try annotationTarget() else { break }
            mode = .prompt(LinePrompt(.tag, label: "tag \(target) (Tab completes): ", completions: try context.caseBook.tagsInUse(limit: 200)))
        case .status: try chooseStatus()
        case .openCase: try openCase()
        case .mark:
            guard let account = selectedAccount() else { message = "select an account to mark"; break }
            context.markedAccount = account
            message = "marked \(oneLine(account)); w explains its link to another account, p compares their prompts"
        case .whyLinked, .prompts:
            guard let (first, second) = accountPair() else { break }
            stack.append(name == .whyLinked ? try Sheets.whyLinked(context, first, second) : try Sheets.prompts(context, first, second))
        case .export:
            guard let export else { message = "export is not available here"; break }
            guard let target = sheet.target ?? selectedCluster(), target.kind == .case || target.kind == .cluster else {
                message = "open a case or cluster to export it"
                break
            }
            context.work.submit("exporting \(target)", job: { _ in try export(target) }) { [weak self] result in
                switch result {
                case let .success(text): self?.message = text
                case let .failure(error): self?.message = "export failed: \(self?.describe(error) ?? "")"
                }
            }
            message = "exporting \(target) in the background"
        case .verb:
            guard runVerb != nil else { message = "commands cannot run from here"; break }
            mode = .prompt(LinePrompt(.verb, label: ":"))
        case .cancel:
            context.work.cancelAll()
            indexing?.stop()
            message = "cancelled"
        case .evidence: message = "e lists a cluster's links: open a cluster first"
        default: message = "\(key) does nothing on this sheet"
        }
        return true
    }

    private func apply(_ action: SheetAction) {
        switch action {
        case .handled, .unhandled: break
        case let .push(sheet): stack.append(sheet)
        case let .message(text): message = text
        }
    }

    private func submit(_ prompt: LinePrompt) throws {
        let value = prompt.value
        switch prompt.purpose {
        case .search:
            guard !value.isEmpty else { return }
            lastSearch = value
            if try !stack[stack.count - 1].search(value, forward: true) { message = "no match for \"\(oneLine(value))\"" }
        case .filter:
            if try !stack[stack.count - 1].filter(value.isEmpty ? nil : value) { message = "this sheet cannot be filtered; / searches it" }
        case .tag:
            guard !value.isEmpty, let target = try annotationTarget() else { return }
            try context.caseBook.addTag(value, to: target)
            message = "tagged \(target) \(oneLine(value))"
            try stack[stack.count - 1].reload()
        case .caseTitle:
            guard !value.isEmpty, let cluster = selectedCluster() else { return }
            let id = try context.caseBook.create(title: value, clusters: [Int64(cluster.id) ?? 0])
            message = "opened case \(id) for cluster \(cluster.id)"
            try stack[stack.count - 1].reload()
        case .verb:
            guard let runVerb, !value.isEmpty else { return }
            let output = runVerb(value)
            stack.append(DocumentSheet(crumb: ":" + DisplayWidth.truncate(oneLine(value), to: 14), paragraphs: Sheets.text(output, indent: 0)))
            try stack.dropLast().last?.reload()
        case .fullText:
            guard !value.isEmpty else { return }
            stack.append(try Sheets.promptSearch(context, match: value))
        case .jump:
            guard !value.isEmpty else { return }
            stack.append(try Sheets.open(context, value))
        case .confirmIndex:
            guard value.lowercased().hasPrefix("y") else { message = "no index built"; return }
            buildIndex()
        }
    }

    // MARK: - Annotating

    /// What a note or tag is about: the selected cluster or account in a list, else the sheet's own subject.
    private func annotationTarget() throws -> Target? {
        guard !context.readOnly else {
            message = "the case file is open read-only: notes and tags cannot be saved"
            return nil
        }
        if let cluster = selectedCluster() { return cluster }
        if let target = stack.last?.target { return target }
        message = "nothing to annotate here: open a cluster, account, exchange or case"
        return nil
    }

    private func save(_ text: String, on target: Target, noteID: Int64?) throws {
        guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { message = "empty note not saved"; return }
        if let noteID {
            let version = try context.caseBook.editNote(noteID, text)
            message = "note \(noteID) saved as version \(version)"
        } else {
            let id = try context.caseBook.addNote(to: target, text)
            message = "note \(id) saved on \(target)"
        }
        try stack[stack.count - 1].reload()
    }

    private func chooseStatus() throws {
        guard !context.readOnly else { message = "the case file is open read-only"; return }
        guard let target = stack.last?.target, target.kind == .case, let id = Int64(target.id) else {
            message = "open a case to set its status (C lists them)"
            return
        }
        let statuses = CaseStatus.allCases
        let current = try context.caseBook.detail(id).summary.status
        mode = .menu(Menu(title: "status of case \(id)", items: statuses.map(\.rawValue),
                          selected: statuses.firstIndex(of: current) ?? 0) { [context] index in
            try context.caseBook.setStatus(id, statuses[index])
            try self.stack[self.stack.count - 1].reload()
            return .message("case \(id) is now \(statuses[index].rawValue)")
        })
    }

    private func openCase() throws {
        guard !context.readOnly else { message = "the case file is open read-only"; return }
        guard let cluster = selectedCluster() else { message = "select or open a cluster to open a case for it"; return }
        let open = try context.caseBook.list().filter { $0.status != .dismissed }
        let items = ["new case…"] + open.map { "attach to case \($0.caseID): \(oneLine($0.title))" }
        mode = .menu(Menu(title: "cluster \(cluster.id)", items: items) { [context] index in
            if index == 0 {
                self.mode = .prompt(LinePrompt(.caseTitle, label: "title of the new case: "))
                return .handled
            }
            let caseID = open[index - 1].caseID
            try context.caseBook.attach(caseID, clusters: [Int64(cluster.id) ?? 0])
            try self.stack[self.stack.count - 1].reload()
            return .message("cluster \(cluster.id) attached to case \(caseID)")
        })
    }

    // MARK: - Selections

    /// The cluster a clusters list has selected, or the cluster sheet's own.
    private func selectedCluster() -> Target? {
        guard let sheet = stack.last as? TableSheet else { return nil }
        if sheet is ClusterSheet { return sheet.target }
        if sheet.crumb == "clusters", let row = sheet.table.selected { return Target(.cluster, row.id) }
        return nil
    }

    private func selectedAccount() -> String? {
        if let sheet = stack.last as? ClusterSheet { return sheet.table.selected?.id }
        if let sheet = stack.last as? AccountSheet { return sheet.target?.id }
        return nil
    }

    /// The two accounts of a why-linked sheet; else the marked account and the selected one (or the
    /// cluster's first member when none is marked).
    private func accountPair() -> (String, String)? {
        if let pair = (stack.last as? DocumentSheet)?.accounts { return pair }
        guard let selected = selectedAccount() else {
            message = "select an account in a cluster (m marks one, w or p on another)"
            return nil
        }
        if let marked = context.markedAccount, marked != selected { return (marked, selected) }
        if let sheet = stack.last as? ClusterSheet, let first = sheet.table.rows.first?.id, first != selected { return (first, selected) }
        message = "mark an account with m, then press this on another"
        return nil
    }

    // MARK: - Full-text search

    private func offerFullText() throws {
        let state = try PromptIndex.state(context.database)
        if indexing != nil { message = "the full-text index is being built"; return }
        if state.indexedThrough < state.lastExchange && state.missing > state.lastExchange / 10 {
            // Measured on the campaign preset (BENCHMARKS.md): about 29,000 prompts a second, 150 bytes each.
            let seconds = max(1, Int(state.missing / 29_000))
            let megabytes = max(1, Int(state.missing * 150 / 1_000_000))
            let what = state.indexedThrough == 0 ? "no full-text index yet" : "the full-text index lacks \(grouped(Int(state.missing))) exchanges"
            mode = .prompt(LinePrompt(.confirmIndex, label: "\(what): index \(grouped(Int(state.missing))) exchanges now (about \(seconds) s and \(grouped(megabytes)) MB; Ctrl-G cancels)? y/n "))
            return
        }
        if !state.isComplete { message = "the index lacks the \(grouped(Int(state.missing))) newest exchanges: casebook index adds them" }
        mode = .prompt(LinePrompt(.fullText, label: "full-text search of prompts (FTS5 syntax): "))
    }

    private func buildIndex() {
        let path = caseFilePath
        let progress = JobProgress()
        indexing = progress
        context.work.submit("building the full-text index", job: { _ in
            // Writing needs a connection of its own: the background one is read-only.
            let writer = try CaseFile.open(path, access: .write)
            return try PromptIndex.build(writer) { done, total in progress.report(done: done, total: total) }
        }) { [weak self] result in
            self?.indexing = nil
            switch result {
            case let .success(state) where state.isComplete: self?.message = "full-text index built: F searches prompts"
            case .success: self?.message = "indexing stopped; what was indexed is kept (F offers the rest)"
            case let .failure(error): self?.message = "index not built: \(self?.describe(error) ?? "")"
            }
        }
        message = "building the full-text index in the background (Ctrl-G cancels)"
    }

    private func describe(_ error: Error) -> String {
        if let error = error as? CategorizedError { return error.description }
        if let error = error as? StoreError, error.code & 0xff == 8 { return "the case file is read-only" }
        return "\(error)"
    }

    // MARK: - Drawing

    /// The screen as it is now: title bar, the top sheet, status line, key hints or prompt.
    public func render() -> Screen {
        var screen = Screen(width: size.width, height: size.height)
        cursor = nil
        screen.clear(row: 0, style: Style(.title, bold: true))
        let name = PathText.lastComponent(caseFilePath)
        let right = " \(oneLine(name)) "
        let left = " casebook · " + DisplayWidth.truncate(breadcrumb, to: max(10, size.width - DisplayWidth.of(right) - 14))
        screen.put(left, row: 0, column: 0, style: Style(.title, bold: true))
        screen.put(right, row: 0, column: max(0, size.width - DisplayWidth.of(right)), style: Style(.title))
        let body = size.height - 3
        stack[stack.count - 1].draw(&screen, top: 1, height: body)

        var status = stack[stack.count - 1].status
        let running = context.work.running
        if !running.isEmpty { status += " · " + running[0] + (indexing.map { " " + $0.percent } ?? "") + "… (Ctrl-G cancels)" }
        screen.clear(row: size.height - 2, style: Style(.status))
        screen.put(" " + status, row: size.height - 2, column: 0, style: Style(.status))
        if let message {
            let text = oneLine(message) + " "
            screen.put(text, row: size.height - 2, column: max(0, size.width - DisplayWidth.of(text)), style: Style(.status, bold: true))
        }
        drawBottom(&screen)
        return screen
    }

    private func drawBottom(_ screen: inout Screen) {
        let row = size.height - 1
        screen.clear(row: row)
        switch mode {
        case .normal:
            screen.put(" Enter open  q back  / search  s sort  a note  t tag  C cases  ? help  Q quit", row: row, column: 0, style: Style(.dim))
        case let .prompt(prompt):
            let text = prompt.label + oneLine(prompt.value)
            let used = screen.put(DisplayWidth.truncate(text, to: size.width - 1), row: row, column: 0, style: Style(bold: true))
            cursor = (row, min(size.width - 1, used))
            if let suggestion = prompt.suggestions.first {
                screen.put("  Tab: " + oneLine(suggestion), row: row, column: used + 1, style: Style(.dim))
            }
        case .editor(var editor, let target, let noteID):
            let height = max(4, size.height / 2)
            cursor = editor.draw(&screen, top: size.height - 1 - height, height: height)
            mode = .editor(editor, target, noteID: noteID)
            screen.put(" Ctrl-S save · Esc cancel · arrows move · Enter new line", row: row, column: 0, style: Style(.dim))
        case let .menu(menu):
            let top = max(1, size.height - 2 - menu.items.count - 1)
            screen.clear(row: top, style: Style(.title, bold: true))
            screen.put(" " + menu.title + " (Enter chooses, Esc cancels)", row: top, column: 0, style: Style(.title, bold: true))
            for (index, item) in menu.items.enumerated() where top + 1 + index < size.height - 1 {
                let style = index == menu.selected ? Style(.selected) : Style.normal
                screen.clear(row: top + 1 + index, style: style)
                screen.put("  " + item, row: top + 1 + index, column: 0, style: style)
            }
        }
    }
}
