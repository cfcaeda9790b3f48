#!/usr/bin/env bash
# A second environment (.venv-dds010, Python 3.11) with cyclonedds 0.10.2, the DDS version Unitree's SDK pins and
# the G1's firmware is reported to run. tests/field/test_dds_interop.py runs the MuJoCo bridge in it against a
# driver on the main environment's cyclonedds 11.0.1; tests/deploy/test_unitree_sdk_peer.py runs Unitree's SDK in
# it. Needs the CycloneDDS C library 0.10.2 (Debian 12: apt-get install cyclonedds-dev; this script installs it when
# run as root and SONIC_APT=1 or CI=true).
# PyPI has no cp311 wheel for cyclonedds 0.10.2: it builds from the sdist against the system library, with
# CYCLONEDDS_HOME pointing at a folder whose include/lib/bin link to the system ones. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-$(command -v python3.11 || command -v python3)}
VENV=${SONIC_DDS010_VENV:-.venv-dds010}
if ! [ -e /usr/include/dds/dds.h ]; then
  if { [ "${CI:-}" = "true" ] || [ "${SONIC_APT:-}" = "1" ]; } && [ "$(id -u)" = "0" ]; then
    echo "[dds010] cyclonedds-dev (apt)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq cyclonedds-dev || true
  fi
fi
if ! [ -e /usr/include/dds/dds.h ]; then
  echo "[dds010] warning: the CycloneDDS C headers (cyclonedds-dev) are missing; the 0.10.2 interop test will be skipped" >&2
  exit 0
fi
HOME_DIR="$PWD/$VENV/cyclonedds-home"
if [ ! -x "$VENV/bin/python" ]; then
  echo "[dds010] creating $VENV with $($PY --version)"
  "$PY" -m venv "$VENV"
fi
mkdir -p "$HOME_DIR"
LIBDIR=$(dirname "$(ls /usr/lib/*/libddsc.so /usr/lib/libddsc.so 2>/dev/null | head -1)")
ln -sfn /usr/include "$HOME_DIR/include"
ln -sfn "$LIBDIR" "$HOME_DIR/lib"
ln -sfn /usr/bin "$HOME_DIR/bin"
PIP=("$VENV/bin/python" -m pip --disable-pip-version-check -q)
"${PIP[@]}" install --upgrade pip 'setuptools>=68' wheel
if ! "$VENV/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('cyclonedds') != '0.10.2')" 2>/dev/null; then
  echo "[dds010] cyclonedds 0.10.2 from the sdist against $(readlink -f "$LIBDIR/libddsc.so")"
  if ! CYCLONEDDS_HOME="$HOME_DIR" "${PIP[@]}" install --no-binary cyclonedds --no-build-isolation "cyclonedds==0.10.2"; then
    echo "[dds010] warning: cyclonedds 0.10.2 did not build; the 0.10.2 interop test will be skipped" >&2
    exit 0
  fi
fi
"${PIP[@]}" install "numpy>=1.26" "mujoco>=4.0,<4.1" "pyyaml>=6"
"${PIP[@]}" install --no-deps -e .
# Unitree's Python SDK on the cyclonedds it pins (tests/deploy/test_unitree_sdk_peer.py); its opencv dependency is
# for cameras, which the peers do not use
"${PIP[@]}" install --no-deps "unitree-sdk2==1.0.1" || echo "[dds010] warning: unitree-sdk2 not installed; its 0.10.2 peer tests will be skipped" >&2
echo "[dds010] done: $("$VENV/bin/python" -c 'import importlib.metadata as m, mujoco; print("cyclonedds", m.version("cyclonedds"), "mujoco", mujoco.__version__)')"
