"""Field configuration: ``sonic_deploy/config/g1_field.yaml`` (thermal thresholds, bridge heating model, remote
and keyboard bindings, token input). ``load_field_config(path)`` reads the packaged file, then ``path`` on top."""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import yaml

from sonic_deploy.field.remote import DEFAULT_KEYS, RemoteBindings
from sonic_deploy.field.thermal import ThermalConfig, ThermalModelConfig


@dataclass
class FieldConfig:
    thermal: ThermalConfig = field(default_factory=ThermalConfig)
    thermal_model: ThermalModelConfig = field(default_factory=ThermalModelConfig)
    remote: RemoteBindings = field(default_factory=RemoteBindings)
    keyboard: dict = field(default_factory=lambda: dict(DEFAULT_KEYS))
    tokens: dict = field(default_factory=dict)


def default_config_path() -> Path:
    return Path(str(resources.files("sonic_deploy.config").joinpath("g1_field.yaml")))


def load_field_config(path: str | Path | None = None) -> FieldConfig:
    data = yaml.safe_load(default_config_path().read_text()) or {}
    if path is not None:
        extra = yaml.safe_load(Path(path).read_text()) or {}
        for k, v in extra.items():
            data[k] = {**data.get(k, {}), **v} if isinstance(v, dict) else v
    unknown = set(data) - {"thermal", "thermal_model", "remote", "keyboard", "tokens"}
    if unknown:
        raise ValueError(f"field config: unknown sections {sorted(unknown)}")
    return FieldConfig(thermal=ThermalConfig.from_dict(data.get("thermal")),
                       thermal_model=ThermalModelConfig.from_dict(data.get("thermal_model")),
                       remote=RemoteBindings.from_dict(data.get("remote")),
                       keyboard={(" " if k == "space" else str(k)): v for k, v in (data.get("keyboard") or {}).items()},
                       tokens=dict(data.get("tokens") or {}))
