"""holosoma's whole-body-tracking G1 policy: ``sonic-deploy sim2sim`` against a plain MuJoCo loop, same scene.

The plain loop is the publisher's deploy reduced to its arithmetic (holosoma_inference ``policies/wbt.py``,
``base.py``), written here from the simulator's ground truth and nothing of ours but the scene: the G1 starts
standing at the publisher's default pose, the policy runs from the first step at 50 Hz with the metadata's kp/kd
as the scene's PD, targets = default + 0.25 * effort / kp * action, observation terms in sorted order. Our run
is the product path: the controller (damping, ramp, hold, safety clipping and limits) and the holosoma adapter.
Both run the whole embedded motion; the figure of merit is the mean absolute joint error against the embedded
reference, per step, over the motion (ours must be within 10% of the plain loop's).

    .venv/bin/python benchmarks/holosoma_tracking.py [--policy PATH] [--seconds S] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import mujoco
import numpy as np
import onnxruntime as ort

from sonic_deploy.robots.base import JointCommand
from sonic_deploy.robots.g1 import G1
from sonic_deploy.robots.mujoco_robot import MujocoRobot
from sonic_deploy.sim2sim import Sim2SimConfig, resolve_config, run
from sonic_deploy.policy.embedded import motion_length
from sonic_deploy.policy.holosoma_assets import holosoma_model

DEFAULT = np.array([-0.312, 0.0, 0.0, 0.669, -0.363, 0.0, -0.312, 0.0, 0.0, 0.669, -0.363, 0.0, 0.0, 0.0, 0.0,
                    0.2, 0.2, 0.0, 0.6, 0.0, 0.0, 0.0, 0.2, -0.2, 0.0, 0.6, 0.0, 0.0, 0.0])


def _yaw(q):  # wxyz
    w, x, y, z = q
    return np.arctan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z))


def _qmul(a, b):
    aw, ax, ay, az = a
    bw, bx, by, bz = b
    return np.array([aw * bw - ax * bx - ay * by - az * bz, aw * bx + ax * bw + ay * bz - az * by,
                     aw * by - ax * bz + ay * bw + az * bx, aw * bz + ax * by - ay * bx + az * bw])


def _unyaw(q, yaw):
    return _qmul(np.array([np.cos(-yaw / 2), 0, 0, np.sin(-yaw / 2)]), q)


def plain_loop(path: str, seconds: float | None) -> dict:
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    meta = {k: json.loads(v) for k, v in sess.get_modelmeta().custom_metadata_map.items() if k in ("kp", "kd", "dof_names")}
    assert meta["dof_names"] == list(G1.joint_names)
    kp, kd = np.asarray(meta["kp"]), np.asarray(meta["kd"])
    scale = 0.25 * G1.effort_limit / kp  # the publisher's per-joint table
    robot = MujocoRobot(G1)
    m, d = robot.model, robot.data
    d.qpos[7:36] = DEFAULT
    mujoco.mj_forward(m, d)
    torso = m.body("torso_link").id
    zero = np.zeros((1, 154), np.float32)
    out = sess.run(None, {"obs": zero, "time_step": np.zeros((1, 1), np.float32)})
    n_frames = (motion_length(lambda k: sess.run(["joint_pos"], {"obs": zero, "time_step": np.array([[k]], np.float32)})[0])
                if seconds is None else int(round(seconds / 0.02)))
    cmd_q, cmd_dq = out[1][0], out[2][0]
    m_quat = np.roll(out[4][0], 1)  # xyzw -> wxyz
    yaw_m, yaw_r = _yaw(m_quat), _yaw(d.xquat[torso])
    last = np.zeros(29)
    errs, falls = [], None
    t0 = time.perf_counter()
    for k in range(n_frames):
        rel = _qmul(_unyaw(d.xquat[torso], yaw_r) * [1, -1, -1, -1], _unyaw(m_quat, yaw_m))
        r = np.empty(9)
        mujoco.mju_quat2Mat(r, rel)
        terms = {"actions": last, "base_ang_vel": d.qvel[3:6], "dof_pos": d.qpos[7:36] - DEFAULT,
                 "dof_vel": d.qvel[6:35], "motion_command": np.concatenate([cmd_q, cmd_dq]),
                 "motion_ref_ori_b": r.reshape(3, 3)[:, :2].reshape(-1)}
        obs = np.concatenate([terms[t] for t in sorted(terms)])[None].astype(np.float32)
        out = sess.run(None, {"obs": obs, "time_step": np.array([[k]], np.float32)})
        errs.append(np.abs(d.qpos[7:36] - out[1][0]).mean())  # the state this step saw vs the motion at this step
        a = np.clip(out[0][0].astype(np.float64), -100, 100)
        last = a
        cmd_q, cmd_dq, m_quat = out[1][0], out[2][0], np.roll(out[4][0], 1)
        robot.apply(JointCommand(q=DEFAULT + scale * a, dq=np.zeros(29), tau=np.zeros(29), kp=kp, kd=kd))
        robot.advance()
        if falls is None and d.qpos[2] < 0.35:
            falls = k * 0.02
    return {"joint_error_rad": float(np.mean(errs)), "frames": n_frames, "fell_at_s": falls,
            "wall_s": time.perf_counter() - t0}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--policy", default=None, help="holosoma WBT ONNX (default: the installed holosoma-inference copy)")
    ap.add_argument("--seconds", type=float, default=None, help="motion seconds (default: the whole embedded motion)")
    ap.add_argument("--json", help="write both figures here")
    args = ap.parse_args(argv)
    path = args.policy or str(holosoma_model("wbt"))
    plain = plain_loop(path, args.seconds)
    cfg = resolve_config(path, Sim2SimConfig(duration=None))  # the CLI's defaults: the policy's start-up
    if args.seconds is not None:
        c = cfg.controller_config()
        cfg.duration = c.damping_duration + c.ramp_duration + c.hold_duration + args.seconds
    t0 = time.perf_counter()
    report, _ = run(path, None, cfg)
    ours = {"joint_error_rad": report.joint_error_rad, "mpjpe_global_mm": report.mpjpe_global_mm,
            "mpjpe_root_mm": report.mpjpe_root_mm, "fell": report.fell, "faults": [f["cause"] for f in report.faults],
            "active_s": report.active_s, "wall_s": time.perf_counter() - t0}
    ratio = ours["joint_error_rad"] / plain["joint_error_rad"] if ours["joint_error_rad"] else float("nan")
    print(f"{'':28s}{'plain MuJoCo loop':>20s}{'sonic-deploy sim2sim':>22s}")
    print(f"{'mean joint error (rad)':28s}{plain['joint_error_rad']:20.4f}{ours['joint_error_rad'] or float('nan'):22.4f}")
    print(f"{'motion run (s)':28s}{plain['frames'] * 0.02:20.2f}{ours['active_s']:22.2f}")
    print(f"{'fell / faults':28s}{str(plain['fell_at_s']):>20s}{(str(ours['fell']) + ' ' + ','.join(ours['faults'])):>22s}")
    print(f"ours / plain = {ratio:.3f} (target <= 1.10)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"plain": plain, "sonic_deploy": ours, "ratio": ratio}, f, indent=2)
    return 0 if ratio <= 1.10 and not ours["faults"] else 1


if __name__ == "__main__":
    sys.exit(main())
