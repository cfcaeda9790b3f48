"""One home per setting: the dataclass defaults are the values; the field configuration (g1_field.yaml), the ROS 2
parameter file and the node's parameter defaults mirror them, and every entry point builds its controller
configuration with the one loader."""

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import yaml

from sonic_deploy.config import default_config_path, load_controller_config, load_field_config
from sonic_deploy.control.controller import ControllerConfig
from sonic_deploy.control.operator import DEFAULT_KEYS
from sonic_deploy.control.remote import RemoteBindings
from sonic_deploy.control.safety import SafetyConfig
from sonic_deploy.control.thermal import ThermalConfig, ThermalModelConfig
from sonic_deploy.ros2 import params as node_params
from sonic_deploy.inputs.vr_teleop import TeleopConfig

ROOT = Path(__file__).resolve().parents[2]
NODE_YAML = ROOT / "ros2_ws" / "src" / "sonic_deploy" / "config" / "g1.yaml"
CONTROLLER_KEYS = ("ramp_duration", "gain_ramp", "damping_duration", "hold_duration")  # auto: set per robot
SECTIONS = {"safety": SafetyConfig, "thermal": ThermalConfig, "thermal_model": ThermalModelConfig,
            "remote": RemoteBindings, "teleop": TeleopConfig}
NODE_ONLY = {"teleop.frame_id", "teleop.server.enabled", "teleop.server.host", "teleop.server.port",
             "teleop.server.allow_remote", "thermal.enabled"}  # node transport settings, and the on/off switch


def _defaults(cls) -> dict:
    return {f.name: getattr(cls(), f.name) for f in dataclasses.fields(cls)}


def _same(a, b) -> bool:
    if isinstance(a, (tuple, list)) or isinstance(b, (tuple, list)):
        return list(a) == list(b)
    return a == b


def field_drift(path: Path) -> list[str]:
    """Every difference between a field-configuration file and the dataclass defaults (keys and values)."""
    data = yaml.safe_load(path.read_text())
    out = []
    want = {"controller": {k: getattr(ControllerConfig(), k) for k in CONTROLLER_KEYS},
            **{name: _defaults(cls) for name, cls in SECTIONS.items()},
            "keyboard": {("space" if k == " " else k): v for k, v in DEFAULT_KEYS.items()}}
    want["thermal"]["enabled"] = True
    for section, values in want.items():
        got = data.get(section) or {}
        for key in sorted(set(values) | set(got)):
            if key not in got:
                out.append(f"{section}.{key}: missing (default {values[key]!r})")
            elif key not in values:
                out.append(f"{section}.{key}: no such setting")
            elif not _same(got[key], values[key]):
                out.append(f"{section}.{key}: file {got[key]!r}, default {values[key]!r}")
    out += [f"{s}: unknown section" for s in set(data) - set(want)]
    return out


def test_packaged_field_config_mirrors_the_dataclass_defaults():
    assert field_drift(default_config_path()) == []


def test_a_drifted_value_is_caught(tmp_path):
    text = default_config_path().read_text()
    assert "  input_timeout: 0.5" in text and "  limit: 90.0" in text
    drifted = tmp_path / "g1_field.yaml"
    drifted.write_text(text.replace("  input_timeout: 0.5", "  input_timeout: 0.8").replace("  limit: 90.0", "  limit: 100.0"))
    assert field_drift(drifted) == ["safety.input_timeout: file 0.8, default 0.5", "thermal.limit: file 100.0, default 90.0"]


def _node_value(v):
    return None if v == 0.0 and not isinstance(v, bool) else v  # ROS 2 parameters cannot be null: 0 means unset


def _node_drift(values: dict) -> list[str]:
    """The node's controller/safety/teleop/thermal settings against the dataclass defaults."""
    homes = {"controller": ControllerConfig(), "safety": SafetyConfig(), "teleop": TeleopConfig(),
             "thermal": ThermalConfig()}
    out = []
    for name, v in values.items():
        section, _, key = name.partition(".")
        if section not in homes or name in NODE_ONLY:
            continue
        if not hasattr(homes[section], key):
            out.append(f"{name}: no such setting in {type(homes[section]).__name__}")
            continue
        want = getattr(homes[section], key)
        got = _node_value(v) if want is None else v
        if not _same(got, want):
            out.append(f"{name}: node {v!r}, default {want!r}")
    return out


