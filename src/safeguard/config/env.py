"""The one module that reads the process environment and turns it into typed configuration."""

from __future__ import annotations

import base64
import binascii
import os
import secrets
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path


class Mode(StrEnum):
    """How strict start-up is: production refuses to invent secrets, the others make them."""

    PRODUCTION = "production"
    DEVELOPMENT = "development"
    TEST = "test"


class ConfigurationError(Exception):
    """The environment does not describe a runnable Safeguard; the message says what to set."""


VAULT_KEY_BYTES = 32
DEFAULT_MAX_MEDIA_BYTES = 200 * 1024 * 1024


@dataclass(frozen=True)
class Config:
    mode: Mode
    var_dir: Path
    secret_key: str
    vault_key: bytes
    database_url: str | None
    max_media_bytes: int
    allowed_hosts: list[str]
    oncall: list[str]
    oncall_lead: str
    paging_webhook_url: str
    paging_webhook_secret: bytes
    page_ack_seconds: int
    platform_webhook_url: str
    platform_webhook_secret: bytes
    email_backend: str
    email_from: str
    email_host: str
    email_port: int


def _read_mode(env: dict[str, str]) -> Mode:
    raw = env.get("SAFEGUARD_ENV", Mode.PRODUCTION.value)
    try:
        return Mode(raw)
    except ValueError:
        choices = ", ".join(m.value for m in Mode)
        raise ConfigurationError(f"SAFEGUARD_ENV={raw!r} is not one of: {choices}.") from None


def _file_secret(path: Path, make: bytes) -> bytes:
    """Read a generated secret from `path`, writing `make` there first if it does not exist."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        # O_EXCL makes concurrent first starts (web and worker) agree on one secret.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes().strip()
    with os.fdopen(fd, "wb") as handle:
        handle.write(make)
    return make


def decode_vault_key(raw: str) -> bytes:
    """Decode a base64 AES-256 key, saying exactly what is wrong with a bad one."""
    try:
        key = base64.b64decode(raw.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ConfigurationError("SAFEGUARD_VAULT_KEY is not valid base64.") from None
    if len(key) != VAULT_KEY_BYTES:
        raise ConfigurationError(
            f"SAFEGUARD_VAULT_KEY must decode to {VAULT_KEY_BYTES} bytes (AES-256); "
            f"it decodes to {len(key)}. Make one with: "
            'python -c "import base64,os;print(base64.b64encode(os.urandom(32)).decode())"'
        )
    return key


def load(env: dict[str, str] | None = None) -> Config:
    """Build the configuration, failing with a clear message where production lacks a secret."""
    env = dict(os.environ) if env is None else env
    mode = _read_mode(env)
    var_dir = Path(env.get("SAFEGUARD_VAR_DIR", "var")).resolve()
    generated = mode is not Mode.PRODUCTION

    secret_key = env.get("SAFEGUARD_SECRET_KEY", "")
    if not secret_key:
        if not generated:
            raise ConfigurationError(
                "SAFEGUARD_SECRET_KEY is not set. Production mode never invents secrets: set it to "
                "a long random string, or set SAFEGUARD_ENV=development for a local trial."
            )
        secret_key = _file_secret(
            var_dir / "secret.key", secrets.token_urlsafe(50).encode()
        ).decode()

    raw_key = env.get("SAFEGUARD_VAULT_KEY", "")
    if raw_key:
        vault_key = decode_vault_key(raw_key)
    elif generated:
        made = base64.b64encode(secrets.token_bytes(VAULT_KEY_BYTES))
        vault_key = decode_vault_key(_file_secret(var_dir / "vault.key", made).decode())
    else:
        raise ConfigurationError(
            "SAFEGUARD_VAULT_KEY is not set. The evidence vault encrypts media with AES-256-GCM "
            "and production mode will not start without its key (32 bytes, base64). Losing the key "
            "loses the evidence: keep it in your secret manager."
        )

    max_raw = env.get("SAFEGUARD_MAX_MEDIA_BYTES", str(DEFAULT_MAX_MEDIA_BYTES))
    try:
        max_media_bytes = int(max_raw)
    except ValueError:
        raise ConfigurationError(
            f"SAFEGUARD_MAX_MEDIA_BYTES={max_raw!r} is not a whole number of bytes."
        ) from None
    if max_media_bytes <= 0:
        raise ConfigurationError("SAFEGUARD_MAX_MEDIA_BYTES must be positive.")

    hosts = env.get("SAFEGUARD_ALLOWED_HOSTS", "127.0.0.1,localhost")
    webhook_url, webhook_secret = _webhook(env, var_dir, generated, "PAGING", "pages")
    platform_url, platform_secret = _webhook(env, var_dir, generated, "PLATFORM", "actions")
    ack_raw = env.get("SAFEGUARD_PAGE_ACK_SECONDS", "300")
    if not ack_raw.isdigit() or int(ack_raw) <= 0:
        raise ConfigurationError(
            f"SAFEGUARD_PAGE_ACK_SECONDS={ack_raw!r} must be a positive whole number of seconds."
        )
    return Config(
        mode=mode,
        var_dir=var_dir,
        secret_key=secret_key,
        vault_key=vault_key,
        database_url=env.get("DATABASE_URL") or None,
        max_media_bytes=max_media_bytes,
        allowed_hosts=_csv(hosts),
        oncall=_csv(env.get("SAFEGUARD_ONCALL", "")),
        oncall_lead=env.get("SAFEGUARD_ONCALL_LEAD", "").strip(),
        paging_webhook_url=webhook_url,
        paging_webhook_secret=webhook_secret.encode(),
        page_ack_seconds=int(ack_raw),
        platform_webhook_url=platform_url,
        platform_webhook_secret=platform_secret.encode(),
        # Without an SMTP host, e-mail pages are written to the log (the console backend).
        email_backend=(
            "django.core.mail.backends.smtp.EmailBackend"
            if env.get("SAFEGUARD_SMTP_HOST")
            else "django.core.mail.backends.console.EmailBackend"
        ),
        email_from=env.get("SAFEGUARD_EMAIL_FROM", "safeguard@localhost"),
        email_host=env.get("SAFEGUARD_SMTP_HOST", "localhost"),
        email_port=_port(env.get("SAFEGUARD_SMTP_PORT", "25")),
    )


def _webhook(
    env: dict[str, str], var_dir: Path, generated: bool, name: str, what: str
) -> tuple[str, str]:
    """SAFEGUARD_<name>_WEBHOOK_URL and its signing secret: production needs both together;
    development generates the secret under var/."""
    url = env.get(f"SAFEGUARD_{name}_WEBHOOK_URL", "")
    secret = env.get(f"SAFEGUARD_{name}_WEBHOOK_SECRET", "")
    if url and not secret:
        if not generated:
            raise ConfigurationError(
                f"SAFEGUARD_{name}_WEBHOOK_URL is set but SAFEGUARD_{name}_WEBHOOK_SECRET is not: "
                f"{what} are signed, and the receiver needs the shared secret to trust them."
            )
        secret = _file_secret(
            var_dir / f"{name.lower()}-webhook.secret", secrets.token_urlsafe(32).encode()
        ).decode()
    return url, secret


def _port(raw: str) -> int:
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise ConfigurationError(f"SAFEGUARD_SMTP_PORT={raw!r} is not a port number.")
    return int(raw)


def _csv(raw: str) -> list[str]:
    return [part.strip() for part in raw.split(",") if part.strip()]
