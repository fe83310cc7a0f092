"""Parsing the portal's forms: a partner's submission becomes intake's EscalationIn, and a
refusal (the contract's or a service's) is placed at the field it is about."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field

from django.http import QueryDict
from pydantic import ValidationError

from safeguard.intake.enums import Category, Channel, LERequestType, SubjectRole
from safeguard.intake.schemas import EscalationIn
from safeguard.lawenforcement.models import Partner
from safeguard.lawenforcement.request_types import FIELDS, Kind, RequestType

# Fields the form shows apart from the type's own text fields.
NAMED_ACCOUNTS = "named_accounts"
LEGAL_DOCUMENT = "legal_document"


def text_fields(kind: RequestType) -> list[tuple[str, str]]:
    """The type's required fields the partner types in, with what each means."""
    return [
        (name, FIELDS[name])
        for name in kind.required_fields
        if name not in (NAMED_ACCOUNTS, LEGAL_DOCUMENT)
    ]


def coarse_type(kind: RequestType) -> LERequestType:
    """The contract's coarse request type for a type: emergency types (US and EU) are
    emergency disclosures, which triage makes P0; preservations are preservations."""
    if kind.emergency:
        return LERequestType.EMERGENCY_DISCLOSURE
    if kind.kind is Kind.PRESERVATION:
        return LERequestType.PRESERVATION
    return LERequestType.LEGAL_PROCESS


@dataclass
class Submission:
    """What the partner typed, kept to show the form again, and the errors by field."""

    values: dict[str, str]
    accounts: list[str]
    errors: dict[str, str] = field(default_factory=dict)
    payload: EscalationIn | None = None


def _lines(text: str) -> list[str]:
    return list(dict.fromkeys(line.strip() for line in text.splitlines() if line.strip()))


def submission_parse(*, data: QueryDict, kind: RequestType, partner: Partner) -> Submission:
    """The form as intake's payload: the partner's agency and e-mail, the chosen type's key and
    fields, the named accounts as suspects, and a fresh external id (each submission is new)."""
    names = [name for name, _ in text_fields(kind)]
    values = {
        "summary": data.get("summary", "").strip(),
        "category": data.get("category", "").strip(),
        "non_disclosure": "on" if data.get("non_disclosure") else "",
        "non_disclosure_until": data.get("non_disclosure_until", "").strip(),
        NAMED_ACCOUNTS: data.get(NAMED_ACCOUNTS, ""),
        **{f"field_{name}": data.get(f"field_{name}", "").strip() for name in names},
    }
    accounts = _lines(values[NAMED_ACCOUNTS])
    out = Submission(values=values, accounts=accounts)
    if values["category"] not in {c.value for c in Category}:
        out.errors["category"] = "choose a category"
        return out
    # Empty fields are left out, so the service's own defaults apply (the summary states the
    # danger when the danger field is empty) and its check names what is really missing.
    fields = {name: values[f"field_{name}"] for name in names if values[f"field_{name}"]}
    try:
        out.payload = EscalationIn.model_validate(
            {
                "channel": Channel.LAW_ENFORCEMENT.value,
                "external_id": f"portal-{uuid.uuid4()}",
                "category": values["category"],
                "summary": values["summary"],
                "subjects": [
                    {"platform_id": account, "role": SubjectRole.SUSPECT.value}
                    for account in accounts
                ],
                "law_enforcement": {
                    "agency": partner.agency.name,
                    "country": partner.agency.country,
                    "request_type": coarse_type(kind).value,
                    "contact": partner.user.email or partner.user.username,
                    "legal_type": kind.key,
                    "fields": fields,
                    "non_disclosure": bool(values["non_disclosure"]),
                    "non_disclosure_until": values["non_disclosure_until"] or None,
                },
            }
        )
    except ValidationError as exc:
        for problem in exc.errors():
            where = _field_of(problem["loc"])
            out.errors.setdefault(where, problem["msg"])
    return out


def _field_of(loc: tuple[int | str, ...]) -> str:
    """The form field a contract error is about."""
    path = [str(part) for part in loc]
    if path[:1] == ["subjects"]:
        return NAMED_ACCOUNTS
    if path[:2] == ["law_enforcement", "fields"] and len(path) > 2:
        return f"field_{path[2]}"
    if path[:1] == ["law_enforcement"] and len(path) > 1:
        return path[1] if path[1] in ("non_disclosure_until", "non_disclosure") else "form"
    return path[0] if path and path[0] in ("summary", "category") else "form"


def errors_from_refusal(message: str, kind: RequestType) -> dict[str, str]:
    """A service's refusal shown at each field it names ("… needs: case_number (…)"), or at the
    top of the form when it names none."""
    placed: dict[str, str] = {}
    for name in kind.required_fields:
        if f"{name} (" in message:
            placed[NAMED_ACCOUNTS if name == NAMED_ACCOUNTS else f"field_{name}"] = message
    return placed or {"form": message}


def checked(data: Mapping[str, object], name: str) -> bool:
    return bool(data.get(name))
