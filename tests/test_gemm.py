"""SGEMM (csrc/cpu/gemm*.cpp): every registered variant and the dispatcher vs float64 NumPy.

C = alpha * op(A) @ op(B) + beta * C with op = transpose on request; beta == 0 must not read C.
"""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import neurokern as nk
from neurokern import _core, ops

from _shapes import GEMM_SHAPES
from conftest import assert_close, nan_tensor

_ISA_ORDER = ["scalar", "avx2", "avx512"]
RUNNABLE = [v for v in _core.gemm_variants() if v[1] in ops.available_isas()]
VARIANT_NAMES = [v[0] for v in RUNNABLE]
TRANSPOSES = [(False, False), (True, False), (False, True), (True, True)]
# Shapes that cross the cache blocks of the packed variants: M > MC (448 / 960), K > KC (448 / 256),
# N > NC (4096 when K >= 448), small-M cases that read B in place (rv mode) next to ones that pack
# it (M > 112), and short-K shapes whose blocks grow (MC, NC scale with 448 / K), like im2col GEMMs.
BLOCK_SHAPES = [(1000, 40, 300), (130, 70, 900), (3, 50, 700), (3, 4200, 460), (113, 4150, 450),
                (20, 4200, 9), (5000, 6, 25), (150, 9000, 20)]
# Narrow outputs (classifier heads, im2col convs with few channels): N around the 14-column chunk and
# 16-lane vector of narrow_avx512, M around its 32-row tile, K = 1, an im2col 5x5 and a long one.
NARROW_N = [1, 6, 7, 10, 16, 17]
NARROW_M = [1, 7, 33, 257, 1000]
NARROW_K = [1, 25, 512]
NARROW_SHAPES = [(m, n, k) for m in NARROW_M for n in NARROW_N for k in NARROW_K]


@pytest.fixture(params=VARIANT_NAMES)
def variant(request):
    """A registered variant name, with the active ISA set to exactly the one it needs."""
    isa = dict((v[0], v[1]) for v in RUNNABLE)[request.param]
    prev = ops.set_isa(isa)
    try:
        yield request.param
    finally:
        ops.set_isa(prev)


def operands(rng, m, n, k, ta, tb):
    """Stored A, B (float32) for op(A) (m, k) and op(B) (k, n), plus their float64 op() views."""
    a = rng.uniform(-1, 1, (k, m) if ta else (m, k)).astype(np.float32)
    b = rng.uniform(-1, 1, (n, k) if tb else (k, n)).astype(np.float32)
    a64 = a.astype(np.float64).T if ta else a.astype(np.float64)
    b64 = b.astype(np.float64).T if tb else b.astype(np.float64)
    return a, b, a64, b64


def run_raw(variant, a, b, m, n, ta, tb, alpha=1.0, beta=0.0, c=None):
    c = nan_tensor((m, n)) if c is None else c
    _core.gemm(c, nk.tensor(a), nk.tensor(b), ta, tb, alpha, beta, variant)
    return c.numpy()


def test_registry_lists_every_variant_with_a_description():
    names = [v[0] for v in _core.gemm_variants()]
    assert names[0] == "naive"
    assert {"packed_scalar", "packed_avx2", "packed_avx512"} <= set(names)
    for name, isa, desc in _core.gemm_variants():
        assert isa in _ISA_ORDER and len(desc) > 10, (name, isa, desc)
    assert ops.gemm_variants() == _core.gemm_variants()


@pytest.mark.parametrize("ta,tb", TRANSPOSES)
@pytest.mark.parametrize("m,n,k", GEMM_SHAPES)
def test_variant_matches_numpy(variant, rng, m, n, k, ta, tb):
    a, b, a64, b64 = operands(rng, m, n, k, ta, tb)
    assert_close(run_raw(variant, a, b, m, n, ta, tb), a64 @ b64, "gemm")


@pytest.mark.parametrize("ta,tb", TRANSPOSES)
@pytest.mark.parametrize("m,n,k", BLOCK_SHAPES)
def test_variant_across_cache_blocks(variant, rng, m, n, k, ta, tb):
    a, b, a64, b64 = operands(rng, m, n, k, ta, tb)
    assert_close(run_raw(variant, a, b, m, n, ta, tb), a64 @ b64, "gemm")


