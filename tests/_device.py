"""Helpers for the CUDA kernel tests (tests/cuda): float32 device copies, NaN-filled outputs (an element
a kernel forgot to write stays NaN and fails), and a check of a device result against a float64
reference with the tolerance family of tests/_tol.py."""
import numpy as np

import neurokern as nk

from _tol import TOL


def cu(a, dtype=np.float32):
    return nk.tensor(np.ascontiguousarray(a, dtype=dtype), device="cuda")


def nan_cu(shape):
    return cu(np.full(shape, np.nan))


def check(t, expected, family="elementwise"):
    """t: a device tensor. Shape and dtype first, then values; NaN (an unwritten output) fails."""
    assert t.device == "cuda"
    a = t.numpy()
    assert a.shape == np.shape(expected) and a.dtype == np.float32
    np.testing.assert_allclose(a.astype(np.float64), expected, *TOL[family])
