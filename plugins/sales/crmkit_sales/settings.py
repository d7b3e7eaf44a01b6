"""The ``[plugins.sales]`` table of crmkit.toml: currency, pipelines, bands, rates, scoring.

``SETTINGS_SCHEMA`` is checked by crmkit when a CRM opens, so a misspelt key or
a wrong type stops the project from opening with the key named.
:func:`sales_settings` reads the table (on every call: settings belong to a
CRM, not to this module) into :class:`SalesSettings` with the defaults below
filled in, and checks what a schema cannot say (a default pipeline that
exists, stage names used once, the forecast bands in order).

Without ``[plugins.sales.pipelines]`` there is one pipeline, ``default``:
lead (10%) -> prospect (20%) -> opportunity (40%) -> quote (60%) ->
negotiation (80%). Every pipeline also has the terminal stages ``won`` (100%)
and ``lost`` (0%).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

import attrs

from crmkit.errors import ConfigError, ValidationError
from crmkit_sales.money import RateTable

if TYPE_CHECKING:
    from crmkit import CRM

PLUGIN = "sales"
TERMINAL_STAGES: dict[str, int] = {"won": 100, "lost": 0}
DEFAULT_STAGES: tuple[tuple[str, int], ...] = (
    ("lead", 10),
    ("prospect", 20),
    ("opportunity", 40),
    ("quote", 60),
    ("negotiation", 80),
)
DEFAULT_SCORING_RULES: tuple[Mapping[str, Any], ...] = (
    {"field": "source", "equals": "referral", "points": 20},
    {"field": "budget", "equals": True, "points": 15},
    {"activity": "email", "within_days": 30, "points": 5, "max": 20},
)
Category = Literal["commit", "best_case", "pipeline", "closed"]

_CURRENCY = {"type": "string", "pattern": "^[A-Z]{3}$"}
_PERCENT = {"type": "integer", "minimum": 0, "maximum": 100}
_NAME = {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]*$"}
_SCALAR = {"type": ["string", "boolean", "integer", "number"]}

SETTINGS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "default_currency": _CURRENCY,
        "default_pipeline": _NAME,
        "commit_at": _PERCENT,
        "best_case_at": _PERCENT,
        "pipelines": {
            "type": "object",
            "propertyNames": _NAME,
            "additionalProperties": {
                "type": "object",
                "properties": {
                    "stages": {
                        "type": "array",
                        "minItems": 1,
                        "items": {
                            "type": "object",
                            "properties": {
                                "name": {**_NAME, "not": {"enum": list(TERMINAL_STAGES)}},
                                "probability": _PERCENT,
                            },
                            "required": ["name", "probability"],
                            "additionalProperties": False,
                        },
                    }
                },
                "required": ["stages"],
                "additionalProperties": False,
            },
        },
        "rates": {
            "type": "object",
            "properties": {"base": _CURRENCY},
            "propertyNames": {"pattern": "^(base|[A-Z]{3})$"},
            "additionalProperties": {"type": "string", "pattern": r"^[0-9]+(\.[0-9]+)?$"},
        },
        "scoring": {
            "type": "object",
            "properties": {
                "qualify_at": {"type": "integer", "minimum": 0},
                "learned_weight": {"type": "number", "minimum": 0, "maximum": 1},
                "rules": {
                    "type": "array",
                    "items": {
                        "oneOf": [
                            {
                                "type": "object",
                                "properties": {
                                    "field": {"type": "string", "minLength": 1},
                                    "equals": _SCALAR,
                                    "in": {"type": "array", "items": _SCALAR, "minItems": 1},
                                    "not_null": {"const": True},
                                    "points": {"type": "integer"},
                                },
                                "required": ["field", "points"],
                                "oneOf": [
                                    {"required": ["equals"]},
                                    {"required": ["in"]},
                                    {"required": ["not_null"]},
                                ],
                                "additionalProperties": False,
                            },
                            {
                                "type": "object",
                                "properties": {
                                    "activity": {"type": "string", "minLength": 1},
                                    "within_days": {"type": "integer", "minimum": 1},
                                    "points": {"type": "integer"},
                                    "max": {"type": "integer", "minimum": 0},
                                },
                                "required": ["activity", "within_days", "points"],
                                "additionalProperties": False,
                            },
                        ]
                    },
                },
            },
            "additionalProperties": False,
        },
    },
    "additionalProperties": False,
}


@attrs.frozen
class Stage:
    """One step of a pipeline and the chance (0-100) that a deal there is won."""

    name: str
    probability: int


@attrs.frozen
class Pipeline:
    """An ordered list of open stages; ``won`` and ``lost`` close every pipeline."""

    name: str
    stages: tuple[Stage, ...]
    commit_at: int = 70
    best_case_at: int = 40

    @property
    def open_stages(self) -> tuple[str, ...]:
        """The names of the open stages, in order."""
        return tuple(s.name for s in self.stages)

    def stage(self, name: str) -> Stage:
        """The stage called ``name`` (``won``/``lost`` included); unknown names are refused."""
        for stage in self.stages:
            if stage.name == name:
                return stage
        if name in TERMINAL_STAGES:
            return Stage(name, TERMINAL_STAGES[name])
        choices = ", ".join([*self.open_stages, *TERMINAL_STAGES])
        raise ValidationError(
            "sales.deal",
            "stage",
            f"{name!r} is not a stage of pipeline {self.name!r}; use one of {choices}",
        )

    def index(self, name: str) -> int:
        """The position of stage ``name``: open stages from 0, then ``won``, then ``lost``."""
        names = [*self.open_stages, *TERMINAL_STAGES]
        self.stage(name)
        return names.index(name)

    def category(self, stage: str) -> Category:
        """The forecast band of a deal at ``stage``: commit, best_case, pipeline or closed."""
        if stage in TERMINAL_STAGES and stage not in self.open_stages:
            return "closed"
        probability = self.stage(stage).probability
        if probability >= self.commit_at:
            return "commit"
        if probability >= self.best_case_at:
            return "best_case"
        return "pipeline"


@attrs.frozen
class ScoringRule:
    """A lead scoring rule: points for a field value, or for recent activity (capped by max).

    A field rule has ``field`` and one of ``equals``, ``one_of`` (``in`` in
    crmkit.toml) or ``not_null``; an activity rule has ``activity`` (an
    interaction channel, or ``task``), ``within_days`` and optionally ``max``.
    """

    points: int
    field: str | None = None
    equals: Any = None
    one_of: tuple[Any, ...] | None = None
    not_null: bool = False
    activity: str | None = None
    within_days: int | None = None
    max: int | None = None

    @property
    def kind(self) -> Literal["field", "activity"]:
        return "activity" if self.activity is not None else "field"

    def describe(self) -> str:
        """The rule in words, as scoring reasons show it: ``source = 'referral'``."""
        if self.activity is not None:
            cap = f", at most {self.max}" if self.max is not None else ""
            return f"{self.activity} activity within {self.within_days} days{cap}"
        if self.not_null:
            return f"{self.field} is set"
        if self.one_of is not None:
            return f"{self.field} in ({', '.join(repr(v) for v in self.one_of)})"
        return f"{self.field} = {self.equals!r}"

    @classmethod
    def from_setting(cls, values: Mapping[str, Any]) -> ScoringRule:
        one_of = values.get("in")
        return cls(
            points=int(values["points"]),
            field=values.get("field"),
            equals=values.get("equals"),
            one_of=tuple(one_of) if one_of is not None else None,
            not_null=bool(values.get("not_null", False)),
            activity=values.get("activity"),
            within_days=values.get("within_days"),
            max=values.get("max"),
        )


@attrs.frozen
class ScoringSettings:
    """How leads are scored: the rules, the qualifying score and the learned score's weight."""

    qualify_at: int = 50
    rules: tuple[ScoringRule, ...] = tuple(
        ScoringRule.from_setting(r) for r in DEFAULT_SCORING_RULES
    )
    learned_weight: float = 0.5


