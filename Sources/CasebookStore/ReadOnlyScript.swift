import CSQLite
import Foundation

/// Runs SQL written by someone else (an analyst's script) against a case file it must not change.
///
/// Reading only is enforced by SQLite, in layers, never by looking at the SQL text:
/// the connection is opened read-only with `query_only` set; extension loading and
/// schema-writing are switched off; an authorizer refuses at compile time every action
/// that is not a read (writes, DDL, ATTACH, transactions, writing pragmas,
/// `load_extension`); and each compiled statement must pass `sqlite3_stmt_readonly`
/// (which catches what the authorizer has no code for, such as `VACUUM INTO`).
public final class ReadOnlyScript {
    private let database: Database
    private let guardRail = Guard()

    /// A result value as SQLite returned it.
    public typealias Row = [SQLiteValue]

    /// Receives each statement's columns, then its rows as they are produced (nothing is collected).
    public protocol Sink: AnyObject {
        func begin(statement: Int, columns: [String]) throws
        func row(_ values: Row) throws
        func end(statement: Int) throws
    }

    /// A parameter value from the command line, bound by name (`:name`, `@name`, `$name`),
    /// by number (`?3`), or in order to the plain `?` placeholders.
    public struct Parameter: Sendable {
        public enum Slot: Sendable, Equatable { case named(String), numbered(Int), next }
        public let slot: Slot
        public let value: SQLiteValue
        public init(slot: Slot, value: SQLiteValue) { self.slot = slot; self.value = value }
    }

    public enum Failure: CategorizedError, Sendable {
        case syntax(statement: Int, line: Int, message: String)
        case refused(statement: Int, line: Int, what: String)
        case unboundParameter(statement: Int, name: String)
        case unusedParameter(String)
        case timedOut(seconds: Double)
        case failed(statement: Int, line: Int, message: String)

        public var category: ErrorCategory { .usage }
        public var description: String {
            switch self {
            case let .syntax(statement, line, message):
                return "statement \(statement) (line \(line)): \(message)"
            case let .refused(statement, line, what):
                return "statement \(statement) (line \(line)) refused: \(what); `casebook sql` only reads"
            case let .unboundParameter(statement, name):
                return "statement \(statement) uses parameter \(name), which no --param gives"
            case let .unusedParameter(name):
                return "--param \(name) is not used by any statement"
            case let .timedOut(seconds):
                return "stopped by --timeout after \(seconds.formatted(.number.grouping(.never))) seconds"
            case let .failed(statement, line, message):
                return "statement \(statement) (line \(line)) failed: \(message)"
            }
        }
    }

    /// Opens `path` for reading only (also a case file in a read-only folder, and while a writer runs).
    public init(path: String) throws {
        database = try CaseFile.open(path, access: .read)
        let handle = database.handle
        _ = csqlite_db_config_flag(handle, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0)
        _ = csqlite_db_config_flag(handle, SQLITE_DBCONFIG_DEFENSIVE, 1)
        try database.execute("PRAGMA query_only = 1")
        sqlite3_set_authorizer(handle, { context, action, first, second, _, _ in
            let guardRail = Unmanaged<Guard>.fromOpaque(context!).takeUnretainedValue()
            return guardRail.authorize(action, first.map { String(cString: $0) }, second.map { String(cString: $0) })
        }, Unmanaged.passUnretained(guardRail).toOpaque())
        sqlite3_progress_handler(handle, 10_000, { context in
            Unmanaged<Guard>.fromOpaque(context!).takeUnretainedValue().pastDeadline() ? 1 : 0
        }, Unmanaged.passUnretained(guardRail).toOpaque())
    }

