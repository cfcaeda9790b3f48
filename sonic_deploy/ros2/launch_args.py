"""Launch-argument handling for ``ros2 launch sonic_deploy g1.launch.py`` (the launch file calls these).

Arguments: ``robot:=sim|real``, ``input:=motion|teleop|smpl|stream|tokens``, ``policy:=path.onnx``, ``motion:=path``,
``network_interface:=...``, ``config:=config/g1.yaml``, ``domain_id:=N``, ``peers:=a,b`` (``dds.peers``),
``uint8_kind:=byte|uint8`` (``dds.uint8_kind``). A non-empty argument overrides the parameter of the same name from
the config file; ``robot:=sim`` also starts the MuJoCo DDS bridge (``sonic-deploy bridge``, free-running, the G1 on
its gantry until the controller holds it) with the same interface, domain, peers and one-byte kind, and turns
``controller.auto`` on.
"""

from __future__ import annotations

ARGUMENTS = {
    "robot": ("sim", ("sim", "real"), "sim: start the MuJoCo DDS bridge and drive it; real: the G1 over DDS"),
    "input": ("motion", ("motion", "teleop", "smpl", "stream", "tokens"), "reference input (selects the encoder the policy must have)"),
    "policy": ("", None, "sonic.policy/1 ONNX artifact"),
    "motion": ("", None, "motion clip (.npz) or folder of clips for input:=motion"),
    "network_interface": ("lo", None, "network interface for Unitree DDS (lo for sim-to-sim)"),
    "config": ("", None, "node parameter file (default: the package's config/g1.yaml)"),
    "domain_id": ("0", None, "DDS domain id for rt/lowstate and rt/lowcmd"),
    "peers": ("", None, "comma-separated addresses for Unitree DDS unicast discovery, besides multicast"),
    "uint8_kind": ("byte", ("byte", "uint8"), "one-byte IDL members described as byte (the G1) or uint8"),
}


def validate_arguments(args: dict) -> dict:
    """Check choices; returns the arguments with defaults filled. Raises ValueError naming the argument."""
    out = {}
    for name, (default, choices, _doc) in ARGUMENTS.items():
        v = str(args.get(name, default))
        if choices and v not in choices:
            raise ValueError(f"launch argument '{name}': expected one of {list(choices)}, got {v!r}")
        out[name] = v
    unknown = set(args) - set(ARGUMENTS)
    if unknown:
        raise ValueError(f"launch argument '{sorted(unknown)[0]}': unknown (known: {sorted(ARGUMENTS)})")
    try:
        d = int(out["domain_id"])
    except ValueError:
        raise ValueError(f"launch argument 'domain_id': expected an integer, got {out['domain_id']!r}") from None
    if not 0 <= d <= 232:
        raise ValueError(f"launch argument 'domain_id': expected 0..232, got {d}")
    return out


def parameter_overrides(args: dict) -> dict:
    """Node parameters set by launch arguments (empty arguments leave the config file's value)."""
    a = validate_arguments(args)
    out = {"robot": a["robot"], "input": a["input"], "network_interface": a["network_interface"],
           "domain_id": int(a["domain_id"]), "dds.uint8_kind": a["uint8_kind"]}
    for name, param in (("policy", "policy"), ("motion", "motion"), ("peers", "dds.peers")):
        if a[name]:
            out[param] = a[name]
    if a["robot"] == "sim":
        out["controller.auto"] = True
    return out


def bridge_command(args: dict) -> list[str] | None:
    """The sim bridge process for ``robot:=sim`` (None for the real robot)."""
    a = validate_arguments(args)
    if a["robot"] != "sim":
        return None
    cmd = ["sonic-deploy", "bridge", "--interface", a["network_interface"], "--domain", a["domain_id"],
           "--uint8-kind", a["uint8_kind"]]
    return cmd + (["--peers", a["peers"]] if a["peers"] else [])
