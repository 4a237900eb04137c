"""Domain errors shared by services. The API and the UI turn them into 4xx answers and form errors."""

from __future__ import annotations


class DomainError(Exception):
    """Base: a request that cannot be carried out, with a message fit for the person who made it."""

    status_code = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(DomainError):
    """Fields are missing or wrong. ``fields`` maps field names to what is wrong with each."""

    status_code = 422

    def __init__(self, message: str, fields: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.fields = fields or {}


class Conflict(DomainError):
    """The action clashes with the current state (e.g. someone else acknowledged first)."""

    status_code = 409

    def __init__(self, message: str, allowed: list[str] | None = None) -> None:
        super().__init__(message)
        self.allowed = allowed or []


class NotFound(DomainError):
    status_code = 404
