"""Read the original training code's motion PKL files without ever executing what a pickle asks for.

Those files are written by ``joblib.dump``: a pickle stream in which every numpy array is a joblib
``NumpyArrayWrapper`` record followed by the raw array bytes. This unpickler resolves exactly the globals such a
file needs (joblib's wrapper, numpy's array and dtype reconstruction, OrderedDict) and refuses every other global,
so a file carrying an object reference (``os.system``, a class with ``__reduce__``) fails before anything runs.
Plain ``pickle.dump`` files of dicts and numpy arrays load too. joblib itself is not needed.
"""

from __future__ import annotations

import bz2
import collections
import gzip
import io
import lzma
import pickle
import zlib
from pathlib import Path

import numpy as np


class UnsafePickleError(pickle.UnpicklingError):
    """The file asks for something other than plain containers and numeric arrays."""


class _ArrayRecord:
    """Stands in for joblib's NumpyArrayWrapper: holds shape/dtype/order until the raw bytes are read."""


def _numpy_global(name: str):
    core = getattr(np, "_core", None) or np.core
    return {"_reconstruct": core.multiarray._reconstruct, "scalar": core.multiarray.scalar}[name]


_ALLOWED = {
    ("numpy", "ndarray"): lambda: np.ndarray,
    ("numpy", "dtype"): lambda: np.dtype,
    ("numpy.core.multiarray", "_reconstruct"): lambda: _numpy_global("_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"): lambda: _numpy_global("_reconstruct"),
    ("numpy.core.multiarray", "scalar"): lambda: _numpy_global("scalar"),
    ("numpy._core.multiarray", "scalar"): lambda: _numpy_global("scalar"),
    ("joblib.numpy_pickle", "NumpyArrayWrapper"): lambda: _ArrayRecord,
    ("collections", "OrderedDict"): lambda: collections.OrderedDict,
}


class SafeUnpickler(pickle._Unpickler):  # the pure-Python unpickler: its BUILD step can be intercepted
    dispatch = dict(pickle._Unpickler.dispatch)

    def __init__(self, file, source: str):
        super().__init__(file)
        self.source = source

    def find_class(self, module: str, name: str):
        factory = _ALLOWED.get((module, name))
        if factory is None:
            raise UnsafePickleError(f"{self.source}: refuses to load global '{module}.{name}' "
                                    "(only dicts, lists and numeric numpy arrays are accepted)")
        return factory()

    def persistent_load(self, pid):
        raise UnsafePickleError(f"{self.source}: persistent references are not accepted")

    def _load_build(self):
        state = self.stack.pop()
        inst = self.stack[-1]
        if isinstance(inst, _ArrayRecord):
            self.stack[-1] = self._read_array(state)
        elif isinstance(inst, (np.ndarray, np.dtype)):
            inst.__setstate__(state)
        else:
            raise UnsafePickleError(f"{self.source}: refuses to set state on {type(inst).__name__}")

    dispatch[pickle.BUILD[0]] = _load_build

    def _read_array(self, state) -> np.ndarray:
        if not isinstance(state, dict) or not {"shape", "dtype", "order"} <= set(state):
            raise UnsafePickleError(f"{self.source}: malformed array record")
        dtype = state["dtype"]
        if not isinstance(dtype, np.dtype) or dtype.hasobject:
            raise UnsafePickleError(f"{self.source}: arrays of Python objects are not accepted")
        if state.get("subclass", np.ndarray) is not np.ndarray:
            raise UnsafePickleError(f"{self.source}: array subclasses are not accepted")
        if state.get("numpy_array_alignment_bytes") is not None:
            pad = self.read(1)
            if pad:
                self.read(pad[0])
        shape = tuple(int(s) for s in state["shape"])
        count = int(np.prod(shape, dtype=np.int64)) if shape else 1
        data = self.read(count * dtype.itemsize)
        if len(data) != count * dtype.itemsize:
            raise pickle.UnpicklingError(f"{self.source}: array data truncated")
        array = np.frombuffer(data, dtype=dtype, count=count).copy()
        if state["order"] == "F":
            return array.reshape(shape[::-1]).transpose()
        return array.reshape(shape)


def _decompress(raw: bytes) -> bytes:
    if raw[:2] == b"\x1f\x8b":
        return gzip.decompress(raw)
    if raw[:3] == b"BZh":
        return bz2.decompress(raw)
    if raw[:6] == b"\xfd7zXZ\x00" or raw[:3] == b"]\x00\x00":
        return lzma.decompress(raw)
    if raw[:1] == b"\x78":
        return zlib.decompress(raw)
    return raw


def safe_load_pickle(path: str | Path):
    path = Path(path)
    try:
        raw = _decompress(path.read_bytes())
    except (OSError, zlib.error, lzma.LZMAError, EOFError) as exc:
        raise pickle.UnpicklingError(f"{path}: cannot read ({exc})") from None
    try:
        return SafeUnpickler(io.BytesIO(raw), str(path)).load()
    except UnsafePickleError:
        raise
    except Exception as exc:  # truncated or corrupt stream
        raise pickle.UnpicklingError(f"{path}: not a readable pickle ({type(exc).__name__}: {exc})") from None
