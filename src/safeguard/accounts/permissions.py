"""Roles and permissions: one enum of `scope:resource:action` strings and each role's set."""

from __future__ import annotations

from enum import StrEnum


class Permission(StrEnum):
    """Everything a person or a service may be allowed to do; nothing is allowed by default."""

    INTAKE_ESCALATION_CREATE = "intake:escalation:create"
    # Law-enforcement partners may file only law-enforcement escalations (their requests).
    INTAKE_LE_REQUEST_CREATE = "intake:le_request:create"
    INTAKE_ESCALATION_READ = "intake:escalation:read"
    EVIDENCE_MEDIA_UPLOAD = "evidence:media:upload"
    CASES_CASE_READ = "cases:case:read"
    CASES_CASE_REVIEW = "cases:case:review"
    CASES_CASE_DECIDE = "cases:case:decide"
    CASES_CASE_CLOSE = "cases:case:close"
    CASES_CASE_REOPEN = "cases:case:reopen"
    CASES_CASE_ASSIGN = "cases:case:assign"
    CASES_CASE_PRIORITIZE = "cases:case:prioritize"
    CASES_QUEUE_MANAGE = "cases:queue:manage"
    # Opening a queue or a case to an auditor for a while (docs/security.md).
    CASES_GRANT_MANAGE = "cases:grant:manage"
    # Uploading and activating a version of the playbooks (cases/playbooks.py).
    CASES_PLAYBOOK_MANAGE = "cases:playbook:manage"
    TRIAGE_POLICY_MANAGE = "triage:policy:manage"
    TRIAGE_POLICY_READ = "triage:policy:read"
    ROTA_PAGE_ACKNOWLEDGE = "rota:page:acknowledge"
    MATCHING_BANK_MANAGE = "matching:bank:manage"
    MATCHING_HASH_MATCH = "matching:hash:match"
    ACTIONS_ACTION_CONFIRM = "actions:action:confirm"
    EVIDENCE_MEDIA_VIEW = "evidence:media:view"
    # Legal holds (evidence/holds.py): reading them, and placing, extending or releasing one.
    EVIDENCE_HOLD_READ = "evidence:hold:read"
    EVIDENCE_HOLD_MANAGE = "evidence:hold:manage"
    # Deleting a content item's stored bytes (refused under a hold), and the one path that
    # destroys held material on a lawful request, which needs two people holding it.
    EVIDENCE_CONTENT_DELETE = "evidence:content:delete"
    EVIDENCE_CONTENT_DESTROY = "evidence:content:destroy"
    # Law enforcement: partners submit and follow their own agency's requests and download the
    # disclosures released to them; legal staff verify, run and answer requests, and approve
    # disclosures (never their own); specialists and leads refer a child in danger to police.
    LE_REQUEST_SUBMIT = "lawenforcement:request:submit"
    LE_REQUEST_READ = "lawenforcement:request:read"
    LE_REQUEST_MANAGE = "lawenforcement:request:manage"
    LE_AGENCY_MANAGE = "lawenforcement:agency:manage"
    LE_DISCLOSURE_MANAGE = "lawenforcement:disclosure:manage"
    LE_DISCLOSURE_DOWNLOAD = "lawenforcement:disclosure:download"
    LE_REFERRAL_CREATE = "lawenforcement:referral:create"
    AUDIT_EVENT_READ = "audit:event:read"
    AUDIT_CHAIN_VERIFY = "audit:chain:verify"
    ACCOUNTS_USER_MANAGE = "accounts:user:manage"
    ACCOUNTS_TOKEN_MANAGE = "accounts:token:manage"  # noqa: S105 - a permission name


class Role(StrEnum):
    """The roles of DESIGN.md §1; a user holds exactly one."""

    SPECIALIST = "specialist"
    LEAD = "lead"
    LEGAL = "legal"
    LE_PARTNER = "le_partner"
    AUDITOR = "auditor"
    ADMIN = "admin"
    SERVICE = "service"


P = Permission

