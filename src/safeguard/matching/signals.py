"""Every signal type Safeguard hashes and matches, by name: images (PDQ), exact bytes (MD5,
SHA-256) and video, alike. Video builds on the image signal types, so the registry that names
them all lives above both."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from safeguard.matching.signal_types import MD5, PDQ, SHA256, SignalType, UnknownSignalType
from safeguard.matching.video_signal import VIDEO

SIGNAL_TYPES: Final[Mapping[str, SignalType]] = {s.name: s for s in (PDQ, MD5, SHA256, VIDEO)}


def get_signal_type(name: str) -> SignalType:
    """The signal type called `name`, or `UnknownSignalType`."""
    try:
        return SIGNAL_TYPES[name]
    except KeyError:
        raise UnknownSignalType(name, SIGNAL_TYPES) from None
