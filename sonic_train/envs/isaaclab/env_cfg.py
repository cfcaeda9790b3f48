"""Isaac Lab ``ManagerBasedRLEnvCfg`` of the sonic tracking experiment.

Layering: Isaac Lab owns the scene (ground, the G1 articulation from the committed USD, a contact sensor on
every body), physics (Newton + MuJoCo Warp kit-less, or PhysX with Isaac Sim), actuation (one joint-position
action term whose input is the joint targets, PD inside the simulator) and state writes. The MDP (commands,
observations, rewards, terminations, events, curriculum) is sonic's, written once over
:class:`~sonic_train.envs.mdp.state.RobotState`, and runs unchanged on every backend: the backend
(:mod:`.backend`) fills that state from the articulation and sensor data. So the Isaac Lab managers here carry
only what the simulator needs (one action term, one observation term), no rewards or terminations of their own.
"""

from __future__ import annotations

from typing import Any

import isaaclab.sim as sim_utils
from isaaclab.assets import AssetBaseCfg
from isaaclab.envs import ManagerBasedRLEnvCfg
from isaaclab.envs import mdp as il_mdp
from isaaclab.managers import ObservationGroupCfg, ObservationTermCfg
from isaaclab.scene import InteractiveSceneCfg
from isaaclab.sensors import ContactSensorCfg
from isaaclab.utils import configclass

from sonic_deploy.robots.g1 import G1, RobotSpec
from sonic_train.envs.isaaclab import GROUND_USD
from sonic_train.envs.isaaclab.robot_cfg import g1_articulation_cfg

# Newton + MuJoCo Warp settings chosen to match the CPU MuJoCo scene (MuJoCo's own defaults): Newton solver,
# 100 iterations, 50 line-search iterations, tolerance 1e-8, pyramidal cone, impratio 1, implicitfast, one
# substep; contact margin and gap 0. A standing G1 makes about 28 contacts: nconmax 80 / njmax 400 per world.
NEWTON_DEFAULTS: dict[str, Any] = {
    "njmax": 400, "nconmax": 80, "iterations": 100, "ls_iterations": 50, "tolerance": 1e-8, "solver": "newton",
    "integrator": "implicitfast", "cone": "pyramidal", "impratio": 1.0, "num_substeps": 1, "margin": 0.0, "gap": 0.0,
}


def physics_cfg(physics: str = "newton", device: str = "cpu", **overrides: Any):
    """The ``SimulationCfg.physics`` for ``physics`` = "newton" (kit-less) or "physx" (Isaac Sim)."""
    if physics == "newton":
        from isaaclab_newton.physics import MJWarpSolverCfg, NewtonCfg, NewtonShapeCfg

        o = {**NEWTON_DEFAULTS, **overrides}
        unknown = set(o) - set(NEWTON_DEFAULTS)
        if unknown:
            raise ValueError(f"sim.newton: unknown settings {sorted(unknown)}; known: {sorted(NEWTON_DEFAULTS)}")
        return NewtonCfg(
            solver_cfg=MJWarpSolverCfg(
                njmax=int(o["njmax"]), nconmax=int(o["nconmax"]), iterations=int(o["iterations"]),
                ls_iterations=int(o["ls_iterations"]), tolerance=float(o["tolerance"]), solver=str(o["solver"]),
                integrator=str(o["integrator"]), cone=str(o["cone"]), impratio=float(o["impratio"]),
                use_mujoco_contacts=True,
            ),
            num_substeps=int(o["num_substeps"]),
            use_cuda_graph=str(device).startswith("cuda"),
            default_shape_cfg=NewtonShapeCfg(margin=float(o["margin"]), gap=float(o["gap"])),
        )
    if physics == "physx":
        from isaaclab_physx.physics import PhysxCfg

        return PhysxCfg(**overrides)
    raise ValueError(f"sim.physics must be 'newton' or 'physx', got {physics!r}")


@configclass
class SonicSceneCfg(InteractiveSceneCfg):
    ground = AssetBaseCfg(prim_path="/World/ground",
                          spawn=sim_utils.GroundPlaneCfg(usd_path=str(GROUND_USD), physics_material=None))
    robot = None  # set by make_env_cfg (depends on gains and physics)
    contact_forces = ContactSensorCfg(prim_path="{ENV_REGEX_NS}/Robot/.*", history_length=0)


@configclass
class ActionsCfg:
    # the action *is* the joint target vector (sonic's JointPositionAction has already scaled and offset it)
    joint_targets = il_mdp.JointPositionActionCfg(asset_name="robot", joint_names=list(G1.joint_names), scale=1.0,
                                                  use_default_offset=False, preserve_order=True)


@configclass
class ObservationsCfg:
    @configclass
    class PolicyCfg(ObservationGroupCfg):
        joint_pos = ObservationTermCfg(func=il_mdp.joint_pos)

    policy: PolicyCfg = PolicyCfg()


@configclass
class _Empty:
    pass


@configclass
class SonicIsaacLabEnvCfg(ManagerBasedRLEnvCfg):
    scene: SonicSceneCfg = SonicSceneCfg(num_envs=1, env_spacing=2.5)
    actions: ActionsCfg = ActionsCfg()
    observations: ObservationsCfg = ObservationsCfg()
    rewards: _Empty = _Empty()
    terminations: _Empty = _Empty()
    events: _Empty = _Empty()

    def __post_init__(self):
        self.decimation = 4
        self.episode_length_s = 1.0e6  # episodes are sonic's (TrackingEnv); Isaac Lab never times out
        self.sim.dt = 0.005


def make_env_cfg(num_envs: int, robot: RobotSpec = G1, physics: str = "newton", device: str = "cpu",
                 physics_dt: float | None = None, decimation: int | None = None, gains: str = "tracking",
                 env_spacing: float = 2.5, seed: int = 0, physics_overrides: dict | None = None,
                 ) -> SonicIsaacLabEnvCfg:
    cfg = SonicIsaacLabEnvCfg()
    cfg.seed = int(seed)
    cfg.scene.num_envs = int(num_envs)
    cfg.scene.env_spacing = float(env_spacing)
    cfg.scene.robot = g1_articulation_cfg(robot, gains=gains, physics=physics)
    if physics == "physx":
        # PhysX contact reporting needs the sensor on rigid bodies; same regex
        cfg.scene.contact_forces = ContactSensorCfg(prim_path="{ENV_REGEX_NS}/Robot/.*", history_length=0)
    cfg.sim.dt = float(physics_dt or robot.physics_dt)
    cfg.sim.device = str(device)
    cfg.sim.physics = physics_cfg(physics, device, **(physics_overrides or {}))
    cfg.decimation = int(decimation or robot.decimation)
    cfg.sim.render_interval = cfg.decimation
    return cfg
