"""Stream motion-library clips as reference frames to a sonic stream server (WebSocket/JSON; see
:mod:`sonic_deploy.inputs.motion_stream`). Independent of ``sonic-deploy``: a planner or a human-motion pipeline does the same.

    python -m sonic_deploy.teleop.clip_sender CLIP.npz [CLIP2.npz ...] --url ws://127.0.0.1:8765/ws \\
        [--rate 50] [--lead 0.5] [--speed 1.0] [--loop]
"""

from __future__ import annotations

import argparse
import json
import time

from sonic_deploy.inputs.motion_stream import clip_message
from sonic_deploy.motion import find_clip_files, load_clip


def clip_frames(clips, *, rate: float | None = 50.0, lead: float = 0.5, speed: float = 1.0, loop: bool = False,
                duration: float | None = None, sleep=time.sleep, clock=time.monotonic):
    """Yield the clips' motion frames (dicts, ``t`` = stream time) at ``rate`` Hz (``None``: each clip's own fps),
    paced ``lead`` seconds ahead of real time. The transport (WebSocket, ROS 2 topic) sends what it yields."""
    t_stream = 0.0
    start = clock()
    while True:
        for clip in clips:
            r = float(rate or clip.fps)
            n = int(clip.duration * r / speed) + 1
            for k in range(n):
                t_clip = min(k * speed / r, clip.duration)
                wall = start + t_stream - lead
                if wall > clock():
                    sleep(wall - clock())
                msg = clip_message(clip, t_clip)
                msg["t"] = t_stream
                yield msg
                t_stream += 1.0 / r
                if duration is not None and t_stream >= duration:
                    return
        if not loop:
            return


def stream_clip(clips, url: str, *, rate: float = 50.0, lead: float = 0.5, speed: float = 1.0, loop: bool = False,
                duration: float | None = None, sleep=time.sleep, clock=time.monotonic) -> int:
    """Send the clips' frames at ``rate`` Hz, ``lead`` seconds ahead of real time; returns frames sent."""
    from websockets.sync.client import connect  # websockets (deploy extra)

    sent = 0
    with connect(url) as ws:
        for msg in clip_frames(clips, rate=rate, lead=lead, speed=speed, loop=loop, duration=duration, sleep=sleep,
                               clock=clock):
            ws.send(json.dumps(msg))
            sent += 1
    return sent


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m sonic_deploy.teleop.clip_sender", description=__doc__.split("\n\n")[0])
    ap.add_argument("clips", nargs="+", help="canonical clip .npz files or folders")
    ap.add_argument("--url", default="ws://127.0.0.1:8765/ws")
    ap.add_argument("--rate", type=float, default=50.0, help="frames per second sent (default 50)")
    ap.add_argument("--lead", type=float, default=0.5, help="seconds sent ahead of real time (default 0.5)")
    ap.add_argument("--speed", type=float, default=1.0)
    ap.add_argument("--loop", action="store_true")
    ap.add_argument("--duration", type=float, default=None, help="stop after this many seconds of stream")
    a = ap.parse_args(argv)
    clips = [load_clip(p) for p in find_clip_files(a.clips)]
    n = stream_clip(clips, a.url, rate=a.rate, lead=a.lead, speed=a.speed, loop=a.loop, duration=a.duration)
    print(f"sent {n} frames of {len(clips)} clip(s) to {a.url}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
