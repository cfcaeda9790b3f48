"""INT8 dynamic quantization of a ``sonic.policy/1`` artifact, with a parity check against FP32.

onnxruntime's dynamic quantization (weights int8 per output channel, activations quantized at run time) covers
MatMul, not Gemm, so Gemm nodes (what torch.onnx writes for Linear layers) are first rewritten as MatMul + Add
(exact). Metadata (the ``sonic`` contract) is copied and ``sonic.quantization`` added; the file is written
atomically (temporary file in the same folder, then rename). :func:`parity` reports the max abs action
difference and the token agreement on random and given observations. Offline step: needs ``onnx``
(dev/train extras) besides onnxruntime.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from sonic_deploy.policy.contract import INPUT_ENCODER, INPUT_PROPRIO, OUTPUT_ACTIONS, OUTPUT_TOKENS
from sonic_deploy.policy.session import make_session
from sonic_deploy.utils.atomic import atomic_path


def _gemm_to_matmul(model):
    from onnx import helper, numpy_helper  # lazy: onnx is an offline (dev/train extras) dependency

    inits = {t.name: t for t in model.graph.initializer}
    nodes = []
    for node in model.graph.node:
        if node.op_type != "Gemm":
            nodes.append(node)
            continue
        attr = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        if attr.get("alpha", 1.0) != 1.0 or attr.get("beta", 1.0) != 1.0 or attr.get("transA", 0):
            nodes.append(node)
            continue
        a, b = node.input[0], node.input[1]
        if attr.get("transB", 0):
            if b not in inits:
                nodes.append(node)
                continue
            w = numpy_helper.to_array(inits[b]).T.copy()
            inits[b].CopyFrom(numpy_helper.from_array(w, b))
        mm = node.output[0] + "_mm" if len(node.input) > 2 else node.output[0]
        nodes.append(helper.make_node("MatMul", [a, b], [mm], name=(node.name or mm) + "_matmul"))
        if len(node.input) > 2:
            nodes.append(helper.make_node("Add", [mm, node.input[2]], [node.output[0]], name=(node.name or mm) + "_bias"))
    del model.graph.node[:]
    model.graph.node.extend(nodes)
    return model


def quantize_policy(src: str | Path, dst: str | Path, *, per_channel: bool = True) -> Path:
    """Write the INT8 dynamic-quantized copy of ``src`` to ``dst`` (atomically), metadata preserved."""
    import onnx  # lazy: onnx is an offline (dev/train extras) dependency
    from onnxruntime.quantization import QuantType, quantize_dynamic

    src, dst = Path(src), Path(dst)
    model = onnx.load(str(src))
    meta = {p.key: p.value for p in model.metadata_props}
    model = _gemm_to_matmul(model)
    dst.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=dst.parent) as tmp:
        pre, out = Path(tmp) / "fp32.onnx", Path(tmp) / "int8.onnx"
        onnx.save(model, str(pre))
        quantize_dynamic(str(pre), str(out), weight_type=QuantType.QInt8, per_channel=per_channel,
                         op_types_to_quantize=["MatMul"])
        q = onnx.load(str(out))
        del q.metadata_props[:]
        meta["sonic.quantization"] = json.dumps({"method": "onnxruntime dynamic", "weights": "int8",
                                                 "per_channel": per_channel, "source": src.name})
        for k, v in meta.items():
            p = q.metadata_props.add()
            p.key, p.value = k, v
        with atomic_path(dst) as part:
            onnx.save(q, str(part))
    return dst


@dataclass
class Parity:
    samples: int
    max_abs_action_diff: float
    mean_abs_action_diff: float
    token_agreement: float | None
    max_abs_action_fp32: float = 0.0  # for scale: the difference relative to the actions themselves

    def to_dict(self) -> dict:
        return asdict(self)


def parity(fp32: str | Path, int8: str | Path, *, samples: int = 256, inputs: list[dict] | None = None, seed: int = 0,
           scale: float = 1.0) -> Parity:
    """FP32 vs INT8 on ``inputs`` (recorded observations) plus ``samples`` random ones (normal, std ``scale``)."""
    a, b = make_session(fp32), make_session(int8)
    dims = {i.name: i.shape[-1] for i in a.get_inputs()}
    outs = [OUTPUT_ACTIONS] + ([OUTPUT_TOKENS] if OUTPUT_TOKENS in {o.name for o in a.get_outputs()} else [])
    rng = np.random.default_rng(seed)
    feeds = list(inputs or [])
    for _ in range(samples):
        feeds.append({n: (rng.standard_normal((1, d)) * scale).astype(np.float32) for n, d in dims.items()
                      if n in (INPUT_ENCODER, INPUT_PROPRIO)} | {n: np.zeros((1, d), np.float32) for n, d in dims.items()
                                                                 if n not in (INPUT_ENCODER, INPUT_PROPRIO)})
    diffs, agree, mags = [], [], []
    for f in feeds:
        ra, rb = a.run(outs, f), b.run(outs, f)
        diffs.append(np.abs(ra[0] - rb[0]).max())
        mags.append(np.abs(ra[0]).max())
        if len(outs) > 1:
            agree.append(float(np.mean(ra[1] == rb[1])))
    d = np.asarray(diffs)
    return Parity(len(feeds), float(d.max()), float(d.mean()), float(np.mean(agree)) if agree else None,
                  float(np.max(mags)))


# --- INT8 as the CPU default ------------------------------------------------------------------------------
INT8_METADATA_KEY = "sonic.int8"  # in the FP32 file: the INT8 variant beside it and whether its tracking was checked
PRECISIONS = ("auto", "fp32", "int8")


def int8_path_for(path: str | Path) -> Path:
    """``policy.onnx`` -> ``policy.int8.onnx`` (beside it, as ``policy.decoder.onnx``)."""
    p = Path(path)
    return p.with_name(p.stem + ".int8.onnx")


def int8_default(meta: dict[str, str], fp32_path: str | Path) -> Path | None:
    """The INT8 file to run instead of ``fp32_path`` on a CPU: the one its ``sonic.int8`` metadata names, when the
    export checked its tracking within tolerance (``default``) and the file is there; else None."""
    raw = meta.get(INT8_METADATA_KEY)
    if not raw:
        return None
    info = json.loads(raw)
    if not (info.get("default") and info.get("tracking_checked")):
        return None
    p = Path(fp32_path).with_name(info.get("file", int8_path_for(fp32_path).name))
    return p if p.is_file() else None