_SPECIALIST = frozenset(
    {
        P.CASES_CASE_READ,
        P.INTAKE_ESCALATION_READ,
        P.CASES_CASE_REVIEW,
        P.CASES_CASE_DECIDE,
        P.CASES_CASE_CLOSE,
        P.TRIAGE_POLICY_READ,
        P.ROTA_PAGE_ACKNOWLEDGE,
        P.MATCHING_HASH_MATCH,
        P.EVIDENCE_MEDIA_VIEW,
        P.LE_REFERRAL_CREATE,
    }
)

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.SPECIALIST: _SPECIALIST,
    # Leads also decide what an auditor may read, and for how long; administrators, who create
    # the auditors' accounts, do not, so no one role both makes an account and opens cases to it.
    Role.LEAD: _SPECIALIST
    | {
        P.CASES_CASE_REOPEN,
        P.CASES_CASE_ASSIGN,
        P.CASES_CASE_PRIORITIZE,
        P.CASES_GRANT_MANAGE,
        P.EVIDENCE_HOLD_READ,
        P.LE_REQUEST_READ,
    },
    # Legal staff run law-enforcement requests, holds and disclosures; they read cases (and so
    # pass a second factor) but do not review media unless a warrant's disclosure needs it.
    Role.LEGAL: frozenset(
        {
            P.CASES_CASE_READ,
            P.INTAKE_ESCALATION_READ,
            P.EVIDENCE_HOLD_READ,
            P.EVIDENCE_HOLD_MANAGE,
            P.EVIDENCE_CONTENT_DELETE,
            P.EVIDENCE_CONTENT_DESTROY,
            P.LE_REQUEST_READ,
            P.LE_REQUEST_MANAGE,
            P.LE_AGENCY_MANAGE,
            P.LE_DISCLOSURE_MANAGE,
        }
    ),
    Role.LE_PARTNER: frozenset(
        {P.INTAKE_LE_REQUEST_CREATE, P.LE_REQUEST_SUBMIT, P.LE_DISCLOSURE_DOWNLOAD}
    ),
    # Auditors read the audit log and change nothing; they read a case only under a lead's
    # expiring read grant (cases.ReadGrant), and each such read is itself audited.
    Role.AUDITOR: frozenset(
        {
            P.AUDIT_EVENT_READ,
            P.AUDIT_CHAIN_VERIFY,
            P.CASES_CASE_READ,
            P.INTAKE_ESCALATION_READ,
            P.EVIDENCE_HOLD_READ,
        }
    ),
    # Administrators run the system; they do not read cases unless also given a case role.
    Role.ADMIN: frozenset(
        {
            P.ACCOUNTS_USER_MANAGE,
            P.ACCOUNTS_TOKEN_MANAGE,
            P.AUDIT_CHAIN_VERIFY,
            P.CASES_QUEUE_MANAGE,
            P.CASES_PLAYBOOK_MANAGE,
            P.TRIAGE_POLICY_MANAGE,
            P.TRIAGE_POLICY_READ,
            P.MATCHING_BANK_MANAGE,
        }
    ),
    # The host platform sends escalations and media; it never reads the team's cases.
    Role.SERVICE: frozenset(
        {
            P.INTAKE_ESCALATION_CREATE,
            P.EVIDENCE_MEDIA_UPLOAD,
            P.MATCHING_HASH_MATCH,
            P.ACTIONS_ACTION_CONFIRM,
        }
    ),
}


def role_permissions(role: str) -> frozenset[Permission]:
    """The permissions of a role name; an unknown or empty role has none."""
    try:
        return ROLE_PERMISSIONS[Role(role)]
    except ValueError:
        return frozenset()


# The platform's service account and law-enforcement partners use the API only; every other role
# works in the console.
CONSOLE_ROLES: frozenset[Role] = frozenset(
    {Role.SPECIALIST, Role.LEAD, Role.LEGAL, Role.AUDITOR, Role.ADMIN}
)

# A role holding any of these needs a second factor (docs/two-factor.md): reading cases shows
# media or its descriptions, and managing accounts, tokens, banks or the triage policy can give
# someone that access or change what is caught.
SECOND_FACTOR_PERMISSIONS: frozenset[Permission] = frozenset(
    {
        P.CASES_CASE_READ,
        P.CASES_CASE_REVIEW,
        P.ACCOUNTS_USER_MANAGE,
        P.ACCOUNTS_TOKEN_MANAGE,
        P.MATCHING_BANK_MANAGE,
        P.TRIAGE_POLICY_MANAGE,
        P.CASES_PLAYBOOK_MANAGE,
        # A law-enforcement partner's session can download a disclosure package (personal data
        # of the accounts it names) and files requests the team acts on at once.
        P.LE_REQUEST_SUBMIT,
    }
)


def console_allowed(role: str) -> bool:
    """Whether a role may sign in to the console at all."""
    try:
        return Role(role) in CONSOLE_ROLES
    except ValueError:
        return False


# Law-enforcement partners sign in to the portal at /le/ only, never to the console.
PORTAL_ROLES: frozenset[Role] = frozenset({Role.LE_PARTNER})


def portal_allowed(role: str) -> bool:
    """Whether a role signs in to the law-enforcement portal (and not the console)."""
    try:
        return Role(role) in PORTAL_ROLES
    except ValueError:
        return False


def second_factor_required(role: str) -> bool:
    """Whether a session of this role must pass TOTP (or a recovery code) before any work."""
    return bool(role_permissions(role) & SECOND_FACTOR_PERMISSIONS)
