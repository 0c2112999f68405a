"""Creating tensors and moving data between NumPy and neurokern without copies where possible."""
import numpy as np

from neurokern import _core
from neurokern._core import Tensor

_DTYPES = {"float32": np.float32, "int32": np.int32, "int64": np.int64}


def _check_dtype(dtype):
    if dtype is None:
        return None
    name = np.dtype(dtype).name if not isinstance(dtype, str) else dtype
    if name not in _DTYPES:
        raise ValueError(
            f"neurokern tensors hold float32, int32 or int64; got dtype {dtype!r}. "
            f"Received: dtype={dtype!r}")
    return name


def tensor(data, dtype=None, device="cpu"):
    """A Tensor holding `data` (array-like or Tensor).

    A C-contiguous writable NumPy array of a supported dtype is wrapped without a copy (the tensor
    shares its memory). Floating data defaults to float32 and integer data to int64 (int32 stays
    int32), as Keras does for inputs; anything else is copied into a new contiguous array.
    """
    dtype = _check_dtype(dtype)
    if device != "cpu":
        from neurokern import device as _device
        return _device.to_device(tensor(data, dtype=dtype), device)
    if isinstance(data, Tensor):
        if dtype is None or data.dtype == dtype:
            return data
        data = data.numpy()
    arr = np.asarray(data)
    if dtype is None:
        if arr.dtype.kind == "f" or arr.dtype.kind == "b":
            dtype = "float32"
        elif arr.dtype.kind in "iu":
            dtype = "int32" if arr.dtype == np.int32 else "int64"
        else:
            raise TypeError(f"cannot make a tensor from data of dtype {arr.dtype}: "
                            "pass numbers (float or int). Received: data dtype=" + str(arr.dtype))
    arr = np.asarray(arr, dtype=_DTYPES[dtype], order="C")  # keeps 0-d arrays 0-d
    if not arr.flags.writeable:
        arr = arr.copy()
    return _core.from_numpy(arr)


def empty(shape, dtype="float32", device="cpu"):
    """An uninitialised tensor."""
    _check_dtype(dtype)
    if device != "cpu":
        from neurokern import device as _device
        return _device.empty(tuple(shape), dtype, device)
    return _core.empty(list(shape), dtype)


def zeros(shape, dtype="float32", device="cpu"):
    """A zero-filled tensor."""
    _check_dtype(dtype)
    if device != "cpu":
        from neurokern import device as _device
        return _device.zeros(tuple(shape), dtype, device)
    return _core.zeros(list(shape), dtype)


def set_num_threads(n):
    """Number of OpenMP threads the CPU kernels use (default: one per core)."""
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"set_num_threads needs a positive integer. Received: n={n!r}")
    _core.set_num_threads(n)


def get_num_threads():
    return _core.get_num_threads()
