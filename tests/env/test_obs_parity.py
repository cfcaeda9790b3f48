"""Observation parity: the training terms (torch, float32) and the deploy runtime's (numpy) on the same states."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import torch

from sonic_deploy.policy import observations as D
from sonic_train.envs.mdp import observations as O
from sonic_train.envs.mdp.state import ReferenceFrame, RobotState
from sonic_train.robots.g1 import G1

N, F, DT = 16, 10, 0.1
TOL = 1e-6


def _quat(rng, shape):
    q = rng.normal(size=shape + (4,))
    return q / np.linalg.norm(q, axis=-1, keepdims=True)


def test_training_and_deploy_observations_agree():
    rng = np.random.default_rng(0)
    st = SimpleNamespace(root_quat_w=_quat(rng, (N,)), root_ang_vel_w=rng.normal(size=(N, 3)),
                         joint_pos=rng.normal(size=(N, 29)), joint_vel=rng.normal(size=(N, 29)))
    action = rng.normal(size=(N, 29))
    fut = {"joint_pos": rng.normal(size=(N, F, 29)), "joint_vel": rng.normal(size=(N, F, 29)),
           "quat": _quat(rng, (N, F)), "pos": rng.normal(size=(N, F, 3)), "smpl": rng.normal(size=(N, F, 24, 3))}
    vr_pos, vr_quat = rng.normal(size=(N, 3, 3)), _quat(rng, (N, 3))

    t = lambda a: torch.as_tensor(a, dtype=torch.float32)  # noqa: E731
    b = 2  # bodies in the fake reference (only the pelvis, body 0, is read)
    body_quat = np.repeat(fut["quat"][:, :, None], b, axis=2)
    body_pos = np.repeat(fut["pos"][:, :, None], b, axis=2)
    future = ReferenceFrame(joint_pos=t(fut["joint_pos"]), joint_vel=t(fut["joint_vel"]), body_pos_w=t(body_pos),
                            body_quat_w=t(body_quat), body_lin_vel_w=t(np.zeros_like(body_pos)),
                            body_ang_vel_w=t(np.zeros_like(body_pos)), smpl_joints=t(fut["smpl"]))
    now = ReferenceFrame(joint_pos=future.joint_pos[:, 0], joint_vel=future.joint_vel[:, 0],
                         body_pos_w=future.body_pos_w[:, 0], body_quat_w=future.body_quat_w[:, 0],
                         body_lin_vel_w=future.body_lin_vel_w[:, 0], body_ang_vel_w=future.body_ang_vel_w[:, 0],
                         smpl_joints=future.smpl_joints[:, 0], vr_pos=t(vr_pos), vr_quat=t(vr_quat))
    env = SimpleNamespace(
        num_envs=N, robot=G1,
        state=RobotState(body_names=("pelvis",), root_pos_w=torch.zeros(N, 3), root_quat_w=t(st.root_quat_w),
                         root_lin_vel_w=torch.zeros(N, 3), root_ang_vel_w=t(st.root_ang_vel_w),
                         joint_pos=t(st.joint_pos), joint_vel=t(st.joint_vel), body_pos_w=torch.zeros(N, 1, 3),
                         body_quat_w=t(st.root_quat_w)[:, None], body_lin_vel_w=torch.zeros(N, 1, 3),
                         body_ang_vel_w=torch.zeros(N, 1, 3), body_contact_force_w=torch.zeros(N, 1, 3)),
        action_manager=SimpleNamespace(last_action=t(action)),
        command=SimpleNamespace(ref=now, future=lambda f, dt: future))
    default = G1.default_joint_pos
    pairs = {
        "base_ang_vel": (O.base_ang_vel(env), D.base_ang_vel(st.root_quat_w, st.root_ang_vel_w)),
        "projected_gravity": (O.projected_gravity(env), D.projected_gravity(st.root_quat_w)),
        "joint_pos_rel": (O.joint_pos_rel(env), D.joint_pos_rel(st.joint_pos, default)),
        "joint_vel": (O.joint_vel(env), D.joint_vel(st.joint_vel)),
        "last_action": (O.last_action(env), D.last_action(action)),
        "command_joint_pos_future": (O.command_joint_pos_future(env, F, DT),
                                     D.command_joint_pos_future(fut["joint_pos"], default)),
        "command_joint_vel_future": (O.command_joint_vel_future(env, F, DT), D.command_joint_vel_future(fut["joint_vel"])),
        "command_anchor_ori_future": (O.command_anchor_ori_future(env, F, DT),
                                      D.command_anchor_ori_future(st.root_quat_w, fut["quat"])),
        "smpl_joints_future": (O.smpl_joints_future(env, F, DT),
                               D.smpl_joints_future(fut["pos"][:, 0], fut["quat"][:, 0], fut["smpl"])),
        "vr_3point_pos": (O.vr_3point_pos(env), D.vr_3point_pos(fut["pos"][:, 0], fut["quat"][:, 0], vr_pos)),
        "vr_3point_ori": (O.vr_3point_ori(env), D.vr_3point_ori(fut["quat"][:, 0], vr_quat)),
    }
    for name, (train, deploy) in pairs.items():
        train = train.double().numpy()
        # inputs were rounded to float32 on the training side; compare against float32-rounded magnitudes
        err = np.abs(train - deploy).max()
        scale = max(1.0, np.abs(deploy).max())
        assert train.shape == deploy.shape, name
        assert err <= TOL * scale, (name, err)


def test_reference_interpolated_between_frames_agrees():
    """A clip sampled between its frames: training's command (ReferenceFrame.interpolated, slerp) and the deploy
    motion player give the same pelvis orientation, joint reference and anchor-orientation observation. Frames 30 deg
    apart about changing axes, so a normalised lerp (about 1e-3 off at mid-frame) would fail."""
    from sonic_deploy.inputs.motion_player import MotionPlayer
    from sonic_deploy.motion.clip import MotionClip

    rng = np.random.default_rng(3)
    T, fps = 12, 50.0
    axes = rng.normal(size=(T, 3))
    axes /= np.linalg.norm(axes, axis=-1, keepdims=True)
    half = np.radians(30.0) * np.arange(T)[:, None] / 2
    quat = np.concatenate([np.cos(half), np.sin(half) * axes], axis=-1)  # frame k: k * 30 deg about axis k
    quat[1::2] *= -1  # stored hemisphere flips between frames: both sides take the shorter arc
    zeros = np.zeros((T, 1, 3))
    clip = MotionClip(name="spin", fps=fps, joint_names=tuple(G1.joint_names), joint_pos=rng.normal(size=(T, 29)),
                      joint_vel=rng.normal(size=(T, 29)), body_names=("pelvis",), body_pos_w=rng.normal(size=(T, 1, 3)),
                      body_quat_w=quat[:, None], body_lin_vel_w=zeros, body_ang_vel_w=zeros)
    player = MotionPlayer(clip, loop=False, blend_time=0.0)  # not started: identity re-basing
    times = (np.arange(T - 1) + rng.uniform(0.1, 0.9, T - 1)) / fps
    fr = player.frames(times)

    i0, i1, w = clip.frame_at(times)
    data = {k: torch.as_tensor(getattr(clip, k), dtype=torch.float64) for k in ("joint_pos", "body_quat_w")}
    ref = ReferenceFrame.interpolated(data, *(torch.as_tensor(a)[None] for a in (i0, i1, w)))
    root_t = ref.root_quat[0].numpy()
    sign = np.sign(np.sum(root_t * fr.root_quat, axis=-1, keepdims=True))  # q and -q: the same rotation
    np.testing.assert_allclose(fr.root_quat, sign * root_t, atol=TOL)
    np.testing.assert_allclose(fr.joint_pos, ref.joint_pos[0].numpy(), atol=TOL)

    robot_q = _quat(rng, ())
    deploy = D.command_anchor_ori_future(robot_q, fr.root_quat)
    train = D.command_anchor_ori_future(robot_q, root_t)
    np.testing.assert_allclose(deploy, train, atol=TOL)
    nlerp = quat[i0] + w[:, None] * (np.sign(np.sum(quat[i0] * quat[i1], -1, keepdims=True)) * quat[i1] - quat[i0])
    nlerp /= np.linalg.norm(nlerp, axis=-1, keepdims=True)
    nlerp *= np.sign(np.sum(nlerp * root_t, axis=-1, keepdims=True))
    assert np.abs(nlerp - root_t).max() > 1e3 * TOL  # the test tells slerp from a normalised lerp
