import itertools

import pytest
import torch

from sonic_train.modules.fsq import FSQ, round_ste

torch.set_num_threads(1)


@pytest.mark.parametrize("levels", [[8, 5, 5, 5], [3, 4], [2, 7, 6]])
def test_round_trip_all_codebook_entries(levels):
    fsq = FSQ(levels)
    assert fsq.codebook_size == torch.tensor(levels).prod().item()
    codes = fsq.all_codes()
    assert codes.shape == (fsq.codebook_size, len(levels))
    idx = fsq.codes_to_indices(codes)
    assert torch.equal(idx, torch.arange(fsq.codebook_size))
    # every code is distinct and quantizing a code gives the code back
    assert torch.unique(codes, dim=0).shape[0] == fsq.codebook_size
    back = fsq.indices_to_codes(idx)
    assert torch.equal(back, codes)


def test_quantized_outputs_bounded_with_exactly_L_values_per_dim():
    levels = [8, 5, 4, 3]
    fsq = FSQ(levels)
    z = torch.linspace(-20, 20, 20001).unsqueeze(-1).expand(-1, len(levels))
    q = fsq(z)
    assert q.abs().max() <= 1.0
    for i, L in enumerate(levels):
        vals = torch.unique(q[:, i])
        assert vals.numel() == L, (i, vals)
        # evenly spaced grid: step 1 / floor(L/2)
        assert torch.allclose(vals.diff(), torch.full((L - 1,), 1.0 / (L // 2)))
    # random inputs land on the same grid and their indices round-trip
    qr = fsq(torch.randn(1000, len(levels)) * 3)
    assert torch.equal(fsq.indices_to_codes(fsq.codes_to_indices(qr)), qr)


def test_straight_through_gradient_is_identity_through_rounding():
    x = torch.tensor([0.2, 1.7, -2.4, 3.5], requires_grad=True)
    y = round_ste(x)
    assert torch.equal(y.detach(), torch.round(x.detach()))
    g = torch.tensor([1.0, -2.0, 3.0, 0.5])
    (y * g).sum().backward()
    assert torch.equal(x.grad, g)


def test_fsq_gradient_equals_bound_derivative_numerically():
    fsq = FSQ([8, 5, 4]).double()
    z = torch.tensor([[0.3, -0.7, 1.1]], dtype=torch.float64, requires_grad=True)
    fsq(z).sum().backward()
    eps = 1e-6
    for i in range(3):
        dz = torch.zeros_like(z)
        dz[0, i] = eps
        num = ((fsq.bound(z.detach() + dz) - fsq.bound(z.detach() - dz)) / (2 * eps) / fsq.half_width)[0, i]
        assert abs(float(z.grad[0, i]) - float(num)) < 1e-6
        assert float(z.grad[0, i]) > 0


def test_invalid_levels_raise():
    with pytest.raises(ValueError):
        FSQ([1, 4])
    assert list(itertools.chain(FSQ([3]).level_list)) == [3]
