-- casebook case file, schema version 2: operator clusters from `casebook link`.
-- Every link run is kept; the views show the latest one.

-- One row per `casebook link` run, with the parameters it used.
CREATE TABLE link_runs (
    run_id         INTEGER PRIMARY KEY,
    started_at_ms  INTEGER NOT NULL,
    finished_at_ms INTEGER,
    parameters     TEXT    NOT NULL,
    accounts       INTEGER,
    clusters       INTEGER,
    links          INTEGER,
    status         TEXT    NOT NULL CHECK (status IN ('running', 'complete'))
);

-- Cluster ids are stable across runs: a cluster that continues keeps its id,
-- so cases and notes attached to it stay attached.
CREATE TABLE cluster_ids (
    cluster_id   INTEGER PRIMARY KEY,
    first_run_id INTEGER NOT NULL REFERENCES link_runs (run_id)
);

CREATE TABLE run_clusters (
    run_id      INTEGER NOT NULL REFERENCES link_runs (run_id),
    cluster_id  INTEGER NOT NULL REFERENCES cluster_ids (cluster_id),
    size        INTEGER NOT NULL,
    exchanges   INTEGER NOT NULL,
    risk_score  REAL    NOT NULL,
    indicators  TEXT    NOT NULL,
    signals     TEXT    NOT NULL,
    change      TEXT    NOT NULL CHECK (change IN ('new', 'same', 'grown', 'shrunk', 'merged', 'split')),
    previous    TEXT,
    PRIMARY KEY (run_id, cluster_id)
) WITHOUT ROWID;

CREATE TABLE run_members (
    run_id     INTEGER NOT NULL REFERENCES link_runs (run_id),
    account_pk INTEGER NOT NULL REFERENCES account_rows (account_pk),
    cluster_id INTEGER NOT NULL,
    PRIMARY KEY (run_id, account_pk)
) WITHOUT ROWID;
CREATE INDEX run_members_by_cluster ON run_members (run_id, cluster_id);

-- The links that justify membership: a spanning forest of each cluster.
CREATE TABLE run_links (
    run_id     INTEGER NOT NULL REFERENCES link_runs (run_id),
    link_id    INTEGER NOT NULL,
    cluster_id INTEGER NOT NULL,
    account_a  INTEGER NOT NULL REFERENCES account_rows (account_pk),
    account_b  INTEGER NOT NULL REFERENCES account_rows (account_pk),
    score      REAL    NOT NULL,
    PRIMARY KEY (run_id, link_id)
) WITHOUT ROWID;
CREATE INDEX run_links_by_account_a ON run_links (run_id, account_a);
CREATE INDEX run_links_by_account_b ON run_links (run_id, account_b);

-- What each link rests on: one row per shared attribute.
CREATE TABLE run_link_evidence (
    run_id  INTEGER NOT NULL,
    link_id INTEGER NOT NULL,
    signal  TEXT    NOT NULL,
    value   TEXT    NOT NULL,
    weight  REAL    NOT NULL,
    PRIMARY KEY (run_id, link_id, signal, value)
) WITHOUT ROWID;

-- Clusters of a run that no cluster of the next run continues.
CREATE TABLE run_dissolved (
    run_id     INTEGER NOT NULL REFERENCES link_runs (run_id),
    cluster_id INTEGER NOT NULL,
    size       INTEGER NOT NULL,
    PRIMARY KEY (run_id, cluster_id)
) WITHOUT ROWID;

CREATE VIEW latest_link_run AS
SELECT max(run_id) AS run_id FROM link_runs WHERE status = 'complete';

CREATE VIEW clusters AS
SELECT c.cluster_id, c.size, c.exchanges, c.risk_score, c.indicators, c.signals, c.change, c.previous
FROM run_clusters c JOIN latest_link_run l ON c.run_id = l.run_id;

CREATE VIEW cluster_members AS
SELECT m.cluster_id, a.account_id, m.account_pk
FROM run_members m JOIN latest_link_run l ON m.run_id = l.run_id
JOIN account_rows a ON a.account_pk = m.account_pk;

CREATE VIEW links AS
SELECT k.link_id, k.cluster_id, a.account_id AS account_a, b.account_id AS account_b, k.score
FROM run_links k JOIN latest_link_run l ON k.run_id = l.run_id
JOIN account_rows a ON a.account_pk = k.account_a
JOIN account_rows b ON b.account_pk = k.account_b;

CREATE VIEW link_evidence AS
SELECT e.link_id, e.signal, e.value, e.weight
FROM run_link_evidence e JOIN latest_link_run l ON e.run_id = l.run_id;