@attrs.frozen
class SalesSettings:
    """The sales plugin's settings for one CRM, defaults filled in."""

    default_currency: str = "EUR"
    default_pipeline: str = "default"
    commit_at: int = 70
    best_case_at: int = 40
    pipelines: dict[str, Pipeline] = attrs.field(factory=dict)
    rates: RateTable | None = None
    scoring: ScoringSettings = ScoringSettings()

    def pipeline(self, name: str | None = None) -> Pipeline:
        """The pipeline called ``name`` (None: the default one); unknown names are refused."""
        key = self.default_pipeline if name is None else name
        try:
            return self.pipelines[key]
        except KeyError:
            raise ValidationError(
                "sales.deal",
                "pipeline",
                f"{key!r} is not a pipeline; use one of {', '.join(self.pipelines)}",
            ) from None


def _config_error(key: str, message: str) -> ConfigError:
    return ConfigError(f"crmkit.toml [plugins.sales] {key}: {message}")


def _pipelines(table: Mapping[str, Any], commit_at: int, best_case_at: int) -> dict[str, Pipeline]:
    raw = table.get("pipelines") or {
        "default": {"stages": [{"name": n, "probability": p} for n, p in DEFAULT_STAGES]}
    }
    pipelines: dict[str, Pipeline] = {}
    for name, spec in raw.items():
        stages = tuple(Stage(s["name"], int(s["probability"])) for s in spec["stages"])
        seen: set[str] = set()
        for stage in stages:
            if stage.name in seen:
                raise _config_error(
                    f"pipelines.{name}.stages",
                    f"stage {stage.name!r} is listed twice; give each stage one entry",
                )
            seen.add(stage.name)
        pipelines[name] = Pipeline(name, stages, commit_at, best_case_at)
    return pipelines


