import CasebookIO
import CasebookStore
import Crypto
import Foundation

/// What an audit entry records. The raw value is what `audit_log.action` holds.
public enum AuditAction: String, CaseIterable, Sendable {
    case ingestFile = "ingest.file"
    case linkRun = "link.run"
    case caseCreate = "case.create"
    case caseStatus = "case.status"
    case caseAssign = "case.assign"
    case caseEdit = "case.edit"
    case caseAttach = "case.attach"
    case noteAdd = "note.add"
    case noteEdit = "note.edit"
    case tagAdd = "tag.add"
    case tagRemove = "tag.remove"
    case export = "export"
}

/// One entry of the audit log.
public struct AuditEntry: Sendable, Equatable {
    public let seq: Int64
    public let atMilliseconds: Int64
    public let actor: String
    public let action: String
    public let target: String
    /// A JSON object.
    public let payload: String
    public let previousHash: String
    public let hash: String
}

/// The append-only, hash-chained audit log (`audit_log`).
///
/// Each entry's hash covers the previous entry's hash and the entry itself, so
/// an entry changed, removed or moved through plain SQL breaks the chain at that
/// entry; `verify` finds the first break. Entries are appended inside the
/// caller's transaction, so a change and its record commit together or not at all.
public enum AuditLog {
    /// The `prev_hash` of the first entry.
    public static let genesis = String(repeating: "0", count: 64)

    /// Appends an entry. Call inside the transaction that makes the change it records.
    @discardableResult
    public static func append(_ database: Database, actor: String, action: AuditAction, target: String,
                              payload: [String: Any], at milliseconds: Int64 = nowMilliseconds()) throws -> AuditEntry {
        let head = try database.prepare("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
            .rows { ($0.int64(0), $0.string(1) ?? genesis) }.first
        let seq = (head?.0 ?? 0) + 1
        let previous = head?.1 ?? genesis
        let payloadText = json(payload)
        let hash = try entryHash(database, previous: previous, seq: seq, at: milliseconds, actor: actor,
                                 action: action.rawValue, target: target, payload: payloadText)
        try database.prepare("""
            INSERT INTO audit_log (seq, at_ms, actor, action, target, payload, prev_hash, hash)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
            """).run([seq, milliseconds, actor, action.rawValue, target, payloadText, previous, hash])
        return AuditEntry(seq: seq, atMilliseconds: milliseconds, actor: actor, action: action.rawValue, target: target,
                          payload: payloadText, previousHash: previous, hash: hash)
    }

    /// The last entry's sequence number and hash, or nil for an empty log.
    public static func head(_ database: Database) throws -> (seq: Int64, hash: String)? {
        try database.prepare("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
            .rows { ($0.int64(0), $0.string(1) ?? "") }.first
    }

    /// Entries in order, optionally for one target, from `afterSeq` on.
    public static func entries(_ database: Database, target: String? = nil, afterSeq: Int64 = 0,
                               limit: Int = -1) throws -> [AuditEntry] {
        let statement = try database.prepare("""
            SELECT seq, at_ms, actor, action, target, payload, prev_hash, hash FROM audit_log
            WHERE seq > ?1 AND (?2 IS NULL OR target = ?2) ORDER BY seq LIMIT ?3
            """)
        return try statement.rows([afterSeq, target, limit], entry)
    }

    // MARK: - Verifying

    /// Walks the whole chain; the first entry that does not hold, with why.
    public static func verifyChain(_ database: Database) throws -> AuditVerification {
        let statement = try database.prepare("""
            SELECT seq, at_ms, actor, action, target, payload, prev_hash, hash FROM audit_log ORDER BY seq
            """)
        var expectedSeq: Int64 = 1
        var previous = genesis
        var count = 0
        defer { statement.reset() }
        while try statement.step() {
            let e = entry(statement)
            if e.seq != expectedSeq {
                let missing = e.seq > expectedSeq
                    ? (e.seq - 1 == expectedSeq ? "entry \(expectedSeq) is missing" : "entries \(expectedSeq)-\(e.seq - 1) are missing")
                    : "entry \(e.seq) appears out of order"
                return .broken(seq: min(e.seq, expectedSeq), reason: missing)
            }
            if e.previousHash != previous {
                return .broken(seq: e.seq, reason: "entry \(e.seq) does not chain to the entry before it (entries were removed or reordered)")
            }
            let recomputed = try entryHash(database, previous: e.previousHash, seq: e.seq, at: e.atMilliseconds,
                                           actor: e.actor, action: e.action, target: e.target, payload: e.payload)
            if recomputed != e.hash {
                return .broken(seq: e.seq, reason: "entry \(e.seq) was altered after it was written (its hash does not match its content)")
            }
            previous = e.hash
            expectedSeq += 1
            count += 1
        }
        return .intact(entries: count, head: count == 0 ? nil : (expectedSeq - 1, previous))
    }

    /// SHA-256 of the previous hash and the entry as SQLite's `json_array` writes it, in hex.
    ///
    /// SQLite writes the canonical text, so anyone can recompute a hash with the `sqlite3`
    /// shell and `sha256sum`: `printf '%s%s' "$prev_hash" "$(sqlite3 case.db "SELECT
    /// json_array(seq, at_ms, actor, action, target, payload) FROM audit_log WHERE seq = N")"`.
    static func entryHash(_ database: Database, previous: String, seq: Int64, at: Int64, actor: String,
                          action: String, target: String, payload: String) throws -> String {
        let canonical = try database.prepare("SELECT json_array(?1, ?2, ?3, ?4, ?5, ?6)")
            .rows([seq, at, actor, action, target, payload]) { $0.string(0) ?? "" }.first ?? ""
        var hasher = SHA256()
        hasher.update(data: Data(previous.utf8))
        hasher.update(data: Data(canonical.utf8))
        return FileDigest.hex(hasher.finalize())
    }

    private static func entry(_ row: Statement) -> AuditEntry {
        AuditEntry(seq: row.int64(0), atMilliseconds: row.int64(1), actor: row.string(2) ?? "", action: row.string(3) ?? "",
                   target: row.string(4) ?? "", payload: row.string(5) ?? "", previousHash: row.string(6) ?? "",
                   hash: row.string(7) ?? "")
    }

    /// Compact JSON with sorted keys: the same payload always reads the same.
    public static func json(_ object: [String: Any]) -> String {
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }

    public static func nowMilliseconds() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }
}

/// The outcome of walking the chain.
public enum AuditVerification: Sendable {
    case intact(entries: Int, head: (seq: Int64, hash: String)?)
    case broken(seq: Int64, reason: String)
}