@pytest.mark.parametrize("ta,tb", TRANSPOSES)
@pytest.mark.parametrize("m,n,k", NARROW_SHAPES)
def test_variant_narrow_outputs(variant, rng, m, n, k, ta, tb):
    a, b, a64, b64 = operands(rng, m, n, k, ta, tb)
    assert_close(run_raw(variant, a, b, m, n, ta, tb), a64 @ b64, "gemm")


@pytest.mark.parametrize("ta,tb", TRANSPOSES)
@pytest.mark.parametrize("alpha,beta", [(1.0, 0.0), (-0.5, 1.0), (2.0, 0.25), (1.5, 0.0)])
@pytest.mark.parametrize("m,n,k", [(1, 10, 25), (7, 1, 512), (33, 6, 25), (257, 7, 1), (1000, 17, 25),
                                   (257, 16, 512), (33, 10, 512)])
def test_variant_narrow_strided_alpha_beta(variant, rng, m, n, k, ta, tb, alpha, beta):
    """Narrow N with padded lda/ldb/ldc (NaN padding in A and B, a sentinel in C's) and alpha/beta;
    beta == 0 runs on a NaN-filled C."""
    a_rows, a_cols = (k, m) if ta else (m, k)
    b_rows, b_cols = (n, k) if tb else (k, n)
    a_buf = rng.uniform(-1, 1, (a_rows, a_cols + 3)).astype(np.float32)
    b_buf = rng.uniform(-1, 1, (b_rows, b_cols + 5)).astype(np.float32)
    a_buf[:, a_cols:] = np.nan
    b_buf[:, b_cols:] = np.nan
    c0 = rng.uniform(-1, 1, (m, n)).astype(np.float32)
    c_buf = np.full((m, n + 2), 7.0, dtype=np.float32)
    c_buf[:, :n] = np.nan if beta == 0.0 else c0
    c = nk.tensor(c_buf)
    _core.gemm_strided(c, nk.tensor(a_buf), nk.tensor(b_buf), m, n, k, a_cols + 3, b_cols + 5, n + 2,
                       ta, tb, alpha, beta, variant)
    a64 = a_buf[:, :a_cols].astype(np.float64)
    b64 = b_buf[:, :b_cols].astype(np.float64)
    expected = alpha * ((a64.T if ta else a64) @ (b64.T if tb else b64))
    if beta != 0.0:
        expected += beta * c0.astype(np.float64)
    out = c.numpy()
    assert_close(out[:, :n], expected, "gemm")
    assert np.all(out[:, n:] == 7.0), "gemm wrote into the padding of C"


@pytest.mark.skipif("avx512" not in ops.available_isas(), reason="needs an AVX-512 CPU")
def test_dispatch_picks_narrow_for_narrow_outputs():
    prev = ops.set_isa("avx512")
    try:
        for m, n, k, ta, tb in [(64, 10, 512, False, False), (512, 10, 64, True, False),
                                (36864, 6, 25, False, False), (4096, 16, 150, False, False),
                                (1000, 48, 512, False, True), (16, 1, 7, False, False)]:
            assert _core.gemm_dispatch(m, n, k, ta, tb) == "narrow_avx512", (m, n, k)
        for m, n, k in [(64, 512, 784), (64, 49, 512), (8, 10, 512), (6, 25, 36864), (1024, 1024, 1024)]:
            assert _core.gemm_dispatch(m, n, k) == "packed_avx512", (m, n, k)
        ops.set_isa("avx2")  # no AVX-512 kernel for a lower ISA
        assert _core.gemm_dispatch(64, 10, 512) == "packed_avx2"
    finally:
        ops.set_isa(prev)


