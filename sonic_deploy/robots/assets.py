"""Where the G1 MJCF comes from, and the one step that puts it on disk.

No package installs a loadable G1 model beside mujoco 4 (mjlab ships one but pins mujoco 3.11, Menagerie and
robot-descriptions download at first use). So the install step downloads the mjlab wheel from PyPI *without
installing it*, checks its hash, and unpacks only the G1 folder (MJCF + STL meshes; Menagerie-derived,
BSD-3-Clause, Unitree meshes) into a cache folder. After that the scene loads with no network.
``SONIC_G1_MJCF`` points at any other 29-DoF G1 MJCF with the same joint names (for example Menagerie's).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import zipfile
from pathlib import Path

from sonic_deploy.utils.wheels import pinned_wheel

SOURCE_PACKAGE = "mjlab==1.6.0"
SOURCE_WHEEL = "mjlab-1.6.0-py3-none-any.whl"
SOURCE_SHA256 = "03d003854e2f44c48330c6dcf4c2253ff7641bb569747846825a21b9efa8540b"
WHEEL_PREFIX = "mjlab/asset_zoo/robots/unitree_g1/xmls/"
PROVENANCE = (
    "Unitree G1 29-DoF rev 1.0 MJCF and meshes, unpacked from the PyPI wheel mjlab 1.6.0 "
    f"(sha256 {SOURCE_SHA256}), path {WHEEL_PREFIX}. Model derived from MuJoCo Menagerie's unitree_g1 "
    "(BSD-3-Clause), meshes by Unitree Robotics; mjlab itself is Apache-2.0. Not modified on disk: "
    "sonic adds floor, actuators, armature and sensors in code (sonic_deploy/robots/scene.py).\n"
)


class RobotModelMissing(FileNotFoundError):
    """The G1 model is not on disk yet; the message says how to get it."""


def asset_root() -> Path:
    return Path(os.environ.get("SONIC_ASSET_DIR", Path.home() / ".cache" / "sonic" / "assets"))


def g1_mjcf_path() -> Path:
    """Path of the G1 MJCF, or a clear error naming the command that fetches it."""
    override = os.environ.get("SONIC_G1_MJCF")
    if override:
        path = Path(override)
        if not path.is_file():
            raise RobotModelMissing(f"SONIC_G1_MJCF={override} does not exist")
        return path
    path = asset_root() / "unitree_g1" / "g1.xml"
    if not path.is_file():
        raise RobotModelMissing(
            f"G1 model not found at {path}. Fetch it once with `sonic-motion fetch-robot` "
            "(scripts/install.sh does this), or set SONIC_G1_MJCF to a 29-DoF G1 MJCF."
        )
    return path


def fetch_g1(force: bool = False, wheel: Path | None = None) -> Path:
    """Download (or take ``wheel``), verify and unpack the G1 model; atomic: a half-done fetch leaves nothing."""
    target = asset_root() / "unitree_g1"
    if (target / "g1.xml").is_file() and not force:
        return target / "g1.xml"
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        tmp_path = Path(tmp)
        wheel = pinned_wheel(SOURCE_PACKAGE, SOURCE_WHEEL, SOURCE_SHA256, tmp_path, wheel)
        staging = tmp_path / "unitree_g1"
        with zipfile.ZipFile(wheel) as zf:
            for info in zf.infolist():
                if not info.filename.startswith(WHEEL_PREFIX) or info.is_dir():
                    continue
                rel = info.filename[len(WHEEL_PREFIX):]
                if ".." in Path(rel).parts:
                    raise RuntimeError(f"{wheel}: refusing path {info.filename}")
                out = staging / rel
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_bytes(zf.read(info))
        (staging / "PROVENANCE.txt").write_text(PROVENANCE)
        if target.exists():
            shutil.rmtree(target)
        os.replace(staging, target)
    return target / "g1.xml"
