"""The G1 articulation for Isaac Lab, written from the robot spec (29 joints in the Unitree order).

Gains, armature, effort limits and default pose come from :mod:`sonic_deploy.robots.g1` joint by joint (one
implicit actuator group per joint, so no regex can pick the wrong value). Joint and body orderings are explicit
permutations: the articulation's joint order is the spec's and its body order the MuJoCo scene's, so every index
means the same thing on both backends.
"""

from __future__ import annotations

import re

from isaaclab.actuators import ImplicitActuatorCfg
from isaaclab.assets.articulation import ArticulationCfg
import isaaclab.sim as sim_utils

from sonic_deploy.robots.g1 import G1, RobotSpec
from sonic_train.envs.isaaclab import G1_USD

# The body order of the MuJoCo scene (``load_model(G1)``), pelvis first: depth-first over the kinematic tree.
G1_BODY_ORDER = (
    "pelvis",
    "left_hip_pitch_link", "left_hip_roll_link", "left_hip_yaw_link", "left_knee_link", "left_ankle_pitch_link",
    "left_ankle_roll_link",
    "right_hip_pitch_link", "right_hip_roll_link", "right_hip_yaw_link", "right_knee_link", "right_ankle_pitch_link",
    "right_ankle_roll_link",
    "waist_yaw_link", "waist_roll_link", "torso_link",
    "left_shoulder_pitch_link", "left_shoulder_roll_link", "left_shoulder_yaw_link", "left_elbow_link",
    "left_wrist_roll_link", "left_wrist_pitch_link", "left_wrist_yaw_link",
    "right_shoulder_pitch_link", "right_shoulder_roll_link", "right_shoulder_yaw_link", "right_elbow_link",
    "right_wrist_roll_link", "right_wrist_pitch_link", "right_wrist_yaw_link",
)


def _spawn_cfg(physics: str) -> sim_utils.UsdFileCfg:
    if physics == "newton":
        from isaaclab_newton.sim.schemas import NewtonArticulationCfg

        props = [NewtonArticulationCfg(self_collision_enabled=False)]
        rigid = None
    else:
        from isaaclab_physx.sim.schemas import PhysxArticulationCfg, PhysxRigidBodyCfg

        props = [PhysxArticulationCfg(enabled_self_collisions=False, solver_position_iteration_count=8,
                                      solver_velocity_iteration_count=4)]
        rigid = PhysxRigidBodyCfg(disable_gravity=False, retain_accelerations=False, linear_damping=0.0,
                                  angular_damping=0.0, max_linear_velocity=1000.0, max_angular_velocity=1000.0,
                                  max_depenetration_velocity=1.0)
    kw = {"rigid_props": rigid} if rigid is not None else {}
    return sim_utils.UsdFileCfg(usd_path=str(G1_USD), activate_contact_sensors=True, articulation_props=props, **kw)


def g1_articulation_cfg(robot: RobotSpec = G1, gains: str = "tracking", physics: str = "newton",
                        prim_path: str = "{ENV_REGEX_NS}/Robot") -> ArticulationCfg:
    """ArticulationCfg of ``robot``: ``gains`` = "tracking" (policy gains) or "hold" (the start-up hold gains)."""
    if gains not in ("tracking", "hold"):
        raise ValueError(f"gains must be 'tracking' or 'hold', got {gains!r}")
    kp, kd = (robot.hold_kp, robot.hold_kd) if gains == "hold" else (robot.kp, robot.kd)
    actuators = {
        name: ImplicitActuatorCfg(
            joint_names_expr=[re.escape(name)],
            stiffness=float(kp[i]), damping=float(kd[i]), armature=float(robot.armature[i]),
            effort_limit_sim=float(robot.effort_limit[i]), friction=0.0,
            # no velocity_limit_sim: the MuJoCo scene applies none either (mjlab does not)
        )
        for i, name in enumerate(robot.joint_names)
    }
    return ArticulationCfg(
        prim_path=prim_path,
        spawn=_spawn_cfg(physics),
        init_state=ArticulationCfg.InitialStateCfg(
            pos=(0.0, 0.0, float(robot.default_root_height)),
            rot=(0.0, 0.0, 0.0, 1.0),  # (x, y, z, w) in Isaac Lab 3
            joint_pos={re.escape(n): float(q) for n, q in zip(robot.joint_names, robot.default_joint_pos)},
            joint_vel={".*": 0.0},
        ),
        soft_joint_pos_limit_factor=float(robot.soft_limit_factor),
        joint_ordering=tuple(robot.joint_names),
        body_ordering=G1_BODY_ORDER,
        actuators=actuators,
    )
