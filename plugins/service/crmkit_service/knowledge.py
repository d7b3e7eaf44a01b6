"""Canned replies and the knowledge base.

A canned reply is a named text with placeholders, filled from a ticket when an
agent uses it::

    Hello {contact.first_name}, thanks for writing about {ticket.subject}
    ({ticket.key}). -- {agent}

The placeholders are :data:`PLACEHOLDERS`. A reply is checked when it is added
(an unknown placeholder, a conversion such as ``!r``, a format such as ``:>10``
or an unbalanced brace is refused, naming it), and a placeholder that has no
value for the ticket at hand (a ticket without a contact, a contact without a
first name) refuses the rendering, naming the placeholder: a reply never goes
out with a blank where a name should be. Write ``{{`` and ``}}`` for literal
braces.

Articles of the knowledge base have a slug (``reset-password``), a title, a
body and tags. They are found by words in the title or body (every word, any
case) and linked to the tickets they answered; a ticket shows its articles.
"""

from __future__ import annotations

import builtins
import re
import string
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from crmkit.entities import utcnow
from crmkit.errors import NotFound, ValidationError
from crmkit.privacy.model import Masked
from crmkit.storage.query import AllOf, AnyOf, Cond, Filter, Query
from crmkit_service.entities import Article, CannedReply, Message, Ticket, TicketArticle
from crmkit_service.thread import add_message
from crmkit_service.ticket_records import load_ticket
from crmkit_service.values import clean_tags, required_text

if TYPE_CHECKING:
    from crmkit.crm import CRM
    from crmkit.storage.base import StorageReader
    from crmkit.uow import UnitOfWork

CANNED = "service.canned_reply"
ARTICLE = "service.article"
LINK = "service.ticket_article"
PLACEHOLDERS: tuple[str, ...] = (
    "contact.first_name",
    "contact.last_name",
    "ticket.key",
    "ticket.subject",
    "agent",
)
"""The placeholders a canned reply may use."""
NAME_PATTERN = r"[a-z0-9][a-z0-9_.-]{0,63}"
"""Canned reply names and article slugs: lowercase letters, digits, ``-``, ``_`` and ``.``."""
SEARCH_LIMIT = 20


# -- placeholders -------------------------------------------------------------------------


def placeholders(body: str) -> list[str]:
    """The placeholders ``body`` uses, in order of first use.

    Raises :class:`ValidationError` (on ``service.canned_reply`` ``body``) for a
    placeholder not in :data:`PLACEHOLDERS`, a positional ``{}``, a conversion,
    a format spec, or braces that do not pair up.
    """
    try:
        parts = list(string.Formatter().parse(body))
    except ValueError as exc:
        raise ValidationError(
            CANNED, "body", f"{exc}; write {{{{ and }}}} for literal braces"
        ) from None
    found: list[str] = []
    allowed = ", ".join(f"{{{name}}}" for name in PLACEHOLDERS)
    for _, field, spec, conversion in parts:
        if field is None:
            continue
        if field not in PLACEHOLDERS:
            shown = f"{{{field}}}" if field else "{}"
            raise ValidationError(CANNED, "body", f"unknown placeholder {shown}; use {allowed}")
        if conversion or spec:
            raise ValidationError(
                CANNED,
                "body",
                f"placeholder {{{field}}} takes no conversion or format; write {{{field}}}",
            )
        if field not in found:
            found.append(field)
    return found


