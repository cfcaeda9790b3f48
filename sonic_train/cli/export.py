"""``sonic-export``: ONNX of one encoder + FSQ + dynamic decoder with the robot contract in its metadata.

Keys (``+key=value``; ``key=value`` works too): ``checkpoint`` (required; its training config.yaml beside it),
``encoder`` (g1 | smpl | teleop, default g1), ``out`` (default ``<checkpoint stem>_<encoder>.onnx`` beside it),
``residual`` (add the ``latent_residual`` input), ``tolerance`` (parity bound, default 1e-5), ``motions``
(library for the recorded parity inputs; default the run's), ``sim`` (simulator of the recorded rollout, default
mujoco whatever trained the run). Opset 17; batch dimension dynamic. The decoder graph of the token input,
``<out stem>.decoder.onnx`` (token_indices + obs_proprio -> actions, same metadata, parity-checked), is always
written beside ``out``.
"""

from __future__ import annotations

# Imports of torch, the simulator and the training stack sit inside the command's functions: `--help` and a bad
# argument answer before they load (seconds on a small machine). No import is deferred to avoid a cycle.

import json
import sys

DESCRIPTION = "Export one encoder + FSQ + g1_dyn decoder to ONNX with the robot/observation contract as metadata."
EPILOG = """always writes, beside FILE, the token input's decoder graph <FILE stem>.decoder.onnx
(token_indices [B, num_tokens] int64 + obs_proprio -> actions, same metadata, parity-checked against PyTorch).

examples:
  sonic-export +checkpoint=logs/run/model_500.pt +encoder=g1 +out=policy.onnx
  sonic-export +checkpoint=logs/run/model_500.pt +encoder=teleop +residual=True
"""
KEYS = {"checkpoint": str, "encoder": str, "out": str, "residual": bool, "tolerance": float, "motions": str,
        "seed": int, "sim": str}


def parse(argv: list[str]) -> dict:
    out: dict = {}
    for a in argv:
        if "=" not in a:
            raise SystemExit(f"sonic-export: expected +key=value, got {a!r} (keys: {', '.join(KEYS)})")
        k, v = a.lstrip("+").split("=", 1)
        if k not in KEYS:
            raise SystemExit(f"sonic-export: unknown key {k!r} (keys: {', '.join(KEYS)})")
        typ = KEYS[k]
        if typ is bool:
            out[k] = v.strip().lower() in ("1", "true", "yes", "on")
        else:
            out[k] = typ(v)
    return out


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if any(a in ("-h", "--help") for a in argv):
        print(f"usage: sonic-export +checkpoint=PATH [+encoder=g1|smpl|teleop] [+out=FILE] [+residual=True]\n\n"
              f"{DESCRIPTION}\n\n{EPILOG}")
        return 0
    args = parse(argv)
    if "checkpoint" not in args:
        print("sonic-export: +checkpoint=PATH is required", file=sys.stderr)
        return 2
    import torch

    from sonic_train.eval.common import EvalError
    from sonic_train.export import OPSET, TOLERANCE, export_checkpoint

    torch.set_num_threads(1)
    try:
        res = export_checkpoint(args["checkpoint"], args.get("out"), encoder=args.get("encoder", "g1"),
                                residual=args.get("residual", False), tolerance=args.get("tolerance", TOLERANCE),
                                motions=args.get("motions"), seed=args.get("seed", 0),
                                sim_backend=args.get("sim", "mujoco"))
    except EvalError as exc:
        print(f"sonic-export: {exc}", file=sys.stderr)
        return 1
    c = res.contract
    print(f"wrote {res.path} (opset {OPSET}, encoder {c.encoder}, obs_encoder {c.encoder_dim}, "
          f"obs_proprio {c.proprio_dim}, tokens {c.num_tokens} x levels {c.fsq_levels}) in {res.seconds:.1f} s")
    print(f"wrote {res.decoder_path} (token decoder: token_indices + obs_proprio -> actions)")
    print("parity torch vs onnxruntime: " + json.dumps({k: v for k, v in res.parity.items()}))
    if res.int8_path is not None:  # release size: INT8 beside FP32, the CPU default where its check passed
        i = res.int8
        tr = i["tracking"]
        print(f"wrote {res.int8_path} (INT8; action error max {i['action_max_abs_diff']:.4f} on {i['recorded_samples']} "
              f"recorded inputs; {tr['motion']} MPJPE fp32 {tr['fp32']['mpjpe_global_mm']:.1f} / int8 "
              f"{tr['int8']['mpjpe_global_mm']:.1f} mm): " + ("the CPU default" if i["default"] else
                                                               "NOT the default: " + "; ".join(i["refused"])))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
