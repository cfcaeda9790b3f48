"""DDS plumbing: a CycloneDDS domain on a chosen interface, raw-bytes readers and writers.

Interface, domain id and discovery peers come from :class:`DdsConfig`; the CycloneDDS XML it generates pins the
network interface. On a network card discovery is the G1's (multicast SPDP on that card, plus unicast to the peers
the user names); on loopback, where Linux has no multicast by default, discovery is unicast to 127.0.0.1 so tests
run on any machine. :meth:`DdsConfig.for_network` builds either. Writers and readers advertise XCDR1 only
(``DataRepresentation``), so a Cyclone DDS 0.10 peer matches them. Samples travel as raw serialized bytes built by
:mod:`sonic_deploy.dds.codec`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version

from cyclonedds._clayer import ddspy_take, ddspy_write
from cyclonedds.core import InstanceState, ReadCondition, SampleState, ViewState, WaitSet
from cyclonedds.domain import Domain, DomainParticipant
from cyclonedds.pub import DataWriter
from cyclonedds.qos import Policy, Qos
from cyclonedds.sub import DataReader
from cyclonedds.topic import Topic

from sonic_deploy.dds import idl
from sonic_deploy.dds.idl import UINT8_KINDS

TOPIC_LOWCMD = "rt/lowcmd"
TOPIC_LOWSTATE = "rt/lowstate"
XCDR1_ONLY = Policy.DataRepresentation(use_cdrv0_representation=True)


@dataclass(frozen=True)
class DdsConfig:
    """Which DDS domain and network interface to use."""

    domain_id: int = 0
    interface: str = "lo"  # a NIC name (enp3s0, eth0) or an address
    peers: tuple[str, ...] = ("127.0.0.1",)  # unicast discovery peers; empty = multicast discovery
    multicast: bool = False
    # how the IDL's one-byte members are described in the type information: "byte" (TK_BYTE, as Cyclone DDS 0.10
    # and the G1 describe Unitree's octet fields) or "uint8" (TK_UINT8, 11.x peers whose IDL says uint8)
    uint8_kind: str = "byte"
    # also serve peers whose one-byte members are described the other way (see sonic_deploy.dds.endpoints)
    adapt_uint8: bool = True
    # accept Fast DDS's type objects (see xml()); only Cyclone DDS 0.11 and later know the setting
    accept_fastdds_types: bool = field(default_factory=lambda: cyclonedds_version() >= (0, 11))

    @classmethod
    def for_network(cls, interface: str, domain_id: int = 0, peers: tuple[str, ...] = (),
                    uint8_kind: str = "byte") -> "DdsConfig":
        """Discovery as on the G1's network: multicast on ``interface`` plus unicast to ``peers`` only.

        Loopback (``lo``, ``127.x``) has no multicast on a stock Linux, and Cyclone DDS 0.10 then discovers nothing:
        there discovery is unicast to 127.0.0.1 (added to ``peers``), which every version supports."""
        if uint8_kind not in UINT8_KINDS:
            raise ValueError(f"uint8_kind: expected one of {UINT8_KINDS}, got {uint8_kind!r}")
        if not interface:
            raise ValueError("interface: expected a network interface name (enp3s0, eth0, lo) or an address")
        peers = tuple(p for p in peers if p)
        if is_loopback(interface):
            return cls(domain_id=domain_id, interface=interface, peers=tuple(dict.fromkeys(("127.0.0.1", *peers))),
                       multicast=False, uint8_kind=uint8_kind)
        return cls(domain_id=domain_id, interface=interface, peers=peers, multicast=True, uint8_kind=uint8_kind)

    def xml(self) -> str:
        iface = (f'<NetworkInterface address="{self.interface}"/>' if self.interface[:1].isdigit()
                 else f'<NetworkInterface name="{self.interface}"/>')
        peers = "".join(f'<Peer address="{p}"/>' for p in self.peers)
        disc = (f"<Discovery><ParticipantIndex>auto</ParticipantIndex><MaxAutoParticipantIndex>60"
                f"</MaxAutoParticipantIndex><Peers>{peers}</Peers></Discovery>") if self.peers else ""
        # Fast DDS (ROS 2's rmw_fastrtps) writes collection element flags with both XTypes "try construct" bits 0;
        # Cyclone 0.11+ rejects such type objects, printing "ddsi_xt_type_init_impl with invalid type object" each
        # time one of its endpoints meets a Fast DDS one on a topic, unless told to accept them (0.10 has no such
        # check and no such setting, and refuses unknown settings)
        compat = ("<Compatibility><AllowInvalidTryConstruct>true</AllowInvalidTryConstruct></Compatibility>"
                  if self.accept_fastdds_types else "")
        return (f'<CycloneDDS><Domain id="any"><General><Interfaces>{iface}</Interfaces>'
                f'<AllowMulticast>{"true" if self.multicast else "false"}</AllowMulticast></General>'
                f"{disc}{compat}</Domain></CycloneDDS>")

    def env(self) -> dict[str, str]:
        """Environment for a child process using the same settings (``CYCLONEDDS_URI``)."""
        env = dict(os.environ)
        env["CYCLONEDDS_URI"] = self.xml()
        return env


def is_loopback(interface: str) -> bool:
    """``lo``/``lo0`` or a 127.0.0.0/8 address."""
    return interface in ("lo", "lo0", "localhost") or interface.startswith("127.")


_DOMAINS: dict[int, Domain] = {}


def cyclonedds_version() -> tuple[int, ...]:
    """The cyclonedds Python package's version (0.10.x is what Unitree's SDK and the robot's side pin)."""
    try:
        return tuple(int(p) for p in version("cyclonedds").split(".")[:3] if p.isdigit())
    except PackageNotFoundError:  # pragma: no cover - a source checkout of cyclonedds
        return (0, 0, 0)


