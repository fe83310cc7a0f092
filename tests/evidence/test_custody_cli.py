"""`safeguard custody verify` as a recipient runs it: a subprocess in a bare directory, with the
public key and nothing else; exit 0 valid, 1 invalid (each problem named), 2 usage or I/O."""

from __future__ import annotations

import io
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from safeguard.evidence.custody import encrypt_package
from tests.cli import clean_env, safeguard
from tests.evidence.test_custody import VKEY, reference


@pytest.fixture
def package(tmp_path: Path) -> Path:
    path = tmp_path / "PKG-0007.zip"
    path.write_bytes(reference().package)
    return path


def verify(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return safeguard(clean_env(), "custody", "verify", *args, cwd=cwd)


def test_a_valid_package_verifies_with_the_key_as_text_or_as_a_file(
    package: Path, tmp_path: Path
) -> None:
    key_file = tmp_path / "audit.pub"
    key_file.write_text(VKEY + "\n", encoding="utf-8")

    for key in (VKEY, str(key_file)):
        done = verify(str(package), "--public-key", key, cwd=tmp_path)

        assert done.returncode == 0, done.stderr
        assert done.stdout.splitlines() == [
            "package VALID: PKG-0007",
            f"  manifest sha256 {reference().prepared.manifest_sha256}",
            "  anchored in the log by audit event #7 (disclosure.prepared)",
            "  3 files, each matching its SHA-256",
            "  6 custody events, each proven in the log (1 with their payload revealed)",
            "  checkpoint: the log safeguard.example/audit at tree size 8, signed by this key",
        ]


def test_a_changed_file_fails_and_is_named(package: Path, tmp_path: Path) -> None:
    with zipfile.ZipFile(io.BytesIO(package.read_bytes())) as archive:
        contents = {name: archive.read(name) for name in archive.namelist()}
    contents["files/content-18.txt"] = b"Message text (fictionaL)\n"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in contents.items():
            archive.writestr(name, data)
    package.write_bytes(out.getvalue())

    done = verify(str(package), "--public-key", VKEY, cwd=tmp_path)

    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.splitlines()[0] == "package INVALID: 1 problem"
    assert done.stderr.splitlines()[1].startswith("  files/content-18.txt: has SHA-256 ")
    assert "Traceback" not in done.stderr


def test_an_encrypted_package_needs_its_key(package: Path, tmp_path: Path) -> None:
    sealed, key = encrypt_package(package.read_bytes())
    encrypted = tmp_path / "PKG-0007.zip.enc"
    encrypted.write_bytes(sealed)
    key_file = tmp_path / "package.key"
    key_file.write_text(key, encoding="utf-8")
    _, other = encrypt_package(b"")

    opened = verify(str(encrypted), "--public-key", VKEY, "--key", str(key_file), cwd=tmp_path)
    keyless = verify(str(encrypted), "--public-key", VKEY, cwd=tmp_path)
    wrong = verify(str(encrypted), "--public-key", VKEY, "--key", other, cwd=tmp_path)

    assert opened.returncode == 0, opened.stderr
    assert opened.stdout.startswith("package VALID: PKG-0007\n")
    assert keyless.returncode == 2
    assert "is encrypted: give the key sent with it as --key KEY" in keyless.stderr
    assert wrong.returncode == 1
    assert "cannot decrypt" in wrong.stderr
    assert "wrong key" in wrong.stderr


def test_what_is_not_a_package_and_bad_usage_are_clear_errors(
    package: Path, tmp_path: Path
) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("not a package", encoding="utf-8")

    not_zip = verify(str(text), "--public-key", VKEY, cwd=tmp_path)
    missing = verify(str(tmp_path / "absent.zip"), "--public-key", VKEY, cwd=tmp_path)
    no_key = verify(str(package), cwd=tmp_path)
    bad_key = verify(str(package), "--public-key", "not-a-key", cwd=tmp_path)

    assert not_zip.returncode == 1
    assert "package: not a zip archive, or a damaged one" in not_zip.stderr
    assert missing.returncode == 2
    assert "cannot read" in missing.stderr
    assert no_key.returncode == 2
    assert "--public-key" in no_key.stderr
    assert bad_key.returncode == 1
    assert "checkpoint.txt: does not verify with this key" in bad_key.stderr
    for done in (not_zip, missing, no_key, bad_key):
        assert "Traceback" not in done.stderr


def test_the_verifier_loads_no_django() -> None:
    # The recipient has no settings and no database: the modules must not even import Django.
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, safeguard.evidence.custody, safeguard.core.pdf; "
            "sys.exit('django' in sys.modules)",
        ],
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert done.returncode == 0, done.stderr
