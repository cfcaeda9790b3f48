"""Raw FSQ tokens from an external planner: the fourth input, which bypasses the encoder.

Token format (the trainer's FSQ, ``sonic_train/modules/fsq.py``): a latent of ``num_tokens * len(levels)``
values is split into ``num_tokens`` groups; in each group dimension ``i`` takes a digit ``k_i`` in
``0 .. L_i - 1`` (code value ``(k_i - floor(L_i / 2)) / floor(L_i / 2)``), and the token index is
``sum_i k_i * basis_i`` with ``basis = cumprod([1] + levels[:-1])``. A sender gives either indices
(``tokens``: T integers) or digits (``codes``: T x len(levels) integers).

Transports: WebSocket JSON ``{"type": "tokens", "tokens": [...]}`` or ``{"type": "tokens", "codes": [[...], ...]}``
through :class:`~sonic_deploy.teleop.server.StreamServer`; the ROS 2 node (or anything else) calls
:meth:`TokenStreamInput.push` / :meth:`TokenStreamInput.push_message` directly.

Dropout, as for the other live inputs: for ``age <= hold_time`` the last tokens are held; then each digit walks
(smoothstep in digit space, rounded to the grid) to the *safe tokens* over ``ease_time`` (the tokens of the
default standing pose, computed once by running the encoder on the standing reference, see
:meth:`sonic_deploy.policy.tokens.TokenPolicy.standing_tokens`); when tokens return, the digits walk back to the
live ones over ``resume_time``. :meth:`stamp` is the arrival time of the newest tokens, so the controller's
input watchdog damps after ``SafetyConfig.input_timeout`` (choose it >= hold_time + ease_time).
"""

from __future__ import annotations

import threading

import numpy as np

from sonic_deploy.inputs.base import ReferenceFrames
from sonic_deploy.inputs.vr_teleop import TeleopConfig
from sonic_deploy.utils.easing import smoothstep

_DROPOUT = TeleopConfig()  # one home for the live inputs' dropout times (the field configuration's teleop:)


class TokenFormatError(ValueError):
    pass


class FsqCodec:
    def __init__(self, levels, num_tokens: int):
        self.levels = np.asarray(levels, np.int64)
        if self.levels.ndim != 1 or len(self.levels) == 0 or (self.levels < 2).any():
            raise TokenFormatError(f"fsq_levels: expected a list of integers >= 2, got {levels!r}")
        self.num_tokens = int(num_tokens)
        self.basis = np.cumprod(np.concatenate([[1], self.levels[:-1]])).astype(np.int64)
        self.codebook_size = int(np.prod(self.levels))
        self.half = self.levels // 2

    def digits(self, indices) -> np.ndarray:
        idx = np.asarray(indices, np.int64)
        return (idx[..., None] // self.basis) % self.levels

    def indices(self, digits) -> np.ndarray:
        return (np.asarray(digits, np.int64) * self.basis).sum(-1)

    def codes(self, indices) -> np.ndarray:
        """Normalized code values [..., len(levels)] of token indices."""
        return (self.digits(indices) - self.half) / self.half

    def check_indices(self, tokens) -> np.ndarray:
        t = np.asarray(tokens)
        if t.shape != (self.num_tokens,) or not np.issubdtype(t.dtype, np.integer):
            raise TokenFormatError(f"field 'tokens': expected {self.num_tokens} integers, got {np.asarray(tokens).tolist()!r}"[:200])
        if (t < 0).any() or (t >= self.codebook_size).any():
            raise TokenFormatError(f"field 'tokens': indices must be in [0, {self.codebook_size}), got {t.tolist()}")
        return t.astype(np.int64)

    def check_digits(self, codes) -> np.ndarray:
        d = np.asarray(codes)
        if d.shape != (self.num_tokens, len(self.levels)) or not np.issubdtype(d.dtype, np.integer):
            raise TokenFormatError(f"field 'codes': expected {self.num_tokens} x {len(self.levels)} integers")
        if (d < 0).any() or (d >= self.levels).any():
            raise TokenFormatError(f"field 'codes': digit i must be in [0, levels[i]) with levels {self.levels.tolist()}")
        return d.astype(np.int64)


class TokenStreamInput:
    provides = frozenset({"tokens"})

    def __init__(self, levels, num_tokens: int, safe_tokens, *, hold_time: float = _DROPOUT.hold_time,
                 ease_time: float = _DROPOUT.ease_time, resume_time: float = _DROPOUT.resume_time):
        self.codec = FsqCodec(levels, num_tokens)
        self.safe = self.codec.check_indices(np.asarray(safe_tokens, np.int64))
        self.hold_time, self.ease_time, self.resume_time = float(hold_time), float(ease_time), float(resume_time)
        self._lock = threading.Lock()
        self._live: np.ndarray | None = None
        self._last_arrival = -np.inf
        self._resume_from: np.ndarray | None = None
        self._resume_start = 0.0
        self._last_out = self.codec.digits(self.safe).astype(np.float64)
        self._now = 0.0
        self.received = 0

    @classmethod
    def for_policy(cls, policy, **kw) -> "TokenStreamInput":
        c = policy.contract
        return cls(c.fsq_levels, c.num_tokens, policy.standing_tokens(), **kw)

    # --- transports ------------------------------------------------------------------------------------
    def push(self, tokens, now: float) -> None:
        t = self.codec.check_indices(np.asarray(tokens))
        with self._lock:
            if self._live is not None and now - self._last_arrival > self.hold_time:
                self._resume_from = self._last_out.copy()
                self._resume_start = now
            self._live = t
            self._last_arrival = now
            self.received += 1

    def push_message(self, msg: dict, now: float) -> None:
        if "tokens" in msg:
            self.push(msg["tokens"], now)
        elif "codes" in msg:
            self.push(self.codec.indices(self.codec.check_digits(msg["codes"])), now)
        else:
            raise TokenFormatError("tokens message: expected field 'tokens' (indices) or 'codes' (digits)")

    # --- ReferenceSource -------------------------------------------------------------------------------
    def start(self, state, now: float) -> None:
        pass

    def stamp(self, now: float) -> float:
        self._now = now
        return self._last_arrival

    def status(self, now: float) -> str:
        if self._live is None:
            return "waiting"
        age = now - self._last_arrival
        return "live" if age <= self.hold_time else ("easing" if age < self.hold_time + self.ease_time else "safe")

    def tokens_at(self, now: float) -> np.ndarray:
        with self._lock:
            safe = self.codec.digits(self.safe).astype(np.float64)
            if self._live is None:
                out = safe
            else:
                out = self.codec.digits(self._live).astype(np.float64)
                if self._resume_from is not None:
                    w = smoothstep((now - self._resume_start) / self.resume_time) if self.resume_time > 0 else 1.0
                    if w >= 1.0:
                        self._resume_from = None
                    else:
                        out = (1 - w) * self._resume_from + w * out
                age = now - self._last_arrival
                if age > self.hold_time:
                    w = smoothstep((age - self.hold_time) / self.ease_time) if self.ease_time > 0 else 1.0
                    out = (1 - w) * out + w * safe
            self._last_out = out
            return self.codec.indices(np.rint(out).astype(np.int64))

    def frames(self, times, state=None) -> ReferenceFrames:
        return ReferenceFrames(times=np.atleast_1d(np.asarray(times, np.float64)), tokens=self.tokens_at(self._now))
