"""Domain exceptions.

Validation errors carry the offending ``field`` and a human ``reason`` (Chinese, shown to
API clients and importers) so every edge can report them the same way.
"""

from __future__ import annotations


class MinyiError(Exception):
    """Base class for all domain errors."""


class ConfigurationError(MinyiError):
    """A setting is missing or malformed."""


class ValidationError(MinyiError):
    """Input that breaks a domain rule; ``field`` names what is wrong and ``reason`` why."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class NotFoundError(MinyiError):
    """A referenced record does not exist."""


class InvalidTransitionError(MinyiError):
    """A state machine was asked for a transition it does not allow."""

    def __init__(self, machine: str, current: str, target: str) -> None:
        super().__init__(f"{machine}: illegal transition {current} -> {target}")
        self.current = current
        self.target = target
