"""Finite Scalar Quantization (Mentzer et al., 2023).

Each latent dimension ``i`` is bounded to ``L_i`` levels with a tanh-style bound, rounded with a
straight-through estimator and rescaled to [-1, 1]. A token is a group of ``len(levels)``
dimensions; its index in the implicit codebook is the mixed-radix number of its per-dimension
levels, so ``codebook_size = prod(levels)``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn


def round_ste(x: torch.Tensor) -> torch.Tensor:
    """Round to the nearest integer; the gradient passes through unchanged (identity)."""
    return x + (torch.round(x) - x).detach()


class FSQ(nn.Module):
    """Quantizer over the last dimension of size ``len(levels)``.

    ``forward(z)`` maps any real ``z[..., D]`` to codes in [-1, 1] taking exactly ``L_i`` values in
    dimension ``i``. ``codes_to_indices`` / ``indices_to_codes`` convert both ways.
    """

    def __init__(self, levels: Sequence[int], eps: float = 1e-3):
        super().__init__()
        levels = [int(v) for v in levels]
        if not levels or min(levels) < 2:
            raise ValueError(f"fsq_level_list needs at least one level >= 2, got {levels}")
        self.level_list = levels
        self.eps = eps
        lv = torch.tensor(levels, dtype=torch.float32)
        basis = torch.cumprod(torch.tensor([1] + levels[:-1], dtype=torch.int64), dim=0)
        self.register_buffer("levels", lv, persistent=False)
        self.register_buffer("basis", basis, persistent=False)
        self.register_buffer("half_width", torch.floor(lv / 2), persistent=False)
        half_l = (lv - 1) * (1 + eps) / 2
        offset = torch.where(torch.remainder(lv, 2) == 0, 0.5, 0.0)
        self.register_buffer("_half_l", half_l, persistent=False)
        self.register_buffer("_offset", offset, persistent=False)
        self.register_buffer("_shift", torch.atanh(offset / half_l), persistent=False)

    @property
    def dim(self) -> int:
        return len(self.level_list)

    @property
    def codebook_size(self) -> int:
        return int(math.prod(self.level_list))

    def bound(self, z: torch.Tensor) -> torch.Tensor:
        """Squash ``z`` so that rounding gives integers in [-floor(L/2), ceil(L/2) - 1]."""
        return torch.tanh(z + self._shift) * self._half_l - self._offset

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        q = round_ste(self.bound(z))
        return q / self.half_width

    def codes_to_indices(self, codes: torch.Tensor) -> torch.Tensor:
        """codes [..., D] in the quantized grid -> int64 indices [...]."""
        digits = torch.round(codes * self.half_width + self.half_width).to(torch.int64)
        return (digits * self.basis).sum(dim=-1)

    def indices_to_codes(self, indices: torch.Tensor) -> torch.Tensor:
        """int64 indices [...] -> codes [..., D]."""
        digits = torch.div(indices.unsqueeze(-1), self.basis, rounding_mode="floor")
        digits = torch.remainder(digits, self.levels.to(torch.int64))
        return (digits.to(self.half_width.dtype) - self.half_width) / self.half_width

    def all_codes(self) -> torch.Tensor:
        """Every codebook entry, [codebook_size, D], in index order."""
        return self.indices_to_codes(torch.arange(self.codebook_size, device=self.basis.device))

    def extra_repr(self) -> str:
        return f"levels={self.level_list}, codebook_size={self.codebook_size}"
