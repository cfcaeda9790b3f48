#!/usr/bin/env bash
# Regenerate the Isaac Lab backend's assets (G1 USD, ground USD) from the project's G1 scene.
# Needs ./.venv (sonic, mujoco 4, the G1 MJCF fetched) and a Python 3.12 venv with mujoco-usd-converter
# (built here as ./.venv-usd on first use). No Isaac Sim, no network beyond PyPI.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=sonic_train/envs/isaaclab/assets
PY312=${PYTHON312:-$(command -v python3.12 || echo /root/.pyenv/versions/3.12.1/bin/python3.12)}
if [ ! -x .venv-usd/bin/mujoco_usd_converter ]; then
  "$PY312" -m venv .venv-usd
  .venv-usd/bin/python -m pip install --disable-pip-version-check -q "mujoco-usd-converter==0.8.0"
fi
TMP=$(mktemp -d)
.venv/bin/python scripts/make_g1_usd.py export "$TMP/g1_29dof.xml" "$@"
.venv-usd/bin/python scripts/make_g1_usd.py convert "$TMP/g1_29dof.xml" "$OUT/g1_29dof.usdc"
.venv/bin/python scripts/make_g1_usd.py ground "$OUT/ground_plane.usda"
cp "$TMP/g1_29dof.xml" "$OUT/g1_29dof_source.xml"
rm -rf "$TMP"
