"""The privacy check: every field of every loaded entity type must say what it is.

Export, erasure, masking and retention all work from the declarations, so a
field without a privacy class or erasure strategy is a field they would get
wrong. ``crmkit privacy check`` (and ``crm.privacy.check()``, for a plugin's
tests) names each such field with the fix.
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs

from crmkit.entities.types import EntityType, FieldInfo

PERSONAL = ("personal", "sensitive")


@attrs.frozen
class PrivacyProblem:
    """One field whose privacy declaration is missing or incomplete."""

    entity: str
    field: str
    problem: str
    fix: str
    plugin: str = ""

    def __str__(self) -> str:
        owner = f" ({self.plugin})" if self.plugin else ""
        return f"{self.entity}.{self.field}{owner}: {self.problem}; {self.fix}"


def _field_problems(etype: EntityType, info: FieldInfo) -> list[PrivacyProblem]:
    spec = info.spec

    def problem(text: str, fix: str) -> PrivacyProblem:
        return PrivacyProblem(etype.name, info.name, text, fix, etype.plugin)

    found = []
    if spec.privacy is None:
        found.append(
            problem(
                "no privacy class",
                'declare privacy="none", "personal" or "sensitive" in crmkit.field(...)',
            )
        )
    if spec.erase is None:
        found.append(
            problem(
                "no erasure strategy",
                'declare erase="delete", "anonymise" or "keep" in crmkit.field(...)',
            )
        )
    elif spec.erase == "keep" and spec.privacy in PERSONAL and not spec.hold.strip():
        found.append(
            problem(
                f"a {spec.privacy} value kept on erasure without a reason",
                'say why with hold="..." (for example a legal retention duty), '
                'or declare erase="anonymise"',
            )
        )
    return found


def _unlinked(etype: EntityType) -> PrivacyProblem | None:
    """A type holding personal values that no field links to a person: erasure misses it."""
    if etype.name == "contact" or any(f.spec.ref == "contact" for f in etype.fields):
        return None
    personal = [f.name for f in etype.fields if f.spec.privacy in PERSONAL]
    if not personal:
        return None
    return PrivacyProblem(
        etype.name,
        personal[0],
        "personal values in an entity type with no field linking it to a contact, "
        "so export and erasure cannot find whose they are",
        'add a field declared ref="contact", or declare the values privacy="none"',
        etype.plugin,
    )


def check_entity_types(entity_types: Iterable[EntityType]) -> list[PrivacyProblem]:
    """The privacy declaration problems of these entity types, by type and field name."""
    problems: list[PrivacyProblem] = []
    for etype in sorted(entity_types, key=lambda e: e.name):
        for info in etype.fields:
            problems.extend(_field_problems(etype, info))
        unlinked = _unlinked(etype)
        if unlinked is not None:
            problems.append(unlinked)
    return problems
