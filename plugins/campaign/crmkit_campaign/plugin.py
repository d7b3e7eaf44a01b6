"""The hook implementations through which crmkit finds the campaigns plugin.

This module is the plugin's entry point (``crmkit.plugins``: ``campaign``).
Importing it defines functions only; crmkit calls them per CRM, and each hook
imports what it needs when it is called.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import crmkit

if TYPE_CHECKING:
    import click

    from crmkit import CRM, Event, EventType, MigrationBranch, OutboundChannel, ViewSection
    from crmkit.demo.load import DemoData
    from crmkit.entities.core import Contact

DEAL_WON = "sales.deal.won"
"""The sales plugin's event that conversions are attributed from, when sales is installed."""


@crmkit.hookimpl
def crmkit_settings_schema() -> Mapping[str, Any]:
    from crmkit_campaign.settings import SETTINGS_SCHEMA

    return SETTINGS_SCHEMA


@crmkit.hookimpl
def crmkit_register_entity_types() -> Sequence[type]:
    from crmkit_campaign.entities import ENTITY_CLASSES

    return list(ENTITY_CLASSES)


@crmkit.hookimpl
def crmkit_register_event_types() -> Sequence[EventType]:
    from crmkit_campaign.events import EVENT_TYPES

    return list(EVENT_TYPES)


@crmkit.hookimpl
def crmkit_migrations() -> Sequence[MigrationBranch]:
    return [crmkit.MigrationBranch("campaign", "crmkit_campaign:migrations")]


@crmkit.hookimpl
def crmkit_register_commands() -> Sequence[click.Command]:
    from crmkit_campaign.cli import campaign_group

    return [campaign_group]


@crmkit.hookimpl
def crmkit_configure(crm: CRM) -> None:
    # What the JSON Schema cannot check (throttles and adapters on channels crmkit
    # knows, no adapter named like the SMTP one) stops the CRM from opening,
    # instead of failing on the first message of a campaign.
    from crmkit_campaign.settings import campaign_settings, check_channels

    check_channels(campaign_settings(crm), crm.privacy.channels)


@crmkit.hookimpl
def crmkit_outbound_channels(crm: CRM) -> Sequence[OutboundChannel]:
    from crmkit_campaign.channels import adapters_from_settings

    return list(adapters_from_settings(crm))


@crmkit.hookimpl
def crmkit_register_subscribers(crm: CRM) -> Sequence[tuple[str, Callable[[Event], Any]]]:
    if DEAL_WON not in crm.events.types:
        return []

    def attribute_deal(event: Event) -> None:
        from crmkit_campaign.attribution import attribute_won_deal

        attribute_won_deal(crm, event)

    return [(DEAL_WON, attribute_deal)]


@crmkit.hookimpl
def crmkit_customer_view(crm: CRM, contact: Contact, actor: str | None) -> ViewSection | None:
    from crmkit_campaign.view import customer_section

    return customer_section(crm, contact, actor)


@crmkit.hookimpl
def crmkit_demo_data(crm: CRM, demo: DemoData) -> str | None:
    from crmkit_campaign.demo import load_demo

    return load_demo(crm, demo)
