"""Segment rules: a rule tree over contacts, checked and turned into one storage filter.

A rule tree is plain data (a dict, kept as ``Segment.rules``)::

    {"all": [
        {"field": "city", "op": "in", "value": ["Paris", "Lyon"]},
        {"field": "tags", "op": "has", "value": "newsletter"},
        {"interaction": {"kind": "purchase", "within_days": 90}},
        {"not": {"field": "custom.tier", "op": "eq", "value": "bronze"}},
        {"condition": "sales.open_deal", "params": {}},
    ]}

Nodes are ``all`` / ``any`` (lists of rules), ``not`` (one rule), field rules on
the contact's own fields (``custom.<key>`` for custom fields, ``tags`` with
``has``), interaction rules (at least one interaction on the timeline matching
kind, channel, direction, source and recency) and named conditions other plugins
contribute through ``crmkit_segment_conditions``. :func:`compile_rules` checks the
tree against the contact entity type and turns it into one storage
:data:`~crmkit.storage.Filter`, which the storage runs as one SQL statement.

Consent is deliberately not a rule: whether a person may be contacted is decided
when a message is sent, not when a segment is drawn.
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs
import jsonschema

from crmkit.entities import utcnow
from crmkit.entities.core import CHANNELS, DIRECTIONS
from crmkit.errors import ValidationError
from crmkit.storage import AllOf, AnyOf, Cond, Filter, Not, Related
from crmkit_campaign.entities import Segment

if TYPE_CHECKING:
    from crmkit.crm import CRM
    from crmkit.entities.types import EntityType, FieldInfo
    from crmkit.storage import StorageReader

ENTITY = "campaign.segment"
MEMBER_ENTITY = "campaign.segment_member"
RULE_KINDS = ("all", "any", "not", "field", "interaction", "condition")
INTERACTION_KEYS = ("kind", "channel", "direction", "source", "within_days")
SCALAR_OPS = ("eq", "ne", "in", "lt", "le", "gt", "ge", "isnull")
TEXT_OPS = (*SCALAR_OPS, "contains", "startswith")
CUSTOM_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# JSON Schema "type" of a custom field -> the Python types a rule value may have.
CUSTOM_VALUE_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
}


def _fail(path: str, message: str) -> ValidationError:
    return ValidationError(ENTITY, "rules", f"{path}: {message}")


def _custom_value_fits(item: Any, types: tuple[type, ...] | None) -> bool:
    """Whether a rule value suits a custom field of the declared JSON type (``None``: any)."""
    if types is None:
        return isinstance(item, str | int | float | bool)
    if isinstance(item, bool):
        return bool in types
    return isinstance(item, types)


@attrs.frozen
class _Compiler:
    """Checks one rule tree against the CRM's contact type and builds its Filter."""

    crm: CRM
    contact_type: EntityType
    now: dt.datetime

    def node(self, rule: Any, path: str) -> Filter:
        if not isinstance(rule, Mapping):
            raise _fail(path, f"a rule is an object such as {{'field': ...}}, not {rule!r}")
        kinds = [k for k in RULE_KINDS if k in rule]
        if len(kinds) != 1:
            found = ", ".join(sorted(map(str, rule))) or "nothing"
            raise _fail(path, f"a rule has exactly one of {', '.join(RULE_KINDS)}; got {found}")
        kind = kinds[0]
        if kind == "all":
            return self.group(rule, "all", path)
        if kind == "any":
            return self.group(rule, "any", path)
        if kind == "not":
            self.only_keys(rule, ("not",), path)
            return Not(self.node(rule["not"], f"{path}.not"))
        if kind == "field":
            return self.field_rule(rule, path)
        if kind == "interaction":
            self.only_keys(rule, ("interaction",), path)
            return self.interaction_rule(rule["interaction"], f"{path}.interaction")
        return self.condition_rule(rule, path)

    def only_keys(self, rule: Mapping[str, Any], allowed: Sequence[str], path: str) -> None:
        extra = sorted(str(k) for k in rule if k not in allowed)
        if extra:
            raise _fail(path, f"unexpected key {extra[0]!r}; this rule takes {', '.join(allowed)}")

    def group(self, rule: Mapping[str, Any], kind: str, path: str) -> Filter:
        self.only_keys(rule, (kind,), path)
        items = rule[kind]
        if not isinstance(items, list):
            raise _fail(path, f"{kind!r} takes a list of rules")
        if not items:
            if kind == "all":  # nothing to require: every contact
                return Cond("id", "isnull", False)
            raise _fail(path, "'any' of no rules matches nobody; give at least one rule")
        parts = tuple(self.node(item, f"{path}.{kind}[{i}]") for i, item in enumerate(items))
        if len(parts) == 1:
            return parts[0]
        return AllOf(parts) if kind == "all" else AnyOf(parts)

    # -- field rules ----------------------------------------------------------
    def field_rule(self, rule: Mapping[str, Any], path: str) -> Filter:
        self.only_keys(rule, ("field", "op", "value"), path)
        name = rule["field"]
        op = rule.get("op", "eq")
        if not isinstance(name, str):
            raise _fail(path, f"'field' names a contact field, not {name!r}")
        if op == "isnull":
            value = rule.get("value", True)
            if not isinstance(value, bool):
                raise _fail(path, f"isnull takes true or false, not {value!r}")
        elif "value" not in rule or rule["value"] is None:
            raise _fail(path, f"field {name!r} {op}: give a value (use op isnull for 'no value')")
        else:
            value = rule["value"]
        if name.startswith("custom."):
            return self.custom_rule(name, op, value, path)
        info = self.contact_field(name, path)
        if info.kind == "list":
            if op != "has" or not isinstance(value, str):
                raise _fail(path, f"list field {name!r} takes op 'has' with a text value")
            return Cond(name, "has", value)
        if info.kind == "dict":
            raise _fail(path, f"{name!r} holds named values; filter on {name}.<key>")
        allowed = TEXT_OPS if info.kind == "str" else SCALAR_OPS
        if op not in allowed:
            raise _fail(path, f"field {name!r} takes op {', '.join(allowed)}; not {op!r}")
        if op == "isnull":
            return Cond(name, "isnull", value)
        if op == "in":
            if not isinstance(value, list) or not value:
                raise _fail(path, f"field {name!r} in: give a non-empty list of values")
            return Cond(name, "in", [self.field_value(info, v, path) for v in value])
        return Cond(name, op, self.field_value(info, value, path))

    def contact_field(self, name: str, path: str) -> FieldInfo:
        try:
            return self.contact_type.field(name)
        except KeyError:
            known = ", ".join(self.contact_type.field_names)
            raise _fail(
                path, f"unknown contact field {name!r}; known fields: {known}, custom.<key>"
            ) from None

    def field_value(self, info: FieldInfo, value: Any, path: str) -> Any:
        """A rule value (JSON) as the Python value the field stores; dates from ISO text."""
        kind, name = info.kind, info.name
        try:
            if kind == "str" and isinstance(value, str):
                return value
            if kind == "int" and isinstance(value, int) and not isinstance(value, bool):
                return value
            if kind == "float" and isinstance(value, int | float) and not isinstance(value, bool):
                return float(value)
            if kind == "bool" and isinstance(value, bool):
                return value
            if kind == "decimal" and isinstance(value, str | int) and not isinstance(value, bool):
                return decimal.Decimal(str(value))
            if kind == "date" and isinstance(value, str):
                return dt.date.fromisoformat(value)
            if kind == "datetime" and isinstance(value, str):
                moment = dt.datetime.fromisoformat(value)
                return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
        except (ValueError, decimal.InvalidOperation):
            pass
        hint = {"date": " (YYYY-MM-DD)", "datetime": " (ISO 8601)"}.get(kind, "")
        raise _fail(path, f"field {name!r} holds {kind} values{hint}, not {value!r}")

    def custom_rule(self, name: str, op: Any, value: Any, path: str) -> Filter:
        key = name.removeprefix("custom.")
        custom = self.crm.custom_fields("contact")
        if not CUSTOM_KEY.match(key) or not custom.knows(key):
            known = ", ".join(f"custom.{k}" for k in custom.properties) or "none defined"
            raise _fail(
                path,
                f"unknown custom field {name!r}; known: {known} "
                "(define custom fields under [custom_fields.contact] in crmkit.toml)",
            )
        declared = custom.properties[key].get("type")
        if declared in ("array", "object"):
            raise _fail(path, f"custom field {name!r} holds {declared}s; segments compare "
                        "text, numbers and booleans only")
        types = CUSTOM_VALUE_TYPES.get(declared) if isinstance(declared, str) else None
        allowed = TEXT_OPS if types is None or types == (str,) else SCALAR_OPS
        if op not in allowed:
            raise _fail(path, f"field {name!r} takes op {', '.join(allowed)}; not {op!r}")
        if op == "isnull":
            return Cond(name, "isnull", value)
        if op == "in" and (not isinstance(value, list) or not value):
            raise _fail(path, f"field {name!r} in: give a non-empty list of values")
        for item in value if op == "in" else [value]:
            if not _custom_value_fits(item, types):
                want = declared if types is not None else "text, number or boolean"
                raise _fail(path, f"field {name!r} holds {want} values, not {item!r}")
        return Cond(name, op, list(value) if op == "in" else value)

    # -- interaction rules ----------------------------------------------------
    def interaction_rule(self, spec: Any, path: str) -> Filter:
        if not isinstance(spec, Mapping):
            raise _fail(path, "takes an object such as {'kind': 'purchase', 'within_days': 90}")
        self.only_keys(spec, INTERACTION_KEYS, path)
        conds: list[Filter] = []
        vocab: dict[str, Sequence[str] | None] = {
            "kind": None, "channel": CHANNELS, "direction": DIRECTIONS, "source": None,
        }
        for key, known in vocab.items():
            if key not in spec:
                continue
            raw = spec[key]
            values = raw if isinstance(raw, list) else [raw]
            if not values or not all(isinstance(v, str) and v for v in values):
                raise _fail(f"{path}.{key}", f"give a text value or a list of them, not {raw!r}")
            if known is not None:
                for item in values:
                    if item not in known:
                        raise _fail(
                            f"{path}.{key}", f"unknown {key} {item!r}; use {', '.join(known)}"
                        )
            conds.append(
                Cond(key, "eq", values[0]) if len(values) == 1 else Cond(key, "in", values)
            )
        if "within_days" in spec:
            days = spec["within_days"]
            if isinstance(days, bool) or not isinstance(days, int) or days < 1:
                raise _fail(
                    f"{path}.within_days", f"give a whole number of days (1 or more), not {days!r}"
                )
            conds.append(Cond("occurred_at", "ge", self.now - dt.timedelta(days=days)))
        where: Filter | None = None
        if conds:
            where = conds[0] if len(conds) == 1 else AllOf(tuple(conds))
        return Related("interaction", "contact_id", where)

    # -- conditions of other plugins --------------------------------------------
    def condition_rule(self, rule: Mapping[str, Any], path: str) -> Filter:
        self.only_keys(rule, ("condition", "params"), path)
        name = rule["condition"]
        conditions = self.crm.segment_conditions()
        condition = conditions.get(name) if isinstance(name, str) else None
        if condition is None:
            known = ", ".join(sorted(conditions)) or "none (no loaded plugin offers any)"
            raise _fail(path, f"unknown condition {name!r}; known conditions: {known}")
        params = rule.get("params", {})
        if not isinstance(params, Mapping):
            raise _fail(f"{path}.params", f"give an object of parameters, not {params!r}")
        validator = jsonschema.Draft202012Validator(condition.params_schema)
        error = jsonschema.exceptions.best_match(validator.iter_errors(dict(params)))
        if error is not None:
            where = "".join(f".{p}" for p in error.absolute_path)
            raise _fail(f"{path}.params{where}", f"{name}: {error.message}")
        return condition.build(dict(params))


def compile_rules(
    crm: CRM, rules: Mapping[str, Any], *, now: dt.datetime | None = None
) -> Filter:
    """The Filter on contacts that a rule tree describes, after checking every node.

    ``now`` (default: the current time) anchors ``within_days``. An invalid tree
    raises ``ValidationError("campaign.segment", "rules", ...)`` naming the bad
    node by its path, such as ``rules.all[2].field``.
    """
    compiler = _Compiler(crm, crm.entity_type("contact"), now or utcnow())
    return compiler.node(rules, "rules")


def segment_filter(
    crm: CRM, reader: StorageReader, segment: Segment, *, now: dt.datetime | None = None
) -> Filter:
    """The Filter on contacts for a segment's members as of ``now`` (default: the clock).

    Dynamic: its compiled rules. Static: the contacts its last snapshot listed.
    ``reader`` is where the filter will be run (kept for rules that need lookups).
    """
    if segment.kind == "static":
        return Related(MEMBER_ENTITY, "contact_id", Cond("segment_id", "eq", segment.id))
    return compile_rules(crm, segment.rules, now=now)