@pytest.mark.parametrize("alpha,beta", [(1.0, 1.0), (-0.5, 1.0), (2.0, 0.25), (0.0, -3.0), (1.5, 0.0)])
@pytest.mark.parametrize("m,n,k", [(7, 33, 1), (31, 65, 17), (64, 512, 784), (257, 33, 300)])
def test_variant_alpha_beta(variant, rng, m, n, k, alpha, beta):
    for ta, tb in [(False, False), (True, True)]:
        a, b, a64, b64 = operands(rng, m, n, k, ta, tb)
        c0 = rng.uniform(-1, 1, (m, n)).astype(np.float32)
        if beta == 0.0:
            c0[:] = np.nan  # beta == 0 must overwrite without reading C
        got = run_raw(variant, a, b, m, n, ta, tb, alpha, beta, nk.tensor(c0.copy()))
        expected = alpha * (a64 @ b64) + (beta * c0.astype(np.float64) if beta != 0.0 else 0.0)
        assert_close(got, expected, "gemm")


def test_beta_one_accumulates_repeated_calls(variant, rng):
    a, b, a64, b64 = operands(rng, 40, 70, 300, False, False)
    c = nk.zeros((40, 70))
    for _ in range(3):
        _core.gemm(c, nk.tensor(a), nk.tensor(b), False, False, 1.0, 1.0, variant)
    assert_close(c.numpy(), 3 * (a64 @ b64), "gemm")


@pytest.mark.parametrize("ta,tb", TRANSPOSES)
@pytest.mark.parametrize("m,n,k,pad", [(7, 33, 1, 3), (33, 70, 257, 5), (60, 40, 300, 16), (100, 17, 9, 1)])
def test_variant_leading_dimensions(variant, rng, m, n, k, pad, ta, tb):
    """Sub-matrices of larger buffers (lda/ldb/ldc > row length): padding is never read or written."""
    a_rows, a_cols = (k, m) if ta else (m, k)
    b_rows, b_cols = (n, k) if tb else (k, n)
    a_buf = rng.uniform(-1, 1, (a_rows, a_cols + pad)).astype(np.float32)
    b_buf = rng.uniform(-1, 1, (b_rows, b_cols + pad + 1)).astype(np.float32)
    a_buf[:, a_cols:] = np.nan  # NaN padding poisons the result if a kernel reads it
    b_buf[:, b_cols:] = np.nan
    c_buf = np.full((m, n + pad + 2), np.nan, dtype=np.float32)
    c_buf[:, n:] = 7.0  # sentinel: must survive untouched
    c = nk.tensor(c_buf)
    _core.gemm_strided(c, nk.tensor(a_buf), nk.tensor(b_buf), m, n, k, a_cols + pad, b_cols + pad + 1,
                       n + pad + 2, ta, tb, 1.0, 0.0, variant)
    a64 = a_buf[:, :a_cols].astype(np.float64)
    b64 = b_buf[:, :b_cols].astype(np.float64)
    expected = (a64.T if ta else a64) @ (b64.T if tb else b64)
    out = c.numpy()
    assert_close(out[:, :n], expected, "gemm")
    assert np.all(out[:, n:] == 7.0), "gemm wrote into the padding of C"


@pytest.mark.parametrize("beta", [0.0, 0.5])
def test_k_zero_is_beta_times_c(variant, beta):
    a = np.zeros((5, 0), np.float32)
    b = np.zeros((0, 9), np.float32)
    c0 = np.full((5, 9), np.nan if beta == 0.0 else 4.0, np.float32)
    c = nk.tensor(c0.copy())
    _core.gemm(c, nk.tensor(a), nk.tensor(b), False, False, 1.0, beta, variant)
    assert_close(c.numpy(), np.full((5, 9), 0.0 if beta == 0.0 else 2.0), "gemm")


@pytest.mark.parametrize("m,n,k", [(0, 5, 3), (4, 0, 3), (0, 0, 0)])
def test_empty_m_or_n(variant, m, n, k):
    c = nan_tensor((m, n))
    _core.gemm(c, nk.tensor(np.ones((m, k), np.float32)), nk.tensor(np.ones((k, n), np.float32)),
               False, False, 1.0, 0.0, variant)
    assert tuple(c.shape) == (m, n)
    out = ops.matmul(np.ones((m, k), np.float32), np.ones((k, n), np.float32))
    assert out.shape == (m, n) and out.dtype == np.float32


