"""The crmkit plugin contract: hooks, migrations, privacy, events, commands, other plugins;
and the ``crmkit service`` group finding every command it lists."""

from typing import Any

from crmkit_service.entities import Feedback, Message, Ticket

from crmkit.crm import CRM
from crmkit.testing.conformance import conformance_suite

test_conformance = conformance_suite("service")


def test_every_listed_command_loads_under_its_name() -> None:
    from crmkit_service.cli import SERVICE_COMMANDS, load_command

    for name, (spec, _) in SERVICE_COMMANDS.items():
        assert load_command(spec).name == name, spec


def test_the_service_group_lists_its_commands(service_project: Any) -> None:
    from crmkit_service.cli import SERVICE_COMMANDS

    shown = service_project.run("service", "--help")
    assert shown.exit_code == 0, str(shown)
    for name, (_, help_) in SERVICE_COMMANDS.items():
        assert name in shown.output and help_ in shown.output
    unknown = service_project.run("service", "teleport")
    assert unknown.exit_code == 2
    assert "No such command 'teleport'" in unknown.output


def test_erasing_a_person_keeps_the_ticket_numbers_and_removes_what_they_wrote(
    crm: CRM,
) -> None:
    ada = crm.contacts.add(first_name="Ada", email="ada@example.com")
    types = {name: crm.entity_type(f"service.{name}") for name in ("ticket", "message", "csat")}
    ticket = Ticket(key="T-1", subject="My invoice for Ada", contact_id=ada.id, priority="high")
    message = Message(ticket_id=ticket.id, contact_id=ada.id, body="Hi, Ada here", author="ada")
    feedback = Feedback(ticket_id=ticket.id, contact_id=ada.id, csat=2, comment="slow")
    with crm.unit_of_work() as uow:
        for name, record in (("ticket", ticket), ("message", message), ("csat", feedback)):
            uow.tx.add(types[name], types[name].to_row(record))
    bundle = crm.privacy.export(ada.id)
    assert {"service.ticket", "service.message", "service.csat"} <= set(bundle["records"])
    crm.privacy.erase(ada.id)
    with crm.unit_of_work() as uow:
        kept = uow.tx.get(types["ticket"], ticket.id)
        assert uow.tx.get(types["message"], message.id) is None
        rating = uow.tx.get(types["csat"], feedback.id)
    assert kept is not None and rating is not None
    assert (kept["key"], kept["priority"]) == ("T-1", "high")
    assert (kept["subject"], kept["contact_id"]) == ("[erased]", None)
    assert (rating["csat"], rating["comment"], rating["contact_id"]) == (2, None, None)


def test_the_service_desk_makes_each_service_once_on_first_use(sqlite_crm: CRM) -> None:
    from crmkit_service import ServiceDesk
    from crmkit_service.feedback import Feedback as FeedbackService
    from crmkit_service.intake import Intake
    from crmkit_service.knowledge import Knowledge
    from crmkit_service.report import Reports
    from crmkit_service.tickets import Tickets

    desk = ServiceDesk(sqlite_crm)
    expected = {
        "tickets": Tickets,
        "intake": Intake,
        "knowledge": Knowledge,
        "feedback": FeedbackService,
        "report": Reports,
    }
    for name, cls in expected.items():
        service = getattr(desk, name)
        assert isinstance(service, cls)
        assert getattr(desk, name) is service
