"""`safeguard scan PATH...`: hash files in parallel across the machine's cores, match them, and
write one JSON line per file (`path, signal_type, hash, quality, matches, error`).

Hashing is pure and runs in worker processes; matching (skipped with `--no-match`, which needs
no database) runs in the parent through the banks.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from safeguard.matching.signal_types import HashResult, MediaError
from safeguard.matching.signals import get_signal_type

VIDEO_SUFFIXES = {".mp4", ".m4v", ".mov", ".webm", ".mkv", ".avi", ".mpg", ".mpeg", ".3gp"}
DEFAULT_MAX_BYTES = 200 * 1024 * 1024


@dataclass
class FileResult:
    path: str
    hashes: list[HashResult] = field(default_factory=list)
    error: str = ""

    @property
    def primary(self) -> HashResult | None:
        return self.hashes[0] if self.hashes else None


def _is_video(path: Path, head: bytes) -> bool:
    return (
        path.suffix.lower() in VIDEO_SUFFIXES
        or head[4:8] == b"ftyp"
        or head[:4] == b"\x1a\x45\xdf\xa3"
        or (head[:4] == b"RIFF" and head[8:12] == b"AVI ")
    )


def hash_path(path_str: str, max_bytes: int = DEFAULT_MAX_BYTES) -> FileResult:
    """Hash one file: perceptual hash first (PDQ, or video), then MD5 and SHA-256."""
    path = Path(path_str)
    result = FileResult(path_str)
    try:
        size = path.stat().st_size
        if size > max_bytes:
            result.error = f"file is {size} bytes, over the limit of {max_bytes}"
            return result
        data = path.read_bytes()
        exact = [
            get_signal_type(s).hash_bytes(data, max_bytes=max_bytes) for s in ("md5", "sha256")
        ]
        if _is_video(path, data[:16]):
            result.hashes = [get_signal_type("video").hash_bytes(data, max_bytes=max_bytes), *exact]
        else:
            result.hashes = [get_signal_type("pdq").hash_bytes(data, max_bytes=max_bytes), *exact]
    except MediaError as exc:
        result.error = str(exc)
    except OSError as exc:
        result.error = f"cannot read: {exc.strerror or exc}"
    return result


def walk(paths: Sequence[str]) -> Iterator[str]:
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs.sort()
                for name in sorted(files):
                    yield str(Path(root) / name)
        else:
            yield str(path)


Matcher = Callable[[list[FileResult]], list[list[dict[str, Any]]]]


def _progress(total: int, stream: TextIO) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, unit="file", file=stream, disable=None, leave=False)


def scan(
    paths: Sequence[str],
    *,
    out: TextIO,
    err: TextIO,
    matcher: Matcher | None,
    workers: int | None = None,
    batch: int = 256,
) -> dict[str, int]:
    files = list(walk(paths))
    summary = {"files": len(files), "hashed": 0, "errors": 0, "matched": 0}
    workers = workers or os.cpu_count() or 1
    with ProcessPoolExecutor(max_workers=workers) as pool, _progress(len(files), err) as bar:
        pending: list[FileResult] = []

        def flush() -> None:
            matches = matcher(pending) if matcher else [[] for _ in pending]
            for item, found in zip(pending, matches, strict=True):
                primary = item.primary
                out.write(
                    json.dumps(
                        {
                            "path": item.path,
                            "signal_type": primary.signal_type if primary else None,
                            "hash": primary.hash if primary else None,
                            "quality": primary.quality if primary else None,
                            "matches": found,
                            "error": item.error or None,
                        }
                    )
                    + "\n"
                )
                summary["errors" if item.error else "hashed"] += 1
                summary["matched"] += 1 if found else 0
            pending.clear()

        for item in pool.map(hash_path, files, chunksize=8):
            pending.append(item)
            bar.update(1)
            if len(pending) >= batch:
                flush()
        flush()
    return summary


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="safeguard scan", description=__doc__)
    p.add_argument("paths", nargs="+", help="files and folders (folders are walked)")
    p.add_argument("--bank", action="append", default=None, help="match only these banks")
    p.add_argument("--no-match", action="store_true", help="only hash; needs no database")
    p.add_argument("--workers", type=int, default=None, help="processes (default: all cores)")
    return p


def run(argv: Sequence[str], matcher_factory: Callable[[list[str] | None], Matcher] | None) -> int:
    args = parser().parse_args(list(argv))
    matcher = None if args.no_match or matcher_factory is None else matcher_factory(args.bank)
    summary = scan(
        args.paths, out=sys.stdout, err=sys.stderr, matcher=matcher, workers=args.workers
    )
    sys.stderr.write(
        f"scanned {summary['files']} file(s): {summary['hashed']} hashed, "
        f"{summary['errors']} error(s), {summary['matched']} matched\n"
    )
    return 0
