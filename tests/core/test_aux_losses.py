import copy

import torch
import torch.nn.functional as F
from sonic_core_fakes import SMALL_AC, FakeTokenEnv

from sonic_train.losses.token_losses import TokenAuxLosses
from sonic_train.modules.actor_critic import build_actor_critic, obs_dims_from
from sonic_train.trainer.ppo_aux import AuxLossPPOTrainer
from sonic_train.trainer.storage import MiniBatch

torch.set_num_threads(1)
AUX = {"aux_scale": 0.5, "losses": {
    "g1_recon": {"type": "reconstruction", "coef": 2.0},
    "g1_smpl_latent": {"type": "latent_alignment", "encoders": ["g1", "smpl"], "coef": 0.3},
    "g1_teleop_latent": {"type": "latent_alignment", "encoders": ["g1", "teleop"], "coef": 0.7}}}


def _setup(n=32):
    torch.manual_seed(0)
    env = FakeTokenEnv(num_envs=n, seed=3)
    obs = env.reset()
    model = build_actor_critic(SMALL_AC, obs_dims_from(obs), env.num_actions)
    algo = {"num_steps_per_env": 4, "value_loss_coef": 0.25, "entropy_coef": 0.01, "clip_param": 0.2}
    tr = AuxLossPPOTrainer(model, algo, n, env.num_actions, aux_losses=AUX)
    return env, obs, model, tr


def test_total_loss_formula_on_fixed_batch():
    env, obs, model, tr = _setup()
    g = torch.Generator().manual_seed(5)
    n, a = env.num_envs, env.num_actions
    batch = MiniBatch(obs=obs, actions=torch.randn(n, a, generator=g), values=torch.randn(n, generator=g),
                      advantages=torch.randn(n, generator=g), returns=torch.randn(n, generator=g),
                      log_probs=torch.randn(n, generator=g) - 3, mu=torch.zeros(n, a), sigma=torch.ones(n, a))
    out = model(batch.obs, batch.actions, return_aux=True)
    losses = tr.compute_losses(batch, out)
    aux = out["aux"]
    recon = F.mse_loss(aux["kin_pred"], aux["kin_target"])
    l_smpl = F.mse_loss(aux["latents"]["smpl"], aux["latents"]["g1"])
    l_tele = F.mse_loss(aux["latents"]["teleop"], aux["latents"]["g1"])
    ratio = torch.exp(out["log_prob"] - batch.log_probs)
    surrogate = torch.max(-batch.advantages * ratio, -batch.advantages * ratio.clamp(0.8, 1.2)).mean()
    policy = surrogate - 0.01 * out["entropy"].mean()
    vc = batch.values + (out["value"] - batch.values).clamp(-0.2, 0.2)
    value = torch.max((out["value"] - batch.returns) ** 2, (vc - batch.returns) ** 2).mean()
    expected = policy + 0.25 * value + 0.5 * (2.0 * recon + 0.3 * l_smpl + 0.7 * l_tele)
    assert torch.allclose(losses["aux/g1_recon"], recon)
    assert torch.allclose(losses["aux/g1_smpl_latent"], l_smpl)
    assert torch.allclose(losses["aux/g1_teleop_latent"], l_tele)
    assert torch.allclose(losses["policy"], policy)
    assert torch.allclose(losses["value"], value)
    assert torch.allclose(losses["total"], expected, rtol=1e-6, atol=1e-7)
    assert min(recon.item(), l_smpl.item(), l_tele.item()) > 0


def test_recon_loss_decreases_when_trained_alone():
    env, obs, model, _ = _setup(64)
    aux_losses = TokenAuxLosses({"aux_scale": 1.0, "losses": {"g1_recon": {"type": "reconstruction"}}})
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    first = None
    for _ in range(30):
        _, aux = model.actor(obs, return_aux=True)
        loss = aux_losses.weighted_sum(aux_losses(aux))
        first = loss.item() if first is None else first
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        _, aux = model.actor(obs, return_aux=True)
        last = float(aux_losses(aux)["g1_recon"])
    assert last < 0.7 * first, (first, last)


def test_latent_alignment_pulls_encoders_together():
    env, obs, model, _ = _setup(64)
    cfg = copy.deepcopy(AUX)
    cfg["losses"].pop("g1_recon")
    aux_losses = TokenAuxLosses(cfg)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    vals = []
    for _ in range(20):
        _, aux = model.actor(obs, return_aux=True)
        loss = aux_losses.weighted_sum(aux_losses(aux))
        vals.append(loss.item())
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert vals[-1] < 0.5 * vals[0], vals
