-- casebook case file, schema version 1.
-- Applied by the casebook binary in order with the other files in this folder;
-- documented table by table in README.md beside it.

-- Provenance: one row per input file (or standard-input stream) ingested.
CREATE TABLE source_files (
    file_id           INTEGER PRIMARY KEY,
    path              TEXT    NOT NULL,
    sha256            TEXT,
    size_bytes        INTEGER,
    kind              TEXT    NOT NULL CHECK (kind IN ('accounts', 'payments', 'ips', 'exchanges')),
    format            TEXT    NOT NULL CHECK (format IN ('csv', 'jsonl')),
    compression       TEXT    NOT NULL CHECK (compression IN ('none', 'gzip')),
    started_at_ms     INTEGER NOT NULL,
    finished_at_ms    INTEGER,
    status            TEXT    NOT NULL CHECK (status IN ('loading', 'complete', 'damaged')),
    records_read      INTEGER NOT NULL DEFAULT 0,
    records_loaded    INTEGER NOT NULL DEFAULT 0,
    records_duplicate INTEGER NOT NULL DEFAULT 0,
    records_rejected  INTEGER NOT NULL DEFAULT 0,
    resume_offset     INTEGER NOT NULL DEFAULT 0,
    resume_line       INTEGER NOT NULL DEFAULT 0,
    damage            TEXT
);
CREATE INDEX source_files_by_sha256 ON source_files (sha256);

-- Every IP address seen anywhere (sign-up, request, or an ips record).
-- The enrichment columns are filled only when an ips record describes it.
CREATE TABLE ip_rows (
    ip_pk          INTEGER PRIMARY KEY,
    ip             TEXT    NOT NULL UNIQUE,
    described      INTEGER NOT NULL DEFAULT 0,
    asn            INTEGER,
    as_org         TEXT,
    country        TEXT,
    city           TEXT,
    kind           TEXT,
    extra          TEXT,
    source_file_id INTEGER REFERENCES source_files (file_id),
    source_line    INTEGER,
    content_hash   INTEGER
);

CREATE TABLE account_rows (
    account_pk     INTEGER PRIMARY KEY,
    account_id     TEXT    NOT NULL UNIQUE,
    described      INTEGER NOT NULL DEFAULT 0,
    created_at_ms  INTEGER,
    email          TEXT,
    org_id         TEXT,
    country        TEXT,
    signup_ip_pk   INTEGER REFERENCES ip_rows (ip_pk),
    status         TEXT,
    plan           TEXT,
    extra          TEXT,
    source_file_id INTEGER NOT NULL REFERENCES source_files (file_id),
    source_line    INTEGER NOT NULL,
    content_hash   INTEGER
);

CREATE TABLE payment_rows (
    payment_pk     INTEGER PRIMARY KEY,
    account_pk     INTEGER NOT NULL REFERENCES account_rows (account_pk),
    fingerprint    TEXT    NOT NULL,
    type           TEXT,
    brand          TEXT,
    bin            TEXT,
    last4          TEXT,
    country        TEXT,
    billing_postal TEXT,
    first_used_ms  INTEGER,
    last_used_ms   INTEGER,
    chargebacks    INTEGER,
    extra          TEXT,
    source_file_id INTEGER NOT NULL REFERENCES source_files (file_id),
    source_line    INTEGER NOT NULL,
    content_hash   INTEGER NOT NULL,
    UNIQUE (account_pk, fingerprint)
);
CREATE INDEX payment_rows_by_fingerprint ON payment_rows (fingerprint);

-- Repeated strings of the exchanges table, stored once.
CREATE TABLE models (
    model_pk INTEGER PRIMARY KEY,
    name     TEXT NOT NULL UNIQUE
);
CREATE TABLE user_agents (
    user_agent_pk INTEGER PRIMARY KEY,
    text          TEXT NOT NULL UNIQUE
);

