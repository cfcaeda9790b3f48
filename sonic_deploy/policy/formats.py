"""Which format a policy file is, and the adapter that runs it behind the :class:`~.base.Policy` protocol.

Detection reads only the graph's input/output names and metadata keys (nothing runs):

=================  ===============================================================================================
format             signature
=================  ===============================================================================================
sonic.policy/1     metadata ``sonic`` (the JSON contract, :mod:`.contract`)
beyondmimic        inputs ``obs`` + ``time_step``; metadata ``joint_names`` (comma-separated; Isaac Lab order)
holosoma.wbt       inputs ``obs`` + ``time_step``; metadata ``dof_names``/``kp``/``kd`` (JSON); output ``ref_quat_xyzw``
holosoma.loco      input ``actor_obs``, output ``action``; metadata ``dof_names``/``kp``/``kd`` (JSON)
gear_sonic         ``<name>_encoder.onnx`` (``obs_dict`` -> ``encoded_tokens``) + ``<name>_decoder.onnx``
                   (``obs_dict`` -> ``action``) + ``observation_config.yaml`` (a folder, the prefix, or either file)
=================  ===============================================================================================

A file that matches none is refused with one line naming what each format needs and what the file has.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sonic_deploy.policy import beyondmimic, gear_sonic, holosoma
from sonic_deploy.policy.base import Policy
from sonic_deploy.policy.contract import METADATA_KEY, ContractError
from sonic_deploy.policy.runner import PolicyRunner
from sonic_deploy.policy.session import make_session
from sonic_deploy.robots.g1 import G1, RobotSpec

EMBEDDED_MOTION = frozenset({"beyondmimic", "holosoma.wbt"})  # need no reference input
VELOCITY_COMMANDED = frozenset({"holosoma.loco"})  # take a velocity command as their input
WANTS = ("sonic.policy/1: metadata 'sonic' (JSON contract)",
         "beyondmimic: inputs obs+time_step and metadata joint_names",
         "holosoma: metadata dof_names/kp/kd with inputs obs+time_step (tracking, output ref_quat_xyzw) or actor_obs "
         "(locomotion, output action)",
         "gear_sonic: <name>_encoder.onnx (obs_dict -> encoded_tokens) + <name>_decoder.onnx (obs_dict -> action) "
         "+ observation_config.yaml beside them")


@dataclass
class Signature:
    inputs: tuple
    outputs: tuple
    metadata: tuple


def signature(path: str | Path) -> Signature:
    if not Path(path).is_file():
        raise ContractError(str(path), "file", "an existing ONNX file or a gear_sonic checkpoint (folder or prefix)")
    try:
        s = make_session(path)
    except Exception as exc:  # noqa: BLE001 - onnxruntime raises several types for a bad file
        raise ContractError(str(path), "file", "a loadable ONNX model", str(exc).splitlines()[0]) from None
    return Signature(tuple(i.name for i in s.get_inputs()), tuple(o.name for o in s.get_outputs()),
                     tuple(sorted(s.get_modelmeta().custom_metadata_map)))


def detect(path: str | Path) -> str:
    """The format name of ``path`` (see the module table); ContractError naming what was looked for."""
    if gear_sonic.find_checkpoint(path) is not None:
        return "gear_sonic"
    sig = signature(path)
    ins, outs, meta = set(sig.inputs), set(sig.outputs), set(sig.metadata)
    if METADATA_KEY in meta:
        if ins == {"token_indices", "obs_proprio"}:
            raise ContractError(str(path), "format", "a policy, not the token input's decoder graph (run the policy "
                                "beside it with the token input: input:=tokens)", sorted(ins))
        return "sonic.policy/1"
    if ins == {"obs", "time_step"} and "joint_names" in meta:
        return "beyondmimic"
    if {"dof_names", "kp", "kd"} <= meta:
        if ins == {"obs", "time_step"} and "ref_quat_xyzw" in outs:
            return "holosoma.wbt"
        if ins == {"actor_obs"} and "action" in outs:
            return "holosoma.loco"
    raise ContractError(str(path), "format", "one of: " + "; ".join(WANTS),
                        f"inputs {list(sig.inputs)}, outputs {list(sig.outputs)}, metadata {list(sig.metadata)}")


def load_policy(path: str | Path, spec: RobotSpec = G1, *, available=None, threads: int = 1,
                providers=None, precision: str = "auto") -> Policy:
    """The adapter for ``path``'s format, with its contract checked against ``spec`` (``precision``: a sonic
    export's INT8 variant where its export checked it, ``auto``, or ``fp32``; see :class:`PolicyRunner`)."""
    fmt = detect(path)
    if fmt == "sonic.policy/1":
        return PolicyRunner(path, spec, available=available, threads=threads, providers=providers,
                            precision=precision)
    if fmt == "beyondmimic":
        return beyondmimic.BeyondMimicPolicy(path, spec, threads=threads)
    if fmt == "holosoma.wbt":
        return holosoma.HolosomaTracking(path, spec, threads=threads, providers=providers)
    if fmt == "holosoma.loco":
        return holosoma.HolosomaLocomotion(path, spec, threads=threads, providers=providers)
    return gear_sonic.GearSonicPolicy(path, spec, available=available, threads=threads, providers=providers)
