"""Who is on duty, and paging them: P0 pages, deadline notices, acknowledgements, escalation."""
