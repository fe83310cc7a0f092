"""The vault's pure core: round trips, encryption at rest, and tamper detection."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from safeguard.evidence.vault import Corrupt, HashMismatch, NotInVault, TooLarge, Vault

KEY = bytes(range(32))


def make(tmp_path: Path, chunk_size: int = 1024) -> Vault:
    return Vault(tmp_path / "vault", KEY, chunk_size=chunk_size)


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=5000), chunk_size=st.sampled_from([1, 7, 64, 1024]))
def test_round_trip_at_every_chunk_boundary(tmp_path: Path, data: bytes, chunk_size: int) -> None:
    vault = make(tmp_path, chunk_size)

    stored = vault.put(io.BytesIO(data), max_bytes=10_000)

    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert stored.size == len(data)
    assert vault.read(stored.sha256) == data


def test_bytes_at_rest_are_not_the_plaintext(tmp_path: Path) -> None:
    vault = make(tmp_path)
    data = b"a recognisable synthetic marker " * 100

    stored = vault.put(io.BytesIO(data), max_bytes=10_000)

    raw = vault.path(stored.sha256).read_bytes()
    assert b"recognisable synthetic marker" not in raw
    assert vault.path(stored.sha256).parent.parent.parent == tmp_path / "vault"


def test_identical_bytes_are_stored_once(tmp_path: Path) -> None:
    vault = make(tmp_path)

    first = vault.put(io.BytesIO(b"same"), max_bytes=100)
    second = vault.put(io.BytesIO(b"same"), max_bytes=100)

    assert first.created
    assert not second.created


def test_declared_hash_must_match(tmp_path: Path) -> None:
    vault = make(tmp_path)

    with pytest.raises(HashMismatch, match="declared"):
        vault.put(io.BytesIO(b"bytes"), max_bytes=100, declared_sha256="0" * 64)
    assert not any((tmp_path / "vault").rglob("*"))


def test_too_large_is_refused_before_writing(tmp_path: Path) -> None:
    vault = make(tmp_path)

    with pytest.raises(TooLarge):
        vault.put(io.BytesIO(b"x" * 101), max_bytes=100)
    assert not (tmp_path / "vault").exists()


@pytest.mark.parametrize("where", ["flip", "truncate", "drop_last_chunk", "swap_chunks"])
def test_tampering_fails_authentication(tmp_path: Path, where: str) -> None:
    vault = make(tmp_path, chunk_size=16)
    stored = vault.put(io.BytesIO(os.urandom(100)), max_bytes=1000)
    path = vault.path(stored.sha256)
    raw = bytearray(path.read_bytes())
    header, sealed = 20, 16 + 16
    if where == "flip":
        raw[-1] ^= 1
    elif where == "truncate":
        raw = raw[:-5]
    elif where == "drop_last_chunk":
        raw = raw[: len(raw) - (len(raw) - header) % sealed or -sealed]
    else:
        first = raw[header : header + sealed]
        raw[header : header + sealed] = raw[header + sealed : header + 2 * sealed]
        raw[header + sealed : header + 2 * sealed] = first
    path.write_bytes(bytes(raw))

    with pytest.raises(Corrupt):
        vault.read(stored.sha256)


def test_an_object_under_another_address_fails(tmp_path: Path) -> None:
    vault = make(tmp_path)
    a = vault.put(io.BytesIO(b"first"), max_bytes=100)
    b = vault.put(io.BytesIO(b"second"), max_bytes=100)
    vault.path(b.sha256).write_bytes(vault.path(a.sha256).read_bytes())

    with pytest.raises(Corrupt):
        vault.read(b.sha256)


def test_a_different_key_cannot_read(tmp_path: Path) -> None:
    stored = make(tmp_path).put(io.BytesIO(b"secret bytes"), max_bytes=100)

    with pytest.raises(Corrupt, match="different key"):
        Vault(tmp_path / "vault", bytes(32)).read(stored.sha256)


def test_missing_object(tmp_path: Path) -> None:
    with pytest.raises(NotInVault):
        make(tmp_path).read("a" * 64)
