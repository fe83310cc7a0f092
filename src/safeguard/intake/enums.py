"""The closed vocabularies of the intake contract."""

from enum import StrEnum

# Content kinds are evidence's vocabulary; the intake contract uses them as they are.
from safeguard.evidence.enums import MEDIA_KINDS, ContentKind

__all__ = [
    "MEDIA_KINDS",
    "Category",
    "Channel",
    "ContentKind",
    "LERequestType",
    "ReporterKind",
    "SourceKind",
    "SubjectRole",
]


class Channel(StrEnum):
    USER_REPORT = "user_report"
    LAW_ENFORCEMENT = "law_enforcement"
    INTERNAL = "internal"
    AUTOMATED = "automated"
    HOTLINE = "hotline"


class Category(StrEnum):
    CSAM = "csam"
    GROOMING = "grooming"
    SEXTORTION = "sextortion"
    SELF_HARM = "self_harm"
    IMMINENT_DANGER = "imminent_danger"
    TRAFFICKING = "trafficking"
    OTHER = "other"


class SubjectRole(StrEnum):
    SUSPECT = "suspect"
    VICTIM = "victim"
    REPORTER = "reporter"


class LERequestType(StrEnum):
    """What a law-enforcement escalation asks for; triage treats emergency requests as P0."""

    EMERGENCY_DISCLOSURE = "emergency_disclosure"
    PRESERVATION = "preservation"
    LEGAL_PROCESS = "legal_process"
    OTHER = "other"


class ReporterKind(StrEnum):
    """Who filed a user report, as the platform that forwards it knows them."""

    ANONYMOUS = "anonymous"
    USER = "user"
    # A DSA Art. 22 trusted flagger, as awarded by a Digital Services Coordinator.
    TRUSTED_FLAGGER = "trusted_flagger"


class SourceKind(StrEnum):
    """Where an escalation came from, recorded at intake; triage floors priorities by it."""

    HOTLINE = "hotline"
    TRUSTED_FLAGGER = "trusted_flagger"
    LAW_ENFORCEMENT = "law_enforcement"
    LAW_ENFORCEMENT_UNVERIFIED = "law_enforcement_unverified"
    CLASSIFIER = "classifier"
    INTERNAL = "internal"
    USER = "user"
    ANONYMOUS = "anonymous"
