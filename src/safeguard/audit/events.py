"""The closed set of audit event types; call sites use these members, never string literals."""

from enum import StrEnum


class AuditEventType(StrEnum):
    ESCALATION_RECEIVED = "escalation.received"
    CASE_OPENED = "case.opened"
    CASE_ESCALATION_JOINED = "case.escalation_joined"
    CASE_TRANSITIONED = "case.transitioned"
    CONTENT_MEDIA_STORED = "content.media_stored"
    USER_CREATED = "user.created"
    USER_ROLE_CHANGED = "user.role_changed"
    TOKEN_CREATED = "token.created"  # noqa: S105 - an event name
    TOKEN_REVOKED = "token.revoked"  # noqa: S105 - an event name


class AuditSource(StrEnum):
    """Where the change came from, so an auditor can tell the API from the console or a task."""

    API = "api"
    CONSOLE = "console"
    CLI = "cli"
    TASK = "task"
    SYSTEM = "system"
