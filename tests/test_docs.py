"""The documentation and examples are run, so they cannot drift from the code.

Markers used in the Markdown pages:

- ``<!-- test: run -->`` on the line before a ```` ```python ```` or
  ```` ```console ```` block: the block runs. Blocks of one page run in order in
  one temporary folder and share one namespace. In console blocks, lines
  starting with ``$ crmkit`` are run through ``crmkit.cli.main`` (``$ cd DIR``
  changes folder); the lines below a command are its expected output, compared
  line by line with ids and times masked and spaces collapsed (``...`` skips
  lines). A command whose expected output starts with ``Error:`` must fail; one
  with a comment ``# exits N`` must exit with code N; all others must exit 0.
- ``<!-- test: run -->`` before a block of another language with a title
  (```` ```csv title="people.csv" ````): the file is written to the folder.
- ```` ```python title="path" ```` (or ``toml``) in the plugin how-to: the
  blocks with one title, joined, are the file ``examples/loyalty_plugin/path``.

In expected output, ``/home/you`` stands for the temporary folder the page runs in.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import re
import shlex
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import crmkit
from crmkit.plugins import hookspecs

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
EXAMPLES = ROOT / "examples"
PLUGIN_DIR = EXAMPLES / "loyalty_plugin"
RUN_MARKER = "<!-- test: run -->"
RUNNABLE_PAGES = sorted(
    [*DOCS.glob("tutorial/*.md"), *DOCS.glob("howto/*.md"), ROOT / "README.md"]
)
# Each built-in plugin's README runs when that plugin is installed (the quick start
# installs them all).
PLUGIN_PAGES = sorted(ROOT.glob("plugins/*/README.md"))
# Pages whose examples need the loyalty plugin installed.
NEEDS_LOYALTY = {"write-a-plugin.md"}
ENV_VARS = (
    "CRMKIT_PROJECT",
    "CRMKIT_DATABASE_URL",
    "CRMKIT_LOAD_PLUGINS",
    "CRMKIT_DISABLE_PLUGINS",
    "CRMKIT_DEBUG",
)


# -- Reading Markdown ---------------------------------------------------------


@dataclass
class Block:
    """One fenced code block of a Markdown page."""

    page: Path
    line: int
    lang: str
    title: str | None
    body: str
    runnable: bool

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


FENCE = re.compile(r"^(?P<fence>`{3,})(?P<lang>[\w-]*)(?P<rest>.*)$")
TITLE = re.compile(r'title="(?P<title>[^"]+)"')


def blocks(page: Path) -> list[Block]:
    lines = page.read_text(encoding="utf-8").splitlines()
    out: list[Block] = []
    index = 0
    while index < len(lines):
        match = FENCE.match(lines[index])
        if match is None:
            index += 1
            continue
        start = index
        end = start + 1
        while end < len(lines) and lines[end].strip() != match["fence"]:
            end += 1
        title = TITLE.search(match["rest"])
        out.append(
            Block(
                page=page,
                line=start + 1,
                lang=match["lang"],
                title=title["title"] if title else None,
                body="\n".join(lines[start + 1 : end]) + "\n",
                runnable=start > 0 and lines[start - 1].strip() == RUN_MARKER,
            )
        )
        index = end + 1
    return out


def load_script(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# -- The loyalty plugin, discoverable without installing it -------------------


def write_dist_info(site: Path) -> None:
    """Write crmkit_loyalty-<version>.dist-info from the example's pyproject.toml."""
    project = tomllib.loads((PLUGIN_DIR / "pyproject.toml").read_text("utf-8"))["project"]
    dist = site / f"{project['name'].replace('-', '_')}-{project['version']}.dist-info"
    dist.mkdir(parents=True)
    metadata = [
        "Metadata-Version: 2.1",
        f"Name: {project['name']}",
        f"Version: {project['version']}",
        *(f"Requires-Dist: {req}" for req in project["dependencies"]),
    ]
    (dist / "METADATA").write_text("\n".join(metadata) + "\n", encoding="utf-8")
    lines = []
    for group, points in project["entry-points"].items():
        lines.append(f"[{group}]")
        lines += [f"{name} = {target}" for name, target in points.items()]
    (dist / "entry_points.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def loyalty_installed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clean_env: None
) -> Iterator[Path]:
    """The example plugin on sys.path and registered as the distribution crmkit-loyalty."""
    site = tmp_path / "site"
    write_dist_info(site)
    monkeypatch.syspath_prepend(str(PLUGIN_DIR))
    monkeypatch.syspath_prepend(str(site))
    yield site
    for name in [m for m in sys.modules if m.split(".")[0] == "crmkit_loyalty"]:
        del sys.modules[name]


