"""Creating tensors and moving data between NumPy and neurokern without copies where possible."""
import numpy as np

from neurokern import _core
from neurokern import device as _device
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


def tensor(data, dtype=None, device=None):
    """A Tensor holding `data` (array-like, Tensor, or a GPU array with __cuda_array_interface__).

    On the cpu, a C-contiguous writable NumPy array of a supported dtype is wrapped without a copy (the tensor
    shares its memory). Floating data defaults to float32 and integer data to int64 (int32 stays int32), as
    Keras does for inputs; anything else is copied into a new contiguous array.

    `device` is 'cpu' or 'cuda'. None means: a Tensor's (or GPU array's) own device, else the default device
    (`nk.set_default_device`). A Tensor already on `device` with the right dtype is returned as is; a CuPy
    (or other __cuda_array_interface__) array is wrapped on 'cuda' without a copy.
    """
    dtype = _check_dtype(dtype)
    target = None if device is None else _device.normalize(device)
    if isinstance(data, Tensor):
        target = data.device if target is None else target
        if dtype is not None and data.dtype != dtype:
            data = tensor(data.numpy(), dtype=dtype, device="cpu")
        return _device.to_device(data, target)
    if hasattr(data, "__cuda_array_interface__") and not isinstance(data, np.ndarray):
        t = _device.wrap_cuda_array(data)
        if dtype is not None and t.dtype != dtype:
            raise TypeError(f"cannot change the dtype of a CUDA array while wrapping it without a copy: convert it "
                            f"first (x.astype({dtype!r})). Received: dtype={dtype!r}, array dtype {t.dtype}")
        return _device.to_device(t, "cuda" if target is None else target)
    if target is None:
        target = _device.get_default_device()
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
    t = _core.from_numpy(arr)
    return t if target == "cpu" else _device.to_device(t, target)


def empty(shape, dtype="float32", device=None):
    """An uninitialised tensor on `device` (None: the default device)."""
    _check_dtype(dtype)
    device = _device.get_default_device() if device is None else _device.normalize(device)
    if device != "cpu":
        return _device.empty(tuple(shape), dtype, device)
    return _core.empty(list(shape), dtype)


def zeros(shape, dtype="float32", device=None):
    """A zero-filled tensor on `device` (None: the default device)."""
    _check_dtype(dtype)
    device = _device.get_default_device() if device is None else _device.normalize(device)
    if device != "cpu":
        return _device.zeros(tuple(shape), dtype, device)
    return _core.zeros(list(shape), dtype)


def set_default_device(device):
    """Put new tensors (nk.tensor of NumPy data, nk.empty, nk.zeros, weights of models not moved with
    .to()) on `device`: 'cpu' (the initial default) or 'cuda'."""
    _device.set_default_device(device)


def get_default_device():
    return _device.get_default_device()


def set_num_threads(n):
    """Number of OpenMP threads the CPU kernels use (default: one per core)."""
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"set_num_threads needs a positive integer. Received: n={n!r}")
    _core.set_num_threads(n)


def get_num_threads():
    return _core.get_num_threads()


# ---- methods and interop protocols added to the compiled Tensor class -------------------------------------
# (here rather than in C++ because they depend on which CUDA module owns a device tensor)

def _to(self, device):
    """This tensor on `device` ('cpu', 'cuda'): itself if already there, else a copy."""
    return _device.to_device(self, device)


def _gpu_memory_only(t, what):
    # An emulated 'cuda' tensor lives in host memory: handing its pointer to CuPy/PyTorch as GPU memory
    # would be wrong, so refuse by name.
    if _device._owner(t).is_emulated():
        raise BufferError(f"{what}: this 'cuda' tensor lives on the CPU emulator (host memory), not on a GPU; "
                          "copy it with .numpy() instead")


_TYPESTR = {"float32": "<f4", "int32": "<i4", "int64": "<i8"}


def _cuda_array_interface(self):
    if self.device == "cpu":
        raise AttributeError("a cpu tensor has no __cuda_array_interface__: move it with .to('cuda')")
    try:
        _gpu_memory_only(self, "__cuda_array_interface__")
    except BufferError as e:
        raise AttributeError(str(e)) from None
    # stream 1: the legacy default stream, where every neurokern kernel runs; consumers sync with it.
    return {"shape": tuple(self.shape), "typestr": _TYPESTR[self.dtype], "data": (self.data_ptr, False),
            "strides": None, "version": 3, "stream": 1}


_KDLCPU, _KDLCUDA = 1, 2


def _dlpack_device(self):
    if self.device == "cpu":
        return (_KDLCPU, 0)
    _gpu_memory_only(self, "__dlpack_device__")
    return (_KDLCUDA, 0)


def _dlpack(self, *, stream=None, max_version=None, dl_device=None, copy=None):
    """Export as a DLPack capsule (legacy, unversioned), sharing memory unless copy=True."""
    dev = _dlpack_device(self)
    if dl_device is not None and tuple(dl_device) != dev:
        raise BufferError(f"__dlpack__: this tensor is on {self.device} (DLPack device {dev}); cannot export to "
                          f"{tuple(dl_device)}. Move it with .to() first")
    t = self
    if copy:
        t = tensor(np.array(self.numpy()), device="cpu") if self.device == "cpu" else _device._owner(self).copy(self)
    if dev[0] == _KDLCPU:
        if stream is not None:
            raise BufferError(f"__dlpack__: stream must be None for a cpu tensor. Received: stream={stream!r}")
    elif stream != -1:
        # kernels run asynchronously on the default stream: finish them before the consumer reads
        _device._owner(self).synchronize()
    return t._to_dlpack(dev[0], dev[1])


Tensor.to = _to
Tensor.__cuda_array_interface__ = property(_cuda_array_interface)
Tensor.__dlpack_device__ = _dlpack_device
Tensor.__dlpack__ = _dlpack
