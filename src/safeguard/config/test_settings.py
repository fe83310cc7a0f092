"""Settings for the test suite: test mode (generated secrets) before the real settings load."""

import os

os.environ["SAFEGUARD_ENV"] = "test"
os.environ.setdefault("SAFEGUARD_VAR_DIR", os.path.join("var", "test"))

from safeguard.config.settings import *  # noqa: F403

# Fast hashing keeps the suite quick; production and the demo use Argon2.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# A file, not SQLite's shared in-memory database: shared-cache memory databases lock whole
# tables and fail concurrent writers at once, unlike the WAL file Safeguard runs on.
if DATABASES["default"]["ENGINE"] == "safeguard.config.sqlite":  # noqa: F405
    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": str(CONFIG.var_dir / f"test-{os.getpid()}.sqlite3")  # noqa: F405
    }

# Every sequencer batch signs its checkpoint at once, so a test sees one per batch; the spacing
# between checkpoints is tested on its own (tests/audit/test_audit_log.py).
SAFEGUARD_AUDIT_CHECKPOINT_SECONDS = 0.0
