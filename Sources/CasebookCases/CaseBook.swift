import CasebookAudit
import CasebookStore
import Foundation

/// Cases, notes and tags: the investigator's work, every change in one
/// transaction with its audit entry.
///
/// Used by the CLI (`casebook case ...`) and the TUI alike. Changes are short
/// write transactions, so they wait at most a moment for a running ingest or
/// link batch and never hold one up for long.
public final class CaseBook {
    private let database: Database
    /// Who makes the changes: the investigator named on the command line, in
    /// `CASEBOOK_INVESTIGATOR`, or the login name.
    public let actor: String

    public init(database: Database, actor: String) {
        self.database = database
        self.actor = actor
    }

    // MARK: - Cases

    /// Opens a case covering `clusters` and `accounts`; its id.
    @discardableResult
    public func create(title: String, clusters: [Int64] = [], accounts: [String] = []) throws -> Int64 {
        let title = try Self.checkedLine(title, what: "a case title")
        return try database.transaction {
            let now = AuditLog.nowMilliseconds()
            try database.prepare("""
                INSERT INTO cases (title, status, created_by, created_at_ms, updated_at_ms) VALUES (?1, 'open', ?2, ?3, ?3)
                """).run([title, actor, now])
            let caseID = database.lastInsertedRowID
            try AuditLog.append(database, actor: actor, action: .caseCreate, target: "case:\(caseID)",
                                payload: ["title": title, "status": CaseStatus.open.rawValue], at: now)
            try attachInTransaction(caseID, clusters: clusters, accounts: accounts, at: now)
            return caseID
        }
    }

    public func setStatus(_ caseID: Int64, _ status: CaseStatus) throws {
        try change(caseID, column: "status", value: status.rawValue, action: .caseStatus, key: "status")
    }

    /// Assigns the case to an investigator (nil: nobody).
    public func assign(_ caseID: Int64, to assignee: String?) throws {
        let assignee = try assignee.map { try Self.checkedLine($0, what: "an assignee") }
        try change(caseID, column: "assignee", value: assignee, action: .caseAssign, key: "assignee")
    }

    /// Sets the findings (what was established), kept apart from attribution (who is behind it).
    public func setFindings(_ caseID: Int64, _ findings: String?) throws {
        try change(caseID, column: "findings", value: findings, action: .caseEdit, key: "findings")
    }

    /// Sets the attribution wording and how sure it is.
    public func setAttribution(_ caseID: Int64, _ attribution: String?, confidence: Confidence?) throws {
        try requireCase(caseID)
        try database.transaction {
            let now = AuditLog.nowMilliseconds()
            try database.prepare("UPDATE cases SET attribution = ?2, confidence = ?3, updated_at_ms = ?4 WHERE case_id = ?1")
                .run([caseID, attribution, confidence?.rawValue, now])
            try AuditLog.append(database, actor: actor, action: .caseEdit, target: "case:\(caseID)",
                                payload: ["attribution": attribution ?? NSNull(), "confidence": confidence?.rawValue ?? NSNull()],
                                at: now)
        }
    }

    /// Adds clusters and accounts to what the case covers (ones already covered are left as they are).
    public func attach(_ caseID: Int64, clusters: [Int64] = [], accounts: [String] = []) throws {
        try requireCase(caseID)
        try database.transaction { try attachInTransaction(caseID, clusters: clusters, accounts: accounts, at: AuditLog.nowMilliseconds()) }
    }

