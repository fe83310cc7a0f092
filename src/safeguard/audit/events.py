"""The closed set of audit event types; call sites use these members, never string literals."""

from enum import StrEnum


class AuditEventType(StrEnum):
    ESCALATION_RECEIVED = "escalation.received"
    CASE_OPENED = "case.opened"
    CASE_ESCALATION_JOINED = "case.escalation_joined"
    CASE_TRANSITIONED = "case.transitioned"
    CASE_TRIAGED = "case.triaged"
    CASE_PRIORITY_OVERRIDDEN = "case.priority_overridden"
    CASE_CLAIMED = "case.claimed"
    CASE_CLAIM_RENEWED = "case.claim_renewed"
    CASE_CLAIM_RELEASED = "case.claim_released"
    CASE_REASSIGNED = "case.reassigned"
    CASE_DEADLINE_WARNED = "case.deadline_warned"
    CASE_DEADLINE_BREACHED = "case.deadline_breached"
    QUEUE_SAVED = "queue.saved"
    POLICY_ACTIVATED = "policy.activated"
    PAGE_SENT = "page.sent"
    PAGE_DELIVERED = "page.delivered"
    PAGE_DELIVERY_FAILED = "page.delivery_failed"
    PAGE_ACKNOWLEDGED = "page.acknowledged"
    PAGE_ESCALATED = "page.escalated"
    BANK_CREATED = "bank.created"
    BANK_ENTRIES_IMPORTED = "bank.entries_imported"
    BANK_ENABLED_CHANGED = "bank.enabled_changed"
    BANK_ENTRY_ENABLED_CHANGED = "bank.entry_enabled_changed"
    CONTENT_MATCHED = "content.matched"
    MEDIA_REVEALED = "media.revealed"
    CASE_DECIDED = "case.decided"
    CASE_ESCALATED_TO_LEAD = "case.escalated_to_lead"
    ACTION_REQUESTED = "action.requested"
    ACTION_SENT = "action.sent"
    ACTION_DELIVERY_FAILED = "action.delivery_failed"
    ACTION_CONFIRMED = "action.confirmed"
    CONTENT_MEDIA_STORED = "content.media_stored"
    USER_CREATED = "user.created"
    USER_ROLE_CHANGED = "user.role_changed"
    TOKEN_CREATED = "token.created"  # noqa: S105 - an event name
    TOKEN_REVOKED = "token.revoked"  # noqa: S105 - an event name
    USER_TOTP_DEVICE_CREATED = "user.totp_device_created"
    USER_TOTP_CONFIRMED = "user.totp_confirmed"
    USER_RECOVERY_CODES_ISSUED = "user.recovery_codes_issued"
    USER_SIGNED_IN_SECOND_FACTOR = "user.signed_in_second_factor"
    USER_RECOVERY_CODE_USED = "user.recovery_code_used"
    USER_SECOND_FACTOR_FAILED = "user.second_factor_failed"
    USER_SECOND_FACTOR_RESET = "user.second_factor_reset"


class AuditSource(StrEnum):
    """Where the change came from, so an auditor can tell the API from the console or a task."""

    API = "api"
    CONSOLE = "console"
    CLI = "cli"
    TASK = "task"
    SYSTEM = "system"
