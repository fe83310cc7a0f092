"""Template filters of the review console."""
