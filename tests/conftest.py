"""Shared fixtures: the G1 model on disk and the synthetic motion set, made once per test session."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("MUJOCO_GL", "egl")
os.environ.setdefault("WANDB_MODE", "offline")


@pytest.fixture(scope="session", autouse=True)
def g1_model_on_disk():
    from sonic_deploy.robots.assets import fetch_g1

    return fetch_g1()


@pytest.fixture(scope="session")
def synthetic_motions(tmp_path_factory):
    """Folder holding the six synthetic clips (written by the same code as `sonic-motion synth`)."""
    from sonic_deploy.motion.synth import synthesize_all

    out = tmp_path_factory.mktemp("synthetic_motions")
    synthesize_all(out)
    return out
