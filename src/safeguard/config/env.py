"""The one module that reads the process environment and turns it into typed configuration."""

from __future__ import annotations

import base64
import binascii
import os
import re
import secrets
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


class Mode(StrEnum):
    """How strict start-up is: production refuses to invent secrets, the others make them."""

    PRODUCTION = "production"
    DEVELOPMENT = "development"
    TEST = "test"


class ConfigurationError(Exception):
    """The environment does not describe a runnable Safeguard; the message says what to set."""


VAULT_KEY_BYTES = 32
AUDIT_KEY_BYTES = 32
MAX_CHECKPOINT_SECONDS = 3600
# Django's own thresholds for a secret key (`check --deploy`, security.W009): production refuses
# a key below them instead of starting with sessions and CSRF tokens an attacker could forge.
SECRET_KEY_MIN_LENGTH = 50
SECRET_KEY_MIN_UNIQUE = 5
_DJANGO_INSECURE_PREFIX = "django-insecure-"
DEFAULT_MAX_MEDIA_BYTES = 200 * 1024 * 1024
# The name of the host platform whose service accounts own its content ids (docs/security.md).
DEFAULT_PLATFORM = "platform"
_PLATFORM_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")


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
    platform: str
    platform_time_zone: str
    audit_signing_key: bytes
    audit_origin: str
    audit_witness_file: Path | None
    audit_witness_url: str
    audit_witness_secret: bytes
    audit_checkpoint_seconds: float
    legal_oncall: list[str]
    le_verification_days: int
    le_holiday_country: str
    le_directory_file: Path | None
    le_referral_ack_minutes: int


def _read_mode(env: dict[str, str]) -> Mode:
    raw = env.get("SAFEGUARD_ENV", Mode.PRODUCTION.value)
    try:
        return Mode(raw)
    except ValueError:
        choices = ", ".join(m.value for m in Mode)
        raise ConfigurationError(f"SAFEGUARD_ENV={raw!r} is not one of: {choices}.") from None


def private_dir(path: Path) -> Path:
    """Create `path` readable by this user only (0700), or take group and other access away
    from it: it holds the database, generated secrets and the vault."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        try:
            path.chmod(mode & 0o700)
        except OSError as exc:
            raise ConfigurationError(
                f"SAFEGUARD_VAR_DIR {path} is open to other users (mode {mode:o}) and cannot be "
                f"made private ({exc.strerror}): chmod 700 it, or set SAFEGUARD_VAR_DIR elsewhere."
            ) from None
    return path


def _file_secret(path: Path, make: bytes) -> bytes:
    """Read a generated secret from `path`, writing `make` there first if it does not exist."""
    private_dir(path.parent)
    try:
        # O_EXCL makes concurrent first starts (web and worker) agree on one secret.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes().strip()
    with os.fdopen(fd, "wb") as handle:
        handle.write(make)
    return make


def _weak_secret_key(key: str) -> bool:
    """Below Django's thresholds, or a key `startproject` generated for development."""
    return (
        len(key) < SECRET_KEY_MIN_LENGTH
        or len(set(key)) < SECRET_KEY_MIN_UNIQUE
        or key.startswith(_DJANGO_INSECURE_PREFIX)
    )


