"""crmkit-sales: sales force automation for crmkit.

Leads captured, scored (rules and a score learned from past outcomes),
qualified with BANT and converted into contacts, organizations and deals;
deals moved through configurable pipeline stages to won or lost; versioned
quotes with product lines, discounts and tax; follow-up tasks; and forecasts
(weighted pipeline, commit / best case, win rates, velocity). Every change
about a person is an event and an entry on that person's timeline.

``Sales(crm)`` gathers the services of one CRM::

    sales = Sales(crm)
    deal = sales.deals.add(title="Analytical engine", amount="12000.00", contact=ada.id)

The hook implementations are in :mod:`crmkit_sales.plugin`; nothing happens
when this package is imported.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from crmkit import CRM
    from crmkit_sales.deals import Deals
    from crmkit_sales.forecast import Forecasts
    from crmkit_sales.leads import Leads
    from crmkit_sales.quotes import Quotes
    from crmkit_sales.tasks import Tasks

__version__ = "0.1.0"
__all__ = ["Sales", "__version__"]


class Sales:
    """The sales services of one CRM, each made on first use."""

    def __init__(self, crm: CRM) -> None:
        self.crm = crm

    @cached_property
    def leads(self) -> Leads:
        """Leads: capture, qualify, score and convert."""
        from crmkit_sales.leads import Leads

        return Leads(self.crm)

    @cached_property
    def deals(self) -> Deals:
        """Deals: open, move through stages, win, lose, reopen."""
        from crmkit_sales.deals import Deals

        return Deals(self.crm)

    @cached_property
    def quotes(self) -> Quotes:
        """Quotes: draft, add lines, revise, send, accept or reject."""
        from crmkit_sales.quotes import Quotes

        return Quotes(self.crm)

    @cached_property
    def tasks(self) -> Tasks:
        """Follow-up tasks for leads and deals."""
        from crmkit_sales.tasks import Tasks

        return Tasks(self.crm)

    @cached_property
    def forecast(self) -> Forecasts:
        """Forecasts, the pipeline board and sales metrics."""
        from crmkit_sales.forecast import Forecasts

        return Forecasts(self.crm)
