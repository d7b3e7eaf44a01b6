"""The hook implementations through which crmkit finds the service plugin.

This module is the plugin's entry point (``crmkit.plugins``: ``service``).
Importing it defines functions only; crmkit calls them per CRM.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import crmkit

if TYPE_CHECKING:
    import click

    from crmkit import CRM, EventType, MigrationBranch, ViewSection
    from crmkit.demo.load import DemoData
    from crmkit.entities.core import Contact


@crmkit.hookimpl
def crmkit_settings_schema() -> Mapping[str, Any]:
    from crmkit_service.settings import SETTINGS_SCHEMA

    return SETTINGS_SCHEMA


@crmkit.hookimpl
def crmkit_configure(crm: CRM) -> None:
    """Read the settings once when the CRM opens, so a calendar with an unknown time zone,
    an SLA naming an undefined calendar or overlapping hours stop the CRM from opening
    (``ConfigError`` naming the table and key) instead of failing on the first ticket."""
    from crmkit_service.settings import service_settings

    service_settings(crm)


@crmkit.hookimpl
def crmkit_register_entity_types() -> Sequence[type]:
    from crmkit_service.entities import ENTITY_CLASSES

    return list(ENTITY_CLASSES)


@crmkit.hookimpl
def crmkit_register_event_types() -> Sequence[EventType]:
    from crmkit_service.events import EVENT_TYPES

    return list(EVENT_TYPES)


@crmkit.hookimpl
def crmkit_migrations() -> Sequence[MigrationBranch]:
    return [crmkit.MigrationBranch("service", "crmkit_service:migrations")]


@crmkit.hookimpl
def crmkit_register_commands() -> Sequence[click.Command]:
    from crmkit_service.cli import service_group

    return [service_group]


@crmkit.hookimpl
def crmkit_customer_view(crm: CRM, contact: Contact, actor: str | None) -> ViewSection | None:
    from crmkit_service.view import customer_section

    return customer_section(crm, contact, actor)


@crmkit.hookimpl
def crmkit_demo_data(crm: CRM, demo: DemoData) -> str | None:
    from crmkit_service.demo import load_demo

    return load_demo(crm, demo)