CREATE TABLE exchange_rows (
    exchange_pk    INTEGER PRIMARY KEY,
    exchange_id    TEXT    NOT NULL,
    account_pk     INTEGER NOT NULL REFERENCES account_rows (account_pk),
    ts_ms          INTEGER NOT NULL,
    model_pk       INTEGER REFERENCES models (model_pk),
    api_key_id     TEXT,
    ip_pk          INTEGER REFERENCES ip_rows (ip_pk),
    user_agent_pk  INTEGER REFERENCES user_agents (user_agent_pk),
    input_tokens   INTEGER,
    output_tokens  INTEGER,
    status         INTEGER,
    latency_ms     INTEGER,
    prompt         TEXT,
    response       TEXT,
    extra          TEXT,
    source_file_id INTEGER NOT NULL REFERENCES source_files (file_id),
    source_line    INTEGER NOT NULL,
    content_hash   INTEGER NOT NULL
);
CREATE UNIQUE INDEX exchange_rows_by_exchange_id ON exchange_rows (exchange_id);
-- By account and time; the trailing columns let `casebook link` read every
-- exchange's metadata from this index alone, without the prompt text.
CREATE INDEX exchange_rows_by_account_ts
    ON exchange_rows (account_pk, ts_ms, ip_pk, user_agent_pk, model_pk, input_tokens, output_tokens);

-- Records that could not be loaded, with why. Nothing that was read is lost:
-- a record is loaded, recognised as an identical duplicate, or listed here.
CREATE TABLE rejects (
    reject_id        INTEGER PRIMARY KEY,
    source_file_id   INTEGER NOT NULL REFERENCES source_files (file_id),
    line             INTEGER NOT NULL,
    kind             TEXT    NOT NULL,
    reason           TEXT    NOT NULL,
    detail           TEXT    NOT NULL,
    raw              TEXT    NOT NULL,
    conflict_file_id INTEGER REFERENCES source_files (file_id),
    conflict_line    INTEGER
);
CREATE INDEX rejects_by_file ON rejects (source_file_id, line);

-- Secondary indexes set aside while a bulk load fills an empty table (building
-- them afterwards is several times faster than maintaining them row by row).
-- The ingest that dropped them rebuilds them when it ends; one killed midway
-- leaves them here and the next ingest rebuilds them.
CREATE TABLE deferred_indexes (
    name TEXT PRIMARY KEY,
    sql  TEXT NOT NULL
);

-- MARK: views for scripted SQL: every field of the input contract under its own name.

CREATE VIEW accounts AS
SELECT a.account_pk,
       a.account_id,
       strftime('%Y-%m-%dT%H:%M:%fZ', a.created_at_ms / 1000.0, 'unixepoch') AS created_at,
       a.created_at_ms,
       a.email,
       a.org_id,
       a.country,
       i.ip AS signup_ip,
       a.status,
       a.plan,
       a.extra,
       NOT a.described AS referenced_only,
       f.path AS source_file,
       a.source_line
FROM account_rows a
LEFT JOIN ip_rows i ON i.ip_pk = a.signup_ip_pk
JOIN source_files f ON f.file_id = a.source_file_id;

CREATE VIEW payments AS
SELECT p.payment_pk,
       a.account_id,
       p.fingerprint,
       p.type,
       p.brand,
       p.bin,
       p.last4,
       p.country,
       p.billing_postal,
       strftime('%Y-%m-%dT%H:%M:%fZ', p.first_used_ms / 1000.0, 'unixepoch') AS first_used,
       p.first_used_ms,
       strftime('%Y-%m-%dT%H:%M:%fZ', p.last_used_ms / 1000.0, 'unixepoch') AS last_used,
       p.last_used_ms,
       p.chargebacks,
       p.extra,
       f.path AS source_file,
       p.source_line
FROM payment_rows p
JOIN account_rows a ON a.account_pk = p.account_pk
JOIN source_files f ON f.file_id = p.source_file_id;

CREATE VIEW ips AS
SELECT i.ip_pk,
       i.ip,
       i.asn,
       i.as_org,
       i.country,
       i.city,
       i.kind,
       i.extra,
       f.path AS source_file,
       i.source_line
FROM ip_rows i
JOIN source_files f ON f.file_id = i.source_file_id
WHERE i.described;

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
       e.source_line
FROM exchange_rows e
JOIN account_rows a ON a.account_pk = e.account_pk
LEFT JOIN models m ON m.model_pk = e.model_pk
LEFT JOIN ip_rows i ON i.ip_pk = e.ip_pk
LEFT JOIN user_agents u ON u.user_agent_pk = e.user_agent_pk
JOIN source_files f ON f.file_id = e.source_file_id;

CREATE VIEW rejects_by_reason AS
SELECT f.path AS source_file, r.kind, r.reason, count(*) AS records
FROM rejects r JOIN source_files f ON f.file_id = r.source_file_id
GROUP BY r.source_file_id, r.kind, r.reason;
