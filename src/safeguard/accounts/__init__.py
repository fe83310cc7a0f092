"""Users, roles and permissions, and API tokens for service accounts."""
