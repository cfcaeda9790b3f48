"""Observation, reward and termination terms on hand-made states with known answers."""

from __future__ import annotations

import math

import pytest
import torch

from sonic_train.envs.mdp import observations as O
from sonic_train.envs.mdp import rewards as R
from sonic_train.envs.mdp import terminations as T
from sonic_train.envs.mdp.math import quat_from_axis_angle, quat_mul, quat_slerp, quat_to_matrix
from env_fakes import FEET, FIVE, make_env, make_state, ref_from_state, yaw_q

ATOL = 1e-6


def test_identity_pose_proprioception():
    env = make_env()
    assert torch.allclose(O.projected_gravity(env), torch.tensor([[0.0, 0.0, -1.0]]), atol=ATOL)
    assert torch.allclose(O.joint_pos_rel(env), torch.zeros(1, 29), atol=ATOL)
    env.state.root_ang_vel_w[:] = torch.tensor([0.1, 0.2, 0.3])
    assert torch.allclose(O.base_ang_vel(env), torch.tensor([[0.1, 0.2, 0.3]]), atol=ATOL)


def test_yawed_and_pitched_base_frame():
    s = make_state(quat=yaw_q(math.pi / 2))
    s.root_lin_vel_w[:] = torch.tensor([1.0, 0.0, 0.0])
    s.root_ang_vel_w[:] = torch.tensor([1.0, 0.0, 0.5])
    env = make_env(s)
    # world x is the pelvis' -y after a +90 deg yaw
    assert torch.allclose(O.base_lin_vel(env), torch.tensor([[0.0, -1.0, 0.0]]), atol=ATOL)
    assert torch.allclose(O.base_ang_vel(env), torch.tensor([[0.0, -1.0, 0.5]]), atol=ATOL)
    assert torch.allclose(O.projected_gravity(env), torch.tensor([[0.0, 0.0, -1.0]]), atol=ATOL)
    # pitch +90 deg about y: gravity (0,0,-1) seen in the body frame is (1, 0, 0)
    q = quat_from_axis_angle(torch.tensor([0.0, 1.0, 0.0]), torch.tensor(math.pi / 2))
    env = make_env(make_state(quat=q))
    assert torch.allclose(O.projected_gravity(env), torch.tensor([[1.0, 0.0, 0.0]]), atol=ATOL)


def test_anchor_ori_future_6d_for_90_deg_yaw():
    robot = make_state()
    ref_state = make_state(quat=yaw_q(math.pi / 2))
    env = make_env(robot, ref_from_state(ref_state))
    out = O.command_anchor_ori_future(env, num_future_frames=3, future_dt=0.1)
    # R_z(90): col0 = (0, 1, 0), col1 = (-1, 0, 0)
    assert out.shape == (1, 18)
    assert torch.allclose(out.reshape(3, 6), torch.tensor([[0.0, 1, 0, -1, 0, 0]] * 3), atol=ATOL)
    # the same reference seen by a robot yawed by 90 deg is the identity
    env = make_env(make_state(quat=yaw_q(math.pi / 2)), ref_from_state(ref_state))
    assert torch.allclose(O.command_anchor_ori_future(env, 2, 0.1), torch.tensor([[1.0, 0, 0, 0, 1, 0] * 2]), atol=ATOL)


def test_future_joint_terms_and_layout():
    s = make_state()
    ref = ref_from_state(s)
    ref.joint_pos = ref.joint_pos + 0.1
    ref.joint_vel[:] = 2.0
    env = make_env(s, ref)
    assert torch.allclose(O.command_joint_pos_future(env, 4, 0.1), torch.full((1, 4 * 29), 0.1), atol=ATOL)
    assert torch.allclose(O.command_joint_vel_future(env, 4, 0.1), torch.full((1, 4 * 29), 2.0), atol=ATOL)


def test_smpl_and_vr_in_reference_heading_frame():
    ref_state = make_state(quat=yaw_q(math.pi / 2))
    ref = ref_from_state(ref_state)
    ref.smpl_joints = ref.root_pos[:, None].expand(-1, 24, 3) + torch.tensor([1.0, 0.0, 0.5])
    ref.vr_pos = ref.root_pos[:, None].expand(-1, 3, 3) + torch.tensor([0.0, 1.0, 0.0])
    env = make_env(make_state(), ref)
    smpl = O.smpl_joints_future(env, 2, 0.1).reshape(2, 24, 3)
    # world +x in a frame yawed +90 deg is (0, -1, 0)
    assert torch.allclose(smpl, torch.tensor([0.0, -1.0, 0.5]).expand(2, 24, 3), atol=ATOL)
    assert torch.allclose(O.vr_3point_pos(env).reshape(3, 3), torch.tensor([1.0, 0.0, 0.0]).expand(3, 3), atol=ATOL)
    # VR orientations equal to the yawed pelvis: identity 6D
    assert torch.allclose(O.vr_3point_ori(env), torch.tensor([[1.0, 0, 0, 0, 1, 0] * 3]), atol=ATOL)


def test_body_terms_relative_to_pelvis():
    env = make_env(make_state(quat=yaw_q(math.pi / 2)))
    # left wrist at (0.2, 0.3, 0.04) from the pelvis in world; pelvis yawed 90 deg -> (0.3, -0.2, 0.04)
    pos = O.body_pos_b(env, ["left_wrist_yaw_link"])
    assert torch.allclose(pos, torch.tensor([[0.3, -0.2, 0.04]]), atol=1e-5)
    assert torch.allclose(O.body_ori_b(env, ["left_wrist_yaw_link"]), torch.tensor([[1.0, 0, 0, 0, 1, 0]]), atol=ATOL)
    assert torch.allclose(O.body_pos_error_b(env, list(FIVE)), torch.zeros(1, 15), atol=1e-6)


