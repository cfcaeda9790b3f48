"""``sonic-monitor``: evaluate new checkpoints of a running experiment as they appear (Hydra config ``eval_exp``)."""

from __future__ import annotations

# Imports of torch, the simulator and the training stack sit inside the command's functions: `--help` and a bad
# argument answer before they load (seconds on a small machine). No import is deferred to avoid a cycle.

import sys

DESCRIPTION = "Watch an experiment folder, evaluate each new checkpoint, render the hardest motions, log to W&B."
EPILOG = """examples:
  sonic-monitor ++experiment_dir=logs/run ++scan_interval=60 ++single_pass=True
"""
FREE_KEYS = {"experiment_dir"}


def run(cfg) -> dict:
    from sonic_train.monitor import CheckpointEvaluator

    return CheckpointEvaluator(cfg).run()


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if any(a in ("-h", "--help") for a in argv):
        print(f"usage: sonic-monitor ++experiment_dir=PATH [HYDRA OVERRIDES ...]\n\n{DESCRIPTION}\n\n{EPILOG}")
        return 0
    from sonic_train.eval.common import hydra_argv, run_hydra

    ledger = run_hydra("eval_exp", hydra_argv(argv, FREE_KEYS), run, "sonic-monitor") or {}
    failed = [k for k, v in ledger.get("checkpoints", {}).items() if v.get("status") == "failed"]
    if failed:
        print(f"sonic-monitor: failed evaluations: {failed} (see {ledger.get('experiment_dir')}/eval/ledger.json)",
              file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
