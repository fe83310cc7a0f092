"""Disclosures: a package assembled from what Safeguard holds about the named accounts, limited
by what the request's legal process allows, approved by a second legal person, released
encrypted and downloaded once (the package format is evidence/custody.py)."""

from __future__ import annotations

import hashlib
import io
import json
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from safeguard.accounts.models import User
from safeguard.accounts.permissions import Permission
from safeguard.actions.models import Action
from safeguard.audit.events import AuditEventType, AuditSource
from safeguard.audit.leaves import canonical_json
from safeguard.audit.models import AuditEvent
from safeguard.audit.selectors import audit_event_proofs
from safeguard.audit.services import audit_record
from safeguard.core.errors import Conflict, Forbidden, Invalid, NotFound
from safeguard.evidence.custody import (
    CustodyEntry,
    PackageFile,
    Prepared,
    assemble_package,
    encrypt_package,
    prepare_manifest,
    summary_pdf,
)
from safeguard.evidence.enums import MEDIA_KINDS
from safeguard.evidence.models import ContentItem
from safeguard.evidence.store import vault
from safeguard.intake.models import EscalationSubject, Subject
from safeguard.lawenforcement.models import Disclosure, DisclosureState, LERequest
from safeguard.lawenforcement.request_types import DataCategory, Kind, RequestType, scope_refusal
from safeguard.lawenforcement.selectors import linked_cases, partner_of, type_of
from safeguard.lawenforcement.services import le_request_transition, requester_unverified
from safeguard.lawenforcement.workflow import RequestState, RequestTransition

# How long the partner's download link works, and it works once.
LINK_LIFETIME = timedelta(hours=72)
MAX_PACKAGE_BYTES = 2 * 1024 * 1024 * 1024


class DisclosureRefused(Invalid):
    """What the process does not allow, or what is missing; the message names the rule."""


class FourEyes(Forbidden):
    pass


class DisclosureConflict(Conflict):
    pass


class LinkNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("no such download link, or it has expired or been used")


def _require(actor: User) -> None:
    if not actor.has_permission(Permission.LE_DISCLOSURE_MANAGE):
        raise FourEyes(f"{actor.username} may not prepare or approve disclosures (legal staff)")


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)[:120] or "item"


def _json(value: Any) -> bytes:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False).encode() + b"\n"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


@dataclass
class _Assembly:
    files: list[PackageFile]
    custody: dict[str, list[CustodyEntry]]
    notes: list[str]


def _custody(item: ContentItem, *, names_revealed: bool) -> list[CustodyEntry]:
    """Every audit event about the item (stored, matched, viewed, downloaded, held), each by
    the actor's role and the account number the log itself records, not by name unless legal
    staff reveal names (then the event's payload, with the name, goes too)."""
    events = AuditEvent.objects.filter(target_type="content", target_id=str(item.pk)).order_by("id")
    actors = {u.pk: u for u in User.objects.filter(pk__in={e.actor_id for e in events})}
    entries = []
    for event in events:
        actor = actors.get(event.actor_id) if event.actor_id else None
        entries.append(
            CustodyEntry(
                header=event.header(),
                actor_role=actor.role if actor else "system",
                actor_pseudonym=f"account-{actor.pk}" if actor else "safeguard",
                payload=event.payload() if names_revealed else None,
            )
        )
    return entries


def _account_escalations(subject: Subject) -> list[EscalationSubject]:
    return list(
        EscalationSubject.objects.filter(subject=subject)
        .select_related("escalation")
        .order_by("escalation__received_at")
    )