def decode_key(name: str, raw: str, *, size: int, what: str) -> bytes:
    """Decode a base64 key of `size` bytes from setting `name`, saying exactly what is wrong."""
    try:
        key = base64.b64decode(raw.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ConfigurationError(f"{name} is not valid base64.") from None
    if len(key) != size:
        raise ConfigurationError(
            f"{name} must decode to {size} bytes ({what}); "
            f"it decodes to {len(key)}. Make one with: "
            f'python -c "import base64,os;print(base64.b64encode(os.urandom({size})).decode())"'
        )
    return key


def decode_vault_key(raw: str) -> bytes:
    return decode_key("SAFEGUARD_VAULT_KEY", raw, size=VAULT_KEY_BYTES, what="AES-256")


def decode_signing_key(raw: str) -> bytes:
    """A base64 Ed25519 private key: its 32-byte seed."""
    return decode_key(
        "SAFEGUARD_AUDIT_SIGNING_KEY", raw, size=AUDIT_KEY_BYTES, what="an Ed25519 private key"
    )


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
    elif not generated and _weak_secret_key(secret_key):
        raise ConfigurationError(
            f"SAFEGUARD_SECRET_KEY is too weak: production needs at least {SECRET_KEY_MIN_LENGTH} "
            f"characters, {SECRET_KEY_MIN_UNIQUE} of them different, and not one Django generated "
            f"({_DJANGO_INSECURE_PREFIX}...); make one with: "
            'python -c "import secrets;print(secrets.token_urlsafe(50))"'
        )

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
    platform = _platform(env.get("SAFEGUARD_PLATFORM", DEFAULT_PLATFORM))
    signing_key = _audit_signing_key(env, var_dir, generated)
    witness_url, witness_secret = _webhook(env, var_dir, generated, "AUDIT_WITNESS", "checkpoints")
    witness_file = env.get("SAFEGUARD_AUDIT_WITNESS_FILE", "").strip()
    if not witness_file and mode is Mode.DEVELOPMENT:
        # A trial machine keeps a copy beside its database, so `audit verify --against` can be
        # tried; a real deployment sends checkpoints off the host (docs/audit-and-evidence.md).
        witness_file = str(var_dir / "audit-checkpoints.txt")
    # Created (or made private) only once the configuration is known to be runnable.
    private_dir(var_dir)
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
        platform=platform,
        platform_time_zone=_time_zone(env.get("SAFEGUARD_PLATFORM_TIME_ZONE", "UTC")),
        audit_signing_key=signing_key,
        audit_origin=_audit_origin(
            env.get("SAFEGUARD_AUDIT_ORIGIN", f"safeguard.{platform}/audit")
        ),
        audit_witness_file=Path(witness_file).resolve() if witness_file else None,
        audit_witness_url=witness_url,
        audit_witness_secret=witness_secret.encode(),
        audit_checkpoint_seconds=_checkpoint_seconds(
            env.get("SAFEGUARD_AUDIT_CHECKPOINT_SECONDS", "1")
        ),
        legal_oncall=_csv(env.get("SAFEGUARD_LEGAL_ONCALL", "")),
        le_verification_days=_whole(
            "SAFEGUARD_LE_VERIFICATION_DAYS", env.get("SAFEGUARD_LE_VERIFICATION_DAYS", "90"), 3650
        ),
        le_holiday_country=_country(env.get("SAFEGUARD_LE_HOLIDAY_COUNTRY", "")),
        le_directory_file=_optional_file(env.get("SAFEGUARD_LE_DIRECTORY", "")),
        le_referral_ack_minutes=_whole(
            "SAFEGUARD_LE_REFERRAL_ACK_MINUTES",
            env.get("SAFEGUARD_LE_REFERRAL_ACK_MINUTES", "30"),
            7 * 24 * 60,
        ),
    )


def _whole(name: str, raw: str, most: int) -> int:
    if not raw.strip().isdigit() or not 0 < int(raw) <= most:
        raise ConfigurationError(f"{name}={raw!r} must be a whole number from 1 to {most}.")
    return int(raw)


def _country(raw: str) -> str:
    """The country whose public holidays end an EU legal period late (Reg. 1182/71 Art. 3(4)):
    where the platform's EU establishment or legal representative is; "" counts weekends only."""
    code = raw.strip().upper()
    if code and not re.fullmatch(r"[A-Z]{2}", code):
        raise ConfigurationError(
            f"SAFEGUARD_LE_HOLIDAY_COUNTRY={raw!r} must be an ISO 3166 two-letter code "
            "such as 'IE'."
        )
    return code


def _optional_file(raw: str) -> Path | None:
    name = raw.strip()
    if not name:
        return None
    path = Path(name).resolve()
    if not path.is_file():
        raise ConfigurationError(f"SAFEGUARD_LE_DIRECTORY={raw!r} is not a file.")
    return path


def _audit_signing_key(env: dict[str, str], var_dir: Path, generated: bool) -> bytes:
    """The key that signs the audit log's checkpoints: never in the database, so an insider
    who can rewrite the database cannot sign a rewritten history (docs/audit-and-evidence.md)."""
    raw = env.get("SAFEGUARD_AUDIT_SIGNING_KEY", "")
    if raw:
        return decode_signing_key(raw)
    if generated:
        made = base64.b64encode(secrets.token_bytes(AUDIT_KEY_BYTES))
        return decode_signing_key(_file_secret(var_dir / "audit-signing.key", made).decode())
    raise ConfigurationError(
        "SAFEGUARD_AUDIT_SIGNING_KEY is not set. The audit log's checkpoints are signed with "
        "Ed25519, and production mode will not start without the key (32 bytes, base64), kept "
        "outside the database: in your secret manager. `safeguard audit public-key` prints the "
        "key verifiers need."
    )


def _checkpoint_seconds(raw: str) -> float:
    """The least time between two checkpoints: a busy log signs one per interval."""
    try:
        seconds = float(raw)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds <= MAX_CHECKPOINT_SECONDS:
        raise ConfigurationError(
            f"SAFEGUARD_AUDIT_CHECKPOINT_SECONDS={raw!r} must be a number of seconds from 0 to "
            f"{MAX_CHECKPOINT_SECONDS}."
        )
    return seconds


def _audit_origin(raw: str) -> str:
    """The checkpoint origin and key name: one token, no spaces or '+' (C2SP signed-note)."""
    origin = raw.strip()
    if not origin or len(origin) > 200 or any(ch.isspace() or ch == "+" for ch in origin):
        raise ConfigurationError(
            f"SAFEGUARD_AUDIT_ORIGIN={raw!r} must be 1-200 characters without spaces or '+', "
            "such as 'audit.example.org/safeguard'."
        )
    return origin


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


