"""Domain randomisation by level, the adaptive termination curriculum and adaptive motion resampling."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hydra import compose, initialize_config_dir

from sonic_train.callbacks.im_resample import resample_weights
from sonic_train.cli.train import config_dir
from sonic_train.envs.factory import make_env
from sonic_train.envs.mdp.curriculum import adaptive_termination_threshold, event_level


def _env(synthetic_motions, n=4):
    with initialize_config_dir(config_dir=str(config_dir()), version_base=None):
        cfg = compose("base", overrides=["+exp=manager/universal_token/all_modes/sonic_smoke", f"num_envs={n}",
                                         f"+motions={synthetic_motions}"])
    return make_env(cfg, quiet=True)


def test_level0_randomises_nothing_and_level4_everything(synthetic_motions):
    env = _env(synthetic_motions)
    e = env.unwrapped
    env.reset()
    be = e.backend
    assert all(m is be.model for m in be.models)  # level 0: the shared model, untouched
    assert torch.all(e.action_manager.joint_offset == 0)
    e.event_manager.set_level(4)
    ids = torch.arange(4)
    e._reset_idx(ids)
    assert all(m is not be.model for m in be.models)
    fr = np.array([m.geom_friction[be._foot_geoms[0], 0] for m in be.models])
    kp = np.array([m.actuator_gainprm[0, 0] for m in be.models])
    torso = be.model.body("torso_link").id
    mass = np.array([m.body_mass[torso] for m in be.models])
    base_fr = be._base_friction[be._foot_geoms[0]]
    assert np.all((fr >= 0.4 * base_fr - 1e-9) & (fr <= 1.4 * base_fr + 1e-9)) and np.ptp(fr) > 0
    assert np.all(np.abs(kp / be.base_kp[0] - 1) <= 0.1 + 1e-9) and np.ptp(kp) > 0
    assert np.all((mass >= be._base_mass[torso] - 1 - 1e-9) & (mass <= be._base_mass[torso] + 3 + 1e-9))
    off = e.action_manager.joint_offset
    assert off.abs().max() <= 0.01 + 1e-7 and off.abs().max() > 0
    # level 2: half the ranges
    e.event_manager.set_level(2)
    e._reset_idx(ids)
    fr = np.array([m.geom_friction[be._foot_geoms[0], 0] for m in be.models]) / base_fr
    assert np.all((fr >= 0.7 - 1e-6) & (fr <= 1.2 + 1e-6))
    # a push changes the root velocity by at most the configured range
    v0 = be.qvel[:, :3].copy()
    from sonic_train.envs.mdp.events import push_robot

    push_robot(e, ids, 1.0, velocity_range={"x": [0.5, 0.5]})
    assert np.allclose(be.qvel[:, 0] - v0[:, 0], 0.5)
    env.close()


class _TM:
    def __init__(self, rate):
        self.rate = rate
        self.params = {}

    def recent_success(self, min_episodes, key="default"):
        return self.rate

    def reset_success_window(self, key="default"):
        pass

    def set_param(self, term, param, value):
        self.params[(term, param)] = value


def test_adaptive_threshold_tightens_on_success_and_loosens_on_failure():
    from types import SimpleNamespace

    tm = _TM(0.9)
    env = SimpleNamespace(termination_manager=tm)
    state: dict = {}
    vals = [adaptive_termination_threshold(env, None, state, "anchor_ori", "threshold", 0.8, 0.4, 0.1, 1)
            for _ in range(6)]
    assert np.allclose(vals, [0.7, 0.6, 0.5, 0.4, 0.4, 0.4])
    tm.rate = 0.2
    value = adaptive_termination_threshold(env, None, state, "anchor_ori", "threshold", 0.8, 0.4, 0.1, 1)
    assert np.isclose(value, 0.5)
    assert np.isclose(tm.params[("anchor_ori", "threshold")], 0.5)


def test_resample_weights_favour_failing_clips():
    w = resample_weights(np.array([10.0, 10.0, 0.0]), np.array([9.0, 1.0, 0.0]), uniform_frac=0.3, prior=1.0)
    assert np.isclose(w.sum(), 1.0)
    assert w[0] > w[2] > w[1]  # failing clip most; an unseen clip (prior rate 0.5) above a succeeding one
    assert w.min() >= 0.3 / 3 - 1e-12


def test_event_level_stops_at_the_event_managers_max_level():
    from types import SimpleNamespace

    class _Events:
        def __init__(self, max_level):
            self.level, self.max_level = 0, max_level

        def set_level(self, level):
            self.level = int(min(max(level, 0), self.max_level))

    events = _Events(max_level=2)
    env = SimpleNamespace(termination_manager=_TM(0.9), event_manager=events)
    vals = [event_level(env, None, {}, success_up=0.8, success_down=0.4, min_episodes=1) for _ in range(4)]
    assert vals == [1.0, 2.0, 2.0, 2.0]


def test_event_level_refuses_its_own_max_level():
    from sonic_train.envs.managers.base import ConfigError, parse_terms
    from sonic_train.envs.mdp import curriculum as cur_mod

    raw = {"event_level": {"func": "event_level", "params": {"max_level": 4, "success_up": 0.8,
                                                             "success_down": 0.4, "min_episodes": 128}}}
    with pytest.raises(ConfigError, match="'max_level'"):
        parse_terms(raw, cur_mod, "curriculum", "manager_env.curriculum")


def test_curriculum_params_the_config_sets_have_no_code_default():
    """The curriculum config is the one home of these values: leaving one out is an error naming it."""
    from types import SimpleNamespace

    env = SimpleNamespace(termination_manager=_TM(0.9), event_manager=SimpleNamespace(level=0, max_level=4))
    with pytest.raises(TypeError, match="min_episodes"):
        event_level(env, None, {}, success_up=0.8, success_down=0.4)
    with pytest.raises(TypeError, match="min_episodes"):
        adaptive_termination_threshold(env, None, {}, "anchor_ori", "threshold", 0.8, 0.4, 0.1)
