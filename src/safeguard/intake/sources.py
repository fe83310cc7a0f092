"""Where an escalation came from, told from its channel, its reporter and the caller's account.

Pure: intake records the answer on the escalation, and triage reads it from there.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from safeguard.intake.enums import Channel, ReporterKind, SourceKind, SubjectRole
from safeguard.intake.schemas import EscalationIn

__all__ = ["source_of", "source_of_json"]


def source_of(payload: EscalationIn, *, le_partner: bool) -> tuple[SourceKind, bool]:
    """The source kind and whether the sender is verified (docs/triage-policy.md, sources).

    Law enforcement is verified when the caller is a law-enforcement partner account
    (`le_partner`): one an administrator created by invitation, which signs in with a second
    factor. The same request forwarded by a platform's service account is unverified. A user
    report is a trusted flagger's, a named user's or anonymous, as the platform says; without
    a word from it, a report that names its reporter is a user's, else anonymous.
    """
    reporter = payload.reporter.kind.value if payload.reporter is not None else None
    return _source(
        payload.channel.value,
        reporter,
        any(s.role is SubjectRole.REPORTER for s in payload.subjects),
        le_partner=le_partner,
    )


def source_of_json(payload: Mapping[str, Any], *, le_partner: bool) -> tuple[SourceKind, bool]:
    """`source_of` for an escalation in the contract's JSON (as stored), already validated."""
    reporter = payload.get("reporter")
    subjects = payload.get("subjects") or []
    return _source(
        str(payload.get("channel")),
        reporter.get("kind") if isinstance(reporter, Mapping) else None,
        any(isinstance(s, Mapping) and s.get("role") == SubjectRole.REPORTER for s in subjects),
        le_partner=le_partner,
    )


def _source(
    channel: str, reporter: str | None, named_reporter: bool, *, le_partner: bool
) -> tuple[SourceKind, bool]:
    if channel == Channel.HOTLINE:
        return SourceKind.HOTLINE, True
    if channel == Channel.LAW_ENFORCEMENT:
        if le_partner:
            return SourceKind.LAW_ENFORCEMENT, True
        return SourceKind.LAW_ENFORCEMENT_UNVERIFIED, False
    if channel == Channel.AUTOMATED:
        return SourceKind.CLASSIFIER, True
    if channel == Channel.INTERNAL:
        return SourceKind.INTERNAL, True
    if reporter == ReporterKind.TRUSTED_FLAGGER:
        return SourceKind.TRUSTED_FLAGGER, True
    if reporter == ReporterKind.USER or (reporter is None and named_reporter):
        return SourceKind.USER, False
    return SourceKind.ANONYMOUS, False