    /// Runs every statement of `sql` in order, feeding results to `sink`; stops at the first failure.
    /// Every statement is compiled, checked and bound before the first runs: a script with a
    /// refused statement, a syntax error or a parameter mistake runs none of it (a script's
    /// statements only read, so none depends on another having run).
    /// Statements that produce no columns (a `PRAGMA` with no result) are still checked and run.
    public func run(_ sql: String, parameters: [Parameter], timeout: Double?, sink: Sink) throws {
        guardRail.deadline = timeout.map { DispatchTime.now().uptimeNanoseconds + UInt64(max(0, $0) * 1e9) }
        guardRail.timeoutSeconds = timeout
        defer { guardRail.deadline = nil }
        var used = Set<Int>()
        var positional = parameters.indices.filter { parameters[$0].slot == .next }.makeIterator()
        let utf8 = Array(sql.utf8)
        var script: [(statement: Statement, number: Int, line: Int)] = []
        try utf8.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            try base.withMemoryRebound(to: CChar.self, capacity: buffer.count) { text in
                var offset = 0
                var number = 0
                while offset < buffer.count {
                    var compiled: OpaquePointer?
                    var tail: UnsafePointer<CChar>?
                    guardRail.reset()
                    let start = offset
                    let rc = sqlite3_prepare_v2(database.handle, text + start, Int32(buffer.count - start), &compiled, &tail)
                    guard rc == SQLITE_OK else {
                        sqlite3_finalize(compiled)
                        let at = sqlite3_error_offset(database.handle)
                        let line = Self.line(of: at >= 0 ? start + Int(at) : Self.firstToken(buffer, from: start), in: buffer)
                        if let refusal = guardRail.refusal { throw Failure.refused(statement: number + 1, line: line, what: refusal) }
                        throw Failure.syntax(statement: number + 1, line: line, message: String(cString: sqlite3_errmsg(database.handle)))
                    }
                    offset = max(tail.map { $0 - text } ?? buffer.count, start + 1)
                    guard let compiled else { continue }  // only whitespace or a comment
                    let statement = Statement(adopting: compiled, database: database)
                    number += 1
                    let firstLine = Self.line(of: Self.firstToken(buffer, from: start), in: buffer)
                    guard sqlite3_stmt_readonly(statement.handle) != 0 else {
                        throw Failure.refused(statement: number, line: firstLine, what: "it would change a database")
                    }
                    try bind(statement, number: number, parameters: parameters, positional: &positional, used: &used)
                    script.append((statement, number, firstLine))
                }
            }
        }
        if let unused = parameters.indices.first(where: { !used.contains($0) && parameters[$0].slot != .next }) {
            throw Failure.unusedParameter(Self.name(of: parameters[unused].slot))
        }
        if positional.next() != nil { throw Failure.unusedParameter("(more values than ? placeholders)") }
        for (statement, number, line) in script {
            guardRail.reset()
            try execute(statement, number: number, line: line, sink: sink)
        }
    }

    /// 1-based line of byte `offset`.
    private static func line(of offset: Int, in buffer: UnsafeBufferPointer<UInt8>) -> Int {
        1 + buffer[..<min(offset, buffer.count)].reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
    }

    /// Where the statement that begins at `start` has its first token: past blanks and
    /// comments. Only used to name a line in a message, never to judge the SQL.
    private static func firstToken(_ buffer: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        var i = start
        while i < buffer.count {
            let c = buffer[i]
            if c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D || c == 0x0C {
                i += 1
            } else if c == UInt8(ascii: "-"), i + 1 < buffer.count, buffer[i + 1] == UInt8(ascii: "-") {
                while i < buffer.count, buffer[i] != 0x0A { i += 1 }
            } else if c == UInt8(ascii: "/"), i + 1 < buffer.count, buffer[i + 1] == UInt8(ascii: "*") {
                i += 2
                while i + 1 < buffer.count, !(buffer[i] == UInt8(ascii: "*") && buffer[i + 1] == UInt8(ascii: "/")) { i += 1 }
                i += 2
            } else {
                break
            }
        }
        return min(i, buffer.count)
    }

    private func bind(_ statement: Statement, number: Int, parameters: [Parameter],
                      positional: inout IndexingIterator<[Int]>, used: inout Set<Int>) throws {
        let count = sqlite3_bind_parameter_count(statement.handle)
        guard count > 0 else { return }
        for index in 1...count {
            let name = sqlite3_bind_parameter_name(statement.handle, index).map { String(cString: $0) }
            let found: Int?
            if let name, name.count > 1 {
                let bare = String(name.dropFirst())
                if name.first == "?" {
                    found = parameters.firstIndex { $0.slot == .numbered(Int(bare) ?? -1) }
                } else {
                    found = parameters.firstIndex { $0.slot == .named(bare) }
                }
            } else {
                found = positional.next()
            }
            guard let found else { throw Failure.unboundParameter(statement: number, name: name ?? "?\(index)") }
            used.insert(found)
            parameters[found].value.bind(to: statement, at: index)
        }
    }

    private func execute(_ statement: Statement, number: Int, line: Int, sink: Sink) throws {
        let columns = (0..<statement.columnCount).map { String(cString: sqlite3_column_name(statement.handle, $0)) }
        if !columns.isEmpty { try sink.begin(statement: number, columns: columns) }
        while true {
            let rc = sqlite3_step(statement.handle)
            if rc == SQLITE_DONE { break }
            guard rc == SQLITE_ROW else {
                if rc & 0xff == SQLITE_INTERRUPT, let seconds = guardRail.timeoutSeconds { throw Failure.timedOut(seconds: seconds) }
                if let refusal = guardRail.refusal { throw Failure.refused(statement: number, line: line, what: refusal) }
                throw Failure.failed(statement: number, line: line, message: String(cString: sqlite3_errmsg(database.handle)))
            }
            try sink.row((0..<Int32(columns.count)).map { statement.value($0) })
        }
        if !columns.isEmpty { try sink.end(statement: number) }
    }

    static func name(of slot: Parameter.Slot) -> String {
        switch slot {
        case let .named(name): return name
        case let .numbered(number): return "?\(number)"
        case .next: return "?"
        }
    }
}

