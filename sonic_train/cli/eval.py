"""``sonic-eval``: evaluate one checkpoint on a motion library (metrics, CSV, videos)."""

from __future__ import annotations

import sys

from sonic_train.cli._pending import pending_main

DESCRIPTION = "Evaluate a checkpoint on every motion of a library: success rate, MPJPE, joint errors; videos."
EPILOG = """examples:
  sonic-eval +checkpoint=logs/run/model_500.pt +run_once=True
  sonic-eval +checkpoint=logs/run/model_500.pt +headless=True +metrics_file=logs/run/eval/metrics.json
"""


def main(argv: list[str] | None = None) -> int:
    return pending_main("sonic-eval", DESCRIPTION, EPILOG, sys.argv[1:] if argv is None else argv)
