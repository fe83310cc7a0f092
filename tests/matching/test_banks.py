"""Banks: file formats, all-or-nothing import, export, thresholds, allow-lists, the match API."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from safeguard.accounts.permissions import Role
from safeguard.audit.events import AuditEventType, AuditSource
from safeguard.config.demo import pattern_png
from safeguard.matching import registry
from safeguard.matching.formats import BankFileError, BankFormat, parse_bank_file
from safeguard.matching.models import Bank, BankEntry, MatchLookup
from safeguard.matching.services import (
    BankError,
    bank_add_media,
    bank_create,
    bank_entry_set_enabled,
    bank_export,
    bank_import,
    match_hashes,
)
from safeguard.matching.signal_types import HashResult
from safeguard.matching.signals import get_signal_type
from tests.audit_helpers import assert_audited, last_event_id

E = AuditEventType
PDQ = get_signal_type("pdq")
A = "f" * 64
B = "0" * 64


def flip(hex_hash: str, bits: int) -> str:
    """The hash with its lowest `bits` bits flipped."""
    return f"{int(hex_hash, 16) ^ ((1 << bits) - 1):064x}"


def test_the_three_formats_parse() -> None:
    text = parse_bank_file(f"# comment\n{A}\n\n{B}\n", BankFormat.TEXT, signal_type="pdq")
    csv = parse_bank_file(
        f"signal_type,hash,quality,external_id,note\npdq,{A},90,ncmec-1,first\nmd5,{'a' * 32},,,\n",
        BankFormat.CSV,
    )
    te = parse_bank_file(f"pdq {A}\nvideo_md5 {'b' * 32} extra words\n", BankFormat.THREATEXCHANGE)

    assert [e.hash for e in text] == [A, B]
    assert [(e.signal_type, e.external_id, e.quality) for e in csv] == [
        ("pdq", "ncmec-1", 90),
        ("md5", "", None),
    ]
    assert [(e.signal_type, e.note) for e in te] == [("pdq", ""), ("md5", "extra words")]


@pytest.mark.parametrize(
    ("fmt", "content", "signal_type", "mentions"),
    [
        (BankFormat.TEXT, f"{A}\nnot-a-hash\n{B}\n", "pdq", "line 2"),
        (BankFormat.TEXT, f"{A}\n", None, "signal type"),
        (BankFormat.CSV, f"hash,colour\n{A},red\n", "pdq", "unknown column"),
        (BankFormat.CSV, f"signal_type,hash\npdq,{A}\nsha1,{A}\n", None, "line 3"),
        (BankFormat.CSV, f"signal_type,hash,quality\npdq,{A},300\n", None, "quality"),
        (BankFormat.THREATEXCHANGE, f"pdq {A}\nraw_text hello\n", None, "line 2"),
        (BankFormat.THREATEXCHANGE, f"pdq {A[:-1]}\n", None, "line 1"),
    ],
)
def test_a_bad_line_is_named_and_nothing_is_imported(
    db: None, fmt: BankFormat, content: str, signal_type: str | None, mentions: str
) -> None:
    bank = bank_create(name="b", actor=None, source=AuditSource.CLI)

    with pytest.raises(BankFileError, match=mentions):
        bank_import(
            bank=bank,
            text=content,
            fmt=fmt,
            signal_type=signal_type,
            actor=None,
            source=AuditSource.CLI,
        )

    assert not BankEntry.objects.exists()


def test_import_export_round_trip_and_duplicates(db: None) -> None:
    bank = bank_create(name="b", actor=None, source=AuditSource.CLI)
    source = (
        f"signal_type,hash,quality,external_id,note,source\n"
        f"pdq,{A},90,x-1,n,s\nmd5,{'c' * 32},,,,\n"
    )

    first = bank_import(
        bank=bank, text=source, fmt=BankFormat.CSV, actor=None, source=AuditSource.CLI
    )
    again = bank_import(
        bank=bank, text=source, fmt=BankFormat.CSV, actor=None, source=AuditSource.CLI
    )

    assert (first.added, first.already_present) == (2, 0)
    assert (again.added, again.already_present) == (0, 2)
    assert bank_export(bank=bank, fmt=BankFormat.CSV) == source
    assert bank_export(bank=bank, fmt=BankFormat.THREATEXCHANGE) == f"pdq {A}\nmd5 {'c' * 32}\n"


def test_matching_is_exact_within_each_banks_threshold(db: None) -> None:
    wide = bank_create(name="wide", actor=None, source=AuditSource.CLI)
    narrow = bank_create(name="narrow", actor=None, source=AuditSource.CLI, thresholds={"pdq": 10})
    for bank in (wide, narrow):
        bank_import(
            bank=bank,
            text=f"{A}\n",
            fmt=BankFormat.TEXT,
            signal_type="pdq",
            actor=None,
            source=AuditSource.CLI,
        )

    def hits(distance: int) -> set[str]:
        [result] = match_hashes([HashResult("pdq", flip(A, distance), 100)])
        return {h.bank for h in result.hits}

    assert hits(0) == {"wide", "narrow"}
    assert hits(10) == {"wide", "narrow"}
    assert hits(11) == {"wide"}
    assert hits(31) == {"wide"}
    assert hits(32) == set()


def test_entries_added_later_and_disabled_entries(db: None) -> None:
    bank = bank_create(name="b", actor=None, source=AuditSource.CLI)
    assert match_hashes([HashResult("pdq", A, 100)])[0].hits == []

    bank_import(
        bank=bank,
        text=f"{A}\n",
        fmt=BankFormat.TEXT,
        signal_type="pdq",
        actor=None,
        source=AuditSource.CLI,
    )
    assert len(match_hashes([HashResult("pdq", A, 100)])[0].hits) == 1  # added incrementally

    entry = BankEntry.objects.get()
    bank_entry_set_enabled(
        entry=entry, enabled=False, reason="false positive", actor=None, source=AuditSource.CLI
    )
    assert match_hashes([HashResult("pdq", A, 100)])[0].hits == []


def test_an_allow_list_match_suppresses_the_others(db: None) -> None:
    known = bank_create(name="known", verified=True, actor=None, source=AuditSource.CLI)
    allow = bank_create(name="allow", allow_list=True, actor=None, source=AuditSource.CLI)
    for bank in (known, allow):
        bank_import(
            bank=bank,
            text=f"{A}\n",
            fmt=BankFormat.TEXT,
            signal_type="pdq",
            actor=None,
            source=AuditSource.CLI,
        )

    [result] = match_hashes([HashResult("pdq", A, 100)])

    assert result.allow_listed
    assert result.actionable() == []
    assert {h.bank for h in result.hits} == {"known", "allow"}


def test_low_quality_queries_match_but_are_marked(db: None) -> None:
    bank = bank_create(name="b", actor=None, source=AuditSource.CLI)
    bank_import(
        bank=bank,
        text=f"{A}\n",
        fmt=BankFormat.TEXT,
        signal_type="pdq",
        actor=None,
        source=AuditSource.CLI,
    )

    [result] = match_hashes([HashResult("pdq", A, 20)])

    assert [h.low_confidence for h in result.hits] == [True]


def test_low_quality_media_is_refused_as_a_bank_entry(db: None) -> None:
    bank = bank_create(name="b", actor=None, source=AuditSource.CLI)

    with pytest.raises(BankError, match="quality is 0, below the bank floor of 50"):
        bank_add_media(
            bank=bank, data=pattern_png("gradient", 0), actor=None, source=AuditSource.CLI
        )
    entries = bank_add_media(
        bank=bank,
        data=pattern_png("checkerboard", 1),
        actor=None,
        source=AuditSource.CLI,
        provenance="test",
    )

    assert [e.signal_type for e in entries] == ["pdq", "md5", "sha256"]


def test_the_match_api_answers_by_bank_and_records_the_lookup(api_for: Any) -> None:
    bank_create(name="known", verified=True, actor=None, source=AuditSource.CLI)
    bank_add_media(
        bank=Bank.objects.get(), data=pattern_png("circles", 1), actor=None, source=AuditSource.CLI
    )
    platform = api_for(Role.SERVICE)
    query = flip(PDQ.hash_bytes(pattern_png("circles", 1)).hash, 3)

    by_hash = platform.post("/api/v1/match", {"hashes": [{"signal_type": "pdq", "hash": query}]})
    by_media = platform.client.post(
        "/api/v1/match",
        {"file": io.BytesIO(pattern_png("circles", 1))},
        headers={"Authorization": f"Bearer {platform.token}"},
    )

    assert by_hash.status_code == 200, by_hash.content
    [hit] = by_hash.json()["known"]
    assert (hit["distance"], hit["signal_type"], hit["verified"]) == (3, "pdq", True)
    assert by_media.status_code == 200
    assert {h["signal_type"] for h in by_media.json()["known"]} == {"pdq", "md5", "sha256"}
    lookups = list(MatchLookup.objects.order_by("id"))
    assert [lk.actor for lk in lookups] == [platform.user, platform.user]
    assert "file" not in json.dumps(lookups[1].queries)  # hashes only, never media


@pytest.mark.parametrize(
    ("body", "status", "mentions"),
    [
        ({"hashes": [{"signal_type": "pdq", "hash": "xyz"}]}, 422, "hashes[0]"),
        ({"hashes": [{"signal_type": "sha1", "hash": A}]}, 422, "signal_type"),
        ({"hashes": []}, 422, "hashes"),
        ({"hashes": [{"signal_type": "pdq", "hash": A}], "banks": ["nope"]}, 404, "nope"),
    ],
)
def test_bad_match_requests(api_for: Any, body: dict[str, Any], status: int, mentions: str) -> None:
    response = api_for(Role.SERVICE).post("/api/v1/match", body)
    assert response.status_code == status, response.content
    assert mentions in response.json()["detail"]
    assert not MatchLookup.objects.exists()


def test_an_administrator_manages_a_bank_through_the_api_and_each_change_is_audited(
    api_for: Any,
) -> None:
    admin, specialist = api_for(Role.ADMIN), api_for(Role.SPECIALIST)

    created = admin.post(
        "/api/v1/banks", {"name": "partner-hashes", "verified": True, "thresholds": {"pdq": 12}}
    )
    imported = admin.post(
        "/api/v1/banks/partner-hashes/import",
        {
            "format": "text",
            "content": f"{A}\n{B}\n",
            "signal_type": "pdq",
            "provenance": "partner drop 7",
        },
    )
    entry = BankEntry.objects.get(hash=B)
    entry_off = admin.post(
        f"/api/v1/banks/partner-hashes/entries/{entry.pk}/enabled",
        {"enabled": False, "reason": "a false positive"},
    )
    bank_off = admin.post("/api/v1/banks/partner-hashes/enabled", {"enabled": False})
    before = last_event_id()
    refused = specialist.post("/api/v1/banks/partner-hashes/enabled", {"enabled": True})

    assert created.status_code == 201, created.content
    assert imported.json() == {"added": 2, "already_present": 0}
    assert entry_off.status_code == bank_off.status_code == 200
    assert refused.status_code == 403
    assert last_event_id() == before
    bank = Bank.objects.get(name="partner-hashes")
    assert not bank.enabled
    made = assert_audited(E.BANK_CREATED, target=bank, actor=admin.user, source=AuditSource.API)
    assert made.data["verified"] is True
    assert not made.data["allow_list"]
    assert made.data["thresholds"]["pdq"] == 12
    assert_audited(
        E.BANK_ENTRIES_IMPORTED,
        target=bank,
        actor=admin.user,
        data={"format": "text", "added": 2, "already_present": 0, "provenance": "partner drop 7"},
    )
    assert_audited(
        E.BANK_ENTRY_ENABLED_CHANGED,
        target=bank,
        actor=admin.user,
        data={"entry": entry.pk, "enabled": False, "reason": "a false positive"},
    )
    assert_audited(E.BANK_ENABLED_CHANGED, target=bank, actor=admin.user, data={"enabled": False})


def test_banks_command_line(db: None, tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "good.txt"
    good.write_text(f"{A}\n{B}\n")
    bad = tmp_path / "bad.txt"
    bad.write_text(f"{A}\nnope\n")

    call_command("banks", "create", "ncmec-demo", "--verified")
    call_command("banks", "import", "ncmec-demo", str(good), "--signal-type", "pdq")
    with pytest.raises(CommandError, match="line 2"):
        call_command("banks", "import", "ncmec-demo", str(bad), "--signal-type", "pdq")
    call_command("banks", "list")
    call_command("banks", "export", "ncmec-demo", "--format", "text")
    call_command("banks", "disable", "ncmec-demo")

    out = capsys.readouterr().out
    assert "2 added" in out
    assert "ncmec-demo\t2/2 entries" in out
    assert f"{A}\n{B}\n" in out
    assert not Bank.objects.get().enabled
    assert_audited(
        AuditEventType.BANK_ENABLED_CHANGED,
        target=Bank.objects.get(),
        actor=None,
        source=AuditSource.CLI,
        data={"enabled": False},
    )


def test_a_restarted_process_loads_the_snapshot_instead_of_rebuilding(
    db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    bank = bank_create(name="b", actor=None, source=AuditSource.CLI)
    bank_import(
        bank=bank,
        text=f"{A}\n{B}\n",
        fmt=BankFormat.TEXT,
        signal_type="pdq",
        actor=None,
        source=AuditSource.CLI,
    )
    bank_entry_set_enabled(
        entry=BankEntry.objects.get(hash=B),
        enabled=False,
        reason="test",
        actor=None,
        source=AuditSource.CLI,
    )
    assert len(match_hashes([HashResult("pdq", A, 100)])[0].hits) == 1  # builds and snapshots
    registry.forget()  # as if the process restarted

    def no_rebuild(generation: object) -> None:
        raise AssertionError("rebuilt instead of loading the snapshot")

    monkeypatch.setattr(registry, "_build", no_rebuild)

    assert len(match_hashes([HashResult("pdq", A, 100)])[0].hits) == 1
    assert match_hashes([HashResult("pdq", B, 100)])[0].hits == []
