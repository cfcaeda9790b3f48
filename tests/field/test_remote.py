"""Wireless remote and keyboard: decoding, bindings, and an e-stop through the bridge with the input stream
stopped (the check runs in the controller step on the LowState_ it already has)."""

import numpy as np

from sonic_deploy.control.controller import Controller, ControllerConfig, Mode
from sonic_deploy.control.operator import KeyboardReader
from sonic_deploy.control.remote import RemoteBindings, RemoteState, RemoteWatcher, encode_remote
from sonic_deploy.inputs.base import ReferenceFrames
from sonic_deploy.policy.runner import PolicyRunner
from sonic_deploy.policy.testing import write_tracking_policy
from sonic_deploy.robots.g1 import G1

from ._lockstep import connect, step


def test_decode_layout():
    raw = bytearray(40)
    raw[2], raw[3] = 0b00100000, 0b00000010  # L2 (bit 5), B (bit 9)
    raw[4:8] = np.float32(0.5).tobytes()  # LX
    raw[20:24] = np.float32(-0.25).tobytes()  # LY
    st = RemoteState.decode(bytes(raw))
    assert st.buttons == ("L2", "B") and st.pressed("L2", "B") and not st.pressed("L2", "A")
    assert st.lx == 0.5 and st.ly == -0.25 and st.rx == 0.0
    assert RemoteState.decode(encode_remote(("start", "left"), ry=0.75)) == RemoteState(keys=(1 << 2) | (1 << 15), ry=0.75)


def test_watcher_edges_and_priority():
    w = RemoteWatcher(RemoteBindings())
    assert w.update(encode_remote(("start",))) == ["start"]
    assert w.update(encode_remote(("start",))) == []  # held: no repeat
    assert w.update(encode_remote(("L2", "B"))) == ["estop"]
    assert w.update(encode_remote(("L2", "B"))) == ["estop"]  # e-stop is level-triggered
    assert w.update(encode_remote(("L2", "B", "A"))) == ["estop"]  # priority over damping
    assert w.update(bytes(40)) == []
    keys = []
    kb = KeyboardReader(lambda a, src: keys.append((a, src)))
    for ch in "s x d  c?":
        kb.feed(ch)
    assert [a for a, _ in keys] == ["start", "estop", "stop", "estop", "damping", "estop", "estop", "clear"]


def test_keyboard_and_remote_drive_the_modes(dds_cfg):
    bridge, robot = connect(dds_cfg)
    ctrl = Controller(G1, cfg=ControllerConfig(ramp_duration=0.2, remote=RemoteBindings()))
    kb = KeyboardReader(ctrl.operator)
    state = robot.read_state()
    seq = []
    for k in range(40):
        if k == 2:
            kb.feed("s")  # passive -> ramp
        if k == 10:
            bridge.inject_remote(encode_remote(("L2", "A")))  # remote damping
        if k == 12:
            bridge.inject_remote(bytes(40))
        if k == 20:
            kb.feed(" ")  # e-stop (latched)
        if k == 25:
            kb.feed("s")  # ignored while latched
        if k == 30:
            bridge.inject_remote(encode_remote(("L2", "X")))  # clear -> damping
        _, state = step(bridge, robot, ctrl, state)
        seq.append(ctrl.mode)
    assert seq[1] == Mode.PASSIVE and seq[2] == Mode.RAMP and seq[11] == Mode.DAMPING
    assert seq[20] == Mode.ESTOP and seq[26] == Mode.ESTOP and seq[31] == Mode.DAMPING
    assert [a for _, a, _ in ctrl.operator_log] == ["start", "damping", "estop", "start", "clear"]


class _Stream:
    """A reference stream (G1 encoder terms on the default pose) whose sender stops at ``stop_at``."""

    provides = frozenset({"joint_pos", "joint_vel", "root_quat"})

    def __init__(self):
        self.last = -np.inf

    def push(self, now):
        self.last = now

    def start(self, state, now):
        pass

    def stamp(self, now):
        return self.last

    def frames(self, times, state=None):
        f = len(np.atleast_1d(times))
        return ReferenceFrames(times=np.atleast_1d(times), joint_pos=np.tile(G1.default_joint_pos, (f, 1)),
                               joint_vel=np.zeros((f, 29)), root_quat=np.tile([1.0, 0, 0, 0], (f, 1)))


def test_remote_estop_through_bridge_with_stream_stopped(dds_cfg, tmp_path):
    policy = PolicyRunner(write_tracking_policy(tmp_path / "p.onnx"), G1)
    stream = _Stream()
    bridge, robot = connect(dds_cfg)
    ctrl = Controller(G1, policy, stream, ControllerConfig(auto=True, damping_duration=0.1, ramp_duration=0.5,
                                                           hold_duration=0.1, remote=RemoteBindings()))
    state = robot.read_state()
    log = []
    for k in range(80):
        if k < 50:
            stream.push(state.tick / 1000.0)  # the stream stops after 1 s: nothing but the robot's state is alive
        if k == 55:
            bridge.inject_remote(encode_remote(("L2", "B")))  # the next LowState_ carries the e-stop
        cmd, state = step(bridge, robot, ctrl, state)
        log.append((ctrl.mode, cmd))
    assert log[54][0] == Mode.ACTIVE  # active on the held stream until the e-stop
    k = next(i for i, (m, _) in enumerate(log) if m == Mode.ESTOP)
    assert k == 56  # the command answering the first state that carries the buttons: within one control period
    assert not log[k][1].kp.any() and log[k][1].kd.all()
    assert ctrl.faults[0].cause == "remote_estop"
    assert all(m == Mode.ESTOP and not c.kp.any() for m, c in log[k:])  # latched while held and after
    assert ctrl.status()["remote_buttons"] == ["L2", "B"]
