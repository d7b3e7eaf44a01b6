"""Every hook a crmkit plugin can implement, in one place.

Hooks are grouped by when they fire. A plugin implements a hook by defining a
function of the same name (decorated with ``@crmkit.hookimpl`` when it needs
options such as ``trylast``); it may take fewer arguments than the spec, so
adding an argument later does not break it. A function whose name starts with
``crmkit_`` but matches no hook is an error, so misspellings are caught at load.

Collect hooks return a value (often a list) from each plugin; ``firstresult``
hooks stop at the first plugin that returns something other than ``None``.
The core's own defaults are implementations marked ``trylast``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import click

    from crmkit.crm import CRM
    from crmkit.demo.load import DemoData
    from crmkit.entities.core import Contact
    from crmkit.events.model import Event, EventType
    from crmkit.io.formats import Exporter, Importer
    from crmkit.migrations.runner import MigrationBranch
    from crmkit.outbound import OutboundChannel
    from crmkit.privacy.model import Channel, Purpose, Rule
    from crmkit.segments import SegmentCondition
    from crmkit.storage.base import StorageBackend
    from crmkit.view import ViewSection

PROJECT = "crmkit"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


# -- Loading: called once per CRM while it is being opened -------------------


@hookspec
def crmkit_settings_schema() -> Mapping[str, Any] | None:
    """Return the JSON Schema of this plugin's settings, or ``None``.

    Called once per CRM before the plugin is configured. The settings are the
    ``[plugins.<name>]`` table of ``crmkit.toml``; a project whose settings
    break the schema fails to open with an error naming the plugin and field.
    """


@hookspec
def crmkit_register_entity_types() -> Sequence[type]:
    """Return the entity classes (marked with ``@crmkit.entity``) this plugin stores.

    Called once per CRM while it opens. Each class's fields carry their privacy
    class and erasure strategy; its ``custom_fields`` JSON Schema, if any,
    validates user-defined fields. Two plugins registering the same entity
    name is an error naming both.
    """


@hookspec
def crmkit_custom_fields() -> Mapping[str, Mapping[str, Any]] | None:
    """Return custom-field JSON Schemas to add to existing entity types.

    Called once per CRM while it opens. Maps an entity type name (``contact``)
    to an object schema whose ``properties`` are merged with the type's own and
    with the project's ``[custom_fields.<type>]`` table. A property defined
    twice is an error.
    """


@hookspec
def crmkit_register_event_types() -> Sequence[EventType]:
    """Return the event types (names and payload versions) this plugin raises.

    Called once per CRM while it opens. Raising an unregistered event is an
    error, so every event a plugin emits must be listed here.
    """


@hookspec
def crmkit_register_subscribers(crm: CRM) -> Sequence[tuple[str, Callable[[Event], Any]]]:
    """Return ``(pattern, handler)`` pairs to run after commit.

    Called once per CRM while it opens (never per event), with that CRM, so a
    handler that writes can close over it; ``crm.events.types`` already holds
    every registered event type, so a plugin can subscribe to another plugin's
    events only when that plugin is loaded. ``pattern`` is an event name or
    glob (``contact.*``); ``handler(event)`` runs after the unit of work that
    raised the event commits. A handler that raises is recorded as a delivery
    failure (naming the plugin) and can be retried; other handlers still run.
    """


@hookspec
def crmkit_migrations() -> Sequence[MigrationBranch]:
    """Return this plugin's Alembic migration branches.

    Called when a CRM opens with ``migrate=True`` and by ``crmkit db``. Each
    branch has its own label (by convention the plugin name) and folder; the
    base revision has ``branch_labels = ("<label>",)`` and may depend on the
    core with ``depends_on = "crmkit_0001"``.
    """


@hookspec(firstresult=True)
def crmkit_storage_backend(url: str) -> StorageBackend | None:
    """Return a storage backend for ``url``, or ``None`` if this plugin has none.

    Called once per CRM while it opens; the first non-``None`` result is used.
    The core's default (``trylast``) handles ``sqlite://``, ``postgresql://``
    and ``memory://``.
    """


@hookspec
def crmkit_register_importers() -> Sequence[Importer]:
    """Return importers: readers that turn a file format into records.

    Called when an import starts. Each importer names its format (``csv``) and
    yields numbered source rows; the core does mapping, validation and writes.
    """


@hookspec
def crmkit_register_exporters() -> Sequence[Exporter]:
    """Return exporters: writers that turn records into a file format.

    Called when an export starts. Each exporter names its format (``jsonl``).
    """


@hookspec(historic=True)
def crmkit_configure(crm: CRM) -> None:
    """Called once when a CRM has opened, with that CRM.

    Historic: a plugin registered later still receives the call. Use it to
    keep a reference to the CRM or read validated settings
    (``crm.settings.plugin("<name>")``). Return value is ignored.
    """


# -- Privacy: called once per CRM while it is being opened ---------------------


@hookspec
def crmkit_privacy_rules() -> Sequence[Rule]:
    """Return policy rules to add to the core's.

    Called once per CRM while it opens. A rule is ``rule(request, facts)``
    taking a :class:`crmkit.privacy.PolicyRequest` (actor, action, subject,
    purpose, channel, entity, fields) and the person's
    :class:`crmkit.privacy.SubjectFacts`, and returning a
    :class:`crmkit.privacy.Decision` or ``None`` to abstain. Every rule is
    asked; any deny wins and its reason is what the user sees.
    """


@hookspec
def crmkit_consent_purposes() -> Sequence[Purpose]:
    """Return the purposes of processing this plugin adds (``crmkit.privacy.Purpose``).

    Called once per CRM while it opens. Consent is recorded and checked per
    registered purpose; an unknown purpose is refused. The core registers
    ``marketing`` (needs an opt-in), ``sales``, ``service`` and ``analytics``.
    """


@hookspec
def crmkit_consent_channels() -> Sequence[Channel]:
    """Return the channels this plugin reaches people on (``crmkit.privacy.Channel``).

    Called once per CRM while it opens. The core registers ``email``, ``sms``,
    ``phone``, ``post``, ``social``, ``in_person`` and ``any`` (the purpose on
    every channel).
    """


# -- Reaching people: called when a segment is built or a message is sent ------


@hookspec
def crmkit_segment_conditions() -> Sequence[SegmentCondition]:
    """Return the named conditions on contacts this plugin offers for segments.

    Called by ``crm.segment_conditions()``. Each :class:`crmkit.SegmentCondition`
    has a name namespaced by the plugin (``"sales.open_deal"``), a one-line
    description, the JSON Schema of its parameters, and ``build(params)``
    returning a filter on the ``contact`` entity type, usually a
    :class:`crmkit.storage.Related` on the plugin's own records. Two plugins
    offering the same name is an error naming both.
    """


@hookspec
def crmkit_outbound_channels(crm: CRM) -> Sequence[OutboundChannel]:
    """Return the adapters this plugin delivers messages with (``crmkit.OutboundChannel``).

    Called by ``crm.outbound_channels()``. Each adapter has a unique ``name``
    (``"smtp"``), the registered consent ``channel`` it delivers on
    (``"email"``), and ``send(message)`` returning the provider's message id or
    raising :class:`crmkit.errors.DeliveryError` (``permanent`` when retrying
    cannot help). Read the adapter's settings from ``crm.settings.plugin(name)``.
    The core ships none.
    """


# -- Command line: called when the ``crmkit`` command is assembled -----------


@hookspec
def crmkit_register_commands() -> Sequence[click.Command]:
    """Return click commands or groups to add to the ``crmkit`` command.

    Called only when the command line needs this plugin's commands (never at
    import). By convention a plugin contributes one group named after itself.
    Commands get the CRM with ``crmkit.cli.context.get_crm()``.
    """


# -- Reading: called per request ----------------------------------------------


@hookspec
def crmkit_customer_view(crm: CRM, contact: Contact, actor: str | None) -> ViewSection | None:
    """Return this plugin's section of a contact's single customer view, or ``None``.

    Called by ``crm.view(...)`` and ``crmkit view`` once per plugin, after the
    core's profile, organizations and timeline are read. ``actor`` is who is
    looking, and ``contact`` comes as that actor may see it (values they may not
    see are ``crmkit.privacy.Masked``); mask the section's own personal data with
    ``crm.privacy.mask(...)``. The section has a title and JSON-serialisable data.
    """


# -- Demo: called by ``crmkit demo`` -----------------------------------------


@hookspec
def crmkit_demo_data(crm: CRM, demo: DemoData) -> str | None:
    """Add this plugin's sample data to the demo CRM, and return a summary of it.

    Called once per loaded plugin by ``crmkit demo``, after the core's sample
    contacts, organizations, interactions and opt-ins are committed (so the
    plugin's writes see them); a plugin that another depends on is called first. ``demo``
    holds the seed (derive every random choice from it so the demo is the same
    on every run), the ids of the sample contacts and organizations, and the
    featured contact whose single view the demo prints: give that contact some
    of the plugin's data so its section shows. Return a short summary such as
    ``"120 deals, 40 quotes"`` for the demo's report, or ``None``. An exception
    stops the demo and removes the half-made project.
    """
