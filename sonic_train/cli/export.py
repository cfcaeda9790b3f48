"""``sonic-export``: ONNX of one encoder + FSQ + dynamic decoder with the robot contract in its metadata."""

from __future__ import annotations

import sys

from sonic_train.cli._pending import pending_main

DESCRIPTION = "Export one encoder + FSQ + g1_dyn decoder to ONNX with the robot/observation contract as metadata."
EPILOG = """examples:
  sonic-export +checkpoint=logs/run/model_500.pt +encoder=g1 +out=policy.onnx
"""


def main(argv: list[str] | None = None) -> int:
    return pending_main("sonic-export", DESCRIPTION, EPILOG, sys.argv[1:] if argv is None else argv)
