"""The Isaac Lab backend's G1 USD was converted from the robot of the MuJoCo scene: the MJCF that
``scripts/make_g1_usd.py export`` writes today must equal the committed source of the USD (else regenerate the
assets with ``bash scripts/make_g1_usd.sh``). Runs in the main environment (mujoco 4), no Isaac Lab needed."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ASSETS = ROOT / "sonic_train" / "envs" / "isaaclab" / "assets"


def test_committed_usd_source_matches_the_scene(tmp_path):
    spec = importlib.util.spec_from_file_location("make_g1_usd", ROOT / "scripts" / "make_g1_usd.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    out = mod.export_mjcf(tmp_path / "g1_29dof.xml")
    assert out.read_text() == (ASSETS / "g1_29dof_source.xml").read_text(), (
        "the G1 scene changed since the Isaac Lab assets were made: run `bash scripts/make_g1_usd.sh`")
    assert (ASSETS / "ground_plane.usda").read_text() == mod.GROUND_USDA
    assert 0 < (ASSETS / "g1_29dof.usdc").stat().st_size < 100_000
