"""Unitree DDS wire: CRC reference values, codec equals the IDL serializer, interop with unitree-dds-wrapper."""

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from sonic_deploy.dds import idl
from sonic_deploy.dds.channel import lowcmd_reader, lowcmd_writer, lowstate_reader, lowstate_writer, participant
from sonic_deploy.dds.codec import (LowCmdData, LowStateData, cmd_image, decode_lowcmd, decode_lowstate, encode_lowcmd,
                                    encode_lowstate, lowcmd_crc_of_object, state_image)
from sonic_deploy.dds.crc import crc32_image, crc32_words, crc32_words_reference

PEER = Path(__file__).with_name("_udw_peer.py")


def test_crc_reference_values():
    assert crc32_image(np.zeros(1004, np.uint8)) == 0xFE172F9F  # all-zero LowCmd_
    assert crc32_image(np.zeros(2092, np.uint8)) == 0xD64BB04A  # all-zero LowState_
    assert crc32_words_reference([0] * 250) == 0xFE172F9F
    rng = np.random.default_rng(0)
    for n in (1, 7, 250):
        words = rng.integers(0, 2**32, n, dtype=np.uint64).astype(np.uint32)
        assert crc32_words(words) == crc32_words_reference(words)


def _random_cmd(rng) -> LowCmdData:
    c = LowCmdData(mode_pr=0, mode_machine=5, mode=rng.integers(0, 2, 35).astype(np.uint8))
    for k in ("q", "dq", "tau", "kp", "kd"):
        setattr(c, k, rng.normal(size=35).astype(np.float32))
    return c


def test_codec_matches_idl_serializer_and_c_image():
    rng = np.random.default_rng(2)
    c = _random_cmd(rng)
    data = encode_lowcmd(c)
    assert data[:4] == b"\x00\x01\x00\x00" and len(data) == 1004
    obj = idl.LowCmd_.deserialize(data)
    assert obj.serialize() == data  # byte-identical to cyclonedds-python's XCDR1 encoder
    assert lowcmd_crc_of_object(obj) == obj.crc == decode_lowcmd(data).crc
    assert obj.motor_cmd[7].kp == pytest.approx(float(c.kp[7]))
    assert len(cmd_image(np.frombuffer(data, np.uint8, offset=4))) == 1004
    s = LowStateData(mode_machine=5, tick=99, q=rng.normal(size=35), temperature=rng.integers(0, 90, (35, 2)),
                     mode=np.ones(35, np.uint8), wireless_remote=bytes(range(40)))
    sdata = encode_lowstate(s)
    sobj = idl.LowState_.deserialize(sdata)
    assert sobj.serialize() == sdata and len(sdata) == 2092
    assert sobj.tick == 99 and list(sobj.motor_state[3].temperature) == list(s.temperature[3])
    back = decode_lowstate(sdata)
    assert back.crc_ok and np.allclose(back.q, s.q, atol=1e-6) and back.wireless_remote == bytes(range(40))
    assert len(state_image(np.frombuffer(sdata, np.uint8, offset=4))) == 2092
    # A flipped bit anywhere in the payload is detected.
    bad = bytearray(sdata)
    bad[500] ^= 0x10
    assert not decode_lowstate(bytes(bad)).crc_ok


def test_registered_type_names():
    assert idl.LowCmd_.__idl__.idl_transformed_typename == "unitree_hg::msg::dds_::LowCmd_"
    assert idl.LowState_.__idl__.idl_transformed_typename == "unitree_hg::msg::dds_::LowState_"


def _udw(cfg):
    """unitree-dds-wrapper on cyclonedds 11 declares the one-byte fields uint8 (TK_UINT8); the default (TK_BYTE)
    is what Cyclone DDS 0.10 and the robot describe (see sonic_deploy/dds/idl.py)."""
    import dataclasses

    return dataclasses.replace(cfg, uint8_kind="uint8")


