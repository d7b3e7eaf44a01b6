"""Settings: the defaults, pipelines and rates from crmkit.toml, and refused tables."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from crmkit_sales.money import Money
from crmkit_sales.settings import ScoringRule, sales_settings

import crmkit
from crmkit.crm import CRM
from crmkit.errors import ConfigError, ValidationError


def test_defaults_without_a_sales_table(sqlite_crm: CRM) -> None:
    settings = sales_settings(sqlite_crm)
    assert settings.default_currency == "EUR"
    assert (settings.commit_at, settings.best_case_at) == (70, 40)
    assert settings.rates is None
    pipeline = settings.pipeline(None)
    assert pipeline.name == "default" and list(settings.pipelines) == ["default"]
    assert pipeline.open_stages == ("lead", "prospect", "opportunity", "quote", "negotiation")
    assert [s.probability for s in pipeline.stages] == [10, 20, 40, 60, 80]
    assert pipeline.stage("won").probability == 100
    assert pipeline.stage("lost").probability == 0
    assert [pipeline.index(s) for s in ("lead", "negotiation", "won", "lost")] == [0, 4, 5, 6]
    assert [pipeline.category(s) for s in ("prospect", "opportunity", "negotiation", "won")] == [
        "pipeline",
        "best_case",
        "commit",
        "closed",
    ]
    scoring = settings.scoring
    assert scoring.qualify_at == 50 and scoring.learned_weight == 0.5
    assert scoring.rules[0] == ScoringRule(points=20, field="source", equals="referral")
    assert scoring.rules[2].kind == "activity" and scoring.rules[2].max == 20


def test_unknown_pipeline_and_stage_name_the_choices(sqlite_crm: CRM) -> None:
    settings = sales_settings(sqlite_crm)
    with pytest.raises(ValidationError, match="'enterprise' is not a pipeline; use one of default"):
        settings.pipeline("enterprise")
    with pytest.raises(ValidationError) as caught:
        settings.pipeline().stage("closing")
    assert (caught.value.entity, caught.value.field) == ("sales.deal", "stage")
    assert "use one of lead, prospect, opportunity, quote, negotiation, won, lost" in str(
        caught.value
    )


PROJECT_SETTINGS = """
[plugins.sales]
default_currency = "USD"
default_pipeline = "enterprise"
commit_at = 75
best_case_at = 50

[plugins.sales.pipelines.enterprise]
stages = [{name = "discovery", probability = 10}, {name = "proposal", probability = 50},
          {name = "legal", probability = 90}]

[plugins.sales.pipelines.renewal]
stages = [{name = "due", probability = 60}, {name = "signed", probability = 95}]

[plugins.sales.rates]
base = "USD"
EUR = "1.08"

[plugins.sales.scoring]
qualify_at = 30
learned_weight = 0
rules = [{field = "source", in = ["referral", "partner"], points = 25},
         {activity = "task", within_days = 7, points = 3}]
"""


def test_custom_pipelines_rates_and_scoring_from_crmkit_toml(sales_project: Any) -> None:
    config = Path(sales_project.path) / "crmkit.toml"
    config.write_text(config.read_text() + PROJECT_SETTINGS)
    with crmkit.open(sales_project.path, strict=True) as crm:
        settings = sales_settings(crm)
    assert settings.default_currency == "USD"
    assert list(settings.pipelines) == ["enterprise", "renewal"]
    enterprise = settings.pipeline()
    assert enterprise.name == "enterprise"
    assert enterprise.open_stages == ("discovery", "proposal", "legal")
    assert [enterprise.category(s) for s in enterprise.open_stages] == [
        "pipeline",
        "best_case",
        "commit",
    ]
    assert settings.pipeline("renewal").stage("signed").probability == 95
    with pytest.raises(ValidationError, match="not a stage of pipeline 'enterprise'"):
        enterprise.stage("lead")
    assert settings.rates is not None
    assert settings.rates.rates == {"EUR": Decimal("1.08")}
    assert settings.rates.convert(Money(Decimal("100.00"), "EUR"), "USD") == Money(
        Decimal("108.00"), "USD"
    )
    assert settings.scoring.qualify_at == 30 and settings.scoring.learned_weight == 0
    assert settings.scoring.rules == (
        ScoringRule(points=25, field="source", one_of=("referral", "partner")),
        ScoringRule(points=3, activity="task", within_days=7),
    )


@pytest.mark.parametrize(
    ("table", "where"),
    [
        ({"default_currency": "euro"}, "default_currency"),
        ({"commit_at": 120}, "commit_at"),
        ({"colour": "red"}, "(table)"),
        (
            {"pipelines": {"default": {"stages": [{"name": "won", "probability": 100}]}}},
            "pipelines.default.stages.0.name",
        ),
        ({"pipelines": {"default": {"stages": [{"name": "lead"}]}}}, "pipelines.default.stages.0"),
        ({"rates": {"base": "EUR", "USD": 0.92}}, "rates.USD"),
        ({"scoring": {"learned_weight": 2}}, "scoring.learned_weight"),
    ],
)
def test_a_bad_table_stops_the_crm_from_opening(
    tmp_path: Path, table: dict[str, Any], where: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        crmkit.open(
            f"sqlite:///{tmp_path / 'crm.db'}",
            plugins=["sales"],
            strict=True,
            plugin_settings={"sales": table},
        )
    assert f"[plugins.sales] {where}:" in str(caught.value)


@pytest.mark.parametrize(
    ("table", "words"),
    [
        ({"default_pipeline": "enterprise"}, "default_pipeline: 'enterprise' is not a pipeline"),
        ({"commit_at": 30, "best_case_at": 60}, "best_case_at: 60 is above commit_at (30)"),
        (
            {
                "pipelines": {
                    "p": {
                        "stages": [{"name": "a", "probability": 1}, {"name": "a", "probability": 2}]
                    }
                }
            },
            "pipelines.p.stages: stage 'a' is listed twice",
        ),
    ],
)
def test_settings_a_schema_cannot_check_stop_the_crm_from_opening(
    tmp_path: Path, table: dict[str, Any], words: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        crmkit.open(
            f"sqlite:///{tmp_path / 'crm.db'}", plugins=["sales"], plugin_settings={"sales": table}
        )
    assert f"crmkit.toml [plugins.sales] {words}" in str(caught.value)


def test_settings_are_read_again_for_each_crm(crm_factory: Any) -> None:
    euros = crm_factory(["sales"])
    yen = crm_factory(["sales"], plugin_settings={"sales": {"default_currency": "JPY"}})
    assert sales_settings(yen).default_currency == "JPY"
    assert sales_settings(euros).default_currency == "EUR"
