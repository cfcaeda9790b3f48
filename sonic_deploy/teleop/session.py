"""Recorded VR sessions: JSON lines, one pose message per line (the WebSocket wire format, see :mod:`sonic_deploy.inputs.vr_poses`).

* :func:`read_session` / :func:`write_session`;
* :func:`session_from_clip` makes a session from a clip's VR targets (``vr_pos`` / ``vr_quat``) as an
  operator of another size, standing elsewhere and facing another way, would produce it in WebXR's
  ``local-floor`` space (y up) — the test data for calibration and the end-to-end teleop path;
* :func:`replay_session` streams a file to a server at its recorded pace (``python -m
  sonic_deploy.teleop.session replay FILE --url ws://127.0.0.1:8765/ws``); ``dropout=(t0, t1)`` leaves a gap.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from sonic_deploy.inputs.vr_poses import POINTS, Q_WEBXR_TO_ROBOT, WEBXR_TO_ROBOT, PoseSample, parse_pose_message
from sonic_deploy.motion.clip import load_clip
from sonic_deploy.utils.rotations import quat_conjugate, quat_mul


def read_session(path: str | Path) -> list[dict]:
    out = []
    for i, line in enumerate(Path(path).read_text().splitlines()):
        if line.strip():
            try:
                msg = json.loads(line)
                parse_pose_message(msg)
            except ValueError as exc:
                raise ValueError(f"{path}:{i + 1}: {exc}") from None
            out.append(msg)
    return out


def write_session(path: str | Path, messages: list[dict]) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(m) + "\n" for m in messages))
    return path


def robot_to_webxr(pos: np.ndarray, quat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Inverse of the WebXR -> robot axis change: p_w = M^T p_r, q_w = q_M^-1 q_r q_M."""
    qm = np.broadcast_to(Q_WEBXR_TO_ROBOT, quat.shape)
    return pos @ WEBXR_TO_ROBOT, quat_mul(quat_mul(quat_conjugate(qm), quat), qm)


def session_from_clip(clip, *, scale: float = 1.35, yaw: float = 0.7, offset=(0.4, -1.2), rate: float | None = None,
                      t0: float = 0.0) -> list[dict]:
    """The clip's head / wrist targets as an operator ``scale`` times the G1's size would stream them: scaled about
    the floor point under the first frame's head, turned by ``yaw`` (rad), moved by ``offset`` (m, robot x/y),
    then written in WebXR axes. ``rate`` resamples (Hz; default the clip's fps)."""
    rate = rate or clip.fps
    times = np.arange(0.0, clip.duration + 1e-9, 1.0 / rate)
    i0, i1, w = clip.frame_at(times)
    pos = (1 - w[:, None, None]) * clip.vr_pos[i0] + w[:, None, None] * clip.vr_pos[i1]
    q0, q1 = clip.vr_quat[i0], clip.vr_quat[i1]
    q1 = np.where(np.sum(q0 * q1, axis=-1, keepdims=True) < 0, -q1, q1)
    quat = (1 - w[:, None, None]) * q0 + w[:, None, None] * q1
    quat /= np.linalg.norm(quat, axis=-1, keepdims=True)
    anchor = np.array([clip.vr_pos[0, 0, 0], clip.vr_pos[0, 0, 1], 0.0])
    c, s = np.cos(yaw), np.sin(yaw)
    rot = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
    op_pos = scale * (pos - anchor) @ rot.T + np.array([offset[0], offset[1], 0.0])
    qy = np.broadcast_to(np.array([np.cos(yaw / 2), 0.0, 0.0, np.sin(yaw / 2)]), quat.shape)
    op_quat = quat_mul(qy, quat)
    wp, wq = robot_to_webxr(op_pos, op_quat)
    return [PoseSample(t0 + float(t), wp[k], wq[k], "webxr").to_message() for k, t in enumerate(times)]


def replay_session(messages: list[dict], url: str, *, speed: float = 1.0, dropout: tuple[float, float] | None = None,
                   calibrate_first: bool = True) -> int:
    """Send ``messages`` to a server at their recorded pace (by ``t``); returns how many were sent."""
    from websockets.sync.client import connect  # websockets (deploy extra)

    sent = 0
    with connect(url) as ws:
        if calibrate_first:
            ws.send(json.dumps({"type": "calibrate"}))
        start = time.monotonic()
        t_first = messages[0].get("t", 0.0) if messages else 0.0
        for msg in messages:
            rel = (msg.get("t", 0.0) - t_first) / speed
            if dropout and dropout[0] <= rel < dropout[1]:
                continue
            delay = start + rel - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            ws.send(json.dumps(msg))
            sent += 1
    return sent


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m sonic_deploy.teleop.session",
                                 description="Replay a recorded VR session (JSON lines) to a sonic stream server, "
                                             "or make one from a clip's VR targets.")
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("replay")
    r.add_argument("file")
    r.add_argument("--url", default="ws://127.0.0.1:8765/ws")
    r.add_argument("--speed", type=float, default=1.0)
    m = sub.add_parser("from-clip")
    m.add_argument("clip", help="canonical clip NPZ with VR targets")
    m.add_argument("out")
    m.add_argument("--scale", type=float, default=1.35, help="operator size / G1 size")
    a = ap.parse_args(argv)
    if a.cmd == "replay":
        n = replay_session(read_session(a.file), a.url, speed=a.speed)
        print(f"sent {n} poses to {a.url}")
    else:
        path = write_session(a.out, session_from_clip(load_clip(a.clip), scale=a.scale))
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
