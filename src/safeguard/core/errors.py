"""The kinds of refusal every domain error is one of; the API answers each kind with its status
(one handler in config/api.py), so a new error needs no table entry and cannot get a wrong one.
Pure: no Django."""

from __future__ import annotations

from typing import ClassVar


class DomainError(Exception):
    """A request the domain refuses; the message says why, for the caller."""

    status: ClassVar[int] = 400


class NotFound(DomainError):
    """There is no such thing, or the caller may not know whether there is."""

    status = 404


class Forbidden(DomainError):
    """The caller is known and may not do this."""

    status = 403


class Conflict(DomainError):
    """The request contradicts what is already recorded."""

    status = 409


class TooLarge(DomainError):
    """More bytes than the limit."""

    status = 413


class Invalid(DomainError):
    """The request is well formed but asks for something the rules do not allow."""

    status = 422
