"""Message <-> controller mapping, as plain data (the node copies these into ROS messages).

* ``/joint_states`` (``sensor_msgs/JointState``): :func:`joint_state` -> names (Unitree order), position,
  velocity, effort;
* ``/diagnostics`` (``diagnostic_msgs/DiagnosticArray``): :func:`diagnostics` -> status entries (level 0 OK,
  1 WARN, 2 ERROR; name, message, hardware_id, key/value pairs): controller mode and faults, teleop input;
* ``~/tokens`` (``std_msgs/Int32MultiArray``): :func:`token_list`;
* ``~/teleop/poses`` (``geometry_msgs/PoseArray``, 3 poses: head, left wrist, right wrist):
  :func:`pose_array_to_sample`. ``header.frame_id`` ``operator`` (default): REP-103 axes (x forward, y left,
  z up, floor at z = 0) in any fixed operator frame; ``webxr``: WebXR ``local-floor`` axes (y up). ROS
  quaternions are x, y, z, w; the sample holds w, x, y, z;
* ``~/motion/command`` (``std_msgs/String``, JSON): :func:`parse_motion_command`;
* ``~/motion/frames`` (``std_msgs/String``): one reference frame per message, ``data`` = the same JSON object as
  the WebSocket motion frame (:mod:`sonic_deploy.inputs.motion_stream`: ``{"type": "motion", "t", "joint_pos",
  "joint_vel", "root_pos", "root_quat"[, "smpl_joints", "vr_pos", "vr_quat"]}``): :func:`motion_frame_to_string`
  (publisher) and :func:`motion_frame_from_string` (node) -> :meth:`MotionStreamInput.push_message`;
* ``~/tokens_in`` (``std_msgs/Int32MultiArray``): ``data`` = ``num_tokens`` FSQ token indices
  (:mod:`sonic_deploy.inputs.token_stream`): :func:`token_indices_from_array` -> :meth:`TokenStreamInput.push`;
* ``~/smpl/joints`` (``std_msgs/Float32MultiArray``, ``input:=smpl``): ``data`` = F x 24 x 3 SMPL joint positions
  (F >= 1 frames, the first at the time of the message, the rest the future frames the policy's encoder reads at its
  own spacing; REP-103 world axes, metres; joint 0 the pelvis, 1 / 2 the left / right hip): :func:`smpl_sample_from_array`;
* ``/diagnostics`` input entry: :func:`input_diagnostics` (what reached the reference input: messages received,
  age of the newest, the clip and its time for ``input:=motion``);
* ``/diagnostics`` thermal entry (with thermal monitoring): :func:`thermal_diagnostics` from
  ``Controller.status()["thermal"]`` and ``Controller.summary()["thermal"]``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import numpy as np

from sonic_deploy.inputs.vr_poses import PoseFormatError, PoseSample

OK, WARN, ERROR = 0, 1, 2
MOTION_ACTIONS = ("play", "pause", "resume", "stop")


def joint_state(spec, state) -> dict:
    return {"name": list(spec.joint_names), "position": [float(x) for x in state.q],
            "velocity": [float(x) for x in state.dq], "effort": [float(x) for x in state.tau]}


def token_list(tokens) -> list[int]:
    return [] if tokens is None else [int(x) for x in np.asarray(tokens).reshape(-1)]


def motion_frame_to_string(frame: dict) -> str:
    """A motion frame (dict, arrays or lists) -> ``std_msgs/String.data`` (compact JSON, ``type`` set)."""
    out = {"type": "motion"}
    for k, v in frame.items():
        if k == "type":
            continue
        out[k] = np.asarray(v, np.float64).tolist() if k != "t" else float(v)
    return json.dumps(out, separators=(",", ":"))


def motion_frame_from_string(text: str) -> dict:
    """``std_msgs/String.data`` -> a motion frame dict for :meth:`MotionStreamInput.push_message` (which checks the
    fields' shapes); raises ValueError with the field named."""
    try:
        d = json.loads(text)
    except (json.JSONDecodeError, TypeError) as exc:
        raise ValueError(f"motion frame: not JSON ({exc})") from None
    if not isinstance(d, dict):
        raise ValueError("motion frame: expected a JSON object")
    if d.get("type", "motion") != "motion":
        raise ValueError(f"motion frame: field 'type' must be 'motion', got {d.get('type')!r}")
    return d


def token_indices_from_array(data, num_tokens: int | None = None) -> np.ndarray:
    """``std_msgs/Int32MultiArray.data`` -> int64 token indices [num_tokens] (range checked by the token input)."""
    arr = np.asarray(list(data))
    if arr.ndim != 1 or (arr.size and not np.issubdtype(arr.dtype, np.integer)):
        raise ValueError(f"tokens: field 'data': expected a flat list of integers, got {arr.tolist()!r}"[:200])
    if num_tokens is not None and arr.size != num_tokens:
        raise ValueError(f"tokens: field 'data': expected {num_tokens} token indices, got {arr.size}")
    return arr.astype(np.int64)


SMPL_JOINTS = 24
SMPL_PELVIS, SMPL_LEFT_HIP, SMPL_RIGHT_HIP = 0, 1, 2


def smpl_sample_from_array(data) -> dict:
    """``std_msgs/Float32MultiArray.data`` (F x 24 x 3 floats) -> the SMPL input's sample: ``smpl_joints`` [F, 24, 3],
    ``root_pos`` (the first frame's pelvis) and ``root_quat`` (w, x, y, z: the heading of the hip line, no tilt; the
    SMPL encoder reads the reference pelvis's position and yaw only). ValueError names the field."""
    arr = np.asarray(list(data), np.float64)
    per = SMPL_JOINTS * 3
    if arr.ndim != 1 or arr.size == 0 or arr.size % per:
        raise ValueError(f"smpl joints: field 'data': expected F x {SMPL_JOINTS} x 3 floats (a multiple of {per}), "
                         f"got {arr.size}")
    if not np.isfinite(arr).all():
        raise ValueError("smpl joints: field 'data': non-finite value")
    j = arr.reshape(-1, SMPL_JOINTS, 3)
    side = j[0, SMPL_LEFT_HIP] - j[0, SMPL_RIGHT_HIP]
    if np.hypot(side[0], side[1]) < 1e-6:
        raise ValueError("smpl joints: field 'data': the hips coincide in the horizontal plane (no heading)")
    yaw = math.atan2(side[1], side[0]) - math.pi / 2  # the hip line points left of the heading
    return {"root_pos": j[0, SMPL_PELVIS].copy(), "root_quat": np.array([math.cos(yaw / 2), 0.0, 0.0, math.sin(yaw / 2)]),
            "smpl_joints": j}


def input_diagnostics(kind: str, reference, now: float, *, received: int | None = None, tracking=None,
                      hardware_id: str = "g1") -> dict:
    """The reference input's entry of ``/diagnostics``: OK while it has data, WARN while it waits for the first;
    ``tracking`` (mean joint error in rad or None, seconds) of the reference since it started."""
    stamp = reference.stamp(now) if reference is not None else -math.inf
    age = now - stamp
    count = received if received is not None else getattr(reference, "received", None)
    values = [("input", kind), ("age_s", f"{age:.3f}" if math.isfinite(age) else "inf")]
    if count is not None:
        values.append(("received", str(count)))
    if hasattr(reference, "clip_time"):  # input:=motion (the runtime's Timeline)
        values += [("clip", str(getattr(reference, "name", ""))),
                   ("clip_time", f"{float(reference.clip_time(reference._t_last)):.3f}"),
                   ("rate", f"{reference.rate:.3f}")]
    if tracking is not None and tracking[0] is not None:
        values += [("joint_error_rad", f"{tracking[0]:.4f}"), ("tracked_s", f"{tracking[1]:.2f}")]
    waiting = not math.isfinite(age)
    return {"level": WARN if waiting else OK, "name": "sonic_deploy: input", "hardware_id": hardware_id,
            "message": f"{kind}: " + ("waiting for data" if waiting else "live"), "values": values}


def loop_diagnostics(stats, period: float, *, hardware_id: str = "g1") -> dict:
    """The control loop's entry of ``/diagnostics``: period p50 / p99 and compute p99 over the recent window (ms),
    overruns and missed cycles since start; WARN once a cycle was missed."""
    per = np.asarray(stats.periods[-500:] or [period]) * 1e3
    comp = np.asarray(stats.compute[-500:] or [0.0]) * 1e3
    values = [("period_p50_ms", f"{np.percentile(per, 50):.2f}"), ("period_p99_ms", f"{np.percentile(per, 99):.2f}"),
              ("compute_p99_ms", f"{np.percentile(comp, 99):.2f}"), ("overruns", str(stats.overruns)),
              ("missed", str(stats.missed))]
    return {"level": WARN if stats.missed else OK, "name": "sonic_deploy: loop", "hardware_id": hardware_id,
            "message": f"{1e3 * period:.0f} ms loop" + (f", {stats.missed} missed" if stats.missed else ""),
            "values": values}


def thermal_diagnostics(status: dict | None, summary: dict | None = None, *, hardware_id: str = "g1") -> dict | None:
    """The thermal entry of ``/diagnostics``: OK, WARN when a joint is at or past its warning temperature or is
    derated; values: hottest joint and its temperature, warning joints, derate scales, per-joint session peaks."""
    if status is None:
        return None
    warn = list(status.get("warning_joints") or [])
    derate = dict(status.get("derate") or {})
    tmax = status.get("max_temperature")
    level = WARN if (warn or derate) else OK
    if warn:
        msg = f"hot: {', '.join(warn)}" + (" (derated)" if derate else "")
    elif derate:
        msg = f"derated: {', '.join(derate)}"
    else:
        msg = "ok"
    values = [("max_temperature", "nan" if tmax is None else f"{tmax:.1f}"),
              ("hottest_joint", str(status.get("hottest_joint") or "")),
              ("warning_joints", ",".join(warn))]
    values += [(f"derate.{n}", f"{v:.3f}") for n, v in derate.items()]
    if summary:
        if "min_derate_scale" in summary:
            values.append(("min_derate_scale", f"{summary['min_derate_scale']:.3f}"))
        values.append(("warnings", str(len(summary.get("warnings") or []))))
        values += [(f"peak.{n}", "nan" if p is None else f"{p:.1f}")
                   for n, p in (summary.get("peak_temperature") or {}).items()]
    return {"level": level, "name": "sonic_deploy: thermal", "hardware_id": hardware_id, "message": msg,
            "values": values}


def diagnostics(controller, now: float, *, teleop=None, hardware_id: str = "g1") -> list[dict]:
    mode = controller.mode.value
    fault = controller.fault
    level = ERROR if mode == "estop" else OK
    values = [("mode", mode), ("mode_since", f"{controller.mode_since:.3f}"), ("faults", str(len(controller.faults))),
              ("steps", str(controller.steps))]
    if fault is not None:
        values.append(("last_fault", str(fault)))
    warnings = getattr(controller.cfg.safety, "warnings", [])
    if level == OK and warnings:
        level = WARN
        values.append(("warning", str(warnings[-1])))
    out = [{"level": level, "name": "sonic_deploy: controller", "hardware_id": hardware_id,
            "message": f"{mode}" + (f" ({fault.cause})" if (fault is not None and mode == "estop") else ""),
            "values": values}]
    if teleop is not None:
        st = teleop.status(now)
        age = teleop.age(now)
        lvl = OK if st == "live" else (WARN if st in ("holding", "easing", "waiting") else ERROR)
        out.append({"level": lvl, "name": "sonic_deploy: teleop input", "hardware_id": hardware_id, "message": st,
                    "values": [("age_s", f"{age:.3f}" if math.isfinite(age) else "inf"),
                               ("received", str(teleop.received)),
                               ("calibrated", str(teleop.calibration is not None).lower())]})
    if getattr(controller, "thermal", None) is not None:
        th = thermal_diagnostics(controller.status(now).get("thermal"), controller.summary().get("thermal"),
                                 hardware_id=hardware_id)
        if th is not None:
            out.append(th)
    return out


def pose_array_to_sample(poses, frame_id: str = "operator", stamp: float = 0.0) -> PoseSample:
    """``poses``: 3 x ((x, y, z), (qx, qy, qz, qw)) in PoseArray order head, left wrist, right wrist."""
    if len(poses) != 3:
        raise PoseFormatError(f"field 'poses': expected 3 poses (head, left wrist, right wrist), got {len(poses)}")
    frame = {"operator": "robot", "": "robot", "webxr": "webxr"}.get(frame_id)
    if frame is None:
        raise PoseFormatError(f"field 'header.frame_id': expected 'operator' or 'webxr', got {frame_id!r}")
    pos = np.empty((3, 3))
    quat = np.empty((3, 4))
    for i, (p, q) in enumerate(poses):
        pos[i] = np.asarray(p, np.float64)
        x, y, z, w = (float(v) for v in q)
        n = math.sqrt(w * w + x * x + y * y + z * z)
        if not np.isfinite(pos[i]).all() or not math.isfinite(n) or n < 1e-6:
            raise PoseFormatError(f"field 'poses[{i}]': non-finite position or zero quaternion")
        quat[i] = (w / n, x / n, y / n, z / n)
    return PoseSample(float(stamp), pos, quat, frame, np.ones(3, bool))


@dataclass
class MotionCommand:
    action: str
    clip: str | None = None
    speed: float | None = None
    loop: bool | None = None


def parse_motion_command(text: str) -> MotionCommand:
    """``{"action": "play", "clip": "walk_slow", "speed": 1.0, "loop": true}``; ``pause`` / ``resume`` / ``stop``
    take no clip; ``{"speed": 0.5}`` alone changes the speed of what plays."""
    try:
        d = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"motion command: not JSON ({exc})") from None
    if not isinstance(d, dict):
        raise ValueError("motion command: expected a JSON object")
    unknown = set(d) - {"action", "clip", "speed", "loop"}
    if unknown:
        raise ValueError(f"motion command: unknown field {sorted(unknown)[0]!r}")
    action = d.get("action", "speed" if "speed" in d else None)
    if action not in MOTION_ACTIONS + ("speed",):
        raise ValueError(f"motion command: field 'action' must be one of {list(MOTION_ACTIONS)}, got {action!r}")
    if action == "play" and not isinstance(d.get("clip"), str):
        raise ValueError("motion command: field 'clip' (a clip name or path) is required to play")
    speed = d.get("speed")
    if speed is not None and (isinstance(speed, bool) or not isinstance(speed, (int, float)) or not 0 < speed <= 4):
        raise ValueError(f"motion command: field 'speed' must be in (0, 4], got {speed!r}")
    loop = d.get("loop")
    if loop is not None and not isinstance(loop, bool):
        raise ValueError(f"motion command: field 'loop' must be true or false, got {loop!r}")
    return MotionCommand(action, d.get("clip"), None if speed is None else float(speed), loop)
