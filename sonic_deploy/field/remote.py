"""The G1's wireless remote (``LowState_.wireless_remote``, 40 bytes) and the keyboard as operator inputs.

Layout (Unitree's ``xRockerBtnDataStruct``, as the G1 developer docs and unitree_mujoco's bridge fill it):
bytes 0-1 head; bytes 2-3 the key union (little-endian uint16, bit 0 first): R1, L1, start, select, R2, L2,
F1, F2, A, B, X, Y, up, right, down, left; then little-endian float32 sticks LX 4-7, RX 8-11, RY 12-15,
the analog L2 trigger 16-19, LY 20-23; the rest idle. The real robot's layout is UNVERIFIED beyond these sources.

Bindings map an action (``estop``, ``damping``, ``stop``, ``start``, ``clear``) to a button combination (all
pressed). :class:`RemoteWatcher` turns successive remote samples into actions: ``estop`` fires while its
combination is held, the others on the press (rising edge); when several combinations are pressed, the first in
``ACTION_PRIORITY`` wins. The controller runs this inside its step on the state it already has, so the remote
works while the input stream, the ROS 2 side and everything else are dead.
"""

from __future__ import annotations

import struct
import threading
from dataclasses import dataclass, field

BUTTONS = ("R1", "L1", "start", "select", "R2", "L2", "F1", "F2", "A", "B", "X", "Y", "up", "right", "down", "left")
BUTTON_BITS = {b: i for i, b in enumerate(BUTTONS)}
ACTIONS = ("estop", "damping", "stop", "start", "clear")
ACTION_PRIORITY = ACTIONS


@dataclass(frozen=True)
class RemoteState:
    keys: int = 0
    lx: float = 0.0
    rx: float = 0.0
    ry: float = 0.0
    ly: float = 0.0
    l2: float = 0.0

    @classmethod
    def decode(cls, data: bytes) -> "RemoteState":
        data = bytes(data)
        if len(data) < 24:
            return cls()
        keys = data[2] | (data[3] << 8)
        lx, rx, ry, l2, ly = struct.unpack_from("<5f", data, 4)
        return cls(keys, lx, rx, ry, ly, l2)

    def pressed(self, *buttons: str) -> bool:
        if not buttons:
            return False
        mask = sum(1 << BUTTON_BITS[b] for b in buttons)
        return (self.keys & mask) == mask

    @property
    def buttons(self) -> tuple[str, ...]:
        return tuple(b for b in BUTTONS if self.keys >> BUTTON_BITS[b] & 1)


def encode_remote(buttons=(), lx: float = 0.0, rx: float = 0.0, ry: float = 0.0, ly: float = 0.0, l2: float = 0.0) -> bytes:
    """40 remote bytes with ``buttons`` pressed (tests, the bridge's injection hook, the keyboard in sim)."""
    keys = sum(1 << BUTTON_BITS[b] for b in buttons)
    return bytes(2) + struct.pack("<H5f", keys, lx, rx, ry, l2, ly) + bytes(16)


@dataclass
class RemoteBindings:
    estop: tuple = ("L2", "B")  # latched e-stop (damping; clear before restarting)
    damping: tuple = ("L2", "A")  # damping without a fault
    stop: tuple = ("select",)  # policy off: ramp back to and hold the default pose
    start: tuple = ("start",)  # damping/passive -> ramp; ramp (holding) -> active
    clear: tuple = ("L2", "X")  # clear a latched fault (-> damping)

    @classmethod
    def from_dict(cls, d: dict | None) -> "RemoteBindings":
        d = dict(d or {})
        for k, v in d.items():
            if k not in ACTIONS:
                raise ValueError(f"remote: unknown action {k!r} (actions: {ACTIONS})")
            v = (v,) if isinstance(v, str) else tuple(v or ())
            bad = [b for b in v if b not in BUTTON_BITS]
            if bad:
                raise ValueError(f"remote.{k}: unknown buttons {bad} (buttons: {BUTTONS})")
            d[k] = v
        return cls(**d)


class RemoteWatcher:
    def __init__(self, bindings: RemoteBindings | None = None):
        self.bindings = bindings or RemoteBindings()
        self._held: set[str] = set()
        self.last = RemoteState()

    def update(self, data: bytes) -> list[str]:
        st = RemoteState.decode(data)
        self.last = st
        held = {a for a in ACTIONS if st.pressed(*getattr(self.bindings, a))}
        fired = []
        for a in ACTION_PRIORITY:
            if a in held and (a == "estop" or a not in self._held):
                fired.append(a)
                break
        self._held = held
        return fired


DEFAULT_KEYS = {" ": "estop", "e": "estop", "d": "damping", "x": "stop", "s": "start", "c": "clear"}


class KeyboardReader:
    """Keys to the same actions as the remote (sim-to-sim): space/e e-stop, d damping, x stop, s start, c clear.

    ``feed(char)`` maps one key; :meth:`start` reads a terminal (or any text stream) on a daemon thread. Actions go
    to ``on_action`` (for example :meth:`sonic_deploy.control.controller.Controller.operator`), which queues them
    for the controller's next step."""

    def __init__(self, on_action, keys: dict | None = None):
        self.on_action = on_action
        self.keys = dict(DEFAULT_KEYS if keys is None else keys)
        bad = [a for a in self.keys.values() if a not in ACTIONS]
        if bad:
            raise ValueError(f"keyboard: unknown actions {bad}")
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def feed(self, char: str) -> str | None:
        action = self.keys.get(char.lower() if char != " " else char)
        if action is not None:
            self.on_action(action, "keyboard")
        return action

    def start(self, stream=None) -> "KeyboardReader":
        import sys

        stream = stream or sys.stdin

        def run():
            restore = None
            try:
                if stream.isatty():
                    import termios
                    import tty

                    fd = stream.fileno()
                    restore = (fd, termios.tcgetattr(fd))
                    tty.setcbreak(fd)
            except Exception:  # noqa: BLE001 - not a terminal: read lines
                restore = None
            try:
                while not self._stop.is_set():
                    ch = stream.read(1)
                    if not ch:
                        break
                    self.feed(ch)
            finally:
                if restore is not None:
                    import termios

                    termios.tcsetattr(restore[0], termios.TCSADRAIN, restore[1])

        self._thread = threading.Thread(target=run, name="sonic-keyboard", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()


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
