"""``unitree_hg`` IDL types (G1 low-level messages) for cyclonedds-python.

Field lists and order follow Unitree's ``unitree_hg`` IDL. Every struct is ``@final`` and
``@autoid(sequential)``, so the wire form is plain XCDR1 (encapsulation 0x0001, CDR little-endian)
which the robot's Cyclone DDS 0.10 accepts. The registered type names are
``unitree_hg::msg::dds_::<Name>`` (cyclonedds-python turns the dots of ``typename`` into ``::``).

These classes register the topics and let any Python code build messages as objects; the hot path
(``sonic_deploy.dds.codec``) writes and reads the same bytes with numpy instead.
"""


from dataclasses import dataclass, field

import cyclonedds.idl as idl
import cyclonedds.idl.annotations as annotate
import cyclonedds.idl.types as types

NUM_MOTORS = 35

# Unitree's IDL declares these fields ``octet``; Cyclone DDS 0.10 describes octet and uint8 alike as TK_BYTE in
# the XTypes type object, 0.11 and later describe ``uint8`` as TK_UINT8, which a 0.10 peer cannot parse (it
# crashes in the type-lookup exchange). ``byte`` keeps TK_BYTE on every version, so the type objects of a 0.10
# and an 11.x peer agree (same wire layout: one byte). ``variant("uint8")`` builds the same structs with
# ``uint8`` (TK_UINT8) for an 11.x peer whose IDL says uint8 (unitree-dds-wrapper on cyclonedds 11, for example):
# XTypes does not match a TK_BYTE member with a TK_UINT8 one.
UINT8_KINDS = ("byte", "uint8")


def _build(U8):
    @dataclass
    @annotate.final
    @annotate.autoid("sequential")
    class MotorCmd_(idl.IdlStruct, typename="unitree_hg.msg.dds_.MotorCmd_"):
        mode: U8 = 0
        q: types.float32 = 0.0
        dq: types.float32 = 0.0
        tau: types.float32 = 0.0
        kp: types.float32 = 0.0
        kd: types.float32 = 0.0
        reserve: types.uint32 = 0


    @dataclass
    @annotate.final
    @annotate.autoid("sequential")
    class LowCmd_(idl.IdlStruct, typename="unitree_hg.msg.dds_.LowCmd_"):
        mode_pr: U8 = 0
        mode_machine: U8 = 0
        motor_cmd: types.array[MotorCmd_, NUM_MOTORS] = field(default_factory=lambda: [MotorCmd_() for _ in range(NUM_MOTORS)])
        reserve: types.array[types.uint32, 4] = field(default_factory=lambda: [0, 0, 0, 0])
        crc: types.uint32 = 0


    @dataclass
    @annotate.final
    @annotate.autoid("sequential")
    class IMUState_(idl.IdlStruct, typename="unitree_hg.msg.dds_.IMUState_"):
        quaternion: types.array[types.float32, 4] = field(default_factory=lambda: [0.0] * 4)
        gyroscope: types.array[types.float32, 3] = field(default_factory=lambda: [0.0] * 3)
        accelerometer: types.array[types.float32, 3] = field(default_factory=lambda: [0.0] * 3)
        rpy: types.array[types.float32, 3] = field(default_factory=lambda: [0.0] * 3)
        temperature: types.int16 = 0


    @dataclass
    @annotate.final
    @annotate.autoid("sequential")
    class MotorState_(idl.IdlStruct, typename="unitree_hg.msg.dds_.MotorState_"):
        mode: U8 = 0
        q: types.float32 = 0.0
        dq: types.float32 = 0.0
        ddq: types.float32 = 0.0
        tau_est: types.float32 = 0.0
        temperature: types.array[types.int16, 2] = field(default_factory=lambda: [0, 0])
        vol: types.float32 = 0.0
        sensor: types.array[types.uint32, 2] = field(default_factory=lambda: [0, 0])
        motorstate: types.uint32 = 0
        reserve: types.array[types.uint32, 4] = field(default_factory=lambda: [0, 0, 0, 0])


    @dataclass
    @annotate.final
    @annotate.autoid("sequential")
    class LowState_(idl.IdlStruct, typename="unitree_hg.msg.dds_.LowState_"):
        version: types.array[types.uint32, 2] = field(default_factory=lambda: [0, 0])
        mode_pr: U8 = 0
        mode_machine: U8 = 0
        tick: types.uint32 = 0
        imu_state: IMUState_ = field(default_factory=IMUState_)
        motor_state: types.array[MotorState_, NUM_MOTORS] = field(default_factory=lambda: [MotorState_() for _ in range(NUM_MOTORS)])
        wireless_remote: types.array[U8, 40] = field(default_factory=lambda: [0] * 40)
        reserve: types.array[types.uint32, 4] = field(default_factory=lambda: [0, 0, 0, 0])
        crc: types.uint32 = 0
    return MotorCmd_, LowCmd_, IMUState_, MotorState_, LowState_


MotorCmd_, LowCmd_, IMUState_, MotorState_, LowState_ = _build(getattr(types, "byte", types.uint8))
_VARIANTS = {"byte": (MotorCmd_, LowCmd_, IMUState_, MotorState_, LowState_)}


def variant(kind: str = "byte"):
    """``(LowCmd_, LowState_)`` whose one-byte members are described as ``kind`` (``byte`` or ``uint8``)."""
    if kind not in UINT8_KINDS:
        raise ValueError(f"uint8 kind: expected one of {UINT8_KINDS}, got {kind!r}")
    if kind not in _VARIANTS:
        _VARIANTS[kind] = _build(types.uint8)
    v = _VARIANTS[kind]
    return v[1], v[4]
