"""Test peer built on unitree-dds-wrapper (its own IDL classes, serializer and pure-Python CRC).

Run as a subprocess with CYCLONEDDS_URI set:  python _udw_peer.py MODE DOMAIN SECONDS
MODE: pub_cmd (publish a known LowCmd_), sub_cmd (receive ours, check its CRC), pub_state, sub_state.
Prints one JSON line with what it saw.
"""

import json
import struct
import sys
import time

from cyclonedds.domain import DomainParticipant
from unitree_dds_wrapper.idl import unitree_hg
from unitree_dds_wrapper.publisher import Publisher
from unitree_dds_wrapper.robots.g1 import g1_pub, g1_sub
from unitree_dds_wrapper.subscription import Subscription
from unitree_dds_wrapper.utils.crc import crc32


def state_crc(m) -> int:
    raw = list(m.version) + [m.mode_pr, m.mode_machine, m.tick]
    imu = m.imu_state
    raw += list(imu.quaternion) + list(imu.gyroscope) + list(imu.accelerometer) + list(imu.rpy) + [imu.temperature]
    for x in m.motor_state:
        raw += [x.mode, x.q, x.dq, x.ddq, x.tau_est] + list(x.temperature) + [x.vol] + list(x.sensor)
        raw += [x.motorstate] + list(x.reserve)
    raw += list(m.wireless_remote) + list(m.reserve) + [m.crc]
    packed = struct.pack("<2I2BxxI13fh2x" + "B3x4f2hf2I5I" * 35 + "40B5I", *raw)
    words = struct.unpack("<%dI" % (len(packed) // 4), packed)[:-1]
    return crc32(list(words))


def cmd_crc(m) -> int:
    raw = [m.mode_pr, m.mode_machine]
    for c in m.motor_cmd:
        raw += [c.mode, c.q, c.dq, c.tau, c.kp, c.kd, c.reserve]
    raw += list(m.reserve) + [m.crc]
    packed = struct.pack("<2B2x" + "B3x5fI" * 35 + "5I", *raw)
    return crc32(list(struct.unpack("<%dI" % (len(packed) // 4), packed)[:-1]))


def main() -> None:
    mode, domain, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    dp = DomainParticipant(domain)
    out = {"mode": mode, "received": 0, "crc_ok": 0}
    t_end = time.time() + seconds
    if mode == "pub_cmd":
        pub = g1_pub.LowCmd(participant=dp)
        pub.msg.mode_machine = 5
        for i in range(35):
            c = pub.msg.motor_cmd[i]
            c.mode, c.q, c.dq, c.tau, c.kp, c.kd = 1, 0.01 * i, -0.02 * i, 0.5, 10.0 + i, 1.0
        while time.time() < t_end:
            pub.write()  # fills crc with its own packer
            time.sleep(0.01)
        out["crc"] = pub.msg.crc
    elif mode == "pub_state":
        pub = Publisher(unitree_hg.msg.dds_.LowState_, "rt/lowstate", dp)
        m = pub.msg
        m.mode_machine, m.tick = 5, 4242
        m.imu_state.quaternion = [1.0, 0.0, 0.0, 0.0]
        m.imu_state.gyroscope = [0.1, 0.2, 0.3]
        for i in range(35):
            m.motor_state[i].q, m.motor_state[i].dq, m.motor_state[i].tau_est = 0.03 * i, 0.1, -0.5
            m.motor_state[i].temperature = [30 + i, 31 + i]
        m.wireless_remote = list(range(40))
        m.crc = state_crc(m)
        out["crc"] = m.crc
        while time.time() < t_end:
            pub.write()
            time.sleep(0.01)
    else:
        sub = (g1_sub.LowCmd if mode == "sub_cmd" else g1_sub.LowState)(participant=dp)
        seen = []
        while time.time() < t_end:
            with sub.lock:
                msg = sub.msg
                sub.msg = None
            if msg is not None:
                out["received"] += 1
                ok = (cmd_crc(msg) if mode == "sub_cmd" else state_crc(msg)) == msg.crc
                out["crc_ok"] += int(ok)
                if mode == "sub_cmd":
                    seen = [[c.mode, c.q, c.kp] for c in msg.motor_cmd[:29]] + [msg.mode_machine]
                else:
                    seen = [msg.tick, msg.mode_machine, [s.q for s in msg.motor_state[:29]],
                            list(msg.imu_state.quaternion), list(msg.wireless_remote)]
            time.sleep(0.002)
        out["last"] = seen
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
