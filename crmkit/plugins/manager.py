"""Finding, filtering and loading plugins for one CRM.

Plugins are found through the ``crmkit.plugins`` entry-point group and loaded
per CRM instance, never at import time. Every step is guarded: a plugin that
fails to import, is built for another crmkit version, or implements a hook
that does not exist is reported and skipped (or raised in strict mode).
"""

from __future__ import annotations

import difflib
import inspect
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from importlib.metadata import EntryPoint
from typing import Any

import attrs
import pluggy
from packaging.requirements import InvalidRequirement, Requirement
from packaging.version import Version

from crmkit import __version__
from crmkit.errors import PluginError
from crmkit.plugins import hookspecs, installed_entry_points
from crmkit.plugins.dependencies import (
    PluginDependency,
    dependency_order,
    plugin_dependencies,
    providers,
)

LOAD_ENV = "CRMKIT_LOAD_PLUGINS"
DISABLE_ENV = "CRMKIT_DISABLE_PLUGINS"
CORE_PLUGIN = "crmkit.core"
HOOK_PREFIX = "crmkit_"


@attrs.define
class PluginInfo:
    """What is known about one installed plugin in this CRM."""

    name: str
    distribution: str | None
    version: str | None
    status: str  # loaded | failed | disabled | incompatible
    enabled: bool
    error: str | None = None
    """What went wrong, naming the plugin, followed by the fix."""
    requires_crmkit: str | None = None
    hooks: list[str] = attrs.field(factory=list)
    module: str | None = None
    requires: list[str] = attrs.field(factory=list)
    """The plugins this one requires, as requirements (``crmkit-sales<0.2,>=0.1``)."""
    fix: str | None = None
    """How to fix :attr:`error`, on its own (for ``crmkit plugins doctor``)."""

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
        if opts is None and name.startswith(HOOK_PREFIX):
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
    """Load the plugins a CRM asked for, each after the plugins it requires.

    ``requested`` is the list of plugin names to load (``None`` means every
    installed plugin). ``CRMKIT_LOAD_PLUGINS`` further limits the set (an empty
    value loads none) and ``CRMKIT_DISABLE_PLUGINS`` removes names from it.
    ``extra`` are ``(name, module-or-object)`` pairs registered directly,
    for plugins defined in the embedding application itself; they load
    whatever ``requested`` says, unless ``CRMKIT_DISABLE_PLUGINS`` names them.

    A plugin whose required plugins are not installed, not in the range it
    asks for, not loaded, or that require it back, is not loaded (status
    ``failed``); only the plugins that load are imported. Plugins register
    after the plugins they require (ties by name); pluggy calls the last
    registered first, so a plugin can override the plugin it builds on.
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

    def wanted(name: str) -> bool:
        return (
            (requested is None or name in requested)
            and (allow is None or name in allow)
            and name not in block
        )

    by_dist = providers(available)
    infos: dict[str, PluginInfo] = {}
    needs: dict[str, list[PluginDependency]] = {}
    for ep in available:
        dist = ep.dist
        deps = plugin_dependencies(ep, by_dist)
        infos[ep.name] = PluginInfo(
            name=ep.name,
            distribution=dist.metadata["Name"] if dist is not None else None,
            version=dist.version if dist is not None else None,
            status="disabled",
            enabled=wanted(ep.name),
            requires_crmkit=_crmkit_requirement(ep),
            module=ep.value,
            requires=[d.spec for d in deps],
        )
        needs[ep.name] = deps
    entry = {ep.name: ep for ep in available}
    enabled = [name for name, info in infos.items() if info.enabled]
    order, cycles = dependency_order(
        {name: [p for d in needs[name] for p in d.plugins] for name in enabled}
    )
    in_cycle = {name: cycle for cycle in cycles for name in cycle}
    for name in order:
        info = infos[name]
        if not _is_compatible(info.requires_crmkit):
            info.status = "incompatible"
            _explain(
                info,
                f"supports crmkit {info.requires_crmkit}, this is crmkit {__version__}",
                f"upgrade the plugin or set {DISABLE_ENV}={name} to skip it",
                strict,
            )
            continue
        if name in in_cycle:
            cycle = in_cycle[name]
            _fail(
                info,
                f"is part of a plugin dependency cycle ({' -> '.join(cycle)}), "
                "so none of them can load",
                "upgrade them to versions that do not require each other, or disable them "
                f"together: 'crmkit plugins disable {' '.join(sorted(set(cycle)))}'",
                strict,
            )
            continue
        problem = _unmet_dependency(info, needs[name], infos, allow, block)
        if problem is not None:
            _fail(info, *problem, strict)
            continue
        try:
            plugin = entry[name].load()
        except Exception as exc:
            _fail(
                info,
                f"failed to import: {type(exc).__name__}: {exc}",
                f"fix or reinstall the plugin, or set {DISABLE_ENV}={name} to skip it",
                strict,
            )
            continue
        _register(pm, info, plugin, strict)
    plugins = [infos[ep.name] for ep in available]

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
        plugins.append(info)
        if info.enabled:
            _register(pm, info, plugin, strict)
    return LoadResult(pm, plugins)


def _label(info: PluginInfo) -> str:
    return f"plugin {info.distribution or info.name} {info.version or ''}".rstrip()


def _unmet_dependency(
    info: PluginInfo,
    deps: Sequence[PluginDependency],
    infos: dict[str, PluginInfo],
    allow: list[str] | None,
    block: set[str],
) -> tuple[str, str] | None:
    """Why ``info``'s plugin cannot load for want of another plugin, and the fix; or ``None``."""
    for dep in deps:
        spec = dep.spec
        if dep.installed is None:
            return f"requires {spec}, which is not installed", f"pip install '{spec}'"
        if not dep.is_met_by_version():
            return (
                f"requires {spec}, but {dep.distribution} {dep.installed} is installed",
                f"pip install '{spec}', or upgrade {info.distribution or info.name} to a "
                f"version that supports {dep.distribution} {dep.installed}",
            )
        for name in dep.plugins:
            other = infos[name]
            if not other.enabled:
                if name in block:
                    fix = f"remove {name} from {DISABLE_ENV}, or switch {info.name} off too"
                elif allow is not None and name not in allow:
                    fix = f"add {name} to {LOAD_ENV}"
                else:
                    fix = f"enable it too: 'crmkit plugins enable {name}'"
                return f"requires plugin {name} ({spec}), which is not enabled", fix
            if other.status != "loaded":
                return (
                    f"requires plugin {name} ({spec}), which did not load ({other.status})",
                    f"fix {name} first ('crmkit plugins doctor' says how)",
                )
    return None


