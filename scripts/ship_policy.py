"""Package a trained checkpoint as the shipped policy: checkpoint, config, ONNX export, evaluation and sim2sim.

    .venv/bin/python scripts/ship_policy.py logs/ship_g1/model_2000.pt --out policies/g1_sonic_smoke

Writes into ``--out``: ``model.pt`` (the checkpoint, loadable with weights_only), ``config.yaml`` (the training
config, machine paths removed), ``policy.onnx`` (``sonic-export``, encoder g1, parity-checked),
``eval/metrics.json`` (``sonic-eval`` on every synthetic motion), ``sim2sim.json`` (``sonic-deploy sim2sim``
in-process on every synthetic motion, the same physics) and ``SHIPPED.md`` (provenance and the two tables).
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


def clean_config(src: Path, dst: Path, out_dir: Path) -> dict:
    cfg = yaml.safe_load(src.read_text())
    cfg["experiment_dir"] = str(out_dir)
    cfg.pop("resume", None)
    dst.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return cfg


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("checkpoint", type=Path)
    p.add_argument("--out", type=Path, default=Path("policies/g1_sonic_smoke"))
    p.add_argument("--command", default="", help="the training command(s), recorded in SHIPPED.md")
    args = p.parse_args()
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(args.checkpoint, out / "model.pt")
    clean_config(args.checkpoint.parent / "config.yaml", out / "config.yaml", out)
    subprocess.run([BIN / "sonic-export", f"+checkpoint={out / 'model.pt'}", "+encoder=g1",
                    f"+out={out / 'policy.onnx'}"], check=True)
    subprocess.run([BIN / "sonic-eval", f"+checkpoint={out / 'model.pt'}", "+run_once=True",
                    f"+output_dir={out / 'eval'}"], check=True)
    metrics = json.loads((out / "eval" / "metrics.json").read_text())
    sims = run_each_clip(out / "policy.onnx", sorted(resolve_motions(None).glob("*.npz")))
    (out / "sim2sim.json").write_text(json.dumps(sims, indent=2))
    rows = ["| motion | eval success | eval MPJPE global / root-rel (mm) | sim2sim success | sim2sim MPJPE global / "
            "root-rel (mm) |", "|---|---|---|---|---|"]
    for m in metrics["per_motion"]:
        s = sims.get(m["motion"], {})
        rows.append(f"| {m['motion']} | {m['success']} | {m['mpjpe_g_mm']:.1f} / {m['mpjpe_l_mm']:.1f} | "
                    f"{s.get('success', '-')} | {s.get('mpjpe_global_mm') or float('nan'):.1f} / "
                    f"{s.get('mpjpe_root_mm') or float('nan'):.1f} |")
    (out / "SHIPPED.md").write_text(
        f"# Shipped policy: {out.name}\n\nTrained by this repository's `sonic-train` on the CPU MuJoCo backend "
        f"(synthetic motion set), no outside weights.\n\n- checkpoint: `model.pt`, iteration {metrics['iteration']}\n"
        f"- export: `policy.onnx` (encoder g1)\n- training command(s):\n\n```\n{args.command}\n```\n\n"
        "Evaluation (`sonic-eval`, each motion once from its start) and sim-to-sim (`sonic-deploy sim2sim`, "
        "in-process, damping -> ramp -> policy, the clip once), same MuJoCo scene:\n\n" + "\n".join(rows) + "\n")
    print((out / "SHIPPED.md").read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
