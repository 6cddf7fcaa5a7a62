-- One row per schema version the store has been brought to (see assess/store/connection.py).
CREATE TABLE IF NOT EXISTS schema_version (
    version    INTEGER NOT NULL,
    name       VARCHAR NOT NULL,
    applied_at TIMESTAMP NOT NULL
);
