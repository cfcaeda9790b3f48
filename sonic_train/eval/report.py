"""Evaluation outputs: ``metrics.json`` (aggregate + per motion), ``metrics.csv`` (one row per motion), a table."""

from __future__ import annotations

import csv
import json
import math
import os
from pathlib import Path
from typing import Any

from sonic_train.envs.managers.base import print_table
from sonic_train.eval.common import write_json_atomic
from sonic_train.eval.metrics import SCALARS

CSV_HEAD = ["motion", "success", "progress", "episode_s", "duration_s", *SCALARS, "termination"]


def _clean(x: Any) -> Any:
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, dict):
        return {k: _clean(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_clean(v) for v in x]
    return x


def write_outputs(summary: dict[str, Any], out_dir: str | os.PathLike) -> dict[str, Path]:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    js = write_json_atomic(out / "metrics.json", _clean(summary))
    rows = summary["per_motion"]
    bodies = list(rows[0]["body_err_mm"]) if rows else []
    tmp = out / ".metrics.csv.tmp"
    with open(tmp, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(CSV_HEAD + [f"body_err_mm/{b}" for b in bodies])
        for r in rows:
            w.writerow([r[k] if not isinstance(r[k], float) else f"{r[k]:.6g}" for k in CSV_HEAD]
                       + [f"{r['body_err_mm'][b]:.6g}" for b in bodies])
    os.replace(tmp, out / "metrics.csv")
    return {"json": js, "csv": out / "metrics.csv"}


def load_metrics(path: str | os.PathLike) -> dict[str, Any]:
    with open(path) as f:
        data = json.load(f)
    if "per_motion" not in data:
        raise ValueError(f"{path}: not a sonic-eval metrics.json (no per_motion)")
    return data


def print_summary(summary: dict[str, Any]) -> str:
    """A rich table per motion and the aggregate row; returns the plain text too."""

    def f(x, nd=1):
        return "-" if x is None or (isinstance(x, float) and not math.isfinite(x)) else f"{x:.{nd}f}"

    cols = ["motion", "success", "progress", "MPJPE-G mm", "MPJPE-L mm", "joint rad", "joint vel", "root mm",
            "root ori rad", "termination"]
    rows = [[r["motion"], str(r["success"]), f(r["progress"], 2), f(r["mpjpe_g_mm"]), f(r["mpjpe_l_mm"]),
             f(r["joint_pos_err"], 3), f(r["joint_vel_err"], 3), f(r["root_pos_err_mm"]), f(r["root_ori_err"], 3),
             r["termination"] or "-"] for r in summary["per_motion"]]
    a = summary["aggregate"]
    rows.append([f"ALL ({a['num_motions']})", f(a["success_rate"], 3), "", f(a["mpjpe_g_mm"]), f(a["mpjpe_l_mm"]),
                 f(a["joint_pos_err"], 3), f(a["joint_vel_err"], 3), f(a["root_pos_err_mm"]), f(a["root_ori_err"], 3),
                 ""])
    for split, a in (summary.get("by_split") or {}).items():  # held-out clips apart from training clips
        rows.append([f"{split.upper()} ({a['num_motions']})", f(a["success_rate"], 3), "", f(a["mpjpe_g_mm"]),
                     f(a["mpjpe_l_mm"]), f(a["joint_pos_err"], 3), f(a["joint_vel_err"], 3), f(a["root_pos_err_mm"]),
                     f(a["root_ori_err"], 3), ""])
    title = f"Evaluation of {Path(summary['checkpoint']).name} (iteration {summary['iteration']}, encoder {summary['encoder']})"
    return print_table(title, cols, rows)
