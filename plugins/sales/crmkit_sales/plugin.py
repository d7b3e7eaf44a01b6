"""The hook implementations through which crmkit finds the sales plugin.

This module is the plugin's entry point (``crmkit.plugins``: ``sales``).
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
    from crmkit.entities import Contact
    from crmkit.segments import SegmentCondition


@crmkit.hookimpl
def crmkit_settings_schema() -> Mapping[str, Any]:
    from crmkit_sales.settings import SETTINGS_SCHEMA

    return SETTINGS_SCHEMA


@crmkit.hookimpl
def crmkit_register_entity_types() -> Sequence[type]:
    from crmkit_sales.entities import ENTITY_CLASSES

    return list(ENTITY_CLASSES)


@crmkit.hookimpl
def crmkit_register_event_types() -> Sequence[EventType]:
    from crmkit_sales.events import EVENT_TYPES

    return list(EVENT_TYPES)


@crmkit.hookimpl
def crmkit_migrations() -> Sequence[MigrationBranch]:
    return [crmkit.MigrationBranch("sales", "crmkit_sales:migrations")]


@crmkit.hookimpl
def crmkit_register_commands() -> Sequence[click.Command]:
    from crmkit_sales.cli import sales_group

    return [sales_group]


@crmkit.hookimpl
def crmkit_configure(crm: CRM) -> None:
    # What the JSON Schema cannot check (the default pipeline exists, stage names are
    # used once, best case does not need more than commit) stops the CRM from opening
    # too, instead of failing on the first deal.
    from crmkit_sales.settings import sales_settings

    sales_settings(crm)


@crmkit.hookimpl
def crmkit_customer_view(crm: CRM, contact: Contact, actor: str | None) -> ViewSection | None:
    from crmkit_sales.view import customer_section

    return customer_section(crm, contact, actor)


@crmkit.hookimpl
def crmkit_demo_data(crm: CRM, demo: DemoData) -> str | None:
    from crmkit_sales.demo import load_demo

    return load_demo(crm, demo)


@crmkit.hookimpl
def crmkit_segment_conditions() -> Sequence[SegmentCondition]:
    from crmkit_sales.segment_conditions import segment_conditions

    return segment_conditions()
