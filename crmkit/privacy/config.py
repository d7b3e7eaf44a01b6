"""The ``[privacy]`` table of ``crmkit.toml``: roles, actors, retention, the secret.

Without a ``[privacy]`` table every actor is an ``admin`` (may do anything and
see everything), so a new project needs no setup; a project that names roles
for its actors gets enforcement from its first command.

.. code-block:: toml

    [privacy]
    default_roles = ["agent"]          # roles of actors not listed below

    [privacy.roles.agent]              # the built-in roles can be redefined too
    actions = ["read", "write", "contact", "consent", "rectify"]
    see = ["personal"]                 # privacy classes shown unmasked

    [privacy.actors]
    dana = ["admin"]

    [privacy.retention]                # days, or "90d", "26w", "2y"
    interaction = "2y"                 # an entity type: records older than this
    marketing = 365                    # a purpose: grants older than this lapse
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

import attrs

from crmkit.errors import ConfigError
from crmkit.privacy.model import ACTIONS, PRIVACY_LEVELS, Actor, Role

SECRET_ENV = "CRMKIT_SECRET"
ACTOR_ENV = "CRMKIT_ACTOR"
DEFAULT_ACTOR = "system"
WHERE = "crmkit.toml [privacy]"

BUILTIN_ROLES: dict[str, Role] = {
    "admin": Role("admin", frozenset({"*"}), frozenset({"personal", "sensitive"})),
    "agent": Role(
        "agent",
        frozenset({"read", "write", "contact", "consent", "rectify"}),
        frozenset({"personal"}),
    ),
    "analyst": Role("analyst", frozenset({"read", "analytics"}), frozenset()),
    "auditor": Role("auditor", frozenset({"read", "audit"}), frozenset()),
}
_DURATION = re.compile(r"^\s*(\d+)\s*([dwy]?)\s*$")
_UNIT_DAYS = {"": 1, "d": 1, "w": 7, "y": 365}


def parse_days(value: Any, where: str) -> int:
    """A retention period in days from ``365``, ``"90d"``, ``"26w"`` or ``"2y"``."""
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    match = _DURATION.match(value) if isinstance(value, str) else None
    if match is None or int(match.group(1)) <= 0:
        raise ConfigError(
            f"{where}: {value!r} is not a retention period; use a number of days or "
            'a string such as "90d", "26w" or "2y"'
        )
    return int(match.group(1)) * _UNIT_DAYS[match.group(2)]


@attrs.frozen
class PrivacySettings:
    """The parsed ``[privacy]`` table."""

    roles: Mapping[str, Role] = attrs.field(factory=lambda: dict(BUILTIN_ROLES))
    actors: Mapping[str, tuple[str, ...]] = attrs.field(factory=dict)
    default_roles: tuple[str, ...] = ("admin",)
    retention: Mapping[str, int] = attrs.field(factory=dict)
    secret: str | None = None
    confirm_within_hours: int = 72

    def actor(self, name: str | None = None) -> Actor:
        """The actor called ``name`` (default: ``$CRMKIT_ACTOR``, else ``system``) with roles."""
        chosen = name or os.environ.get(ACTOR_ENV) or DEFAULT_ACTOR
        names = self.actors.get(chosen, self.default_roles)
        return Actor(chosen, tuple(self.roles[r] for r in names))


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where} must be a list of strings")
    return tuple(value)


def _role(name: str, table: Any) -> Role:
    where = f"{WHERE}.roles.{name}"
    if not isinstance(table, Mapping):
        raise ConfigError(f"{where} must be a table with 'actions' and 'see'")
    unknown = set(table) - {"actions", "see"}
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}; use actions, see")
    actions = _strings(table.get("actions", []), f"{where}.actions")
    for action in actions:
        if action != "*" and action not in ACTIONS:
            raise ConfigError(
                f'{where}.actions: unknown action {action!r}; use {", ".join(ACTIONS)} or "*"'
            )
    see = _strings(table.get("see", []), f"{where}.see")
    for level in see:
        if level not in PRIVACY_LEVELS:
            raise ConfigError(
                f"{where}.see: unknown privacy class {level!r}; use personal, sensitive"
            )
    return Role(name, frozenset(actions), frozenset(see))


def parse_privacy(table: Mapping[str, Any] | None) -> PrivacySettings:
    """Check and parse the ``[privacy]`` table; errors name the key and the fix."""
    table = dict(table or {})
    known = {"roles", "actors", "default_roles", "retention", "secret", "confirm_within_hours"}
    unknown = set(table) - known
    if unknown:
        raise ConfigError(
            f"{WHERE}: unknown key(s) {', '.join(sorted(unknown))}; use {', '.join(sorted(known))}"
        )
    roles = dict(BUILTIN_ROLES)
    raw_roles = table.get("roles", {})
    if not isinstance(raw_roles, Mapping):
        raise ConfigError(f"{WHERE}.roles must be a table of roles")
    for name, spec in raw_roles.items():
        roles[name] = _role(name, spec)
    actors: dict[str, tuple[str, ...]] = {}
    raw_actors = table.get("actors", {})
    if not isinstance(raw_actors, Mapping):
        raise ConfigError(f'{WHERE}.actors must be a table: actor = ["role", ...]')
    for actor, names in raw_actors.items():
        actors[actor] = _strings(names, f"{WHERE}.actors.{actor}")
    default_roles = _strings(table.get("default_roles", ["admin"]), f"{WHERE}.default_roles")
    for where, names in [("default_roles", default_roles), *actors.items()]:
        for role in names:
            if role not in roles:
                raise ConfigError(
                    f"{WHERE} {where}: unknown role {role!r}; define it under "
                    f"[privacy.roles.{role}] or use one of {', '.join(sorted(roles))}"
                )
    raw_retention = table.get("retention", {})
    if not isinstance(raw_retention, Mapping):
        raise ConfigError(f"{WHERE}.retention must be a table: entity type or purpose = period")
    retention = {
        key: parse_days(value, f"{WHERE}.retention.{key}") for key, value in raw_retention.items()
    }
    secret = os.environ.get(SECRET_ENV) or table.get("secret")
    if secret is not None and (not isinstance(secret, str) or len(secret) < 16):
        raise ConfigError(f"{WHERE}.secret (or {SECRET_ENV}) must be a string of 16+ characters")
    hours = table.get("confirm_within_hours", 72)
    if not isinstance(hours, int) or isinstance(hours, bool) or hours <= 0:
        raise ConfigError(f"{WHERE}.confirm_within_hours must be a positive whole number of hours")
    return PrivacySettings(
        roles=roles,
        actors=actors,
        default_roles=default_roles,
        retention=retention,
        secret=secret,
        confirm_within_hours=hours,
    )
