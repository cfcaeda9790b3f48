"""Operator actions and their non-remote sources: the action names, the keyboard and the thread-safe queue.

The five actions (``estop``, ``damping``, ``stop``, ``start``, ``clear``) are what the wireless remote
(:mod:`sonic_deploy.control.remote`), the keyboard in sim-to-sim, and the ROS 2 services ask of the controller.
Sources that run on other threads (the keyboard, services) put actions on an :class:`OperatorQueue`; the
controller drains it at the start of its next step, so an action takes effect within one control period.
"""

from __future__ import annotations

import sys
import threading
from dataclasses import dataclass, field

ACTIONS = ("estop", "damping", "stop", "start", "clear")

# key -> action; the field configuration (``keyboard:`` in sonic_deploy/config/g1_field.yaml) mirrors it.
DEFAULT_KEYS = {" ": "estop", "e": "estop", "d": "damping", "x": "stop", "s": "start", "c": "clear"}


def check_keys(keys: dict, source: str = "keyboard") -> dict:
    """Key map with every action known, else a ValueError naming the key."""
    for k, a in keys.items():
        if a not in ACTIONS:
            raise ValueError(f"{source}.{k!r}: expected one of {list(ACTIONS)}, got {a!r}")
    return dict(keys)


class KeyboardReader:
    """Keys to the same actions as the remote (sim-to-sim): space/e e-stop, d damping, x stop, s start, c clear.

    ``feed(char)`` maps one key; :meth:`start` reads a terminal (or any text stream) on a daemon thread, in
    cbreak mode when it is a TTY so a key acts without Enter. Actions go to ``on_action`` (for example
    :meth:`sonic_deploy.control.controller.Controller.operator`), which queues them for the next step."""

    def __init__(self, on_action, keys: dict | None = None):
        self.on_action = on_action
        self.keys = check_keys(DEFAULT_KEYS if keys is None else keys)
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._restore = None

    def feed(self, char: str) -> str | None:
        action = self.keys.get(char.lower() if char != " " else char)
        if action is not None:
            self.on_action(action, "keyboard")
        return action

    def start(self, stream=None) -> "KeyboardReader":
        """Read ``stream`` (default stdin) on a daemon thread; a TTY goes to cbreak mode until :meth:`stop`."""
        stream = stream or sys.stdin
        self._restore = _cbreak(stream)
        self._thread = threading.Thread(target=self._run, args=(stream,), name="sonic-keyboard", daemon=True)
        self._thread.start()
        return self

    def _run(self, stream) -> None:
        while not self._stop.is_set():
            ch = stream.read(1)
            if not ch:
                break
            if not self._stop.is_set():
                self.feed(ch)

    def stop(self) -> None:
        """Stop acting on keys and give the terminal back its mode (from the calling thread: the reader may sit in
        a blocking read until the next key)."""
        self._stop.set()
        if self._restore is not None:
            self._restore()
            self._restore = None


def _cbreak(stream):
    """Put a TTY into cbreak mode; returns the function that restores it (None when not a TTY)."""
    try:
        if not stream.isatty():
            return None
        import termios  # POSIX only: imported where a terminal is actually there
        import tty

        fd = stream.fileno()
        saved = termios.tcgetattr(fd)
        tty.setcbreak(fd)
    except (ImportError, OSError, ValueError, AttributeError):
        return None
    return lambda: termios.tcsetattr(fd, termios.TCSADRAIN, saved)


@dataclass
class OperatorQueue:
    """Thread-safe queue of operator actions (keyboard, services) drained by the controller's step."""

    _items: list = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def put(self, action: str, source: str = "operator") -> None:
        if action not in ACTIONS:
            raise ValueError(f"operator action: expected one of {ACTIONS}, got {action!r}")
        with self._lock:
            self._items.append((action, source))

    def drain(self) -> list:
        with self._lock:
            items, self._items = self._items, []
        return items