@pytest.mark.parametrize("ta,tb", TRANSPOSES)
@pytest.mark.parametrize("m,n,k", GEMM_SHAPES + [(1000, 40, 300)])
def test_auto_dispatch_every_isa(isa, rng, m, n, k, ta, tb):
    a, b, a64, b64 = operands(rng, m, n, k, ta, tb)
    assert_close(ops.matmul(a, b, transpose_a=ta, transpose_b=tb), a64 @ b64, "gemm")


@pytest.mark.parametrize("m,n,k", [(33, 700, 129), (300, 40, 200), (1000, 200, 300), (20, 4200, 40)])
def test_one_and_two_threads_agree_bitwise(rng, m, n, k):
    """Threads split whole C tiles, so every element sums in the same order: results are identical."""
    a, b, a64, b64 = operands(rng, m, n, k, False, True)
    prev = nk.get_num_threads()
    try:
        results = []
        for threads in (1, 2):
            nk.set_num_threads(threads)
            results.append(ops.matmul(a, b, transpose_b=True))
    finally:
        nk.set_num_threads(prev)
    assert_close(results[0], a64 @ b64, "gemm")
    np.testing.assert_array_equal(results[0], results[1])


@settings(max_examples=30, deadline=None)
@given(m=st.integers(1, 70), n=st.integers(1, 90), k=st.integers(1, 70), ta=st.booleans(),
       tb=st.booleans(), alpha=st.sampled_from([1.0, -2.0, 0.5]), beta=st.sampled_from([0.0, 1.0, -0.5]),
       seed=st.integers(0, 2**31 - 1))
def test_random_shapes_auto(m, n, k, ta, tb, alpha, beta, seed):
    rng = np.random.default_rng(seed)
    a, b, a64, b64 = operands(rng, m, n, k, ta, tb)
    c0 = rng.uniform(-1, 1, (m, n)).astype(np.float32)
    c = nk.tensor(c0.copy())
    ops.gemm(c, nk.tensor(a), nk.tensor(b), ta, tb, alpha, beta)
    assert_close(c.numpy(), alpha * (a64 @ b64) + beta * c0.astype(np.float64), "gemm")


def test_matmul_returns_the_input_kind(rng):
    a = rng.uniform(-1, 1, (5, 7)).astype(np.float32)
    b = rng.uniform(-1, 1, (7, 3)).astype(np.float32)
    out = ops.matmul(a, b)
    assert isinstance(out, np.ndarray) and out.dtype == np.float32
    assert_close(out, a.astype(np.float64) @ b, "gemm")
    t = ops.matmul(nk.tensor(a), nk.tensor(b))
    assert isinstance(t, nk.Tensor) and tuple(t.shape) == (5, 3)
    assert_close(t.numpy(), a.astype(np.float64) @ b, "gemm")
    dst = nan_tensor((5, 3))
    assert ops.matmul(nk.tensor(a), nk.tensor(b), out=dst) is dst
    assert_close(dst.numpy(), a.astype(np.float64) @ b, "gemm")


def test_peak_probe_reports_a_positive_rate():
    assert _core.gemm_peak_gflops("auto", 1, 0.01) > 0.0
    with pytest.raises(ValueError, match="seconds"):
        _core.gemm_peak_gflops("auto", 1, 0.0)
    with pytest.raises(ValueError, match="threads"):
        _core.gemm_peak_gflops("auto", 0, 0.01)


# ---- bad input ---------------------------------------------------------------------------------

def f32(*shape):
    return nk.tensor(np.ones(shape, np.float32))


