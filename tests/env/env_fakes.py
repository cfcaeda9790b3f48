"""Hand-made robot states and references for term tests (no simulator)."""

from __future__ import annotations

import math
from types import SimpleNamespace

import torch

from sonic_train.envs.mdp.state import ReferenceFrame, RobotState
from sonic_train.robots.g1 import G1

BODIES = ("pelvis", "left_wrist_yaw_link", "right_wrist_yaw_link", "left_ankle_roll_link", "right_ankle_roll_link",
          "torso_link")
FEET = ("left_ankle_roll_link", "right_ankle_roll_link")
FIVE = BODIES[:5]


def yaw_q(angle: float) -> torch.Tensor:
    return torch.tensor([math.cos(angle / 2), 0.0, 0.0, math.sin(angle / 2)])


def make_state(n: int = 1, quat: torch.Tensor | None = None) -> RobotState:
    b = len(BODIES)
    q = torch.tensor([1.0, 0, 0, 0]) if quat is None else quat
    body_pos = torch.tensor([[0, 0, 0.76], [0.2, 0.3, 0.8], [0.2, -0.3, 0.8], [0, 0.1, 0.05], [0, -0.1, 0.05],
                             [0, 0, 1.0]]).expand(n, b, 3).clone()
    return RobotState(
        body_names=BODIES,
        root_pos_w=body_pos[:, 0].clone(), root_quat_w=q.expand(n, 4).clone(),
        root_lin_vel_w=torch.zeros(n, 3), root_ang_vel_w=torch.zeros(n, 3),
        joint_pos=torch.as_tensor(G1.default_joint_pos, dtype=torch.float32).expand(n, 29).clone(),
        joint_vel=torch.zeros(n, 29),
        body_pos_w=body_pos, body_quat_w=q.expand(n, b, 4).clone(),
        body_lin_vel_w=torch.zeros(n, b, 3), body_ang_vel_w=torch.zeros(n, b, 3),
        body_contact_force_w=torch.zeros(n, b, 3), feet_ids=(3, 4))


def ref_from_state(s: RobotState) -> ReferenceFrame:
    return ReferenceFrame(joint_pos=s.joint_pos.clone(), joint_vel=s.joint_vel.clone(), body_pos_w=s.body_pos_w.clone(),
                          body_quat_w=s.body_quat_w.clone(), body_lin_vel_w=s.body_lin_vel_w.clone(),
                          body_ang_vel_w=s.body_ang_vel_w.clone(),
                          smpl_joints=s.body_pos_w[:, :1].expand(-1, 24, 3).clone(),
                          vr_pos=s.body_pos_w[:, [5, 1, 2]].clone(), vr_quat=s.body_quat_w[:, [5, 1, 2]].clone())


class FakeCommand:
    """A reference that is constant in time (future frames repeat the current one)."""

    def __init__(self, ref: ReferenceFrame, time_left: float = 1.0):
        self.ref = ref
        self._time_left = time_left

    def future(self, num_frames: int, dt: float) -> ReferenceFrame:
        def rep(x):
            return None if x is None else x.unsqueeze(1).expand(x.shape[0], num_frames, *x.shape[1:])
        r = self.ref
        return ReferenceFrame(**{k: rep(getattr(r, k)) for k in ReferenceFrame.FIELDS})

    def time_left(self) -> torch.Tensor:
        return torch.full((self.ref.joint_pos.shape[0],), self._time_left)


def make_env(state: RobotState | None = None, ref: ReferenceFrame | None = None):
    state = state or make_state()
    ref = ref or ref_from_state(state)
    n = state.num_envs
    return SimpleNamespace(
        state=state, prev_state=None, command=FakeCommand(ref), robot=G1, num_envs=n, step_dt=0.02,
        default_joint_pos=torch.as_tensor(G1.default_joint_pos, dtype=torch.float32),
        action_manager=SimpleNamespace(action=torch.zeros(n, 29), prev_action=torch.zeros(n, 29),
                                       last_action=torch.zeros(n, 29)),
        encoder_index=torch.zeros(n, dtype=torch.long),
        episode_length_buf=torch.zeros(n, dtype=torch.long), max_episode_length=500,
    )
