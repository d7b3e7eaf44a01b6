"""Dependencies between plugins, read from distribution metadata without importing a plugin.

A plugin depends on another when its distribution has a ``Requires-Dist`` on a
distribution that itself provides a ``crmkit.plugins`` entry point, for example
``crmkit-campaign`` requiring ``crmkit-sales>=0.1,<0.2``. A requirement on a
distribution that is not installed at all is a dependency too: it cannot be met
whatever it is, and the fix (install it) is the same.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from importlib.metadata import EntryPoint, PackageNotFoundError, version

import attrs
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

CRMKIT = "crmkit"


@attrs.frozen
class PluginDependency:
    """One requirement of a plugin on another plugin's distribution.

    ``plugins`` are the plugin names that distribution provides (empty when it
    is not installed); ``installed`` is its installed version, if any.
    """

    requirement: Requirement
    plugins: tuple[str, ...]
    installed: str | None

    @property
    def spec(self) -> str:
        """The requirement as written, e.g. ``crmkit-sales<0.2,>=0.1``."""
        return str(self.requirement)

    @property
    def distribution(self) -> str:
        return self.requirement.name

    def is_met_by_version(self) -> bool:
        """Whether the installed version is in the required range."""
        if self.installed is None:
            return False
        return self.requirement.specifier.contains(self.installed, prereleases=True)


def distribution_name(ep: EntryPoint) -> str | None:
    """The name of the distribution that declares ``ep`` (``None`` if unknown)."""
    return ep.dist.metadata["Name"] if ep.dist is not None else None


def providers(available: Iterable[EntryPoint]) -> dict[str, list[EntryPoint]]:
    """Plugin entry points by the canonical name of the distribution providing them."""
    out: dict[str, list[EntryPoint]] = {}
    for ep in available:
        dist = distribution_name(ep)
        if dist is not None:
            out.setdefault(canonicalize_name(dist), []).append(ep)
    return out


def _requirements(ep: EntryPoint) -> list[Requirement]:
    if ep.dist is None:
        return []
    out: list[Requirement] = []
    for line in ep.dist.requires or []:
        try:
            req = Requirement(line)
        except InvalidRequirement:
            continue
        if req.marker is not None and not req.marker.evaluate({"extra": ""}):
            continue
        out.append(req)
    return out


def _installed_version(name: str) -> str | None:
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def plugin_dependencies(
    ep: EntryPoint, by_distribution: Mapping[str, Sequence[EntryPoint]]
) -> list[PluginDependency]:
    """The plugins ``ep``'s distribution requires, in the order it declares them.

    ``by_distribution`` is :func:`providers` of the installed plugins. Ordinary
    libraries that are installed are not plugin dependencies and are left out.
    """
    own = canonicalize_name(distribution_name(ep) or ep.name)
    out: list[PluginDependency] = []
    for req in _requirements(ep):
        key = canonicalize_name(req.name)
        if key in (CRMKIT, own):
            continue
        provided = by_distribution.get(key)
        if provided:
            dist = provided[0].dist
            out.append(
                PluginDependency(
                    req,
                    tuple(sorted(p.name for p in provided)),
                    dist.version if dist is not None else None,
                )
            )
        elif _installed_version(req.name) is None:
            out.append(PluginDependency(req, (), None))
    return out


def dependency_order(
    graph: Mapping[str, Sequence[str]],
) -> tuple[list[str], list[list[str]]]:
    """Order plugin names so each comes after the plugins it requires; find cycles.

    ``graph`` maps a plugin to the plugins it requires (names outside the graph
    are ignored). Ties are broken by name, so the order is the same on every
    run. Each cycle is returned as a path that ends where it starts.
    """
    order: list[str] = []
    state: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(name: str) -> None:
        state[name] = 1
        stack.append(name)
        for dep in sorted(set(graph.get(name, ()))):
            if dep not in graph:
                continue
            if state.get(dep) == 1:
                cycles.append([*stack[stack.index(dep) :], dep])
            elif dep not in state:
                visit(dep)
        stack.pop()
        state[name] = 2
        order.append(name)

    for name in sorted(graph):
        if name not in state:
            visit(name)
    return order, cycles


def required_closure(
    names: Sequence[str],
    available: Sequence[EntryPoint],
) -> list[str]:
    """``names`` and every installed plugin they require, directly or not, dependencies first.

    Read from metadata only; nothing is imported. Requirements that are not
    installed are left out (loading reports them).
    """
    by_name = {ep.name: ep for ep in available}
    by_dist = providers(available)
    graph: dict[str, list[str]] = {}
    todo = [n for n in names if n in by_name]
    while todo:
        name = todo.pop()
        if name in graph:
            continue
        deps = [p for d in plugin_dependencies(by_name[name], by_dist) for p in d.plugins]
        graph[name] = deps
        todo.extend(d for d in deps if d not in graph)
    order, _ = dependency_order(graph)
    return order


def dependents(name: str, among: Iterable[str], available: Sequence[EntryPoint]) -> list[str]:
    """The plugins in ``among`` that require plugin ``name`` directly, sorted."""
    by_name = {ep.name: ep for ep in available}
    by_dist = providers(available)
    out = []
    for other in among:
        ep = by_name.get(other)
        if ep is None or other == name:
            continue
        if any(name in d.plugins for d in plugin_dependencies(ep, by_dist)):
            out.append(other)
    return sorted(set(out))
