"""The G1 MuJoCo scene: the robot MJCF plus floor, joint armature, PD actuators and IMU sensors.

PD runs inside MuJoCo as position actuators (force = kp (q* - q) - kd qdot, clipped to the effort limit) with
the implicitfast integrator, so the damping term is integrated implicitly: with the G1's small armature an
explicit PD at these gains diverges within a fraction of a second. Every consumer (training backend,
in-process deploy robot, DDS bridge, evaluation) builds its scene here, so they all simulate the same robot.
"""

from __future__ import annotations

from dataclasses import dataclass

import mujoco
import numpy as np

from sonic_deploy.robots.assets import g1_mjcf_path
from sonic_deploy.robots.g1 import G1, RobotSpec

FOOT_GEOM_PATTERN = "_foot"


@dataclass(frozen=True)
class SceneConfig:
    physics_dt: float = 0.005
    foot_friction: float = 0.6
    self_collision: bool = False
    gains: str = "tracking"  # "tracking" (policy gains) or "hold" (stiff stand-up gains)
    add_floor: bool = True
    offscreen_width: int = 640
    offscreen_height: int = 480


def build_spec(robot: RobotSpec = G1, cfg: SceneConfig = SceneConfig()) -> mujoco.MjSpec:
    spec = mujoco.MjSpec.from_file(str(g1_mjcf_path()))
    spec.option.timestep = cfg.physics_dt
    spec.option.integrator = mujoco.mjtIntegrator.mjINT_IMPLICITFAST
    spec.visual.global_.offwidth = cfg.offscreen_width
    spec.visual.global_.offheight = cfg.offscreen_height
    _configure_joints(spec, robot)
    _configure_collisions(spec, cfg)
    _add_actuators(spec, robot, cfg)
    _add_sensors(spec, robot)
    if cfg.add_floor:
        _add_floor(spec)
    return spec


def load_model(robot: RobotSpec = G1, cfg: SceneConfig = SceneConfig()) -> mujoco.MjModel:
    model = build_spec(robot, cfg).compile()
    check_joint_order(model, robot)
    return model


def check_joint_order(model: mujoco.MjModel, robot: RobotSpec) -> None:
    """The scene's hinge joints and actuators must be in the spec's (Unitree) order: refuse anything else."""
    hinge = [model.joint(i).name for i in range(model.njnt) if model.jnt_type[i] == mujoco.mjtJoint.mjJNT_HINGE]
    acts = [model.actuator(i).name for i in range(model.nu)]
    if tuple(hinge) != robot.joint_names or tuple(acts) != robot.joint_names:
        raise ValueError(f"MJCF joint order {hinge} differs from the {robot.name} spec {list(robot.joint_names)}")


def _configure_joints(spec: mujoco.MjSpec, robot: RobotSpec) -> None:
    for name, armature in zip(robot.joint_names, robot.armature):
        joint = spec.joint(name)
        if joint is None:
            raise ValueError(f"{g1_mjcf_path()}: joint {name} missing")
        joint.armature = float(armature)


def _configure_collisions(spec: mujoco.MjSpec, cfg: SceneConfig) -> None:
    """Feet: condim 3 with friction; other collision geoms touch the floor (fall detection), not each other."""
    for geom in spec.geoms:
        if not geom.name.endswith("_collision"):
            continue
        is_foot = FOOT_GEOM_PATTERN in geom.name and geom.name.split("_")[1].startswith("foot")
        geom.contype = 1 if cfg.self_collision else 0
        geom.conaffinity = 1
        geom.condim = 3 if is_foot else 1
        geom.priority = 1 if is_foot else 0
        if is_foot:
            geom.friction = [cfg.foot_friction, 0.005, 0.0001]


