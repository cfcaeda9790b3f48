"""Networks of the learning core: FSQ, MLP blocks, the universal-token module, actor and critic."""

from sonic_train.modules.actor_critic import (
    Actor,
    Critic,
    EmpiricalNormalization,
    PolicyAndValueWrapper,
    build_actor_critic,
)
from sonic_train.modules.fsq import FSQ, round_ste
from sonic_train.modules.mlp import MLP, build_mlp
from sonic_train.modules.universal_token import (
    LATENT_RESIDUAL_MODES,
    UniversalTokenModule,
    encoder_probs_from_cfg,
    sample_encoder_index,
)

__all__ = [
    "Actor",
    "Critic",
    "EmpiricalNormalization",
    "FSQ",
    "LATENT_RESIDUAL_MODES",
    "MLP",
    "PolicyAndValueWrapper",
    "UniversalTokenModule",
    "build_actor_critic",
    "build_mlp",
    "encoder_probs_from_cfg",
    "round_ste",
    "sample_encoder_index",
]
