-- Schema version 5: exchange ids that do not ascend.
--
-- An ingest that finds exchange ids in no particular order (UUIDs) while filling an
-- empty table sets the unique index on exchange_id aside, as it does the account
-- index: inserting ids anywhere in a large index costs more than sorting them once at
-- the end. Until that index is rebuilt, an in-memory filter of the ids already loaded
-- names the records that may repeat one; each such record is loaded and its exact
-- input text kept here. When the load ends they are checked against the rebuilt index:
-- a repeat is removed from exchange_rows and counted as a duplicate or stored in
-- rejects as a conflict, with this text. Empty in a file at rest.
CREATE TABLE exchange_id_suspects (
    exchange_pk INTEGER PRIMARY KEY,
    raw         TEXT    NOT NULL
);
