"""Observation terms as pure numpy functions (quaternions w, x, y, z; "pelvis frame" = root body frame).

The training env implements the same formulas in torch; a parity test compares them to 1e-6. Every
function accepts leading batch dimensions. R(q) is the rotation matrix of q; R_yaw(q) the rotation about z
by the heading of q (heading = atan2 of the rotated x axis' y and x components).
"""

from __future__ import annotations

import numpy as np

from sonic_deploy.utils.rotations import matrix_to_6d, quat_to_matrix, yaw_matrix, yaw_of


# --- proprioception -----------------------------------------------------------------------------------
def base_ang_vel(pelvis_quat: np.ndarray, ang_vel_w: np.ndarray) -> np.ndarray:
    """[3] pelvis angular velocity in the pelvis frame: R_pelvis^T w_world (on the robot: the pelvis IMU gyro)."""
    return np.einsum("...ji,...j->...i", quat_to_matrix(pelvis_quat), ang_vel_w)


def projected_gravity(pelvis_quat: np.ndarray) -> np.ndarray:
    """[3] R_pelvis^T (0, 0, -1): minus the third row of R(q), written out (one small array, no matrix)."""
    q = np.asarray(pelvis_quat, np.float64)
    w, x, y, z = q[..., 0], q[..., 1], q[..., 2], q[..., 3]
    return np.stack([2 * (w * y - x * z), -2 * (y * z + w * x), 2 * (x * x + y * y) - 1], axis=-1)


def joint_pos_rel(q: np.ndarray, default_q: np.ndarray) -> np.ndarray:
    """[29] q - default."""
    return np.asarray(q, np.float64) - default_q


def joint_vel(dq: np.ndarray) -> np.ndarray:
    """[29] dq."""
    return np.asarray(dq, np.float64)


def last_action(action: np.ndarray) -> np.ndarray:
    """[29] the previous raw policy action."""
    return np.asarray(action, np.float64)


# --- encoder terms (reference frames k = 0..F-1 at t + k future_dt, frame-major) ----------------------
def command_joint_pos_future(q_ref: np.ndarray, default_q: np.ndarray) -> np.ndarray:
    """[F*29] q_ref(t + k dt) - default, frame-major. q_ref: [..., F, 29]."""
    d = np.asarray(q_ref, np.float64) - default_q
    return d.reshape(d.shape[:-2] + (-1,))


def command_joint_vel_future(dq_ref: np.ndarray) -> np.ndarray:
    """[F*29] dq_ref(t + k dt), frame-major. dq_ref: [..., F, 29]."""
    d = np.asarray(dq_ref, np.float64)
    return d.reshape(d.shape[:-2] + (-1,))


def command_anchor_ori_future(robot_pelvis_quat: np.ndarray, ref_pelvis_quat: np.ndarray) -> np.ndarray:
    """[F*6] 6D (col0, col1) of R_robot_pelvis^T R_ref_pelvis(t + k dt). robot: [..., 4]; ref: [..., F, 4]."""
    q = np.asarray(ref_pelvis_quat, np.float64)
    w, x, y, z = q[..., 0], q[..., 1], q[..., 2], q[..., 3]
    cols = np.stack([1 - 2 * (y * y + z * z), 2 * (x * y + w * z), 2 * (x * z - w * y),  # R_ref's column 0
                     2 * (x * y - w * z), 1 - 2 * (x * x + z * z), 2 * (y * z + w * x)], axis=-1)  # and column 1
    cols = cols.reshape(cols.shape[:-1] + (2, 3))
    six = cols @ quat_to_matrix(robot_pelvis_quat)[..., None, :, :]  # row j: (R_robot^T R_ref[:, j])^T
    return six.reshape(six.shape[:-3] + (-1,))


def _col_table() -> tuple[np.ndarray, np.ndarray]:
    """R(q)'s columns 0 and 1 as K + (q_i q_j) @ M: the products q_i q_j (index 4 i + j) times 0 or +-2, so each
    entry is the written-out formula's value (1 - 2 (a + b) or 2 (a +- b); scaling by 2 and adding zeros are exact)."""
    m, k = np.zeros((16, 6)), np.zeros(6)
    terms = [(10, 15, 1.0), (6, 3, 1.0), (7, 2, -1.0), (6, 3, -1.0), (5, 15, 1.0), (11, 1, 1.0)]  # (a, b, sign of b)
    for col, (a, b, sign) in enumerate(terms):
        f = -2.0 if col in (0, 4) else 2.0  # 1 - 2 (...) on the diagonal
        m[a, col] += f
        m[b, col] += f * sign
        k[col] = 1.0 if col in (0, 4) else 0.0
    return k, m


_COL_K, _COL_M = _col_table()


