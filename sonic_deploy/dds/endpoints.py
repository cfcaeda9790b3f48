"""One side of the G1 low-level link (``rt/lowstate`` + ``rt/lowcmd``), matched to whatever types its peers describe.

Cyclone DDS matches a reader and a writer by their XTypes type information whenever both carry it, and XTypes never
assigns a ``TK_BYTE`` member from a ``TK_UINT8`` one. Unitree's one-byte members are ``octet`` in the robot's IDL
(``TK_BYTE`` on every Cyclone version) but ``uint8`` in the Python SDK (``unitree_sdk2py``), which Cyclone 0.10
describes as ``TK_BYTE`` and 0.11 and later as ``TK_UINT8``. A single type therefore cannot match the robot and an
SDK controller on Cyclone 11 at once, and a mismatch is silent: no match, no data, no error.

:class:`LowLevelLink` owns the endpoints of one side: it starts with the configured description
(``DdsConfig.uint8_kind``, ``byte`` by default, what the robot describes), watches the builtin publication and
subscription topics, and when a peer of the other description appears on either topic (and ``adapt_uint8`` is on)
adds a second reader and writer pair of that description on the same topic names. Samples written go out on every
pair (each peer matches one), samples read come from every pair. Which peers trigger it is the ``role``'s choice:

* ``robot`` (the bridge, a stand-in): any controller, i.e. a writer of ``rt/lowcmd`` or a reader of ``rt/lowstate``;
* ``controller`` (the driver): only the robot itself, a writer of ``rt/lowstate``; a monitoring tool reading
  ``rt/lowcmd`` with the other description does not make the driver write a second command stream.

A peer whose type is neither description (another struct under the same topic name, ``unitree_go`` types for
example) can never match: one warning line names its type, once per peer endpoint. The discovery poll is cheap
(two non-blocking takes) and rate-limited, so callers run it from their loops.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from cyclonedds.builtin import BuiltinDataReader, BuiltinTopicDcpsPublication, BuiltinTopicDcpsSubscription
from cyclonedds.core import WaitSet

from sonic_deploy.dds import idl
from sonic_deploy.dds.channel import TOPIC_LOWCMD, TOPIC_LOWSTATE, RawReader, RawWriter

log = logging.getLogger("sonic_deploy.dds")

ROLES = ("robot", "controller")


@dataclass(frozen=True)
class PeerEndpoint:
    """A remote reader or writer seen on one of the link's topics."""

    kind: str  # "reader" or "writer"
    topic: str
    type_name: str
    description: str | None  # "byte", "uint8", None (no type information: matched by name) or "unknown"
    participant: str


def _type_ids() -> dict:
    """Complete XTypes type id -> (topic, description) for both descriptions of both messages."""
    out = {}
    for kind in idl.UINT8_KINDS:
        cmd, state = idl.variant(kind)
        out.setdefault(cmd.__idl__.get_type_id(), (TOPIC_LOWCMD, kind))
        out.setdefault(state.__idl__.get_type_id(), (TOPIC_LOWSTATE, kind))
    return out


