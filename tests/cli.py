"""Running the real `safeguard` command in a subprocess, in an environment the test chooses."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

_INHERITED_OUT = {"DJANGO_SETTINGS_MODULE", "DATABASE_URL"}


def clean_env(var_dir: Path | None = None, **extra: str) -> dict[str, str]:
    """The test process's environment without Safeguard's settings; development mode under
    `var_dir` when one is given (a fresh checkout's state when not)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("SAFEGUARD_") and k not in _INHERITED_OUT
    }
    if var_dir is not None:
        env.update({"SAFEGUARD_ENV": "development", "SAFEGUARD_VAR_DIR": str(var_dir)})
    env.update(extra)
    return env


def safeguard(
    env: dict[str, str] | None, *args: str, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "safeguard.config.cli", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
