"""Stream motion-library clips as reference frames on the node's ROS 2 topic ``~/motion/frames``.

    python -m sonic_deploy.ros2.publish_motion CLIP.npz|FOLDER [...] [--topic /sonic_deploy/motion/frames]
        [--rate HZ (default: each clip's fps)] [--lead 0.5] [--speed 1.0] [--loop] [--duration S]

Each message is a ``std_msgs/String`` whose ``data`` is one motion frame as JSON, the same object the WebSocket
transport sends (:func:`sonic_deploy.ros2.messages.motion_frame_to_string`); the node (``input:=stream``) feeds
it to :class:`~sonic_deploy.inputs.motion_stream.MotionStreamInput`. Frames go out ``lead`` seconds ahead of real
time so the policy's future frames are covered. rclpy is imported only in :func:`main`.
"""

from __future__ import annotations

import argparse
import sys

from sonic_deploy.motion import find_clip_files, load_clip
from sonic_deploy.ros2.messages import motion_frame_to_string
from sonic_deploy.teleop.clip_sender import clip_frames

PROG = "python -m sonic_deploy.ros2.publish_motion"
DEFAULT_TOPIC = "/sonic_deploy/motion/frames"


def publish_frames(frames, publish) -> int:
    """Send each frame (dict) as a ``std_msgs/String`` payload through ``publish(text)``; returns frames sent."""
    n = 0
    for f in frames:
        publish(motion_frame_to_string(f))
        n += 1
    return n


def parse_args(argv=None):
    ap = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    ap.add_argument("clips", nargs="+", help="canonical clip .npz files or folders")
    ap.add_argument("--topic", default=DEFAULT_TOPIC, help=f"topic (default {DEFAULT_TOPIC}, the node's ~/motion/frames)")
    ap.add_argument("--rate", type=float, default=None, help="frames per second (default: each clip's fps)")
    ap.add_argument("--lead", type=float, default=0.5, help="seconds sent ahead of real time (default 0.5)")
    ap.add_argument("--speed", type=float, default=1.0)
    ap.add_argument("--loop", action="store_true")
    ap.add_argument("--duration", type=float, default=None, help="stop after this many seconds of stream")
    return ap.parse_args(argv)


def main(argv=None) -> int:
    a = parse_args(argv)
    try:
        import rclpy  # rclpy (a ROS 2 installation or the ros2 extra)
        from std_msgs.msg import String
    except ImportError as exc:
        print(f"{PROG}: rclpy is not available ({exc}); source a ROS 2 installation (setup.bash) first",
              file=sys.stderr)
        return 2
    files = find_clip_files(a.clips)
    if not files:
        print(f"{PROG}: no clip found at {a.clips}", file=sys.stderr)
        return 2
    clips = [load_clip(p) for p in files]
    rclpy.init()
    node = rclpy.create_node("sonic_publish_motion")
    pub = node.create_publisher(String, a.topic, 50)
    try:
        n = publish_frames(clip_frames(clips, rate=a.rate, lead=a.lead, speed=a.speed, loop=a.loop,
                                       duration=a.duration), lambda text: pub.publish(String(data=text)))
    except KeyboardInterrupt:
        n = -1
    finally:
        node.destroy_node()
        rclpy.try_shutdown()
    if n >= 0:
        print(f"published {n} frames of {len(clips)} clip(s) on {a.topic}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
