"""The staff console: sign-in and the pages specialists work in."""
