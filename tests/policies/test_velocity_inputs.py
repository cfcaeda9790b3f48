"""Velocity-command sources for locomotion policies: schedule, keyboard (holosoma's keys), the remote's sticks,
ROS 2 Twist (zero once stale), and the mux that lets the operator's sticks override a planner."""

import io
import threading

import numpy as np
import pytest

from sonic_deploy.control.remote import RemoteState, encode_remote
from sonic_deploy.inputs.velocity import KeyboardVelocity, StickVelocity, TwistVelocity, VelocityMux, VelocitySchedule


def test_schedule_parses_and_steps():
    s = VelocitySchedule.parse(["0:0.5,0,0", "4:0,0,0.8"])
    np.testing.assert_allclose(s.frames([1.0]).base_velocity, [0.5, 0, 0])
    np.testing.assert_allclose(s.frames([4.5]).base_velocity, [0, 0, 0.8])
    assert s.provides == frozenset({"base_velocity"})
    with pytest.raises(ValueError, match="T:VX,VY,YAW_RATE"):
        VelocitySchedule.parse(["fast"])


def test_keyboard_accumulates_as_holosoma_binds_keys():
    kb = KeyboardVelocity()
    kb.read_stream(io.StringIO("wwwaeq e"), threading.Event())  # space zeroes
    np.testing.assert_allclose(kb.command(0), [0.0, 0.0, 0.1])
    kb.read_stream(io.StringIO("wwsdd"), threading.Event())
    np.testing.assert_allclose(kb.command(0), [0.1, -0.2, 0.1])


def test_sticks_from_the_wireless_remote_bytes():
    st = StickVelocity(max_vx=0.8, max_vy=0.5, max_yaw=1.0)
    st.update(RemoteState.decode(encode_remote(ly=0.5, lx=0.4, rx=-1.0)))
    np.testing.assert_allclose(st.command(0), [0.4, -0.2, 1.0], atol=1e-6)  # ly forward, -lx left, -rx yaw
    st.update(RemoteState.decode(encode_remote(ly=0.02)))  # inside the dead band
    np.testing.assert_allclose(st.command(0), [0, 0, 0])


def test_twist_goes_to_zero_when_stale_and_sticks_override():
    now = [10.0]
    tw = TwistVelocity(timeout=0.5, clock=lambda: now[0])
    tw.push(10.0, 0.3, 0.0, 0.2)
    st = StickVelocity()
    mux = VelocityMux(st, tw)
    np.testing.assert_allclose(mux.frames([0.0]).base_velocity, [0.3, 0, 0.2])
    st.update(RemoteState.decode(encode_remote(ly=1.0)))
    np.testing.assert_allclose(mux.frames([0.0]).base_velocity, [1.0, 0, 0])  # the operator wins
    st.update(RemoteState.decode(encode_remote()))
    now[0] = 10.6
    np.testing.assert_allclose(mux.frames([0.0]).base_velocity, [0, 0, 0])  # the planner went quiet: stand
    assert mux.stamp(10.6) == 10.6  # never stale for the controller's watchdog: standing is the safe command
