"""The append-only, hash-chained audit log: recording, verification and reading."""