def _assemble(
    request: LERequest,
    kind: RequestType,
    categories: Sequence[DataCategory],
    *,
    disclosure: Disclosure,
    actor: User,
    source: AuditSource,
    media_reason: str,
    names_revealed: bool,
) -> _Assembly:
    out = _Assembly(files=[], custody={}, notes=[])
    include_media = bool(media_reason.strip())
    for platform_id in request.named_accounts:
        subject = Subject.objects.filter(platform_id=platform_id).first()
        if subject is None:
            out.notes.append(f"Safeguard holds nothing about account {platform_id}.")
            continue
        mentions = _account_escalations(subject)
        name = _safe(platform_id)
        if DataCategory.SUBSCRIBER in categories:
            countries = sorted({m.country for m in mentions if m.country})
            out.files.append(
                PackageFile(
                    path=f"files/accounts/{name}.json",
                    data=_json(
                        {
                            "account": platform_id,
                            "known_since": _iso(subject.first_seen_at),
                            "countries_reported": countries,
                            "note": "Safeguard holds what reports said of the account; the "
                            "subscriber records themselves are the host platform's.",
                        }
                    ),
                    category=DataCategory.SUBSCRIBER.value,
                    content_id=None,
                    description=f"basic information held about {platform_id}",
                )
            )
        items: dict[str, ContentItem] = {}
        for mention in mentions:
            for link in mention.escalation.content.select_related("content", "content__blob"):
                items.setdefault(str(link.content.pk), link.content)
        if DataCategory.RECORDS in categories:
            actions = Action.objects.filter(target_type="account", target_id=platform_id)
            out.files.append(
                PackageFile(
                    path=f"files/records/{name}.json",
                    data=_json(
                        {
                            "account": platform_id,
                            "reports": [
                                {
                                    "received_at": _iso(m.escalation.received_at),
                                    "channel": m.escalation.channel,
                                    "category": m.escalation.category,
                                    "role": m.role,
                                }
                                for m in mentions
                            ],
                            "content_items": [
                                {
                                    "id": item.platform_id,
                                    "kind": item.kind,
                                    "first_seen_at": _iso(item.first_seen_at),
                                    "sha256": item.blob_id or item.declared_sha256 or None,
                                }
                                for item in items.values()
                            ],
                            "actions": [
                                {
                                    "kind": a.kind,
                                    "status": a.status,
                                    "requested_at": _iso(a.created_at),
                                    "confirmed_at": _iso(a.confirmed_at),
                                }
                                for a in actions
                            ],
                        }
                    ),
                    category=DataCategory.RECORDS.value,
                    content_id=None,
                    description=f"non-content records about {platform_id}",
                )
            )
        if DataCategory.CONTENT not in categories:
            continue
        for item in items.values():
            if item.kind in MEDIA_KINDS:
                if item.blob_id is None:
                    continue
                if not include_media:
                    out.notes.append(
                        f"Media {item.platform_id} is withheld: abuse material is disclosed "
                        "only under a search warrant, included by legal staff with a reason."
                    )
                    continue
                data = vault().read(item.blob_id)
                path = f"files/content/{_safe(item.platform_id)}.bin"
                media_type = item.blob.media_type if item.blob else "bytes"
                description = f"{item.kind} {item.platform_id} ({media_type})"
            elif item.text:
                data = item.text.encode()
                path = f"files/content/{_safe(item.platform_id)}.txt"
                description = f"{item.kind} {item.platform_id} (text)"
            else:
                continue
            if any(f.path == path for f in out.files):
                continue
            # The package is the last link of the item's chain of custody, recorded first so
            # that its own event is among those the package proves.
            audit_record(
                event_type=AuditEventType.CONTENT_DISCLOSED,
                actor=actor,
                source=source,
                target_type="content",
                target_id=item.pk,
                data={
                    "disclosure": str(disclosure.pk),
                    "request": str(request.pk),
                    "sha256": hashlib.sha256(data).hexdigest(),
                },
            )
            out.files.append(
                PackageFile(
                    path=path,
                    data=data,
                    category=DataCategory.CONTENT.value,
                    content_id=str(item.pk),
                    description=description,
                )
            )
            out.custody[path] = _custody(item, names_revealed=names_revealed)
    return out


# How an order's `data_categories` field names each category (EU orders name "subscriber
# data", "data requested for the sole purpose of identifying the user", "traffic data",
# "content data"; other forms similar words).
_ORDERED_WORDS: tuple[tuple[re.Pattern[str], DataCategory], ...] = (
    (
        re.compile(r"non[-_ ]?content|traffic|record|metadata|\blogs?\b|\bip\b|identif"),
        DataCategory.RECORDS,
    ),
    (re.compile(r"subscriber|basic"), DataCategory.SUBSCRIBER),
    (re.compile(r"content"), DataCategory.CONTENT),
)


def ordered_categories(text: str) -> frozenset[DataCategory] | None:
    """The categories an order's `data_categories` field names, or None when it names none
    Safeguard recognises (legal staff read the field; nothing is then narrowed)."""
    found = set()
    for phrase in re.split(r"[,;/\n]|\band\b", text.lower()):
        for pattern, category in _ORDERED_WORDS:
            if pattern.search(phrase):
                found.add(category)
                break
    return frozenset(found) or None


