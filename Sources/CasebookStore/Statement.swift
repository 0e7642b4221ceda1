import CSQLite

/// A prepared statement, reused across rows: bind, step, reset.
///
/// Parameters are 1-based, as in SQLite. Text is bound with SQLITE_TRANSIENT
/// (copied) unless the caller passes a buffer it keeps alive until the next
/// `reset`, which the ingest writer does to avoid one copy per field.
public final class Statement {
    let handle: OpaquePointer
    /// Held strongly: a statement that outlived its connection would otherwise read freed memory.
    let database: Database
    public let sql: String

    init(database: Database, sql: String) throws {
        var prepared: OpaquePointer?
        let rc = sqlite3_prepare_v3(database.handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &prepared, nil)
        guard rc == SQLITE_OK, let prepared else { throw database.error(rc, sql: sql) }
        self.handle = prepared
        self.database = database
        self.sql = sql
    }

    /// Takes ownership of a statement compiled elsewhere (one statement of a script).
    init(adopting handle: OpaquePointer, database: Database) {
        self.handle = handle
        self.database = database
        self.sql = sqlite3_sql(handle).map { String(cString: $0) } ?? ""
    }

    deinit { sqlite3_finalize(handle) }

    // MARK: - Binding

    public func bind(_ index: Int32, _ value: Int64?) {
        if let value { sqlite3_bind_int64(handle, index, value) } else { sqlite3_bind_null(handle, index) }
    }

    public func bind(_ index: Int32, _ value: Int?) {
        bind(index, value.map(Int64.init))
    }

    public func bind(_ index: Int32, _ value: String?) {
        guard let value else { sqlite3_bind_null(handle, index); return }
        var copy = value
        copy.withUTF8 { utf8 in
            bindText(index, copying: UnsafeRawBufferPointer(utf8))
        }
    }

    /// Binds UTF-8 bytes that SQLite copies at once.
    public func bindText(_ index: Int32, copying bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return bindEmptyText(index) }
        sqlite3_bind_text64(handle, index, base.assumingMemoryBound(to: CChar.self), sqlite3_uint64(bytes.count),
                            csqlite_transient(), UInt8(SQLITE_UTF8))
    }

    /// Binds UTF-8 bytes that stay valid and unchanged until the statement is reset.
    public func bindText(_ index: Int32, borrowing bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return bindEmptyText(index) }
        sqlite3_bind_text64(handle, index, base.assumingMemoryBound(to: CChar.self), sqlite3_uint64(bytes.count),
                            csqlite_static(), UInt8(SQLITE_UTF8))
    }

    /// An empty string is not NULL: SQLite needs a non-null pointer to tell them apart.
    private func bindEmptyText(_ index: Int32) {
        sqlite3_bind_text(handle, index, "", 0, csqlite_transient())
    }

    /// Binds bytes as a BLOB, copied at once.
    public func bindBlob(_ index: Int32, copying bytes: UnsafeRawBufferPointer) {
        sqlite3_bind_blob64(handle, index, bytes.baseAddress, sqlite3_uint64(bytes.count), csqlite_transient())
    }

    public func bindNull(_ index: Int32) { sqlite3_bind_null(handle, index) }

    // MARK: - Running

    /// Advances one row: true while a row is available, false when done.
    @discardableResult
    public func step() throws -> Bool {
        database.checkThread()
        let rc = sqlite3_step(handle)
        switch rc {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default:
            let failure = database.error(rc, sql: sql)
            sqlite3_reset(handle)
            throw failure
        }
    }

    /// Resets for the next row and drops bound values (and borrowed buffers).
    public func reset() {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    /// Binds `values` in order, runs to completion, resets.
    public func run(_ values: [SQLValue?] = []) throws {
        bind(values)
        defer { reset() }
        while try step() {}
    }

    /// Binds `values`, collects every row with `row`, resets.
    public func rows<T>(_ values: [SQLValue?] = [], _ row: (Statement) -> T) throws -> [T] {
        bind(values)
        defer { reset() }
        var result: [T] = []
        while try step() { result.append(row(self)) }
        return result
    }

    // MARK: - Reading columns

    public func isNull(_ column: Int32) -> Bool { sqlite3_column_type(handle, column) == SQLITE_NULL }
    public func int64(_ column: Int32) -> Int64 { sqlite3_column_int64(handle, column) }
    public func int(_ column: Int32) -> Int { Int(sqlite3_column_int64(handle, column)) }
    public func double(_ column: Int32) -> Double { sqlite3_column_double(handle, column) }
    public func optionalInt64(_ column: Int32) -> Int64? { isNull(column) ? nil : int64(column) }

    public func string(_ column: Int32) -> String? {
        guard let text = sqlite3_column_text(handle, column) else { return nil }
        let count = Int(sqlite3_column_bytes(handle, column))
        return String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self)
    }

    public var columnCount: Int32 { sqlite3_column_count(handle) }
    public func columnName(_ column: Int32) -> String { sqlite3_column_name(handle, column).map { String(cString: $0) } ?? "" }

    /// A column as SQLite stores it, without copying text or blobs into Swift values
    /// (for writers that stream millions of rows).
    public enum RawValue {
        case null, integer(Int64), real(Double)
        /// Valid until the next step or reset.
        case text(UnsafeRawBufferPointer), blob(UnsafeRawBufferPointer)
    }

    public func raw(_ column: Int32) -> RawValue {
        switch sqlite3_column_type(handle, column) {
        case SQLITE_INTEGER: return .integer(sqlite3_column_int64(handle, column))
        case SQLITE_FLOAT: return .real(sqlite3_column_double(handle, column))
        case SQLITE_TEXT:
            let base = sqlite3_column_text(handle, column)
            return .text(UnsafeRawBufferPointer(start: base, count: Int(sqlite3_column_bytes(handle, column))))
        case SQLITE_BLOB:
            let base = sqlite3_column_blob(handle, column)
            return .blob(UnsafeRawBufferPointer(start: base, count: Int(sqlite3_column_bytes(handle, column))))
        default: return .null
        }
    }
}

