-- casebook case file, schema version 4: the investigator's work (cases, notes,
-- tags) and the hash-chained audit log that records it, every ingest and every
-- link run. Written only through casebook; read by anyone.

-- The audit log: append-only, each entry chained to the one before by SHA-256.
-- hash = SHA-256 of prev_hash followed by json_array(seq, at_ms, actor, action,
-- target, payload) as SQLite writes it; prev_hash of the first entry is 64 zeros.
CREATE TABLE audit_log (
    seq       INTEGER PRIMARY KEY,
    at_ms     INTEGER NOT NULL,
    actor     TEXT    NOT NULL,
    action    TEXT    NOT NULL,
    target    TEXT    NOT NULL,
    payload   TEXT    NOT NULL,
    prev_hash TEXT    NOT NULL,
    hash      TEXT    NOT NULL
);
CREATE INDEX audit_log_by_target ON audit_log (target, seq);
CREATE TRIGGER audit_log_is_append_only_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_log_is_append_only_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;

-- A case: what an investigator works on, with the clusters and accounts it covers.
-- Attribution (who is behind it, and how sure) is kept apart from findings.
CREATE TABLE cases (
    case_id       INTEGER PRIMARY KEY,
    title         TEXT    NOT NULL,
    status        TEXT    NOT NULL DEFAULT 'open'
                  CHECK (status IN ('open', 'investigating', 'confirmed', 'dismissed', 'referred-to-legal')),
    assignee      TEXT,
    findings      TEXT,
    attribution   TEXT,
    confidence    TEXT    CHECK (confidence IN ('low', 'medium', 'high')),
    created_by    TEXT    NOT NULL,
    created_at_ms INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL
);

CREATE TABLE case_clusters (
    case_id     INTEGER NOT NULL REFERENCES cases (case_id),
    cluster_id  INTEGER NOT NULL REFERENCES cluster_ids (cluster_id),
    added_by    TEXT    NOT NULL,
    added_at_ms INTEGER NOT NULL,
    PRIMARY KEY (case_id, cluster_id)
) WITHOUT ROWID;
CREATE INDEX case_clusters_by_cluster ON case_clusters (cluster_id);

CREATE TABLE case_accounts (
    case_id     INTEGER NOT NULL REFERENCES cases (case_id),
    account_id  TEXT    NOT NULL,
    added_by    TEXT    NOT NULL,
    added_at_ms INTEGER NOT NULL,
    PRIMARY KEY (case_id, account_id)
) WITHOUT ROWID;
CREATE INDEX case_accounts_by_account ON case_accounts (account_id);

-- Notes on a case, a cluster, an account or an exchange. A note is edited by
-- adding a version; versions are never changed or removed.
-- target_id is the contract's id: case_id or cluster_id as text, account_id, exchange_id.
CREATE TABLE notes (
    note_id       INTEGER PRIMARY KEY,
    target_type   TEXT    NOT NULL CHECK (target_type IN ('case', 'cluster', 'account', 'exchange')),
    target_id     TEXT    NOT NULL,
    created_by    TEXT    NOT NULL,
    created_at_ms INTEGER NOT NULL
);
CREATE INDEX notes_by_target ON notes (target_type, target_id);

CREATE TABLE note_versions (
    note_id INTEGER NOT NULL REFERENCES notes (note_id),
    version INTEGER NOT NULL,
    body    TEXT    NOT NULL,
    author  TEXT    NOT NULL,
    at_ms   INTEGER NOT NULL,
    PRIMARY KEY (note_id, version)
) WITHOUT ROWID;
CREATE TRIGGER note_versions_are_kept_update BEFORE UPDATE ON note_versions
BEGIN SELECT RAISE(ABORT, 'note versions are never changed; add a version'); END;
CREATE TRIGGER note_versions_are_kept_delete BEFORE DELETE ON note_versions
BEGIN SELECT RAISE(ABORT, 'note versions are never removed'); END;

-- Tags on the same targets as notes.
CREATE TABLE tags (
    target_type TEXT    NOT NULL CHECK (target_type IN ('case', 'cluster', 'account', 'exchange')),
    target_id   TEXT    NOT NULL,
    tag         TEXT    NOT NULL,
    added_by    TEXT    NOT NULL,
    added_at_ms INTEGER NOT NULL,
    PRIMARY KEY (target_type, target_id, tag)
) WITHOUT ROWID;
CREATE INDEX tags_by_tag ON tags (tag);

-- Each note with its latest text.
CREATE VIEW current_notes AS
SELECT n.note_id, n.target_type, n.target_id, v.body, v.version, v.author AS last_author,
       strftime('%Y-%m-%dT%H:%M:%fZ', v.at_ms / 1000.0, 'unixepoch') AS updated_at, v.at_ms AS updated_at_ms,
       n.created_by, strftime('%Y-%m-%dT%H:%M:%fZ', n.created_at_ms / 1000.0, 'unixepoch') AS created_at
FROM notes n
JOIN note_versions v ON v.note_id = n.note_id
WHERE v.version = (SELECT max(version) FROM note_versions WHERE note_id = n.note_id);
