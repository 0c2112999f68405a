"""CUDA SGEMM ladder (csrc/cuda/gemm.cu) on the emulator vs float64 NumPy: every registered variant,
both transposes, alpha/beta (beta == 0 must not read C), M/N/K that are not multiples of the 16 / 64
tiles, float4-friendly and unfriendly leading dimensions, the strided API, and bad input."""
import numpy as np
import pytest

import neurokern as nk
from neurokern import cuda

from conftest import assert_close
from test_gemm import operands  # stored A, B and their float64 op() views

VARIANTS = ["naive", "smem_tiled", "register_blocked", "vectorized"]
TRANSPOSES = [(False, False), (True, False), (False, True), (True, True)]
# Small enough for the emulator (every CUDA thread is a fiber), awkward everywhere: 1, primes, one
# past the 16 and 64 tiles, 257, and multiples of 4 (float4 path) next to non-multiples (scalar path).
SHAPES = [(1, 1, 1), (1, 7, 33), (7, 1, 33), (7, 33, 1), (17, 65, 16), (65, 17, 7), (36, 68, 20),
          (33, 7, 257), (257, 5, 3)]


def dev(a):
    return nk.tensor(np.array(a), device="cuda")  # np.array: a C-contiguous copy that keeps 0-d shapes


def nan_dev(shape):
    return dev(np.full(shape, np.nan, np.float32))


def run(variant, a, b, m, n, ta, tb, alpha=1.0, beta=0.0, c=None):
    c = nan_dev((m, n)) if c is None else c
    cuda.backend().gemm(c, dev(a), dev(b), ta, tb, alpha, beta, variant)
    return c.numpy()


def test_registry_lists_the_ladder():
    got = cuda.backend().gemm_variants()
    assert [v[0] for v in got] == VARIANTS
    for name, where, desc in got:
        assert where == "cuda" and len(desc) > 10, (name, where, desc)


@pytest.mark.parametrize("variant", VARIANTS + ["auto"])
@pytest.mark.parametrize("ta,tb", TRANSPOSES)
@pytest.mark.parametrize("m,n,k", SHAPES)
def test_variant_matches_numpy(rng, variant, m, n, k, ta, tb):
    a, b, a64, b64 = operands(rng, m, n, k, ta, tb)
    assert_close(run(variant, a, b, m, n, ta, tb), a64 @ b64, "gemm")


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("alpha,beta", [(1.0, 1.0), (-0.5, 1.0), (2.0, 0.25), (0.0, -3.0), (1.5, 0.0)])
def test_alpha_beta(rng, variant, alpha, beta):
    for (m, n, k), (ta, tb) in [((7, 33, 1), (False, False)), ((66, 40, 17), (True, True)),
                                ((12, 8, 20), (False, True))]:
        a, b, a64, b64 = operands(rng, m, n, k, ta, tb)
        c0 = rng.uniform(-1, 1, (m, n)).astype(np.float32)
        got = run(variant, a, b, m, n, ta, tb, alpha, beta, c=dev(c0))
        assert_close(got, alpha * (a64 @ b64) + beta * c0.astype(np.float64), "gemm")