def _register(pm: CrmPluginManager, info: PluginInfo, plugin: object, strict: bool) -> None:
    try:
        pm.register(plugin, name=info.name)
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        if pm.is_registered(plugin):
            pm.unregister(plugin)
        problem, fix = hook_contract_problem(pm, plugin) or (str(exc).replace("\n", " "), "")
        fix = f"{fix}; until then set {DISABLE_ENV}={info.name} to skip it".lstrip("; ")
        _fail(info, f"breaks the hook contract: {problem}", fix, strict)
        return
    except ValueError as exc:
        _fail(
            info,
            f"could not be registered: {exc}",
            f"set {DISABLE_ENV}={info.name} to skip it",
            strict,
        )
        return
    info.status = "loaded"
    info.hooks = implemented_hooks(pm, plugin)


def hook_contract_problem(pm: pluggy.PluginManager, plugin: object) -> tuple[str, str] | None:
    """The first ``crmkit_*`` function of ``plugin`` that breaks the hook contract, and the fix.

    Either its name is no hook (a misspelling), or it takes an argument the
    hook does not pass. ``None`` if every such function is fine.
    """
    hooks = sorted(
        n
        for n in dir(pm.hook)
        if n.startswith(HOOK_PREFIX) and getattr(pm.hook, n).spec is not None
    )
    for name in sorted(dir(plugin)):
        function = getattr(plugin, name, None)
        if not name.startswith(HOOK_PREFIX) or not callable(function):
            continue
        caller = getattr(pm.hook, name, None)
        if caller is None or caller.spec is None:
            close = difflib.get_close_matches(name, hooks, n=1)
            rename = f"rename it to {close[0]}" if close else "rename or remove it"
            return (
                f"{name} is not a crmkit hook",
                f"the plugin must {rename} (the hooks are in crmkit.plugins.hookspecs)",
            )
        allowed = list(caller.spec.argnames)
        taken = _argnames(function)
        extra = [a for a in taken if a not in allowed]
        if extra:
            return (
                f"{name} takes {', '.join(extra)}, which the hook does not pass "
                f"(it passes: {', '.join(allowed) or 'nothing'})",
                f"the plugin must take only arguments named {', '.join(allowed) or 'none'}",
            )
    return None


def _argnames(function: Callable[..., Any]) -> list[str]:
    """The arguments pluggy would pass by name: positional ones without a default."""
    try:
        params = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return []
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return [p.name for p in params if p.kind in positional and p.default is p.empty]


def _fail(info: PluginInfo, problem: str, fix: str, strict: bool) -> None:
    info.status = "failed"
    _explain(info, problem, fix, strict)


def _explain(info: PluginInfo, problem: str, fix: str, strict: bool) -> None:
    info.error = f"{_label(info)} {problem}; {fix}"
    info.fix = fix
    if strict:
        raise PluginError(info.error)


def collect(pm: pluggy.PluginManager, hook_name: str, **kwargs: Any) -> list[tuple[str, Any]]:
    """Call a collect hook plugin by plugin, keeping who contributed what.

    Returns ``(plugin_name, result)`` pairs in pluggy's call order, skipping
    ``None`` results, so the core can name the plugin behind a clash.
    """
    impls = getattr(pm.hook, hook_name).get_hookimpls()
    return _call_each(reversed(impls), hook_name, kwargs)


def collect_in_load_order(
    pm: pluggy.PluginManager, hook_name: str, **kwargs: Any
) -> list[tuple[str, Any]]:
    """Like :func:`collect`, but calling the plugins in the order they were loaded.

    Plugins load after the plugins they require, so each is called after what it
    builds on (pluggy's own order is the newest registration first).
    """
    return _call_each(getattr(pm.hook, hook_name).get_hookimpls(), hook_name, kwargs)


def _call_each(
    impls: Iterable[Any], hook_name: str, kwargs: Mapping[str, Any]
) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for impl in impls:
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
