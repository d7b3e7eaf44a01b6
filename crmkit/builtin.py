"""The core's own hook implementations, all ``trylast`` so plugins can override them.

crmkit registers this module as the plugin ``crmkit.core`` in every CRM: the
core entity and event types (with the privacy layer's records), the core
consent purposes and channels, the consent section of the customer view, the storage backends for ``sqlite://``,
``postgresql://`` and ``memory://``, CSV and JSON Lines import/export, and the
core migration branch come through the same hooks an outside plugin uses.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from crmkit.entities.core import CORE_ENTITY_CLASSES
from crmkit.events.model import CORE_EVENT_TYPES, EventType
from crmkit.io.formats import (
    CsvExporter,
    CsvImporter,
    Exporter,
    Importer,
    JsonLinesExporter,
    JsonLinesImporter,
)
from crmkit.migrations.runner import CORE_BRANCH, MigrationBranch
from crmkit.plugins.hookspecs import hookimpl
from crmkit.privacy.entities import PRIVACY_ENTITY_CLASSES
from crmkit.privacy.model import CORE_CHANNELS, CORE_PURPOSES, Channel, Purpose
from crmkit.storage.base import StorageBackend

if TYPE_CHECKING:
    from crmkit.crm import CRM
    from crmkit.entities.core import Contact
    from crmkit.view import ViewSection


@hookimpl(trylast=True)
def crmkit_register_entity_types() -> Sequence[type]:
    return [*CORE_ENTITY_CLASSES, *PRIVACY_ENTITY_CLASSES]


@hookimpl(trylast=True)
def crmkit_customer_view(crm: CRM, contact: Contact, actor: str | None) -> ViewSection | None:
    from crmkit.privacy.view import consent_section

    return consent_section(crm, contact.id)


@hookimpl(trylast=True)
def crmkit_consent_purposes() -> Sequence[Purpose]:
    return list(CORE_PURPOSES)


@hookimpl(trylast=True)
def crmkit_consent_channels() -> Sequence[Channel]:
    return list(CORE_CHANNELS)


@hookimpl(trylast=True)
def crmkit_register_event_types() -> Sequence[EventType]:
    return list(CORE_EVENT_TYPES)


@hookimpl(trylast=True)
def crmkit_migrations() -> Sequence[MigrationBranch]:
    return [CORE_BRANCH]


@hookimpl(trylast=True)
def crmkit_storage_backend(url: str) -> StorageBackend | None:
    if url.startswith("memory:"):
        from crmkit.storage.memory import MemoryBackend

        return MemoryBackend(url)
    if url.startswith(("sqlite:", "postgresql:", "postgresql+psycopg:", "postgres:")):
        from crmkit.storage.sql.backend import SqlBackend

        return SqlBackend(url)
    return None


@hookimpl(trylast=True)
def crmkit_register_importers() -> Sequence[Importer]:
    return [CsvImporter(), JsonLinesImporter()]


@hookimpl(trylast=True)
def crmkit_register_exporters() -> Sequence[Exporter]:
    return [CsvExporter(), JsonLinesExporter()]
