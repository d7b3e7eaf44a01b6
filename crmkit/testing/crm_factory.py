"""Open throwaway CRMs with exactly the plugins a test names, and close them all after."""

from __future__ import annotations

import os
from collections.abc import Sequence
from contextlib import AbstractContextManager, ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any

import crmkit

if TYPE_CHECKING:
    from crmkit.crm import CRM

POSTGRES_ENV = "CRMKIT_TEST_POSTGRES_URL"


class CrmFactory:
    """``factory(plugins, url=None, **open_kwargs)`` opens a CRM; :meth:`close` closes them all.

    ``url`` is ``None`` for ``memory://``, ``"sqlite"`` for a new SQLite file,
    ``"postgresql"`` for a fresh schema on ``$CRMKIT_TEST_POSTGRES_URL`` (the
    test is skipped without it), or any database URL. Plugins load in strict
    mode unless ``strict=False`` is passed, so a broken plugin fails the test.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.opened: list[CRM] = []
        self._stack = ExitStack()

    def __call__(
        self, plugins: Sequence[str] = (), *, url: str | None = None, **open_kwargs: Any
    ) -> CRM:
        open_kwargs.setdefault("strict", True)
        crm = crmkit.open(self._url(url), plugins=list(plugins), **open_kwargs)
        self.opened.append(crm)
        return crm

    def _url(self, url: str | None) -> str:
        if url is None or url == "memory":
            return "memory://"
        if url == "sqlite":
            return f"sqlite:///{self.folder / f'crm-{len(self.opened) + 1}.db'}"
        if url in ("postgresql", "postgres"):
            return self._stack.enter_context(_postgres_schema())
        return url

    def close(self) -> None:
        """Close every CRM this factory opened (newest first), then drop its schemas."""
        try:
            while self.opened:
                self.opened.pop().close()
        finally:
            self._stack.close()


def _postgres_schema() -> AbstractContextManager[str]:
    import pytest

    from crmkit.testing.postgres import temporary_schema

    base = os.environ.get(POSTGRES_ENV)
    if not base:
        pytest.skip(f"set {POSTGRES_ENV} to open a CRM on PostgreSQL")
    return temporary_schema(base)
