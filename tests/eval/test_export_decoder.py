"""sonic-export writes the token input's decoder graph; the deploy side's TokenPolicy loads it, and decoding the
main graph's token indices reproduces the main graph's actions."""

from __future__ import annotations

import json

import numpy as np
import onnx
import onnxruntime as ort

from sonic_deploy.policy.contract import METADATA_KEY
from sonic_deploy.policy.tokens import TokenPolicy, decoder_path_for
from sonic_train.export import export_checkpoint


def test_decoder_graph_reproduces_main_graph(tiny_run, tmp_path):
    _, ckpts = tiny_run
    res = export_checkpoint(ckpts[-1], tmp_path / "policy.onnx", encoder="g1", recorded_steps=5)
    assert res.decoder_path == decoder_path_for(res.path) and res.decoder_path.is_file()
    dec = [k for k in res.parity if k.startswith("decoder/")]
    assert "decoder/random/max_abs_diff" in dec and all(res.parity[k] < 1e-5 for k in dec)
    m = onnx.load(str(res.decoder_path))
    assert [i.name for i in m.graph.input] == ["token_indices", "obs_proprio"]
    assert [o.name for o in m.graph.output] == ["actions"]
    main_meta = {p.key: p.value for p in onnx.load(str(res.path)).metadata_props}[METADATA_KEY]
    assert json.loads({p.key: p.value for p in m.metadata_props}[METADATA_KEY]) == json.loads(main_meta)

    tp = TokenPolicy(res.path)  # validates the decoder's contract against the main model
    c = tp.contract
    main = ort.InferenceSession(str(res.path), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(1)
    e = rng.standard_normal((16, c.encoder_dim)).astype(np.float32)
    p = rng.standard_normal((16, c.proprio_dim)).astype(np.float32)
    actions, tokens = main.run(["actions", "token_indices"], {"obs_encoder": e, "obs_proprio": p})
    decoded = tp.session.run(["actions"], {"token_indices": tokens, "obs_proprio": p})[0]
    assert np.abs(decoded - actions).max() < 1e-5
    for i in range(3):  # through the controller interface, one row at a time
        a = tp.infer({"token_indices": tokens[i:i + 1], "obs_proprio": p[i:i + 1]})
        assert np.abs(a - actions[i]).max() < 1e-5
    st = tp.standing_tokens()
    assert st.shape == (c.num_tokens,) and (st >= 0).all() and (st < np.prod(c.fsq_levels)).all()