    private func attachInTransaction(_ caseID: Int64, clusters: [Int64], accounts: [String], at now: Int64) throws {
        guard !clusters.isEmpty || !accounts.isEmpty else { return }
        for cluster in clusters { try requireTarget(Target(.cluster, String(cluster))) }
        for account in accounts { try requireTarget(Target(.account, account)) }
        /// Inserts each of `values` not yet covered; the ones that were new.
        func cover<Value: SQLValue>(_ values: [Value], table: String, column: String) throws -> [Value] {
            // `table` and `column` are literals of this function's callers.
            let insert = try database.prepare("""
                INSERT OR IGNORE INTO \(table) (case_id, \(column), added_by, added_at_ms) VALUES (?1, ?2, ?3, ?4)
                """)
            return try values.filter { value in
                try insert.run([caseID, value, actor, now])
                return database.changes == 1
            }
        }
        let added = try cover(clusters, table: "case_clusters", column: "cluster_id")
        let addedAccounts = try cover(accounts, table: "case_accounts", column: "account_id")
        guard !added.isEmpty || !addedAccounts.isEmpty else { return }
        try database.prepare("UPDATE cases SET updated_at_ms = ?2 WHERE case_id = ?1").run([caseID, now])
        try AuditLog.append(database, actor: actor, action: .caseAttach, target: "case:\(caseID)",
                            payload: ["clusters": added, "accounts": addedAccounts], at: now)
    }

    /// Sets one column of a case and records it.
    private func change(_ caseID: Int64, column: String, value: String?, action: AuditAction, key: String) throws {
        try requireCase(caseID)
        try database.transaction {
            let now = AuditLog.nowMilliseconds()
            // `column` is one of this file's literals, never input.
            try database.prepare("UPDATE cases SET \(column) = ?2, updated_at_ms = ?3 WHERE case_id = ?1").run([caseID, value, now])
            try AuditLog.append(database, actor: actor, action: action, target: "case:\(caseID)",
                                payload: [key: value ?? NSNull()], at: now)
        }
    }

    // MARK: - Notes

    /// Adds a note to a case, cluster, account or exchange; its id.
    @discardableResult
    public func addNote(to target: Target, _ body: String) throws -> Int64 {
        let body = try Self.checkedNote(body)
        try requireTarget(target)
        return try database.transaction {
            let now = AuditLog.nowMilliseconds()
            try database.prepare("INSERT INTO notes (target_type, target_id, created_by, created_at_ms) VALUES (?1, ?2, ?3, ?4)")
                .run([target.kind.rawValue, target.id, actor, now])
            let noteID = database.lastInsertedRowID
            try addVersion(noteID, version: 1, body: body, target: target, action: .noteAdd, at: now)
            return noteID
        }
    }

    /// Edits a note by adding a version (the earlier ones stay); the new version's number.
    @discardableResult
    public func editNote(_ noteID: Int64, _ body: String) throws -> Int {
        let body = try Self.checkedNote(body)
        return try database.transaction {
            guard let (kind, id, latest) = try database.prepare("""
                SELECT n.target_type, n.target_id, (SELECT max(version) FROM note_versions WHERE note_id = n.note_id)
                FROM notes n WHERE n.note_id = ?1
                """).rows([noteID], { ($0.string(0) ?? "", $0.string(1) ?? "", $0.int(2)) }).first,
                  let kind = Target.Kind(rawValue: kind) else {
                throw CasesError.notFound("no note \(noteID) in the case file")
            }
            let version = latest + 1
            try addVersion(noteID, version: version, body: body, target: Target(kind, id), action: .noteEdit,
                           at: AuditLog.nowMilliseconds())
            return version
        }
    }

    private func addVersion(_ noteID: Int64, version: Int, body: String, target: Target, action: AuditAction, at now: Int64) throws {
        try database.prepare("INSERT INTO note_versions (note_id, version, body, author, at_ms) VALUES (?1, ?2, ?3, ?4, ?5)")
            .run([noteID, version, body, actor, now])
        try touchCase(of: target, at: now)
        try AuditLog.append(database, actor: actor, action: action, target: target.description,
                            payload: ["note_id": noteID, "version": version, "body": body], at: now)
    }

    /// The notes on `target`, oldest first, each with its latest text.
    public func notes(on target: Target) throws -> [Note] {
        try database.prepare("""
            SELECT note_id, body, version, last_author, updated_at_ms, created_by FROM current_notes
            WHERE target_type = ?1 AND target_id = ?2 ORDER BY note_id
            """).rows([target.kind.rawValue, target.id]) {
            Note(noteID: $0.int64(0), target: target, body: $0.string(1) ?? "", version: $0.int(2), author: $0.string(3) ?? "",
                 atMilliseconds: $0.int64(4), createdBy: $0.string(5) ?? "")
        }
    }

