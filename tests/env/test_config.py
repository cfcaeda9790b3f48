"""Configuration in one direction: misspelt manager_env keys are refused with the key and the file named, and
schedules reach the environment (or are refused when nothing would change)."""

from __future__ import annotations

import pytest
import torch
from hydra import compose, initialize_config_dir

from sonic_train.config import config_dir
from sonic_train.envs.factory import make_env
from sonic_train.envs.managers.base import ConfigError, check_keys
from sonic_train.trainer.schedules import ScheduleManager

SMOKE = "+exp=manager/universal_token/all_modes/sonic_smoke"


def _env(*overrides: str):
    with initialize_config_dir(config_dir=str(config_dir()), version_base=None):
        cfg = compose("base", overrides=[SMOKE, "num_envs=2", "sim.num_threads=1", *overrides])
    return make_env(cfg, quiet=True)


@pytest.mark.parametrize("override, words", [
    ("+manager_env.rewards.tracking_anchor_pos.wieght=1.0", ["manager_env.rewards.tracking_anchor_pos", "'wieght'"]),
    ("+manager_env.rewards.tracking_anchor_pos.params.sdt=0.3", ["tracking_anchor_pos()", "'sdt'", "std"]),
    ("+manager_env.config.episode_lenght_s=3.0", ["manager_env.config", "'episode_lenght_s'"]),
    ("+manager_env.observations.policy.history_lenght=4", ["manager_env.observations.policy", "'history_lenght'"]),
    ("+manager_env.events.terms.push.interval_s=2.0", ["manager_env.events.terms.push", "'interval_s'"]),
])
def test_unknown_keys_are_refused_with_key_and_path(override, words):
    with pytest.raises(ConfigError) as err:
        _env(override)
    msg = str(err.value)
    assert all(w in msg for w in words), msg
    assert "command-line override" in msg  # no config file carries the misspelling


def test_the_file_of_a_misplaced_key_is_named():
    with pytest.raises(ConfigError, match=r"configs/manager_env/events/tracking/level0_4\.yaml"):
        check_keys("manager_env.rewards.foo", {"interval_range_s": [1, 2]}, ("weight",))


def test_schedules_reach_the_environment_or_are_refused():
    env = _env()
    tenv = env.unwrapped
    specs = [{"path": "manager_env.rewards.action_rate_l2.weight", "kind": "linear", "start": 0.0, "end": -1.0,
              "start_iter": 0, "end_iter": 10},
             {"path": "manager_env.terminations.anchor_ori.params.threshold", "kind": "constant", "value": 0.5},
             {"path": "manager_env.events.level", "kind": "step", "values": [0, 3], "milestones": [5]}]
    sched = ScheduleManager(specs, env)
    root = {"manager_env": {"rewards": {"action_rate_l2": {}}, "terminations": {"anchor_ori": {"params": {}}},
                            "events": {}}}
    sched.apply(root, 5)
    rm = tenv.reward_manager
    k = [t.name for t in rm.terms].index("action_rate_l2")
    assert rm.weights[k].item() == pytest.approx(-0.5) and rm.terms[k].weight == pytest.approx(-0.5)
    assert tenv.termination_manager.get_param("anchor_ori", "threshold") == 0.5
    assert tenv.event_manager.level == 3
    env.step(torch.zeros(2, env.num_actions))  # the env runs with the scheduled values
    for path in ("manager_env.config.push_scale", "manager_env.rewards.action_rate_l2.params.std",
                 "manager_env.rewards.no_such_term.weight"):
        with pytest.raises(ConfigError, match="can change"):
            ScheduleManager([{"path": path, "kind": "constant", "value": 1.0}], env)
    with pytest.raises(ValueError, match="only algo.config"):
        ScheduleManager([{"path": "actor_critic.init_noise_std", "kind": "constant", "value": 1.0}], env)
    env.close()
