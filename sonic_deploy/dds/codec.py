"""numpy encoder/decoder for the ``unitree_hg`` LowCmd_ / LowState_ wire form, and their C-struct images.

The robot's messages are final structs without 64-bit members, so their XCDR1 payload (after the 4-byte
encapsulation header ``00 01 00 00``) is a fixed byte layout: each primitive aligned to its size,
relative to the payload start. This module reads and writes that layout with numpy views (tens of
microseconds instead of the object serializer's ~0.4 ms) and maps it to the C-struct image the Unitree
CRC is computed over.

Payload offsets (bytes):

* LowCmd_ (1000 B): mode_pr 0, mode_machine 1, motor_cmd[0].mode 2, motor_cmd[i].mode 28 i (i >= 1),
  motor_cmd[i].{q, dq, tau, kp, kd, reserve} at 28 i + 4 + 4 k, reserve[4] 980, crc 996.
* LowState_ (2088 B): version 0, mode_pr 8, mode_machine 9, tick 12, imu quaternion 16, gyroscope 32,
  accelerometer 44, rpy 56, temperature 68; motor_state[0].mode 70, motor_state[i].mode 68 + 56 i (i >= 1),
  motor_state[i].q 72 + 56 i (then dq, ddq, tau_est, temperature[2], vol, sensor[2], motorstate, reserve[4]);
  wireless_remote 2028, reserve 2068, crc 2084.

C-struct images (1004 B and 2092 B) are the same bytes with the first motor's ``mode`` moved to its
naturally aligned slot and every pad byte zero.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sonic_deploy.dds.crc import crc32_image

NUM_MOTORS = 35
CMD_PAYLOAD = 1000
STATE_PAYLOAD = 2088
CMD_IMAGE = 1004
STATE_IMAGE = 2092
HEADER_CDR_LE = bytes((0, 1, 0, 0))
_ACCEPTED_HEADERS = (b"\x00\x01", b"\x00\x07")  # XCDR1 LE; XCDR2 plain LE (same layout: no 8-byte members)

_CMD_MODE_OFF = np.array([2] + [28 * i for i in range(1, NUM_MOTORS)])
_STATE_MODE_OFF = np.array([70] + [68 + 56 * i for i in range(1, NUM_MOTORS)])


def _image_index(payload_len: int, image_len: int, pieces: list[tuple[int, int, int]]) -> np.ndarray:
    """Gather index building an image from a payload; ``payload_len`` (a zero byte appended) marks padding."""
    idx = np.full(image_len, payload_len, dtype=np.int64)
    for dst, src, n in pieces:
        idx[dst:dst + n] = np.arange(src, src + n)
    return idx


def _cmd_pieces() -> list[tuple[int, int, int]]:
    pieces = [(0, 0, 2), (4, 2, 1)]  # mode_pr, mode_machine; motor 0 mode
    for i in range(NUM_MOTORS):
        if i:
            pieces.append((4 + 28 * i, 28 * i, 1))
        pieces.append((8 + 28 * i, 4 + 28 * i, 24))
    pieces.append((984, 980, 20))  # reserve[4], crc
    return pieces


def _state_pieces() -> list[tuple[int, int, int]]:
    pieces = [(0, 0, 10), (12, 12, 58)]  # version..mode_machine; tick + imu (through temperature)
    pieces.append((72, 70, 1))
    for i in range(NUM_MOTORS):
        if i:
            pieces.append((72 + 56 * i, 68 + 56 * i, 1))
        pieces.append((76 + 56 * i, 72 + 56 * i, 52))
    pieces.append((2032, 2028, 60))  # wireless_remote, reserve, crc
    return pieces


_CMD_IDX = _image_index(CMD_PAYLOAD, CMD_IMAGE, _cmd_pieces())
_STATE_IDX = _image_index(STATE_PAYLOAD, STATE_IMAGE, _state_pieces())


def cmd_image(payload: np.ndarray) -> np.ndarray:
    """C-struct image (1004 B) of a LowCmd_ payload (1000 B)."""
    return np.append(payload, np.uint8(0))[_CMD_IDX]


def state_image(payload: np.ndarray) -> np.ndarray:
    """C-struct image (2092 B) of a LowState_ payload (2088 B)."""
    return np.append(payload, np.uint8(0))[_STATE_IDX]


@dataclass
class LowCmdData:
    """LowCmd_ as arrays over the 35 motor slots."""

    mode_pr: int = 0
    mode_machine: int = 0
    mode: np.ndarray = field(default_factory=lambda: np.zeros(NUM_MOTORS, np.uint8))
    q: np.ndarray = field(default_factory=lambda: np.zeros(NUM_MOTORS, np.float32))
    dq: np.ndarray = field(default_factory=lambda: np.zeros(NUM_MOTORS, np.float32))
    tau: np.ndarray = field(default_factory=lambda: np.zeros(NUM_MOTORS, np.float32))
    kp: np.ndarray = field(default_factory=lambda: np.zeros(NUM_MOTORS, np.float32))
    kd: np.ndarray = field(default_factory=lambda: np.zeros(NUM_MOTORS, np.float32))
    reserve: np.ndarray = field(default_factory=lambda: np.zeros(4, np.uint32))
    crc: int = 0
    crc_ok: bool = True


@dataclass
class LowStateData:
    """LowState_ as arrays over the 35 motor slots."""

    version: np.ndarray = field(default_factory=lambda: np.zeros(2, np.uint32))
    mode_pr: int = 0
    mode_machine: int = 0
    tick: int = 0
    quaternion: np.ndarray = field(default_factory=lambda: np.array([1, 0, 0, 0], np.float32))
    gyroscope: np.ndarray = field(default_factory=lambda: np.zeros(3, np.float32))
    accelerometer: np.ndarray = field(default_factory=lambda: np.zeros(3, np.float32))
    rpy: np.ndarray = field(default_factory=lambda: np.zeros(3, np.float32))
    imu_temperature: int = 0
    mode: np.ndarray = field(default_factory=lambda: np.zeros(NUM_MOTORS, np.uint8))
    q: np.ndarray = field(default_factory=lambda: np.zeros(NUM_MOTORS, np.float32))
    dq: np.ndarray = field(default_factory=lambda: np.zeros(NUM_MOTORS, np.float32))
    ddq: np.ndarray = field(default_factory=lambda: np.zeros(NUM_MOTORS, np.float32))
    tau_est: np.ndarray = field(default_factory=lambda: np.zeros(NUM_MOTORS, np.float32))
    temperature: np.ndarray = field(default_factory=lambda: np.zeros((NUM_MOTORS, 2), np.int16))
    vol: np.ndarray = field(default_factory=lambda: np.zeros(NUM_MOTORS, np.float32))
    motorstate: np.ndarray = field(default_factory=lambda: np.zeros(NUM_MOTORS, np.uint32))
    wireless_remote: bytes = bytes(40)
    crc: int = 0
    crc_ok: bool = True


def encode_lowcmd(cmd: LowCmdData, *, fill_crc: bool = True) -> bytes:
    """Serialized LowCmd_ (encapsulation header + 1000 B payload) with the CRC filled in."""
    p = np.zeros(CMD_PAYLOAD, np.uint8)
    p[0] = cmd.mode_pr
    p[1] = cmd.mode_machine
    p[_CMD_MODE_OFF] = np.asarray(cmd.mode, np.uint8)
    rows = p[:980].view("<f4").reshape(NUM_MOTORS, 7)
    for k, arr in enumerate((cmd.q, cmd.dq, cmd.tau, cmd.kp, cmd.kd)):
        rows[:, 1 + k] = arr
    p[980:996].view("<u4")[:] = cmd.reserve
    crc = crc32_image(cmd_image(p)) if fill_crc else cmd.crc
    p[996:1000].view("<u4")[0] = crc
    return HEADER_CDR_LE + p.tobytes()


def _payload(data: bytes, size: int, what: str) -> np.ndarray:
    if len(data) < size + 4 or bytes(data[:2]) not in _ACCEPTED_HEADERS:
        raise ValueError(f"{what}: expected a little-endian CDR sample of {size + 4} B, got {len(data)} B "
                         f"header {bytes(data[:4]).hex()}")
    return np.frombuffer(data, np.uint8, count=size, offset=4)


def decode_lowcmd(data: bytes) -> LowCmdData:
    p = _payload(data, CMD_PAYLOAD, "LowCmd_")
    rows = p[:980].view("<f4").reshape(NUM_MOTORS, 7)
    crc = int(p[996:1000].view("<u4")[0])
    return LowCmdData(
        mode_pr=int(p[0]), mode_machine=int(p[1]), mode=p[_CMD_MODE_OFF].copy(),
        q=rows[:, 1].copy(), dq=rows[:, 2].copy(), tau=rows[:, 3].copy(), kp=rows[:, 4].copy(), kd=rows[:, 5].copy(),
        reserve=p[980:996].view("<u4").copy(), crc=crc, crc_ok=crc == crc32_image(cmd_image(p)))


def encode_lowstate(st: LowStateData, *, fill_crc: bool = True) -> bytes:
    p = np.zeros(STATE_PAYLOAD, np.uint8)
    p[0:8].view("<u4")[:] = st.version
    p[8] = st.mode_pr
    p[9] = st.mode_machine
    p[12:16].view("<u4")[0] = st.tick
    imu = p[16:68].view("<f4")
    imu[0:4] = st.quaternion
    imu[4:7] = st.gyroscope
    imu[7:10] = st.accelerometer
    imu[10:13] = st.rpy
    p[68:70].view("<i2")[0] = st.imu_temperature
    block = p[72:2032]
    f = block.view("<f4").reshape(NUM_MOTORS, 14)
    f[:, 0], f[:, 1], f[:, 2], f[:, 3] = st.q, st.dq, st.ddq, st.tau_est
    f[:, 5] = st.vol
    block.view("<i2").reshape(NUM_MOTORS, 28)[:, 8:10] = st.temperature
    block.view("<u4").reshape(NUM_MOTORS, 14)[:, 8] = st.motorstate
    p[_STATE_MODE_OFF] = st.mode  # after the block: the last row's tail overlaps nothing written above
    wr = np.frombuffer(bytes(st.wireless_remote).ljust(40, b"\0")[:40], np.uint8)
    p[2028:2068] = wr
    crc = crc32_image(state_image(p)) if fill_crc else st.crc
    p[2084:2088].view("<u4")[0] = crc
    return HEADER_CDR_LE + p.tobytes()


def decode_lowstate(data: bytes, *, check_crc: bool = True) -> LowStateData:
    p = _payload(data, STATE_PAYLOAD, "LowState_")
    imu = p[16:68].view("<f4")
    block = p[72:2032]
    f = block.view("<f4").reshape(NUM_MOTORS, 14)
    crc = int(p[2084:2088].view("<u4")[0])
    return LowStateData(
        version=p[0:8].view("<u4").copy(), mode_pr=int(p[8]), mode_machine=int(p[9]),
        tick=int(p[12:16].view("<u4")[0]), quaternion=imu[0:4].copy(), gyroscope=imu[4:7].copy(),
        accelerometer=imu[7:10].copy(), rpy=imu[10:13].copy(), imu_temperature=int(p[68:70].view("<i2")[0]),
        mode=p[_STATE_MODE_OFF].copy(), q=f[:, 0].copy(), dq=f[:, 1].copy(), ddq=f[:, 2].copy(),
        tau_est=f[:, 3].copy(), temperature=block.view("<i2").reshape(NUM_MOTORS, 28)[:, 8:10].copy(),
        vol=f[:, 5].copy(), motorstate=block.view("<u4").reshape(NUM_MOTORS, 14)[:, 8].copy(),
        wireless_remote=p[2028:2068].tobytes(), crc=crc,
        crc_ok=(crc == crc32_image(state_image(p))) if check_crc else True)


def lowcmd_crc_of_object(msg) -> int:
    """CRC of a LowCmd_ object (any IDL class with the unitree_hg fields): serialize, then image."""
    return crc32_image(cmd_image(np.frombuffer(msg.serialize(), np.uint8, count=CMD_PAYLOAD, offset=4)))
