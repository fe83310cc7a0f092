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
    CASE_READ_UNDER_GRANT = "case.read_under_grant"
    # A search that found cases (cases.search): what was asked and which cases it showed.
    CASES_SEARCHED = "cases.searched"
    # One lead's change to many cases at once (triage.bulk); each case is audited on its own too.
    CASES_BULK_CHANGED = "cases.bulk_changed"
    READ_GRANT_CREATED = "read_grant.created"
    READ_GRANT_REVOKED = "read_grant.revoked"
    QUEUE_SAVED = "queue.saved"
    POLICY_ACTIVATED = "policy.activated"
    # The triage policy lifecycle (triage/lifecycle.py): a version uploaded as a draft, made the
    # shadow evaluated beside the live one, and promoted to live with a reason.
    POLICY_UPLOADED = "policy.uploaded"
    POLICY_SHADOWED = "policy.shadowed"
    POLICY_PROMOTED = "policy.promoted"
    # Playbooks (cases/playbooks.py): a version activated, a step ticked on a case, and a lead
    # closing a case with required steps unticked.
    PLAYBOOK_ACTIVATED = "playbook.activated"
    PLAYBOOK_STEP_TICKED = "playbook.step_ticked"
    PLAYBOOK_STEPS_WAIVED = "playbook.steps_waived"
    PAGE_SENT = "page.sent"
    PAGE_DELIVERED = "page.delivered"
    PAGE_DELIVERY_FAILED = "page.delivery_failed"
    PAGE_ACKNOWLEDGED = "page.acknowledged"
    # Acting on a case (a claim or a first action) answers its open pages.
    PAGE_ANSWERED_BY_ACTION = "page.answered_by_action"
    PAGE_ESCALATED = "page.escalated"
    BANK_CREATED = "bank.created"
    BANK_ENTRIES_IMPORTED = "bank.entries_imported"
    BANK_ENABLED_CHANGED = "bank.enabled_changed"
    BANK_ENTRY_ENABLED_CHANGED = "bank.entry_enabled_changed"
    CONTENT_CLAIM_RECORDED = "content.claim_recorded"
    # The owner's later description changed a livestream (its links, live, ended).
    CONTENT_STREAM_UPDATED = "content.stream_updated"
    CONTENT_MATCHED = "content.matched"
    MEDIA_REVEALED = "media.revealed"
    MEDIA_DOWNLOADED = "media.downloaded"
    VIEW_SETTINGS_SAVED = "view_settings.saved"
    CASE_DECIDED = "case.decided"
    CASE_NOTE_ADDED = "case.note_added"
    CASE_ESCALATED_TO_LEAD = "case.escalated_to_lead"
    ACTION_REQUESTED = "action.requested"
    ACTION_SENT = "action.sent"
    ACTION_DELIVERY_FAILED = "action.delivery_failed"
    ACTION_CONFIRMED = "action.confirmed"
    CONTENT_MEDIA_STORED = "content.media_stored"
    # Legal holds and retention (evidence/holds.py, evidence/retention.py): a hold placed,
    # extended or released; content deleted by a person, by the retention job (recorded as
    # hashes, never content), or destroyed on a lawful request with two legal approvers.
    LEGAL_HOLD_PLACED = "legal_hold.placed"
    LEGAL_HOLD_EXTENDED = "legal_hold.extended"
    LEGAL_HOLD_RELEASED = "legal_hold.released"
    CONTENT_DELETED = "content.deleted"
    CONTENT_RETENTION_DELETED = "content.retention_deleted"
    DESTRUCTION_REQUESTED = "destruction.requested"
    DESTRUCTION_APPROVED = "destruction.approved"
    # Law enforcement (lawenforcement app): agencies and the verification of their people,
    # inbound requests through their state machine and clocks, disclosures (four eyes) and
    # outbound emergency referrals.
    LE_AGENCY_SAVED = "le_agency.saved"
    LE_VERIFICATION_RECORDED = "le_verification.recorded"
    LE_REQUEST_RECEIVED = "le_request.received"
    LE_REQUEST_TRANSITIONED = "le_request.transitioned"
    LE_REQUEST_DOCUMENT_STORED = "le_request.document_stored"
    # Legal staff opened a request's legal document (it may name victims and officers).
    LE_REQUEST_DOCUMENT_READ = "le_request.document_read"
    LE_REQUEST_EMERGENCY_DETERMINED = "le_request.emergency_determined"
    LE_REQUEST_PRESERVATION_EXTENDED = "le_request.preservation_extended"
    LE_REQUEST_USER_NOTICE_SUPPRESSED = "le_request.user_notice_suppressed"
    LE_REQUEST_DEADLINE_WARNED = "le_request.deadline_warned"
    LE_REQUEST_DEADLINE_BREACHED = "le_request.deadline_breached"
    LE_DISCLOSURE_PREPARED = "le_disclosure.prepared"
    # A content item put into a disclosure package: the last link of its chain of custody.
    CONTENT_DISCLOSED = "content.disclosed"
    LE_DISCLOSURE_APPROVED = "le_disclosure.approved"
    LE_DISCLOSURE_RELEASED = "le_disclosure.released"
    LE_DISCLOSURE_DOWNLOADED = "le_disclosure.downloaded"
    LE_REFERRAL_SENT = "le_referral.sent"
    LE_REFERRAL_ACKNOWLEDGED = "le_referral.acknowledged"
    LE_REFERRAL_OVERDUE = "le_referral.overdue"
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
    USER_ENROLMENT_INVITE_ISSUED = "user.enrolment_invite_issued"
    USER_ENROLMENT_INVITE_USED = "user.enrolment_invite_used"
    USER_ENROLMENT_INVITE_REFUSED = "user.enrolment_invite_refused"
    USER_ENROLMENT_INVITE_EXPIRED = "user.enrolment_invite_expired"
    USER_SIGN_IN_FAILED = "user.sign_in_failed"
    USER_SIGN_IN_LOCKED_OUT = "user.sign_in_locked_out"
    USER_SIGN_IN_UNLOCKED = "user.sign_in_unlocked"
    # A person's own display preferences: their time zone and the P0 sound.
    USER_PREFERENCES_SAVED = "user.preferences_saved"


class AuditSource(StrEnum):
    """Where the change came from, so an auditor can tell the API from the console or a task."""

    API = "api"
    CONSOLE = "console"
    CLI = "cli"
    TASK = "task"
    SYSTEM = "system"
