"""Isaac Lab 3 backend (``sim=isaaclab``): Newton + MuJoCo Warp kit-less (CPU or GPU), or PhysX with Isaac Sim.

Importing this package does not import Isaac Lab; :mod:`.backend`, :mod:`.env_cfg` and :mod:`.robot_cfg` do, and
they are imported only when the backend is selected. Install: ``scripts/install_isaaclab.sh`` (Python 3.12).
"""

from pathlib import Path

ASSET_DIR = Path(__file__).resolve().parent / "assets"
G1_USD = ASSET_DIR / "g1_29dof.usdc"
GROUND_USD = ASSET_DIR / "ground_plane.usda"
