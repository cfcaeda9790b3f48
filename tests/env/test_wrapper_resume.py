"""The wrapper's resume pair: a restored last observation lets a resumed run step on without a reset."""

from __future__ import annotations

import torch

from sonic_train.envs.wrapper import ManagerEnvWrapper


class _CountingEnv:
    num_envs, num_actions, device = 2, 3, torch.device("cpu")

    def __init__(self):
        self.resets = 0

    def reset(self):
        self.resets += 1
        return {"policy": torch.full((2, 4), float(self.resets))}

    def step(self, actions, replay=False):
        return {"policy": torch.zeros(2, 4)}, torch.zeros(2), torch.zeros(2, dtype=torch.bool), {}


def test_resume_state_round_trip_skips_the_first_reset():
    a = ManagerEnvWrapper(_CountingEnv())
    a.reset()
    state = a.resume_state()
    assert torch.equal(state["obs"]["policy"], torch.ones(2, 4))
    env = _CountingEnv()
    b = ManagerEnvWrapper(env)
    b.load_resume_state(state)
    assert b.resume_state()["obs"] is state["obs"]
    b.step(torch.zeros(2, 3))
    assert env.resets == 0
