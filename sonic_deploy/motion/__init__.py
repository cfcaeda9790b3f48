"""Motion library: the canonical clip format, importers, forward kinematics, synthetic clips."""

from sonic_deploy.motion.clip import MotionClip, MotionFormatError, load_clip, save_clip, validate_clip
from sonic_deploy.motion.library import MotionLibrary, find_clip_files

__all__ = ["MotionClip", "MotionFormatError", "MotionLibrary", "find_clip_files", "load_clip", "save_clip",
           "validate_clip"]
