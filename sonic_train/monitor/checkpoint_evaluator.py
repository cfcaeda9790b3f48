"""``CheckpointEvaluator``: evaluate the new checkpoints of a running experiment as they appear.

For each new ``model_<it>.pt`` of ``experiment_dir`` (every ``eval_frequency``-th one, oldest first):

1. metrics: ``sonic-eval`` in a subprocess (``+run_once=True``, ``num_eval_envs`` envs) writing
   ``<experiment>/eval/model_<it>/metrics.json``;
2. videos: ``sonic-eval +headless=True +metrics_file=...`` for the ``num_render_videos`` hardest motions;
3. W&B: metrics (``eval/...`` against ``eval/iteration``) and videos logged to the training run, resumed by the
   id the trainer stored in ``<experiment>/wandb_run.json`` (else found in ``<experiment>/wandb``); a W&B
   failure is reported and does not stop the monitor;
4. the ledger ``<experiment>/eval/ledger.json`` (written atomically) records the checkpoint as ``done`` or
   ``failed`` (with the tail of stderr); a restart skips everything in the ledger.

A crashed or timed-out evaluation is recorded as failed and the monitor carries on.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from sonic_train.eval.common import checkpoint_iteration, write_json_atomic

STDERR_TAIL = 4000


def find_wandb_run(experiment_dir: Path) -> dict[str, Any] | None:
    """The training run's W&B id (and project/entity when known)."""
    p = experiment_dir / "wandb_run.json"
    if p.is_file():
        try:
            d = json.loads(p.read_text())
            if d.get("id"):
                return d
        except (OSError, json.JSONDecodeError):
            pass
    runs = sorted((experiment_dir / "wandb").glob("*run-*-*"), key=lambda q: q.stat().st_mtime) \
        if (experiment_dir / "wandb").is_dir() else []
    for r in reversed(runs):
        m = re.fullmatch(r"(?:offline-)?run-\d{8}_\d{6}-([a-z0-9]+)", r.name)
        if m:
            return {"id": m.group(1)}
    return None


