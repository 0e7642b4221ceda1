-- Schema version 6: what a link run says about the case file it linked.
--
-- Some of what a run finds is no cluster but bears on every cluster: the file looks
-- like one operator's accounts alone, so shared values weighed nothing; placeholders
-- were read as absent; some account ids are other accounts' ids written another way.
-- `casebook link` says it once on standard error; kept here, the TUI, explain and an
-- evidence bundle's report say it with the run. One JSON object per run since this
-- version (schema/README.md lists its keys).
CREATE TABLE link_run_caveats (
    run_id  INTEGER PRIMARY KEY REFERENCES link_runs (run_id),
    caveats TEXT    NOT NULL CHECK (json_valid(caveats))
);
