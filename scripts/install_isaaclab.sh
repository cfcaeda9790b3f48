#!/usr/bin/env bash
# Build ./.venv-isaaclab: the Isaac Lab 3 backend's own Python 3.12 environment (sim=isaaclab).
#   1. isaaclab==3.0.0 with everything it pins (torch 2.11 CUDA build - it runs on CPU too -, warp-lang,
#      newton[sim] with mujoco-warp, rsl-rl-lib); about 7.8 GB installed, 2-3 minutes from a warm pip cache.
#   2. sonic itself with --no-deps (its main extras would replace isaaclab's torch and mujoco), then the few
#      pure-Python packages sonic needs that isaaclab does not bring, constrained to isaaclab's pins.
#   3. the G1 model (once, into ~/.cache/sonic/assets).
# Safe to run again. pip's cache (~/.cache/pip) is reused.
#   PYTHON312=/path/to/python3.12       interpreter (default: python3.12 on PATH, else pyenv's 3.12)
#   SONIC_ISAACLAB_VENV=.venv-isaaclab  where to build it
#   SONIC_ISAACLAB_EXTRAS=isaacsim      Isaac Lab extras: `isaacsim` adds Isaac Sim 6.2 (PhysX, RTX; GPU servers
#                                       only, tens of GB); kit-less Newton needs none
set -euo pipefail
cd "$(dirname "$0")/.."
ISAACLAB_VERSION=3.0.0
VENV=${SONIC_ISAACLAB_VENV:-.venv-isaaclab}
PY=""
for cand in ${PYTHON312:-} python3.12 "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.12*/bin/python3.12 /usr/bin/python3.12; do
  if "$cand" -c 'import sys; assert sys.version_info[:2] == (3, 12)' 2>/dev/null; then PY=$cand; break; fi
done
if [ -z "$PY" ]; then
  echo "[install_isaaclab] error: Isaac Lab $ISAACLAB_VERSION needs Python 3.12; set PYTHON312=/path/to/python3.12" >&2
  exit 1
fi
NICE=(nice -n 10)
if [ ! -x "$VENV/bin/python" ]; then
  echo "[install_isaaclab] creating $VENV with $("$PY" --version)"
  "$PY" -m venv "$VENV"
fi
PIP=("${NICE[@]}" "$VENV/bin/python" -m pip --disable-pip-version-check -q)
"${PIP[@]}" install --upgrade pip 'setuptools>=68' wheel
EXTRAS=${SONIC_ISAACLAB_EXTRAS:-}
SPEC="isaaclab${EXTRAS:+[$EXTRAS]}==$ISAACLAB_VERSION"
if [ "$("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("isaaclab"))' 2>/dev/null)" != "$ISAACLAB_VERSION" ] \
   || { [[ ",$EXTRAS," == *",isaacsim,"* ]] && ! "$VENV/bin/python" -c "import isaacsim" 2>/dev/null; }; then
  echo "[install_isaaclab] $SPEC (torch, warp, newton, mujoco-warp: a few GB)"
  "${PIP[@]}" install "$SPEC"
fi
# Keep what isaaclab pinned: pip may add packages, never swap these.
CONSTRAINTS="$VENV/isaaclab-constraints.txt"
"$VENV/bin/python" -m pip --disable-pip-version-check freeze \
  | grep -iE '^(torch|torchvision|warp-lang|numpy|mujoco|mujoco-warp|newton|isaaclab|hydra-core|omegaconf)==' > "$CONSTRAINTS"
echo "[install_isaaclab] sonic (--no-deps) and its extra pure-Python deps"
"${PIP[@]}" install -c "$CONSTRAINTS" pytest accelerate onnxruntime rich tqdm pyyaml
"${PIP[@]}" install --no-deps -e .
echo "[install_isaaclab] G1 robot model"
"$VENV/bin/python" -c "from sonic_deploy.robots.assets import fetch_g1; print(fetch_g1())"
"$VENV/bin/python" - <<'PY'
import importlib.metadata as m
import torch
for pkg in ("isaaclab", "torch", "warp-lang", "newton", "mujoco-warp", "mujoco"):
    print(f"[install_isaaclab] {pkg} {m.version(pkg)}")
print(f"[install_isaaclab] done: cuda available: {torch.cuda.is_available()}")
PY
