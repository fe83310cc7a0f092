"""The attacks again, each made with sqlite3 straight into the database file, and caught by the
real `safeguard audit verify` in a subprocess; proofs checked by `audit check-proof` with the
public key alone."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from tests.cli import clean_env, safeguard

REPO = Path(__file__).resolve().parents[2]
EVENTS, BATCH = 12, 3

# Twelve events in four transactions' worth of batches, each batch with its own checkpoint
# exported to the witness file as the worker would.
SEED = f"""
from django.db import transaction
from safeguard.accounts.permissions import Role
from safeguard.accounts.services import user_create
from safeguard.audit.events import AuditSource
from safeguard.audit.services import audit_sequence
for i in range({EVENTS}):
    user_create(username=f"cli{{i}}", role=Role.SPECIALIST, actor=None, source=AuditSource.CLI)
    if (i + 1) % {BATCH} == 0:
        audit_sequence()
"""


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    var = tmp_path_factory.mktemp("audit-cli")
    env = clean_env(var, SAFEGUARD_AUDIT_CHECKPOINT_SECONDS="0")
    assert safeguard(env, "migrate", "-v0").returncode == 0
    made = safeguard(env, "shell", "-c", SEED, cwd=REPO)
    assert made.returncode == 0, made.stderr
    return var


@pytest.fixture
def log(seeded: Path, tmp_path: Path) -> Path:
    """A copy of the seeded var directory for one attack."""
    var = tmp_path / "var"
    shutil.copytree(seeded, var)
    return var


def sql(var: Path, *statements: str) -> None:
    with sqlite3.connect(var / "safeguard.sqlite3") as db:
        for statement in statements:
            db.execute(statement)


def verify(var: Path, *args: str) -> tuple[int, str]:
    done = safeguard(clean_env(var), "audit", "verify", *args, cwd=REPO)
    return done.returncode, done.stdout + done.stderr


def insider(var: Path, key: str) -> None:
    """Rebuild the tree and checkpoints over the edited events: `key` is "none" (no key: old
    signatures kept), "other" (a key of their own) or "real" (they have the signing key)."""
    code = (
        "from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey\n"
        "from django.db import transaction\n"
        "from safeguard.audit.services import signing_key\n"
        "from tests.audit.insider import fix_payload_hash, rewrite_tree\n"
        "from safeguard.audit.models import AuditEvent\n"
        "with transaction.atomic():\n"
        "    for e in AuditEvent.objects.all(): fix_payload_hash(e.pk)\n"
        f"    rewrite_tree({{'none': None, 'other': Ed25519PrivateKey.generate(), "
        f"'real': signing_key()}}[{key!r}])\n"
    )
    done = safeguard(clean_env(var), "shell", "-c", code, cwd=REPO)
    assert done.returncode == 0, done.stderr


def test_the_intact_log_verifies_and_against_its_exports(log: Path) -> None:
    code, out = verify(log, "--against", str(log / "audit-checkpoints.txt"))

    assert code == 0, out
    assert f"audit log intact: {EVENTS} events" in out
    assert f"{EVENTS // BATCH} exported checkpoints matched" in out
    assert "consistency proof" in out


def test_an_edited_event(log: Path) -> None:
    sql(log, "UPDATE audit_auditevent SET target_id = 'other' WHERE id = 4")

    code, out = verify(log)

    assert code != 0
    assert "(edited) at event #4" in out


def test_a_deleted_event(log: Path) -> None:
    sql(log, "DELETE FROM audit_auditevent WHERE id = 6")

    code, out = verify(log)

    assert code != 0
    assert "(deleted) at leaf 5" in out
    assert "after event #5, before event #7" in out


def test_two_swapped_events(log: Path) -> None:
    sql(
        log,
        "UPDATE audit_auditevent SET leaf_index = -1 WHERE id = 8",
        "UPDATE audit_auditevent SET leaf_index = 7 WHERE id = 9",
        "UPDATE audit_auditevent SET leaf_index = 8 WHERE id = 8",
    )

    code, out = verify(log)

    assert code != 0
    assert "(reordered) at event #9" in out


def test_the_newest_events_cut_off_with_every_trace_caught_against_the_export(log: Path) -> None:
    sql(
        log,
        "DELETE FROM audit_auditevent WHERE leaf_index >= 9",
        "DELETE FROM audit_auditnode WHERE position >= 9",
        "DELETE FROM audit_auditcheckpoint WHERE size > 9",
    )
    insider(log, "real")
    assert verify(log)[0] == 0

    code, out = verify(log, "--against", str(log / "audit-checkpoints.txt"))

    assert code != 0
    assert "(truncated) at leaf 9" in out
    assert "3 newest events, from leaf 9 on, were cut off" in out


def test_an_event_inserted_in_the_middle(log: Path) -> None:
    sql(
        log,
        "UPDATE audit_auditevent SET leaf_index = leaf_index + 100 WHERE leaf_index >= 4",
        "UPDATE audit_auditevent SET leaf_index = leaf_index - 99 WHERE leaf_index >= 100",
        "INSERT INTO audit_auditevent (created_at, event_type, actor_label, source, target_type,"
        " target_id, data, payload_sha256, leaf_index) SELECT created_at, event_type,"
        " actor_label, source, target_type, 'forged', data, payload_sha256, 4"
        " FROM audit_auditevent WHERE id = 4",
    )

    code, out = verify(log)

    assert code != 0
    assert f"(inserted) at event #{EVENTS + 1}" in out
    assert "before event #5, which was sequenced there" in out


@pytest.mark.parametrize("key", ["none", "other"])
def test_an_insider_without_the_key_is_caught_by_the_signature(log: Path, key: str) -> None:
    sql(log, 'UPDATE audit_auditevent SET data = \'{"username": "x"}\' WHERE id = 8')
    insider(log, key)

    code, out = verify(log)

    assert code != 0
    # A checkpoint pins a batch (leaves 6-8 here): the difference is named from its first event.
    assert "(bad_signature) at event #7" in out
    assert "#7-#9" in out


def test_an_insider_with_the_key_is_caught_against_the_export(log: Path) -> None:
    sql(log, 'UPDATE audit_auditevent SET data = \'{"username": "x"}\' WHERE id = 11')
    insider(log, "real")
    assert verify(log)[0] == 0

    code, out = verify(log, "--against", str(log / "audit-checkpoints.txt"))

    assert code != 0
    assert "(inconsistent) at event #10" in out
    assert "#10-#12" in out


def test_a_proof_is_checked_with_the_public_key_and_nothing_else(log: Path, tmp_path: Path) -> None:
    env = clean_env(log)
    key = safeguard(env, "audit", "public-key").stdout.strip()
    made = safeguard(env, "audit", "prove", "3")
    assert made.returncode == 0, made.stderr
    proof = tmp_path / "proof.json"
    proof.write_text(made.stdout, encoding="utf-8")
    outsider = clean_env()

    good = safeguard(
        outsider, "audit", "check-proof", str(proof), "--public-key", key, cwd=tmp_path
    )

    assert good.returncode == 0, good.stderr
    assert f"proof valid: event #3 (user.created) is leaf 2 of {EVENTS}" in good.stdout
    document = json.loads(made.stdout)
    for name, forged in [
        ("event", {**document["event"], "target": {"type": "user", "id": "99"}}),
        ("leaf_index", 3),
        ("inclusion_proof", list(reversed(document["inclusion_proof"]))),
        ("checkpoint", document["checkpoint"].replace(f"\n{EVENTS}\n", "\n13\n")),
    ]:
        proof.write_text(json.dumps({**document, name: forged}), encoding="utf-8")
        bad = safeguard(outsider, "audit", "check-proof", str(proof), "--public-key", key)
        assert bad.returncode == 1, (name, bad.stdout)
        assert "proof INVALID" in bad.stderr
    proof.write_text("not json", encoding="utf-8")
    assert (
        "not JSON"
        in safeguard(outsider, "audit", "check-proof", str(proof), "--public-key", key).stderr
    )
    other = key.replace(key.split("+")[0], "another.log/audit", 1)
    proof.write_text(made.stdout, encoding="utf-8")
    wrong = safeguard(outsider, "audit", "check-proof", str(proof), "--public-key", other)
    assert wrong.returncode == 1
