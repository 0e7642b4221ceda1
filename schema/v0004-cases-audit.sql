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

-- MARK: what browsing needs from a link run, precomputed by `casebook link`.

-- When each cluster and member was active, and members' exchange counts
-- (NULL for runs made before schema version 4).
ALTER TABLE run_clusters ADD COLUMN first_seen_ms INTEGER;
ALTER TABLE run_clusters ADD COLUMN last_seen_ms INTEGER;
ALTER TABLE run_members ADD COLUMN exchanges INTEGER;
ALTER TABLE run_members ADD COLUMN first_seen_ms INTEGER;
ALTER TABLE run_members ADD COLUMN last_seen_ms INTEGER;

-- A cluster's requests per day (day = days since 1970-01-01 UTC).
CREATE TABLE run_cluster_days (
    run_id     INTEGER NOT NULL REFERENCES link_runs (run_id),
    cluster_id INTEGER NOT NULL,
    day        INTEGER NOT NULL,
    exchanges  INTEGER NOT NULL,
    PRIMARY KEY (run_id, cluster_id, day)
) WITHOUT ROWID;

-- Sort orders of the cluster list and a cluster's members and links, served by an index each.
CREATE INDEX run_clusters_by_risk ON run_clusters (run_id, risk_score, cluster_id);
CREATE INDEX run_clusters_by_size ON run_clusters (run_id, size, cluster_id);
CREATE INDEX run_clusters_by_exchanges ON run_clusters (run_id, exchanges, cluster_id);
CREATE INDEX run_clusters_by_first_seen ON run_clusters (run_id, first_seen_ms, cluster_id);
CREATE INDEX run_clusters_by_last_seen ON run_clusters (run_id, last_seen_ms, cluster_id);
CREATE INDEX run_members_by_cluster_exchanges ON run_members (run_id, cluster_id, exchanges, account_pk);
CREATE INDEX run_links_by_cluster_score ON run_links (run_id, cluster_id, score, link_id);

DROP VIEW clusters;
CREATE VIEW clusters AS
SELECT c.cluster_id, c.size, c.exchanges, c.risk_score, c.indicators, c.signals, c.change, c.previous,
       strftime('%Y-%m-%dT%H:%M:%fZ', c.first_seen_ms / 1000.0, 'unixepoch') AS first_seen,
       strftime('%Y-%m-%dT%H:%M:%fZ', c.last_seen_ms / 1000.0, 'unixepoch') AS last_seen,
       c.first_seen_ms, c.last_seen_ms
FROM run_clusters c JOIN latest_link_run l ON c.run_id = l.run_id;

CREATE VIEW cluster_days AS
SELECT d.cluster_id, date(d.day * 86400, 'unixepoch') AS day, d.exchanges
FROM run_cluster_days d JOIN latest_link_run l ON d.run_id = l.run_id;

-- Full-text search over prompts (FTS5, external content: the text stays in
-- exchange_rows). Filled by `casebook index`, up to the exchange recorded in
-- prompt_index_state; exchanges ingested later are added by the next run.
CREATE VIRTUAL TABLE prompt_index USING fts5(prompt, content = 'exchange_rows', content_rowid = 'exchange_pk');
CREATE TABLE prompt_index_state (
    id             INTEGER PRIMARY KEY CHECK (id = 1),
    built_through  INTEGER NOT NULL,
    built_at_ms    INTEGER NOT NULL,
    seconds        REAL    NOT NULL
);

-- MARK: views for scripts that aggregate.

-- The exchanges view also shows its dictionary keys, so a script can group by them
-- without joining text.
DROP VIEW exchanges;
CREATE VIEW exchanges AS
SELECT e.exchange_pk,
       e.exchange_id,
       a.account_id,
       strftime('%Y-%m-%dT%H:%M:%fZ', e.ts_ms / 1000.0, 'unixepoch') AS ts,
       e.ts_ms,
       m.name AS model,
       e.api_key_id,
       i.ip,
       u.text AS user_agent,
       e.input_tokens,
       e.output_tokens,
       e.status,
       e.latency_ms,
       e.prompt,
       e.response,
       e.extra,
       e.account_pk,
       f.path AS source_file,
       e.source_line,
       e.model_pk,
       e.ip_pk,
       e.user_agent_pk
FROM exchange_rows e
JOIN account_rows a ON a.account_pk = e.account_pk
LEFT JOIN models m ON m.model_pk = e.model_pk
LEFT JOIN ip_rows i ON i.ip_pk = e.ip_pk
LEFT JOIN user_agents u ON u.user_agent_pk = e.user_agent_pk
JOIN source_files f ON f.file_id = e.source_file_id;

-- Exchange metadata without text or provenance: counts and sums over it are
-- answered from the (account, time) index, several times faster than through `exchanges`.
CREATE VIEW exchange_meta AS
SELECT exchange_pk, exchange_id, account_pk, ts_ms, model_pk, ip_pk, user_agent_pk,
       input_tokens, output_tokens, status, latency_ms
FROM exchange_rows;
