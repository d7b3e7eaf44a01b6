"""Throwaway installed plugins for tests: real distributions with real entry points.

A :class:`PluginSite` is a folder put on ``sys.path`` in which :meth:`PluginSite.install`
writes what pip leaves behind for a plugin: a ``<name>-<version>.dist-info``
folder (``METADATA`` with the crmkit requirement, ``entry_points.txt`` with the
``crmkit.plugins`` entry) and the plugin module itself. ``importlib.metadata``
then finds the plugin exactly as it finds an installed one, so tests exercise
the real discovery, version check and import path::

    @pytest.fixture
    def site(tmp_path, monkeypatch):
        with PluginSite(tmp_path / "site", monkeypatch) as site:
            yield site

    def test_loyalty_loads(site):
        site.install("loyalty", "def crmkit_register_entity_types(): ...")
"""

from __future__ import annotations

import importlib
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType, TracebackType

import pytest

from crmkit.plugins import ENTRY_POINT_GROUP

COMPATIBLE = ("crmkit>=0.1,<0.2",)


class PluginSite:
    """A folder of fake installed distributions, on ``sys.path`` for one test."""

    def __init__(self, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.root = root
        self._modules: list[str] = []
        self.names: list[str] = []
        # Also invalidates the import and metadata caches.
        monkeypatch.syspath_prepend(str(root))

    def install(
        self,
        name: str,
        source: str,
        *,
        version: str = "0.1.0",
        requires: Sequence[str] = COMPATIBLE,
        distribution: str | None = None,
        module: str | None = None,
    ) -> str:
        """Install plugin ``name`` whose module holds ``source``; return the module name.

        The distribution defaults to ``crmkit-<name>`` and the module to
        ``crmkit_<name>``; ``requires`` become ``Requires-Dist`` lines.
        """
        module = module or f"crmkit_{name.replace('-', '_')}"
        distribution = distribution or f"crmkit-{name}"
        (self.root / f"{module}.py").write_text(textwrap.dedent(source), encoding="utf-8")
        info = self.root / f"{distribution.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        metadata = [
            "Metadata-Version: 2.1",
            f"Name: {distribution}",
            f"Version: {version}",
            *(f"Requires-Dist: {req}" for req in requires),
        ]
        (info / "METADATA").write_text("\n".join(metadata) + "\n", encoding="utf-8")
        (info / "entry_points.txt").write_text(
            f"[{ENTRY_POINT_GROUP}]\n{name} = {module}\n", encoding="utf-8"
        )
        self._modules.append(module)
        self.names.append(name)
        sys.modules.pop(module, None)
        importlib.invalidate_caches()
        return module

    def module(self, name: str) -> ModuleType:
        """The imported module of an installed plugin (after a CRM loaded it)."""
        return sys.modules[name]

    def imported(self, name: str) -> bool:
        return name in sys.modules

    def close(self) -> None:
        """Forget the plugin modules so the next test imports its own."""
        for module in self._modules:
            sys.modules.pop(module, None)
        importlib.invalidate_caches()

    def __enter__(self) -> PluginSite:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