def _check_allowed(
    request: LERequest, kind: RequestType, categories: Sequence[DataCategory], media_reason: str
) -> None:
    for category in categories:
        refusal = scope_refusal(kind, category)
        if refusal is not None:
            raise DisclosureRefused(refusal)
    ordered = ordered_categories(request.fields.get("data_categories", ""))
    beyond = sorted(c.value for c in categories if ordered is not None and c not in ordered)
    if beyond:
        named = ", ".join(sorted(c.value for c in ordered or ()))
        raise DisclosureRefused(
            f"the order asks for {named} only ({request.fields['data_categories']!r}); "
            f"{', '.join(beyond)} goes beyond what it orders"
        )
    if DataCategory.CONTENT in categories and kind.emergency and not request.determined_emergency:
        raise DisclosureRefused(
            "content goes on an emergency request only after a person's good-faith "
            "determination that an emergency requires it (18 U.S.C. §2702(b)(8)); record it first"
        )
    if media_reason.strip() and kind.kind is not Kind.SEARCH_WARRANT:
        raise DisclosureRefused(
            f"abuse material is disclosed only under a search warrant; this is a {kind.label}"
        )
    if media_reason.strip() and DataCategory.CONTENT not in categories:
        raise DisclosureRefused("media is content: include the content category to disclose it")


def _store(data: bytes) -> str:
    return vault().put(io.BytesIO(data), max_bytes=MAX_PACKAGE_BYTES).sha256


def _request_fields(request: LERequest, kind: RequestType) -> dict[str, str]:
    return {
        "Request": request.reference,
        "Agency": f"{request.agency.name} ({request.agency.country})",
        "Request type": kind.label,
        "Legal basis": "; ".join(c.source for c in kind.citations),
        "May disclose": kind.scope.value.replace("_", " "),
        "Received": request.received_at.isoformat(),
    }


@transaction.atomic
def disclosure_prepare(
    *,
    request: LERequest,
    categories: Sequence[DataCategory],
    actor: User,
    source: AuditSource,
    media_reason: str = "",
    names_revealed: bool = False,
) -> Disclosure:
    """Assemble a package for a verified request: refuse what its process does not allow
    (naming the rule), withhold abuse material unless included under a warrant with a reason,
    and record the manifest's SHA-256 in the audit log, which ties the package to it."""
    _require(actor)
    locked = (
        LERequest.objects.select_for_update(of=("self",))
        .select_related("agency")
        .get(pk=request.pk)
    )
    kind = type_of(locked)
    if kind is None:
        raise DisclosureRefused(f"{locked.reference} is not classified as a request type yet")
    if locked.state != RequestState.IN_PROGRESS:
        raise DisclosureConflict(
            f"{locked.reference} is {locked.state}: a disclosure is prepared for a verified "
            "request in progress"
        )
    if not categories:
        raise DisclosureRefused("name at least one category: subscriber, records or content")
    _check_allowed(locked, kind, categories, media_reason)
    now = timezone.now()
    disclosure = Disclosure(
        request=locked,
        prepared_by=actor,
        prepared_at=now,
        names_revealed=names_revealed,
        abuse_material_reason=media_reason.strip(),
    )
    assembly = _assemble(
        locked,
        kind,
        categories,
        disclosure=disclosure,
        actor=actor,
        source=source,
        media_reason=media_reason,
        names_revealed=names_revealed,
    )
    if not assembly.files:
        raise DisclosureRefused(
            "Safeguard holds nothing of those categories about the named accounts; "
            "answer the request without a disclosure"
        )
    fields = _request_fields(locked, kind)
    fields["Prepared by"] = f"{actor.username} (legal); approved by a second legal person"
    notes = list(assembly.notes)
    if kind.emergency and locked.determined_emergency:
        who = locked.determined_by.username if locked.determined_by else "legal staff"
        notes.insert(0, f"Emergency determination by {who}: {locked.determination_reasons}")
    if locked.non_disclosure:
        until = f" until {locked.non_disclosure_until}" if locked.non_disclosure_until else ""
        notes.insert(
            0, f"A non-disclosure order applies{until}: the account holders were not told."
        )
    cases = [str(c.pk) for c in linked_cases(locked)]
    footer = f"CONFIDENTIAL - disclosure for {locked.agency.name} only - {locked.reference}"
    pdf = summary_pdf(
        package_id=str(disclosure.pk),
        request=fields,
        files=assembly.files,
        custody=assembly.custody,
        created_at=now,
        footer=footer,
        notes=notes,
    )
    prepared = prepare_manifest(
        package_id=str(disclosure.pk),
        request=fields,
        files=assembly.files,
        custody=assembly.custody,
        summary_pdf=pdf,
        created_at=now,
        cases=cases,
    )
    disclosure.manifest_sha256 = prepared.manifest_sha256
    disclosure.items = [
        {
            "path": f.path,
            "category": f.category,
            "content_id": f.content_id,
            "description": f.description,
            "sha256": _store(f.data),
        }
        for f in assembly.files
    ]
    disclosure.prepared_blobs = {
        "manifest": _store(prepared.manifest),
        "summary": _store(pdf),
        "custody": {path: _store(data) for path, data in prepared.custody_records.items()},
        "notes": assembly.notes,
    }
    disclosure.save()
    anchor = audit_record(
        event_type=AuditEventType.LE_DISCLOSURE_PREPARED,
        actor=actor,
        source=source,
        target_type="le_disclosure",
        target_id=disclosure.pk,
        data={
            "request": str(locked.pk),
            "manifest_sha256": prepared.manifest_sha256,
            "files": [{"path": i["path"], "sha256": i["sha256"]} for i in disclosure.items],
            "abuse_material_reason": disclosure.abuse_material_reason,
            "names_revealed": names_revealed,
        },
    )
    disclosure.anchor_event_id = anchor.pk
    disclosure.save(update_fields=["anchor_event_id"])
    return disclosure


