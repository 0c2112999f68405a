"""Device placement: 'cpu' (neurokern._core) and 'cuda' (neurokern.cuda.backend()).

A Tensor lives on one device; ops run where their tensors live (ops/_util.py: `backend(t)`), so no layer
knows about devices. This module creates tensors on a device, copies between devices, and holds the
default device that `nk.tensor(numpy_array)`, `nk.empty` and `nk.zeros` use when given no device.
Models and layers run their calls with the default device set to where their weights live
(`default_device(...)`), so the tensors they make from NumPy inputs land next to the weights.
"""
import contextlib

import numpy as np

from neurokern import _core
from neurokern._core import Tensor

__all__ = ["normalize", "set_default_device", "get_default_device", "default_device", "backend",
           "to_device", "empty", "zeros", "copy_into"]

_default = ["cpu"]


def normalize(device):
    """'cpu' or 'cuda' for a device name ('cpu', 'cuda', 'cuda:0'); raises on anything else."""
    if isinstance(device, str):
        if device in ("cpu", "cuda"):
            return device
        if device.startswith("cuda:") and device[5:].isdigit():
            if int(device[5:]) == 0:
                return "cuda"
            raise ValueError(f"neurokern uses one CUDA device, 'cuda' (= 'cuda:0'); {device!r} is not supported "
                             f"(choose the GPU with CUDA_VISIBLE_DEVICES). Received: device={device!r}")
    raise ValueError(f"unknown device: use 'cpu', 'cuda' or 'cuda:0'. Received: device={device!r}")


def set_default_device(device):
    """Where `nk.tensor(array)`, `nk.empty` and `nk.zeros` (and models not moved with .to) put new tensors."""
    device = normalize(device)
    if device == "cuda":
        backend("cuda")  # fail now, with the opt-in message, rather than at the first tensor
    _default[0] = device


def get_default_device():
    return _default[0]


@contextlib.contextmanager
def default_device(device):
    """Temporarily make `device` the default (used by Model and Layer calls)."""
    device = normalize(device)
    old = _default[0]
    _default[0] = device
    try:
        yield
    finally:
        _default[0] = old


def backend(device):
    """The compiled module that runs kernels on `device`."""
    if device == "cpu":
        return _core
    if normalize(device) == "cpu":
        return _core
    from neurokern import cuda
    return cuda.backend()


def _owner(t):
    """The CUDA module that allocated device tensor `t` (the active one, or an earlier one)."""
    from neurokern import cuda
    for mod in cuda._loaded_backends():
        if mod.owns(t):
            return mod
    raise RuntimeError(f"no loaded CUDA backend owns this {t.device} tensor")


def to_device(t, device):
    """`t` on `device`: the same Tensor if it is already there, else a copy."""
    device = normalize(device)
    if t.device == device:
        return t
    if device == "cpu":
        return _owner(t).to_host(t)
    return backend(device).to_device(t)


def empty(shape, dtype, device):
    device = normalize(device)
    return backend(device).empty([int(s) for s in shape], dtype)


def zeros(shape, dtype, device):
    device = normalize(device)
    return backend(device).zeros([int(s) for s in shape], dtype)


def copy_into(dst, src):
    """Copy `src` (a NumPy array or Tensor of dst's shape; cast to dst's dtype) into Tensor `dst` in place."""
    if isinstance(src, Tensor):
        if tuple(src.shape) != tuple(dst.shape):
            raise ValueError(f"copy_into: shapes differ: dst {tuple(dst.shape)}, src {tuple(src.shape)}")
        if src.dtype == dst.dtype and dst.device != "cpu":
            _owner(dst).copy_(dst, src)
            return dst
        src = src.numpy()
    src = np.asarray(src)
    if tuple(src.shape) != tuple(dst.shape):
        raise ValueError(f"copy_into: shapes differ: dst {tuple(dst.shape)}, src {tuple(src.shape)}")
    if dst.device == "cpu":
        np.copyto(dst.numpy(), src, casting="unsafe")
    else:
        host = np.ascontiguousarray(src, dtype=dst.dtype)
        _owner(dst).copy_(dst, _core.from_numpy(host if host.flags.writeable else host.copy()))
    return dst


def _host_numpy(t):
    """A NumPy copy of device tensor `t` (what Tensor.numpy() returns for a 'cuda' tensor)."""
    return _owner(t).numpy(t)


def wrap_cuda_array(obj):
    """A 'cuda' Tensor sharing the memory of `obj`, which exposes __cuda_array_interface__ (CuPy, PyTorch,
    Numba arrays). No copy: `obj` stays alive as long as the tensor does."""
    from neurokern import cuda
    mod = cuda.backend()
    if cuda.is_emulated():
        raise RuntimeError("cannot wrap a __cuda_array_interface__ array on the CUDA emulator: its pointer is GPU "
                           "memory. Copy it to the host first (e.g. cupy.asnumpy(x)).")
    cai = obj.__cuda_array_interface__
    shape = tuple(int(d) for d in cai["shape"])
    typestr = cai["typestr"]
    dtypes = {"<f4": "float32", "<i4": "int32", "<i8": "int64"}
    if typestr not in dtypes:
        raise TypeError(f"cannot wrap a CUDA array of type {typestr!r}: neurokern tensors hold float32, int32 or "
                        f"int64 (convert it first, e.g. x.astype('float32'))")
    dtype = dtypes[typestr]
    strides = cai.get("strides")
    if strides is not None:
        itemsize = np.dtype(dtype).itemsize
        expected, step = [], itemsize
        for d in reversed(shape):
            expected.append(step)
            step *= max(d, 1)
        if tuple(strides) != tuple(reversed(expected)) and int(np.prod(shape)) > 1:
            raise ValueError("cannot wrap a non-contiguous CUDA array without copying: pass a C-contiguous one "
                             "(e.g. cupy.ascontiguousarray(x))")
    if cai.get("mask") is not None:
        raise ValueError("cannot wrap a masked CUDA array")
    ptr, _readonly = cai["data"]
    stream = cai.get("stream")
    if stream not in (None, 1, 2):
        # neurokern launches on the default stream: let the producer's stream finish first
        mod.synchronize()
    return mod.wrap(int(ptr), list(shape), dtype, obj)
