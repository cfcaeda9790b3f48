"""``sonic-eval``: evaluate one checkpoint on a motion library (metrics, CSV, videos). Hydra config ``base_eval``.

Keys (``+key=value``): ``checkpoint`` (required), ``run_once`` (one episode per motion, then exit; without it
the evaluation repeats until ``max_passes`` or Ctrl-C), ``headless`` (render MP4s of the evaluated motions),
``metrics_file`` (with ``headless``: render the ``video.num_videos`` worst motions of that earlier evaluation),
``motions``, ``motion_names``, ``encoder``, ``num_envs``, ``output_dir``, ``max_episode_s``; see configs/base_eval.yaml.
"""

from __future__ import annotations

# Imports of torch, the simulator and the training stack sit inside the command's functions: `--help` and a bad
# argument answer before they load (seconds on a small machine). No import is deferred to avoid a cycle.

import sys
from pathlib import Path
from typing import Any

DESCRIPTION = "Evaluate a checkpoint on every motion of a library: success rate, MPJPE, joint errors; videos."
EPILOG = """examples:
  sonic-eval +checkpoint=logs/run/model_500.pt +run_once=True
  sonic-eval +checkpoint=logs/run/model_500.pt +headless=True +metrics_file=logs/run/eval/model_500/metrics.json
"""
FREE_KEYS = {"checkpoint", "run_once", "headless", "metrics_file", "motions", "motion_names", "encoder", "num_envs",
             "output_dir", "max_episode_s", "max_passes", "video", "eval_overrides", "seed", "quiet"}


def default_output_dir(checkpoint: str) -> Path:
    p = Path(checkpoint).expanduser().resolve()
    return p.parent / "eval" / p.stem


def run(cfg: Any) -> dict[str, Any]:
    """Evaluate per the composed ``base_eval`` config; returns the summary of the last pass."""
    from sonic_train.eval.common import EvalError
    from sonic_train.eval.evaluator import Evaluator
    from sonic_train.eval.metrics import hardest
    from sonic_train.eval.report import load_metrics, print_summary, write_outputs

    ckpt = cfg.get("checkpoint", None)
    if not ckpt:
        raise EvalError("sonic-eval: +checkpoint=PATH is required")
    out_dir = Path(str(cfg.get("output_dir", None) or default_output_dir(str(ckpt))))
    headless = bool(cfg.get("headless", False))
    motion_names = list(cfg.get("motion_names", None) or []) or None
    video_cfg = dict(cfg.get("video", None) or {})
    if cfg.get("metrics_file", None):
        prev = load_metrics(str(cfg.metrics_file))
        motion_names = hardest(prev["per_motion"], int(video_cfg.get("num_videos", 3)))
        out_dir = out_dir / "worst"
        headless = True
    elif headless and video_cfg.get("motions", None):
        motion_names = list(video_cfg["motions"])
    passes = 1 if cfg.get("run_once", False) else cfg.get("max_passes", None)
    done = 0
    summary: dict[str, Any] = {}
    while passes is None or done < int(passes):
        ev = Evaluator(str(ckpt), cfg, motion_names=motion_names, quiet=bool(cfg.get("quiet", True)))
        rec = None
        if headless:
            from sonic_train.eval.video import EvalVideoRecorder

            rec = EvalVideoRecorder(ev, out_dir / "videos", video_cfg)
        try:
            ev.run(progress=not bool(cfg.get("quiet", True)))
        finally:
            if rec is not None:
                rec.close()
            ev.close()
        summary = ev.summary()
        summary["pass"] = done
        if rec is not None:
            summary["videos"] = {k: str(v) for k, v in rec.paths.items()}
        paths = write_outputs(summary, out_dir)
        print_summary(summary)
        print(f"metrics: {paths['json']}  csv: {paths['csv']}")
        if rec is not None:
            print(f"videos: {out_dir / 'videos'} ({len(rec.paths)})")
        done += 1
    return summary


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if any(a in ("-h", "--help") for a in argv):
        print(f"usage: sonic-eval +checkpoint=PATH [HYDRA OVERRIDES ...]\n\n{DESCRIPTION}\n\n{EPILOG}")
        return 0
    if any(a.split("=", 1)[0].lstrip("+") == "headless" and a.split("=", 1)[-1].lower() == "true" for a in argv) or \
            any(a.split("=", 1)[0].lstrip("+") == "metrics_file" for a in argv):
        from sonic_deploy.render import ensure_gl_backend

        ensure_gl_backend()
    from sonic_train.eval.common import EvalError, hydra_argv, run_hydra

    try:
        run_hydra("base_eval", hydra_argv(argv, FREE_KEYS), run, "sonic-eval")
    except EvalError as exc:
        print(f"sonic-eval: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
