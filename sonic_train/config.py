"""Where the Hydra configuration lives, for every sonic_train command and test.

The folder is the repository's ``configs/`` (editable install) or ``$SONIC_CONFIG_DIR``; the torch-free runtime
finds it the same way (:func:`sonic_deploy.motion.motion_sets.config_dir`, the one home of that rule), this adds
the absolute path Hydra needs.
"""

from __future__ import annotations

from pathlib import Path

from sonic_deploy.motion.motion_sets import config_dir as _runtime_config_dir


def config_dir() -> Path:
    """Absolute path of the Hydra config folder (``configs/`` or ``$SONIC_CONFIG_DIR``)."""
    return _runtime_config_dir().resolve()
