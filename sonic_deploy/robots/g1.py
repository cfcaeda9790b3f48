"""Unitree G1 29-DoF (rev 1.0, mode_machine 5): the one source of truth for joints, limits, gains and bodies.

This file is data. The only logic is the derived quantities (kp and kd from the motor armature, the action
scale from effort and kp), so a reader can check every number against the motor tables it came from.
Training re-exports it (``sonic_train.robots.g1``); the ONNX export copies it into the artifact's metadata;
the deploy runtime reads it back from there. It lives in the torch-free package so both sides can use it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

# --- Motor classes: reflected inertia (armature), peak torque, no-load speed -------------------------------
# Armature = rotor and gear-stage inertias reflected through the two-stage planetary (see README, "G1 model").
ARMATURE_5020 = 0.003609725
ARMATURE_7520_14 = 0.010177520
ARMATURE_7520_22 = 0.025101925
ARMATURE_4010 = 0.00425
ARMATURE_LINKAGE = 2.0 * ARMATURE_5020  # ankles and waist roll/pitch: two 5020 through a 4-bar linkage

NATURAL_FREQ = 10.0 * 2.0 * 3.1415926535  # rad/s: tracking-gain bandwidth
DAMPING_RATIO = 2.0
# Hold gains (the start-up ramp and the hold before a policy takes over): HOLD_GAIN_FACTOR x the tracking kp and
# sqrt(HOLD_GAIN_FACTOR) x the tracking kd, which keeps the tracking gains' damping ratio. Measured with
# benchmarks/hold_gains.py: the G1 in its default pose on the floor, supported only by its feet, the controller's
# own start-up (damping 0.02 s, ramp 2 s with the gains blended in over 0.4 s, 6 s of hold); it holds when, over
# the last second, the pelvis tilt stays under 5 deg, the pelvis above 0.65 m and the mean joint error under
# 0.05 rad. Scene (PD as actuators, implicitfast, 200 Hz): factor 4, 5, 6 fall (6 at 2.88 s); 6.5 holds (peak tilt
# 7.38 deg, 4.01 in the last second), 7 (6.22 / 3.75), 8 (4.86 / 2.47), 10 (3.49 / 1.81). The explicit-PD stand-in
# (PD in Python every 2 ms, tests/deploy/test_startup_gains.py): 6.5 holds (7.26 / 3.91), 8 (4.65 / 2.59).
# Chosen: 8, a margin of 1.23x over the lowest factor that holds (6.5); kp max 793 (knees), kd max 17.8. The old
# 10x kp with 10x kd, switched on in one step, goes unstable in that stand-in.
HOLD_GAIN_FACTOR = 8.0
# The ankles (pitch and roll) hold with 16x kp and 2x kd instead: standing on PD alone, they are the joints that
# balance the whole body (gravity stiffness about the ankles m g h = 35 kg x 9.81 x 0.64 m = 220 N m/rad against
# 2 x 228 at 8x), and ankle damping drags the foot along with the shin, lifting the heel. Measured on the robot that
# the free-running bridge lowers from its gantry at any point of the ramp (benchmarks/gantry_release.py: controller
# start 0-1.9 s after the bridge, 6 s of hold, no policy): at 8x / sqrt(8)x the G1 fell in 7 of 20 start timings
# (3 of 20 with the gantry lowering it over 1 s); ankle kd 2 sqrt(8)x fell standing from rest. Ankle kp with kd 2x,
# lowered over 1 s: 12x fell in 1 of 20, 14x in none (peak tilt 3.7 deg), 16x none (4.9; 9.2 cut at once), 20x none
# (4.3). Chosen: 16x, a margin of 1.14x over the lowest that held every timing (14x); ankle kp 456.
HOLD_ANKLE_KP_FACTOR = 16.0
HOLD_ANKLE_KD_FACTOR = 2.0

# (name, lower, upper, effort Nm, velocity rad/s, armature) in Unitree motor order 0..28.
_JOINT_TABLE: tuple[tuple[str, float, float, float, float, float], ...] = (
    ("left_hip_pitch_joint", -2.5307, 2.8798, 88.0, 32.0, ARMATURE_7520_14),
    ("left_hip_roll_joint", -0.5236, 2.9671, 139.0, 20.0, ARMATURE_7520_22),
    ("left_hip_yaw_joint", -2.7576, 2.7576, 88.0, 32.0, ARMATURE_7520_14),
    ("left_knee_joint", -0.087267, 2.8798, 139.0, 20.0, ARMATURE_7520_22),
    ("left_ankle_pitch_joint", -0.87267, 0.5236, 50.0, 37.0, ARMATURE_LINKAGE),
    ("left_ankle_roll_joint", -0.2618, 0.2618, 50.0, 37.0, ARMATURE_LINKAGE),
    ("right_hip_pitch_joint", -2.5307, 2.8798, 88.0, 32.0, ARMATURE_7520_14),
    ("right_hip_roll_joint", -2.9671, 0.5236, 139.0, 20.0, ARMATURE_7520_22),
    ("right_hip_yaw_joint", -2.7576, 2.7576, 88.0, 32.0, ARMATURE_7520_14),
    ("right_knee_joint", -0.087267, 2.8798, 139.0, 20.0, ARMATURE_7520_22),
    ("right_ankle_pitch_joint", -0.87267, 0.5236, 50.0, 37.0, ARMATURE_LINKAGE),
    ("right_ankle_roll_joint", -0.2618, 0.2618, 50.0, 37.0, ARMATURE_LINKAGE),
    ("waist_yaw_joint", -2.618, 2.618, 88.0, 32.0, ARMATURE_7520_14),
    ("waist_roll_joint", -0.52, 0.52, 50.0, 37.0, ARMATURE_LINKAGE),
    ("waist_pitch_joint", -0.52, 0.52, 50.0, 37.0, ARMATURE_LINKAGE),
    ("left_shoulder_pitch_joint", -3.0892, 2.6704, 25.0, 37.0, ARMATURE_5020),
    ("left_shoulder_roll_joint", -1.5882, 2.2515, 25.0, 37.0, ARMATURE_5020),
    ("left_shoulder_yaw_joint", -2.618, 2.618, 25.0, 37.0, ARMATURE_5020),
    ("left_elbow_joint", -1.0472, 2.0944, 25.0, 37.0, ARMATURE_5020),
    ("left_wrist_roll_joint", -1.97222, 1.97222, 25.0, 37.0, ARMATURE_5020),
    ("left_wrist_pitch_joint", -1.61443, 1.61443, 5.0, 22.0, ARMATURE_4010),
    ("left_wrist_yaw_joint", -1.61443, 1.61443, 5.0, 22.0, ARMATURE_4010),
    ("right_shoulder_pitch_joint", -3.0892, 2.6704, 25.0, 37.0, ARMATURE_5020),
    ("right_shoulder_roll_joint", -2.2515, 1.5882, 25.0, 37.0, ARMATURE_5020),
    ("right_shoulder_yaw_joint", -2.618, 2.618, 25.0, 37.0, ARMATURE_5020),
    ("right_elbow_joint", -1.0472, 2.0944, 25.0, 37.0, ARMATURE_5020),
    ("right_wrist_roll_joint", -1.97222, 1.97222, 25.0, 37.0, ARMATURE_5020),
    ("right_wrist_pitch_joint", -1.61443, 1.61443, 5.0, 22.0, ARMATURE_4010),
    ("right_wrist_yaw_joint", -1.61443, 1.61443, 5.0, 22.0, ARMATURE_4010),
)

# Knees-bent standing pose (pelvis at 0.76 m): the default of mjlab, BeyondMimic and holosoma G1 policies.
_DEFAULT_POSE = {
    "left_hip_pitch_joint": -0.312, "left_knee_joint": 0.669, "left_ankle_pitch_joint": -0.363,
    "right_hip_pitch_joint": -0.312, "right_knee_joint": 0.669, "right_ankle_pitch_joint": -0.363,
    "left_shoulder_pitch_joint": 0.2, "left_shoulder_roll_joint": 0.2, "left_elbow_joint": 0.6,
    "right_shoulder_pitch_joint": 0.2, "right_shoulder_roll_joint": -0.2, "right_elbow_joint": 0.6,
}

# Bodies whose poses the motion library stores and the critic sees (mjlab/BeyondMimic tracking set, this order).
TRACKED_BODIES = (
    "pelvis", "left_hip_roll_link", "left_knee_link", "left_ankle_roll_link",
    "right_hip_roll_link", "right_knee_link", "right_ankle_roll_link", "torso_link",
    "left_shoulder_roll_link", "left_elbow_link", "left_wrist_yaw_link",
    "right_shoulder_roll_link", "right_elbow_link", "right_wrist_yaw_link",
)
FEET_BODIES = ("left_ankle_roll_link", "right_ankle_roll_link")
ANCHOR_BODY = "torso_link"  # the anchor a BeyondMimic/mjlab policy tracks unless its metadata names another
HEAD_OFFSET_IN_TORSO = (0.0, 0.0, 0.43)  # the head collision sphere centre of the G1 model


@dataclass(frozen=True)
class RobotSpec:
    """Everything a simulator, a trainer and a controller need to agree on about one robot."""

    name: str
    joint_names: tuple[str, ...]
    joint_lower: np.ndarray
    joint_upper: np.ndarray
    effort_limit: np.ndarray
    velocity_limit: np.ndarray
    armature: np.ndarray
    default_joint_pos: np.ndarray
    default_root_height: float
    kp: np.ndarray
    kd: np.ndarray
    hold_kp: np.ndarray
    hold_kd: np.ndarray
    action_scale: np.ndarray
    physics_dt: float = 0.005
    control_dt: float = 0.02
    root_body: str = "pelvis"
    anchor_body: str = ANCHOR_BODY
    tracked_bodies: tuple[str, ...] = TRACKED_BODIES
    feet_bodies: tuple[str, ...] = FEET_BODIES
    imu_sites: tuple[str, ...] = ("imu_in_pelvis", "imu_in_torso")
    soft_limit_factor: float = 0.9
    mode_machine: int = 5
    extra: dict = field(default_factory=dict)

    @property
    def num_joints(self) -> int:
        return len(self.joint_names)

    @property
    def decimation(self) -> int:
        return int(round(self.control_dt / self.physics_dt))

    def joint_index(self, names: list[str] | tuple[str, ...]) -> np.ndarray:
        """Indices of ``names`` in this robot's joint order (raises naming the missing joints)."""
        lookup = {n: i for i, n in enumerate(self.joint_names)}
        missing = [n for n in names if n not in lookup]
        if missing:
            raise KeyError(f"unknown joints for robot {self.name}: {missing}")
        return np.array([lookup[n] for n in names], dtype=np.int64)