def _platform(raw: str) -> str:
    name = raw.strip()
    if not _PLATFORM_NAME.match(name):
        raise ConfigurationError(
            f"SAFEGUARD_PLATFORM={raw!r} must be 1-64 lowercase letters, digits, '.', '_' or '-'."
        )
    return name


def _time_zone(raw: str) -> str:
    """The zone triage reads "tonight" in when no victim's country is known (IANA name)."""
    name = raw.strip()
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigurationError(
            f"SAFEGUARD_PLATFORM_TIME_ZONE={raw!r} is not an IANA time zone such as "
            "'Europe/London' or 'UTC'."
        ) from None
    return name


def _port(raw: str) -> int:
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise ConfigurationError(f"SAFEGUARD_SMTP_PORT={raw!r} is not a port number.")
    return int(raw)


def _csv(raw: str) -> list[str]:
    return [part.strip() for part in raw.split(",") if part.strip()]


@dataclass(frozen=True)
class Https:
    """How production is reached over TLS (README, "Running it for real")."""

    ssl_redirect: bool
    behind_proxy: bool
    hsts_preload: bool


def load_https(env: dict[str, str] | None = None) -> Https:
    """The TLS settings; read in every mode so a typo fails early, applied in production only."""
    env = dict(os.environ) if env is None else env
    return Https(
        ssl_redirect=_flag(env, "SAFEGUARD_SSL_REDIRECT", default=True),
        behind_proxy=_flag(env, "SAFEGUARD_BEHIND_PROXY", default=False),
        hsts_preload=_flag(env, "SAFEGUARD_HSTS_PRELOAD", default=False),
    )


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _flag(env: dict[str, str], name: str, *, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw not in _TRUE | _FALSE:
        raise ConfigurationError(f"{name}={env[name]!r} must be true or false.")
    return raw in _TRUE


class TaskBackend(StrEnum):
    """Where background work waits: the database (one machine) or RQ on Redis (many hosts)."""

    DATABASE = "database"
    RQ = "rq"


@dataclass(frozen=True)
class Tasks:
    backend: TaskBackend
    redis_url: str


def load_tasks(env: dict[str, str] | None = None) -> Tasks:
    """SAFEGUARD_TASKS (database, the default, or rq) and SAFEGUARD_REDIS_URL for rq."""
    env = dict(os.environ) if env is None else env
    raw = env.get("SAFEGUARD_TASKS", TaskBackend.DATABASE.value).strip().lower()
    try:
        backend = TaskBackend(raw)
    except ValueError:
        choices = ", ".join(b.value for b in TaskBackend)
        raise ConfigurationError(f"SAFEGUARD_TASKS={raw!r} is not one of: {choices}.") from None
    url = env.get("SAFEGUARD_REDIS_URL", "redis://127.0.0.1:6379/0").strip()
    if backend is TaskBackend.RQ and not url.startswith(("redis://", "rediss://", "unix://")):
        raise ConfigurationError(
            f"SAFEGUARD_REDIS_URL={url!r} must be a redis://, rediss:// or unix:// URL."
        )
    return Tasks(backend=backend, redis_url=url)


_ORIGIN = re.compile(r"^(https?)://([a-z0-9.-]+|\[[0-9a-f:.]+\])(:[0-9]{1,5})?/?$")


def load_stream_origins(
    env: dict[str, str] | None = None, *, mode: Mode | None = None
) -> list[str]:
    """SAFEGUARD_STREAM_ORIGINS: the origins (scheme://host[:port]) whose livestream viewers
    the console may play, comma-separated; none by default. Production takes https only."""
    env = dict(os.environ) if env is None else env
    mode = mode or _read_mode(env)
    origins: list[str] = []
    for raw in _csv(env.get("SAFEGUARD_STREAM_ORIGINS", "")):
        found = _ORIGIN.match(raw.lower())
        if found is None:
            raise ConfigurationError(
                f"SAFEGUARD_STREAM_ORIGINS: {raw!r} is not an origin; give scheme://host[:port] "
                "with no path, e.g. https://live.example"
            )
        scheme, host, port = found.groups()
        if mode is Mode.PRODUCTION and scheme != "https":
            raise ConfigurationError(
                f"SAFEGUARD_STREAM_ORIGINS: {raw!r} is not https; production plays streams "
                "over https only"
            )
        if port and not 0 < int(port[1:]) < 65536:
            raise ConfigurationError(f"SAFEGUARD_STREAM_ORIGINS: {raw!r} has no valid port.")
        if port in {":80", ":443"} and {":80": "http", ":443": "https"}[port] == scheme:
            port = ""  # the default port is not part of the origin a browser compares
        origin = f"{scheme}://{host}{port or ''}"
        if origin not in origins:
            origins.append(origin)
    return origins