class _Filler(string.Formatter):
    """Fills placeholders from a flat mapping (``"contact.first_name"`` -> value)."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self.values = values

    def get_field(self, field_name: str, args: Sequence[Any], kwargs: Mapping[str, Any]) -> Any:
        return self.values[field_name], field_name


def fill(body: str, values: Mapping[str, str | None], *, name: str, record: str) -> str:
    """``body`` with its placeholders replaced from ``values``.

    A placeholder whose value is missing or empty is refused with
    :class:`ValidationError` naming it, the reply ``name`` and the ``record``.
    """
    for field in placeholders(body):
        value = values.get(field)
        if isinstance(value, Masked):
            raise ValidationError(
                CANNED,
                field,
                f"reply {name!r}: {{{field}}} is hidden from you for {record}; "
                "ask someone who may see it to send this reply",
                record=record,
            )
        if value is None or not str(value).strip():
            raise ValidationError(
                CANNED,
                field,
                f"reply {name!r}: {{{field}}} has no value for {record}; "
                "fill it in first or write the reply by hand",
                record=record,
            )
    return _Filler({k: str(v) for k, v in values.items() if v is not None}).format(body)


def ticket_values(uow: UnitOfWork, ticket: Ticket, agent: str | None) -> dict[str, str | None]:
    """The placeholder values for ``ticket``, as ``uow``'s actor may see them.

    The contact's names are read with the privacy policy's leave (a denial is
    :class:`~crmkit.errors.PolicyDenied`); names the actor may not see come back
    as :class:`~crmkit.privacy.Masked` values, which :func:`fill` refuses.
    """
    first: Any = None
    last: Any = None
    if ticket.contact_id is not None:
        ctype = uow.crm.entity_type("contact")
        row = uow.tx.get(ctype, ticket.contact_id)
        if row is not None:
            uow.crm.privacy.require(
                "read", actor=uow.actor, subject_id=ticket.contact_id, entity="contact", uow=uow
            )
            shown, _ = uow.crm.privacy.mask(ctype, row, uow.actor)
            first, last = shown.get("first_name"), shown.get("last_name")
    return {
        "contact.first_name": first,
        "contact.last_name": last,
        "ticket.key": ticket.key,
        "ticket.subject": ticket.subject,
        "agent": agent.strip() if agent and agent.strip() else None,
    }


# -- checking values ----------------------------------------------------------------------


def _name(value: str, entity: str, field: str) -> str:
    text = value.strip().lower() if isinstance(value, str) else ""
    if not re.fullmatch(NAME_PATTERN, text):
        raise ValidationError(
            entity,
            field,
            f"{value!r} is not a valid {field}: use lowercase letters, digits, '-', '_' or '.' "
            "(up to 64), e.g. 'reset-password'",
        )
    return text


def words_filter(text: str) -> Filter | None:
    """Every word of ``text`` in the title or the body (case-insensitive); ``None`` if no word."""
    words = text.split()
    if not words:
        return None
    return AllOf(
        tuple(
            AnyOf((Cond("title", "contains", word), Cond("body", "contains", word)))
            for word in words
        )
    )


def _canned(reader: StorageReader, crm: CRM, name: str) -> CannedReply:
    row = reader.get_by(crm.entity_type(CANNED), "name", name.strip().lower())
    if row is None:
        raise NotFound(CANNED, name)
    return CannedReply(**row)


def _article(reader: StorageReader, crm: CRM, slug: str) -> Article:
    row = reader.get_by(crm.entity_type(ARTICLE), "slug", slug.strip().lower())
    if row is None:
        raise NotFound(ARTICLE, slug)
    return Article(**row)


def linked_articles(reader: StorageReader, crm: CRM, ticket_id: str) -> builtins.list[Article]:
    """The articles linked to a ticket, in the order they were linked."""
    links = reader.query(
        crm.entity_type(LINK),
        Query(where=Cond("ticket_id", "eq", ticket_id), order_by=("created_at", "id")),
    )
    if not links:
        return []
    rows = reader.query(
        crm.entity_type(ARTICLE),
        Query(where=Cond("id", "in", [link["article_id"] for link in links])),
    )
    by_id = {row["id"]: row for row in rows}
    return [Article(**by_id[link["article_id"]]) for link in links if link["article_id"] in by_id]


# -- the service --------------------------------------------------------------------------


class Knowledge:
    """Canned replies and knowledge-base articles of one CRM; each write is one unit of work."""

    def __init__(self, crm: CRM) -> None:
        self.crm = crm

    # -- canned replies
    def add_canned(self, name: str, body: str, *, actor: str | None = None) -> CannedReply:
        """Add a canned reply; its placeholders are checked now (see the module docstring).

        A name already taken is refused (:class:`ValidationError`): remove the
        old reply first.
        """
        etype = self.crm.entity_type(CANNED)
        cleaned = _name(name, CANNED, "name")
        text = required_text(body, CANNED, "body", cleaned)
        placeholders(text)
        with self.crm.unit_of_work(actor) as uow:
            if uow.tx.get_by(etype, "name", cleaned) is not None:
                raise ValidationError(
                    CANNED,
                    "name",
                    f"a canned reply called {cleaned!r} already exists; "
                    f"remove it first ('crmkit service canned remove {cleaned}') or pick another",
                    record=cleaned,
                )
            reply = CannedReply(name=cleaned, body=text)
            uow.tx.add(etype, etype.to_row(reply))
        return reply

    def list_canned(self) -> builtins.list[CannedReply]:
        """Every canned reply, by name."""
        with self.crm.backend.read() as reader:
            rows = reader.query(self.crm.entity_type(CANNED), Query(order_by=("name",)))
        return [CannedReply(**row) for row in rows]

    def get_canned(self, name: str) -> CannedReply:
        """The canned reply called ``name``; :class:`NotFound` if none."""
        with self.crm.backend.read() as reader:
            return _canned(reader, self.crm, name)

    def remove_canned(self, name: str, *, actor: str | None = None) -> CannedReply:
        """Remove the canned reply called ``name`` and return it; :class:`NotFound` if none."""
        with self.crm.unit_of_work(actor) as uow:
            reply = _canned(uow.tx, self.crm, name)
            uow.tx.delete(self.crm.entity_type(CANNED), reply.id)
        return reply

    def render(self, name: str, ticket: str, *, agent: str | None, actor: str | None = None) -> str:
        """The canned reply ``name`` filled for ``ticket`` (key or id) as signed by ``agent``.

        Nothing is written. A placeholder without a value is refused naming it.
        """
        with self.crm.unit_of_work(actor) as uow:
            found = load_ticket(uow.tx, self.crm, ticket)
            reply = _canned(uow.tx, self.crm, name)
            values = ticket_values(uow, found, agent)
            return fill(reply.body, values, name=reply.name, record=found.key)

    def reply_with(
        self, ticket: str, name: str, *, agent: str | None, actor: str | None = None
    ) -> Message:
        """Send the canned reply ``name`` on ``ticket`` as ``agent`` (an outbound message).

        The reply goes through the thread like any reply (first response,
        status, timeline); nothing is written if a placeholder has no value.
        """
        with self.crm.unit_of_work(actor) as uow:
            found = load_ticket(uow.tx, self.crm, ticket)
            reply = _canned(uow.tx, self.crm, name)
            text = fill(
                reply.body, ticket_values(uow, found, agent), name=reply.name, record=found.key
            )
            return add_message(uow, found, direction="outbound", body=text, author=agent)

    # -- articles
    def add_article(
        self,
        slug: str,
        title: str,
        body: str,
        *,
        tags: Iterable[str] = (),
        actor: str | None = None,
    ) -> Article:
        """Add an article; a slug already taken is refused (:class:`ValidationError`)."""
        etype = self.crm.entity_type(ARTICLE)
        cleaned = _name(slug, ARTICLE, "slug")
        article = Article(
            slug=cleaned,
            title=required_text(title, ARTICLE, "title", cleaned),
            body=required_text(body, ARTICLE, "body", cleaned),
            tags=clean_tags(tags, ARTICLE, lower=True),
        )
        with self.crm.unit_of_work(actor) as uow:
            if uow.tx.get_by(etype, "slug", cleaned) is not None:
                raise ValidationError(
                    ARTICLE,
                    "slug",
                    f"an article {cleaned!r} already exists; change it with "
                    f"'crmkit service kb update {cleaned}' or pick another slug",
                    record=cleaned,
                )
            uow.tx.add(etype, etype.to_row(article))
        return article

    def update_article(
        self,
        slug: str,
        *,
        title: str | None = None,
        body: str | None = None,
        tags: Iterable[str] | None = None,
        actor: str | None = None,
    ) -> Article:
        """Change an article's title, body or tags (those given); :class:`NotFound` if none."""
        etype = self.crm.entity_type(ARTICLE)
        with self.crm.unit_of_work(actor) as uow:
            article = _article(uow.tx, self.crm, slug)
            changes: dict[str, Any] = {}
            if title is not None:
                changes["title"] = required_text(title, ARTICLE, "title", article.slug)
            if body is not None:
                changes["body"] = required_text(body, ARTICLE, "body", article.slug)
            if tags is not None:
                changes["tags"] = clean_tags(tags, ARTICLE, lower=True)
            if not changes:
                return article
            changes["updated_at"] = utcnow()
            uow.tx.update(etype, article.id, changes)
            for field, value in changes.items():
                setattr(article, field, value)
        return article

    def get_article(self, slug: str) -> Article:
        """The article ``slug``; :class:`NotFound` if none."""
        with self.crm.backend.read() as reader:
            return _article(reader, self.crm, slug)

    def list_articles(self, *, tag: str | None = None) -> builtins.list[Article]:
        """Every article (or those with ``tag``), by title."""
        with self.crm.backend.read() as reader:
            rows = reader.query(self.crm.entity_type(ARTICLE), Query(order_by=("title", "slug")))
        wanted = tag.strip().lower() if tag else None
        # Tags are a JSON list, which SQL cannot filter portably; articles are few.
        return [Article(**row) for row in rows if wanted is None or wanted in row["tags"]]

    def search(self, text: str, *, limit: int | None = SEARCH_LIMIT) -> builtins.list[Article]:
        """Articles whose title or body holds every word of ``text`` (any case), by title."""
        where = words_filter(text)
        if where is None:
            raise ValidationError(ARTICLE, "text", "give at least one word to search for")
        with self.crm.backend.read() as reader:
            rows = reader.query(
                self.crm.entity_type(ARTICLE),
                Query(where=where, order_by=("title", "slug"), limit=limit),
            )
        return [Article(**row) for row in rows]

    def link(self, ticket: str, slug: str, *, actor: str | None = None) -> bool:
        """Link article ``slug`` to ``ticket`` (key or id); ``False`` if it already was.

        A new link raises ``service.article.linked`` and shows on the contact's
        timeline.
        """
        ltype = self.crm.entity_type(LINK)
        with self.crm.unit_of_work(actor) as uow:
            found = load_ticket(uow.tx, self.crm, ticket)
            article = _article(uow.tx, self.crm, slug)
            existing = uow.tx.query(
                ltype,
                Query(
                    where=AllOf(
                        (Cond("ticket_id", "eq", found.id), Cond("article_id", "eq", article.id))
                    ),
                    limit=1,
                ),
            )
            if existing:
                return False
            link = TicketArticle(ticket_id=found.id, article_id=article.id)
            uow.tx.add(ltype, ltype.to_row(link))
            uow.record_activity(
                "service.article.linked",
                {
                    "ticket_id": found.id,
                    "key": found.key,
                    "article_id": article.id,
                    "slug": article.slug,
                },
                contact_id=found.contact_id,
                summary=f"Article {article.slug} linked to {found.key}: {article.title}",
            )
        return True

    def linked(self, ticket: str) -> builtins.list[Article]:
        """The articles linked to ``ticket`` (key or id), in the order they were linked."""
        with self.crm.backend.read() as reader:
            found = load_ticket(reader, self.crm, ticket)
            return linked_articles(reader, self.crm, found.id)
