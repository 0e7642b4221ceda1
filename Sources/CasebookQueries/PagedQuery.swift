import CasebookStore

/// One column of a paged list.
public struct Column: Sendable, Equatable {
    public enum Alignment: Sendable { case left, right }

    public let title: String
    /// Display width the column asks for; the last column takes what is left.
    public let width: Int
    public let alignment: Alignment

    public init(_ title: String, width: Int, _ alignment: Alignment = .left) {
        self.title = title
        self.width = width
        self.alignment = alignment
    }
}

/// One row of a page: its keyset position, what it shows, and the id it opens.
public struct PageRow: Sendable, Equatable {
    /// Sort value and tie-breaker: where the next page starts.
    public let key: [SQLiteValue]
    public let cells: [String]
    /// What Enter opens (an account id, a cluster id, ...).
    public let id: String
}

/// A list over the case file read a page at a time, by keyset: each page starts
/// after the last row seen, through an index, so the thousandth page costs what
/// the first does (never OFFSET). Sorting picks one of the columns that have an
/// index behind them; a filter keeps rows whose text contains a string.
///
/// The SQL pieces are this module's literals; every value from a person (the
/// filter, the search text, ids) is a bound parameter.
public final class PagedQuery {
    /// A column the list can be sorted by, and the SQL that sorts it (never NULL).
    public struct Sort: Sendable {
        public let column: Int
        let expression: String
    }

    public let columns: [Column]
    public let sorts: [Sort]
    public private(set) var sortIndex: Int
    public private(set) var descending: Bool
    /// Rows kept only when their text contains this (case-insensitively).
    public private(set) var filter: String?

    private let database: Database
    private let cells: [String]
    private let id: String
    private let from: String
    private let parameters: [SQLiteValue]
    private let tiebreak: String
    private let searchable: String

    /// - Parameters:
    ///   - cells: SQL for each column's text.
    ///   - id: SQL for what a row opens.
    ///   - from: `FROM ... WHERE ...` with `?` for `parameters`.
    ///   - tiebreak: a unique integer expression that orders rows with the same sort value.
    ///   - searchable: SQL for the text a filter or search looks in.
    init(_ database: Database, columns: [Column], cells: [String], id: String, from: String, parameters: [SQLiteValue] = [],
         sorts: [Sort], tiebreak: String, searchable: String, descending: Bool = true) {
        self.database = database
        self.columns = columns
        self.cells = cells
        self.id = id
        self.from = from
        self.parameters = parameters
        self.sorts = sorts
        self.tiebreak = tiebreak
        self.searchable = searchable
        self.descending = descending
        sortIndex = 0
    }

    public var sortColumn: Int { sorts[sortIndex].column }

    /// Sorts by the next sortable column, wrapping around.
    public func nextSort() { sortIndex = (sortIndex + 1) % sorts.count }
    public func reverseSort() { descending.toggle() }
    public func setFilter(_ text: String?) { filter = text.flatMap { $0.isEmpty ? nil : $0 } }

    /// Up to `limit` rows after `key` (from the start when nil), or before it with `forward` false
    /// (returned in list order).
    public func page(after key: [SQLiteValue]?, forward: Bool = true, limit: Int) throws -> [PageRow] {
        var sql = select()
        var values = parameters + filterValues()
        let later = descending == forward ? "<" : ">"
        if let key {
            sql += keyCondition(later)
            values += keyValues(key)
        }
        sql += order(descending == forward) + " LIMIT ?"
        values.append(.integer(Int64(limit)))
        let rows = try database.prepare(sql).rows(values.map { $0 as SQLValue? }, row)
        return forward ? rows : rows.reversed()
    }

    /// The first row at or after `key` (exclusive) whose text contains `text`, searching forward or back.
    public func find(_ text: String, after key: [SQLiteValue]?, forward: Bool = true) throws -> PageRow? {
        var sql = select()
        var values = parameters + filterValues()
        sql += " AND instr(lower(\(searchable)), lower(?)) > 0"
        values.append(.text(text))
        if let key {
            sql += keyCondition(descending == forward ? "<" : ">")
            values += keyValues(key)
        }
        sql += order(descending == forward) + " LIMIT 1"
        return try database.prepare(sql).rows(values.map { $0 as SQLValue? }, row).first
    }

    /// A count to run on another connection (a big list takes a while): how many rows the
    /// list has, with its filter as it is now.
    public func countRequest() -> CountRequest {
        CountRequest(sql: "SELECT count(*) " + from + filterClause(), values: parameters + filterValues())
    }

    /// A count of the rows before the row with `key`: its position, after a jump.
    public func positionRequest(of key: [SQLiteValue]) -> CountRequest {
        CountRequest(sql: "SELECT count(*) " + from + filterClause() + keyCondition(descending ? ">" : "<"),
                     values: parameters + filterValues() + keyValues(key))
    }

    /// Rows after (`<` or `>`) a key. When the sort is the unique tie-breaker itself, one
    /// column is compared: what an FTS5 table needs to seek by rowid instead of reading every match.
    private func keyCondition(_ comparison: String) -> String {
        let sort = sorts[sortIndex].expression
        return sort == tiebreak ? " AND \(sort) \(comparison) ?" : " AND (\(sort), \(tiebreak)) \(comparison) (?, ?)"
    }

    private func keyValues(_ key: [SQLiteValue]) -> [SQLiteValue] {
        sorts[sortIndex].expression == tiebreak ? Array(key.prefix(1)) : key
    }

    private func order(_ descendingNow: Bool) -> String {
        let direction = descendingNow ? "DESC" : "ASC"
        let sort = sorts[sortIndex].expression
        return sort == tiebreak ? " ORDER BY \(sort) \(direction)" : " ORDER BY \(sort) \(direction), \(tiebreak) \(direction)"
    }

    private func select() -> String {
        "SELECT \(sorts[sortIndex].expression), \(tiebreak), \(id), " + cells.joined(separator: ", ") + " " + from + filterClause()
    }

    private func filterClause() -> String {
        filter == nil ? "" : " AND instr(lower(\(searchable)), lower(?)) > 0"
    }

    private func filterValues() -> [SQLiteValue] { filter.map { [.text($0)] } ?? [] }

    private func row(_ statement: Statement) -> PageRow {
        PageRow(key: [statement.value(0), statement.value(1)],
                cells: (0..<cells.count).map { statement.string(Int32(3 + $0)) ?? "" },
                id: statement.string(2) ?? "")
    }
}

/// A `SELECT count(*)` to run on any connection: SQL and bound values, nothing shared.
public struct CountRequest: Sendable {
    let sql: String
    let values: [SQLiteValue]

    public func run(on database: Database) throws -> Int {
        try database.prepare(sql).rows(values.map { $0 as SQLValue? }) { $0.int(0) }.first ?? 0
    }
}
