"""Observation groups: terms computed, scaled, kept with history and concatenated in config order.

A term with history ``H`` occupies ``H * dim`` values, oldest first; a concatenated group is term-major.
:meth:`ObservationManager.layout` exports exactly this (the ONNX export writes it into metadata).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from sonic_train.envs.managers.base import TermCfg, check_keys, parse_terms, print_table, to_plain
from sonic_train.envs.mdp import observations as obs_mod

INDEX_TERMS = ("encoder_index",)


class _Term:
    def __init__(self, cfg: TermCfg, history: int):
        self.cfg = cfg
        self.name = cfg.name
        self.history = int(cfg.history_length if cfg.history_length is not None else history)
        scale = cfg.scale
        self.scale = scale
        self.unscaled = isinstance(scale, (int, float)) and scale == 1.0
        self._scale_t: torch.Tensor | None = None
        self.key = (cfg.func, repr(sorted(cfg.params.items())))  # terms shared by groups are computed once
        self.dim = 0
        self.buf: torch.Tensor | None = None
        self.is_index = cfg.name in INDEX_TERMS or bool(cfg.index)

    def compute(self, env, cache: dict | None = None, fill: torch.Tensor | None = None) -> torch.Tensor:
        """This step's value (with history: the last ``history`` values, oldest first); ``fill``: env ids whose
        history restarts from this value (reset since the last call)."""
        if cache is not None and self.key in cache:
            raw = cache[self.key]
        else:
            raw = self.cfg.func(env, **self.cfg.params)
            if cache is not None:
                cache[self.key] = raw
        if self.is_index:
            return raw
        x = raw.reshape(raw.shape[0], -1).float()
        if not self.unscaled:
            if self._scale_t is None:
                self._scale_t = torch.as_tensor(self.scale, dtype=x.dtype, device=x.device)
            x = x * self._scale_t
        self.dim = x.shape[1]
        if self.history <= 1:
            return x
        if self.buf is None or self.buf.shape[0] != x.shape[0]:
            self.buf = x.unsqueeze(1).repeat(1, self.history, 1)
        else:
            self.buf = torch.cat([self.buf[:, 1:], x.unsqueeze(1)], dim=1)
            if fill is not None:
                self.buf[fill] = x[fill].unsqueeze(1).expand(-1, self.history, -1)
        return self.buf.reshape(x.shape[0], -1)


class ObservationManager:
    def __init__(self, env, groups_cfg: Mapping[str, Any], quiet: bool = False):
        self.env = env
        self.groups: dict[str, list[_Term]] = {}
        self.concatenate: dict[str, bool] = {}
        for group, gcfg in (to_plain(groups_cfg) or {}).items():
            if gcfg is None:
                continue
            gcfg = dict(gcfg)
            where = f"manager_env.observations.{group}"
            check_keys(where, gcfg, ("history_length", "concatenate", "terms"))
            terms = parse_terms(gcfg.get("terms", {}), obs_mod, "observations", f"{where}.terms")
            hist = int(gcfg.get("history_length", 1) or 1)
            self.groups[group] = [_Term(t, hist) for t in terms]
            self.concatenate[group] = bool(gcfg.get("concatenate", True))
        self._fill: list[torch.Tensor] = []  # env ids reset since the last compute
        self.quiet = quiet

    def compute(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        cache: dict = {}  # a term used by several groups (policy and critic) is computed once
        fill = torch.cat(self._fill).unique() if self._fill else None
        self._fill = []
        for group, terms in self.groups.items():
            vals = {t.name: t.compute(self.env, cache, fill) for t in terms}
            if self.concatenate[group]:
                out[group] = torch.cat(list(vals.values()), dim=-1)
            else:
                out[group] = vals
        return out

    def reset(self, env_ids: torch.Tensor) -> None:
        """``env_ids`` start a new episode: their histories refill with their next observation."""
        self._fill.append(env_ids.reshape(-1).to(torch.long))

    def resume_state(self) -> dict[str, Any]:
        """History buffers and the envs awaiting a refill, so that a resumed run observes the very same values."""
        return {"history": {g: [None if t.buf is None else t.buf.clone() for t in terms]
                            for g, terms in self.groups.items()},
                "fill": [ids.clone() for ids in self._fill]}

    def load_resume_state(self, state: Mapping[str, Any]) -> None:
        """Put back what :meth:`resume_state` captured (resume of a checkpointed run)."""
        for g, bufs in state["history"].items():
            for t, buf in zip(self.groups[g], bufs):
                t.buf = None if buf is None else buf.clone()
        self._fill = [ids.clone() for ids in state["fill"]]

    def layout(self) -> dict[str, list[dict[str, Any]]]:
        """Per group, in order: name, dim (one frame), history, scale, offset and size in the group vector.

        Call after one :meth:`compute` (dims are read off the computed terms)."""
        out = {}
        for group, terms in self.groups.items():
            rows, off = [], 0
            for t in terms:
                size = 1 if t.is_index else t.dim * max(t.history, 1)
                scale = t.scale if isinstance(t.scale, (int, float)) else list(t.scale)
                rows.append({"name": t.name, "dim": 1 if t.is_index else t.dim, "history": max(t.history, 1),
                             "scale": scale, "params": dict(t.cfg.params), "offset": off, "size": size,
                             "dtype": "int64" if t.is_index else "float32"})
                off += size
            out[group] = rows
        return out

    def print_summary(self) -> str:
        rows = []
        for group, rs in self.layout().items():
            for r in rs:
                rows.append([group, r["name"], r["dim"], r["history"], r["scale"], r["size"]])
        return print_table("Observations", ["group", "term", "dim", "history", "scale", "size"], rows, self.quiet)
