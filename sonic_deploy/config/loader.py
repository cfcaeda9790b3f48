"""The field configuration: one loader for every entry point (``sonic-deploy sim2sim``, ``sonic-deploy bridge``,
the ROS 2 node).

:func:`load_controller_config` reads the packaged ``sonic_deploy/config/g1_field.yaml``, then an optional user file
on top (section by section, key by key), then ``overrides`` (dotted names, as the node's parameters), and builds
the full :class:`~sonic_deploy.control.controller.ControllerConfig`: sequencing, safety, thermal protection, remote
bindings, keyboard, teleop (whose dropout times the token input uses too). The defaults live in the dataclasses;
the packaged file mirrors them so a user sees every setting in one place (tests/deploy/test_config_homes.py fails
when the two drift).

Robot ``sim``: the controller sequences damping -> ramp -> active by time (``controller.auto`` true unless the
files say otherwise). Robot ``real``: the operator starts it (``auto`` refused) and thermal protection is on
(``thermal.enabled: false`` refused: without it only the hardware protects the motors).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np
import yaml

from sonic_deploy.control.controller import ControllerConfig
from sonic_deploy.control.remote import RemoteBindings
from sonic_deploy.control.safety import SafetyConfig
from sonic_deploy.control.thermal import ThermalConfig, ThermalModelConfig
from sonic_deploy.inputs.vr_teleop import TeleopConfig

ROBOTS = ("sim", "real")
SECTIONS = ("controller", "safety", "thermal", "thermal_model", "remote", "keyboard", "teleop")
_CONTROLLER_KEYS = ("ramp_duration", "gain_ramp", "auto", "damping_duration", "hold_duration")


@dataclass
class FieldConfig:
    """The controller's configuration and the MuJoCo bridge's motor heating model, from one file."""

    controller: ControllerConfig = field(default_factory=ControllerConfig)
    thermal_model: ThermalModelConfig = field(default_factory=ThermalModelConfig)
    robot: str = "sim"
    sources: tuple[str, ...] = ()  # the files read, in order


def default_config_path() -> Path:
    return Path(str(resources.files("sonic_deploy.config").joinpath("g1_field.yaml")))


def _read(path: Path) -> dict:
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: not valid YAML: {str(exc).splitlines()[0]}") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping of sections {list(SECTIONS)}, got {type(data).__name__}")
    unknown = sorted(set(data) - set(SECTIONS))
    if unknown:
        raise ValueError(f"{path}: unknown section {unknown[0]!r} (sections: {list(SECTIONS)})")
    for k, v in data.items():
        if v is not None and not isinstance(v, dict):
            raise ValueError(f"{path}: section {k!r}: expected a mapping, got {v!r}"[:300])
    return data


def _merge(base: dict, extra: dict) -> dict:
    out = {k: dict(v or {}) for k, v in base.items()}
    for k, v in extra.items():
        out[k] = {**out.get(k, {}), **(v or {})}
    return out


def _dataclass(cls, d: dict, section: str, source: str, convert: dict | None = None):
    names = {f.name for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(d) - names)
    if unknown:
        raise ValueError(f"{source}: {section}.{unknown[0]}: unknown key (keys: {sorted(names)})")
    d = dict(d)
    for k, fn in (convert or {}).items():
        if d.get(k) is not None:
            d[k] = fn(d[k])
    try:
        return cls(**d)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{source}: {section}: {exc}") from None


def controller_config_from_dict(data: dict, source: str = "config", robot: str = "sim") -> ControllerConfig:
    """Sections (the file layout: ``controller``, ``safety``, ``thermal``, ``remote``, ``keyboard``, ``teleop``)
    -> a validated ControllerConfig; every error names ``source`` and the key."""
    if robot not in ROBOTS:
        raise ValueError(f"{source}: robot: expected one of {list(ROBOTS)}, got {robot!r}")
    c = dict(data.get("controller") or {})
    unknown = sorted(set(c) - set(_CONTROLLER_KEYS))
    if unknown:
        raise ValueError(f"{source}: controller.{unknown[0]}: unknown key (keys: {sorted(_CONTROLLER_KEYS)})")
    if robot == "real":
        if c.get("auto"):
            raise ValueError(f"{source}: controller.auto: expected false on the real robot (the operator starts it)")
        c["auto"] = False
    else:
        c.setdefault("auto", True)
    thermal = dict(data.get("thermal") or {})
    enabled = thermal.pop("enabled", True)
    if not isinstance(enabled, bool):
        raise ValueError(f"{source}: thermal.enabled: expected true or false, got {enabled!r}")
    if robot == "real" and not enabled:
        raise ValueError(f"{source}: thermal.enabled: expected true on the real robot (motor thermal protection)")
    if "motor_fault_mask" in thermal and isinstance(thermal["motor_fault_mask"], str):
        thermal["motor_fault_mask"] = int(thermal["motor_fault_mask"], 0)
    keyboard = {(" " if k == "space" else str(k)): v for k, v in (data.get("keyboard") or {}).items()}
    try:
        remote = RemoteBindings.from_dict(data.get("remote"))
    except ValueError as exc:
        raise ValueError(f"{source}: {exc}") from None
    cfg = ControllerConfig(
        **c,
        safety=_dataclass(SafetyConfig, data.get("safety") or {}, "safety", source,
                          {"damping_kd": lambda v: np.asarray(v, np.float64)}),
        thermal=_dataclass(ThermalConfig, thermal, "thermal", source) if enabled else None,
        remote=remote,
        keyboard=keyboard or ControllerConfig().keyboard,
        teleop=_dataclass(TeleopConfig, data.get("teleop") or {}, "teleop", source))
    try:
        cfg.validate().check_live_inputs()
        if cfg.thermal is not None:
            cfg.thermal.arrays(29)
    except ValueError as exc:
        raise ValueError(f"{source}: {exc}") from None
    return cfg


def _overrides(overrides: dict | None, source: str = "overrides") -> dict:
    out: dict = {}
    for name, v in (overrides or {}).items():
        section, _, key = str(name).partition(".")
        if section not in SECTIONS or not key:
            raise ValueError(f"{source}: {name}: expected <section>.<key> with a section of {list(SECTIONS)}")
        out.setdefault(section, {})[key] = v
    return out


def load_field_config(robot: str = "sim", path: str | Path | None = None, overrides: dict | None = None) -> FieldConfig:
    """Packaged g1_field.yaml, then ``path`` (a user file with any subset of the sections), then ``overrides``
    (``{"safety.input_timeout": 0.8, ...}``) -> :class:`FieldConfig` for ``robot`` (``sim`` or ``real``)."""
    sources = [str(default_config_path())]
    data = _read(default_config_path())
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise ValueError(f"{path}: field configuration not found")
        data = _merge(data, _read(path))
        sources.append(str(path))
    if overrides:
        data = _merge(data, _overrides(overrides))
        sources.append("overrides")
    where = " + ".join(Path(s).name for s in sources)
    ctrl = controller_config_from_dict(data, where, robot)
    model = _dataclass(ThermalModelConfig, data.get("thermal_model") or {}, "thermal_model", where)
    return FieldConfig(controller=ctrl, thermal_model=model, robot=robot, sources=tuple(sources))


def load_controller_config(robot: str = "sim", path: str | Path | None = None,
                           overrides: dict | None = None) -> ControllerConfig:
    """The ControllerConfig every entry point runs with (see :func:`load_field_config`)."""
    return load_field_config(robot, path, overrides).controller
