"""crmkit: a plugin-based CRM framework and SDK.

``crmkit.open(url_or_project)`` gives a :class:`CRM`. Plugin authors use
``crmkit.entity``, ``crmkit.field``, ``crmkit.Entity``, ``crmkit.EventType``,
``crmkit.ViewSection``, ``crmkit.SegmentCondition``, ``crmkit.OutboundChannel``,
``crmkit.OutboundMessage`` and ``crmkit.hookimpl``.

Heavy parts (SQLAlchemy, the CRM itself) are imported on first use, so that
importing crmkit, or running ``crmkit --help``, stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from crmkit.crm import CRM as CRM
    from crmkit.crm import open as open
    from crmkit.entities import Entity as Entity
    from crmkit.entities import entity as entity
    from crmkit.entities import field as field
    from crmkit.events import Event as Event
    from crmkit.events import EventType as EventType
    from crmkit.migrations.runner import MigrationBranch as MigrationBranch
    from crmkit.outbound import OutboundChannel as OutboundChannel
    from crmkit.outbound import OutboundMessage as OutboundMessage
    from crmkit.plugins.hookspecs import hookimpl as hookimpl
    from crmkit.segments import SegmentCondition as SegmentCondition
    from crmkit.view import CustomerView as CustomerView
    from crmkit.view import ViewSection as ViewSection

_LAZY = {
    "CRM": "crmkit.crm",
    "open": "crmkit.crm",
    "Entity": "crmkit.entities",
    "entity": "crmkit.entities",
    "field": "crmkit.entities",
    "Event": "crmkit.events",
    "EventType": "crmkit.events",
    "MigrationBranch": "crmkit.migrations.runner",
    "hookimpl": "crmkit.plugins.hookspecs",
    "OutboundChannel": "crmkit.outbound",
    "OutboundMessage": "crmkit.outbound",
    "SegmentCondition": "crmkit.segments",
    "CustomerView": "crmkit.view",
    "ViewSection": "crmkit.view",
}

__all__ = [*_LAZY, "__version__"]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'crmkit' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
