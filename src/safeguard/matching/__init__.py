"""Known-material detection: hash algorithms, hash banks, the exact index and scanning."""
