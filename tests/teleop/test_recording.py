"""Session recording: written during an in-process sim-to-sim run, read back without ROS, replayed through the
controller's step function to within 1e-6 of the recorded actions and commands."""

import numpy as np
import pytest

pytest.importorskip("mcap", reason="mcap (deploy extra) writes the session file")
pytest.importorskip("onnx", reason="onnx (dev extra) builds the test policy")

from sonic_deploy.control.controller import Controller, ControllerConfig, Mode  # noqa: E402
from sonic_deploy.inputs.motion_player import MotionPlayer  # noqa: E402
from sonic_deploy.motion import load_clip  # noqa: E402
from sonic_deploy.policy.runner import PolicyRunner  # noqa: E402
from sonic_deploy.policy.testing import write_tracking_policy  # noqa: E402
from sonic_deploy.recording import SessionReader, SessionRecorder, replay  # noqa: E402
from sonic_deploy.robots.g1 import G1  # noqa: E402
from sonic_deploy.robots.mujoco_robot import MujocoRobot  # noqa: E402


@pytest.fixture(scope="module")
def squat(tmp_path_factory):
    from sonic_deploy.motion.synth import synthesize_all

    return synthesize_all(tmp_path_factory.mktemp("clips"), ["squat"])[0]


def test_recording_round_trip_and_replay(tmp_path, squat):
    policy = write_tracking_policy(tmp_path / "policy.onnx")
    player = MotionPlayer(load_clip(squat), blend_time=0.5)
    runner = PolicyRunner(policy, G1, available=player.provides)
    ctrl = Controller(G1, runner, player, ControllerConfig(auto=True, damping_duration=0.1, ramp_duration=0.5,
                                                           hold_duration=0.1))
    robot = MujocoRobot(G1, float32_io=True)
    robot.clock = lambda: robot.tick_ms / 1000.0
    path = tmp_path / "session.mcap"
    n = 125  # 2.5 s: damping, ramp, hold, then 1.7 s of policy
    with SessionRecorder(path, ctrl, info={"motion": str(squat)}) as rec:
        for k in range(n):
            if k == 110:
                rec.estop(robot.tick_ms / 1000.0, "test")  # an operator event mid-run is replayed too
            if k == 115:
                rec.clear_faults(robot.tick_ms / 1000.0)
            state = robot.read_state()
            cmd = rec.step(state, robot.tick_ms / 1000.0)
            robot.write_command(cmd)
            robot.advance()
    assert [m for _, m in ctrl.transitions][:3] == ["damping", "ramp", "active"]
    assert ctrl.mode in (Mode.DAMPING, Mode.RAMP) and [f.cause for f in ctrl.faults] == ["estop"]

    r = SessionReader(path)  # plain MCAP, no ROS
    assert r.meta["policy"] == str(policy) and r.meta["controller"]["auto"] is True
    assert r.num_steps == n and len(r["command"]) == n and len(r["mode"]) == n
    steps, actions = r.actions()
    assert actions.shape[1] == 29 and len(steps) > 70
    assert len(r["input"]) == len(steps)
    assert r["fault"][0]["cause"] == "estop"
    assert [e["event"] for e in r["event"]] == ["estop", "clear_faults"]
    s0 = r["state"][0]["state"]
    np.testing.assert_array_equal(np.asarray(s0["q"]), np.asarray(np.float32(s0["q"]), np.float64))  # exact floats

    res = replay(path)
    assert res.ok(1e-6), res
    assert res.actions_compared == len(steps) and res.max_action_diff <= 1e-6 and res.max_command_diff <= 1e-6
    print(f"replay: {res.steps} steps, {res.actions_compared} actions, max |da| = {res.max_action_diff:.2e}, "
          f"max |dcmd| = {res.max_command_diff:.2e}")