def _start_peer(mode, cfg, seconds):
    pytest.importorskip("unitree_dds_wrapper", reason="unitree-dds-wrapper (dev extra) is not installed")
    return subprocess.Popen([sys.executable, str(PEER), mode, str(cfg.domain_id), str(seconds)],
                            env=cfg.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _finish(proc):
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    return json.loads(out.strip().splitlines()[-1])


def _take(reader, decode, count: int = 5, timeout: float = 25.0) -> list:
    """Decode samples from ``reader`` until ``count`` arrived or ``timeout`` passed."""
    got = []
    t_end = time.time() + timeout
    while time.time() < t_end and len(got) < count:
        if reader.wait(0.2):
            got += [decode(d) for d in reader.take()]
    return got


def test_wrapper_lowcmd_received_by_us(dds_cfg):
    dds_cfg = _udw(dds_cfg)
    proc = _start_peer("pub_cmd", dds_cfg, 3.0)
    reader = lowcmd_reader(participant(dds_cfg))
    got = _take(reader, decode_lowcmd)
    res = _finish(proc)
    assert len(got) >= 5
    cmd = got[-1]
    assert cmd.crc_ok and cmd.crc == res["crc"]
    assert cmd.mode_machine == 5 and cmd.mode[:35].tolist() == [1] * 35
    assert np.allclose(cmd.q[:35], 0.01 * np.arange(35), atol=1e-6)
    assert np.allclose(cmd.kp[:35], 10.0 + np.arange(35))


def test_our_lowcmd_received_by_wrapper(dds_cfg):
    dds_cfg = _udw(dds_cfg)
    proc = _start_peer("sub_cmd", dds_cfg, 4.0)
    writer = lowcmd_writer(participant(dds_cfg))
    c = LowCmdData(mode_machine=5, mode=np.ones(35, np.uint8))
    c.q[:] = 0.05 * np.arange(35)
    c.kp[:] = 20.0
    t_end = time.time() + 60.0  # until the peer has listened its 4 s (its start-up is slow on a loaded machine)
    while time.time() < t_end and proc.poll() is None:
        writer.write(encode_lowcmd(c))
        time.sleep(0.01)
    res = _finish(proc)
    assert res["received"] > 0 and res["crc_ok"] == res["received"]
    assert res["last"][-1] == 5
    assert np.allclose([m[1] for m in res["last"][:29]], 0.05 * np.arange(29), atol=1e-6)


def test_wrapper_lowstate_received_by_us(dds_cfg):
    dds_cfg = _udw(dds_cfg)
    proc = _start_peer("pub_state", dds_cfg, 3.0)
    reader = lowstate_reader(participant(dds_cfg))
    got = _take(reader, decode_lowstate)
    res = _finish(proc)
    assert len(got) >= 5
    st = got[-1]
    assert st.crc_ok and st.crc == res["crc"] and st.tick == 4242
    assert np.allclose(st.q, 0.03 * np.arange(35), atol=1e-6) and st.temperature[4].tolist() == [34, 35]
    assert st.wireless_remote == bytes(range(40))


def test_our_lowstate_received_by_wrapper(dds_cfg):
    dds_cfg = _udw(dds_cfg)
    proc = _start_peer("sub_state", dds_cfg, 4.0)
    writer = lowstate_writer(participant(dds_cfg))
    s = LowStateData(mode_machine=5, tick=7, wireless_remote=bytes(range(40, 80)))
    s.q[:] = -0.01 * np.arange(35)
    t_end = time.time() + 60.0  # until the peer has listened its 4 s (its start-up is slow on a loaded machine)
    while time.time() < t_end and proc.poll() is None:
        writer.write(encode_lowstate(s))
        time.sleep(0.01)
    res = _finish(proc)
    assert res["received"] > 0 and res["crc_ok"] == res["received"]
    tick, mm, q, quat, wr = res["last"]
    assert tick == 7 and mm == 5 and np.allclose(q, -0.01 * np.arange(29), atol=1e-6) and wr == list(range(40, 80))