# -- Running pages --------------------------------------------------------------

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
TIME = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?")


HOME = "/home/you"
EXITS = re.compile(r"#.*\bexits (?P<code>\d+)")


def normalise(text: str, home: str = HOME) -> str:
    text = text.replace(home, HOME)
    return " ".join(TIME.sub("<time>", UUID.sub("<id>", text)).split())


def expected_lines(lines: list[str]) -> list[str]:
    wanted = []
    for line in lines:
        text = normalise(line)
        if not text or text == "..." or set(text) <= {"-", " "}:
            continue
        wanted.append(text)
    return wanted


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    from crmkit.cli import main

    capsys.readouterr()
    try:
        main(argv)
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def run_console(
    block: Block, home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    commands: list[tuple[str, list[str]]] = []
    for line in block.body.splitlines():
        if line.startswith("$ "):
            commands.append((line[2:], []))
        elif commands:
            commands[-1][1].append(line)
        elif line.strip():
            raise AssertionError(f"{block.where}: output before the first '$ ' command")
    for command, output in commands:
        argv = shlex.split(command, comments=True)
        if argv[0] == "cd":
            monkeypatch.chdir(argv[1])
            continue
        assert argv[0] == "crmkit", f"{block.where}: only crmkit commands can run: {command}"
        code, actual = run_cli(argv[1:], capsys)
        wanted = expected_lines(output)
        exits = EXITS.search(command)
        if exits is not None:
            ok = code == int(exits["code"])
        elif wanted and wanted[0].startswith("Error:"):
            ok = code != 0
        else:
            ok = code == 0
        assert ok, f"{block.where}: '{command}' exited {code}:\n{actual}"
        got = [normalise(line, str(home.resolve())) for line in actual.splitlines()]
        for text in wanted:
            assert any(text in line for line in got), (
                f"{block.where}: '{command}' did not print {text!r}; it printed:\n{actual}"
            )


def run_page(
    page: Path, home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> int:
    namespace: dict[str, Any] = {"__name__": "__main__"}
    ran = 0
    for block in blocks(page):
        if not block.runnable:
            continue
        ran += 1
        if block.lang == "python":
            code = compile(block.body, block.where, "exec")
            exec(code, namespace)
        elif block.lang == "console":
            run_console(block, home, capsys, monkeypatch)
        elif block.title is not None:
            Path(block.title).write_text(block.body, encoding="utf-8")
        else:
            raise AssertionError(f"{block.where}: cannot run a {block.lang!r} block")
    return ran


@pytest.mark.parametrize("page", RUNNABLE_PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_page_examples_run(
    page: Path,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    clean_env: None,
) -> None:
    if page.name in NEEDS_LOYALTY:
        request.getfixturevalue("loyalty_installed")
    work = tmp_path / "you"
    work.mkdir()
    monkeypatch.chdir(work)
    logging.getLogger("crmkit_loyalty").setLevel(logging.WARNING)
    ran = run_page(page, work, capsys, monkeypatch)
    if "tutorial" in page.parts or page.name in NEEDS_LOYALTY:
        assert ran > 0, f"{page}: no block is marked {RUN_MARKER}"


@pytest.mark.parametrize("page", PLUGIN_PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_plugin_readme_examples_run(
    page: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    clean_env: None,
) -> None:
    pytest.importorskip(f"crmkit_{page.parent.name}", reason="the plugin is not installed")
    work = tmp_path / "you"
    work.mkdir()
    monkeypatch.chdir(work)
    assert run_page(page, work, capsys, monkeypatch) > 0, f"{page}: nothing marked {RUN_MARKER}"


def test_tutorial_has_runnable_cli_transcripts() -> None:
    (page,) = DOCS.glob("tutorial/first-crm.md")
    console = [b for b in blocks(page) if b.lang == "console" and b.runnable]
    commands = {line.split()[2] for b in console for line in b.body.splitlines()
                if line.startswith("$ crmkit ")}
    assert {"init", "contacts", "orgs", "log", "view", "import", "export"} <= commands


# -- (a) examples/embedding.py ------------------------------------------------------


def test_embedding_example_runs(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ENV_VARS}
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "embedding.py")],
        capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Added Ada Lovelace <ada@example.com> phone +442079460018" in out
    assert "Refused: contact" in out and "'loyalty_tier'" in out
    assert "Bulk-added 100 contacts; 102 contacts in all" in out
    assert "Events heard: contact.created, contact.imported, contact.linked" in out
    assert "Single customer view of Ada Lovelace" in out
    assert "member  Analytical Engines Ltd as CTO" in out
    assert re.search(r"phone\s+call\s+Walked through the quote", out)
    assert list(tmp_path.iterdir()) == [], "the example must leave nothing behind"


# -- (b) the loyalty plugin ----------------------------------------------------------


def test_loyalty_plugin_in_a_crm(
    sql_url: str, loyalty_installed: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from packaging.specifiers import SpecifierSet

    settings = {"loyalty": {"points_per_purchase": 60}}
    with crmkit.open(sql_url, plugins=["loyalty"], strict=True, plugin_settings=settings) as crm:
        (info,) = [p for p in crm.plugins if p.name == "loyalty"]
        assert (info.status, info.distribution, info.version) == (
            "loaded", "crmkit-loyalty", "0.1.0"
        )
        assert SpecifierSet(info.requires_crmkit or "") == SpecifierSet(">=0.1,<0.2")
        etype = crm.entity_type("loyalty.account")
        assert (etype.plugin, etype.field("contact_id").spec.privacy) == ("loyalty", "personal")

        ada = crm.contacts.add(first_name="Ada", email="ada@example.com")
        caplog.set_level(logging.INFO, logger="crmkit_loyalty")
        crm.interactions.log(ada.id, channel="web", kind="purchase", summary="Order 1")
        crm.interactions.log(ada.id, channel="web", kind="purchase", summary="Order 2")
        crm.interactions.log(ada.id, channel="email", kind="inquiry")

        awarded = crm.events.read(names=["loyalty.points_awarded"])
        assert [e.payload["balance"] for e in awarded] == [60, 120]
        assert {e.subject_id for e in awarded} == {ada.id}
        assert f"contact {ada.id} reached the silver tier" in caplog.text
        assert crm.events.failures() == []

        (section,) = crm.view("ada@example.com").sections
        assert (section.title, section.plugin) == ("Loyalty", "loyalty")
        assert section.data == {"points": 120, "tier": "silver"}

        from crmkit_loyalty import award

        assert award(crm, ada.id, 400, reason="anniversary").tier == "gold"


def test_loyalty_migration_branch(sql_url: str, loyalty_installed: Path) -> None:
    import sqlalchemy as sa

    from crmkit.migrations.runner import describe, downgrade, upgrade

    with crmkit.open(sql_url, plugins=["loyalty"], strict=True) as crm:
        backend: Any = crm.backend
        etype = crm.entity_type("loyalty.account")
        with backend.connect() as conn:
            status = {s["branch"]: s for s in describe(conn, crm.migrations)}
            assert status["loyalty"]["current"] == "loyalty_0001"
            assert all(s["up_to_date"] for s in status.values())
            columns = {c["name"] for c in sa.inspect(conn).get_columns("loyalty_account")}
            assert columns == set(etype.field_names)

            downgrade(conn, crm.migrations, "loyalty@base")
            conn.commit()
            assert "loyalty_account" not in sa.inspect(conn).get_table_names()
            status = {s["branch"]: s for s in describe(conn, crm.migrations)}
            assert (status["loyalty"]["current"], status["crmkit"]["up_to_date"]) == (None, True)

            upgrade(conn, crm.migrations)
            conn.commit()
            assert "loyalty_account" in sa.inspect(conn).get_table_names()


def test_loyalty_cli_group(
    sql_url: str, loyalty_installed: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shop = str(tmp_path / "shop")
    code, out = run_cli(["init", shop, "--database", sql_url, "--plugin", "loyalty"], capsys)
    assert code == 0, out
    base = ["--project", shop]
    steps = [
        (["plugins", "list"], "loyalty"),
        (["contacts", "add", "--first-name", "Ada", "--email", "ada@example.com"], "Ada"),
        (["log", "ada@example.com", "--channel", "web", "--kind", "purchase"], ""),
        (["loyalty", "award", "ada@example.com", "500", "--reason", "launch"],
         "ada@example.com: 510 points, tier gold"),
        (["loyalty", "show", "ada@example.com", "--json"], '"points": 510'),
        (["view", "ada@example.com"], "Loyalty"),
    ]
    for argv, expected in steps:
        code, out = run_cli([*base, *argv], capsys)
        assert code == 0, f"crmkit {' '.join(argv)}: {out}"
        assert expected in out, f"crmkit {' '.join(argv)}: {out}"
    code, out = run_cli([*base, "loyalty", "award", "nobody@example.com", "5"], capsys)
    assert (code, out.startswith("Error: contact 'nobody@example.com' not found")) == (3, True)


def test_loyalty_plugin_own_tests_pass(tmp_path: Path) -> None:
    site = tmp_path / "site"
    write_dist_info(site)
    env = {k: v for k, v in os.environ.items() if k not in ENV_VARS}
    env["PYTHONPATH"] = os.pathsep.join([str(site), str(PLUGIN_DIR)])
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(PLUGIN_DIR)],
        capture_output=True, text=True, cwd=PLUGIN_DIR, env=env, timeout=300, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    from crmkit.testing.conformance import check_names

    assert f"{5 + len(check_names())} passed" in result.stdout


def normalised_code(text: str) -> str:
    lines = [line.rstrip() for line in text.strip("\n").splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines))


def test_plugin_howto_shows_the_example_files() -> None:
    page = DOCS / "howto" / "write-a-plugin.md"
    shown: dict[str, list[str]] = {}
    for block in blocks(page):
        if block.title is not None:
            shown.setdefault(block.title, []).append(block.body)
    assert {
        "pyproject.toml",
        "crmkit_loyalty/__init__.py",
        "crmkit_loyalty/migrations/loyalty_0001_accounts.py",
        "tests/test_loyalty.py",
    } <= set(shown)
    for title, parts in shown.items():
        source = PLUGIN_DIR / title
        assert source.is_file(), f"{page.name} shows {title}, which examples/loyalty_plugin lacks"
        joined = "\n\n".join(normalised_code(p) for p in parts)
        assert joined == normalised_code(source.read_text("utf-8")), (
            f"{page.name}: the blocks titled {title} differ from {source.relative_to(ROOT)}"
        )


# -- (c) generated references ------------------------------------------------------


def test_hooks_reference_is_generated_and_fresh() -> None:
    generator = load_script(DOCS / "gen_hooks.py")
    committed = (DOCS / "reference" / "hooks.md").read_text(encoding="utf-8")
    assert committed == generator.render(), "run: python docs/gen_hooks.py"


def test_every_hook_is_documented_with_its_signature() -> None:
    generator = load_script(DOCS / "gen_hooks.py")
    committed = (DOCS / "reference" / "hooks.md").read_text(encoding="utf-8")
    functions = generator.hook_functions(hookspecs)
    assert functions, "no hook specifications found"
    for func in functions:
        assert f"\n### {func.__name__}\n" in committed, f"{func.__name__} is not documented"
        assert f"def {generator.signature(func)}" in committed, f"{func.__name__}: signature"


def test_cli_reference_is_generated_and_fresh() -> None:
    generator = load_script(DOCS / "gen_cli.py")
    committed = (DOCS / "reference" / "cli.md").read_text(encoding="utf-8")
    assert committed == generator.render(), "run: python docs/gen_cli.py"


def test_every_core_command_is_in_the_cli_reference() -> None:
    from crmkit.cli import CORE_COMMANDS

    committed = (DOCS / "reference" / "cli.md").read_text(encoding="utf-8")
    for name in CORE_COMMANDS:
        assert f"\n## crmkit {name}\n" in committed, f"crmkit {name} is not documented"


# -- The map and the links ---------------------------------------------------------

LINK = re.compile(r"\]\((?P<target>[^)\s]+)\)")


def test_docs_index_lists_every_page() -> None:
    index = (DOCS / "index.md").read_text(encoding="utf-8")
    for page in DOCS.rglob("*.md"):
        if page.name != "index.md":
            assert f"({page.relative_to(DOCS).as_posix()})" in index, f"index misses {page}"


def test_relative_links_resolve() -> None:
    pages = [*DOCS.rglob("*.md"), ROOT / "README.md", ROOT / "CHANGELOG.md",
             PLUGIN_DIR / "README.md"]
    for page in pages:
        for match in LINK.finditer(page.read_text(encoding="utf-8")):
            target = match["target"].split("#")[0]
            if not target or "://" in target or target.startswith("mailto:"):
                continue
            assert (page.parent / target).exists(), f"{page.relative_to(ROOT)}: broken {target}"


def test_readme_quick_start_is_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    quick = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    (block,) = [b.body for b in blocks(ROOT / "README.md") if b.body.strip() in quick]
    assert block.strip().splitlines() == [
        "python3 -m venv .venv && .venv/bin/pip install -e '.[test]' -e ./plugins/sales "
        "-e ./plugins/service -e ./plugins/campaign && .venv/bin/crmkit demo demo-crm",
        ".venv/bin/python -m pytest",
    ]


# -- Hand-written references ----------------------------------------------------------


def test_python_api_reference_names_every_public_member() -> None:
    from crmkit.contacts import Contacts
    from crmkit.crm import CRM
    from crmkit.events.facade import Events
    from crmkit.interactions import Interactions
    from crmkit.organizations import Organizations
    from crmkit.privacy.consent import ConsentLedger
    from crmkit.privacy.facade import Privacy
    from crmkit.uow import UnitOfWork

    text = (DOCS / "reference" / "python-api.md").read_text(encoding="utf-8")
    fenced = re.compile(r"^```.*?^```", re.M | re.S)
    code = " ".join(re.findall(r"`([^`\n]+)`", fenced.sub("", text)) + fenced.findall(text))
    services = (Contacts, Organizations, Interactions, Events, UnitOfWork)
    for cls in (CRM, *services, Privacy, ConsentLedger):
        for name in vars(cls):
            if not name.startswith("_"):
                assert re.search(rf"\b{name}\b", code), f"{cls.__name__}.{name} is not documented"
    for name in crmkit.__all__:
        assert f"crmkit.{name}" in text, f"crmkit.{name} is not documented"


def test_configuration_example_opens(tmp_path: Path, loyalty_installed: Path) -> None:
    from crmkit.errors import ValidationError

    page = DOCS / "reference" / "configuration.md"
    (example,) = [b for b in blocks(page) if b.title == "crmkit.toml"]
    project = tmp_path / "acme"
    project.mkdir()
    (project / "crmkit.toml").write_text(example.body, encoding="utf-8")
    with crmkit.open(project) as crm:
        assert [p.name for p in crm.plugins if p.status == "loaded"] == ["loyalty"]
        assert crm.settings.plugin("loyalty")["points_per_purchase"] == 25
        ada = crm.contacts.add(first_name="Ada", phone="020 7946 0018",
                               custom={"customer_number": "C000001", "loyalty_tier": "gold"})
        assert ada.phone == "+442079460018"
        with pytest.raises(ValidationError, match="customer_number"):
            crm.contacts.add(first_name="Bob", custom={"customer_number": "42"})
        org = crm.organizations.add(name="Acme", custom={"account_manager": "alice"})
        assert org.custom == {"account_manager": "alice"}
        marketer = crm.privacy.actor("mo")
        assert marketer.allows("contact") and not marketer.allows("export")
        assert crm.privacy.actor("someone").role_names == ("agent",)
        assert crm.privacy.settings.retention == {"interaction": 3 * 365, "marketing": 2 * 365}
