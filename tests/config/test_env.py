"""Start-up configuration: production refuses to invent secrets, and says what to set."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from safeguard.config.env import ConfigurationError, Mode, load
from tests.cli import clean_env, safeguard

GOOD_KEY = base64.b64encode(bytes(32)).decode()


def test_production_without_a_vault_key_fails_clearly(tmp_path: Path) -> None:
    env = {"SAFEGUARD_SECRET_KEY": "x" * 50, "SAFEGUARD_VAR_DIR": str(tmp_path)}

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
        "SAFEGUARD_SECRET_KEY": "x",
        "SAFEGUARD_VAULT_KEY": key,
        "SAFEGUARD_VAR_DIR": str(tmp_path),
    }
    with pytest.raises(ConfigurationError, match=message):
        load(env)


def test_production_with_its_keys(tmp_path: Path) -> None:
    config = load(
        {
            "SAFEGUARD_SECRET_KEY": "s" * 50,
            "SAFEGUARD_VAULT_KEY": GOOD_KEY,
            "SAFEGUARD_VAR_DIR": str(tmp_path),
        }
    )
    assert config.mode is Mode.PRODUCTION
    assert config.vault_key == bytes(32)


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
    env = clean_env(SAFEGUARD_SECRET_KEY="s" * 50, SAFEGUARD_VAR_DIR=str(tmp_path))

    done = safeguard(env, "check")

    assert done.returncode == 2
    assert "configuration error: SAFEGUARD_VAULT_KEY is not set" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("name", ["PAGING", "PLATFORM"])
def test_a_webhook_without_its_secret_is_refused_in_production(tmp_path: Path, name: str) -> None:
    env = {
        "SAFEGUARD_SECRET_KEY": "s" * 50,
        "SAFEGUARD_VAULT_KEY": GOOD_KEY,
        "SAFEGUARD_VAR_DIR": str(tmp_path),
        f"SAFEGUARD_{name}_WEBHOOK_URL": "https://platform.example/hook",
    }

    with pytest.raises(ConfigurationError, match=f"SAFEGUARD_{name}_WEBHOOK_SECRET is not"):
        load(env)
    env["SAFEGUARD_ENV"] = "development"
    assert load(env).mode is Mode.DEVELOPMENT
