"""The G1's wireless remote (``LowState_.wireless_remote``, 40 bytes) as an operator input: the one button map.

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
from dataclasses import dataclass

from sonic_deploy.control.operator import ACTIONS

BUTTONS = ("R1", "L1", "start", "select", "R2", "L2", "F1", "F2", "A", "B", "X", "Y", "up", "right", "down", "left")
BUTTON_BITS = {b: i for i, b in enumerate(BUTTONS)}
ACTION_PRIORITY = ACTIONS  # when several combinations are held, the first fires


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
    """Edge detection of the bound button combinations. The remote's bytes change only when a stick or button
    moves, so an unchanged sample is answered from the held set without decoding it again (e-stop keeps firing
    while held, every other action fires once per press)."""

    def __init__(self, bindings: RemoteBindings | None = None):
        self.bindings = bindings or RemoteBindings()
        self._held: set[str] = set()
        self.last = RemoteState()
        self._masks = {a: sum(1 << BUTTON_BITS[b] for b in getattr(self.bindings, a)) for a in ACTIONS}
        self._last_bytes: bytes | None = None

    def update(self, data: bytes) -> list[str]:
        data = bytes(data)
        if data == self._last_bytes:
            return ["estop"] if "estop" in self._held else []
        self._last_bytes = data
        st = RemoteState.decode(data)
        self.last = st
        held = {a for a, m in self._masks.items() if m and (st.keys & m) == m}
        fired = []
        for a in ACTION_PRIORITY:
            if a in held and (a == "estop" or a not in self._held):
                fired.append(a)
                break
        self._held = held
        return fired


@dataclass(frozen=True)
class RemoteScript:
    """Scripted remote presses for sim-to-sim drills and tests: from each time on (seconds of the run's clock) the
    remote shows that entry's buttons, until the next entry (an empty entry releases them). The in-process run puts
    them in the state it reads; the MuJoCo bridge in the ``wireless_remote`` bytes of its LowState_."""

    events: tuple[tuple[float, tuple[str, ...]], ...] = ()

    @classmethod
    def parse(cls, specs) -> "RemoteScript":
        """``["3.0:select", "3.2:", "4.0:L2+B"]`` -> a script; a ValueError names the bad entry."""
        events = []
        for spec in specs or ():
            t, sep, buttons = str(spec).partition(":")
            try:
                when = float(t)
            except ValueError:
                when = None
            names = tuple(b for b in buttons.split("+") if b)
            bad = [b for b in names if b not in BUTTON_BITS]
            if not sep or when is None or when < 0 or bad:
                raise ValueError(f"remote press {spec!r}: expected TIME:BUTTON+BUTTON (seconds >= 0; buttons "
                                 f"{list(BUTTONS)}; nothing after ':' releases)")
            events.append((when, names))
        return cls(tuple(sorted(events, key=lambda e: e[0])))

    def bytes_at(self, t: float) -> bytes:
        held: tuple[str, ...] = ()
        for when, names in self.events:
            if when > t + 1e-9:
                break
            held = names
        return encode_remote(held)

    def specs(self) -> list[str]:
        return [f"{t:g}:{'+'.join(b)}" for t, b in self.events]
