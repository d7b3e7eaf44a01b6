"""Field declarations for entity types.

``crmkit.field`` wraps :func:`attrs.field` and records, in the field's metadata,
what crmkit needs to store, index, protect and erase the value: its privacy
class, its erasure strategy, whether it is indexed or unique, and which entity
it refers to.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import attrs

Privacy = Literal["none", "personal", "sensitive"]
Erasure = Literal["delete", "anonymise", "keep"]

PRIVACY_CLASSES: tuple[str, ...] = ("none", "personal", "sensitive")
ERASURE_STRATEGIES: tuple[str, ...] = ("delete", "anonymise", "keep")
METADATA_KEY = "crmkit"


@attrs.frozen
class FieldSpec:
    """What crmkit knows about one field beyond its Python type.

    ``privacy`` is ``None`` when the author did not declare it (``crmkit
    privacy check`` reports such fields); ``erase`` likewise. ``hold`` is why a
    personal value survives erasure (``erase="keep"``).
    """

    privacy: Privacy | None = None
    erase: Erasure | None = None
    indexed: bool = False
    unique: bool = False
    ref: str | None = None
    doc: str = ""
    hold: str = ""


def field(
    *,
    default: Any = attrs.NOTHING,
    factory: Callable[[], Any] | None = None,
    privacy: Privacy | None = None,
    erase: Erasure | None = None,
    indexed: bool = False,
    unique: bool = False,
    ref: str | None = None,
    doc: str = "",
    hold: str = "",
    converter: Callable[[Any], Any] | None = None,
) -> Any:
    """Declare an entity field: an :func:`attrs.field` carrying crmkit metadata.

    ``privacy`` is one of ``none``, ``personal`` or ``sensitive``; ``erase``
    says what erasure of a person does to the value (``delete`` the record,
    ``anonymise`` the value, ``keep`` it under legal hold). ``ref`` names the
    entity type an id field points to (``ref="contact"``); such fields are
    indexed. ``hold`` is the reason a personal value is kept when its person is
    erased (``erase="keep"``), for example a legal retention duty; ``crmkit
    privacy check`` asks for one.
    """
    if privacy is not None and privacy not in PRIVACY_CLASSES:
        raise ValueError(f"privacy must be one of {PRIVACY_CLASSES}, not {privacy!r}")
    if erase is not None and erase not in ERASURE_STRATEGIES:
        raise ValueError(f"erase must be one of {ERASURE_STRATEGIES}, not {erase!r}")
    spec = FieldSpec(
        privacy=privacy,
        erase=erase,
        indexed=indexed or unique or ref is not None,
        unique=unique,
        ref=ref,
        doc=doc,
        hold=hold,
    )
    kwargs: dict[str, Any] = {"metadata": {METADATA_KEY: spec}}
    if factory is not None:
        kwargs["factory"] = factory
    else:
        kwargs["default"] = default
    if converter is not None:
        kwargs["converter"] = converter
    return attrs.field(**kwargs)
