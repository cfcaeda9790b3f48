"""The field's formats through `sonic-deploy sim2sim`: in-process and through the DDS bridge, with the same
controller, safety and report; an embedded motion needs no --motion and is what the report compares against."""

import json

import numpy as np
import pytest

onnx = pytest.importorskip("onnx", reason="onnx (dev extra) builds the test artifacts")
from _artifacts import ISAAC_ORDER, write_bm_policy, write_gear_sonic, write_holosoma_wbt  # noqa: E402

from sonic_deploy.cli.deploy import main as deploy_main  # noqa: E402
from sonic_deploy.policy.testing import write_tracking_policy  # noqa: E402
from sonic_deploy.sim2sim import Sim2SimConfig, run  # noqa: E402


@pytest.fixture(scope="module")
def clip_path(tmp_path_factory):
    from sonic_deploy.motion.synth import synthesize_all

    return synthesize_all(tmp_path_factory.mktemp("clips"), ["squat"])[0]


@pytest.fixture(scope="module")
def arts(tmp_path_factory):
    d = tmp_path_factory.mktemp("arts")
    return {"bm": write_bm_policy(d / "bm.onnx", T=150)[0],
            "wbt": write_holosoma_wbt(d / "wbt.onnx", joint_names=ISAAC_ORDER, T=150)[0],
            "gs": write_gear_sonic(d / "gs")}


@pytest.mark.parametrize("name", ["bm", "wbt"])
def test_embedded_motion_runs_whole_without_motion_and_is_the_reference(arts, name):
    report, (trace, ticks, qpos, _) = run(arts[name], None, Sim2SimConfig(duration=None))
    assert report.ok and not report.fell, report.faults
    assert report.motion == "embedded"
    assert report.active_s == pytest.approx(149 * 0.02 + 0.02, abs=0.021)  # the whole 150-frame motion
    refs = [q for q in trace.q_ref if q is not None]
    elbow = 18  # Unitree index of left_elbow_joint
    swing = np.ptp([q[elbow] for q in refs])
    assert swing > 0.5  # the report's reference is the embedded elbow swing (0.3 rad amplitude)
    assert report.joint_error_rad < 0.05 and report.mpjpe_root_mm < 40.0


def test_gear_sonic_tracks_a_clip_in_process_and_through_dds(arts, clip_path, dds_cfg, tmp_path):
    cfg = Sim2SimConfig(duration=4.0, domain_id=dds_cfg.domain_id)
    a, _ = run(arts["gs"], clip_path, cfg)
    assert a.ok and not a.fell and a.policy_format == "gear_sonic"
    # the same linear tracker as sonic's synthetic policy, through gear_sonic's observation layout (Isaac Lab order,
    # future frames, history): the same run up to float32 rounding of the other layout, which the closed loop on
    # the hold gains' stiff ankles grows to about 1e-3 in 4 s (a wrong term or order does not track at all)
    sonic, _ = run(write_tracking_policy(tmp_path / "sonic.onnx"), clip_path, cfg)
    assert a.joint_error_rad == pytest.approx(sonic.joint_error_rad, rel=3e-3) and a.joint_error_rad < 0.05
    cfg.through_dds = True
    b, _ = run(arts["gs"], clip_path, cfg)
    assert b.ok and b.dds["states_bad_crc"] == 0 and b.dds["bridge_commands_received"] > 100
    assert b.joint_error_rad == pytest.approx(a.joint_error_rad, rel=1e-3)  # lock-step: the same run


def test_beyondmimic_through_dds_matches_in_process(arts, dds_cfg):
    cfg = Sim2SimConfig(duration=4.0, domain_id=dds_cfg.domain_id)
    a, _ = run(arts["bm"], None, cfg)
    cfg.through_dds = True
    b, _ = run(arts["bm"], None, cfg)
    assert a.ok and b.ok and a.active_s > 1.0
    assert b.joint_error_rad == pytest.approx(a.joint_error_rad, rel=1e-3)


def test_cli_refuses_a_motion_for_an_embedded_policy_and_needs_one_otherwise(arts, clip_path, capsys, tmp_path):
    assert deploy_main(["sim2sim", "--policy", str(arts["wbt"]), "--motion", str(clip_path)]) == 2
    assert "embeds its reference motion" in capsys.readouterr().out
    assert deploy_main(["sim2sim", "--policy", str(arts["gs"]), "--duration", "1"]) == 2
    assert "give --motion" in capsys.readouterr().out
    rep = tmp_path / "r.json"
    assert deploy_main(["sim2sim", "--policy", str(arts["bm"]), "--report", str(rep)]) == 0
    d = json.loads(rep.read_text())
    assert d["policy_format"] == "beyondmimic" and d["motion"] == "embedded" and not d["faults"]
