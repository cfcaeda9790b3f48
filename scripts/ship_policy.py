"""Package a trained checkpoint as a shipped policy: checkpoint, config, ONNX exports, evaluation and sim2sim.

    .venv/bin/python scripts/ship_policy.py logs/real_main/model_600.pt --out policies/g1_sonic_real \\
        --baseline policies/g1_sonic_smoke --env-steps 921600 --wall-time "3 h 10 min"

Writes into ``--out``: ``model.pt`` (the checkpoint, loadable with weights_only), ``config.yaml`` (the training
config, machine paths removed), ``policy.onnx`` + ``policy.decoder.onnx`` (``sonic-export``, encoder g1) and
``policy_smpl.onnx`` / ``policy_teleop.onnx`` (the other encoders), ``eval/<encoder>_<split>/metrics.json``
(``sonic-eval`` per clip of the motion set's train and held-out splits, each encoder), ``sim2sim.json``
(``sonic-deploy sim2sim`` in-process per clip: encoder g1 on both splits, the other encoders on held-out),
``SHIPPED.md`` (provenance and the per-clip tables). With ``--baseline``, the baseline policy is evaluated the
same way on the held-out clips (``compare/``) and SHIPPED.md gets the side-by-side table. Steps whose output
already exists are skipped (``--redo`` forces them), so an interrupted packaging run picks up where it stopped.
With ``--motions synthetic`` it packages a policy of the synthetic set (one split, ``all``), as before.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from sonic_deploy.sim2sim import run_each_clip
from sonic_train.envs.factory import resolve_motions

BIN = Path(sys.executable).parent
ENCODERS = ("g1", "smpl", "teleop")
ONNX = {"g1": "policy.onnx", "smpl": "policy_smpl.onnx", "teleop": "policy_teleop.onnx"}


def clean_config(src: Path, dst: Path, out_dir: Path) -> dict:
    cfg = yaml.safe_load(src.read_text())
    cfg["experiment_dir"] = str(out_dir)
    cfg.pop("resume", None)
    if cfg.get("motions"):  # the machine's cache path -> the portable form the README uses
        cfg["motions"] = str(cfg["motions"]).replace(str(Path.home()), "~")
    dst.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return cfg


def splits_of(motions: str) -> dict[str, Path]:
    if motions == "synthetic":
        return {"all": resolve_motions(None)}
    root = Path(motions).expanduser()
    return {s: root / s for s in ("train", "held_out") if (root / s).is_dir()}


def evaluate(checkpoint: Path, encoder: str, clips: Path, out: Path, redo: bool) -> dict:
    if redo or not (out / "metrics.json").is_file():
        subprocess.run([BIN / "sonic-eval", f"+checkpoint={checkpoint}", "+run_once=True", f"encoder={encoder}",
                        f"motions={clips}", f"+output_dir={out}"], check=True)
    return json.loads((out / "metrics.json").read_text())


def sim2sim(policy: Path, clips: list[Path], out: Path, redo: bool) -> dict:
    if redo or not out.is_file():
        out.write_text(json.dumps(run_each_clip(policy, clips), indent=2))
    return json.loads(out.read_text())


def per_clip_rows(evals: dict, sims: dict, encoders: list[str]) -> list[str]:
    rows = ["| clip | encoder | eval success / progress | eval MPJPE global / root-rel (mm) | eval joint err (rad) "
            "| sim2sim success | sim2sim MPJPE global / root-rel (mm) | sim2sim joint err (rad) |",
            "|---|---|---|---|---|---|---|---|"]
    clips = sorted({m["motion"] for e in evals.values() for m in e["per_motion"]})
    for clip in clips:
        for enc in encoders:
            m = next((m for m in evals[enc]["per_motion"] if m["motion"] == clip), None) if enc in evals else None
            s = sims.get(enc, {}).get(clip)
            ev = (f"{m['success']} / {m['progress']:.2f} | {m['mpjpe_g_mm']:.0f} / {m['mpjpe_l_mm']:.0f} | "
                  f"{m['joint_pos_err']:.3f}") if m else "- | - | -"
            sv = (f"{s['success']} | {s['mpjpe_global_mm']:.0f} / {s['mpjpe_root_mm']:.0f} | "
                  f"{s['joint_error_rad']:.3f}") if s else "- | - | -"
            rows.append(f"| {clip} | {enc} | {ev} | {sv} |")
    return rows


def summary_rows(evals: dict[str, dict], sims: dict[str, dict]) -> list[str]:
    rows = ["| split | encoder | eval success | eval MPJPE global / root-rel (mm) | eval joint err (rad) | sim2sim "
            "success | sim2sim MPJPE global / root-rel (mm) | sim2sim joint err (rad) |",
            "|---|---|---|---|---|---|---|---|"]
    for key in sorted(evals):
        enc, split = key.split("@")
        pm = evals[key]["per_motion"]
        mean = lambda xs: sum(xs) / len(xs) if xs else float("nan")  # noqa: E731
        sv = [v for c, v in sims.get(enc, {}).items() if c in {m["motion"] for m in pm}]
        sim_txt = (f"{sum(v['success'] for v in sv)}/{len(sv)} | {mean([v['mpjpe_global_mm'] for v in sv]):.0f} / "
                   f"{mean([v['mpjpe_root_mm'] for v in sv]):.0f} | {mean([v['joint_error_rad'] for v in sv]):.3f}"
                   if sv else "- | - | -")
        rows.append(f"| {split} | {enc} | {sum(m['success'] for m in pm)}/{len(pm)} | "
                    f"{mean([m['mpjpe_g_mm'] for m in pm]):.0f} / {mean([m['mpjpe_l_mm'] for m in pm]):.0f} | "
                    f"{mean([m['joint_pos_err'] for m in pm]):.3f} | {sim_txt} |")
    return rows


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("checkpoint", type=Path)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--motions", default="~/.cache/sonic/motions/deepmimic",
                   help="motion-set folder with train/ and held_out/ (or 'synthetic')")
    p.add_argument("--encoders", nargs="+", default=list(ENCODERS))
    p.add_argument("--baseline", type=Path, help="a shipped policy folder compared on the held-out clips")
    p.add_argument("--command", default="", help="the training command(s), recorded in SHIPPED.md")
    p.add_argument("--env-steps", type=int, help="total env steps of the training runs (SHIPPED.md)")
    p.add_argument("--wall-time", default="", help="total wall time of the training runs (SHIPPED.md)")
    p.add_argument("--notes", type=Path, help="a markdown file appended to SHIPPED.md")
    p.add_argument("--redo", action="store_true")
    args = p.parse_args()
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    if args.redo or not (out / "model.pt").is_file() or args.checkpoint.resolve() != (out / "model.pt").resolve():
        shutil.copyfile(args.checkpoint, out / "model.pt")
    clean_config(args.checkpoint.parent / "config.yaml", out / "config.yaml", out)
    for enc in args.encoders:
        if args.redo or not (out / ONNX[enc]).is_file():
            subprocess.run([BIN / "sonic-export", f"+checkpoint={out / 'model.pt'}", f"+encoder={enc}",
                            f"+out={out / ONNX[enc]}"], check=True)
    splits = splits_of(args.motions)
    evals = {f"{enc}@{split}": evaluate(out / "model.pt", enc, clips, out / "eval" / f"{enc}_{split}", args.redo)
             for split, clips in splits.items() for enc in args.encoders}
    sim_clips = {enc: sorted(c for split, d in splits.items() if enc == "g1" or split != "train"
                             for c in d.glob("*.npz")) for enc in args.encoders}
    sims = {enc: sim2sim(out / ONNX[enc], sim_clips[enc], out / f"sim2sim_{enc}.json", args.redo)
            for enc in args.encoders}
    shutil.copyfile(out / "sim2sim_g1.json", out / "sim2sim.json")
    iteration = next(iter(evals.values()))["iteration"]
    parts = [f"# Shipped policy: {out.name}\n",
             "Trained by this repository's `sonic-train` on the CPU MuJoCo backend, no outside weights.\n",
             f"- checkpoint: `model.pt`, iteration {iteration}",
             f"- exports: {', '.join(f'`{ONNX[e]}` (encoder {e})' for e in args.encoders)}; `policy.decoder.onnx` "
             "(token input)",
             f"- motions: `{args.motions}` (splits: {', '.join(splits)}; training saw only `train`)"]
    if args.env_steps:
        parts.append(f"- total env steps (all training runs): {args.env_steps:,}")
    if args.wall_time:
        parts.append(f"- total wall time (all training runs): {args.wall_time}")
    parts += ["- training command(s):\n", f"```\n{args.command}\n```\n",
              "Evaluation: `sonic-eval` (each clip once from its start; an episode ends as a failure on the "
              "training terminations that no curriculum retunes: pelvis height off the reference by > 0.25 m, "
              "pelvis below 0.3 m, a non-foot contact), and sim-to-sim: `sonic-deploy sim2sim` in-process (damping "
              "-> ramp -> policy, the clip once, success = no fall/fault), same MuJoCo scene. MPJPE: mean body "
              "position error, world frame (global) and root-relative; joint error: mean |q - q_ref|.\n",
              "## Summary (mean over clips)\n", *summary_rows(evals, sims), ""]
    for split in splits:
        parts += [f"## Per clip: {split}\n",
                  *per_clip_rows({e: evals[f"{e}@{split}"] for e in args.encoders},
                                 {e: {c: v for c, v in sims[e].items()
                                      if c in {m['motion'] for m in evals[f'{e}@{split}']['per_motion']}}
                                  for e in args.encoders}, args.encoders), ""]
    if args.baseline and "held_out" in splits:
        base = args.baseline
        cmp_dir = out / "compare" / base.name
        cmp_dir.mkdir(parents=True, exist_ok=True)
        b_evals = {e: evaluate(base / "model.pt", e, splits["held_out"], cmp_dir / f"eval_{e}", args.redo)
                   for e in args.encoders}
        b_sims = sim2sim(base / "policy.onnx", sorted(splits["held_out"].glob("*.npz")), cmp_dir / "sim2sim_g1.json",
                         args.redo)
        rows = ["| clip | encoder | policy | eval success / progress | eval MPJPE global / root-rel (mm) | eval joint "
                "err (rad) | sim2sim success | sim2sim MPJPE global / root-rel (mm) | sim2sim joint err (rad) |",
                "|---|---|---|---|---|---|---|---|---|"]
        for clip in sorted(c.stem for c in splits["held_out"].glob("*.npz")):
            for enc in args.encoders:
                for name, ev, sm in ((base.name, b_evals[enc], b_sims if enc == "g1" else {}),
                                     (out.name, evals[f"{enc}@held_out"], sims[enc])):
                    m = next(m for m in ev["per_motion"] if m["motion"] == clip)
                    s = sm.get(clip)
                    sv = (f"{s['success']} | {s['mpjpe_global_mm']:.0f} / {s['mpjpe_root_mm']:.0f} | "
                          f"{s['joint_error_rad']:.3f}") if s else "- | - | -"
                    rows.append(f"| {clip} | {enc} | {name} | {m['success']} / {m['progress']:.2f} | "
                                f"{m['mpjpe_g_mm']:.0f} / {m['mpjpe_l_mm']:.0f} | {m['joint_pos_err']:.3f} | {sv} |")
        parts += [f"## Held out: {out.name} against {base.name}\n", *rows, ""]
    parts.append("Training curve: `training_curve.png` (`scripts/plot_training.py`).\n")
    if args.notes and args.notes.is_file():
        parts.append(args.notes.read_text())
    (out / "SHIPPED.md").write_text("\n".join(parts))
    print((out / "SHIPPED.md").read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
