"""Finding, filtering and loading plugins for one CRM.

Plugins are found through the ``crmkit.plugins`` entry-point group and loaded
per CRM instance, never at import time. Every step is guarded: a plugin that
fails to import, is built for another crmkit version, or implements a hook
that does not exist is reported and skipped (or raised in strict mode).
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable, Iterable, Sequence
from importlib.metadata import EntryPoint, entry_points
from typing import Any

import attrs
import pluggy
from packaging.requirements import InvalidRequirement, Requirement
from packaging.version import Version

from crmkit import __version__
from crmkit.errors import PluginError
from crmkit.plugins import ENTRY_POINT_GROUP, hookspecs

LOAD_ENV = "CRMKIT_LOAD_PLUGINS"
DISABLE_ENV = "CRMKIT_DISABLE_PLUGINS"
CORE_PLUGIN = "crmkit.core"


@attrs.define
class PluginInfo:
    """What is known about one installed plugin in this CRM."""

    name: str
    distribution: str | None
    version: str | None
    status: str  # loaded | failed | disabled | incompatible
    enabled: bool
    error: str | None = None
    requires_crmkit: str | None = None
    hooks: list[str] = attrs.field(factory=list)
    module: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)


class CrmPluginManager(pluggy.PluginManager):
    """A pluggy manager that treats every ``crmkit_*`` function as a hook implementation.

    That way an undecorated implementation works, and a misspelled one is
    caught by :meth:`check_pending` instead of silently never running.
    """

    def __init__(self) -> None:
        super().__init__(hookspecs.PROJECT)
        self.add_hookspecs(hookspecs)

    def parse_hookimpl_opts(self, plugin: object, name: str) -> Any:
        opts = super().parse_hookimpl_opts(plugin, name)
        if opts is None and name.startswith("crmkit_"):
            method = getattr(plugin, name, None)
            if inspect.isfunction(method) or inspect.ismethod(method):
                return {
                    "wrapper": False,
                    "hookwrapper": False,
                    "optionalhook": False,
                    "tryfirst": False,
                    "trylast": False,
                    "specname": None,
                }
        return opts


def _env_list(name: str) -> list[str] | None:
    raw = os.environ.get(name)
    if raw is None:
        return None
    return [p.strip() for p in raw.split(",") if p.strip()]


def installed_entry_points() -> list[EntryPoint]:
    """Entry points of installed plugins, sorted by name (the order never matters)."""
    return sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name)


def _crmkit_requirement(ep: EntryPoint) -> str | None:
    dist = ep.dist
    if dist is None:
        return None
    for line in dist.requires or []:
        try:
            req = Requirement(line)
        except InvalidRequirement:
            continue
        if req.name.lower() == "crmkit" and not req.marker:
            return str(req.specifier) or None
    return None


def _is_compatible(spec: str | None) -> bool:
    if not spec:
        return True
    from packaging.specifiers import SpecifierSet

    return SpecifierSet(spec).contains(Version(__version__), prereleases=True)


def implemented_hooks(pm: pluggy.PluginManager, plugin: object) -> list[str]:
    callers = pm.get_hookcallers(plugin) or []
    return sorted(c.name for c in callers)


@attrs.define
class LoadResult:
    """The plugin manager of one CRM and a report on every installed plugin."""

    pm: CrmPluginManager
    plugins: list[PluginInfo]

    def loaded(self) -> list[PluginInfo]:
        return [p for p in self.plugins if p.status == "loaded"]


def load_plugins(
    *,
    requested: Sequence[str] | None,
    strict: bool = False,
    extra: Iterable[tuple[str, object]] = (),
    core: object | None = None,
    discover: Callable[[], list[EntryPoint]] = installed_entry_points,
) -> LoadResult:
    """Load the plugins a CRM asked for.

    ``requested`` is the list of plugin names to load (``None`` means every
    installed plugin). ``CRMKIT_LOAD_PLUGINS`` further limits the set (an empty
    value loads none) and ``CRMKIT_DISABLE_PLUGINS`` removes names from it.
    ``extra`` are ``(name, module-or-object)`` pairs registered directly,
    for plugins defined in the embedding application itself; they load
    whatever ``requested`` says, unless ``CRMKIT_DISABLE_PLUGINS`` names them.
    """
    pm = CrmPluginManager()
    if core is not None:
        pm.register(core, name=CORE_PLUGIN)
    available = discover()
    known = {ep.name for ep in available} | {name for name, _ in extra}
    if requested is not None:
        unknown = sorted(set(requested) - known)
        if unknown:
            raise PluginError(
                f"plugin {', '.join(map(repr, unknown))} is not installed "
                f"(installed: {', '.join(sorted(known)) or 'none'}); pip install it or remove it "
                "from the plugins list"
            )
    allow = _env_list(LOAD_ENV)
    block = set(_env_list(DISABLE_ENV) or [])
    infos: list[PluginInfo] = []

    def wanted(name: str) -> bool:
        return (
            (requested is None or name in requested)
            and (allow is None or name in allow)
            and name not in block
        )

    for ep in available:
        dist = ep.dist
        info = PluginInfo(
            name=ep.name,
            distribution=dist.metadata["Name"] if dist is not None else None,
            version=dist.version if dist is not None else None,
            status="disabled",
            enabled=wanted(ep.name),
            requires_crmkit=_crmkit_requirement(ep),
            module=ep.value,
        )
        infos.append(info)
        if not info.enabled:
            continue
        label = f"plugin {info.distribution or ep.name} {info.version or ''}".rstrip()
        if not _is_compatible(info.requires_crmkit):
            info.status = "incompatible"
            info.error = (
                f"{label} supports crmkit {info.requires_crmkit}, this is crmkit {__version__}; "
                f"upgrade the plugin or set {DISABLE_ENV}={ep.name} to skip it"
            )
            if strict:
                raise PluginError(info.error)
            continue
        try:
            plugin = ep.load()
        except Exception as exc:
            _fail(info, label, f"failed to import: {type(exc).__name__}: {exc}", strict)
            continue
        _register(pm, info, plugin, label, strict)

    for name, plugin in extra:
        # Plugins handed over in code are wanted by definition; only the block
        # list (CRMKIT_DISABLE_PLUGINS) can switch one off.
        info = PluginInfo(
            name=name,
            distribution=None,
            version=None,
            status="disabled",
            enabled=name not in block,
            module=getattr(plugin, "__name__", None),
        )
        infos.append(info)
        if info.enabled:
            _register(pm, info, plugin, f"plugin {name}", strict)
    return LoadResult(pm, infos)


def _register(
    pm: CrmPluginManager, info: PluginInfo, plugin: object, label: str, strict: bool
) -> None:
    try:
        pm.register(plugin, name=info.name)
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        if pm.is_registered(plugin):
            pm.unregister(plugin)
        _fail(info, label, f"breaks the hook contract: {exc}", strict)
        return
    except ValueError as exc:
        _fail(info, label, f"could not be registered: {exc}", strict)
        return
    info.status = "loaded"
    info.hooks = implemented_hooks(pm, plugin)


def _fail(info: PluginInfo, label: str, reason: str, strict: bool) -> None:
    info.status = "failed"
    info.error = f"{label} {reason} (set {DISABLE_ENV}={info.name} to skip it)"
    if strict:
        raise PluginError(info.error)


def collect(pm: pluggy.PluginManager, hook_name: str, **kwargs: Any) -> list[tuple[str, Any]]:
    """Call a collect hook plugin by plugin, keeping who contributed what.

    Returns ``(plugin_name, result)`` pairs in pluggy's call order, skipping
    ``None`` results, so the core can name the plugin behind a clash.
    """
    caller = getattr(pm.hook, hook_name)
    out: list[tuple[str, Any]] = []
    for impl in reversed(caller.get_hookimpls()):
        args = {name: kwargs[name] for name in impl.argnames}
        try:
            result = impl.function(**args)
        except Exception as exc:
            raise PluginError(
                f"plugin {impl.plugin_name}: {hook_name} raised {type(exc).__name__}: {exc}"
            ) from exc
        if result is not None:
            out.append((impl.plugin_name, result))
    return out
