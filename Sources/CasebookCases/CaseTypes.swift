import CasebookStore

/// Where a case stands. The raw value is what `cases.status` holds.
public enum CaseStatus: String, CaseIterable, Sendable {
    case open, investigating, confirmed, dismissed
    case referredToLegal = "referred-to-legal"
}

/// How sure the attribution is. The raw value is what `cases.confidence` holds.
public enum Confidence: String, CaseIterable, Sendable {
    case low, medium, high
}

/// What a note or tag is attached to: `case:3`, `cluster:42`, `account:acct-7`, `exchange:ex-9`.
public struct Target: Hashable, Sendable, CustomStringConvertible {
    public enum Kind: String, CaseIterable, Sendable {
        case `case`, cluster, account, exchange
    }

    public let kind: Kind
    /// The contract's id: case and cluster numbers as text, account and exchange ids.
    public let id: String

    public init(_ kind: Kind, _ id: String) {
        self.kind = kind
        self.id = id
    }

    /// Parses `kind:id`; a bare number is a case.
    public init(parsing text: String) throws {
        if let colon = text.firstIndex(of: ":"), let kind = Kind(rawValue: String(text[..<colon])) {
            self.init(kind, String(text[text.index(after: colon)...]))
        } else if Int64(text) != nil {
            self.init(.case, text)
        } else {
            throw CasesError.invalid("\(text) is not a target; write case:ID, cluster:ID, account:ID or exchange:ID")
        }
        guard !id.isEmpty else { throw CasesError.invalid("\(text) names no id after the colon") }
    }

    public var description: String { "\(kind.rawValue):\(id)" }
}

/// A case as listed.
public struct CaseSummary: Sendable, Equatable {
    public let caseID: Int64
    public let title: String
    public let status: CaseStatus
    public let assignee: String?
    public let clusters: Int
    public let accounts: Int
    public let notes: Int
    public let createdBy: String
    public let createdAtMilliseconds: Int64
    public let updatedAtMilliseconds: Int64
}

/// A case with what it covers and what was written about it.
public struct CaseDetail: Sendable {
    public let summary: CaseSummary
    public let findings: String?
    public let attribution: String?
    public let confidence: Confidence?
    public let clusterIDs: [Int64]
    public let accountIDs: [String]
    public let notes: [Note]
    public let tags: [String]
}

/// A note with its latest text.
public struct Note: Sendable, Equatable {
    public let noteID: Int64
    public let target: Target
    public let body: String
    public let version: Int
    public let author: String
    public let atMilliseconds: Int64
    public let createdBy: String
}

/// Why a cases operation was refused.
public enum CasesError: CategorizedError, Equatable {
    case notFound(String)
    case invalid(String)

    public var category: ErrorCategory {
        switch self {
        case .notFound: return .notFound
        case .invalid: return .usage
        }
    }

    public var description: String {
        switch self {
        case let .notFound(what): return what
        case let .invalid(why): return why
        }
    }
}
