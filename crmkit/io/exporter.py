"""Exporting records to CSV, JSON Lines or any format a plugin writes.

``export_contacts(crm, stream)`` (and ``crmkit export contacts``) writes every
contact, or those matching ``where``, in id order (which is creation order).
Contacts are read a page at a time inside one transaction, so the export is a
consistent snapshot and memory use does not grow with the number of contacts.

Columns are all fields of the entity type. In CSV, custom fields are flattened
into a column each (after the built-in fields) and lists are ``;``-joined; in
JSON Lines they stay in the nested ``custom`` object. Importing an export into
an empty project gives the same records, ids and timestamps included. One limit
of CSV: a tag that itself contains ``,`` or ``;`` is split into several tags on
the way back in; JSON Lines keeps it whole.

An export is taking data out, so the actor's roles must allow ``export``;
values they may not see are written masked (``[masked: sensitive]``), and the
export is audited, with the sensitive fields it included if there were any.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import IO, TYPE_CHECKING, Any

from crmkit.errors import ConfigError
from crmkit.io.formats import Exporter, formats_by_name
from crmkit.privacy.processing import ReadCheck
from crmkit.storage.query import AllOf, Cond, Filter, Query, where_from

if TYPE_CHECKING:
    from crmkit.crm import CRM

PAGE_SIZE = 1000
# Formats that keep custom fields nested; every other format gets a column per custom field.
NESTED_FORMATS = frozenset({"jsonl", "json", "ndjson"})


def exporters_by_format(crm: CRM) -> dict[str, Exporter]:
    """Every registered exporter by format; a plugin's wins over the core's."""
    return formats_by_name(crm.pm, "crmkit_register_exporters")


def pick_exporter(crm: CRM, fmt: str) -> Exporter:
    exporters = exporters_by_format(crm)
    exporter = exporters.get(fmt.lower())
    if exporter is None:
        raise ConfigError(
            f"no exporter for format {fmt!r}; known formats: {', '.join(sorted(exporters))} "
            "(a plugin can add others)"
        )
    return exporter


def export_records(
    crm: CRM,
    entity: str,
    stream: IO[Any],
    *,
    format: str = "csv",
    where: Mapping[str, Any] | Iterable[Filter] | None = None,
    page_size: int = PAGE_SIZE,
    actor: str | None = None,
) -> int:
    """Write the records of ``entity`` matching ``where`` to ``stream``; returns how many.

    ``stream`` is a text stream (opened with ``newline=""`` for CSV), or a
    binary one for exporters that say they are ``binary``. ``actor`` (default:
    the CRM's) must be allowed to ``export``
    (:class:`~crmkit.errors.PolicyDenied` before anything is written); what
    they may not see is masked.
    """
    exporter = pick_exporter(crm, format)
    etype = crm.entity_type(entity)
    flt = where_from(where)
    crm.check_query(entity, Query(flt))
    custom_names = list(crm.custom_fields(entity).properties)
    flat = etype.has_custom_fields and exporter.format not in NESTED_FORMATS
    fields = [n for n in etype.field_names if not (flat and n == "custom")]
    if flat:
        fields.extend(custom_names)

    def pages(uow: Any, check: ReadCheck) -> Iterator[dict[str, Any]]:
        show = check.show if check.needs_rows(etype) else None
        after: str | None = None
        while True:
            cond: Filter | None = flt
            if after is not None:
                page_start = Cond("id", "gt", after)
                cond = page_start if flt is None else AllOf((flt, page_start))
            rows = uow.tx.query(etype, Query(cond, ("id",), max(1, page_size)))
            for row in rows:
                if show is not None:
                    row = show(etype, row)
                if flat:
                    custom = row.pop("custom", None) or {}
                    row.update(custom)
                yield row
            if len(rows) < page_size:
                return
            after = rows[-1]["id"]

    with crm.unit_of_work(actor) as uow:
        crm.privacy.require("export", actor=uow.actor, entity=entity, uow=uow)
        check = ReadCheck(crm, uow.actor)
        count = exporter.write(pages(uow, check), fields, stream)
        details: dict[str, Any] = {"entity": entity, "records": count, "format": exporter.format}
        if check.masked:
            details["masked"] = list(check.masked)
        uow.audit("export.records", details=details)
        check.audit(uow, counted="contacts" if entity == "contact" else "records")
        return count


def export_contacts(
    crm: CRM,
    stream: IO[Any],
    *,
    format: str = "csv",
    where: Mapping[str, Any] | Iterable[Filter] | None = None,
    page_size: int = PAGE_SIZE,
    actor: str | None = None,
) -> int:
    """Write contacts (all, or those matching ``where``) to ``stream`` in id order.

    ``where`` takes the same filters as ``crm.contacts.list`` (``{"city":
    "Paris"}`` or filter objects). Returns the number of contacts written.
    ``actor`` must be allowed to ``export``; what they may not see is masked.
    """
    return export_records(
        crm, "contact", stream, format=format, where=where, page_size=page_size, actor=actor
    )
