"""Import shim for Unitree's Python SDK (the ``unitree-sdk2`` wheel, module ``unitree_sdk2py``), used by the test peers.

The 1.0.1 wheel cannot be imported as published: its ``__init__`` imports a ``b2`` package the wheel does not ship,
and its CRC class loads ``crc_amd64.so``, which the wheel does not ship either. The shim

* registers the package without running its ``__init__`` (the SDK's own submodules import as usual);
* makes the SDK's CRC take its own pure-Python path (``CRC._crc_py``, the path it uses off Linux), so the CRC is
  still the SDK's packing (``__PackHGLowCmd`` / ``__PackHGLowState``) and its CRC32, not ours;
* points the SDK's channel factory at a loopback configuration: its template asks for multicast discovery on the
  interface, which a stock Linux ``lo`` lacks; the same unicast 127.0.0.1 discovery as ``DdsConfig.for_network("lo")``.

Everything else (IDL classes, serializer, ChannelPublisher / ChannelSubscriber, QoS) is the SDK's.
"""

from __future__ import annotations

import importlib.util
import platform
import sys
import types


def load_sdk(domain: int):
    """Import the SDK's channel, CRC and unitree_hg types; returns a namespace with what the peers use."""
    spec = importlib.util.find_spec("unitree_sdk2py")
    if spec is None:
        raise ImportError("unitree_sdk2py (the unitree-sdk2 wheel) is not installed")
    if "unitree_sdk2py" not in sys.modules:
        pkg = types.ModuleType("unitree_sdk2py")
        pkg.__path__ = list(spec.submodule_search_locations)
        pkg.__file__ = spec.origin
        sys.modules["unitree_sdk2py"] = pkg
    crc_mod = importlib.import_module("unitree_sdk2py.utils.crc")
    crc_mod.platform = types.SimpleNamespace(system=lambda: "pure-python", machine=platform.machine)
    channel = importlib.import_module("unitree_sdk2py.core.channel")
    channel.ChannelConfigHasInterface = (
        '<CycloneDDS><Domain id="any"><General><Interfaces><NetworkInterface name="$__IF_NAME__$"/></Interfaces>'
        "<AllowMulticast>false</AllowMulticast></General><Discovery><ParticipantIndex>auto</ParticipantIndex>"
        '<MaxAutoParticipantIndex>60</MaxAutoParticipantIndex><Peers><Peer address="127.0.0.1"/></Peers></Discovery>'
        "</Domain></CycloneDDS>")
    channel.ChannelFactoryInitialize(domain, "lo")
    hg = importlib.import_module("unitree_sdk2py.idl.unitree_hg.msg.dds_")
    default = importlib.import_module("unitree_sdk2py.idl.default")
    return types.SimpleNamespace(channel=channel, crc=crc_mod.CRC(), hg=hg, default=default,
                                 raw_reader=lambda topic, cls, depth: _RawTake(domain, topic, cls, depth))


class _RawTake:
    """A reader of one of the SDK's IDL classes whose samples are taken as serialized bytes (batch counting without
    the per-sample Python deserializer); ``cls.deserialize`` turns any of them into the SDK's object."""

    def __init__(self, domain: int, topic: str, cls, depth: int):
        from importlib.metadata import version

        from cyclonedds.core import InstanceState, SampleState, ViewState
        from cyclonedds.domain import DomainParticipant
        from cyclonedds.qos import Policy, Qos
        from cyclonedds.sub import DataReader
        from cyclonedds.topic import Topic

        self._dp = DomainParticipant(domain)
        self._topic = Topic(self._dp, topic, cls)
        self._reader = DataReader(self._dp, self._topic, qos=Qos(Policy.Reliability.Reliable(0),
                                                                  Policy.History.KeepLast(depth)))
        self._mask = SampleState.Any | ViewState.Any | InstanceState.Any
        self._with_mask = not version("cyclonedds").startswith("0.10")

    def take(self) -> list[bytes]:
        from cyclonedds._clayer import ddspy_take

        ret = ddspy_take(self._reader._ref, self._mask, 256) if self._with_mask else ddspy_take(self._reader._ref, 256)
        return [] if isinstance(ret, int) else [d for d, info in ret if info.valid_data]
