"""crmkit-service: a service desk for crmkit.

Tickets with a message thread, email intake, SLAs counted in business hours
(per customer tier and priority, on calendars with time zones, several opening
ranges a day and holidays), breach detection by a cron-safe ``tick``,
escalation, assignment, canned replies, a knowledge base, CSAT/NPS and a
report. Whatever happens on a ticket about a person also shows on that
person's timeline.

``ServiceDesk(crm)`` gathers the services of one CRM::

    desk = ServiceDesk(crm)
    ticket = desk.tickets.add("Printer on fire", contact=ada.id, priority="urgent")

The hook implementations are in :mod:`crmkit_service.plugin`; nothing happens
when this package is imported.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from crmkit import CRM
    from crmkit_service.feedback import Feedback
    from crmkit_service.intake import Intake
    from crmkit_service.knowledge import Knowledge
    from crmkit_service.report import Reports
    from crmkit_service.tickets import Tickets

__version__ = "0.1.0"
__all__ = ["ServiceDesk", "__version__"]


class ServiceDesk:
    """The service desk of one CRM; each service is made on first use."""

    def __init__(self, crm: CRM) -> None:
        self.crm = crm

    @cached_property
    def tickets(self) -> Tickets:
        """Tickets: open, reply, note, assign, change status, reopen."""
        from crmkit_service.tickets import Tickets

        return Tickets(self.crm)

    @cached_property
    def intake(self) -> Intake:
        """Email intake: messages become tickets or replies on a ticket's thread."""
        from crmkit_service.intake import Intake

        return Intake(self.crm)

    @cached_property
    def knowledge(self) -> Knowledge:
        """Canned replies and knowledge-base articles."""
        from crmkit_service.knowledge import Knowledge

        return Knowledge(self.crm)

    @cached_property
    def feedback(self) -> Feedback:
        """Customer satisfaction (CSAT) and net promoter (NPS) answers."""
        from crmkit_service.feedback import Feedback

        return Feedback(self.crm)

    @cached_property
    def report(self) -> Reports:
        """The service report: volumes, response and resolution times, SLA, satisfaction."""
        from crmkit_service.report import Reports

        return Reports(self.crm)