def parse_settings(table: Mapping[str, Any]) -> SalesSettings:
    """:class:`SalesSettings` from a ``[plugins.sales]`` table (already schema-checked)."""
    commit_at = int(table.get("commit_at", 70))
    best_case_at = int(table.get("best_case_at", 40))
    if best_case_at > commit_at:
        raise _config_error(
            "best_case_at",
            f"{best_case_at} is above commit_at ({commit_at}); best case must not need more "
            "than commit",
        )
    pipelines = _pipelines(table, commit_at, best_case_at)
    default_pipeline = table.get("default_pipeline")
    if default_pipeline is None:
        default_pipeline = "default" if "default" in pipelines else next(iter(pipelines))
    elif default_pipeline not in pipelines:
        raise _config_error(
            "default_pipeline",
            f"{default_pipeline!r} is not a pipeline; use one of {', '.join(pipelines)}",
        )
    default_currency = table.get("default_currency", "EUR")
    rates_table = table.get("rates")
    rates = None
    if rates_table is not None:
        rates = RateTable(
            base=rates_table.get("base", default_currency),
            rates={k: Decimal(v) for k, v in rates_table.items() if k != "base"},
        )
    scoring_table = table.get("scoring", {})
    defaults = ScoringSettings()
    rules = scoring_table.get("rules")
    scoring = ScoringSettings(
        qualify_at=int(scoring_table.get("qualify_at", defaults.qualify_at)),
        rules=defaults.rules
        if rules is None
        else tuple(ScoringRule.from_setting(r) for r in rules),
        learned_weight=float(scoring_table.get("learned_weight", defaults.learned_weight)),
    )
    return SalesSettings(
        default_currency=default_currency,
        default_pipeline=default_pipeline,
        commit_at=commit_at,
        best_case_at=best_case_at,
        pipelines=pipelines,
        rates=rates,
        scoring=scoring,
    )


def sales_settings(crm: CRM) -> SalesSettings:
    """The sales settings of ``crm`` (read from its ``[plugins.sales]`` table on every call)."""
    return parse_settings(crm.settings.plugin(PLUGIN))