    /// Every version of a note, oldest first.
    public func history(ofNote noteID: Int64) throws -> [(version: Int, body: String, author: String, atMilliseconds: Int64)] {
        try database.prepare("SELECT version, body, author, at_ms FROM note_versions WHERE note_id = ?1 ORDER BY version")
            .rows([noteID]) { ($0.int(0), $0.string(1) ?? "", $0.string(2) ?? "", $0.int64(3)) }
    }

    // MARK: - Tags

    public func addTag(_ tag: String, to target: Target) throws {
        let tag = try Self.checkedTag(tag)
        try requireTarget(target)
        try database.transaction {
            let now = AuditLog.nowMilliseconds()
            try database.prepare("""
                INSERT OR IGNORE INTO tags (target_type, target_id, tag, added_by, added_at_ms) VALUES (?1, ?2, ?3, ?4, ?5)
                """).run([target.kind.rawValue, target.id, tag, actor, now])
            guard database.changes == 1 else { return }
            try touchCase(of: target, at: now)
            try AuditLog.append(database, actor: actor, action: .tagAdd, target: target.description, payload: ["tag": tag], at: now)
        }
    }

    public func removeTag(_ tag: String, from target: Target) throws {
        try database.transaction {
            let now = AuditLog.nowMilliseconds()
            try database.prepare("DELETE FROM tags WHERE target_type = ?1 AND target_id = ?2 AND tag = ?3")
                .run([target.kind.rawValue, target.id, tag])
            guard database.changes == 1 else { throw CasesError.notFound("\(target) has no tag \(tag)") }
            try touchCase(of: target, at: now)
            try AuditLog.append(database, actor: actor, action: .tagRemove, target: target.description, payload: ["tag": tag], at: now)
        }
    }

    public func tags(on target: Target) throws -> [String] {
        try database.prepare("SELECT tag FROM tags WHERE target_type = ?1 AND target_id = ?2 ORDER BY tag")
            .rows([target.kind.rawValue, target.id]) { $0.string(0) ?? "" }
    }

    /// Tags in use anywhere starting with `prefix`, most used first: what tag entry completes to.
    public func tagsInUse(prefix: String = "", limit: Int = 20) throws -> [String] {
        try database.prepare("""
            SELECT tag FROM tags WHERE substr(tag, 1, length(?1)) = ?1 GROUP BY tag ORDER BY count(*) DESC, tag LIMIT ?2
            """).rows([prefix, limit]) { $0.string(0) ?? "" }
    }

    // MARK: - Reading cases

    public func list(status: CaseStatus? = nil) throws -> [CaseSummary] {
        try database.prepare("""
            SELECT c.case_id, c.title, c.status, c.assignee,
                   (SELECT count(*) FROM case_clusters WHERE case_id = c.case_id),
                   (SELECT count(*) FROM case_accounts WHERE case_id = c.case_id),
                   (SELECT count(*) FROM notes WHERE target_type = 'case' AND target_id = CAST(c.case_id AS TEXT)),
                   c.created_by, c.created_at_ms, c.updated_at_ms
            FROM cases c WHERE ?1 IS NULL OR c.status = ?1 ORDER BY c.updated_at_ms DESC, c.case_id DESC
            """).rows([status?.rawValue], Self.summary)
    }

