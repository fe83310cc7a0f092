"""Second-factor secrets at rest: no TOTP key and no recovery code in the database, read raw with
SQL; codes still verify; existing rows are converted by the data migration."""

from __future__ import annotations

import base64
import binascii
import importlib
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from safeguard.accounts.models import RecoveryCode, SealedTOTPDevice
from safeguard.accounts.permissions import Role
from safeguard.accounts.sealing import (
    MAX_TOTP_KEY_BYTES,
    Unreadable,
    open_totp_key,
    seal_totp_key,
)
from safeguard.accounts.services import (
    SecondFactorFailed,
    recovery_codes_issue,
    second_factor_verify,
    totp_device_create,
)
from safeguard.accounts.totp import secret_b32, totp_now
from safeguard.audit.events import AuditSource
from tests.accounts.test_two_factor import PASSWORD
from tests.factories import UserFactory

SECRET = b"a-known-twenty-bytes"
MIGRATION = "safeguard.accounts.migrations.0004_seal_totp_keys_and_hash_recovery_codes"


def raw_rows(table: str) -> str:
    """Every column of every row of `table`, as the database hands them out."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
        return repr(cursor.fetchall())


def forms_of(secret: bytes) -> list[str]:
    """The secret as hex, base32 and base64: none of them may appear in the database."""
    return [
        secret.hex(),
        secret_b32(secret),
        secret_b32(secret).lower(),
        base64.b64encode(secret).decode(),
        secret.decode("latin-1"),
    ]


def sign_in(client: Client, username: str, code: str) -> int:
    client.post("/accounts/login/", {"username": username, "password": PASSWORD})
    return int(client.post("/accounts/2fa/verify/", {"code": code}).status_code)


def test_the_totp_key_is_not_in_the_database_and_codes_still_verify(db: None) -> None:
    user = UserFactory(role=Role.SPECIALIST.value)
    device = totp_device_create(
        user=user, actor=None, source=AuditSource.CLI, secret=SECRET, confirmed=True
    )

    stored = raw_rows(TOTPDevice._meta.db_table)

    assert not any(form in stored for form in forms_of(SECRET))
    with connection.cursor() as cursor:
        cursor.execute("SELECT key FROM otp_totp_totpdevice WHERE id = %s", [device.pk])
        (column,) = cursor.fetchone()
    assert len(column) <= 80  # django-otp's column, enforced by PostgreSQL
    assert device.bin_key == SECRET
    assert sign_in(Client(), user.username, totp_now(secret_b32(SECRET))) == 302


def test_a_sealed_key_opens_only_for_its_own_account(db: None) -> None:
    victim = UserFactory(role=Role.SPECIALIST.value)
    insider = UserFactory(role=Role.SPECIALIST.value)
    totp_device_create(
        user=victim, actor=None, source=AuditSource.CLI, secret=SECRET, confirmed=True
    )
    own = b"the-insiders-own-key"
    mine = totp_device_create(
        user=insider, actor=None, source=AuditSource.CLI, secret=own, confirmed=True
    )
    # Someone who can write the table copies their own sealed key onto the victim's device.
    TOTPDevice.objects.filter(user=victim).update(key=mine.key)

    with pytest.raises(SecondFactorFailed, match="cannot be read"):
        second_factor_verify(
            user=victim, code=totp_now(secret_b32(own)), actor=victim, source=AuditSource.CONSOLE
        )


def test_a_key_read_past_the_seal_never_verifies(db: None) -> None:
    user = UserFactory(role=Role.SPECIALIST.value)
    device = totp_device_create(
        user=user, actor=None, source=AuditSource.CLI, secret=SECRET, confirmed=True
    )

    plain = TOTPDevice.objects.get(pk=device.pk)

    # django-otp's own model cannot decode the column, so it cannot be used by mistake.
    with pytest.raises((binascii.Error, ValueError)):
        plain.verify_token(totp_now(secret_b32(SECRET)))


def test_another_vault_key_cannot_read_the_key(db: None, settings: Any) -> None:
    user = UserFactory(role=Role.SPECIALIST.value)
    totp_device_create(user=user, actor=None, source=AuditSource.CLI, secret=SECRET, confirmed=True)
    settings.SAFEGUARD_VAULT_KEY = bytes(32)

    answer = Client()
    answer.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    page = answer.post("/accounts/2fa/verify/", {"code": totp_now(secret_b32(SECRET))})

    assert page.status_code == 200
    assert "this authenticator cannot be read" in page.content.decode()


def test_seal_and_open_are_exact_inverses_up_to_the_column_limit() -> None:
    vault_key = bytes(range(32))
    for size in (16, 20, 24, MAX_TOTP_KEY_BYTES):
        key = bytes((n * 7) % 256 for n in range(size))
        sealed = seal_totp_key(vault_key, key=key, user_id=42)
        assert len(sealed) <= 80
        assert open_totp_key(vault_key, sealed=sealed, user_id=42) == key
        # Sealing twice gives two different texts (a fresh nonce each time).
        assert seal_totp_key(vault_key, key=key, user_id=42) != sealed
        with pytest.raises(Unreadable):
            open_totp_key(vault_key, sealed=sealed, user_id=43)
        with pytest.raises(Unreadable):
            open_totp_key(bytes(32), sealed=sealed, user_id=42)
    with pytest.raises(ValueError, match="1 to 32 bytes"):
        seal_totp_key(vault_key, key=bytes(33), user_id=42)
    for junk in ("", "0" * 40, "not base64 at all!"):
        with pytest.raises(Unreadable):
            open_totp_key(vault_key, sealed=junk, user_id=42)


def test_recovery_codes_are_kept_only_as_hmacs_and_work_once(db: None) -> None:
    user = UserFactory(role=Role.SPECIALIST.value)
    totp_device_create(user=user, actor=None, source=AuditSource.CLI, secret=SECRET, confirmed=True)

    codes = recovery_codes_issue(user=user, actor=None, source=AuditSource.CLI)

    stored = raw_rows(RecoveryCode._meta.db_table) + raw_rows(StaticToken._meta.db_table)
    assert not StaticToken.objects.exists()
    assert RecoveryCode.objects.count() == 10
    for code in codes:
        assert code not in stored
        assert code.replace("-", "") not in stored
    assert re.findall(r"'([0-9a-f]{64})'", stored)  # the HMACs are there instead
    assert sign_in(Client(), user.username, codes[3]) == 302
    again = Client()
    assert sign_in(again, user.username, codes[3]) == 200
    assert RecoveryCode.objects.count() == 9


# --- The data migration, on rows as django-otp stored them before ---


def _migration() -> Any:
    return importlib.import_module(MIGRATION)


def _historical_apps() -> Any:
    executor = MigrationExecutor(connection)
    return executor.loader.project_state(
        ("accounts", "0004_seal_totp_keys_and_hash_recovery_codes")
    ).apps


@pytest.fixture
def legacy(db: None) -> Callable[[], tuple[Any, list[str]]]:
    """A person enrolled as before this change: the key in hex, recovery codes in plain text."""

    def make() -> tuple[Any, list[str]]:
        user = UserFactory(role=Role.SPECIALIST.value)
        TOTPDevice.objects.create(user=user, name="authenticator", key=SECRET.hex(), confirmed=True)
        static = StaticDevice.objects.create(user=user, name="recovery codes", confirmed=True)
        codes = ["abcdefgh", "ijklmnop", "qrstuvwx"]
        for code in codes:
            StaticToken.objects.create(device=static, token=code)
        return user, codes

    return make


def test_the_migration_seals_existing_keys_and_hashes_existing_codes(
    legacy: Callable[[], tuple[Any, list[str]]],
) -> None:
    user, codes = legacy()
    assert SECRET.hex() in raw_rows(TOTPDevice._meta.db_table)

    _migration()._seal_keys_and_hash_codes(_historical_apps(), None)
    # A second run (a re-applied migration) leaves sealed keys as they are.
    _migration()._seal_keys_and_hash_codes(_historical_apps(), None)

    stored = raw_rows(TOTPDevice._meta.db_table) + raw_rows(RecoveryCode._meta.db_table)
    assert not any(form in stored for form in forms_of(SECRET))
    assert not any(code in stored for code in codes)
    assert not StaticToken.objects.exists()
    assert SealedTOTPDevice.objects.get(user=user).bin_key == SECRET
    assert sign_in(Client(), user.username, totp_now(secret_b32(SECRET))) == 302
    # Typed as people type them, the old codes still work, once each.
    assert sign_in(Client(), user.username, "ABCD-EFGH") == 302
    assert sign_in(Client(), user.username, "abcdefgh") == 200


def test_the_migration_reverses_to_hex_keys(legacy: Callable[[], tuple[Any, list[str]]]) -> None:
    user, _ = legacy()
    apps = _historical_apps()
    _migration()._seal_keys_and_hash_codes(apps, None)

    _migration()._open_keys(apps, None)

    assert TOTPDevice.objects.get(user=user).key == SECRET.hex()
    # Codes cannot be recovered from their HMACs: the reversal removes them.
    assert not RecoveryCode.objects.exists()


def test_the_migration_refuses_a_key_too_long_to_seal(db: None) -> None:
    user = UserFactory(role=Role.SPECIALIST.value)
    TOTPDevice.objects.create(user=user, name="authenticator", key=bytes(40).hex(), confirmed=True)

    with pytest.raises(RuntimeError, match="40-byte key"):
        _migration()._seal_keys_and_hash_codes(_historical_apps(), None)
