import copy

import pytest
import torch
from sonic_core_fakes import SMALL_AC, TOKEN_DIMS, FakeTokenEnv

from sonic_train.modules.actor_critic import build_actor_critic, obs_dims_from
from sonic_train.modules.universal_token import (
    UniversalTokenModule,
    encoder_probs_from_cfg,
    sample_encoder_index,
)

torch.set_num_threads(1)
P, A = 5, 4


def make_module(mode="post_quantization", **over) -> UniversalTokenModule:
    cfg = copy.deepcopy(SMALL_AC)
    cfg.update(over)
    torch.manual_seed(0)
    return UniversalTokenModule(cfg["encoders"], cfg["decoders"], cfg["quantizer"], TOKEN_DIMS, P, A,
                                cfg["encoder_sample_probs"], mode)


def make_obs(n=16, seed=0, enc_idx=None):
    g = torch.Generator().manual_seed(seed)
    tok = {k: torch.randn(n, d, generator=g) for k, d in TOKEN_DIMS.items()}
    tok["encoder_index"] = enc_idx if enc_idx is not None else torch.randint(0, 3, (n,), generator=g)
    return {"policy": torch.randn(n, P, generator=g), "tokenizer": tok}


def test_default_mode_is_post_quantization():
    m = make_module()
    assert m.latent_residual_mode == "post_quantization"
    assert m.latent_dim == 3 * 2
    assert m.fsq.codebook_size == 60
    with pytest.raises(ValueError):
        make_module("something_else")


@pytest.mark.parametrize("mode", ["post_quantization", "pre_quantization", "pre_quantization_replace"])
def test_residual_modes(mode):
    m = make_module(mode)
    latent = torch.randn(32, m.latent_dim) * 2
    residual = torch.randn(32, m.latent_dim) * 0.7
    tokens, codes = m.quantize(latent, residual)
    fsq = lambda x: m.fsq(x.reshape(32, 2, 3)).reshape(32, 6)  # noqa: E731
    if mode == "post_quantization":
        expected = fsq(latent) + residual
        assert torch.equal(codes, fsq(latent))
    elif mode == "pre_quantization":
        expected = fsq(latent + residual)
    else:
        expected = fsq(residual)
    assert torch.allclose(tokens, expected, atol=0, rtol=0)
    # the three modes really differ on this input
    assert not torch.allclose(fsq(latent) + residual, fsq(latent + residual))
    # no residual: plain quantization in every mode
    assert torch.equal(m.quantize(latent)[0], fsq(latent))


def test_encoder_sampling_frequencies_match_probs():
    probs = encoder_probs_from_cfg({"g1": 0.5, "smpl": 0.3, "teleop": 0.2}, ["g1", "smpl", "teleop"])
    g = torch.Generator().manual_seed(7)
    n = 20000
    idx = sample_encoder_index(n, probs, g)
    assert idx.dtype == torch.int64 and idx.shape == (n,)
    counts = torch.bincount(idx, minlength=3).double()
    expected = probs.double() * n
    chi2 = float(((counts - expected) ** 2 / expected).sum())
    assert chi2 < 13.8, (counts, chi2)  # p = 0.001 for 2 dof
    assert torch.allclose(counts / n, probs.double(), atol=0.01)
    # a zero-probability encoder is never drawn
    idx0 = sample_encoder_index(5000, encoder_probs_from_cfg({"g1": 1.0, "smpl": 0.0, "teleop": 1.0}), g)
    assert not (idx0 == 1).any()


def test_each_env_routes_through_its_own_encoder():
    m = make_module()
    enc_idx = torch.tensor([0, 1, 2, 0, 1, 2, 0, 1])
    obs = make_obs(8, enc_idx=enc_idx)
    with torch.no_grad():
        _, aux = m(obs, return_aux=True)
        for e, name in enumerate(m.encoder_names):
            sel = enc_idx == e
            assert torch.equal(aux["latent"][sel], aux["latents"][name][sel])
        before = m(obs)
        # zero the smpl encoder: only the smpl envs see a change, and their latent becomes 0
        for p in m.encoders["smpl"].parameters():
            p.zero_()
        after, aux2 = m(obs, return_aux=True)
    smpl = enc_idx == 1
    assert torch.equal(after[~smpl], before[~smpl])
    assert (after[smpl] - before[smpl]).abs().max() > 1e-4
    assert torch.equal(aux2["latent"][smpl], torch.zeros(int(smpl.sum()), m.latent_dim))


def test_deploy_forward_matches_training_forward_and_traces():
    m = make_module().eval()
    obs = make_obs(6, enc_idx=torch.full((6,), 2))
    x = m.encoder_input("teleop", obs["tokenizer"])
    with torch.no_grad():
        act, idx = m.deploy_forward("teleop", x, obs["policy"])
        ref, aux = m(obs, return_aux=True)
    assert torch.equal(act, ref)
    assert idx.shape == (6, 2) and idx.dtype == torch.int64
    assert torch.equal(m.tokens_from_indices(idx), aux["codes"])

    class Deploy(torch.nn.Module):
        def __init__(self, mod):
            super().__init__()
            self.mod = mod

        def forward(self, enc, prop):
            return self.mod.deploy_forward("teleop", enc, prop)

    # torch.export refuses data-dependent Python control flow; the batch dimension stays dynamic
    batch = torch.export.Dim("batch")
    exported = torch.export.export(Deploy(m), (x, obs["policy"]), dynamic_shapes=({0: batch}, {0: batch}))
    x2, p2 = torch.randn(3, x.shape[1]), torch.randn(3, P)
    a_t, i_t = exported.module()(x2, p2)
    a_e, i_e = m.deploy_forward("teleop", x2, p2)
    assert torch.allclose(a_t, a_e) and torch.equal(i_t, i_e)


def test_build_actor_critic_from_fake_env_obs():
    env = FakeTokenEnv(num_envs=6)
    obs = env.reset()
    model = build_actor_critic(SMALL_AC, obs_dims_from(obs), env.num_actions)
    out = model(obs, actions=torch.zeros(6, env.num_actions), return_aux=True)
    assert out["mean"].shape == (6, env.num_actions)
    assert out["value"].shape == (6,)
    assert torch.allclose(out["std"], torch.full((6, env.num_actions), 0.5))
    assert out["aux"]["kin_pred"].shape == (6, TOKEN_DIMS["command_joint_pos_future"])
    with pytest.raises(KeyError, match="smpl_joints_future"):
        dims = obs_dims_from(obs)
        del dims["tokenizer"]["smpl_joints_future"]
        build_actor_critic(SMALL_AC, dims, env.num_actions)


@pytest.mark.parametrize("key", ["backbone", "init_noise_std", "encoder_sample_probs", "latent_residual_mode",
                                 "critic"])
def test_build_actor_critic_names_a_missing_key(key):
    """The actor_critic config is the one home of these values: there is no code default to fall back on."""
    cfg = {k: v for k, v in SMALL_AC.items() if k != key}
    with pytest.raises(ValueError, match=f"actor_critic.{key} is not set"):
        env = FakeTokenEnv(num_envs=2)
        build_actor_critic(cfg, obs_dims_from(env.reset()), env.num_actions)
