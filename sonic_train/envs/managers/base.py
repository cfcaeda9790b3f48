"""Term configuration and the start-up table shared by all managers."""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from omegaconf import DictConfig, ListConfig, OmegaConf
from rich.console import Console
from rich.table import Table

from sonic_train.config import config_dir


def to_plain(x: Any) -> Any:
    """OmegaConf containers (or anything mapping-like) to plain dicts and lists."""
    if isinstance(x, (DictConfig, ListConfig)):
        return OmegaConf.to_container(x, resolve=True)
    return x


def resolve_func(name: str | Callable, module: ModuleType) -> Callable:
    """``name`` in ``module``, or a ``package.module:function`` path, or a callable."""
    if callable(name):
        return name
    if ":" in name:
        mod, attr = name.split(":", 1)
        return getattr(importlib.import_module(mod), attr)
    if not hasattr(module, name):
        raise KeyError(f"unknown term function {name!r} in {module.__name__}")
    return getattr(module, name)


class ConfigError(ValueError):
    """A manager_env key that does not exist (a misspelling would otherwise be ignored); names key and file."""


def _sources(*words: str) -> str:
    """`` (in configs/...yaml)`` for the config files that mention every word, to point at the misspelt key."""
    root = config_dir()
    found = [str(p.relative_to(root.parent)) for p in sorted(root.rglob("*.yaml"))
             if all(w in p.read_text(errors="replace") for w in words)]
    return f" (in {', '.join(found[:3])})" if found else " (from a command-line override or a saved config)"


def check_keys(where: str, given: Mapping[str, Any], allowed: Iterable[str]) -> None:
    """Refuse keys of ``given`` outside ``allowed``, naming the key, the config path and the file."""
    allowed = tuple(allowed)
    for key in given:
        if key not in allowed:
            raise ConfigError(f"{where}: unknown key {key!r}; expected one of {list(allowed)}{_sources(str(key))}")


# keys a term may carry besides func and params, per manager
TERM_KEYS = {
    "observations": ("scale", "history_length", "index"),
    "rewards": ("weight",),
    "terminations": ("time_out",),
    "events": ("mode", "interval_range_s"),
    "curriculum": (),
}
# arguments the manager passes itself (not from params)
_MANAGER_ARGS = ("env", "env_ids", "level", "state")


@dataclass
class TermCfg:
    """One term: the function, its keyword parameters and the options of its manager (typed, validated)."""

    name: str
    func: Callable
    params: dict = field(default_factory=dict)
    weight: float = 1.0  # rewards
    scale: Any = 1.0  # observations: a number or one per value
    history_length: int | None = None  # observations: overrides the group's
    index: bool = False  # observations: an integer index term (not scaled, not concatenated)
    time_out: bool = False  # terminations: truncation, not failure
    mode: str = "reset"  # events: startup | reset | interval
    interval_range_s: tuple[float, float] = (1.0, 3.0)  # events in interval mode

    @classmethod
    def parse(cls, name: str, raw: Mapping[str, Any] | None, module: ModuleType, kind: str,
              where: str = "manager_env") -> "TermCfg":
        raw = dict(to_plain(raw) or {})
        check_keys(f"{where}.{name}", raw, ("func", "params") + TERM_KEYS[kind])
        func = resolve_func(raw.pop("func", name), module)
        params = dict(raw.pop("params", None) or {})
        _check_params(f"{where}.{name}", func, params)
        opts = {k: raw[k] for k in TERM_KEYS[kind] if k in raw}
        if "weight" in opts:
            opts["weight"] = float(opts["weight"])
        if "interval_range_s" in opts:
            opts["interval_range_s"] = tuple(float(v) for v in opts["interval_range_s"])
        return cls(name=name, func=func, params=params, **opts)


def _check_params(where: str, func: Callable, params: Mapping[str, Any]) -> None:
    """Each parameter must be an argument of the term's function (unless it takes ``**kwargs``)."""
    sig = inspect.signature(func)
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in sig.parameters.values()):
        return
    names = [n for n in sig.parameters if n not in _MANAGER_ARGS]
    for key in params:
        if key not in names:
            raise ConfigError(f"{where}.params: {func.__name__}() has no parameter {key!r}; it takes {names}"
                              f"{_sources(str(key))}")


def parse_terms(terms: Mapping[str, Any] | None, module: ModuleType, kind: str,
                where: str = "manager_env") -> list[TermCfg]:
    """Terms in config order; a term set to null (``term: null``) is switched off."""
    out = []
    for name, raw in (to_plain(terms) or {}).items():
        if raw is None or (isinstance(raw, Mapping) and raw.get("enabled", True) is False):
            continue
        raw = {k: v for k, v in dict(raw).items() if k != "enabled"}
        out.append(TermCfg.parse(name, raw, module, kind, where))
    return out


def print_table(title: str, columns: list[str], rows: list[list[Any]], quiet: bool = False) -> str:
    """Render a table (rich) of active terms; returns the plain text as well."""
    text_rows = [[str(c) for c in r] for r in rows]
    widths = [max([len(columns[i])] + [len(r[i]) for r in text_rows]) for i in range(len(columns))]
    lines = [title, "  ".join(c.ljust(w) for c, w in zip(columns, widths))]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths)) for r in text_rows]
    if not quiet:
        table = Table(title=title, title_justify="left")
        for c in columns:
            table.add_column(c)
        for r in text_rows:
            table.add_row(*r)
        Console().print(table)
    return "\n".join(lines)