/// A Swift value that can be bound to a statement parameter.
public protocol SQLValue {
    func bind(to statement: Statement, at index: Int32)
}

extension Int64: SQLValue {
    public func bind(to statement: Statement, at index: Int32) { statement.bind(index, self) }
}
extension Int: SQLValue {
    public func bind(to statement: Statement, at index: Int32) { statement.bind(index, Int64(self)) }
}
extension String: SQLValue {
    public func bind(to statement: Statement, at index: Int32) { statement.bind(index, self) }
}
extension Double: SQLValue {
    public func bind(to statement: Statement, at index: Int32) { sqlite3_bind_double(statement.handle, index, self) }
}
extension Bool: SQLValue {
    public func bind(to statement: Statement, at index: Int32) { statement.bind(index, Int64(self ? 1 : 0)) }
}

/// A value as SQLite holds it: what a generic reader (a keyset cursor, scripted SQL) reads and binds back.
public enum SQLiteValue: Sendable, Hashable, SQLValue {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])

    public func bind(to statement: Statement, at index: Int32) {
        switch self {
        case .null: statement.bindNull(index)
        case let .integer(value): statement.bind(index, value)
        case let .real(value): value.bind(to: statement, at: index)
        case let .text(value): statement.bind(index, value)
        case let .blob(bytes): bytes.withUnsafeBytes { statement.bindBlob(index, copying: $0) }
        }
    }
}

extension Statement {
    /// Column `column` of the current row, in its storage class.
    public func value(_ column: Int32) -> SQLiteValue {
        switch sqlite3_column_type(handle, column) {
        case SQLITE_INTEGER: return .integer(int64(column))
        case SQLITE_FLOAT: return .real(double(column))
        case SQLITE_TEXT: return .text(string(column) ?? "")
        case SQLITE_BLOB:
            let count = Int(sqlite3_column_bytes(handle, column))
            guard count > 0, let base = sqlite3_column_blob(handle, column) else { return .blob([]) }
            return .blob(Array(UnsafeRawBufferPointer(start: base, count: count)))
        default: return .null
        }
    }

    /// Binds values to `?` parameters in order, starting at 1.
    public func bind(_ values: [SQLValue?]) {
        for (offset, value) in values.enumerated() {
            let index = Int32(offset + 1)
            if let value { value.bind(to: self, at: index) } else { bindNull(index) }
        }
    }
}
