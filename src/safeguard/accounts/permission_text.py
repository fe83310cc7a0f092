"""What each permission lets a person do, in words for the console (the home page lists them).

Every `Permission` member has its sentence here (tests/accounts/test_preferences.py fails on one
without); until it is written, a sentence made from the member's `scope:resource:action` name
stands in, so a page never shows the raw string.
"""

from __future__ import annotations

from collections.abc import Iterable

from safeguard.accounts.permissions import Permission

P = Permission

DESCRIPTIONS: dict[Permission, str] = {
    P.INTAKE_ESCALATION_CREATE: "Send escalations in (the platform's service account)",
    P.INTAKE_LE_REQUEST_CREATE: "File law-enforcement requests",
    P.INTAKE_ESCALATION_READ: "Read the escalations of the cases you can see",
    P.EVIDENCE_MEDIA_UPLOAD: "Upload the bytes of reported content",
    P.CASES_CASE_READ: "See the cases of the queues you work",
    P.CASES_CASE_REVIEW: "Claim and review cases",
    P.CASES_CASE_DECIDE: "Record decisions on cases",
    P.CASES_CASE_CLOSE: "Close cases",
    P.CASES_CASE_REOPEN: "Reopen closed cases",
    P.CASES_CASE_ASSIGN: "Reassign cases and reverse actions (lead)",
    P.CASES_CASE_PRIORITIZE: "Change a case's priority, with a reason",
    P.CASES_QUEUE_MANAGE: "Create and change queues",
    P.CASES_GRANT_MANAGE: "Open a queue or a case to an auditor for a while",
    P.CASES_PLAYBOOK_MANAGE: "Write and publish playbooks",
    P.TRIAGE_POLICY_MANAGE: "Change the triage policy",
    P.TRIAGE_POLICY_READ: "Read the triage policy",
    P.ROTA_PAGE_ACKNOWLEDGE: "Acknowledge the pages sent to you",
    P.MATCHING_BANK_MANAGE: "Manage hash banks",
    P.MATCHING_HASH_MATCH: "Match hashes against the banks",
    P.ACTIONS_ACTION_CONFIRM: "Confirm actions carried out on the platform",
    P.EVIDENCE_MEDIA_VIEW: "View protected media, blurred until you reveal it (audited)",
    P.EVIDENCE_HOLD_READ: "See the legal holds on evidence",
    P.EVIDENCE_HOLD_MANAGE: "Place, extend and release legal holds",
    P.EVIDENCE_CONTENT_DELETE: "Delete stored evidence that no hold protects",
    P.EVIDENCE_CONTENT_DESTROY: "Destroy reported material on a lawful request (two legal staff)",
    P.LE_REQUEST_SUBMIT: "Submit and follow your agency's requests",
    P.LE_REQUEST_READ: "See law-enforcement requests",
    P.LE_REQUEST_MANAGE: "Verify, run and answer law-enforcement requests",
    P.LE_AGENCY_MANAGE: "Verify agencies and their people",
    P.LE_DISCLOSURE_MANAGE: "Prepare and approve disclosures (never your own)",
    P.LE_DISCLOSURE_DOWNLOAD: "Download the disclosures released to you",
    P.LE_REFERRAL_CREATE: "Refer a child in danger to the police",
    P.AUDIT_EVENT_READ: "Read the audit log",
    P.AUDIT_CHAIN_VERIFY: "Verify the audit log's chain",
    P.ACCOUNTS_USER_MANAGE: "Manage accounts and roles",
    P.ACCOUNTS_TOKEN_MANAGE: "Issue and revoke API tokens",
}


def _spelled_out(permission: Permission) -> str:
    scope, resource, action = (part.replace("_", " ") for part in permission.value.split(":"))
    return f"{action.capitalize()} {resource} ({scope})"


def permission_description(permission: Permission) -> str:
    return DESCRIPTIONS.get(permission) or _spelled_out(permission)


def permission_descriptions(permissions: Iterable[Permission]) -> list[tuple[str, str]]:
    """(sentence, permission name) for each of `permissions`, in the enum's order."""
    held = set(permissions)
    return [(permission_description(p), p.value) for p in Permission if p in held]
