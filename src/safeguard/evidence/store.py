"""The configured vault, shared by every evidence module that reads or writes media bytes."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from django.conf import settings

from safeguard.evidence.vault import Vault


@cache
def _vault(root: Path, key: bytes) -> Vault:
    return Vault(root, key)


def vault() -> Vault:
    """The vault configured in settings (cached per root and key, so tests can point elsewhere)."""
    return _vault(Path(settings.SAFEGUARD_VAULT_DIR), settings.SAFEGUARD_VAULT_KEY)
