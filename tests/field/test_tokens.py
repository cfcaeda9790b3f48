"""Token streaming: a planner's FSQ tokens drive the robot through the decoder-only path (the encoder is
bypassed), with hold -> ease to the standing tokens -> resume on a dropout.

The token stream is recorded by running the full model's encoder on a synthetic motion (arm waves), then
replayed into the token input (plain-function entry and the WebSocket message handler) in in-process
sim-to-sim. The artifacts are built here with onnx.helper (``_token_artifacts``)."""

import numpy as np
import pytest

from sonic_deploy.control.controller import Controller, ControllerConfig, Mode
from sonic_deploy.control.safety import SafetyConfig
from sonic_deploy.inputs.token_stream import FsqCodec, TokenFormatError, TokenStreamInput
from sonic_deploy.inputs.motion_player import MotionPlayer
from sonic_deploy.motion.synth import synthesize
from sonic_deploy.policy.contract import ContractError
from sonic_deploy.policy.tokens import TokenPolicy
from sonic_deploy.robots.g1 import G1
from sonic_deploy.robots.mujoco_robot import MujocoRobot
from sonic_deploy.teleop.server import StreamServer

from ._token_artifacts import ARM_JOINTS, write_token_policy


def test_codec_matches_trainer_convention():
    c = FsqCodec([8, 5, 5], 2)
    idx = np.array([0, 8 * 5 * 5 - 1])
    np.testing.assert_array_equal(c.indices(c.digits(idx)), idx)
    np.testing.assert_array_equal(c.digits(37), [37 % 8, (37 // 8) % 5, 37 // 40])
    np.testing.assert_allclose(c.codes(0), [-1, -1, -1])
    with pytest.raises(TokenFormatError):
        c.check_indices([1, 200])
    with pytest.raises(TokenFormatError):
        c.check_indices([1.5, 2])


def test_standing_tokens_and_decoder_contract(tmp_path):
    main, dec = write_token_policy(tmp_path / "tok.onnx")
    pol = TokenPolicy(main)
    np.testing.assert_array_equal(pol.standing_tokens(), [62, 62])  # every digit at the center (2 + 2*5 + 2*25)
    dec.unlink()
    with pytest.raises(ContractError, match="decoder"):
        TokenPolicy(main)


def _record(pol, clip, seconds):
    """Tokens the encoder computes along the motion (the planner's stream)."""
    player = MotionPlayer(clip, loop=True, blend_time=0.0)
    robot = MujocoRobot(G1)
    st = robot.read_state()
    player.start(st, 0.0)
    pol.runner.reset()
    out = []
    for k in range(int(seconds / G1.control_dt)):
        t = k * G1.control_dt
        fr = player.frames(pol.runner.reference_times(t), st)
        out.append(pol.encode(st, fr))
    return np.array(out)


def test_recorded_token_stream_drives_robot_and_survives_dropout(tmp_path):
    main, _ = write_token_policy(tmp_path / "tok.onnx")
    pol = TokenPolicy(main)
    rec = _record(pol, synthesize("arm_waves"), 8.0)
    assert len({tuple(t) for t in rec}) > 5  # the arms move: many distinct tokens
    tokens = TokenStreamInput.for_policy(pol, hold_time=0.25, ease_time=1.0, resume_time=0.2)
    server = StreamServer(tokens=tokens, clock=lambda: now)
    robot = MujocoRobot(G1)
    ctrl = Controller(G1, pol, tokens, ControllerConfig(auto=True, damping_duration=0.1, ramp_duration=0.5,
                                                        hold_duration=0.2, safety=SafetyConfig(input_timeout=1.5)))
    drop = range(250, 320)  # 1.4 s without tokens: held 0.25 s, then eased to standing
    z, used, arms = [], [], []
    for k in range(len(rec)):
        now = robot.tick_ms / 1000.0
        if k < len(rec) and k not in drop:
            if k % 2:
                tokens.push(rec[k], now)  # the ROS 2 node's plain-function entry
            else:
                server.handle({"type": "tokens", "tokens": rec[k].tolist()})  # the WebSocket message path
        state = robot.read_state()
        cmd = ctrl.step(state, now)
        robot.write_command(cmd)
        robot.advance()
        z.append(robot.data.qpos[2])
        used.append(pol.tokens.copy() if ctrl.mode == Mode.ACTIVE and pol.tokens is not None else None)
        arms.append(state.q[ARM_JOINTS])
    assert not ctrl.faults, ctrl.faults
    assert ctrl.mode == Mode.ACTIVE and min(z) > 0.65  # stayed up through the whole run
    assert server.stats.token_messages > 100
    live = [k for k in range(60, 250) if used[k] is not None]
    assert np.mean([np.array_equal(used[k], rec[k]) for k in live]) > 0.95  # live: the decoder gets the stream
    assert np.array_equal(used[260], rec[249])  # held
    np.testing.assert_array_equal(used[319], pol.standing_tokens())  # eased to the standing tokens
    assert np.array_equal(used[340], rec[340])  # resumed
    a = np.array(arms)
    assert np.ptp(a[100:250], axis=0).max() > 0.3  # the arms followed the tokens
