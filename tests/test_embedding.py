"""Embedding gather / scatter-add kernels (csrc/cpu/embedding.cpp): both variants, int32 and int64
indices, repeated indices in the backward (ACCUMULATES), index checks before any write."""
import numpy as np
import pytest

import neurokern as nk
from neurokern import _core, ops

from conftest import assert_close, nan_tensor

VARIANTS = ["naive", "rows_parallel", "auto"]


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("itype", [np.int32, np.int64])
@pytest.mark.parametrize("shape,V,D", [((1,), 1, 1), ((3, 7), 11, 5), ((64, 50), 1000, 33), ((2, 3, 4), 7, 257)])
def test_forward(rng, variant, itype, shape, V, D):
    W = rng.standard_normal((V, D)).astype(np.float32)
    idx = rng.integers(0, V, shape).astype(itype)
    y = nan_tensor(shape + (D,))
    _core.embedding_forward(y, nk.tensor(idx), nk.tensor(W), variant)
    assert_close(y.numpy(), W.astype(np.float64)[idx], "elementwise")


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("itype", [np.int32, np.int64])
@pytest.mark.parametrize("shape,V,D", [((1,), 1, 1), ((3, 7), 4, 5), ((64, 50), 100, 33), ((40, 25), 3, 16)])
def test_backward_repeated_indices_accumulate(rng, variant, itype, shape, V, D):
    """Few vocabulary rows and many positions: every row is hit many times (and by both threads'
    position ranges in a naive parallel scatter)."""
    dy = rng.standard_normal(shape + (D,)).astype(np.float32)
    idx = rng.integers(0, V, shape).astype(itype)
    dW = nk.tensor(np.full((V, D), 0.5, np.float32))
    _core.embedding_backward(dW, nk.tensor(dy), nk.tensor(idx), variant)
    want = np.full((V, D), 0.5)
    np.add.at(want, idx.reshape(-1), dy.reshape(-1, D).astype(np.float64))
    assert_close(dW.numpy(), want, "reduce")


def test_ops_wrappers(rng):
    W = rng.standard_normal((9, 4)).astype(np.float32)
    idx = np.array([[0, 8, 8], [3, 3, 1]], dtype=np.uint8)  # converted to int64
    y = ops.embedding(idx, W)
    assert isinstance(y, np.ndarray) and y.shape == (2, 3, 4)
    np.testing.assert_array_equal(y, W[idx])
    dW = nk.zeros((9, 4))
    ops.embedding_backward(dW, np.ones((2, 3, 4), np.float32), idx)
    np.testing.assert_array_equal(dW.numpy()[:, 0], [1, 1, 0, 2, 0, 0, 0, 0, 2])


@pytest.mark.parametrize("itype", [np.int32, np.int64])
def test_bad_indices_raise_before_writing(rng, itype):
    W = rng.standard_normal((5, 3)).astype(np.float32)
    idx = np.array([[0, 1], [5, 2]], dtype=itype)
    y = nan_tensor((2, 2, 3))
    with pytest.raises(IndexError, match=r"index 5 at flat position 2 .*input_dim=5"):
        _core.embedding_forward(y, nk.tensor(idx), nk.tensor(W), "auto")
    assert np.all(np.isnan(y.numpy())), "nothing written"
    idx[1, 0] = -1
    with pytest.raises(IndexError, match=r"index -1 at flat position 2"):
        ops.embedding(idx, W)
    dW = nk.zeros((5, 3))
    with pytest.raises(IndexError, match="index -1"):
        ops.embedding_backward(dW, np.ones((2, 2, 3), np.float32), idx)
    assert np.all(dW.numpy() == 0), "nothing written"


def test_bad_arguments(rng):
    W = rng.standard_normal((5, 3)).astype(np.float32)
    with pytest.raises(TypeError, match="integers"):
        ops.embedding(np.zeros((2, 2), np.float32), W)
    with pytest.raises(ValueError, match="2-d"):
        ops.embedding(np.zeros((2,), np.int32), W[0])
    with pytest.raises(ValueError, match="y"):
        _core.embedding_forward(nk.zeros((2, 4)), nk.tensor(np.zeros(2, np.int32)), nk.tensor(W), "auto")
    with pytest.raises(ValueError, match="unknown embedding variant"):
        ops.embedding(np.zeros((2,), np.int32), W, variant="fast")
    with pytest.raises(TypeError, match="Tensor"):
        ops.embedding_backward(np.zeros((5, 3), np.float32), np.zeros((2, 3), np.float32), np.zeros(2, np.int32))
