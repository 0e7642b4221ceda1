-- casebook case file, schema version 3: how a file was read is part of its identity.

-- The timestamp rules an ingest read the file with: '' for the defaults (epoch
-- seconds, offsets required), else e.g. 'epoch_unit=ms;timezone=Europe/Paris'.
-- The same bytes read with other rules are another file.
ALTER TABLE source_files ADD COLUMN read_options TEXT NOT NULL DEFAULT '';
