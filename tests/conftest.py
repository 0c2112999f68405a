"""Fixtures shared by the whole suite.

- `isa`: runs a test once per SIMD path this CPU has (scalar, avx2, avx512), restoring it after.
- `nan_tensor(shape)`: an output pre-filled with NaN, so a kernel that forgets to write fails.
- `assert_close(actual, expected, family)`: checks shape and dtype first, then values with the
  tolerance from tests/_tol.py; NaN or inf where the reference is finite fails.
"""
import os

import numpy as np
import pytest

import neurokern as nk
from neurokern import ops

from _tol import TOL


@pytest.fixture(params=ops.available_isas())
def isa(request):
    prev = ops.set_isa(request.param)
    try:
        yield request.param
    finally:
        ops.set_isa(prev)


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def nan_tensor(shape, dtype="float32"):
    arr = np.full(shape, np.nan, dtype=np.float32) if dtype == "float32" else \
        np.full(shape, -7, dtype=dtype)
    return nk.tensor(arr)


def assert_close(actual, expected, family, dtype=np.float32):
    actual = np.asarray(actual)
    expected = np.asarray(expected)
    assert actual.shape == expected.shape, f"shape {actual.shape} != expected {expected.shape}"
    assert actual.dtype == dtype, f"dtype {actual.dtype} != expected {np.dtype(dtype)}"
    assert np.all(np.isfinite(expected)), "reference is not finite: fix the test inputs"
    rtol, atol = TOL[family]
    # assert_allclose fails on NaN/inf in `actual` when `expected` is finite
    np.testing.assert_allclose(actual.astype(np.float64), expected.astype(np.float64),
                               rtol=rtol, atol=atol)


@pytest.fixture
def close():
    return assert_close


def pytest_report_header(config):
    return (f"neurokern {nk.__version__}: cpu_isa={ops.cpu_isa()} threads={nk.get_num_threads()} "
            f"NEUROKERN_ISA={os.environ.get('NEUROKERN_ISA', '')!r}")
