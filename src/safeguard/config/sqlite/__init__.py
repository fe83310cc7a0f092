"""SQLite backend for the embedded default: Django's, with writers queued in-process."""
