"""Run the ``crmkit`` command in-process in one project folder, as a user would type it."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import attrs
from click.testing import CliRunner as ClickRunner

from crmkit.project import PROJECT_ENV


@attrs.frozen
class CliResult:
    """What one ``crmkit`` command did: its exit code and what it printed."""

    args: tuple[str, ...]
    exit_code: int
    stdout: str
    stderr: str
    output: str
    """stdout and stderr together, in the order they were written."""

    def json(self) -> Any:
        """stdout parsed as JSON (for commands run with ``--json``)."""
        try:
            return json.loads(self.stdout)
        except json.JSONDecodeError as exc:
            raise AssertionError(
                f"crmkit {' '.join(self.args)} did not print JSON ({exc}); it printed:\n"
                f"{self.output}"
            ) from None

    def __str__(self) -> str:
        return f"crmkit {' '.join(self.args)} exited {self.exit_code}:\n{self.output}"


class CliRunner:
    """Calls :func:`crmkit.cli.main` with ``CRMKIT_PROJECT`` set to :attr:`project`.

    ``runner("contacts", "add", "--first-name", "Ada")`` returns a
    :class:`CliResult`; crmkit's errors become exit codes exactly as in a
    shell (3 not found, 4 invalid, 5 config, 7 denied). ``input`` is typed
    on stdin; ``env`` adds environment variables for that one command.
    """

    def __init__(self, project: Path) -> None:
        self.project = project

    def __call__(
        self,
        *args: str | os.PathLike[str],
        input: str | None = None,
        env: dict[str, str] | None = None,
    ) -> CliResult:
        from crmkit.cli import main

        argv = [os.fspath(a) for a in args]
        code = 0
        with ClickRunner().isolation(
            input=input, env={PROJECT_ENV: str(self.project), **(env or {})}
        ) as streams:
            try:
                main(argv)
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        stdout = streams[0].getvalue().decode()
        err_stream = streams[1] if len(streams) > 1 else None
        stderr = err_stream.getvalue().decode() if err_stream is not None else ""
        output = streams[2].getvalue().decode() if len(streams) > 2 else stdout + stderr
        return CliResult(tuple(argv), code, stdout, stderr, output)
