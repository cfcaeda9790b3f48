"""The runtime's numpy rotations (sonic_deploy/utils/rotations.py) and training's torch twin
(sonic_train/envs/mdp/math.py): a function both have has the same name, the same arguments and the same values."""

import inspect

import numpy as np
import pytest
import torch

import sonic_deploy.utils.rotations as R
import sonic_train.envs.mdp.math as M

TWINS = ("quat_conjugate", "quat_mul", "quat_apply", "quat_apply_inverse", "quat_to_matrix", "matrix_to_6d", "yaw_of",
         "yaw_quat", "yaw_matrix", "quat_from_axis_angle", "normalize", "quat_slerp")


def _args(name: str, rng) -> tuple:
    q = rng.normal(size=(16, 4))
    q /= np.linalg.norm(q, axis=-1, keepdims=True)
    q2 = rng.normal(size=(16, 4))
    q2 /= np.linalg.norm(q2, axis=-1, keepdims=True)
    v = rng.normal(size=(16, 3))
    return {"quat_mul": (q, q2), "quat_apply": (q, v), "quat_apply_inverse": (q, v),
            "matrix_to_6d": (R.quat_to_matrix(q),), "yaw_matrix": (rng.uniform(-np.pi, np.pi, 16),),
            "quat_from_axis_angle": (v / np.linalg.norm(v, axis=-1, keepdims=True), rng.uniform(-3, 3, 16)),
            "quat_slerp": (q, q2, rng.uniform(0, 1, (16, 1)))}.get(name, (q,))


@pytest.mark.parametrize("name", TWINS)
def test_twin_has_the_same_name_arguments_and_values(name):
    np_fn, torch_fn = getattr(R, name), getattr(M, name)
    assert list(inspect.signature(np_fn).parameters) == list(inspect.signature(torch_fn).parameters)
    args = _args(name, np.random.default_rng(0))
    want = np_fn(*args)
    got = torch_fn(*(torch.as_tensor(a, dtype=torch.float64) for a in args)).numpy()
    np.testing.assert_allclose(got, want, atol=1e-9)
