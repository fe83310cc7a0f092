"""The synthetic demo: invented accounts, ~30 escalations on every channel, generated benign images.

Everything here is made up. Images are drawn patterns (checkerboards, gradients, circles,
stripes); messages use only phrases printed in public online-safety guidance for parents.
"""

from __future__ import annotations

import io
import json
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from PIL import Image, ImageDraw

from safeguard.accounts.models import User
from safeguard.accounts.permissions import Role
from safeguard.accounts.services import (
    api_token_create,
    totp_device_create,
    user_create,
    user_preferences_save,
)
from safeguard.accounts.totp import secret_b32
from safeguard.audit.events import AuditSource
from safeguard.cases.deciding import case_decide
from safeguard.cases.decisions import ActionKind, DecisionLabel
from safeguard.cases.models import Queue
from safeguard.cases.queues import lease_length, queue_claim_next
from safeguard.config.demo_data import demo_escalations
from safeguard.config.demo_law import (
    demo_emergency_case_acted,
    demo_law_enforcement_seed,
    demo_referral_seed,
)
from safeguard.evidence.models import ContentItem
from safeguard.evidence.retention import retention_schedule
from safeguard.evidence.services import content_media_store
from safeguard.intake.schemas import EscalationIn
from safeguard.intake.services import escalation_intake
from safeguard.matching.services import bank_add_media, bank_create
from safeguard.triage.lifecycle import policy_upload
from safeguard.triage.models import PolicyStatus
from safeguard.triage.policy import default_policy_text

SERVICE_USER = "platform-demo"
STAFF = [
    ("sam.specialist", Role.SPECIALIST),
    ("lee.lead", Role.LEAD),
    ("lou.legal", Role.LEGAL),
    # A second lawyer: every disclosure is approved by someone other than its preparer.
    ("liv.legal", Role.LEGAL),
    ("ava.auditor", Role.AUDITOR),
    ("adi.admin", Role.ADMIN),
]
LE_PARTNER = "lena.le-partner"


