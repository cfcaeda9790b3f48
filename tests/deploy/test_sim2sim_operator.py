"""The operator's inputs in `sonic-deploy sim2sim`: every wireless-remote binding (in-process, and through DDS where
the bridge puts the buttons in LowState_.wireless_remote) and the keyboard when stdin is a terminal."""

import json
import os
import pty
import subprocess
import sys

import pytest

pytest.importorskip("onnx", reason="onnx (dev extra) builds the test policy")

from sonic_deploy.control.remote import RemoteScript, encode_remote  # noqa: E402
from sonic_deploy.policy.testing import write_tracking_policy  # noqa: E402
from sonic_deploy.sim2sim import Sim2SimConfig, run_inprocess, run_through_dds  # noqa: E402

# active at 2.52 s (damping 0.02 + ramp 2.0 + hold 0.5); then each binding once, released in between
DRILL = ("3.0:select", "3.1:", "3.4:start", "3.5:", "3.8:L2+A", "3.9:", "4.0:L2+B", "4.1:", "4.2:L2+X", "4.3:")
EXPECTED = [(0.0, "damping"), (0.02, "ramp"), (2.52, "active"), (3.0, "ramp"), (3.4, "active"), (3.8, "damping"),
            (4.0, "estop"), (4.2, "damping")]


@pytest.fixture(scope="module")
def clip_path(tmp_path_factory):
    from sonic_deploy.motion.synth import synthesize_all

    return synthesize_all(tmp_path_factory.mktemp("clips"), ["stand_idle"])[0]


@pytest.fixture(scope="module")
def policy_path(tmp_path_factory):
    return write_tracking_policy(tmp_path_factory.mktemp("pol") / "policy.onnx")


def test_remote_script_parses_and_encodes():
    s = RemoteScript.parse(["4:L2+B", "1.5:start", "2:"])
    assert s.events == ((1.5, ("start",)), (2.0, ()), (4.0, ("L2", "B")))
    assert s.bytes_at(1.0) == bytes(40) and s.bytes_at(1.5) == encode_remote(("start",)) and s.bytes_at(3.0) == bytes(40)
    assert s.bytes_at(9.0) == encode_remote(("L2", "B")) and s.specs() == ["1.5:start", "2:", "4:L2+B"]
    for bad in ("L2+B", "x:start", "1:L3", "-1:start"):
        with pytest.raises(ValueError, match="TIME:BUTTON"):
            RemoteScript.parse([bad])


def _modes(report):
    return [(round(t, 2), m) for t, m in report.transitions]


def test_every_remote_binding_in_process_and_through_dds(clip_path, policy_path, dds_cfg):
    cfg = Sim2SimConfig(duration=4.5, remote=DRILL, domain_id=dds_cfg.domain_id)
    a, _ = run_inprocess(policy_path, clip_path, cfg)
    assert _modes(a) == EXPECTED
    assert [f["cause"] for f in a.faults] == ["remote_estop"]
    cfg.through_dds = True
    b, _ = run_through_dds(policy_path, clip_path, cfg)  # the buttons travel in the bridge's LowState_
    assert _modes(b) == EXPECTED and [f["cause"] for f in b.faults] == ["remote_estop"]
    assert b.dds["states_bad_crc"] == 0


def test_without_presses_nothing_changes(clip_path, policy_path):
    a, _ = run_inprocess(policy_path, clip_path, Sim2SimConfig(duration=4.5))
    assert _modes(a) == EXPECTED[:3] and a.ok


def _cli(args, stdin):
    return subprocess.Popen([sys.executable, "-m", "sonic_deploy.cli.deploy", "sim2sim", *args], stdin=stdin,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env={**os.environ, "COLUMNS": "200"})


def test_keyboard_acts_when_stdin_is_a_terminal(clip_path, policy_path, tmp_path):
    report = tmp_path / "r.json"
    args = ["--policy", str(policy_path), "--motion", str(clip_path), "--duration", "8.0", "--report", str(report)]
    master, slave = pty.openpty()
    try:
        proc = _cli(args, slave)
        seen = b""
        while b"keys:" not in seen:  # the reader is on: press space (e-stop)
            line = proc.stdout.readline()
            assert line, seen.decode()[-2000:]
            seen += line
        os.write(master, b" ")
        out, _ = proc.communicate(timeout=120)
        out = seen + out
    finally:
        os.close(slave)
        os.close(master)
    data = json.loads(report.read_text())
    assert proc.returncode == 1, out.decode()[-2000:]  # a safety fault: exit 1
    assert [f["cause"] for f in data["faults"]] == ["estop"] and data["faults"][0]["detail"] == "keyboard"
    assert b"keys: space/e e-stop" in out
    # stdin not a terminal (CI): no keyboard, the same run is clean
    proc = _cli(args, subprocess.DEVNULL)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0, out.decode()[-2000:]
    assert json.loads(report.read_text())["faults"] == []
