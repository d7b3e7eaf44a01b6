"""The CRM: one instance is one composition root.

``crmkit.open(...)`` loads the chosen plugins into a fresh plugin manager,
collects entity types, events, subscribers and migrations from them, picks a
storage backend for the URL and prepares it. Nothing here happens at import
time and nothing is shared between CRM instances.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import jsonschema

from crmkit import builtin
from crmkit.contacts import Contacts, contact_row
from crmkit.custom_fields import CustomFieldValidator, merge_schemas
from crmkit.entities.core import Contact, Interaction, Organization
from crmkit.entities.types import EntityType, build_entity_type
from crmkit.errors import ConfigError, NotFound, PluginError, ValidationError
from crmkit.events.bus import EventBus
from crmkit.events.facade import Events
from crmkit.events.model import EventType
from crmkit.interactions import Interactions, latest_interactions
from crmkit.migrations.runner import MigrationBranch
from crmkit.organizations import Organizations
from crmkit.outbound import OutboundChannel
from crmkit.plugins.manager import CORE_PLUGIN, LoadResult, PluginInfo, collect, load_plugins
from crmkit.privacy.config import parse_privacy
from crmkit.privacy.facade import Privacy
from crmkit.privacy.model import Channel, Purpose
from crmkit.privacy.policy import Policy, core_rules
from crmkit.privacy.processing import ReadCheck
from crmkit.project import CONFIG_FILE, Settings, load_settings
from crmkit.segments import SegmentCondition
from crmkit.storage.base import StorageBackend, StorageReader
from crmkit.storage.query import Cond, Query, check_filter, fields_in, order_fields
from crmkit.uow import UnitOfWork
from crmkit.validation import RecordRules
from crmkit.view import CustomerView, Membership, ViewSection


class CRM:
    """A CRM opened on one database with one set of plugins."""

    def __init__(
        self,
        settings: Settings,
        *,
        plugins: Sequence[str] | None = None,
        strict: bool = False,
        migrate: bool = True,
        extra_plugins: Iterable[tuple[str, object]] = (),
        actor: str | None = None,
    ) -> None:
        self.settings = settings
        self.actor = actor
        """Who acts when a call names no actor (``None``: ``$CRMKIT_ACTOR``, else ``system``)."""
        self._loaded: LoadResult = load_plugins(
            requested=plugins, strict=strict, extra=extra_plugins, core=builtin
        )
        self.pm = self._loaded.pm
        self._validate_plugin_settings()
        self._entity_types = self._collect_entity_types()
        self._custom = self._build_custom_validators()
        self._rules: dict[str, RecordRules] = {}
        self.privacy = self._build_privacy()
        backend = self.pm.hook.crmkit_storage_backend(url=settings.database_url)
        if backend is None:
            raise ConfigError(
                f"no storage backend handles {settings.database_url.split('://')[0]}:// URLs; "
                "use sqlite://, postgresql:// or memory://, or install a plugin for it"
            )
        self.backend: StorageBackend = backend
        try:
            self.migrations: list[MigrationBranch] = [
                b for _, branches in collect(self.pm, "crmkit_migrations") for b in branches
            ]
            self.backend.prepare(
                list(self._entity_types.values()), self.migrations if migrate else []
            )
            bus = EventBus()
            for plugin, types in collect(self.pm, "crmkit_register_event_types"):
                for etype in types:
                    if not isinstance(etype, EventType):
                        raise PluginError(f"plugin {plugin}: event types must be crmkit.EventType")
                    bus.register_type(etype)
            # Before the subscribers, so a plugin can see which event types exist.
            self.events = Events(bus, self.backend)
            for plugin, pairs in collect(self.pm, "crmkit_register_subscribers", crm=self):
                for pattern, handler in pairs:
                    bus.subscribe(pattern, handler, owner=plugin)
            self.pm.hook.crmkit_configure.call_historic(kwargs={"crm": self})
        except BaseException:
            # A CRM that fails to open (a migration, a plugin's settings check in
            # crmkit_configure) must not leave its database connections behind.
            self.backend.close()
            raise

    # -- assembly ---------------------------------------------------------
    def _validate_plugin_settings(self) -> None:
        schemas = dict(collect(self.pm, "crmkit_settings_schema"))
        for name, values in self.settings.plugin_settings.items():
            schema = schemas.get(name)
            if schema is None:
                continue
            error = jsonschema.exceptions.best_match(
                jsonschema.Draft202012Validator(schema).iter_errors(values)
            )
            if error is not None:
                where = ".".join(str(p) for p in error.absolute_path) or "(table)"
                raise ConfigError(
                    f"{CONFIG_FILE} [plugins.{name}] {where}: {error.message}; "
                    f"see the {name} plugin's settings"
                )

    def _collect_entity_types(self) -> dict[str, EntityType]:
        types: dict[str, EntityType] = {}
        for plugin, classes in collect(self.pm, "crmkit_register_entity_types"):
            owner = "crmkit" if plugin == CORE_PLUGIN else plugin
            for cls in classes:
                try:
                    etype = build_entity_type(cls, owner)
                except TypeError as exc:
                    raise PluginError(f"plugin {owner}: {exc}") from None
                if etype.name in types:
                    raise PluginError(
                        f"entity type {etype.name!r} is registered by both "
                        f"{types[etype.name].plugin} and {owner}"
                    )
                types[etype.name] = etype
        return types

    def _build_custom_validators(self) -> dict[str, CustomFieldValidator]:
        parts: dict[str, list[tuple[str, Mapping[str, Any]]]] = {}
        for etype in self._entity_types.values():
            if etype.custom_schema:
                parts.setdefault(etype.name, []).append((etype.plugin, etype.custom_schema))
        for plugin, mapping in collect(self.pm, "crmkit_custom_fields"):
            for name, schema in mapping.items():
                parts.setdefault(name, []).append((f"plugin {plugin}", schema))
        for name, schema in self.settings.custom_fields.items():
            parts.setdefault(name, []).append((CONFIG_FILE, schema))
        validators = {}
        for name, etype in self._entity_types.items():
            schema = merge_schemas(name, parts.pop(name, []), set(etype.field_names))
            if schema is not None and not etype.has_custom_fields:
                raise ConfigError(f"entity type {name!r} has no 'custom' field for custom fields")
            self._entity_types[name] = etype.with_custom_schema(schema)
            validators[name] = CustomFieldValidator(name, schema)
        if parts:
            unknown = ", ".join(sorted(parts))
            raise ConfigError(f"custom fields given for unknown entity type(s): {unknown}")
        return validators

    def _build_privacy(self) -> Privacy:
        purposes: dict[str, Purpose] = {}
        channels: dict[str, Channel] = {}
        for hook, found, kind in (
            ("crmkit_consent_purposes", purposes, Purpose),
            ("crmkit_consent_channels", channels, Channel),
        ):
            vocabulary: dict[str, Any] = found
            for plugin, items in collect(self.pm, hook):
                for item in items:
                    if not isinstance(item, kind):
                        raise PluginError(f"plugin {plugin}: {hook} must return {kind.__name__}s")
                    vocabulary.setdefault(item.name, item)
        rules = core_rules(purposes)
        for plugin, items in collect(self.pm, "crmkit_privacy_rules"):
            rules.extend((plugin, rule) for rule in items)
        settings = parse_privacy(self.settings.privacy)
        for key in settings.retention:
            if key not in self._entity_types and key not in purposes:
                raise ConfigError(
                    f"{CONFIG_FILE} [privacy.retention] {key}: not an entity type or purpose; "
                    f"use one of {', '.join(sorted([*self._entity_types, *purposes]))}"
                )
        return Privacy(self, settings, purposes, channels, Policy(rules))

    # -- entity types -------------------------------------------------------
    @property
    def entity_types(self) -> dict[str, EntityType]:
        """Every entity type in this CRM by name (core and plugins)."""
        return dict(self._entity_types)

    def entity_type(self, name: str) -> EntityType:
        try:
            return self._entity_types[name]
        except KeyError:
            raise NotFound("entity type", name) from None

    def custom_fields(self, entity: str) -> CustomFieldValidator:
        """The custom-field validator of an entity type."""
        return self._custom[entity]

    def rules(self, entity: str) -> RecordRules:
        """Validation rules for writing records of ``entity``."""
        rules = self._rules.get(entity)
        if rules is None:
            rules = RecordRules(
                self.entity_type(entity), self._custom[entity], self.settings.default_region
            )
            self._rules[entity] = rules
        return rules

    def check_query(self, entity: str, query: Query) -> None:
        """Refuse filters or orderings on fields the entity type does not have.

        Filters are checked through :func:`crmkit.storage.query.check_filter`: keys
        of dict fields, ``has`` on lists and the entity types and links of
        ``Related`` filters too.
        """
        etype = self.entity_type(entity)
        names = set(etype.field_names)
        used = fields_in(query.where) | {n for n, _ in order_fields(query.order_by)}
        for name in sorted(used - names):
            raise ValidationError(entity, name, "no such field to filter or sort by")
        check_filter(self._entity_types, entity, query.where)

    # -- what plugins offer to others -----------------------------------------
    def segment_conditions(self) -> dict[str, SegmentCondition]:
        """Every named condition on contacts the loaded plugins offer, by name.

        Collected from the ``crmkit_segment_conditions`` hook on each call; two
        plugins offering one name is a :class:`PluginError` naming both.
        """
        offered = self._offered(
            "crmkit_segment_conditions",
            SegmentCondition,
            "segment condition",
            "crmkit.SegmentCondition objects",
        )
        return {name: item for name, (item, _) in offered.items()}

    def outbound_channels(self) -> dict[str, OutboundChannel]:
        """Every adapter the loaded plugins deliver messages with, by adapter name.

        Collected from the ``crmkit_outbound_channels`` hook on each call; an
        adapter on an unregistered consent channel, or two with one name, is a
        :class:`PluginError` naming the plugins.
        """
        offered = self._offered(
            "crmkit_outbound_channels",
            OutboundChannel,
            "outbound adapter",
            "adapters with name, channel and send(message) (crmkit.OutboundChannel)",
            crm=self,
        )
        known = self.privacy.channels
        for name, (item, plugin) in offered.items():
            if item.channel not in known:
                raise PluginError(
                    f"plugin {plugin}: outbound adapter {name!r} delivers on unknown "
                    f"channel {item.channel!r}; use one of {', '.join(sorted(known))}"
                )
        return {name: item for name, (item, _) in offered.items()}

    def _offered(
        self, hook: str, kind: type[Any], what: str, expected: str, **kwargs: Any
    ) -> dict[str, tuple[Any, str]]:
        """``name -> (thing, plugin)`` for the ``kind`` things plugins return from ``hook``.

        Each thing has a ``name``; two plugins offering one name is an error naming both.
        """
        found: dict[str, tuple[Any, str]] = {}
        for plugin, items in collect(self.pm, hook, **kwargs):
            for item in items:
                if not isinstance(item, kind):
                    raise PluginError(f"plugin {plugin}: {hook} must return {expected}")
                if item.name in found:
                    raise PluginError(
                        f"{what} {item.name!r} is offered by both "
                        f"{found[item.name][1]} and {plugin}; rename one"
                    )
                found[item.name] = (item, plugin)
        return found

    # -- plugins ----------------------------------------------------------
    @property
    def plugins(self) -> list[PluginInfo]:
        """Every installed plugin, with its status in this CRM."""
        return list(self._loaded.plugins)

    # -- work -------------------------------------------------------------
    def unit_of_work(self, actor: str | None = None) -> UnitOfWork:
        """Several writes in one transaction: ``with crm.unit_of_work() as uow: ...``.

        ``actor`` is who does the work (default: the CRM's actor); the privacy
        policy decides with their roles.
        """
        return UnitOfWork(self, actor or self.actor)

    @property
    def contacts(self) -> Contacts:
        """Contacts, each call in its own transaction."""
        return Contacts(self)

    @property
    def organizations(self) -> Organizations:
        return Organizations(self)

    @property
    def interactions(self) -> Interactions:
        return Interactions(self)

    def memberships(self, reader: StorageReader, contact_id: str) -> list[Membership]:
        """The organizations a contact belongs to, with roles, in the order linked.

        ``reader`` is a unit of work's ``uow.tx`` or ``crm.backend.read()``'s
        reader; the organizations come in one query.
        """
        links = reader.query(
            self.entity_type("affiliation"),
            Query(Cond("contact_id", "eq", contact_id), ("created_at",), None),
        )
        if not links:
            return []
        wanted = list(dict.fromkeys(link["organization_id"] for link in links))
        rows = {
            row["id"]: row
            for row in reader.query(
                self.entity_type("organization"), Query(Cond("id", "in", wanted), ("id",), None)
            )
        }
        return [
            Membership(Organization(**rows[link["organization_id"]]), link["role"])
            for link in links
            if link["organization_id"] in rows
        ]

    def view(
        self, contact: str, *, actor: str | None = None, interactions: int = 50
    ) -> CustomerView:
        """The single customer view of a contact (by id or email), as ``actor`` may see it.

        Profile, organizations and the ``interactions`` latest interactions are
        read together on the backend's read path (one snapshot on SQLite), then
        every plugin adds its section. What the actor (default: the CRM's) may
        not see is masked and named in ``masked``; an actor who may not read is
        refused; showing sensitive values is audited.
        """
        contact_type = self.entity_type("contact")
        interaction_type = self.entity_type("interaction")
        link_type = self.entity_type("affiliation")
        check = ReadCheck(self, actor)
        with self.backend.read() as reader:
            row = contact_row(reader, contact_type, contact)
            if row is None:
                raise NotFound("contact", contact)
            allowed = check.decide(reader, contact_type, row["id"]).allowed
            orgs = self.memberships(reader, row["id"]) if allowed else []
            timeline = (
                latest_interactions(reader, interaction_type, row["id"], interactions)
                if allowed
                else []
            )
        check.enforce()
        person = Contact(**check.show(contact_type, row))
        if orgs and check.needs_rows(link_type):
            orgs = [
                Membership(
                    m.organization,
                    check.show(link_type, {"role": m.role}, "organizations.")["role"],
                )
                for m in orgs
            ]
        if timeline and check.needs_rows(interaction_type):
            timeline = [
                Interaction(**check.show(interaction_type, item_row, "interactions."))
                for item_row in map(interaction_type.to_row, timeline)
            ]
        check.audit(subject_id=person.id, contacts=1)
        sections = []
        for plugin, section in collect(
            self.pm, "crmkit_customer_view", crm=self, contact=person, actor=actor
        ):
            if not isinstance(section, ViewSection):
                raise PluginError(
                    f"plugin {plugin}: crmkit_customer_view must return a ViewSection"
                )
            sections.append(
                section if section.plugin else ViewSection(section.title, section.data, plugin)
            )
        return CustomerView(
            person, tuple(orgs), tuple(timeline), tuple(sections), tuple(check.masked)
        )

    def close(self) -> None:
        """Release the database connections."""
        self.backend.close()

    def __enter__(self) -> CRM:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def open(
    target: str | os.PathLike[str],
    *,
    plugins: Sequence[str] | None = None,
    strict: bool = False,
    migrate: bool = True,
    default_region: str | None = None,
    custom_fields: Mapping[str, Mapping[str, Any]] | None = None,
    plugin_settings: Mapping[str, Mapping[str, Any]] | None = None,
    extra_plugins: Iterable[tuple[str, object]] = (),
    actor: str | None = None,
    privacy: Mapping[str, Any] | None = None,
) -> CRM:
    """Open a CRM on a database URL or a project folder.

    ``target`` is a URL (``sqlite:///crm.db``, ``postgresql://...``,
    ``sqlite://`` or ``memory://`` for throwaway data) or a folder with a
    ``crmkit.toml``. ``plugins`` names the plugins to load (``None``: every
    installed one for a URL, the project's list for a folder; ``[]``: none).
    With ``strict`` a plugin that fails to load raises instead of being
    skipped. ``migrate`` applies pending migrations. ``actor`` is who acts
    when a call names no one (default ``$CRMKIT_ACTOR``, else ``system``);
    ``privacy`` is the ``[privacy]`` table (roles, actors, retention) for a URL.
    """
    text = os.fspath(target)
    if "://" in text or text.startswith("memory:"):
        settings = Settings(
            database_url=text,
            plugins=None,
            default_region=default_region,
            custom_fields=dict(custom_fields or {}),
            plugin_settings=dict(plugin_settings or {}),
            privacy=dict(privacy or {}),
        )
        chosen = plugins
    else:
        if not (Path(text) / CONFIG_FILE).is_file():
            raise ConfigError(
                f"{text} is neither a database URL nor a crmkit project (no {CONFIG_FILE})"
            )
        settings = load_settings(text)
        chosen = plugins if plugins is not None else settings.plugins
    return CRM(
        settings,
        plugins=chosen,
        strict=strict,
        migrate=migrate,
        extra_plugins=extra_plugins,
        actor=actor,
    )
