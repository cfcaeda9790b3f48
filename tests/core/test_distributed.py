"""Two CPU processes (gloo), different data per rank: parameters must stay identical across ranks."""

import os
import socket
import subprocess
import sys

import pytest
import torch

WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "dist_worker.py")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _can_spawn() -> str | None:
    if not torch.distributed.is_available() or not torch.distributed.is_gloo_available():
        return "torch.distributed with gloo is not available on this platform"
    try:
        import accelerate  # noqa: F401
    except ImportError:
        return "accelerate is not installed"
    return None


@pytest.mark.slow
def test_two_process_ddp_keeps_parameters_identical(tmp_path):
    reason = _can_spawn()
    if reason:
        pytest.skip(reason)
    port = _free_port()
    procs = []
    for rank in range(2):
        env = dict(os.environ, RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE="2", MASTER_ADDR="127.0.0.1",
                   MASTER_PORT=str(port), OMP_NUM_THREADS="1", ACCELERATE_USE_CPU="true")
        procs.append(subprocess.Popen([sys.executable, WORKER, str(tmp_path)], env=env,
                                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
    outs = []
    for p in procs:
        try:
            outs.append(p.communicate(timeout=150)[0])
        except subprocess.TimeoutExpired:
            for q in procs:
                q.kill()
            pytest.fail("distributed workers timed out")
    if any(p.returncode != 0 for p in procs):
        text = "\n".join(outs)
        if "Address family not supported" in text or "Operation not permitted" in text:
            pytest.skip(f"platform cannot open local sockets for gloo: {text[-300:]}")
        pytest.fail(f"worker failed:\n{text[-4000:]}")
    r0 = torch.load(tmp_path / "rank0.pt", weights_only=True)
    r1 = torch.load(tmp_path / "rank1.pt", weights_only=True)
    assert r0["world_size"] == r1["world_size"] == 2
    # ranks started from different weights and saw different data ...
    assert any(not torch.equal(r0["initial"][k], r1["initial"][k]) for k in r0["initial"] if "weight" in k)
    assert not torch.equal(r0["first_obs"], r1["first_obs"])
    # DDP broadcast rank 0's weights when the trainer wrapped the model
    for k in r0["broadcast"]:
        assert torch.equal(r0["broadcast"][k], r1["broadcast"][k]), k
    # ... yet end with identical parameters and normaliser statistics, different from the start
    for k in r0["final"]:
        assert torch.equal(r0["final"][k], r1["final"][k]), k
    assert any(not torch.equal(r0["final"][k], r0["initial"][k]) for k in r0["final"])
    assert r0["final"]["critic.normalizer.count"].item() == 2 * 3 * 8 * 8
    assert r0["lr"] == r1["lr"]