# 0.10.x: ddspy_take(reader, n) takes every sample; 0.11 and later: ddspy_take(reader, mask, n)
_TAKE_HAS_MASK = cyclonedds_version() >= (0, 11)


def participant(cfg: DdsConfig) -> DomainParticipant:
    """A participant on ``cfg.domain_id`` configured by ``cfg`` (the domain is created once per process)."""
    if cfg.domain_id not in _DOMAINS:
        _DOMAINS[cfg.domain_id] = Domain(cfg.domain_id, cfg.xml())
    dp = DomainParticipant(cfg.domain_id)
    dp.sonic_uint8_kind = cfg.uint8_kind
    return dp


def _types(dp):
    return idl.variant(getattr(dp, "sonic_uint8_kind", "byte"))


def _qos(reliable: bool, depth: int) -> Qos:
    rel = Policy.Reliability.Reliable(max_blocking_time=0) if reliable else Policy.Reliability.BestEffort
    return Qos(rel, Policy.History.KeepLast(depth), XCDR1_ONLY)


class RawWriter:
    """Writes pre-serialized samples (encapsulation header + payload) of one IDL type on one topic."""

    def __init__(self, dp: DomainParticipant, topic: str, data_type, *, reliable: bool = True, depth: int = 1):
        self.topic = Topic(dp, topic, data_type)
        self.writer = DataWriter(dp, self.topic, qos=_qos(reliable, depth))

    def write(self, data: bytes) -> None:
        ret = ddspy_write(self.writer._ref, data)
        if ret < 0:
            raise RuntimeError(f"DDS write on {self.topic.name} failed ({ret})")

    def matched(self) -> int:
        return len(self.writer.get_matched_subscriptions())


class RawReader:
    """Takes raw serialized samples; ``wait`` blocks until data arrives or the timeout passes."""

    def __init__(self, dp: DomainParticipant, topic: str, data_type, *, reliable: bool = False, depth: int = 1):
        self.topic = Topic(dp, topic, data_type)
        self.reader = DataReader(dp, self.topic, qos=_qos(reliable, depth))
        self._mask = SampleState.Any | ViewState.Any | InstanceState.Any
        self._cond = ReadCondition(self.reader, self._mask)
        self._waitset = WaitSet(dp)
        self._waitset.attach(self._cond)

    def take(self, n: int = 64) -> list[bytes]:
        ret = (ddspy_take(self.reader._ref, self._mask, n) if _TAKE_HAS_MASK
               else ddspy_take(self.reader._ref, n))
        if isinstance(ret, int):
            raise RuntimeError(f"DDS take on {self.topic.name} failed ({ret})")
        return [data for data, info in ret if info.valid_data]

    def wait(self, timeout_s: float) -> bool:
        return self._waitset.wait(int(max(timeout_s, 0.0) * 1e9)) > 0

    def matched(self) -> int:
        return len(self.reader.get_matched_publications())


def lowcmd_writer(dp, **kw) -> RawWriter:
    return RawWriter(dp, TOPIC_LOWCMD, _types(dp)[0], **kw)


def lowcmd_reader(dp, **kw) -> RawReader:
    return RawReader(dp, TOPIC_LOWCMD, _types(dp)[0], **kw)


def lowstate_writer(dp, **kw) -> RawWriter:
    return RawWriter(dp, TOPIC_LOWSTATE, _types(dp)[1], **kw)


def lowstate_reader(dp, **kw) -> RawReader:
    return RawReader(dp, TOPIC_LOWSTATE, _types(dp)[1], **kw)