def tracking_gains(armature: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """kp = I w^2 and kd = 2 zeta I w: a 10 Hz, critically over-damped joint for a tracking policy."""
    kp = armature * NATURAL_FREQ**2
    kd = 2.0 * DAMPING_RATIO * armature * NATURAL_FREQ
    return kp, kd


def make_g1_spec() -> RobotSpec:
    names = tuple(row[0] for row in _JOINT_TABLE)
    table = np.array([row[1:] for row in _JOINT_TABLE], dtype=np.float64)
    lower, upper, effort, velocity, armature = table.T
    kp, kd = tracking_gains(armature)
    default = np.array([_DEFAULT_POSE.get(n, 0.0) for n in names])
    ankle = np.array(["ankle" in n for n in names])
    return RobotSpec(
        name="g1_29dof",
        joint_names=names,
        joint_lower=lower,
        joint_upper=upper,
        effort_limit=effort,
        velocity_limit=velocity,
        armature=armature,
        default_joint_pos=default,
        default_root_height=0.76,
        kp=kp,
        kd=kd,
        hold_kp=np.where(ankle, HOLD_ANKLE_KP_FACTOR, HOLD_GAIN_FACTOR) * kp,
        hold_kd=np.where(ankle, HOLD_ANKLE_KD_FACTOR, math.sqrt(HOLD_GAIN_FACTOR)) * kd,
        action_scale=0.25 * effort / kp,
    )


G1 = make_g1_spec()
assert math.isclose(G1.kp[0], 40.179239, rel_tol=1e-6)

# Isaac Lab orders the G1's joints breadth-first over the URDF tree; BeyondMimic/Isaac Lab policies and motion
# files use that order. _ISAACLAB_INDEX[i] is the Isaac Lab index of Unitree joint i; remap by name, never by position.
_ISAACLAB_INDEX = (0, 3, 6, 9, 13, 17, 1, 4, 7, 10, 14, 18, 2, 5, 8, 11, 15, 19, 21, 23, 25, 27,
                   12, 16, 20, 22, 24, 26, 28)
ISAACLAB_JOINT_ORDER = tuple(G1.joint_names[_ISAACLAB_INDEX.index(k)] for k in range(len(_ISAACLAB_INDEX)))