def _add_actuators(spec: mujoco.MjSpec, robot: RobotSpec, cfg: SceneConfig) -> None:
    kp, kd = (robot.hold_kp, robot.hold_kd) if cfg.gains == "hold" else (robot.kp, robot.kd)
    if cfg.gains not in ("hold", "tracking"):
        raise ValueError(f"SceneConfig.gains must be 'tracking' or 'hold', got {cfg.gains!r}")
    for i, name in enumerate(robot.joint_names):
        act = spec.add_actuator(name=name, target=name, trntype=mujoco.mjtTrn.mjTRN_JOINT)
        act.set_to_position(kp=float(kp[i]), kv=float(kd[i]))
        act.ctrllimited = mujoco.mjtLimited.mjLIMITED_FALSE
        act.forcelimited = mujoco.mjtLimited.mjLIMITED_TRUE
        act.forcerange = [-float(robot.effort_limit[i]), float(robot.effort_limit[i])]


def _add_sensors(spec: mujoco.MjSpec, robot: RobotSpec) -> None:
    for site in robot.imu_sites:
        short = site.replace("imu_in_", "")
        for kind, suffix in ((mujoco.mjtSensor.mjSENS_FRAMEQUAT, "quat"), (mujoco.mjtSensor.mjSENS_GYRO, "gyro"),
                             (mujoco.mjtSensor.mjSENS_ACCELEROMETER, "acc")):
            sensor = spec.add_sensor(name=f"imu_{short}_{suffix}", type=kind, objname=site)
            sensor.objtype = mujoco.mjtObj.mjOBJ_SITE


def _add_floor(spec: mujoco.MjSpec) -> None:
    tex = spec.add_texture(name="grid", type=mujoco.mjtTexture.mjTEXTURE_2D, builtin=mujoco.mjtBuiltin.mjBUILTIN_CHECKER,
                           rgb1=[0.2, 0.3, 0.4], rgb2=[0.1, 0.2, 0.3], width=512, height=512, mark=mujoco.mjtMark.mjMARK_EDGE,
                           markrgb=[0.8, 0.8, 0.8])
    mat = spec.add_material(name="grid", texrepeat=[1, 1], texuniform=True, reflectance=0.1)
    mat.textures[mujoco.mjtTextureRole.mjTEXROLE_RGB] = tex.name
    spec.add_texture(name="sky", type=mujoco.mjtTexture.mjTEXTURE_SKYBOX, builtin=mujoco.mjtBuiltin.mjBUILTIN_GRADIENT,
                     rgb1=[0.3, 0.5, 0.7], rgb2=[0.0, 0.0, 0.0], width=512, height=512)
    spec.worldbody.add_light(pos=[0, 0, 3.5], dir=[0, 0, -1], type=mujoco.mjtLightType.mjLIGHT_DIRECTIONAL)
    spec.worldbody.add_geom(name="floor", type=mujoco.mjtGeom.mjGEOM_PLANE, size=[0, 0, 0.05], material="grid",
                            contype=1, conaffinity=1, condim=3, friction=[1.0, 0.005, 0.0001])


def set_pd_gains(model: mujoco.MjModel, kp: np.ndarray, kd: np.ndarray, ids: np.ndarray | None = None) -> None:
    """Retune the position actuators in place (hold gains at stand-up, per-motor gains from a LowCmd_)."""
    ids = np.arange(model.nu) if ids is None else ids
    model.actuator_gainprm[ids, 0] = kp
    model.actuator_biasprm[ids, 1] = -kp
    model.actuator_biasprm[ids, 2] = -kd


def reset_to_default(model: mujoco.MjModel, data: mujoco.MjData, robot: RobotSpec = G1,
                     root_height: float | None = None) -> None:
    """Root at the spec's standing height, joints at the default pose, at rest; PD targets = default pose."""
    mujoco.mj_resetData(model, data)
    data.qpos[:3] = (0.0, 0.0, robot.default_root_height if root_height is None else root_height)
    data.qpos[3:7] = (1.0, 0.0, 0.0, 0.0)
    data.qpos[7:7 + robot.num_joints] = robot.default_joint_pos
    data.ctrl[:] = robot.default_joint_pos
    mujoco.mj_forward(model, data)
