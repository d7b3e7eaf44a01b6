"""``crmkit service canned`` and ``crmkit service kb``: canned replies and the knowledge base."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

import click

from crmkit.cli.context import get_crm
from crmkit.cli.output import echo_json, echo_record, echo_table

if TYPE_CHECKING:
    from crmkit_service.entities import Article

REPLY_COLUMNS = (("name", "NAME"), ("preview", "TEXT"))
ARTICLE_COLUMNS = (("slug", "SLUG"), ("title", "TITLE"), ("tags", "TAGS"))


def _text(value: str | None) -> str:
    """The text from the option, else from standard input."""
    return value if value is not None else sys.stdin.read()


def _agent(agent: str | None) -> str:
    return agent if agent else get_crm().privacy.actor().name


# -- canned replies -----------------------------------------------------------------------


@click.group("canned")
def canned_group() -> None:
    """Canned replies: texts with placeholders, filled from a ticket when used.

    Placeholders: {contact.first_name}, {contact.last_name}, {ticket.key},
    {ticket.subject}, {agent}. Write {{ and }} for literal braces.
    """


@canned_group.command("add")
@click.argument("name")
@click.option("--body", "-m", help="The reply text (default: read from standard input).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def add_canned(name: str, body: str | None, as_json: bool) -> None:
    """Add the canned reply NAME.

    \b
    Example:
      crmkit service canned add thanks -m "Hi {contact.first_name}, {ticket.key} is fixed. {agent}"
    """
    from crmkit_service.knowledge import Knowledge

    reply = Knowledge(get_crm()).add_canned(name, _text(body))
    if as_json:
        echo_json(reply)
    else:
        click.echo(f"Added canned reply {reply.name}.")


@canned_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_canned(as_json: bool) -> None:
    """List the canned replies."""
    from crmkit_service.knowledge import Knowledge

    replies = Knowledge(get_crm()).list_canned()
    if as_json:
        echo_json(replies)
        return
    rows = [{"name": r.name, "preview": " ".join(r.body.split())} for r in replies]
    echo_table(
        rows, REPLY_COLUMNS, empty="No canned replies; add one with 'crmkit service canned add'."
    )


@canned_group.command("show")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def show_canned(name: str, as_json: bool) -> None:
    """Show the canned reply NAME."""
    from crmkit_service.knowledge import Knowledge

    reply = Knowledge(get_crm()).get_canned(name)
    if as_json:
        echo_json(reply)
    else:
        click.echo(reply.body)


@canned_group.command("remove")
@click.argument("name")
def remove_canned(name: str) -> None:
    """Remove the canned reply NAME."""
    from crmkit_service.knowledge import Knowledge

    reply = Knowledge(get_crm()).remove_canned(name)
    click.echo(f"Removed canned reply {reply.name}.")


@canned_group.command("use")
@click.argument("ticket")
@click.argument("name")
@click.option("--agent", metavar="AGENT", help="Who signs and sends it (default: the actor).")
@click.option("--preview", is_flag=True, help="Print the filled reply without sending it.")
def use_canned(ticket: str, name: str, agent: str | None, preview: bool) -> None:
    """Reply on TICKET (key or id) with the canned reply NAME, filled for it.

    A placeholder with no value for the ticket (say, a contact without a first
    name) refuses the reply, naming the placeholder; nothing is sent.
    """
    from crmkit_service.knowledge import Knowledge

    knowledge = Knowledge(get_crm())
    signer = _agent(agent)
    if preview:
        click.echo(knowledge.render(name, ticket, agent=signer))
        return
    message = knowledge.reply_with(ticket, name, agent=signer)
    click.echo(f"Replied on {ticket} with {name} as {message.author}.")


# -- the knowledge base -------------------------------------------------------------------


@click.group("kb")
def kb_group() -> None:
    """The knowledge base: articles found by words and linked to tickets."""


@kb_group.command("add")
@click.argument("slug")
@click.option("--title", required=True, help="The article's title.")
@click.option("--body", "-m", help="The article text (default: read from standard input).")
@click.option("--tag", "tags", multiple=True, metavar="TAG", help="A tag (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def add_article(
    slug: str, title: str, body: str | None, tags: tuple[str, ...], as_json: bool
) -> None:
    """Add the article SLUG (lowercase words joined by '-', e.g. reset-password)."""
    from crmkit_service.knowledge import Knowledge

    article = Knowledge(get_crm()).add_article(slug, title, _text(body), tags=tags)
    if as_json:
        echo_json(article)
    else:
        click.echo(f"Added article {article.slug}: {article.title}")


@kb_group.command("update")
@click.argument("slug")
@click.option("--title", help="A new title.")
@click.option("--body", "-m", help="A new text ('-' reads it from standard input).")
@click.option("--tag", "tags", multiple=True, metavar="TAG", help="Replace the tags (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def update_article(
    slug: str, title: str | None, body: str | None, tags: tuple[str, ...], as_json: bool
) -> None:
    """Change the title, text or tags of the article SLUG."""
    from crmkit_service.knowledge import Knowledge

    text = sys.stdin.read() if body == "-" else body
    article = Knowledge(get_crm()).update_article(slug, title=title, body=text, tags=tags or None)
    if as_json:
        echo_json(article)
    else:
        click.echo(f"Updated article {article.slug}.")


@kb_group.command("list")
@click.option("--tag", metavar="TAG", help="Only articles with this tag.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_articles(tag: str | None, as_json: bool) -> None:
    """List the articles, by title."""
    from crmkit_service.knowledge import Knowledge

    articles = Knowledge(get_crm()).list_articles(tag=tag)
    _echo_articles(
        articles, as_json, "No articles; add one with 'crmkit service kb add SLUG --title TITLE'."
    )


@kb_group.command("search")
@click.argument("words", nargs=-1, required=True)
@click.option("--limit", default=20, show_default=True, help="At most this many.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def search_articles(words: tuple[str, ...], limit: int, as_json: bool) -> None:
    """Find articles whose title or text holds every one of WORDS (any case)."""
    from crmkit_service.knowledge import Knowledge

    if limit < 1:
        raise click.UsageError("--limit must be 1 or more")
    articles = Knowledge(get_crm()).search(" ".join(words), limit=limit)
    _echo_articles(articles, as_json, "No article holds all of those words.")


def _echo_articles(articles: Sequence[Article], as_json: bool, empty: str) -> None:
    """Print ``articles`` as JSON or as a table of slug, title and tags (``empty`` if none)."""
    if as_json:
        echo_json(articles)
        return
    echo_table(
        [{"slug": a.slug, "title": a.title, "tags": a.tags} for a in articles],
        ARTICLE_COLUMNS,
        empty=empty,
    )


@kb_group.command("show")
@click.argument("slug")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def show_article(slug: str, as_json: bool) -> None:
    """Show the article SLUG."""
    from crmkit_service.knowledge import Knowledge

    article = Knowledge(get_crm()).get_article(slug)
    if as_json:
        echo_json(article)
        return
    echo_record({"slug": article.slug, "title": article.title, "tags": article.tags})
    click.echo("")
    click.echo(article.body)


@kb_group.command("link")
@click.argument("ticket")
@click.argument("slug")
def link_article(ticket: str, slug: str) -> None:
    """Link the article SLUG to TICKET (key or id)."""
    from crmkit_service.knowledge import Knowledge

    if Knowledge(get_crm()).link(ticket, slug):
        click.echo(f"Linked {slug} to {ticket}.")
    else:
        click.echo(f"{slug} was already linked to {ticket}.")