def test_ros2_parameter_file_and_node_defaults_mirror_the_dataclass_defaults():
    doc = yaml.safe_load(NODE_YAML.read_text())
    file_values = node_params.flatten(doc["sonic_deploy"]["ros__parameters"])
    assert _node_drift(file_values) == []
    assert _node_drift({name: default for name, default, *_ in node_params.SPEC}) == []
    assert file_values["thermal.enabled"] is True
    # the node's own cross-field rule holds for its defaults
    assert file_values["teleop.hold_time"] + file_values["teleop.ease_time"] <= file_values["safety.input_timeout"]
    # and a drifted node value is caught
    assert _node_drift({**file_values, "teleop.ease_time": 1.0}) == ["teleop.ease_time: node 1.0, default 0.3"]


def test_loader_builds_the_full_controller_config():
    sim = load_controller_config("sim")
    assert sim == dataclasses.replace(ControllerConfig(), auto=True)  # the file adds nothing the defaults lack
    real = load_controller_config("real")
    assert real.auto is False and real.thermal == ThermalConfig() and real.remote == RemoteBindings()
    assert real.keyboard == DEFAULT_KEYS and real.teleop == TeleopConfig()
    assert real.teleop.hold_time + real.teleop.ease_time <= real.safety.input_timeout
    fc = load_field_config("sim")
    assert fc.thermal_model == ThermalModelConfig() and fc.sources == (str(default_config_path()),)


def test_user_file_and_overrides(tmp_path):
    user = tmp_path / "site.yaml"
    user.write_text("safety:\n  input_timeout: 0.8\nthermal:\n  warn: [65.0]\nremote:\n  estop: [R1, R2]\n"
                    "teleop:\n  ease_time: 0.5\nkeyboard:\n  q: estop\n")
    with pytest.raises(ValueError, match=r"site.yaml.*thermal.*29 per-joint values"):
        load_controller_config("real", user)
    user.write_text("safety:\n  input_timeout: 0.8\nthermal:\n  warn: 65.0\nremote:\n  estop: [R1, R2]\n"
                    "teleop:\n  ease_time: 0.5\nkeyboard:\n  q: estop\n")
    cfg = load_controller_config("real", user, {"controller.ramp_duration": 3.0})
    assert cfg.safety.input_timeout == 0.8 and cfg.thermal.warn == 65.0 and cfg.thermal.limit == 90.0
    assert cfg.remote.estop == ("R1", "R2") and cfg.remote.damping == ("L2", "A")  # key by key
    assert cfg.teleop.ease_time == 0.5 and cfg.ramp_duration == 3.0 and cfg.keyboard == {**DEFAULT_KEYS, "q": "estop"}
    assert cfg.safety.state_timeout == SafetyConfig().state_timeout


@pytest.mark.parametrize(("text", "robot", "message"), [
    ("thermal:\n  enabled: false\n", "real", r"off\.yaml: thermal\.enabled: expected true on the real robot"),
    ("controller:\n  auto: true\n", "real", r"off\.yaml: controller\.auto: expected false on the real robot"),
    ("safety:\n  input_timout: 0.5\n", "sim", r"off\.yaml: safety\.input_timout: unknown key"),
    ("saftey:\n  input_timeout: 0.5\n", "sim", r"off\.yaml: unknown section 'saftey'"),
    ("teleop:\n  ease_time: 2.0\n", "sim", r"off\.yaml: teleop\.ease_time: expected teleop\.hold_time \+ teleop\.ease_time"),
    ("remote:\n  estop: [L2, Q]\n", "sim", r"off\.yaml: remote\.estop: unknown buttons \['Q'\]"),
    ("keyboard:\n  z: launch\n", "sim", r"off\.yaml: keyboard\.'z': expected one of"),
])
def test_bad_field_config_is_one_line_naming_file_and_key(tmp_path, text, robot, message):
    bad = tmp_path / "off.yaml"
    bad.write_text(text)
    with pytest.raises(ValueError, match=message) as exc:
        load_controller_config(robot, bad)
    assert "\n" not in str(exc.value)


def test_sim_without_thermal_protection_is_allowed(tmp_path):
    f = tmp_path / "sim.yaml"
    f.write_text("thermal:\n  enabled: false\n")
    assert load_controller_config("sim", f).thermal is None


def test_sim2sim_runs_with_the_field_configuration(tmp_path):
    from sonic_deploy.sim2sim import Sim2SimConfig

    assert Sim2SimConfig().controller_config() == load_controller_config("sim")
    f = tmp_path / "site.yaml"
    f.write_text("controller:\n  ramp_duration: 1.5\nsafety:\n  max_tilt_deg: 45.0\n")
    c = Sim2SimConfig(field_config=str(f), hold_duration=0.1).controller_config()
    assert c.ramp_duration == 1.5 and c.safety.max_tilt_deg == 45.0 and c.hold_duration == 0.1 and c.auto
    assert isinstance(c.safety.damping_kd, (type(None), np.ndarray))
