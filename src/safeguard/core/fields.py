"""The field types every API input is built from: strict types, bounded values, and identifiers
free of characters that hide or reorder what a reader sees.

JSON bodies subclass `ApiIn`: strict (no "12" or true for a number, no "yes" for a boolean, no
number for a string), unknown fields refused, and no NUL in any string. Query strings are
always text, so query models subclass `QueryIn`, which converts but bounds. Members of a closed
set (the enums) are given by their value: `Choice[Role]`. Plain pydantic, no Django or Ninja
import: the intake contract is also used by commands that run without settings.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Final, TypeVar

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, Strict
from pydantic import field_validator as _field_validator

from safeguard.core.invisible import describe, first_invisible

__all__ = [
    "IDENTIFIER",
    "MAX_DB_ID",
    "STORABLE",
    "ApiIn",
    "Choice",
    "DbId",
    "QueryIn",
    "Timestamp",
    "check_identifier",
    "check_storable",
]

T = TypeVar("T")

# Primary keys are 64-bit; a larger number cannot name a row and overflows the database driver.
MAX_DB_ID: Final = 2**63 - 1
EARLIEST: Final = datetime(1970, 1, 1, tzinfo=UTC)
# Clocks disagree; a report stamped a little in the future is a skewed clock, not a lie.
FUTURE_SLACK: Final = timedelta(days=1)
_MAX_TIMESTAMP_LENGTH: Final = 64


def check_identifier(value: str) -> str:
    """Refuse control, format (bidi controls, zero-width), surrogate and separator characters."""
    found = first_invisible(value)
    if found is not None:
        position, char = found
        raise ValueError(
            f"contains {describe(char)} at position {position}; identifiers may not hold "
            "control, format or bidirectional-control characters"
        )
    return value


def check_storable(value: str) -> str:
    """Keep free text exactly, except NUL, which the database cannot store."""
    position = value.find("\x00")
    if position >= 0:
        raise ValueError(
            f"contains U+0000 NUL at position {position}; text is kept exactly as sent, but "
            "NUL cannot be stored (PostgreSQL text refuses it)"
        )
    return value


# Metadata to put after a length bound, so a long value is refused before it is scanned:
# Annotated[str, Field(max_length=200), IDENTIFIER].
IDENTIFIER: Final = AfterValidator(check_identifier)
STORABLE: Final = AfterValidator(check_storable)

# A member of a closed set, given by its value ("grooming"); strict mode would want the object.
Choice = Annotated[T, Strict(False)]

DbId = Annotated[int, Field(ge=1, le=MAX_DB_ID)]


def _timestamp(value: object) -> object:
    if isinstance(value, datetime):  # already parsed (a model built in code, not from JSON)
        parsed = value
    elif isinstance(value, str) and len(value) <= _MAX_TIMESTAMP_LENGTH:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(
                "must be an ISO-8601 date and time such as 2026-11-24T09:30:00Z"
            ) from None
    else:
        raise ValueError("must be an ISO-8601 date and time string such as 2026-11-24T09:30:00Z")
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ValueError("must include a time zone offset, e.g. 2026-11-24T09:30:00Z")
    latest = datetime.now(UTC) + FUTURE_SLACK
    # Years are compared first: converting year 1 or 9999 with an offset to UTC can overflow.
    if not EARLIEST.year <= parsed.year < 9999 or not EARLIEST <= parsed <= latest:
        raise ValueError(
            f"must be between {EARLIEST:%Y-%m-%d} and {latest:%Y-%m-%d} (a day from now)"
        )
    return parsed


# An aware date and time, sent as an ISO-8601 string, between 1970 and a day from now.
Timestamp = Annotated[datetime, BeforeValidator(_timestamp)]


def _refuse_nul(value: Any) -> None:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            check_storable(item)
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple | set | frozenset):
            stack.extend(item)
        # Nested models are ApiIn or QueryIn too, and checked their own fields.
        elif isinstance(item, BaseModel):
            continue


class ApiIn(BaseModel):
    """The base of every JSON body: strict types, unknown fields refused, no NUL anywhere."""

    model_config = ConfigDict(strict=True, extra="forbid")

    @_field_validator("*")
    @classmethod
    def _storable(cls, value: Any) -> Any:
        _refuse_nul(value)
        return value


class QueryIn(BaseModel):
    """The base of query-string filters: text converted to the field's type, bounded, no NUL."""

    @_field_validator("*")
    @classmethod
    def _storable(cls, value: Any) -> Any:
        _refuse_nul(value)
        return value
