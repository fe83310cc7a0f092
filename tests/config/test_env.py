"""Start-up configuration: production refuses to invent secrets, and says what to set."""

from __future__ import annotations

import base64
import secrets
from pathlib import Path

import pytest

from safeguard.config.env import ConfigurationError, Https, Mode, load, load_https
from tests.cli import clean_env, safeguard

GOOD_KEY = base64.b64encode(bytes(32)).decode()
AUDIT_KEY = base64.b64encode(bytes(range(32))).decode()
# Long and varied enough for Django's `check --deploy` (50 characters, 5 different ones).
SECRET_KEY = "test-only-secret-key-" + "0123456789abcdefghijklmnopqrstuvwxyz"


def test_production_without_a_vault_key_fails_clearly(tmp_path: Path) -> None:
    env = {"SAFEGUARD_SECRET_KEY": SECRET_KEY, "SAFEGUARD_VAR_DIR": str(tmp_path)}

    with pytest.raises(ConfigurationError, match="SAFEGUARD_VAULT_KEY is not set"):
        load(env)
    assert not (tmp_path / "vault.key").exists()


def test_production_without_a_secret_key_fails_clearly(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="SAFEGUARD_SECRET_KEY is not set"):
        load({"SAFEGUARD_VAULT_KEY": GOOD_KEY, "SAFEGUARD_VAR_DIR": str(tmp_path)})


@pytest.mark.parametrize(
    ("key", "message"),
    [("not base64!", "not valid base64"), (base64.b64encode(b"short").decode(), "32 bytes")],
)
def test_a_bad_vault_key_is_named(tmp_path: Path, key: str, message: str) -> None:
    env = {
        "SAFEGUARD_SECRET_KEY": SECRET_KEY,
        "SAFEGUARD_VAULT_KEY": key,
        "SAFEGUARD_VAR_DIR": str(tmp_path),
    }
    with pytest.raises(ConfigurationError, match=message):
        load(env)


def test_production_with_its_keys(tmp_path: Path) -> None:
    config = load(
        {
            "SAFEGUARD_SECRET_KEY": SECRET_KEY,
            "SAFEGUARD_VAULT_KEY": GOOD_KEY,
            "SAFEGUARD_AUDIT_SIGNING_KEY": AUDIT_KEY,
            "SAFEGUARD_VAR_DIR": str(tmp_path),
        }
    )
    assert config.mode is Mode.PRODUCTION
    assert config.vault_key == bytes(32)
    assert config.audit_signing_key == bytes(range(32))
    # Production exports checkpoints only where it is told to (docs/audit-and-evidence.md).
    assert config.audit_witness_file is None
    assert config.audit_origin == "safeguard.platform/audit"


def test_production_without_an_audit_signing_key_fails_clearly(tmp_path: Path) -> None:
    env = {
        "SAFEGUARD_SECRET_KEY": SECRET_KEY,
        "SAFEGUARD_VAULT_KEY": GOOD_KEY,
        "SAFEGUARD_VAR_DIR": str(tmp_path),
    }

    with pytest.raises(ConfigurationError, match="SAFEGUARD_AUDIT_SIGNING_KEY is not set"):
        load(env)
    assert not (tmp_path / "audit-signing.key").exists()


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("SAFEGUARD_AUDIT_SIGNING_KEY", "not base64!", "not valid base64"),
        ("SAFEGUARD_AUDIT_SIGNING_KEY", base64.b64encode(b"short").decode(), "32 bytes"),
        ("SAFEGUARD_AUDIT_ORIGIN", "two words", "without spaces"),
        ("SAFEGUARD_AUDIT_ORIGIN", "a+b", "without spaces or '\\+'"),
        ("SAFEGUARD_AUDIT_WITNESS_WEBHOOK_URL", "https://witness.example/in", "SECRET is not"),
        ("SAFEGUARD_AUDIT_CHECKPOINT_SECONDS", "soon", "number of seconds"),
        ("SAFEGUARD_AUDIT_CHECKPOINT_SECONDS", "-1", "from 0 to 3600"),
        ("SAFEGUARD_AUDIT_CHECKPOINT_SECONDS", "nan", "from 0 to 3600"),
    ],
)
def test_bad_audit_settings_are_named(tmp_path: Path, name: str, value: str, message: str) -> None:
    env = {
        "SAFEGUARD_SECRET_KEY": SECRET_KEY,
        "SAFEGUARD_VAULT_KEY": GOOD_KEY,
        "SAFEGUARD_AUDIT_SIGNING_KEY": AUDIT_KEY,
        "SAFEGUARD_VAR_DIR": str(tmp_path),
        name: value,
    }
    with pytest.raises(ConfigurationError, match=message):
        load(env)


def test_development_generates_an_audit_key_and_keeps_checkpoints_beside_its_database(
    tmp_path: Path,
) -> None:
    env = {"SAFEGUARD_ENV": "development", "SAFEGUARD_VAR_DIR": str(tmp_path)}

    first, second = load(env), load(env)

    assert first.audit_signing_key == second.audit_signing_key
    assert len(first.audit_signing_key) == 32
    assert (tmp_path / "audit-signing.key").stat().st_mode & 0o777 == 0o600
    assert first.audit_witness_file == (tmp_path / "audit-checkpoints.txt").resolve()


