"""``sonic-train``: PPO training of the universal-token policy (Hydra: config_path configs, config_name base)."""

from __future__ import annotations

import sys

from sonic_train.cli._pending import pending_main

DESCRIPTION = "Train the universal-token policy with PPO on a simulator backend (sim=mujoco|isaaclab)."
EPILOG = """examples:
  sonic-train +exp=manager/universal_token/all_modes/sonic_release sim=mujoco num_envs=64
  sonic-train +exp=manager/universal_token/all_modes/sonic_smoke +resume=logs/run/model_100.pt
"""


def main(argv: list[str] | None = None) -> int:
    return pending_main("sonic-train", DESCRIPTION, EPILOG, sys.argv[1:] if argv is None else argv)