def test_bad_rank_and_shapes():
    with pytest.raises(ValueError, match="matmul needs 2-d"):
        ops.matmul(np.ones(3, np.float32), np.ones((3, 2), np.float32))
    with pytest.raises(ValueError, match="a"):
        _core.gemm(f32(2, 2), f32(2, 2, 1), f32(2, 2), False, False, 1.0, 0.0, "auto")
    with pytest.raises(ValueError, match="inner dimensions differ"):
        ops.matmul(np.ones((2, 3), np.float32), np.ones((4, 2), np.float32))
    with pytest.raises(ValueError, match="inner dimensions differ"):
        _core.gemm(f32(2, 2), f32(2, 3), f32(2, 2), False, True, 1.0, 0.0, "auto")
    with pytest.raises(ValueError, match="c"):
        _core.gemm(f32(3, 2), f32(2, 3), f32(3, 2), False, False, 1.0, 0.0, "auto")
    with pytest.raises(ValueError, match="out has shape"):
        ops.matmul(np.ones((2, 3), np.float32), np.ones((3, 2), np.float32), out=f32(2, 3))


def test_bad_dtypes_via_raw_binding():
    with pytest.raises(TypeError):
        _core.gemm(f32(2, 2), nk.tensor(np.ones((2, 2), np.int32)), f32(2, 2), False, False, 1.0, 0.0, "auto")
    with pytest.raises(TypeError):
        _core.gemm(nk.tensor(np.ones((2, 2), np.int64)), f32(2, 2), f32(2, 2), False, False, 1.0, 0.0, "auto")
    with pytest.raises(TypeError):
        _core.gemm(f32(2, 2), f32(2, 2), np.ones((2, 2), np.float64), False, False, 1.0, 0.0, "auto")
    with pytest.raises(TypeError, match="NumPy array or neurokern Tensor"):
        ops.matmul({"not": "an array"}, np.ones((2, 2), np.float32))
    with pytest.raises(TypeError, match="numeric data"):
        ops.matmul(np.array([["a", "b"]]), np.ones((2, 2), np.float32))


def test_aliasing_is_rejected():
    c = f32(4, 4)
    with pytest.raises(ValueError, match="alias"):
        _core.gemm(c, c, f32(4, 4), False, False, 1.0, 0.0, "auto")
    buf = np.ones((8, 4), np.float32)  # two overlapping views of one buffer
    with pytest.raises(ValueError, match="alias"):
        _core.gemm(nk.tensor(buf[2:6]), f32(4, 4), nk.tensor(buf[0:4]), False, False, 1.0, 0.0, "auto")


def test_unknown_variant_and_isa_too_high():
    with pytest.raises(ValueError, match="unknown gemm variant 'fastest'.*naive"):
        _core.gemm(f32(2, 2), f32(2, 2), f32(2, 2), False, False, 1.0, 0.0, "fastest")
    with pytest.raises(ValueError, match="unknown gemm variant"):  # checked even for empty shapes
        _core.gemm(f32(0, 2), f32(0, 2), f32(2, 2), False, False, 1.0, 0.0, "fastest")
    if ops.cpu_isa() == "scalar":
        return  # a scalar-only CPU has no higher ISA to refuse; the checks above still ran
    prev = ops.set_isa("scalar")
    try:
        with pytest.raises(ValueError, match="packed_avx2' needs avx2 but the active ISA is scalar"):
            _core.gemm(f32(2, 2), f32(2, 2), f32(2, 2), False, False, 1.0, 0.0, "packed_avx2")
    finally:
        ops.set_isa(prev)


def test_bad_leading_dimensions():
    with pytest.raises(ValueError, match="lda=2 must be >= the stored row length of a"):
        _core.gemm_strided(f32(3, 3), f32(3, 3), f32(3, 3), 3, 3, 3, 2, 3, 3)
    with pytest.raises(ValueError, match="ldc=2 must be >= n"):
        _core.gemm_strided(f32(3, 3), f32(3, 3), f32(3, 3), 3, 3, 3, 3, 3, 2)
    with pytest.raises(ValueError, match="b has 9 elements"):
        _core.gemm_strided(f32(3, 3), f32(3, 3), f32(3, 3), 3, 3, 3, 3, 4, 3)
    with pytest.raises(ValueError, match=">= 0"):
        _core.gemm_strided(f32(3, 3), f32(3, 3), f32(3, 3), -1, 3, 3, 3, 3, 3)
