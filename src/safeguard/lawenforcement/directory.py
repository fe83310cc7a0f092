"""The agency directory for outbound emergency referrals: versioned data, validated on load,
looked up by country (pure; no Django)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from safeguard.signals.safe_yaml import YamlRefused, load_untrusted_yaml

MAX_DIRECTORY_BYTES = 512 * 1024
# The entry used when the country is an EU Member State nobody can pin down (DSA Art. 18(2)).
EU = "EU"


class Channel(StrEnum):
    PORTAL = "portal"
    EMAIL = "email"
    PHONE = "phone"


class DirectoryError(ValueError):
    """The directory is malformed; the message names the entry and the field."""


@dataclass(frozen=True)
class DirectoryAgency:
    key: str
    country: str
    name: str
    channel: Channel
    address: str
    hours: str
    source: str


@dataclass(frozen=True)
class Directory:
    version: str
    agencies: tuple[DirectoryAgency, ...]

    def for_country(self, country: str) -> list[DirectoryAgency]:
        return [a for a in self.agencies if a.country == country.upper()]

    def get(self, key: str) -> DirectoryAgency:
        for agency in self.agencies:
            if agency.key == key:
                return agency
        known = ", ".join(a.key for a in self.agencies)
        raise DirectoryError(f"no agency {key!r} in directory {self.version}; known: {known}")


_KEY = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
_FIELDS = ("key", "country", "name", "channel", "address", "hours", "source")


def _text(entry: Mapping[str, Any], name: str, where: str, most: int = 300) -> str:
    value = entry.get(name)
    if not isinstance(value, str) or not value.strip() or len(value) > most:
        raise DirectoryError(f"{where}: {name!r} must be text of 1 to {most} characters")
    return value.strip()


def _agency(entry: Any, where: str) -> DirectoryAgency:
    if not isinstance(entry, Mapping):
        raise DirectoryError(f"{where}: an agency is a mapping of {', '.join(_FIELDS)}")
    unknown = sorted(set(entry) - set(_FIELDS))
    if unknown:
        raise DirectoryError(f"{where}: unknown field(s) {', '.join(map(str, unknown))}")
    key = _text(entry, "key", where, 64)
    if not _KEY.match(key):
        raise DirectoryError(f"{where}: key {key!r} must be lowercase letters, digits and '-'")
    country = _text(entry, "country", where, 2).upper()
    if not re.fullmatch(r"[A-Z]{2}", country):
        raise DirectoryError(f"{where}: country {country!r} is not a two-letter code (or EU)")
    raw_channel = _text(entry, "channel", where, 16)
    try:
        channel = Channel(raw_channel)
    except ValueError:
        choices = ", ".join(c.value for c in Channel)
        raise DirectoryError(f"{where}: channel {raw_channel!r} is not one of {choices}") from None
    address = _text(entry, "address", where)
    if channel is Channel.EMAIL and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[a-z]{2,}", address):
        raise DirectoryError(f"{where}: {address!r} is not an e-mail address")
    if channel is Channel.PORTAL and not address.startswith("https://"):
        raise DirectoryError(f"{where}: a portal address must be an https:// URL")
    if channel is Channel.PHONE and len(re.sub(r"\D", "", address)) < 6:
        raise DirectoryError(f"{where}: {address!r} is not a phone number")
    return DirectoryAgency(
        key=key,
        country=country,
        name=_text(entry, "name", where),
        channel=channel,
        address=address,
        hours=_text(entry, "hours", where, 100),
        source=_text(entry, "source", where),
    )


def load_directory(text: str) -> Directory:
    try:
        document = load_untrusted_yaml(text, max_bytes=MAX_DIRECTORY_BYTES)
    except YamlRefused as exc:
        raise DirectoryError(f"the directory is not valid YAML: {exc}") from None
    if not isinstance(document, Mapping) or set(document) != {"version", "agencies"}:
        raise DirectoryError("the directory is a mapping with exactly 'version' and 'agencies'")
    version = document["version"]
    if not isinstance(version, str) or not version.strip() or len(version) > 64:
        raise DirectoryError("'version' must be text of 1 to 64 characters")
    entries = document["agencies"]
    if not isinstance(entries, list) or not entries:
        raise DirectoryError("'agencies' must be a non-empty list")
    agencies = tuple(_agency(e, f"agencies[{i}]") for i, e in enumerate(entries))
    keys = [a.key for a in agencies]
    duplicate = next((k for k in keys if keys.count(k) > 1), None)
    if duplicate:
        raise DirectoryError(f"agency key {duplicate!r} appears twice")
    return Directory(version=version.strip(), agencies=agencies)


@cache
def _load(path: str | None) -> Directory:
    if path is None:
        text = resources.files(__package__).joinpath("agency_directory.yaml").read_text("utf-8")
    else:
        file = Path(path)
        if file.stat().st_size > MAX_DIRECTORY_BYTES:
            raise DirectoryError(f"{path} is larger than {MAX_DIRECTORY_BYTES} bytes")
        text = file.read_text("utf-8")
    return load_directory(text)


def directory(path: Path | None = None) -> Directory:
    """The configured directory (cached per path): the team's file, or the synthetic demo one."""
    return _load(str(path) if path is not None else None)
