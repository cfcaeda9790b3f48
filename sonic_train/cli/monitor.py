"""``sonic-monitor``: evaluate new checkpoints of a running experiment as they appear."""

from __future__ import annotations

import sys

from sonic_train.cli._pending import pending_main

DESCRIPTION = "Watch an experiment folder, evaluate each new checkpoint, render the hardest motions, log to W&B."
EPILOG = """examples:
  sonic-monitor ++experiment_dir=logs/run ++scan_interval=60 ++single_pass=True
"""


def main(argv: list[str] | None = None) -> int:
    return pending_main("sonic-monitor", DESCRIPTION, EPILOG, sys.argv[1:] if argv is None else argv)
