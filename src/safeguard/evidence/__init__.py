"""The evidence vault: content items, and their bytes encrypted and content-addressed."""