class CheckpointEvaluator:
    def __init__(self, cfg: Any):
        g = (lambda k, d=None: cfg.get(k, d)) if hasattr(cfg, "get") else (lambda k, d=None: getattr(cfg, k, d))
        self.experiment_dir = Path(str(g("experiment_dir"))).expanduser().resolve()
        self.scan_interval = float(g("scan_interval", 60))
        self.eval_frequency = max(int(g("eval_frequency", 1) or 1), 1)
        self.single_pass = bool(g("single_pass", False))
        self.num_eval_envs = g("num_eval_envs", None)
        self.num_render_videos = int(g("num_render_videos", 0) or 0)
        self.eval_timeout_s = float(g("eval_timeout_s", 3600))
        self.eval_args = [str(a) for a in (g("eval_args", None) or [])]
        self.render_args = [str(a) for a in (g("render_args", None) or [])]
        self.python = str(g("python", None) or sys.executable)
        self.max_scans = g("max_scans", None)
        wb = g("wandb", None) or {}
        self.wandb_cfg = dict(wb) if not hasattr(wb, "items") else {k: v for k, v in wb.items()}
        self.eval_root = self.experiment_dir / "eval"
        self.ledger_path = self.eval_root / "ledger.json"
        self.ledger: dict[str, Any] = self._load_ledger()
        self._wandb_run = None
        self.launched: list[str] = []  # subprocess commands run by this instance (tests read it)

    # ------------------------------------------------------------------ ledger
    def _load_ledger(self) -> dict[str, Any]:
        if self.ledger_path.is_file():
            try:
                data = json.loads(self.ledger_path.read_text())
                if isinstance(data, dict) and isinstance(data.get("checkpoints"), dict):
                    return data
            except (OSError, json.JSONDecodeError):
                bad = self.ledger_path.with_suffix(f".corrupt.{int(time.time())}")
                os.replace(self.ledger_path, bad)
                print(f"monitor: unreadable ledger moved to {bad}", file=sys.stderr)
        return {"experiment_dir": str(self.experiment_dir), "checkpoints": {}}

    def _record(self, name: str, entry: dict[str, Any]) -> None:
        self.ledger["checkpoints"][name] = entry
        write_json_atomic(self.ledger_path, self.ledger)

    # ------------------------------------------------------------------ scanning
    def checkpoints(self) -> list[Path]:
        found = [(checkpoint_iteration(p), p) for p in self.experiment_dir.glob("model_*.pt")]
        return [p for it, p in sorted((it, p) for it, p in found if it is not None)]

    def pending(self) -> list[Path]:
        all_ckpts = self.checkpoints()
        chosen = [p for i, p in enumerate(all_ckpts) if i % self.eval_frequency == 0]
        return [p for p in chosen if p.name not in self.ledger["checkpoints"]]

    # ------------------------------------------------------------------ one checkpoint
    def _run(self, args: list[str]) -> subprocess.CompletedProcess:
        cmd = [self.python, "-m", "sonic_train.cli.eval", *args]
        self.launched.append(" ".join(cmd))
        env = dict(os.environ)
        env.setdefault("MUJOCO_GL", os.environ.get("MUJOCO_GL", "egl"))
        return subprocess.run(cmd, capture_output=True, text=True, timeout=self.eval_timeout_s, env=env)

    def evaluate(self, ckpt: Path) -> dict[str, Any]:
        out_dir = self.eval_root / ckpt.stem
        it = checkpoint_iteration(ckpt)
        entry: dict[str, Any] = {"iteration": it, "started": time.strftime("%Y-%m-%dT%H:%M:%S")}
        t0 = time.perf_counter()
        args = [f"++checkpoint={ckpt}", "++run_once=True", f"++output_dir={out_dir}"]
        if self.num_eval_envs:
            args.append(f"++num_envs={int(self.num_eval_envs)}")
        try:
            proc = self._run(args + self.eval_args)
            rc, err = proc.returncode, proc.stderr
        except subprocess.TimeoutExpired as exc:
            rc, err = -9, f"timed out after {self.eval_timeout_s:.0f} s\n{(exc.stderr or b'')!s}"
        metrics_file = out_dir / "metrics.json"
        if rc != 0 or not metrics_file.is_file():
            entry.update({"status": "failed", "returncode": rc, "stderr_tail": (err or "")[-STDERR_TAIL:],
                          "seconds": time.perf_counter() - t0})
            return entry
        summary = json.loads(metrics_file.read_text())
        agg = summary.get("aggregate", {})
        entry.update({"status": "done", "metrics_file": str(metrics_file), "seconds": time.perf_counter() - t0,
                      "aggregate": {k: v for k, v in agg.items() if not isinstance(v, dict)}})
        if self.num_render_videos > 0:
            vargs = [f"++checkpoint={ckpt}", "++headless=True", f"++metrics_file={metrics_file}",
                     f"++output_dir={out_dir}", f"++video.num_videos={self.num_render_videos}", "++run_once=True"]
            try:
                vp = self._run(vargs + self.render_args)
                vrc, verr = vp.returncode, vp.stderr
            except subprocess.TimeoutExpired:
                vrc, verr = -9, "video rendering timed out"
            vids = sorted((out_dir / "worst" / "videos").glob("*.mp4"))
            entry["videos"] = [str(v) for v in vids]
            if vrc != 0:
                entry["videos_error"] = (verr or "")[-STDERR_TAIL:]
        entry["wandb"] = self._log_wandb(entry, summary)
        return entry

    # ------------------------------------------------------------------ W&B
    def _wandb(self):
        if self._wandb_run is not None:
            return self._wandb_run
        import wandb

        found = find_wandb_run(self.experiment_dir) or {}
        kw: dict[str, Any] = {"dir": str(self.experiment_dir), "project": self.wandb_cfg.get("project") or
                              found.get("project") or "sonic", "job_type": "eval"}
        if self.wandb_cfg.get("entity") or found.get("entity"):
            kw["entity"] = self.wandb_cfg.get("entity") or found.get("entity")
        if found.get("id"):
            kw.update({"id": found["id"], "resume": "allow"})
        mode = self.wandb_cfg.get("mode") or os.environ.get("WANDB_MODE")
        if mode:
            kw["mode"] = mode
        run = wandb.init(**kw)
        run.define_metric("eval/iteration")
        run.define_metric("eval/*", step_metric="eval/iteration")
        self._wandb_run = run
        return run

    def _log_wandb(self, entry: dict[str, Any], summary: dict[str, Any]) -> str:
        if not self.wandb_cfg.get("enabled", True):
            return "disabled"
        try:
            import wandb

            run = self._wandb()
            data: dict[str, Any] = {"eval/iteration": entry["iteration"]}
            for k, v in summary.get("aggregate", {}).items():
                if isinstance(v, (int, float)) and v is not None:
                    data[f"eval/{k}"] = v
                elif isinstance(v, dict):
                    for b, x in v.items():
                        if isinstance(x, (int, float)):
                            data[f"eval/{k}/{b}"] = x
            for m in summary.get("per_motion", []):
                data[f"eval/motion/{m['motion']}/mpjpe_g_mm"] = m["mpjpe_g_mm"]
                data[f"eval/motion/{m['motion']}/success"] = m["success"]
            for v in entry.get("videos", []):
                data[f"eval/video/{Path(v).stem}"] = wandb.Video(v, format="mp4")
            run.log(data)
            return f"logged to run {run.id}"
        except Exception as exc:  # noqa: BLE001 - W&B trouble must not stop the monitor
            print(f"monitor: W&B logging failed: {exc}", file=sys.stderr)
            return f"failed: {exc}"

    # ------------------------------------------------------------------ loop
    def scan_once(self) -> list[str]:
        done = []
        for ckpt in self.pending():
            print(f"monitor: evaluating {ckpt.name}", flush=True)
            entry = self.evaluate(ckpt)
            entry["finished"] = time.strftime("%Y-%m-%dT%H:%M:%S")
            self._record(ckpt.name, entry)
            msg = (f"success {entry['aggregate'].get('success_rate')}, MPJPE-G {entry['aggregate'].get('mpjpe_g_mm')}"
                   if entry["status"] == "done" else (entry.get("stderr_tail") or "").strip().splitlines()[-1:] or "")
            print(f"monitor: {ckpt.name} {entry['status']} ({entry['seconds']:.1f} s) {msg}", flush=True)
            done.append(ckpt.name)
        return done

    def run(self) -> dict[str, Any]:
        scans = 0
        try:
            while True:
                self.scan_once()
                scans += 1
                if self.single_pass or (self.max_scans is not None and scans >= int(self.max_scans)):
                    break
                time.sleep(self.scan_interval)
        except KeyboardInterrupt:
            print("monitor: stopped", file=sys.stderr)
        finally:
            if self._wandb_run is not None:
                self._wandb_run.finish()
                self._wandb_run = None
        return self.ledger