/// The authorizer and the clock, reached from SQLite's C callbacks through a context pointer.
private final class Guard {
    private(set) var refusal: String?
    var deadline: UInt64?
    var timeoutSeconds: Double?

    func pastDeadline() -> Bool {
        guard let deadline else { return false }
        return DispatchTime.now().uptimeNanoseconds >= deadline
    }

    /// Pragmas that only report; with an argument only those whose argument names what to report on.
    private static let reportingPragmas: Set<String> = [
        "application_id", "collation_list", "compile_options", "data_version", "database_list", "encoding",
        "foreign_keys", "freelist_count", "function_list", "journal_mode", "module_list", "page_count",
        "page_size", "pragma_list", "query_only", "schema_version", "table_list", "user_version",
        "foreign_key_check", "foreign_key_list", "index_info", "index_list", "index_xinfo",
        "integrity_check", "quick_check", "table_info", "table_xinfo",
    ]
    private static let pragmasWithSubject: Set<String> = [
        "foreign_key_check", "foreign_key_list", "index_info", "index_list", "index_xinfo",
        "integrity_check", "quick_check", "table_info", "table_xinfo", "table_list",
    ]

    func authorize(_ action: Int32, _ first: String?, _ second: String?) -> Int32 {
        switch action {
        case SQLITE_SELECT, SQLITE_READ, SQLITE_RECURSIVE:
            return SQLITE_OK
        case SQLITE_FUNCTION:
            let name = (second ?? "").lowercased()
            if name == "load_extension" { return deny("load_extension") }
            return SQLITE_OK
        case SQLITE_PRAGMA:
            let name = (first ?? "").lowercased()
            guard Self.reportingPragmas.contains(name) else { return deny("PRAGMA \(name)") }
            if second != nil, !Self.pragmasWithSubject.contains(name) { return deny("PRAGMA \(name) with a value (it would set it)") }
            return SQLITE_OK
        case let write where (write == SQLITE_INSERT || write == SQLITE_UPDATE || write == SQLITE_DELETE) && Self.isSchemaTable(first):
            // SQLite's own bookkeeping: CREATE and DROP announce their row in the schema table
            // first (their own action code, refused below, follows), and a virtual table
            // (FTS5, the pragma functions) declares its columns the same way when it is read.
            // A real write to the schema is still refused by the read-only connection and
            // by sqlite3_stmt_readonly.
            return SQLITE_OK
        case SQLITE_INSERT: return deny("INSERT into \(first ?? "a table")")
        case SQLITE_UPDATE: return deny("UPDATE of \(first ?? "a table")")
        case SQLITE_DELETE: return deny("DELETE from \(first ?? "a table")")
        case SQLITE_ATTACH: return deny("ATTACH")
        case SQLITE_DETACH: return deny("DETACH")
        case SQLITE_TRANSACTION, SQLITE_SAVEPOINT: return deny("transaction control")
        case SQLITE_ANALYZE: return deny("ANALYZE")
        case SQLITE_REINDEX: return deny("REINDEX")
        case SQLITE_ALTER_TABLE: return deny("ALTER TABLE")
        case SQLITE_DROP_TABLE, SQLITE_DROP_INDEX, SQLITE_DROP_TRIGGER, SQLITE_DROP_VIEW, SQLITE_DROP_VTABLE,
             SQLITE_DROP_TEMP_TABLE, SQLITE_DROP_TEMP_INDEX, SQLITE_DROP_TEMP_TRIGGER, SQLITE_DROP_TEMP_VIEW:
            return deny("DROP \(first ?? "")")
        case SQLITE_CREATE_INDEX, SQLITE_CREATE_TABLE, SQLITE_CREATE_TEMP_INDEX, SQLITE_CREATE_TEMP_TABLE,
             SQLITE_CREATE_TEMP_TRIGGER, SQLITE_CREATE_TEMP_VIEW, SQLITE_CREATE_TRIGGER, SQLITE_CREATE_VIEW, SQLITE_CREATE_VTABLE:
            return deny("CREATE \(first ?? "")")
        default:
            return deny("an action that is not a read (authorizer code \(action))")
        }
    }

    /// Records the first reason: compiling stops at the first refusal.
    private func deny(_ what: String) -> Int32 {
        if refusal == nil { refusal = what }
        return SQLITE_DENY
    }

    func reset() { refusal = nil }

    private static func isSchemaTable(_ name: String?) -> Bool {
        guard let name = name?.lowercased() else { return false }
        return name == "sqlite_master" || name == "sqlite_temp_master" || name == "sqlite_schema" || name == "sqlite_temp_schema"
    }
}
