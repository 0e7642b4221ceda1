import CasebookStore

/// Compares the annotation tables with what the audit log recorded, so that a note,
/// status or tag changed through plain SQL (behind casebook's back, with its
/// triggers dropped) is found even though the audit chain itself is intact.
public enum AnnotationCheck {
    /// One sentence per disagreement, naming the audit entry where there is one.
    public static func mismatches(_ database: Database) throws -> [String] {
        var found = try CaseFile.missingTriggers(database).map {
            "the guard \($0) was dropped: the log and note versions could be changed through plain SQL"
        }
        // Every note version against the entry that recorded it, and every recorded version against the table.
        found += try database.prepare("""
            SELECT v.note_id, v.version, a.seq, a.seq IS NOT NULL AND json_extract(a.payload, '$.body') IS v.body
            FROM note_versions v
            LEFT JOIN audit_log a ON a.action IN ('note.add', 'note.edit')
                AND json_extract(a.payload, '$.note_id') = v.note_id AND json_extract(a.payload, '$.version') = v.version
            ORDER BY v.note_id, v.version
            """).rows { row -> String? in
            let (note, version) = (row.int64(0), row.int64(1))
            if row.isNull(2) { return "note \(note) version \(version) has no audit entry (written outside casebook)" }
            return row.int64(3) == 1 ? nil : "note \(note) version \(version) differs from what audit entry \(row.int64(2)) recorded (edited outside casebook)"
        }.compactMap { $0 }
        found += try database.prepare("""
            SELECT a.seq, json_extract(a.payload, '$.note_id'), json_extract(a.payload, '$.version') FROM audit_log a
            WHERE a.action IN ('note.add', 'note.edit') AND NOT EXISTS (
                SELECT 1 FROM note_versions v
                WHERE v.note_id = json_extract(a.payload, '$.note_id') AND v.version = json_extract(a.payload, '$.version'))
            ORDER BY a.seq
            """).rows { "note \($0.int64(1)) version \($0.int64(2)), recorded by audit entry \($0.int64(0)), is missing (removed outside casebook)" }
        // Each case's status and assignee against the last entry that set them.
        for (column, actions) in [("status", "'case.create', 'case.status'"), ("assignee", "'case.assign'")] {
            // `column` and `actions` are literals of this file.
            found += try database.prepare("""
                SELECT c.case_id, a.seq FROM cases c
                JOIN audit_log a ON a.seq = (SELECT max(seq) FROM audit_log
                    WHERE target = 'case:' || c.case_id AND action IN (\(actions)))
                WHERE json_extract(a.payload, '$.\(column)') IS NOT c.\(column)
                ORDER BY c.case_id
                """).rows { "case \($0.int64(0)) has a \(column) other than audit entry \($0.int64(1)) set (changed outside casebook)" }
        }
        found += try database.prepare("""
            SELECT c.case_id FROM cases c
            WHERE NOT EXISTS (SELECT 1 FROM audit_log WHERE target = 'case:' || c.case_id AND action = 'case.create')
            ORDER BY c.case_id
            """).rows { "case \($0.int64(0)) has no audit entry for its creation (created outside casebook)" }
        found += try database.prepare("""
            SELECT c.case_id FROM cases c
            WHERE c.assignee IS NOT NULL
                AND NOT EXISTS (SELECT 1 FROM audit_log WHERE target = 'case:' || c.case_id AND action = 'case.assign')
            ORDER BY c.case_id
            """).rows { "case \($0.int64(0)) has an assignee no audit entry set (changed outside casebook)" }
        // Tags: the last entry for each (target, tag) says whether it should be there.
        found += try database.prepare("""
            WITH last AS (
                SELECT target, json_extract(payload, '$.tag') AS tag, max(seq) AS seq FROM audit_log
                WHERE action IN ('tag.add', 'tag.remove') GROUP BY target, json_extract(payload, '$.tag'))
            SELECT l.target, l.tag, l.seq, a.action FROM last l JOIN audit_log a ON a.seq = l.seq
            WHERE (a.action = 'tag.add') != EXISTS (
                SELECT 1 FROM tags t WHERE t.target_type || ':' || t.target_id = l.target AND t.tag = l.tag)
            ORDER BY l.seq
            """).rows { row in
            let state = row.string(3) == "tag.add" ? "added by" : "removed by"
            return "tag \(row.string(1) ?? "") on \(row.string(0) ?? "") was \(state) audit entry \(row.int64(2)) but the tags table says otherwise"
        }
        found += try database.prepare("""
            SELECT t.target_type || ':' || t.target_id, t.tag FROM tags t
            WHERE NOT EXISTS (SELECT 1 FROM audit_log a WHERE a.action = 'tag.add'
                AND a.target = t.target_type || ':' || t.target_id AND json_extract(a.payload, '$.tag') = t.tag)
            """).rows { "tag \($0.string(1) ?? "") on \($0.string(0) ?? "") has no audit entry (added outside casebook)" }
        return found
    }
}
