"""What the privacy policy is asked and what it answers.

Every enforcement point builds a :class:`PolicyRequest` (who, doing what, to
whom, for which purpose, on which channel, touching which fields) and gets a
:class:`Decision` back. Rules are plain callables, the core's and plugins'
alike; any deny wins and every decision carries its reason.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import attrs

if TYPE_CHECKING:
    from crmkit.privacy.facts import SubjectFacts

# What an actor can do to personal data. Roles grant actions by these names.
ACTIONS: tuple[str, ...] = (
    "read",  # see a person's record (fields are masked by privacy class)
    "write",  # add or change records about a person
    "export",  # take data out: exports and data-subject bundles
    "contact",  # reach a person on a channel for a purpose
    "analytics",  # use a person's data in aggregates and models
    "consent",  # record grants and withdrawals
    "restrict",  # restrict or lift processing of a person
    "rectify",  # correct a person's data (allowed even while restricted)
    "erase",  # erase a person
    "audit",  # read and verify the audit log, run retention sweeps
)
PRIVACY_LEVELS: tuple[str, ...] = ("none", "personal", "sensitive")


@attrs.frozen
class Purpose:
    """Why personal data is processed. ``needs_opt_in``: contact for it needs a grant."""

    name: str
    description: str = ""
    needs_opt_in: bool = False


@attrs.frozen
class Channel:
    """A way of reaching a person (email, sms, ...)."""

    name: str
    description: str = ""


CORE_PURPOSES: tuple[Purpose, ...] = (
    Purpose("marketing", "Promotional messages and campaigns.", needs_opt_in=True),
    Purpose("sales", "Selling to a person or the organization they work for."),
    Purpose("service", "Answering requests and supporting what was bought."),
    Purpose("analytics", "Statistics, reports and models built from people's data."),
)
ANY_CHANNEL = "any"
CORE_CHANNELS: tuple[Channel, ...] = (
    Channel("email", "Email messages."),
    Channel("sms", "Text messages."),
    Channel("phone", "Calls."),
    Channel("post", "Letters and parcels."),
    Channel("social", "Social networks and messengers."),
    Channel("in_person", "Meetings, visits and events."),
    Channel(ANY_CHANNEL, "Every channel: a grant or withdrawal for the purpose as a whole."),
)


@attrs.frozen
class Role:
    """What the actors holding this role may do and which privacy classes they may see."""

    name: str
    actions: frozenset[str]
    see: frozenset[str]

    def allows(self, action: str) -> bool:
        return "*" in self.actions or action in self.actions


@attrs.frozen
class Actor:
    """Who is acting: a name (a user, a service, a plugin job) and their roles.

    What the roles allow and show together is worked out once, because every
    read asks it for every field.
    """

    name: str
    roles: tuple[Role, ...]
    _actions: frozenset[str] = attrs.field(init=False, repr=False, eq=False)
    _visible: frozenset[str] = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        actions = frozenset().union(*(role.actions for role in self.roles))
        visible = frozenset({"none"}).union(*(role.see for role in self.roles))
        object.__setattr__(self, "_actions", actions)
        object.__setattr__(self, "_visible", visible)

    def allows(self, action: str) -> bool:
        return action in self._actions or "*" in self._actions

    def sees(self, level: str) -> bool:
        """Whether this actor may see values of privacy class ``level``."""
        return level in self._visible

    @property
    def sees_everything(self) -> bool:
        """Whether no privacy class is hidden from this actor (nothing to mask)."""
        return len(self._visible) == len(PRIVACY_LEVELS)

    @property
    def role_names(self) -> tuple[str, ...]:
        return tuple(role.name for role in self.roles)


@attrs.frozen
class PolicyRequest:
    """One question to the policy.

    ``subject_id`` is the contact the action is about (``None`` for actions on
    no one in particular); ``fields`` maps field names to their privacy class
    for reads, so the policy can mask what the actor may not see.
    """

    actor: Actor
    action: str
    subject_id: str | None = None
    purpose: str | None = None
    channel: str | None = None
    entity: str | None = None
    fields: tuple[tuple[str, str], ...] = ()


@attrs.frozen
class Decision:
    """The policy's answer: allowed or not, why, which rule said so, what to mask."""

    allowed: bool
    reason: str
    rule: str = "crmkit"
    masked: tuple[str, ...] = ()

    @classmethod
    def deny(cls, reason: str, rule: str = "crmkit") -> Decision:
        return cls(False, reason, rule)

    @classmethod
    def allow(cls, reason: str = "allowed", rule: str = "crmkit") -> Decision:
        return cls(True, reason, rule)


Rule = Callable[[PolicyRequest, "SubjectFacts"], "Decision | None"]
"""A policy rule: return a :class:`Decision` to allow, deny or mask, or ``None`` to abstain."""


class Masked(str):
    """A value the actor may not see, in place of the value.

    It is a string (``"[masked: sensitive]"``) so it prints and serialises as
    what it is; ``field`` and ``level`` say which field and privacy class it
    hides. Writing a masked value back is refused.
    """

    field: str
    level: str

    def __new__(cls, field: str, level: str) -> Masked:
        value = super().__new__(cls, f"[masked: {level}]")
        value.field = field
        value.level = level
        return value
