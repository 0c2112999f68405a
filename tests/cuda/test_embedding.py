"""CUDA Embedding gather / scatter-add (csrc/cuda/embedding.cu) on the emulator: both variants
(atomic = auto, naive), int32 and int64 indices, repeated indices in the backward (ACCUMULATES through
atomicAdd without losing updates), bad indices raise IndexError before anything is written."""
import numpy as np
import pytest

import neurokern as nk
from neurokern import cuda

from conftest import assert_close

VARIANTS = ["naive", "atomic", "auto"]


def dev(a):
    return nk.tensor(np.array(a), device="cuda")  # np.array: a C-contiguous copy that keeps 0-d shapes


def nan_dev(shape):
    return dev(np.full(shape, np.nan, np.float32))


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("itype", [np.int32, np.int64])
@pytest.mark.parametrize("shape,V,D", [((1,), 1, 1), ((3, 7), 11, 5), ((2, 3, 4), 7, 257), ((33,), 1000, 7)])
def test_forward(rng, variant, itype, shape, V, D):
    W = rng.standard_normal((V, D)).astype(np.float32)
    idx = rng.integers(0, V, shape).astype(itype)
    y = nan_dev(shape + (D,))
    cuda.backend().embedding_forward(y, dev(idx), dev(W), variant)
    np.testing.assert_array_equal(y.numpy(), W[idx])  # a gather is exact


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("itype", [np.int32, np.int64])
@pytest.mark.parametrize("shape,V,D", [((1,), 1, 1), ((3, 7), 4, 5), ((40, 25), 3, 16), ((257,), 1, 3)])
def test_backward_repeated_indices_accumulate(rng, variant, itype, shape, V, D):
    """Few vocabulary rows, many positions: every dW row is hit many times by concurrent threads."""
    dy = rng.standard_normal(shape + (D,)).astype(np.float32)
    idx = rng.integers(0, V, shape).astype(itype)
    dW = dev(np.full((V, D), 0.5, np.float32))
    cuda.backend().embedding_backward(dW, dev(dy), dev(idx), variant)
    want = np.full((V, D), 0.5)
    np.add.at(want, idx.reshape(-1), dy.reshape(-1, D).astype(np.float64))
    assert_close(dW.numpy(), want, "reduce")


def test_backward_no_update_lost_with_exact_sums():
    """Integer-valued dy: float sums are exact in any order, so an atomic that lost an update would show."""
    idx = np.zeros(1000, np.int64)
    idx[::3] = 2
    dy = np.ones((1000, 4), np.float32)
    dW = dev(np.zeros((3, 4), np.float32))
    cuda.backend().embedding_backward(dW, dev(dy), dev(idx), "auto")
    np.testing.assert_array_equal(dW.numpy(), [[666] * 4, [0] * 4, [334] * 4])


def test_naive_is_bit_identical_to_the_cpu(rng):
    dy = rng.standard_normal((50, 6)).astype(np.float32)
    idx = rng.integers(0, 4, 50).astype(np.int32)
    dW_gpu = dev(np.zeros((4, 6), np.float32))
    cuda.backend().embedding_backward(dW_gpu, dev(dy), dev(idx), "naive")
    dW_cpu = nk.tensor(np.zeros((4, 6), np.float32))
    nk._core.embedding_backward(dW_cpu, nk.tensor(dy), nk.tensor(idx), "naive")
    np.testing.assert_array_equal(dW_gpu.numpy(), dW_cpu.numpy())


@pytest.mark.parametrize("itype", [np.int32, np.int64])
def test_bad_indices_raise_before_writing(rng, itype):
    be = cuda.backend()
    W = rng.standard_normal((5, 3)).astype(np.float32)
    idx = np.array([[0, 1], [5, 2]], dtype=itype)
    y = nan_dev((2, 2, 3))
    with pytest.raises(IndexError, match=r"index 5 at flat position 2 .*input_dim=5"):
        be.embedding_forward(y, dev(idx), dev(W), "auto")
    assert np.all(np.isnan(y.numpy())), "nothing written"
    idx[1, 0], idx[1, 1] = -1, 7
    dW = dev(np.zeros((5, 3), np.float32))
    with pytest.raises(IndexError, match=r"index -1 at flat position 2"):  # the FIRST bad position
        be.embedding_backward(dW, dev(np.ones((2, 2, 3), np.float32)), dev(idx), "naive")
    assert np.all(dW.numpy() == 0), "nothing written"


def test_bad_arguments(rng):
    be = cuda.backend()
    W = dev(rng.standard_normal((5, 3)).astype(np.float32))
    idx = dev(np.zeros(2, np.int32))
    with pytest.raises(TypeError, match="int32 or int64"):
        be.embedding_forward(nan_dev((2, 3)), dev(np.zeros(2, np.float32)), W, "auto")
    with pytest.raises(ValueError, match="2-d"):
        be.embedding_forward(nan_dev((2, 3)), idx, dev(np.zeros(3, np.float32)), "auto")
    with pytest.raises(ValueError, match="y"):
        be.embedding_forward(nan_dev((2, 4)), idx, W, "auto")
    with pytest.raises(ValueError, match="unknown CUDA embedding variant 'rows_parallel'.*auto, atomic, naive"):
        be.embedding_forward(nan_dev((2, 3)), idx, W, "rows_parallel")
    with pytest.raises(ValueError, match="cuda"):  # CPU indices given to the CUDA kernel
        be.embedding_forward(nan_dev((2, 3)), nk.tensor(np.zeros(2, np.int32)), W, "auto")
    with pytest.raises(ValueError, match="share memory"):
        t = dev(np.zeros((2, 3), np.float32))
        be.embedding_backward(t, t, idx, "auto")


def test_atomic_backward_under_checking_mode(rng, checking):
    """The differential run reverses thread order; integer-valued dy keeps the atomic sums exact in any order."""
    idx = rng.integers(0, 5, 300).astype(np.int64)
    dy = rng.integers(-3, 4, (300, 9)).astype(np.float32)
    dW = dev(np.zeros((5, 9), np.float32))
    cuda.backend().embedding_backward(dW, dev(dy), dev(idx), "auto")
    want = np.zeros((5, 9))
    np.add.at(want, idx, dy.astype(np.float64))
    np.testing.assert_array_equal(dW.numpy(), want)


def test_ops_run_on_the_device(rng):
    W = rng.standard_normal((9, 4)).astype(np.float32)
    idx = np.array([[0, 8, 8], [3, 3, 1]], np.int64)
    y = nk.ops.embedding(dev(idx), dev(W))
    assert y.device == "cuda" and y.shape == (2, 3, 4)
    np.testing.assert_array_equal(y.numpy(), W[idx])
    dW = dev(np.zeros((9, 4), np.float32))
    nk.ops.embedding_backward(dW, dev(np.ones((2, 3, 4), np.float32)), dev(idx))
    np.testing.assert_array_equal(dW.numpy()[:, 0], [1, 1, 0, 2, 0, 0, 0, 0, 2])
