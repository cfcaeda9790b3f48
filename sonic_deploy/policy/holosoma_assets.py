"""holosoma's published G1 policies on disk: PyPI ``holosoma-inference`` (pinned, sha256-checked), ONNX files only.

``python -m sonic_deploy.policy.holosoma_assets`` (scripts/install.sh runs it) downloads the wheel with
``pip download --no-deps`` into a temporary folder, checks its digest and unpacks only the G1 29-DoF ONNX policies
into ``$SONIC_ASSET_DIR/holosoma`` (default ``~/.cache/sonic/assets``), atomically. Nothing of it is committed
to this repository; the tests that need it skip with this command named when it is missing.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

from sonic_deploy.robots.assets import asset_root
from sonic_deploy.utils.wheels import pinned_wheel

PACKAGE, VERSION = "holosoma-inference", "0.1.3"
WHEEL = "holosoma_inference-0.1.3-py3-none-any.whl"
SHA256 = "3c11fd4595bc82921d4c44f77357667828761548c1ce74782ea77937b2ab0ef7"
FILES = {"wbt": "holosoma_inference/models/wbt/ppo_g1_29dof_dancing.onnx",
         "wbt_fastsac": "holosoma_inference/models/wbt/fastsac_g1_29dof_dancing.onnx",
         "loco": "holosoma_inference/models/loco/g1_29dof/ppo_g1_29dof.onnx",
         "loco_fastsac": "holosoma_inference/models/loco/g1_29dof/fastsac_g1_29dof.onnx"}


def holosoma_dir() -> Path:
    return asset_root() / "holosoma"


def holosoma_model(kind: str = "wbt") -> Path:
    """Path of one published policy (``wbt``, ``loco``, ``wbt_fastsac``, ``loco_fastsac``); FileNotFoundError naming
    the command that fetches it."""
    path = holosoma_dir() / Path(FILES[kind]).name
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: fetch holosoma's G1 policies once with "
                                "`python -m sonic_deploy.policy.holosoma_assets` (scripts/install.sh does this)")
    return path


def fetch(force: bool = False, wheel: Path | None = None) -> Path:
    target = holosoma_dir()
    if all((target / Path(f).name).is_file() for f in FILES.values()) and not force:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        tmp_path = Path(tmp)
        wheel = pinned_wheel(f"{PACKAGE}=={VERSION}", WHEEL, SHA256, tmp_path, wheel)
        staging = tmp_path / "holosoma"
        staging.mkdir()
        with zipfile.ZipFile(wheel) as zf:
            for name in FILES.values():
                (staging / Path(name).name).write_bytes(zf.read(name))
        (staging / "PROVENANCE.txt").write_text(
            f"From PyPI {PACKAGE}=={VERSION} ({WHEEL}, sha256 {SHA256}): {', '.join(FILES.values())}.\n"
            "holosoma's own licence applies; evaluation material, not training data. Not redistributed by sonic.\n")
        if target.exists():
            shutil.rmtree(target)
        os.replace(staging, target)
    return target


if __name__ == "__main__":
    print(f"holosoma policies: {fetch(force='--force' in sys.argv)}")
