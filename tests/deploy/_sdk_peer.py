"""Test peer built on Unitree's Python SDK: its unitree_hg IDL classes, its channels and its CRC (see _sdk_shim.py).

Run as a subprocess:  python _sdk_peer.py MODE DOMAIN SECONDS [JOINT DELTA]
MODE:
* ``controller``: read ``rt/lowstate`` for SECONDS (rate, CRC of up to 200 samples spread over the window), then
  command every motor to hold its position with motor JOINT moved by DELTA rad for 2 s at 500 Hz and report
  where that joint went;
* ``robot``: a stand-in robot for SECONDS: reads ``rt/lowcmd`` (CRC checked on each), moves each enabled motor a
  first-order step towards its target, publishes ``rt/lowstate`` (CRC filled by the SDK) at 100 Hz.
Prints one JSON line with what it saw.
"""

import json
import os
import sys
import threading
import time
from importlib.metadata import version
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _sdk_shim import load_sdk  # noqa: E402


def controller(sdk, seconds: float, joint: int, delta: float) -> dict:
    # The rate is what DDS delivers to a reader of the SDK's LowState_ type: samples are taken as bytes in batches
    # (KeepLast 256, reliable) and counted; the SDK's deserializer (about 1.2 ms a sample here) and its pure-Python
    # CRC (13 ms) run on up to 200 samples spread over the window, so the count measures the link, not this CPU.
    reader = sdk.raw_reader("rt/lowstate", sdk.hg.LowState_, depth=256)
    got: list = []
    t_end = time.monotonic() + float(os.environ.get("SDK_PEER_FIRST_TIMEOUT", "20"))
    while not got and time.monotonic() < t_end:
        got += [(time.monotonic(), d) for d in reader.take()]
        time.sleep(0.002)
    if not got:
        return {"received": 0}
    t_end = time.monotonic() + seconds
    while time.monotonic() < t_end:
        now = time.monotonic()
        got += [(now, d) for d in reader.take()]
        time.sleep(0.002)
    window = got[1:]
    n = len(window)
    rate = (n - 1) / (window[-1][0] - window[0][0]) if n > 1 else 0.0
    step = max(1, n // 200)
    checked = [sdk.hg.LowState_.deserialize(d) for _, d in window[::step]]
    bad = sum(sdk.crc.Crc(m) != m.crc for m in checked)
    ticks = [m.tick for m in checked]
    first = sdk.hg.LowState_.deserialize(window[-1][1])
    q0 = [first.motor_state[i].q for i in range(29)]
    pub = sdk.channel.ChannelPublisher("rt/lowcmd", sdk.hg.LowCmd_)
    pub.Init()
    cmd = sdk.default.unitree_hg_msg_dds__LowCmd_()
    cmd.mode_pr, cmd.mode_machine = 0, first.mode_machine
    for i in range(29):
        m = cmd.motor_cmd[i]
        m.mode, m.q, m.dq, m.tau, m.kp, m.kd = 1, q0[i] + (delta if i == joint else 0.0), 0.0, 0.0, 60.0, 3.0
    cmd.crc = sdk.crc.Crc(cmd)
    t_end = time.monotonic() + 2.0
    sent = 0
    while time.monotonic() < t_end:
        pub.Write(cmd)
        sent += 1
        time.sleep(0.002)
    last = None
    t_end = time.monotonic() + 2.0
    while last is None and time.monotonic() < t_end:
        data = reader.take()
        last = sdk.hg.LowState_.deserialize(data[-1]) if data else None
        time.sleep(0.005)
    return {"received": n, "rate_hz": rate, "crc_checked": len(checked), "crc_bad": bad, "sent": sent,
            "ticks_increasing": ticks == sorted(ticks), "q0": q0[joint],
            "q_end": None if last is None else last.motor_state[joint].q}


def robot(sdk, seconds: float) -> dict:
    q = [0.0] * 35
    target = [None] * 35
    stats = {"commands": 0, "crc_ok": 0, "crc_bad": 0, "states": 0}
    lock = threading.Lock()

    def on_cmd(msg):
        ok = sdk.crc.Crc(msg) == msg.crc
        with lock:
            stats["commands"] += 1
            stats["crc_ok" if ok else "crc_bad"] += 1
            if ok:
                for i in range(35):
                    target[i] = msg.motor_cmd[i].q if msg.motor_cmd[i].mode == 1 and msg.motor_cmd[i].kp > 0 else None

    sub = sdk.channel.ChannelSubscriber("rt/lowcmd", sdk.hg.LowCmd_)
    sub.Init(on_cmd, 10)
    pub = sdk.channel.ChannelPublisher("rt/lowstate", sdk.hg.LowState_)
    pub.Init()
    st = sdk.default.unitree_hg_msg_dds__LowState_()
    st.mode_machine = 5
    st.imu_state.quaternion = [1.0, 0.0, 0.0, 0.0]
    st.imu_state.accelerometer = [0.0, 0.0, 9.81]
    t0 = time.monotonic()
    while time.monotonic() - t0 < seconds:
        with lock:
            for i in range(35):
                if target[i] is not None:
                    q[i] += 0.2 * (target[i] - q[i])
        st.tick = int((time.monotonic() - t0) * 1000)
        for i in range(35):
            st.motor_state[i].q = q[i]
            st.motor_state[i].mode = 1
            st.motor_state[i].temperature = [35, 35]
        st.crc = sdk.crc.Crc(st)
        pub.Write(st)
        stats["states"] += 1
        time.sleep(0.01)
    stats["q"] = q[:29]
    return stats


def main() -> None:
    mode, domain, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    sdk = load_sdk(domain)
    out = controller(sdk, seconds, int(sys.argv[4]), float(sys.argv[5])) if mode == "controller" else robot(sdk, seconds)
    out.update(mode=mode, cyclonedds=version("cyclonedds"))
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