def pattern_png(kind: str, seed: int, size: int = 256) -> bytes:
    """Draw a benign test pattern; `seed` varies colours and spacing so each image differs."""
    base = (seed * 53 % 200 + 30, seed * 97 % 200 + 30, seed * 151 % 200 + 30)
    image = Image.new("RGB", (size, size), (240, 240, 240))
    draw = ImageDraw.Draw(image)
    step = 16 + seed % 5 * 8
    if kind == "checkerboard":
        for y in range(0, size, step):
            for x in range(0, size, step):
                if (x // step + y // step) % 2 == 0:
                    draw.rectangle([x, y, x + step - 1, y + step - 1], fill=base)
    elif kind == "gradient":
        for x in range(size):
            shade = tuple(int(c * x / size) for c in base)
            draw.line([(x, 0), (x, size)], fill=shade)
    elif kind == "circles":
        for r in range(size // 2, 0, -step // 2):
            colour = base if (r // (step // 2)) % 2 else (250, 250, 250)
            c = size // 2
            draw.ellipse([c - r, c - r, c + r, c + r], fill=colour)
    else:
        for x in range(0, size, step):
            draw.rectangle([x, 0, x + step // 2, size], fill=base)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


PATTERNS = ["checkerboard", "gradient", "circles", "stripes"]
KNOWN_IMAGE_FILE = "demo-known.png"


def known_image() -> bytes:
    """The generated pattern the README uploads to show a match."""
    return pattern_png("circles", 9)


@dataclass(frozen=True)
class DemoLogins:
    staff: dict[str, str]
    service_token: str
    le_partner: str
    # An API token of the demo specialist, so the README's commands can read cases.
    reader_token: str
    # The demo staff's shared authenticator secret (base32): the console asks for a code.
    totp_secret: str


def demo_candidate_policy() -> str:
    """The demo's shadow candidate: the default, where three escalations about one case are P1."""
    text = default_policy_text().replace('version: "default-2"', 'version: "demo-candidate"', 1)
    rule = "  - name: repeated_escalations\n    when: 'case_escalations >= 3'\n    priority: P2\n"
    if rule not in text:
        raise RuntimeError("the default policy's repeated_escalations rule has changed")
    return text.replace(rule, rule.replace("priority: P2", "priority: P1"), 1)


def credentials_path() -> Path:
    return Path(settings.SAFEGUARD_VAR_DIR) / "demo-credentials.json"


def _write_private(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2)


def demo_seed() -> DemoLogins:
    """Create the demo accounts and data once; later calls return the saved logins."""
    path = credentials_path()
    if User.objects.filter(username=SERVICE_USER).exists() and path.exists():
        saved = json.loads(path.read_text(encoding="utf-8"))
        return DemoLogins(
            saved["staff"],
            saved["service_token"],
            saved["le_partner"],
            saved["reader_token"],
            saved["totp_secret"],
        )
    with transaction.atomic():
        staff: dict[str, str] = {}
        totp_key = secrets.token_bytes(20)
        for username, role in STAFF:
            password = secrets.token_urlsafe(12)
            person = user_create(
                username=username, role=role, password=password, actor=None, source=AuditSource.CLI
            )
            totp_device_create(
                user=person, actor=None, source=AuditSource.CLI, secret=totp_key, confirmed=True
            )
            staff[username] = password
        service = user_create(
            username=SERVICE_USER, role=Role.SERVICE, actor=None, source=AuditSource.CLI
        )
        token = api_token_create(
            user=service, name="demo platform", actor=None, source=AuditSource.CLI
        ).plaintext
        partner = user_create(
            username=LE_PARTNER, role=Role.LE_PARTNER, actor=None, source=AuditSource.CLI
        )
        le_token = api_token_create(
            user=partner, name="demo partner", actor=None, source=AuditSource.CLI
        ).plaintext
        reader = api_token_create(
            user=User.objects.get(username="sam.specialist"),
            name="demo scripts",
            actor=None,
            source=AuditSource.CLI,
        ).plaintext
        # The demo's bank of "known" material: generated patterns only. The first demo upload
        # is in it (so the demo starts with a match), and so is KNOWN_IMAGE, written under
        # var/ for the README's upload example.
        bank = bank_create(
            name="demo-known",
            description="Demo bank: generated pattern images standing in for known material",
            verified=True,
            actor=None,
            source=AuditSource.CLI,
        )
        for data in (pattern_png(PATTERNS[0], 0), known_image()):
            bank_add_media(
                bank=bank,
                data=data,
                actor=None,
                source=AuditSource.CLI,
                provenance="safeguard demo",
            )
        # A candidate policy in shadow beside the default, so `safeguard triage diff --shadow`
        # and `safeguard triage backtest` have something to show on the demo database.
        policy_upload(
            source_text=demo_candidate_policy(),
            status=PolicyStatus.SHADOW,
            actor=User.objects.get(username="adi.admin"),
            source=AuditSource.CLI,
        )
        images = 0
        for row in demo_escalations():
            result = escalation_intake(
                payload=EscalationIn.model_validate(row), caller=service, source=AuditSource.CLI
            )
            for link in result.escalation.content.select_related("content"):
                item: ContentItem = link.content
                if item.kind == "image" and item.blob_id is None:
                    data = pattern_png(PATTERNS[images % len(PATTERNS)], images)
                    content_media_store(
                        content=item,
                        upload=io.BytesIO(data),
                        declared_type="image/png",
                        actor=service,
                        source=AuditSource.CLI,
                    )
                    images += 1
        _demo_decided(User.objects.get(username="sam.specialist"))
        request = demo_law_enforcement_seed(
            partner=partner,
            legal=User.objects.get(username="lou.legal"),
            second_legal=User.objects.get(username="liv.legal"),
        )
        demo_emergency_case_acted(lead=User.objects.get(username="lee.lead"), request=request)
        demo_referral_seed(specialist=User.objects.get(username="sam.specialist"))
    # The retention job runs daily from now on (scheduling again schedules nothing more).
    retention_schedule()
    (Path(settings.SAFEGUARD_VAR_DIR) / KNOWN_IMAGE_FILE).write_bytes(known_image())
    totp = secret_b32(totp_key)
    _write_private(
        path,
        {
            "staff": staff,
            "service_token": token,
            "le_partner": le_token,
            "reader_token": reader,
            "totp_secret": totp,
        },
    )
    return DemoLogins(staff, token, le_token, reader, totp)


# --- The night shift: the demo shows the console as it is used at 3 a.m. ----------------------

NIGHT = time(3, 22)


def zone_where_it_is(local: time, *, now: datetime) -> str:
    """The whole-hour IANA zone (Etc/GMT±N) in which the time is nearest to `local` at `now`.

    Etc/GMT zones count the other way round from the offsets they name: Etc/GMT-5 is UTC+5.
    """
    utc = now.astimezone(UTC)
    minutes = (local.hour * 60 + local.minute) - (utc.hour * 60 + utc.minute)
    hours = round(minutes / 60)
    # Offsets run from UTC-12 to UTC+14; outside that, the same hour of day is a day away.
    while hours > 14:
        hours -= 24
    while hours < -12:
        hours += 24
    if hours == 0:
        return "Etc/UTC"
    return f"Etc/GMT{'-' if hours > 0 else '+'}{abs(hours)}"


def demo_night_shift(*, local: time = NIGHT, now: datetime | None = None) -> str:
    """Set the demo staff's display zone to one where it is about `local` now, through the same
    audited preferences service a person uses; returns the zone. Each person can change it back
    on their Preferences page."""
    zone = zone_where_it_is(local, now=now or timezone.now())
    for username, _ in STAFF:
        person = User.objects.filter(username=username).first()
        if person is not None:
            user_preferences_save(
                user=person,
                time_zone=zone,
                p0_sound=person.p0_sound,
                actor=person,
                source=AuditSource.CLI,
            )
    return zone


def _demo_decided(specialist: User) -> None:
    """One case already decided, so the demo shows a stopped clock ("first action … after
    intake") beside the running ones; its actions go to the demo platform once the worker runs."""
    queue = Queue.objects.get(name="grooming")
    case = queue_claim_next(
        queue=queue, actor=specialist, lease=lease_length(None), source=AuditSource.CLI
    )
    if case is None:
        return
    case_decide(
        case=case,
        actor=specialist,
        labels=[DecisionLabel.GROOMING],
        actions=[ActionKind.RESTRICT_ACCOUNT],
        reason="Demo: age probing and secrecy in the thread; account restricted.",
        source=AuditSource.CLI,
    )
