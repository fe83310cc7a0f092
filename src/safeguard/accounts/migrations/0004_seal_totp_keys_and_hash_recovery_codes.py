"""Existing second-factor secrets at rest: TOTP keys sealed in place, recovery codes replaced by
their HMACs (accounts/sealing.py). Reversing opens the keys again; the codes cannot be recovered
from their HMACs, so a reversal removes them and people make a new set."""

from django.conf import settings
from django.db import migrations

from safeguard.accounts.sealing import (
    MAX_TOTP_KEY_BYTES,
    Unreadable,
    open_totp_key,
    recovery_code_digest,
    seal_totp_key,
)
from safeguard.accounts.totp import normalise_code


def _seal_keys_and_hash_codes(apps, schema_editor):  # type: ignore[no-untyped-def]
    vault_key = settings.SAFEGUARD_VAULT_KEY
    TOTPDevice = apps.get_model("otp_totp", "TOTPDevice")
    StaticToken = apps.get_model("otp_static", "StaticToken")
    RecoveryCode = apps.get_model("accounts", "RecoveryCode")
    for device in TOTPDevice.objects.all().iterator():
        try:
            open_totp_key(vault_key, sealed=device.key, user_id=device.user_id)
            continue  # sealed already (a re-run)
        except Unreadable:
            pass
        key = bytes.fromhex(device.key)
        if len(key) > MAX_TOTP_KEY_BYTES:
            raise RuntimeError(
                f"TOTP device {device.pk} has a {len(key)}-byte key; sealed keys are at most "
                f"{MAX_TOTP_KEY_BYTES} bytes. Delete that device (the person enrols again with "
                "an invite) and migrate again."
            )
        device.key = seal_totp_key(vault_key, key=key, user_id=device.user_id)
        device.save(update_fields=["key"])
    for token in StaticToken.objects.all().iterator():
        digest = recovery_code_digest(
            vault_key, code=normalise_code(token.token), device_id=token.device_id
        )
        RecoveryCode.objects.get_or_create(device_id=token.device_id, digest=digest)
    StaticToken.objects.all().delete()


def _open_keys(apps, schema_editor):  # type: ignore[no-untyped-def]
    vault_key = settings.SAFEGUARD_VAULT_KEY
    TOTPDevice = apps.get_model("otp_totp", "TOTPDevice")
    for device in TOTPDevice.objects.all().iterator():
        try:
            key = open_totp_key(vault_key, sealed=device.key, user_id=device.user_id)
        except Unreadable:
            continue  # hex already
        device.key = key.hex()
        device.save(update_fields=["key"])
    apps.get_model("accounts", "RecoveryCode").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("accounts", "0003_second_factor_sealed_and_invites")]

    operations = [migrations.RunPython(_seal_keys_and_hash_codes, _open_keys)]