    public func detail(_ caseID: Int64) throws -> CaseDetail {
        guard let row = try database.prepare("""
            SELECT c.case_id, c.title, c.status, c.assignee,
                   (SELECT count(*) FROM case_clusters WHERE case_id = c.case_id),
                   (SELECT count(*) FROM case_accounts WHERE case_id = c.case_id),
                   (SELECT count(*) FROM notes WHERE target_type = 'case' AND target_id = CAST(c.case_id AS TEXT)),
                   c.created_by, c.created_at_ms, c.updated_at_ms, c.findings, c.attribution, c.confidence
            FROM cases c WHERE c.case_id = ?1
            """).rows([caseID], { ($0.string(10), $0.string(11), $0.string(12), Self.summary($0)) }).first else {
            throw CasesError.notFound("no case \(caseID) in the case file")
        }
        let target = Target(.case, String(caseID))
        return CaseDetail(
            summary: row.3, findings: row.0, attribution: row.1, confidence: row.2.flatMap(Confidence.init(rawValue:)),
            clusterIDs: try database.prepare("SELECT cluster_id FROM case_clusters WHERE case_id = ?1 ORDER BY cluster_id")
                .rows([caseID]) { $0.int64(0) },
            accountIDs: try database.prepare("SELECT account_id FROM case_accounts WHERE case_id = ?1 ORDER BY account_id")
                .rows([caseID]) { $0.string(0) ?? "" },
            notes: try notes(on: target), tags: try tags(on: target))
    }

    /// The audit entries about a target, oldest first: its history.
    public func auditHistory(of target: Target) throws -> [AuditEntry] {
        try AuditLog.entries(database, target: target.description)
    }

    private static func summary(_ row: Statement) -> CaseSummary {
        CaseSummary(caseID: row.int64(0), title: row.string(1) ?? "", status: CaseStatus(rawValue: row.string(2) ?? "") ?? .open,
                    assignee: row.string(3), clusters: row.int(4), accounts: row.int(5), notes: row.int(6),
                    createdBy: row.string(7) ?? "", createdAtMilliseconds: row.int64(8), updatedAtMilliseconds: row.int64(9))
    }

    // MARK: - Checks

    private func requireCase(_ caseID: Int64) throws { try requireTarget(Target(.case, String(caseID))) }

    /// Refuses a note or tag on something the case file does not hold.
    private func requireTarget(_ target: Target) throws {
        let sql: String
        switch target.kind {
        case .case: sql = "SELECT 1 FROM cases WHERE case_id = ?1"
        case .cluster: sql = "SELECT 1 FROM cluster_ids WHERE cluster_id = ?1"
        case .account: sql = "SELECT 1 FROM account_rows WHERE account_id = ?1"
        case .exchange: sql = "SELECT 1 FROM exchange_rows WHERE exchange_id = ?1"
        }
        let value: SQLValue = target.kind == .case || target.kind == .cluster ? (Int64(target.id) ?? -1) : target.id
        guard try !database.prepare(sql).rows([value], { _ in true }).isEmpty else {
            throw CasesError.notFound("no \(target.kind.rawValue) \(target.id) in the case file")
        }
    }

    /// A note or tag on a case counts as a change of the case.
    private func touchCase(of target: Target, at now: Int64) throws {
        guard target.kind == .case else { return }
        try database.prepare("UPDATE cases SET updated_at_ms = ?2 WHERE case_id = ?1").run([Int64(target.id) ?? -1, now])
    }

    static func checkedLine(_ text: String, what: String) throws -> String {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw CasesError.invalid("\(what) cannot be empty") }
        guard trimmed.count <= 200 else {
            throw CasesError.invalid("\(what) must be one line of at most 200 characters (this one has \(trimmed.count))")
        }
        // A terminal escape in a title would act on every screen that lists it.
        if let control = trimmed.unicodeScalars.first(where: { $0.properties.generalCategory == .control }) {
            let code = String(control.value, radix: 16, uppercase: true)
            throw CasesError.invalid("\(what) must be one line without control characters (it has U+\(String(repeating: "0", count: max(0, 4 - code.count)) + code))")
        }
        return trimmed
    }

    static func checkedTag(_ tag: String) throws -> String {
        let trimmed = try checkedLine(tag, what: "a tag")
        guard trimmed.count <= 64, !trimmed.contains(where: \.isWhitespace) else {
            throw CasesError.invalid("a tag is one word of at most 64 characters (use - or _ between words)")
        }
        return trimmed
    }

    static func checkedNote(_ body: String) throws -> String {
        guard !body.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { throw CasesError.invalid("a note cannot be empty") }
        guard body.utf8.count <= 1 << 20 else { throw CasesError.invalid("a note is at most 1 MiB of text") }
        return body
    }
}
