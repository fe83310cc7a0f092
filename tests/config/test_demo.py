"""The synthetic demo: what it seeds, and the documented demo → verify → tamper path end to end."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest
from PIL import Image

from safeguard.config import demo_law
from safeguard.config.demo import PATTERNS, demo_candidate_policy, demo_seed, pattern_png
from safeguard.config.demo_data import demo_escalations
from safeguard.evidence.models import ContentItem
from safeguard.evidence.services import vault
from safeguard.intake.enums import Category, Channel
from safeguard.intake.models import Escalation
from safeguard.intake.schemas import EscalationIn
from tests.cli import clean_env, safeguard


def test_demo_escalations_cover_every_channel_and_category() -> None:
    rows = [EscalationIn.model_validate(r) for r in demo_escalations()]

    assert 25 <= len(rows) <= 35
    assert {r.channel for r in rows} == set(Channel)
    assert {r.category for r in rows} == set(Category)


@pytest.mark.parametrize("kind", PATTERNS)
def test_patterns_are_real_distinct_images(kind: str) -> None:
    a, b = pattern_png(kind, 1), pattern_png(kind, 2)
    assert a != b
    with Image.open(__import__("io").BytesIO(a)) as image:
        assert image.size == (256, 256)


@pytest.mark.django_db
def test_seeding_twice_seeds_once(settings: object, tmp_path: Path) -> None:
    settings.SAFEGUARD_VAR_DIR = tmp_path  # type: ignore[attr-defined]

    first = demo_seed()
    second = demo_seed()

    assert first == second
    # The demo escalations, and the emergency request the demo sheriff's partner files.
    assert Escalation.objects.count() == len(demo_escalations()) + 1
    assert Escalation.objects.filter(external_id=demo_law.EXTERNAL_ID).count() == 1
    images = ContentItem.objects.filter(kind="image")
    assert images.exists()
    assert all(item.blob_id for item in images)
    item = images.first()
    assert item is not None
    assert item.blob_id is not None
    assert vault().read(item.blob_id)[:8] == b"\x89PNG\r\n\x1a\n"


def test_demo_then_verify_then_tamper_by_hand(tmp_path: Path) -> None:
    env = clean_env(tmp_path)

    seeded = safeguard(env, "demo", "--seed-only")
    assert seeded.returncode == 0, seeded.stderr
    assert "curl" in seeded.stdout
    assert "sam.specialist" in seeded.stdout

    # The demo's shadow candidate was evaluated beside the live policy on every escalation.
    diff = safeguard(env, "triage", "diff", "--shadow")
    assert diff.returncode == 0, diff.stderr
    assert "shadow policy demo-candidate against live" in diff.stdout
    assert "repeated_escalations" in diff.stdout
    candidate = tmp_path / "candidate.yaml"
    candidate.write_text(demo_candidate_policy(), encoding="utf-8")
    replayed = safeguard(env, "triage", "backtest", str(candidate), "--since", "30d")
    assert replayed.returncode == 0, replayed.stderr
    assert "cases that move: 1" in replayed.stdout

    intact = safeguard(env, "audit", "verify")
    assert intact.returncode == 0, intact.stderr
    assert "audit log intact" in intact.stdout

    # A proof of one event, checked with nothing but the public key: no settings, no database.
    key = safeguard(env, "audit", "public-key").stdout.strip()
    proof = safeguard(env, "audit", "prove", "5")
    assert proof.returncode == 0, proof.stderr
    (tmp_path / "proof.json").write_text(proof.stdout, encoding="utf-8")
    checked = safeguard(
        clean_env(),
        "audit",
        "check-proof",
        str(tmp_path / "proof.json"),
        "--public-key",
        key,
        cwd=tmp_path,
    )
    assert checked.returncode == 0, checked.stderr
    assert "proof valid: event #5" in checked.stdout

    # The demo's disclosure package verifies with the public key alone, from anywhere, and so
    # does the encrypted copy the partner downloads, with the key sent to them separately.
    package = tmp_path / "demo-disclosure.zip"
    verified = safeguard(
        clean_env(), "custody", "verify", str(package), "--public-key", key, cwd=tmp_path
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "package VALID" in verified.stdout
    sealed_key = re.search(r"--key (\S+)", seeded.stdout)
    assert sealed_key is not None
    opened = safeguard(
        clean_env(),
        "custody",
        "verify",
        str(tmp_path / "demo-disclosure.zip.sgenc"),
        "--key",
        sealed_key.group(1),
        "--public-key",
        key,
        cwd=tmp_path,
    )
    assert opened.returncode == 0, opened.stdout + opened.stderr

    with sqlite3.connect(tmp_path / "safeguard.sqlite3") as db:
        db.execute("UPDATE audit_auditevent SET data = '{}' WHERE id = 5")

    broken = safeguard(env, "audit", "verify")
    assert broken.returncode != 0
    assert "(edited) at event #5" in broken.stderr
