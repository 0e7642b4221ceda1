import CSQLite

/// The one error type of the store: what SQLite said, and the statement it said it about.
///
/// Bound values never appear here: a statement's SQL is kept with its `?`
/// placeholders, so an error message cannot leak an account's data.
public struct StoreError: Error, CustomStringConvertible, Sendable {
    /// SQLite's primary result code (`SQLITE_BUSY`, `SQLITE_FULL`, ...).
    public let code: Int32
    public let message: String
    public let sql: String?

    public init(code: Int32, message: String, sql: String? = nil) {
        self.code = code
        self.message = message
        self.sql = sql
    }

    /// The disk (or the configured page limit) is full.
    public var isDiskFull: Bool { code & 0xff == SQLITE_FULL }
    /// Another connection holds a lock longer than the busy timeout.
    public var isBusy: Bool { code & 0xff == SQLITE_BUSY || code & 0xff == SQLITE_LOCKED }
    /// The file cannot be written (permissions, read-only medium, missing directory).
    public var isNotWritable: Bool {
        let primary = code & 0xff
        return primary == SQLITE_READONLY || primary == SQLITE_CANTOPEN || primary == SQLITE_PERM
            || primary == SQLITE_IOERR
    }

    /// A read-only connection met a journal left by a writer that stopped mid-transaction,
    /// which only a connection that may write can roll back.
    public var isUnrolledJournal: Bool { code == csqlite_readonly_rollback() }

    /// The file is not a database, or its pages are damaged (truncated, overwritten).
    public var isCorrupt: Bool { code & 0xff == SQLITE_CORRUPT || code & 0xff == SQLITE_NOTADB }

    public var description: String {
        if let sql { return "\(message) (SQLite code \(code), in: \(Self.opening(of: sql)))" }
        return "\(message) (SQLite code \(code))"
    }

    /// Enough of a statement to tell which one failed, on one line: the writer's
    /// statements run to hundreds of lines and placeholders.
    static func opening(of sql: String, limit: Int = 80) -> String {
        let words = sql.split(whereSeparator: \.isWhitespace)
        var line = ""
        for word in words {
            if !line.isEmpty { line += " " }
            line += word
            if line.count > limit { return String(line.prefix(limit)) + "…" }
        }
        return line
    }
}

/// What kind of failure an error is, for the one place (the executable) that turns
/// failures into exit statuses and sentences.
public enum ErrorCategory: Sendable {
    /// The request itself is wrong (a bad value, a status that does not exist).
    case usage
    /// What was asked for is not there (an unknown case, account or cluster).
    case notFound
    /// The case file could not be used.
    case caseFile
}

/// An error a library raises for a person to read: a sentence and a category.
public protocol CategorizedError: Error, CustomStringConvertible {
    var category: ErrorCategory { get }
}
