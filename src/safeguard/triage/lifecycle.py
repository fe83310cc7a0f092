"""The triage policy lifecycle, draft -> shadow -> live: upload a version with a status, make a
version the shadow, promote one to live. Each change is audited in its own transaction.

A version is compiled when it is uploaded, whatever its status, so a draft or the shadow can
always be promoted. At most one version is live (none means the built-in default) and at most
one is the shadow; making a second version the shadow replaces the first, which becomes a draft,
as promoting a version makes the old live one a draft.
"""

from __future__ import annotations

from functools import cache

from django.db import transaction

from safeguard.accounts.models import User
from safeguard.accounts.permissions import Permission
from safeguard.audit.events import AuditEventType, AuditSource
from safeguard.audit.services import audit_record
from safeguard.core.errors import Conflict, Forbidden, Invalid, NotFound
from safeguard.core.versioned import version_get_or_create
from safeguard.triage.models import PolicyStatus, TriagePolicy
from safeguard.triage.policy import Policy, compile_policy

__all__ = [
    "PolicyConflict",
    "PolicyForbidden",
    "PolicyNotFound",
    "PolicyPromotionInvalid",
    "policy_compiled",
    "policy_promote",
    "policy_shadow",
    "policy_shadow_current",
    "policy_upload",
]


class PolicyConflict(Conflict):
    pass


class PolicyNotFound(NotFound):
    pass


class PolicyForbidden(Forbidden):
    pass


class PolicyPromotionInvalid(Invalid):
    pass


@cache
def policy_compiled(source_text: str) -> Policy:
    """A policy text compiled once per process: a version names one text for ever."""
    return compile_policy(source_text)


def policy_shadow_current() -> tuple[str, str] | None:
    """The shadow policy's version and text, or None when there is no shadow."""
    row: tuple[str, str] | None = (
        TriagePolicy.objects.filter(status=PolicyStatus.SHADOW)
        .values_list("version", "source")
        .first()
    )
    return row


def _check_may_manage(actor: User) -> None:
    if not actor.has_permission(Permission.TRIAGE_POLICY_MANAGE):
        raise PolicyForbidden(
            f"{actor.username} may not change the triage policy (needs triage:policy:manage)"
        )


def _locked(version: str) -> TriagePolicy:
    record = TriagePolicy.objects.select_for_update().filter(version=version).first()
    if record is None:
        raise PolicyNotFound(f"no triage policy has version {version!r}")
    return record


def _replace(record: TriagePolicy, status: PolicyStatus) -> str | None:
    """Give `record` the status `status`, making the version that held it a draft; returns
    that version's name. The other version is demoted first, so that the database's
    one-live and one-shadow constraints hold after every statement."""
    holder = (
        TriagePolicy.objects.select_for_update().filter(status=status).exclude(pk=record.pk).first()
    )
    if holder is not None:
        holder.status = PolicyStatus.DRAFT
        holder.save(update_fields=["status"])
    record.status = status
    record.save(update_fields=["status"])
    # `active` is computed by the database from the status; read what it computed.
    record.refresh_from_db(fields=["active"])
    return holder.version if holder is not None else None


def _make_shadow(
    record: TriagePolicy, *, actor: User, source: AuditSource, uploaded: bool
) -> TriagePolicy:
    if record.status == PolicyStatus.LIVE:
        raise PolicyConflict(
            f"version {record.version!r} is live; a live policy cannot be its own shadow"
        )
    if record.status == PolicyStatus.SHADOW:
        return record
    replaced = _replace(record, PolicyStatus.SHADOW)
    audit_record(
        event_type=AuditEventType.POLICY_SHADOWED,
        actor=actor,
        source=source,
        target_type="triage_policy",
        target_id=record.version,
        data={
            "rules": [r.name for r in policy_compiled(record.source).rules],
            "uploaded": uploaded,
            "replaced": replaced,
        },
    )
    return record


@transaction.atomic
def policy_upload(
    *, source_text: str, status: PolicyStatus, actor: User, source: AuditSource
) -> TriagePolicy:
    """Compile a policy and store it with `status`. A policy that does not compile changes
    nothing (PolicyError names the rule). Uploading a version again with the same text moves it
    to `status`; with another text it is refused (PolicyConflict).

    Live is what uploading always meant (audited `policy.activated`); the old live version
    becomes a draft. A shadow replaces the previous shadow (`policy.shadowed`); a draft is only
    stored (`policy.uploaded`).
    """
    _check_may_manage(actor)
    policy = policy_compiled(source_text)  # raises PolicyError naming the rule
    record: TriagePolicy
    created: bool
    record, created = version_get_or_create(
        TriagePolicy,
        version=policy.version,
        source_text=source_text,
        uploaded_by=actor,
        conflict=PolicyConflict,
        what="rules",
        status=PolicyStatus.DRAFT,
    )
    rules = [r.name for r in policy.rules]
    if status == PolicyStatus.SHADOW:
        return _make_shadow(record, actor=actor, source=source, uploaded=created)
    if status == PolicyStatus.DRAFT:
        if not created:
            if record.status != PolicyStatus.DRAFT:
                raise PolicyConflict(
                    f"version {record.version!r} is {record.status}; uploading it again as a "
                    "draft would not change that"
                )
            return record
        audit_record(
            event_type=AuditEventType.POLICY_UPLOADED,
            actor=actor,
            source=source,
            target_type="triage_policy",
            target_id=record.version,
            data={"rules": rules, "status": PolicyStatus.DRAFT.value},
        )
        return record
    previous = _replace(record, PolicyStatus.LIVE)
    audit_record(
        event_type=AuditEventType.POLICY_ACTIVATED,
        actor=actor,
        source=source,
        target_type="triage_policy",
        target_id=record.version,
        data={"rules": rules, "previous": previous},
    )
    return record


@transaction.atomic
def policy_shadow(*, version: str, actor: User, source: AuditSource) -> TriagePolicy:
    """Make an uploaded version the shadow policy, replacing the previous shadow (which becomes
    a draft). Making the shadow the shadow again changes nothing and records nothing."""
    _check_may_manage(actor)
    return _make_shadow(_locked(version), actor=actor, source=source, uploaded=False)


@transaction.atomic
def policy_promote(*, version: str, actor: User, source: AuditSource, reason: str) -> TriagePolicy:
    """Make an uploaded version (the shadow, or a draft) live, with a reason; the old live
    version becomes a draft. Audited `policy.promoted` with both versions."""
    _check_may_manage(actor)
    if not reason.strip():
        raise PolicyPromotionInvalid("promoting a policy needs a reason")
    record = _locked(version)
    if record.status == PolicyStatus.LIVE:
        raise PolicyConflict(f"version {version!r} is live already")
    was = record.status
    previous = _replace(record, PolicyStatus.LIVE)
    audit_record(
        event_type=AuditEventType.POLICY_PROMOTED,
        actor=actor,
        source=source,
        target_type="triage_policy",
        target_id=record.version,
        data={"from": was, "previous": previous, "reason": reason.strip()},
    )
    return record
