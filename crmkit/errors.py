"""Errors crmkit raises on purpose.

Every error names the thing it is about and, where there is one, the fix, so the
CLI can print it as one line without a traceback.
"""

from __future__ import annotations

from collections.abc import Sequence


class CrmkitError(Exception):
    """Base of every error crmkit raises deliberately.

    ``exit_code`` is what the CLI exits with when the error reaches it.
    """

    exit_code = 1


class ConfigError(CrmkitError):
    """A project, its ``crmkit.toml`` or an environment variable is wrong."""

    exit_code = 5


class DatabaseError(CrmkitError):
    """The database cannot be reached or is not at the expected schema."""

    exit_code = 5


class NotFound(CrmkitError):
    """A record asked for by id, email or name does not exist."""

    exit_code = 3

    def __init__(self, entity: str, key: str) -> None:
        self.entity = entity
        self.key = key
        super().__init__(f"{entity} {key!r} not found")


class ValidationError(CrmkitError):
    """A record breaks a rule: names the entity, the field and the rule."""

    exit_code = 4

    def __init__(
        self, entity: str, field: str | None, reason: str, *, record: str | None = None
    ) -> None:
        self.entity = entity
        self.field = field
        self.reason = reason
        self.record = record
        where = entity if record is None else f"{entity} {record}"
        subject = f"{where}: field {field!r}" if field else where
        super().__init__(f"{subject}: {reason}")


class DuplicateError(ValidationError):
    """A unique field (such as a contact's email) is already taken."""


class PluginError(CrmkitError):
    """A plugin failed to load, is incompatible, or breaks the hook contract."""

    exit_code = 6


class PolicyDenied(CrmkitError):
    """The privacy policy refused an action; the message is the rule's reason."""

    exit_code = 7

    def __init__(self, action: str, reason: str, rule: str, subject_id: str | None = None) -> None:
        self.action = action
        self.reason = reason
        self.rule = rule
        self.subject_id = subject_id
        super().__init__(f"denied by privacy policy ({rule}): {reason}")


class DeliveryError(CrmkitError):
    """An outbound channel could not deliver a message.

    ``permanent`` tells the sender whether trying again can help: a refused
    address is permanent, a server that cannot be reached is not.
    """

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        self.permanent = permanent
        super().__init__(message)


class EventError(CrmkitError):
    """An event name is not registered, or a subscriber pattern is malformed."""


class ImportFailed(CrmkitError):
    """An import found invalid rows and wrote nothing (or only the valid ones)."""

    exit_code = 4

    def __init__(self, message: str, problems: Sequence[object] = ()) -> None:
        self.problems = list(problems)
        super().__init__(message)
