"""Term configuration and the start-up table shared by all managers."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any


def to_plain(x: Any) -> Any:
    """OmegaConf containers (or anything mapping-like) to plain dicts and lists."""
    try:
        from omegaconf import DictConfig, ListConfig, OmegaConf

        if isinstance(x, (DictConfig, ListConfig)):
            return OmegaConf.to_container(x, resolve=True)
    except ImportError:  # pragma: no cover
        pass
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


@dataclass
class TermCfg:
    """One term: the function, its weight (rewards) or scale (observations), and its keyword parameters."""

    name: str
    func: Callable
    params: dict = field(default_factory=dict)
    weight: float = 1.0
    extra: dict = field(default_factory=dict)

    @classmethod
    def parse(cls, name: str, raw: Mapping[str, Any] | None, module: ModuleType) -> "TermCfg":
        raw = dict(to_plain(raw) or {})
        func = resolve_func(raw.pop("func", name), module)
        params = dict(raw.pop("params", None) or {})
        weight = float(raw.pop("weight", 1.0))
        return cls(name=name, func=func, params=params, weight=weight, extra=raw)


def parse_terms(terms: Mapping[str, Any] | None, module: ModuleType) -> list[TermCfg]:
    """Terms in config order; a term set to null (``term: null``) is switched off."""
    out = []
    for name, raw in (to_plain(terms) or {}).items():
        if raw is None or (isinstance(raw, Mapping) and raw.get("enabled", True) is False):
            continue
        raw = {k: v for k, v in dict(raw).items() if k != "enabled"}
        out.append(TermCfg.parse(name, raw, module))
    return out


def print_table(title: str, columns: list[str], rows: list[list[Any]], quiet: bool = False) -> str:
    """Render a table (rich) of active terms; returns the plain text as well."""
    text_rows = [[str(c) for c in r] for r in rows]
    widths = [max([len(columns[i])] + [len(r[i]) for r in text_rows]) for i in range(len(columns))]
    lines = [title, "  ".join(c.ljust(w) for c, w in zip(columns, widths))]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths)) for r in text_rows]
    if not quiet:
        try:
            from rich.console import Console
            from rich.table import Table

            table = Table(title=title, title_justify="left")
            for c in columns:
                table.add_column(c)
            for r in text_rows:
                table.add_row(*r)
            Console().print(table)
        except ImportError:  # pragma: no cover
            print("\n".join(lines))
    return "\n".join(lines)
