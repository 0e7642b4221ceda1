import CasebookCases
import CasebookIO
import CasebookQueries
import CasebookStore

/// What every sheet can reach: the case file, the case book for annotations,
/// background work, and what the investigator carries between sheets.
public final class SheetContext {
    public let database: Database
    public let caseBook: CaseBook
    /// True when the case file could only be opened read-only: annotating then says so.
    public let readOnly: Bool
    public let work: BackgroundWork
    /// The latest link run, or nil before the first.
    public let run: Int64?
    /// An account marked with `m`, for "why linked" and side-by-side prompts.
    var markedAccount: String?

    public init(database: Database, actor: String, readOnly: Bool, work: BackgroundWork) throws {
        self.database = database
        caseBook = CaseBook(database: database, actor: actor)
        self.readOnly = readOnly
        self.work = work
        run = try BrowseQueries.latestRun(database)
    }
}

/// What a sheet did with a command.
enum SheetAction {
    case handled
    case unhandled
    case push(Sheet)
    case message(String)
}

/// One view on the stack: it draws itself in an area of the screen and
/// handles the commands that concern it; the app handles the rest.
protocol Sheet: AnyObject {
    /// This sheet's part of the breadcrumb (`clusters › 4242 › acct_17…`).
    var crumb: String { get }
    /// What a note or tag written here is about, if anything.
    var target: Target? { get }
    /// Position, sort and filter, for the status line.
    var status: String { get }
    func draw(_ screen: inout Screen, top: Int, height: Int)
    func handle(_ command: CommandName) throws -> SheetAction
    /// Moves to the next row containing `text`; false when there is none.
    func search(_ text: String, forward: Bool) throws -> Bool
    /// Keeps only rows containing `text` (nil: all). Sheets that cannot filter say so.
    func filter(_ text: String?) throws -> Bool
    /// Reloads after a change (a note, a tag, a status).
    func reload() throws
}

extension Sheet {
    func filter(_ text: String?) throws -> Bool { false }
    func reload() throws {}
}

/// Text from the case file made safe and flat for one line: line breaks shown as ↵,
/// tabs as spaces, every other control character escaped.
func oneLine(_ text: String) -> String {
    Printable.escaped(text.replacingOccurrences(of: "\r\n", with: "↵").replacingOccurrences(of: "\n", with: "↵")
        .replacingOccurrences(of: "\t", with: " "))
}

/// 1234567 as "1,234,567".
func grouped(_ value: Int) -> String { NumberText.grouped(value) }
