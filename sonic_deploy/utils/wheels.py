"""A pinned wheel from PyPI, downloaded without installing it and checked against its sha256.

Assets that no package installs in a loadable form (the G1 model, holosoma's published policies, DeepMimic's
motion capture) come out of a wheel that carries them. This is the one place that fetches such a wheel, so every
asset gets the same pin, the same hash check and the same error.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def pinned_wheel(requirement: str, filename: str, sha256: str, into: Path, wheel: Path | None = None,
                 pip_args: tuple[str, ...] = ()) -> Path:
    """``wheel`` (a local copy) or ``requirement`` downloaded into ``into``; raises unless its sha256 is ``sha256``."""
    if wheel is None:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "-q", *pip_args, requirement, "-d", str(into)]
        result = subprocess.run(cmd, capture_output=True, text=True)
        wheel = Path(into) / filename
        if result.returncode != 0 or not wheel.is_file():
            raise RuntimeError(f"could not download {requirement} from PyPI:\n{result.stderr.strip()}")
    digest = sha256_of(Path(wheel))
    if digest != sha256:
        raise RuntimeError(f"{wheel}: sha256 {digest} does not match the pinned {sha256}")
    return Path(wheel)
