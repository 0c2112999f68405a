"""Shared plumbing for neurokern.ops: accept NumPy or Tensor, return the same kind.

Every op follows one pattern:

    x_t, as_numpy = as_input(x)                 # wrap (no copy when possible)
    y = new_output(out, x_t.shape, x_t)         # allocate (or check a caller-supplied `out`)
    backend(x_t).relu_forward(y, x_t)           # the kernel (bindings check shapes and dtypes)
    return as_output(y, as_numpy)

`backend(t)` picks the compiled module for the tensor's device, so the same op (and every layer
built on it) runs on 'cpu' or 'cuda' by changing where the tensors live.
"""
import numpy as np

from neurokern import _core
from neurokern._core import Tensor
from neurokern.tensor import tensor as _tensor


def as_input(x, dtype="float32"):
    """(Tensor, was_numpy). Tensors pass through (dtype is checked by the kernel's binding)."""
    if isinstance(x, Tensor):
        return x, False
    if dtype == "float32" and not (isinstance(x, np.ndarray) or np.isscalar(x) or isinstance(x, (list, tuple))):
        raise TypeError(f"expected a NumPy array or neurokern Tensor, got {type(x).__name__}")
    arr = np.asarray(x)
    if dtype == "float32" and arr.dtype.kind not in "fiub":
        raise TypeError(f"expected numeric data, got dtype {arr.dtype}")
    return _tensor(arr, dtype=dtype), True


def as_output(t, as_numpy):
    return t.numpy() if as_numpy else t


def new_output(out, shape, like, dtype="float32"):
    """A fresh output tensor on `like`'s device, or the caller's `out` after checking it."""
    shape = tuple(int(s) for s in shape)
    if out is None:
        if like.device == "cpu":
            return _core.empty(list(shape), dtype)
        from neurokern import device as _device
        return _device.empty(shape, dtype, like.device)
    if not isinstance(out, Tensor):
        raise TypeError(f"out must be a neurokern Tensor, got {type(out).__name__}")
    if tuple(out.shape) != shape or out.dtype != dtype:
        raise ValueError(f"out has shape {tuple(out.shape)} and dtype {out.dtype}; "
                         f"expected shape {shape} and dtype {dtype}")
    return out


def backend(t):
    """The compiled module that runs kernels for tensor `t`'s device."""
    if t.device == "cpu":
        return _core
    from neurokern import device as _device
    return _device.backend(t.device)