class LowLevelLink:
    """Writer of one topic and reader of the other, in one or both one-byte descriptions."""

    def __init__(self, dp, role: str, *, uint8_kind: str = "byte", adapt: bool = True, reliable_in: bool = False,
                 depth_in: int = 1, reliable_out: bool = True, depth_out: int = 1, poll_s: float = 0.2):
        if role not in ROLES:
            raise ValueError(f"role: expected one of {ROLES}, got {role!r}")
        self.dp = dp
        self.role = role
        self.adapt = adapt
        self.out_topic, self.in_topic = ((TOPIC_LOWSTATE, TOPIC_LOWCMD) if role == "robot"
                                         else (TOPIC_LOWCMD, TOPIC_LOWSTATE))
        self._qos = dict(reliable_in=reliable_in, depth_in=depth_in, reliable_out=reliable_out, depth_out=depth_out)
        self.writers: dict[str, RawWriter] = {}
        self.readers: dict[str, RawReader] = {}
        self._waitset = WaitSet(dp)
        self._ids = _type_ids()
        self._seen: set = set()
        self.peers: list[PeerEndpoint] = []
        self.unmatched: list[PeerEndpoint] = []
        self._builtin = [BuiltinDataReader(dp, BuiltinTopicDcpsPublication),
                         BuiltinDataReader(dp, BuiltinTopicDcpsSubscription)]
        self.poll_s = poll_s
        self._next_poll = 0.0
        self.add_description(uint8_kind)

    @property
    def descriptions(self) -> tuple[str, ...]:
        return tuple(self.writers)

    def add_description(self, kind: str) -> None:
        """Open the reader/writer pair whose one-byte members are described as ``kind``."""
        if kind in self.writers:
            return
        cmd, state = idl.variant(kind)
        out_type, in_type = (state, cmd) if self.role == "robot" else (cmd, state)
        q = self._qos
        self.writers[kind] = RawWriter(self.dp, self.out_topic, out_type, reliable=q["reliable_out"], depth=q["depth_out"])
        reader = RawReader(self.dp, self.in_topic, in_type, reliable=q["reliable_in"], depth=q["depth_in"])
        self._waitset.attach(reader._cond)
        self.readers[kind] = reader

    # --- data ---------------------------------------------------------------------------------------------
    def write(self, data: bytes) -> None:
        for w in self.writers.values():
            w.write(data)

    def take(self, n: int = 64) -> list[bytes]:
        self.poll()
        out: list[bytes] = []
        for r in self.readers.values():
            out += r.take(n)
        return out

    def wait(self, timeout_s: float) -> bool:
        return self._waitset.wait(int(max(timeout_s, 0.0) * 1e9)) > 0

    def matched_in(self) -> int:
        return sum(r.matched() for r in self.readers.values())

    def matched_out(self) -> int:
        return sum(w.matched() for w in self.writers.values())

    # --- discovery ----------------------------------------------------------------------------------------
    def poll(self, force: bool = False) -> list[PeerEndpoint]:
        """Read newly discovered endpoints on the link's topics (at most every ``poll_s`` unless ``force``)."""
        now = time.monotonic()
        if not force and now < self._next_poll:
            return []
        self._next_poll = now + self.poll_s
        new = []
        for reader, kind in zip(self._builtin, ("writer", "reader")):
            for s in reader.take(N=64):
                topic = getattr(s, "topic_name", None)
                if topic not in (TOPIC_LOWCMD, TOPIC_LOWSTATE) or s.key in self._seen:
                    continue
                self._seen.add(s.key)
                tid = getattr(s, "type_id", None)
                known = self._ids.get(tid) if tid is not None else None
                desc = None if tid is None else (known[1] if known is not None and known[0] == topic else "unknown")
                peer = PeerEndpoint(kind, topic, s.type_name, desc, str(s.participant_key))
                new.append(peer)
                self._on_peer(peer)
        return new

    def _on_peer(self, peer: PeerEndpoint) -> None:
        if peer.description == "unknown":
            self.unmatched.append(peer)
            expect = (idl.variant()[0] if peer.topic == TOPIC_LOWCMD else idl.variant()[1]).__idl__.idl_transformed_typename
            log.warning("DDS: a %s on %s has type %s, which cannot match ours (%s, one-byte members as %s): "
                        "no data will flow with that peer (participant %s)", peer.kind, peer.topic, peer.type_name,
                        expect, "/".join(self.descriptions), peer.participant)
            return
        self.peers.append(peer)
        if peer.description is None or peer.description in self.writers:
            return
        triggers = ((TOPIC_LOWCMD, "writer"), (TOPIC_LOWSTATE, "reader")) if self.role == "robot" \
            else ((TOPIC_LOWSTATE, "writer"),)
        if (peer.topic, peer.kind) not in triggers:
            return
        if not self.adapt:
            log.warning("DDS: a %s on %s describes its one-byte members as %s, ours are %s: it cannot match "
                        "(type adaptation is off; set uint8_kind=%s) (participant %s)", peer.kind, peer.topic,
                        peer.description, "/".join(self.descriptions), peer.description, peer.participant)
            self.unmatched.append(peer)
            return
        log.warning("DDS: a %s on %s (%s) describes its one-byte members as %s; adding %s endpoints for it "
                    "(participant %s)", peer.kind, peer.topic, peer.type_name, peer.description, peer.description,
                    peer.participant)
        self.add_description(peer.description)