@transaction.atomic
def disclosure_approve(*, disclosure: Disclosure, actor: User, source: AuditSource) -> Disclosure:
    """Four eyes: a second legal person approves; the preparer never approves their own."""
    _require(actor)
    locked = Disclosure.objects.select_for_update().get(pk=disclosure.pk)
    if locked.prepared_by_id == actor.pk:
        raise FourEyes(
            f"{actor.username} prepared this disclosure; a second person with the legal role "
            "must approve it"
        )
    if locked.state != DisclosureState.PREPARED:
        raise DisclosureConflict(f"the disclosure is {locked.state}, not waiting for approval")
    locked.state = DisclosureState.APPROVED
    locked.approved_by = actor
    locked.approved_at = timezone.now()
    locked.save(update_fields=["state", "approved_by", "approved_at"])
    le_request_transition(
        request=locked.request, transition=RequestTransition.APPROVE, actor=actor, source=source
    )
    audit_record(
        event_type=AuditEventType.LE_DISCLOSURE_APPROVED,
        actor=actor,
        source=source,
        target_type="le_disclosure",
        target_id=locked.pk,
        data={"request": str(locked.request_id), "manifest_sha256": locked.manifest_sha256},
    )
    return locked


@dataclass(frozen=True)
class Released:
    disclosure: Disclosure
    # Shown once to the releasing person: the key goes to the requester by another channel,
    # the link through the portal. Neither is stored; only their SHA-256.
    key: str
    link_token: str
    package: bytes


def _prepared(disclosure: Disclosure) -> tuple[Prepared, list[PackageFile], bytes]:
    store = vault()
    blobs = disclosure.prepared_blobs
    manifest = store.read(blobs["manifest"])
    prepared = Prepared(
        manifest=manifest,
        manifest_sha256=hashlib.sha256(manifest).hexdigest(),
        custody_records={path: store.read(sha) for path, sha in blobs["custody"].items()},
    )
    files = [
        PackageFile(
            path=item["path"],
            data=store.read(item["sha256"]),
            category=item["category"],
            content_id=item["content_id"],
            description=item["description"],
        )
        for item in disclosure.items
    ]
    return prepared, files, store.read(blobs["summary"])


def assemble_released(disclosure: Disclosure) -> bytes:
    """The package's zip, with proofs of every custody event and of the preparation against
    the newest checkpoint (409 while the log has not sequenced them yet)."""
    prepared, files, pdf = _prepared(disclosure)
    ids = []
    for record in prepared.custody_records.values():
        ids += [event["event"]["id"] for event in json.loads(record)["events"]]
    if disclosure.anchor_event_id is None:
        raise DisclosureConflict("the disclosure's preparation was not recorded in the audit log")
    proofs = audit_event_proofs(event_ids=[*ids, disclosure.anchor_event_id])
    anchor = AuditEvent.objects.get(pk=disclosure.anchor_event_id)
    return assemble_package(
        prepared=prepared,
        files=files,
        summary_pdf=pdf,
        proofs=proofs[:-1],
        anchor_proof=proofs[-1],
        anchor_payload=anchor.payload(),
    )