def test_development_generates_keys_once_under_var(tmp_path: Path) -> None:
    env = {"SAFEGUARD_ENV": "development", "SAFEGUARD_VAR_DIR": str(tmp_path)}

    first, second = load(env), load(env)

    assert first.vault_key == second.vault_key
    assert len(first.vault_key) == 32
    assert (tmp_path / "vault.key").stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("SAFEGUARD_ENV", "staging", "SAFEGUARD_ENV"),
        ("SAFEGUARD_MAX_MEDIA_BYTES", "lots", "whole number"),
        ("SAFEGUARD_MAX_MEDIA_BYTES", "0", "positive"),
    ],
)
def test_bad_settings_are_named(tmp_path: Path, name: str, value: str, message: str) -> None:
    env = {"SAFEGUARD_ENV": "development", "SAFEGUARD_VAR_DIR": str(tmp_path), name: value}
    with pytest.raises(ConfigurationError, match=message):
        load(env)


def test_the_command_line_reports_a_missing_key_and_exits_2(tmp_path: Path) -> None:
    env = clean_env(SAFEGUARD_SECRET_KEY=SECRET_KEY, SAFEGUARD_VAR_DIR=str(tmp_path))

    done = safeguard(env, "check")

    assert done.returncode == 2
    assert "configuration error: SAFEGUARD_VAULT_KEY is not set" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("name", ["PAGING", "PLATFORM"])
def test_a_webhook_without_its_secret_is_refused_in_production(tmp_path: Path, name: str) -> None:
    env = {
        "SAFEGUARD_SECRET_KEY": SECRET_KEY,
        "SAFEGUARD_VAULT_KEY": GOOD_KEY,
        "SAFEGUARD_VAR_DIR": str(tmp_path),
        f"SAFEGUARD_{name}_WEBHOOK_URL": "https://platform.example/hook",
    }

    with pytest.raises(ConfigurationError, match=f"SAFEGUARD_{name}_WEBHOOK_SECRET is not"):
        load(env)
    env["SAFEGUARD_ENV"] = "development"
    assert load(env).mode is Mode.DEVELOPMENT


@pytest.mark.parametrize(
    "key",
    [
        "x",  # one character
        "k" * 200,  # long, one character repeated
        "abcd" * 20,  # long, four different characters
        secrets.token_urlsafe(50)[:49],  # random, one character short
        "django-insecure-" + secrets.token_urlsafe(50),  # made by `startproject` for development
    ],
)
def test_production_refuses_a_weak_secret_key(tmp_path: Path, key: str) -> None:
    env = {
        "SAFEGUARD_SECRET_KEY": key,
        "SAFEGUARD_VAULT_KEY": GOOD_KEY,
        "SAFEGUARD_VAR_DIR": str(tmp_path),
    }

    with pytest.raises(ConfigurationError, match="SAFEGUARD_SECRET_KEY is too weak") as refused:
        load(env)
    message = str(refused.value)
    assert "\n" not in message
    assert "secrets.token_urlsafe(50)" in message  # how to make a good one
    assert key not in message  # the key itself never reaches a log
    # Development and the tests accept whatever key they are given.
    env["SAFEGUARD_ENV"] = "development"
    assert load(env).secret_key == key


def test_a_key_at_the_thresholds_is_accepted(tmp_path: Path) -> None:
    key = "abcde" * 10  # exactly 50 characters, exactly 5 different ones
    env = {
        "SAFEGUARD_SECRET_KEY": key,
        "SAFEGUARD_VAULT_KEY": GOOD_KEY,
        "SAFEGUARD_AUDIT_SIGNING_KEY": AUDIT_KEY,
    }

    assert load({**env, "SAFEGUARD_VAR_DIR": str(tmp_path)}).secret_key == key


def test_the_command_line_refuses_a_weak_key_before_anything_runs(tmp_path: Path) -> None:
    env = clean_env(
        SAFEGUARD_SECRET_KEY="x", SAFEGUARD_VAULT_KEY=GOOD_KEY, SAFEGUARD_VAR_DIR=str(tmp_path)
    )

    done = safeguard(env, "check", "--deploy")

    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert done.stderr.startswith("safeguard: configuration error: SAFEGUARD_SECRET_KEY is too")
    assert not (tmp_path / "safeguard.sqlite3").exists()


@pytest.mark.parametrize("name", ["SAFEGUARD_SSL_REDIRECT", "SAFEGUARD_BEHIND_PROXY"])
def test_https_switches_are_true_or_false(name: str) -> None:
    assert getattr(load_https({name: "off"}), name.removeprefix("SAFEGUARD_").lower()) is False
    assert getattr(load_https({name: "Yes"}), name.removeprefix("SAFEGUARD_").lower()) is True
    with pytest.raises(ConfigurationError, match=f"{name}='maybe' must be true or false"):
        load_https({name: "maybe"})


def test_https_defaults_redirect_without_trusting_a_proxy_or_preloading() -> None:
    assert load_https({}) == Https(ssl_redirect=True, behind_proxy=False, hsts_preload=False)
