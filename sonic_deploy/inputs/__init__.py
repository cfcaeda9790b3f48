"""Reference sources: where the reference the policy tracks comes from, one module per source.

Every source is a :class:`~sonic_deploy.inputs.base.ReferenceSource` that answers with the one frame type,
:class:`~sonic_deploy.inputs.base.ReferenceFrames`:

* :mod:`.motion_player` — a motion-library clip (re-based onto the robot, blended in);
* :mod:`.timeline` — a player on an operator's clock: pause, resume and speed continue from where the clip is;
* :mod:`.motion_stream` — reference frames streamed by a planner (WebSocket JSON or the ROS 2 topic);
* :mod:`.vr_teleop` — VR 3-point teleop (with :mod:`.vr_poses`, :mod:`.vr_calibration`, :mod:`.vr_filters`);
* :mod:`.smpl_stream` — SMPL joint positions from a pose estimator;
* :mod:`.token_stream` — raw FSQ tokens from a planner (bypasses the encoder);
* :mod:`.velocity` — velocity commands for locomotion policies (schedule, keyboard, remote sticks, Twist);
* :mod:`.replay` — a recorded session's answers, step by step.
"""

from sonic_deploy.inputs.base import ReferenceFrames, ReferenceSource, StreamNotConnected
from sonic_deploy.inputs.motion_player import MotionPlayer

__all__ = ["MotionPlayer", "ReferenceFrames", "ReferenceSource", "StreamNotConnected"]
