"""Node parameters: ``config/g1.yaml`` (ROS 2 parameter-file layout) -> validated :class:`NodeParams`.

The file is ``<node name or /**>: {ros__parameters: {...}}``; nested keys are the node's dotted parameter
names (``teleop.hold_time``). Every error names the parameter: unknown names, wrong types, out-of-range values,
and the cross-field rules (a teleop input needs ``teleop.hold_time + teleop.ease_time <= safety.input_timeout``
so the dropout ease completes before the input watchdog damps; a motion input needs ``motion``; a server that
listens beyond loopback needs ``teleop.server.allow_remote``; the real robot needs thermal protection and no
``controller.auto``). ROS 2 parameters cannot be null: 0 means "not set" for the operator's measurements.
Unitree DDS: ``network_interface``, ``domain_id``, ``dds.peers`` (comma-separated), ``dds.uint8_kind`` ->
:meth:`NodeParams.dds_config`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from sonic_deploy.config.loader import load_controller_config
from sonic_deploy.inputs.vr_teleop import TeleopConfig
from sonic_deploy.policy.contract import ContractError

ROBOTS = ("sim", "real")
INPUTS = ("motion", "teleop", "smpl", "stream", "tokens")


def _policy_brings_its_input(path: str) -> bool:
    """A policy that embeds its motion (BeyondMimic, holosoma tracking) or walks on ~/cmd_vel (holosoma locomotion)
    needs no motion clip; a file that is no policy is refused later, naming it."""
    # lazy: onnxruntime (deploy extra), only to look at the policy file
    from sonic_deploy.policy.formats import EMBEDDED_MOTION, VELOCITY_COMMANDED, detect

    try:
        return detect(path) in EMBEDDED_MOTION | VELOCITY_COMMANDED
    except ContractError:
        return False
LOOPBACK = ("127.0.0.1", "localhost", "::1")
UINT8_KINDS = ("byte", "uint8")  # sonic_deploy.dds.idl.UINT8_KINDS: how the one-byte IDL members are described


class ParamError(ValueError):
    def __init__(self, name: str, expected: str, got=None, source: str = ""):
        where = f"{source}: " if source else ""
        super().__init__(f"{where}parameter '{name}': expected {expected}, got {got!r}"[:400])
        self.name = name


# (name, default, kind, check) ; kind: bool, int, float, str ; check: callable(value) -> error text or None
def _range(lo=None, hi=None, lo_open=False):
    def check(v):
        if lo is not None and (v <= lo if lo_open else v < lo):
            return f"a number {'>' if lo_open else '>='} {lo}" + (f" and <= {hi}" if hi is not None else "")
        if hi is not None and v > hi:
            return f"a number <= {hi}" + (f" and >= {lo}" if lo is not None else "")
        return None
    return check


def _choice(options):
    return lambda v: None if v in options else f"one of {list(options)}"


def _peers(v: str):
    bad = [p for p in split_peers(v) if any(c.isspace() for c in p) or "/" in p]
    return f"comma-separated addresses (bad: {bad[0]!r})" if bad else None


def split_peers(text: str) -> tuple[str, ...]:
    """``dds.peers`` (``"192.168.123.161, 10.0.0.2"``) -> the addresses."""
    return tuple(p.strip() for p in text.split(",") if p.strip())


SPEC: tuple = (
    ("robot", "sim", str, _choice(ROBOTS)),
    ("input", "motion", str, _choice(INPUTS)),
    ("policy", "", str, lambda v: None if v else "the path of a sonic.policy/1 ONNX file"),
    ("motion", "", str, None),
    ("field_config", "", str, None),  # a user field configuration on top of sonic_deploy/config/g1_field.yaml
    ("network_interface", "lo", str, lambda v: None if v else "an interface name or address"),
    ("domain_id", 0, int, _range(0, 232)),
    ("dds.peers", "", str, _peers),
    ("dds.uint8_kind", "byte", str, _choice(UINT8_KINDS)),
    ("realtime_priority", 0, int, _range(0, 99)),
    ("control_rate", 50.0, float, lambda v: None if abs(v - 50.0) < 1e-9 else "50.0 (the policy's control rate)"),
    ("publish_rate", 50.0, float, _range(0.0, 500.0, lo_open=True)),
    ("controller.auto", False, bool, None),
    ("controller.damping_duration", 0.02, float, _range(0.0, 60.0)),
    ("controller.ramp_duration", 2.0, float, _range(0.1, 60.0)),
    ("controller.hold_duration", 0.5, float, _range(0.0, 60.0)),
    ("safety.state_timeout", 0.1, float, _range(0.0, 1.0, lo_open=True)),
    ("safety.input_timeout", 0.5, float, _range(0.0, 10.0, lo_open=True)),
    ("safety.max_tilt_deg", 60.0, float, _range(5.0, 90.0)),
    ("teleop.smoothing_tau", 0.03, float, _range(0.0, 1.0)),
    ("teleop.hold_time", 0.2, float, _range(0.0, 5.0)),
    ("teleop.ease_time", 0.3, float, _range(0.0, 10.0)),
    ("teleop.resume_time", 0.3, float, _range(0.0, 10.0)),
    ("teleop.auto_calibrate", True, bool, None),
    ("teleop.operator_height", 0.0, float, lambda v: None if v == 0 or 0.5 < v < 2.5 else "0 (measure) or metres in (0.5, 2.5)"),
    ("teleop.operator_arm_length", 0.0, float, lambda v: None if v == 0 or 0.2 < v < 1.2 else "0 (like the height) or metres in (0.2, 1.2)"),
    ("teleop.server.enabled", True, bool, None),
    ("teleop.server.host", "127.0.0.1", str, None),
    ("teleop.server.port", 8765, int, _range(0, 65535)),
    ("teleop.server.allow_remote", False, bool, None),
    ("teleop.frame_id", "operator", str, None),
    ("motion_player.speed", 1.0, float, _range(0.0, 4.0, lo_open=True)),
    ("motion_player.loop", True, bool, None),
    ("motion_player.blend_time", 1.0, float, _range(0.0, 10.0)),
    ("thermal.enabled", True, bool, None),
    ("thermal.warn", 70.0, float, _range(0.0, 150.0, lo_open=True)),
    ("thermal.limit", 90.0, float, _range(0.0, 150.0, lo_open=True)),
    ("operator.keyboard", True, bool, None),
    ("recording.enabled", False, bool, None),
    ("recording.directory", "~/.sonic/sessions", str, None),
)
NAMES = tuple(s[0] for s in SPEC)


@dataclass
class NodeParams:
    values: dict = field(default_factory=dict)

    def __getitem__(self, name: str):
        return self.values[name]

    def group(self, prefix: str) -> dict:
        p = prefix + "."
        return {k[len(p):]: v for k, v in self.values.items() if k.startswith(p) and "." not in k[len(p):]}

    def teleop_config(self):
        t = self.group("teleop")
        return TeleopConfig(smoothing_tau=t["smoothing_tau"], hold_time=t["hold_time"], ease_time=t["ease_time"],
                            resume_time=t["resume_time"], auto_calibrate=t["auto_calibrate"],
                            operator_height=t["operator_height"] or None,
                            operator_arm_length=t["operator_arm_length"] or None)

    def dds_config(self):
        """Unitree DDS as on the G1's network: multicast on ``network_interface`` plus unicast to ``dds.peers``
        (loopback: unicast to 127.0.0.1), on ``domain_id``, one-byte members described as ``dds.uint8_kind``."""
        from sonic_deploy.dds.channel import DdsConfig  # lazy: cyclonedds (~0.1 s), only where a DDS robot is built

        return DdsConfig.for_network(self["network_interface"], self["domain_id"], split_peers(self["dds.peers"]),
                                     self["dds.uint8_kind"])

    def controller_config(self, field_config: str | Path | None = None):
        """The controller configuration every entry point uses (:func:`sonic_deploy.config.load_controller_config`
        for this ``robot``: the packaged g1_field.yaml, then ``field_config``, then the node's controller, safety,
        teleop and thermal parameters on top)."""
        over = {f"{section}.{k}": v for section in ("controller", "safety") for k, v in self.group(section).items()}
        t = self.group("teleop")
        over.update({f"teleop.{k}": t[k] for k in ("smoothing_tau", "hold_time", "ease_time", "resume_time",
                                                   "auto_calibrate")})
        over.update({"teleop.operator_height": t["operator_height"] or None,  # 0: measured (ROS 2 has no null)
                     "teleop.operator_arm_length": t["operator_arm_length"] or None,
                     "thermal.enabled": self["thermal.enabled"], "thermal.warn": self["thermal.warn"],
                     "thermal.limit": self["thermal.limit"]})
        return load_controller_config(self["robot"], field_config, over)


def flatten(d: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in d.items():
        name = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(flatten(v, name + "."))
        else:
            out[name] = v
    return out


def _coerce(name: str, value, kind, source: str):
    if kind is bool:
        if isinstance(value, bool):
            return value
        raise ParamError(name, "true or false", value, source)
    if kind is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise ParamError(name, "an integer", value, source)
    if kind is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            return float(value)
        raise ParamError(name, "a finite number", value, source)
    if isinstance(value, str):
        return value
    raise ParamError(name, "a string", value, source)


def validate_params(raw: dict, source: str = "") -> NodeParams:
    """Flat or nested dict of parameter values -> :class:`NodeParams` (defaults filled), or :class:`ParamError`."""
    if not isinstance(raw, dict):
        raise ParamError("ros__parameters", "a mapping of parameter names to values", type(raw).__name__, source)
    flat = flatten(raw)
    unknown = sorted(set(flat) - set(NAMES))
    if unknown:
        close = [n for n in NAMES if n.split(".")[-1] == unknown[0].split(".")[-1]]
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ParamError(unknown[0], f"a known parameter{hint}", flat[unknown[0]], source)
    values = {}
    for name, default, kind, check in SPEC:
        v = _coerce(name, flat.get(name, default), kind, source)
        if check is not None:
            err = check(v)
            if err:
                raise ParamError(name, err, v, source)
        values[name] = v
    if values["input"] == "motion" and not values["motion"] and not _policy_brings_its_input(values["policy"]):
        raise ParamError("motion", "a clip (.npz) or a folder of clips when input is 'motion'", values["motion"], source)
    if values["input"] in ("teleop", "tokens"):  # the token input uses the same dropout times
        total = values["teleop.hold_time"] + values["teleop.ease_time"]
        if total > values["safety.input_timeout"] + 1e-9:
            raise ParamError("teleop.ease_time", f"teleop.hold_time + teleop.ease_time <= safety.input_timeout "
                             f"({values['safety.input_timeout']}) so the ease to the safe pose finishes before the "
                             f"input watchdog damps", total, source)
    if values["teleop.server.host"] not in LOOPBACK and not values["teleop.server.allow_remote"]:
        raise ParamError("teleop.server.host", "a loopback address unless teleop.server.allow_remote is true",
                         values["teleop.server.host"], source)
    if values["thermal.limit"] <= values["thermal.warn"]:
        raise ParamError("thermal.limit", f"a temperature above thermal.warn ({values['thermal.warn']})",
                         values["thermal.limit"], source)
    if values["robot"] == "real" and not values["thermal.enabled"]:
        raise ParamError("thermal.enabled", "true on the real robot (motor thermal protection)", False, source)
    if values["robot"] == "real" and values["controller.auto"]:
        raise ParamError("controller.auto", "false on the real robot (the operator starts it with the start service)",
                         True, source)
    return NodeParams(values)


def load_params_file(path: str | Path, node_name: str = "sonic_deploy", overrides: dict | None = None) -> NodeParams:
    """Read a ROS 2 parameter file and validate the node's section (``node_name`` or ``/**``)."""
    path = Path(path)
    try:
        doc = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise ParamError("<file>", "valid YAML", str(exc).splitlines()[0], str(path)) from None
    if not isinstance(doc, dict):
        raise ParamError("<file>", "a mapping with the node's name", type(doc).__name__, str(path))
    section = None
    for key in (node_name, f"/{node_name}", "/**"):
        if key in doc:
            section = doc[key]
            break
    if section is None:
        raise ParamError("<file>", f"a section named {node_name!r} or '/**'", sorted(doc), str(path))
    if not isinstance(section, dict) or "ros__parameters" not in section:
        raise ParamError(f"{node_name}.ros__parameters", "present", section, str(path))
    raw = flatten(section["ros__parameters"] or {})
    raw.update(overrides or {})
    return validate_params(raw, str(path))