def command_anchor_ori_future_one(robot_pelvis_quat: np.ndarray, ref_pelvis_quat: np.ndarray) -> np.ndarray:
    """:func:`command_anchor_ori_future` for one robot quaternion [4] and the reference frames [F, 4], the same
    values (checked bitwise) with a handful of numpy calls, the deploy step's path: the reference columns from the
    table of products, R_robot in plain floats."""
    q = np.asarray(ref_pelvis_quat, np.float64)
    cols = _COL_K + (q[:, :, None] * q[:, None, :]).reshape(-1, 16) @ _COL_M  # R_ref's columns 0, 1 per frame
    w, x, y, z = (float(v) for v in robot_pelvis_quat)
    r = np.array([1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y),
                  2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x),
                  2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)]).reshape(3, 3)
    return (cols.reshape(-1, 3) @ r).reshape(-1)  # row j of each frame: (R_robot^T R_ref[:, j])^T


def smpl_joints_future(ref_pelvis_pos: np.ndarray, ref_pelvis_quat: np.ndarray, smpl_joints: np.ndarray) -> np.ndarray:
    """[F*72] R_yaw(ref pelvis at t)^T (p_smpl(t + k dt) - p_ref_pelvis(t)). pos [..., 3], quat [..., 4], smpl [..., F, 24, 3]."""
    d = np.asarray(smpl_joints, np.float64) - ref_pelvis_pos[..., None, None, :]
    local = np.einsum("...ji,...fbj->...fbi", yaw_matrix(yaw_of(ref_pelvis_quat)), d)
    return local.reshape(local.shape[:-3] + (-1,))


def vr_3point_pos(ref_pelvis_pos: np.ndarray, ref_pelvis_quat: np.ndarray, vr_pos: np.ndarray) -> np.ndarray:
    """[9] R_yaw(ref pelvis at t)^T (p_vr(t) - p_ref_pelvis(t)) for head, left wrist, right wrist. vr_pos [..., 3, 3]."""
    d = np.asarray(vr_pos, np.float64) - ref_pelvis_pos[..., None, :]
    local = np.einsum("...ji,...bj->...bi", yaw_matrix(yaw_of(ref_pelvis_quat)), d)
    return local.reshape(local.shape[:-2] + (-1,))


def vr_3point_ori(ref_pelvis_quat: np.ndarray, vr_quat: np.ndarray) -> np.ndarray:
    """[18] 6D (col0, col1) of R_yaw(ref pelvis at t)^T R_vr(t) for the three points. vr_quat [..., 3, 4]."""
    rel = np.einsum("...ji,...bjk->...bik", yaw_matrix(yaw_of(ref_pelvis_quat)), quat_to_matrix(vr_quat))
    six = matrix_to_6d(rel)
    return six.reshape(six.shape[:-2] + (-1,))


# --- history ------------------------------------------------------------------------------------------
class GroupHistory:
    """One input vector's terms with their histories, kept as the float32 vector itself: each term's block is its
    last ``history`` values oldest first, flattened term-major (the layout of the training observation manager's
    history, ``sonic_train/envs/managers/observation_manager.py``, and of the contract, so the export writes the
    actor's input as it is and nothing is permuted); a fresh history holds the first value throughout, as training
    does for a reset env; one push shifts every block and writes the newest values with a single gather.

    A step writes its terms' scaled float64 values into :attr:`new` (term after term, one value of each) and calls
    :meth:`push`; the float32 cast happens once there, as the per-term float64 histories cast at the end."""

    def __init__(self, shapes: list[tuple[int, int]]):
        """``shapes``: (history, dim) of each term, in the vector's order."""
        self.size = sum(h * d for h, d in shapes)
        self.new = np.empty(sum(d for _, d in shapes), np.float64)
        self._src = np.zeros(self.size + len(self.new), np.float32)  # [last vector | this step's values]
        shift, fill = [], []
        off = new = 0
        for h, d in shapes:
            block = np.arange(h * d).reshape(h, d)
            src = off + block + d  # each value from the next-newer slot ...
            src[-1] = self.size + new + np.arange(d)  # ... the newest from this step's values
            shift.append(src.reshape(-1))
            fill.append(np.broadcast_to(src[-1], (h, d)).reshape(-1))
            off, new = off + h * d, new + d
        self._shift = np.concatenate(shift) if shift else np.zeros(0, np.int64)
        self._fill = np.concatenate(fill) if fill else np.zeros(0, np.int64)
        self.filled = False
        self._plain = all(h == 1 for h, _ in shapes)

    def reset(self) -> None:
        self.filled = False

    def push(self) -> np.ndarray:
        """Append :attr:`new` and return the vector, [1, size] float32 (a new array)."""
        if self._plain:
            return self.new.astype(np.float32)[None]  # no term keeps a history: the vector is this step's values
        src = self._src
        src[self.size:] = self.new
        out = src.take(self._shift if self.filled else self._fill)
        src[:self.size] = out
        self.filled = True
        return out[None]