@transaction.atomic
def disclosure_release(*, disclosure: Disclosure, actor: User, source: AuditSource) -> Released:
    """Release an approved disclosure to its verified requester: encrypted, with a one-time
    link that expires; the request is responded."""
    _require(actor)
    locked = (
        Disclosure.objects.select_for_update(of=("self",))
        .select_related("request__agency")
        .get(pk=disclosure.pk)
    )
    if locked.state != DisclosureState.APPROVED:
        raise DisclosureConflict(f"the disclosure is {locked.state}; only an approved one goes")
    missing = requester_unverified(locked.request, now=timezone.now())
    if missing:
        raise DisclosureRefused(
            "nothing is disclosed to an unverified requester: " + "; ".join(missing)
        )
    package = assemble_released(locked)
    sealed, key = encrypt_package(package)
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    locked.package_sha256 = _store(sealed)
    locked.key_sha256 = hashlib.sha256(key.encode()).hexdigest()
    locked.link_digest = hashlib.sha256(token.encode()).hexdigest()
    locked.link_expires_at = now + LINK_LIFETIME
    locked.state = DisclosureState.RELEASED
    locked.released_by = actor
    locked.released_at = now
    locked.save()
    le_request_transition(
        request=locked.request, transition=RequestTransition.RESPOND, actor=actor, source=source
    )
    audit_record(
        event_type=AuditEventType.LE_DISCLOSURE_RELEASED,
        actor=actor,
        source=source,
        target_type="le_disclosure",
        target_id=locked.pk,
        data={
            "request": str(locked.request_id),
            "package_sha256": hashlib.sha256(package).hexdigest(),
            "encrypted_sha256": locked.package_sha256,
            "link_expires_at": locked.link_expires_at.isoformat(),
        },
    )
    return Released(disclosure=locked, key=key, link_token=token, package=package)


@transaction.atomic
def disclosure_download(
    *, token: str, actor: User, source: AuditSource
) -> tuple[Disclosure, bytes]:
    """The partner's one download of the encrypted package: by a verified person of the
    requesting agency, before the link expires; a second attempt finds nothing."""
    digest = hashlib.sha256(token.encode()).hexdigest()
    locked = (
        Disclosure.objects.select_for_update(of=("self",))
        .select_related("request__agency", "request__partner")
        .filter(link_digest=digest, state=DisclosureState.RELEASED)
        .first()
    )
    now = timezone.now()
    partner = partner_of(actor)
    if (
        locked is None
        or not actor.has_permission(Permission.LE_DISCLOSURE_DOWNLOAD)
        or partner is None
        or partner.agency_id != locked.request.agency_id
        or locked.link_expires_at is None
        or locked.link_expires_at <= now
    ):
        raise LinkNotFound()
    missing = requester_unverified(locked.request, now=now)
    if missing:
        raise DisclosureRefused(
            "nothing is disclosed to an unverified requester: " + "; ".join(missing)
        )
    locked.state = DisclosureState.DOWNLOADED
    locked.downloaded_at = now
    locked.downloaded_by = actor
    locked.link_digest = ""
    locked.save(update_fields=["state", "downloaded_at", "downloaded_by", "link_digest"])
    audit_record(
        event_type=AuditEventType.LE_DISCLOSURE_DOWNLOADED,
        actor=actor,
        source=source,
        target_type="le_disclosure",
        target_id=locked.pk,
        data={"request": str(locked.request_id), "encrypted_sha256": locked.package_sha256},
    )
    return locked, vault().read(locked.package_sha256)


def approve_without_disclosure(
    *,
    request: LERequest,
    transition: RequestTransition,
    actor: User,
    source: AuditSource,
    note: str,
) -> LERequest:
    """Approve or respond to a request that discloses nothing (a preservation confirmed, no
    data held), with a note the requester reads. A request with a disclosure goes through the
    disclosure's approval and release instead."""
    if request.disclosures.exclude(state=DisclosureState.PREPARED).exists() or (
        request.disclosures.filter(state=DisclosureState.PREPARED).exists()
    ):
        raise DisclosureConflict(
            f"{request.reference} has a disclosure: it is approved by a second legal person and "
            "released, not moved by hand"
        )
    if not note.strip():
        raise DisclosureRefused(f"{transition.value} without a disclosure needs a note")
    with transaction.atomic():
        moved = le_request_transition(
            request=request, transition=transition, actor=actor, source=source, note=note
        )
        moved.response_note = note.strip()
        moved.save(update_fields=["response_note"])
        return moved


__all__ = [
    "DisclosureRefused",
    "FourEyes",
    "Released",
    "approve_without_disclosure",
    "canonical_json",
    "disclosure_approve",
    "disclosure_download",
    "disclosure_prepare",
    "disclosure_release",
]