@pytest.mark.parametrize("variant", VARIANTS)
def test_beta_zero_ignores_nan_in_c_and_k_zero_scales_c(rng, variant):
    a, b, a64, b64 = operands(rng, 9, 70, 5, False, False)
    assert_close(run(variant, a, b, 9, 70, False, False, 1.0, 0.0, c=nan_dev((9, 70))), a64 @ b64, "gemm")
    # K == 0: op(A) @ op(B) is all zeros, so C = beta * C
    c0 = rng.uniform(-1, 1, (5, 6)).astype(np.float32)
    got = run(variant, np.zeros((5, 0), np.float32), np.zeros((0, 6), np.float32), 5, 6, False, False,
              1.0, 0.5, c=dev(c0))
    assert_close(got, 0.5 * c0.astype(np.float64), "gemm")
    # empty C: nothing to do, no launch with a zero grid
    assert run(variant, np.zeros((0, 3), np.float32), np.zeros((3, 4), np.float32), 0, 4, False, False).shape == (0, 4)


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("ta,tb", TRANSPOSES)
@pytest.mark.parametrize("pad", [0, 1, 4])
def test_strided_submatrices(rng, variant, ta, tb, pad):
    """Leading dimensions wider than the rows (pad 1: float4 impossible, pad 4: aligned rows)."""
    m, n, k = 19, 37, 23
    a_rows, a_cols = (k, m) if ta else (m, k)
    b_rows, b_cols = (n, k) if tb else (k, n)
    lda, ldb, ldc = a_cols + pad, b_cols + pad, n + pad
    A = rng.uniform(-1, 1, (a_rows, lda)).astype(np.float32)
    B = rng.uniform(-1, 1, (b_rows, ldb)).astype(np.float32)
    C = np.full((m, ldc), 7.0, np.float32)
    a64 = A[:, :a_cols].astype(np.float64)
    b64 = B[:, :b_cols].astype(np.float64)
    want = (a64.T if ta else a64) @ (b64.T if tb else b64)
    c = dev(C)
    cuda.backend().gemm_strided(c, dev(A), dev(B), m, n, k, lda, ldb, ldc, ta, tb, 1.0, 0.0, variant)
    got = c.numpy()
    assert_close(got[:, :n], want, "gemm")
    np.testing.assert_array_equal(got[:, n:], 7.0)  # the padding columns are not written


def test_variants_agree_with_the_cpu_kernel(rng):
    a, b, _, _ = operands(rng, 70, 66, 45, True, False)
    want = nk.tensor(np.zeros((70, 66), np.float32))
    nk._core.gemm(want, nk.tensor(a), nk.tensor(b), True, False, 1.0, 0.0, "naive")
    for v in VARIANTS:
        np.testing.assert_allclose(run(v, a, b, 70, 66, True, False), want.numpy(), rtol=1e-5, atol=1e-5)


def test_bad_input_raises():
    be = cuda.backend()
    a, b, c = dev(np.ones((3, 4), np.float32)), dev(np.ones((4, 5), np.float32)), nan_dev((3, 5))
    with pytest.raises(ValueError, match="inner dimensions differ"):
        be.gemm(c, a, dev(np.ones((5, 4), np.float32)), False, False, 1.0, 0.0, "auto")
    with pytest.raises(ValueError, match="c"):
        be.gemm(nan_dev((3, 4)), a, b, False, False, 1.0, 0.0, "auto")
    with pytest.raises(ValueError, match="unknown CUDA gemm variant 'packed_avx2'.*naive, smem_tiled"):
        be.gemm(c, a, b, False, False, 1.0, 0.0, "packed_avx2")
    with pytest.raises(ValueError, match="cuda"):  # a CPU tensor given to the CUDA kernel
        be.gemm(c, nk.tensor(np.ones((3, 4), np.float32)), b, False, False, 1.0, 0.0, "auto")
    with pytest.raises(TypeError, match="float32"):
        be.gemm(c, dev(np.ones((3, 4), np.int32)), b, False, False, 1.0, 0.0, "auto")
    with pytest.raises(ValueError, match="alias"):
        be.gemm(a, a, dev(np.ones((4, 4), np.float32)), False, False, 1.0, 0.0, "auto")
    with pytest.raises(ValueError, match="lda=3 must be >="):
        be.gemm_strided(c, a, b, 3, 5, 4, 3, 5, 5, False, False, 1.0, 0.0, "auto")
    with pytest.raises(ValueError, match="b has 20 elements"):
        be.gemm_strided(c, a, b, 3, 5, 4, 4, 6, 5, False, False, 1.0, 0.0, "auto")


@pytest.mark.parametrize("ta,tb", TRANSPOSES)
def test_variants_under_checking_mode(rng, checking, ta, tb):
    a, b, a64, b64 = operands(rng, 67, 70, 33, ta, tb)
    for v in VARIANTS:
        assert_close(run(v, a, b, 67, 70, ta, tb, 0.5, 0.0), 0.5 * (a64 @ b64), "gemm")


def test_ops_matmul_runs_on_the_device(rng):
    a, b, a64, b64 = operands(rng, 9, 33, 17, False, True)
    c = nk.ops.matmul(dev(a), dev(b), transpose_b=True)
    assert c.device == "cuda" and c.shape == (9, 33)
    assert_close(c.numpy(), a64 @ b64, "gemm")