@pytest.mark.parametrize("term,kwargs", [
    (R.tracking_anchor_pos, {"std": 0.3}), (R.tracking_anchor_ori, {"std": 0.4}),
    (R.tracking_relative_body_pos, {"std": 0.3, "body_names": list(FIVE)}),
    (R.tracking_relative_body_ori, {"std": 0.4, "body_names": list(FIVE)}),
    (R.tracking_body_linvel, {"std": 1.0, "body_names": list(FIVE)}),
    (R.tracking_body_angvel, {"std": 3.14, "body_names": list(FIVE)}),
])
def test_tracking_rewards_are_one_at_zero_error(term, kwargs):
    assert torch.allclose(term(make_env(), **kwargs), torch.ones(1), atol=ATOL)


def test_tracking_rewards_exp_minus_one_at_err_sigma_squared():
    std = 0.3
    s = make_state()
    ref = ref_from_state(s)
    ref.body_pos_w[:, 0, 0] += std  # anchor off by std: err = std^2
    env = make_env(s, ref)
    assert torch.allclose(R.tracking_anchor_pos(env, std=std), torch.tensor([math.exp(-1)]), atol=ATOL)
    # orientation: anchor rotated by angle = std about x
    s = make_state()
    ref = ref_from_state(s)
    ref.body_quat_w[:, 0] = quat_from_axis_angle(torch.tensor([1.0, 0, 0]), torch.tensor(0.4))
    assert torch.allclose(R.tracking_anchor_ori(make_env(s, ref), std=0.4), torch.tensor([math.exp(-1)]), atol=1e-5)
    # velocity: every body off by 1 m/s with std 1
    s = make_state()
    ref = ref_from_state(s)
    ref.body_lin_vel_w[..., 2] += 1.0
    assert torch.allclose(R.tracking_body_linvel(make_env(s, ref), std=1.0, body_names=list(FIVE)),
                          torch.tensor([math.exp(-1)]), atol=ATOL)


def test_relative_body_pos_ignores_xy_offset_and_heading_of_the_anchor():
    # the reference is the robot shifted by (1, 2) m and yawed 30 deg about the pelvis: relative error is zero
    s = make_state()
    ref = ref_from_state(s)
    q = yaw_q(math.radians(30)).expand(1, len(s.body_names), 4)
    from sonic_train.envs.mdp.math import quat_apply

    rel = s.body_pos_w - s.body_pos_w[:, :1]
    ref.body_pos_w = s.body_pos_w[:, :1] + quat_apply(q, rel) + torch.tensor([1.0, 2.0, 0.0])
    ref.body_quat_w = quat_mul(q, s.body_quat_w)
    env = make_env(s, ref)
    assert torch.allclose(R.tracking_relative_body_pos(env, std=0.3, body_names=list(FIVE)), torch.ones(1), atol=1e-5)
    assert torch.allclose(R.tracking_relative_body_ori(env, std=0.4, body_names=list(FIVE)), torch.ones(1), atol=1e-5)
    assert R.tracking_anchor_pos(env, std=0.3) < 1e-6


def test_penalties():
    env = make_env()
    env.action_manager.action = torch.full((1, 29), 0.5)
    assert torch.allclose(R.action_rate_l2(env), torch.tensor([29 * 0.25]))
    assert R.feet_acc(env, body_names=list(FEET)).item() == 0.0
    env.prev_state = make_state()
    env.state.body_lin_vel_w[:, 3, 2] = 0.02  # 0.02 m/s in one 0.02 s step: 1 m/s^2
    assert torch.allclose(R.feet_acc(env, body_names=list(FEET)), torch.tensor([1.0]), atol=1e-5)


def test_terminations():
    s = make_state()
    ref = ref_from_state(s)
    env = make_env(s, ref)
    assert not T.anchor_ori_deviation(env, threshold=0.8).any()
    assert not T.foot_pos_deviation(env, threshold=0.2, body_names=list(FEET)).any()
    # tilt the robot by 60 deg: |gz_ref - gz| = 1 - cos(60) = 0.5
    s.body_quat_w[:, 0] = quat_from_axis_angle(torch.tensor([1.0, 0, 0]), torch.tensor(math.radians(60)))
    assert T.anchor_ori_deviation(env, threshold=0.45).all()
    assert not T.anchor_ori_deviation(env, threshold=0.55).any()
    # a foot 0.3 m off its reference
    s.body_pos_w[:, 3, 0] += 0.3
    assert T.foot_pos_deviation(env, threshold=0.25, body_names=list(FEET)).all()
    assert not T.foot_pos_deviation(env, threshold=0.35, body_names=list(FEET)).any()
    s.root_pos_w[:, 2] = 0.2
    assert T.root_height_below(env, min_height=0.3).all()
    s.body_contact_force_w[:, 5] = torch.tensor([0.0, 0.0, 50.0])
    assert T.illegal_contact(env, body_names=["torso_link"]).all()
    assert not T.illegal_contact(env, body_names=["pelvis"]).any()
    env.episode_length_buf[:] = 500
    assert T.time_out(env).all()


def test_quat_helpers():
    a = yaw_q(0.0)[None]
    b = yaw_q(1.0)[None]
    mid = quat_slerp(a, b, torch.tensor([[0.5]]))
    assert torch.allclose(mid, yaw_q(0.5)[None], atol=1e-6)
    r = quat_to_matrix(yaw_q(math.pi / 2))
    assert torch.allclose(r, torch.tensor([[0.0, -1, 0], [1, 0, 0], [0, 0, 1]]), atol=1e-6)
