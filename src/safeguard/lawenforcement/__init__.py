"""Law-enforcement requests: legal process, clocks, preservation and disclosure."""
