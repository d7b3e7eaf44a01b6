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
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import IO, TYPE_CHECKING, Any

from crmkit.errors import ConfigError
from crmkit.io.formats import Exporter, formats_by_name
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
) -> int:
    """Write the records of ``entity`` matching ``where`` to ``stream``; returns how many.

    ``stream`` is a text stream (opened with ``newline=""`` for CSV), or a
    binary one for exporters that say they are ``binary``.
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

    def pages(uow: Any) -> Iterator[dict[str, Any]]:
        after: str | None = None
        while True:
            cond: Filter | None = flt
            if after is not None:
                page_start = Cond("id", "gt", after)
                cond = page_start if flt is None else AllOf((flt, page_start))
            rows = uow.tx.query(etype, Query(cond, ("id",), max(1, page_size)))
            for row in rows:
                if flat:
                    custom = row.pop("custom", None) or {}
                    row.update(custom)
                yield row
            if len(rows) < page_size:
                return
            after = rows[-1]["id"]

    with crm.unit_of_work() as uow:
        return exporter.write(pages(uow), fields, stream)


def export_contacts(
    crm: CRM,
    stream: IO[Any],
    *,
    format: str = "csv",
    where: Mapping[str, Any] | Iterable[Filter] | None = None,
    page_size: int = PAGE_SIZE,
) -> int:
    """Write contacts (all, or those matching ``where``) to ``stream`` in id order.

    ``where`` takes the same filters as ``crm.contacts.list`` (``{"city":
    "Paris"}`` or filter objects). Returns the number of contacts written.
    """
    return export_records(
        crm, "contact", stream, format=format, where=where, page_size=page_size
    )
