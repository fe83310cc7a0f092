"""The closed vocabularies of the intake contract."""

from enum import StrEnum

# Content kinds are evidence's vocabulary; the intake contract uses them as they are.
from safeguard.evidence.enums import MEDIA_KINDS, ContentKind

__all__ = ["MEDIA_KINDS", "Category", "Channel", "ContentKind", "LERequestType", "SubjectRole"]


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
