"""Real-GPU tests (neurokern._cuda on a CUDA device): zero-copy interop with CuPy and kernels against CuPy.

Every test takes the `real_gpu` fixture (conftest.py), so without a GPU they skip with the reason shown;
CuPy tests also skip when CuPy is missing (pip install neurokern[cuda]).
"""
import numpy as np
import pytest

import neurokern as nk
from neurokern import ops


@pytest.fixture
def cupy(real_gpu):
    return pytest.importorskip("cupy", reason="CuPy is not installed (pip install neurokern[cuda])")


def test_real_backend_is_not_the_emulator(real_gpu):
    assert not real_gpu.is_emulated() and not nk.cuda.is_emulated()
    assert nk.cuda.device_count() >= 1
    t = nk.tensor(np.arange(5, dtype=np.float32), device="cuda")
    np.testing.assert_array_equal(t.numpy(), np.arange(5, dtype=np.float32))


def test_cuda_array_interface_exports_without_copy(cupy):
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    t = nk.tensor(a, device="cuda")
    cai = t.__cuda_array_interface__
    assert cai["shape"] == (3, 4) and cai["typestr"] == "<f4" and cai["version"] == 3
    v = cupy.asarray(t)  # a view: writes through CuPy show up in the tensor
    assert v.data.ptr == t.data_ptr
    v[1, 2] = -5.0
    assert t.numpy()[1, 2] == -5.0


@pytest.mark.parametrize("dtype", ["float32", "int32", "int64"])
def test_cupy_array_wraps_without_copy(cupy, dtype):
    c = cupy.arange(7, dtype=dtype)
    t = nk.tensor(c)
    assert t.device == "cuda" and t.dtype == dtype and t.shape == (7,)
    assert t.data_ptr == c.data.ptr
    c[3] = 100
    assert t.numpy()[3] == 100
    del c  # the tensor keeps the CuPy array alive
    assert t.numpy()[6] == 6


def test_non_contiguous_cupy_array_is_refused(cupy):
    c = cupy.arange(12, dtype=cupy.float32).reshape(3, 4)[:, ::2]
    with pytest.raises(ValueError, match="non-contiguous"):
        nk.tensor(c)


def test_dlpack_round_trip_with_cupy(cupy):
    t = nk.tensor(np.arange(6, dtype=np.float32), device="cuda")
    assert t.__dlpack_device__() == (2, 0)
    v = cupy.from_dlpack(t)
    assert v.data.ptr == t.data_ptr
    np.testing.assert_array_equal(cupy.asnumpy(v), np.arange(6, dtype=np.float32))


@pytest.mark.parametrize("m,k,n", [(1, 1, 1), (7, 33, 257), (64, 784, 10)])
def test_gemm_matches_cupy(cupy, m, k, n):
    rng = np.random.default_rng(m + k + n)
    a = rng.standard_normal((m, k)).astype(np.float32)
    b = rng.standard_normal((k, n)).astype(np.float32)
    c = ops.matmul(nk.tensor(a, device="cuda"), nk.tensor(b, device="cuda"))
    ref = cupy.asnumpy(cupy.asarray(a) @ cupy.asarray(b))
    np.testing.assert_allclose(c.numpy(), ref, rtol=1e-4, atol=1e-4)


def test_relu_and_softmax_match_cupy(cupy):
    x = np.random.default_rng(0).standard_normal((33, 257)).astype(np.float32)
    xt = nk.tensor(x, device="cuda")
    xc = cupy.asarray(x)
    np.testing.assert_array_equal(ops.relu(xt).numpy(), cupy.asnumpy(cupy.maximum(xc, 0)))
    e = cupy.exp(xc - xc.max(axis=1, keepdims=True))
    np.testing.assert_allclose(ops.softmax(xt).numpy(), cupy.asnumpy(e / e.sum(axis=1, keepdims=True)),
                               rtol=1e-5, atol=1e-6)
