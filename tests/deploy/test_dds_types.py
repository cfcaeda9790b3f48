"""Type matching on rt/lowstate and rt/lowcmd: a peer of the other one-byte description is served, a peer whose type
cannot match is named in one line within 2 s (bridge and driver), never silent."""

import logging
import time
from dataclasses import dataclass, replace

import cyclonedds.idl as cidl
import cyclonedds.idl.annotations as annotate
import cyclonedds.idl.types as types
import numpy as np

from sonic_deploy.bridge.server import BridgeConfig, MujocoBridge
from sonic_deploy.dds import idl
from sonic_deploy.dds.channel import TOPIC_LOWCMD, TOPIC_LOWSTATE, DdsConfig, RawReader, RawWriter, participant
from sonic_deploy.dds.codec import LowStateData, decode_lowstate, encode_lowstate
from sonic_deploy.dds.endpoints import LowLevelLink
from sonic_deploy.robots.g1_dds import G1DdsRobot


@dataclass
@annotate.final
class ForeignLowCmd(cidl.IdlStruct, typename="unitree_go.msg.dds_.LowCmd_"):
    head: types.array[types.uint8, 2]
    level_flag: types.uint8
    crc: types.uint32


def _lines(caplog, needle: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if needle in r.getMessage()]


def _poll_until(poll, caplog, needle: str, timeout: float = 2.0) -> float:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout and not _lines(caplog, needle):
        poll()
        time.sleep(0.02)
    return time.monotonic() - t0


def test_bridge_names_a_writer_whose_type_cannot_match(dds_cfg, caplog):
    caplog.set_level(logging.WARNING, "sonic_deploy.dds")
    bridge = MujocoBridge(BridgeConfig(dds=dds_cfg, lockstep=True))
    dp = participant(dds_cfg)
    foreign = RawWriter(dp, TOPIC_LOWCMD, ForeignLowCmd)
    t = _poll_until(bridge._apply_pending, caplog, "unitree_go::msg::dds_::LowCmd_")
    for _ in range(20):  # further polls add nothing
        bridge._apply_pending()
        time.sleep(0.02)
    lines = _lines(caplog, "unitree_go::msg::dds_::LowCmd_")
    assert len(lines) == 1 and t < 2.0, lines
    assert "rt/lowcmd" in lines[0] and "cannot match" in lines[0] and "unitree_hg::msg::dds_::LowCmd_" in lines[0]
    assert foreign.matched() == 0


def test_driver_names_a_lowstate_writer_whose_type_cannot_match(dds_cfg, caplog):
    caplog.set_level(logging.WARNING, "sonic_deploy.dds")
    robot = G1DdsRobot(dds_cfg)

    @dataclass
    @annotate.final
    class ForeignLowState(cidl.IdlStruct, typename="unitree_go.msg.dds_.LowState_"):
        tick: types.uint32

    RawWriter(participant(dds_cfg), TOPIC_LOWSTATE, ForeignLowState)
    t = _poll_until(robot.read_state, caplog, "unitree_go::msg::dds_::LowState_")
    lines = _lines(caplog, "unitree_go::msg::dds_::LowState_")
    assert len(lines) == 1 and t < 2.0 and "rt/lowstate" in lines[0], lines


def test_uint8_peer_served_by_a_second_pair(dds_cfg, caplog):
    """A reader whose one-byte members are TK_UINT8 (Unitree's SDK types on Cyclone 11) gets the robot side's states."""
    caplog.set_level(logging.WARNING, "sonic_deploy.dds")
    dp = participant(dds_cfg)
    link = LowLevelLink(dp, "robot")
    peer = RawReader(dp, TOPIC_LOWSTATE, idl.variant("uint8")[1], reliable=True, depth=16)
    t0 = time.monotonic()
    while link.descriptions == ("byte",) and time.monotonic() - t0 < 2.0:
        link.take()
        time.sleep(0.02)
    assert link.descriptions == ("byte", "uint8")
    assert len(_lines(caplog, "describes its one-byte members as uint8")) == 1
    t0 = time.monotonic()
    while peer.matched() == 0 and time.monotonic() - t0 < 5.0:
        time.sleep(0.02)
    link.write(encode_lowstate(LowStateData(tick=77, q=np.full(35, 0.5, np.float32))))
    got = []
    t0 = time.monotonic()
    while not got and time.monotonic() - t0 < 5.0:
        peer.wait(0.1)
        got = [decode_lowstate(d) for d in peer.take()]
    assert got and got[-1].tick == 77 and got[-1].crc_ok


def test_no_type_adapt_reports_the_uint8_peer_instead(dds_cfg, caplog):
    caplog.set_level(logging.WARNING, "sonic_deploy.dds")
    cfg = replace(dds_cfg, adapt_uint8=False)
    dp = participant(cfg)
    link = LowLevelLink(dp, "robot", adapt=cfg.adapt_uint8)
    RawWriter(dp, TOPIC_LOWCMD, idl.variant("uint8")[0])
    t = _poll_until(link.take, caplog, "type adaptation is off")
    assert t < 2.0 and link.descriptions == ("byte",)
    lines = _lines(caplog, "type adaptation is off")
    assert len(lines) == 1 and "uint8" in lines[0] and "rt/lowcmd" in lines[0]


def test_for_network():
    lo = DdsConfig.for_network("lo", 3, ("10.0.0.2",))
    assert lo.domain_id == 3 and not lo.multicast and lo.peers == ("127.0.0.1", "10.0.0.2")
    assert "<AllowMulticast>false</AllowMulticast>" in lo.xml() and '<Peer address="127.0.0.1"/>' in lo.xml()
    nic = DdsConfig.for_network("enp3s0")
    assert nic.multicast and nic.peers == () and nic.domain_id == 0 and nic.uint8_kind == "byte"
    assert '<NetworkInterface name="enp3s0"/>' in nic.xml() and "<Peers>" not in nic.xml()
    assert "<AllowMulticast>true</AllowMulticast>" in nic.xml()
    named = DdsConfig.for_network("192.168.123.99", peers=("192.168.123.161",), uint8_kind="uint8")
    assert named.multicast and '<NetworkInterface address="192.168.123.99"/>' in named.xml()
    assert '<Peer address="192.168.123.161"/>' in named.xml() and named.uint8_kind == "uint8"
    for bad in (dict(interface="lo", uint8_kind="octet"), dict(interface="")):
        try:
            DdsConfig.for_network(**bad)
        except ValueError as exc:
            assert "uint8_kind" in str(exc) or "interface" in str(exc)
        else:
            raise AssertionError(f"accepted {bad}")
