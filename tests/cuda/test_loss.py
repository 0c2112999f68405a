"""Loss CUDA kernels (csrc/cuda/loss.cu) vs the float64 NumPy references of tests/test_loss.py, run on
the emulator (or a GPU): forward (mean and per-sample losses), backward against finite differences
of the reference and against the CPU kernel, sparse labels (int32 / int64, out-of-range raises
IndexError naming the label and its position), fused softmax / sigmoid backward, bad input."""
import numpy as np
import pytest

import neurokern as nk
from neurokern import _core
from neurokern.ops._util import backend

from _gradcheck import numeric_grad
from _device import cu, nan_cu
from _tol import TOL
from test_loss import (CASES, ROW_LOSSES, _cat_probs, log_softmax, onehot, ref_bce, ref_bce_logits, ref_cce,
                       ref_cce_logits, ref_cosine, sigmoid, smooth_binary, smooth_categorical, softmax)

# tests/test_loss.py's shapes (1, primes, 1-d and 3-d) plus rows longer than a warp's 32 lanes
SHAPES = [(1, 1), (1, 7), (7, 1), (7, 33), (33, 7), (2, 257), (257, 3), (7,), (2, 3, 5), (3, 100)]
FD_SHAPES = [(1, 7), (7, 33), (2, 3, 5)]


def check(actual, expected, family="loss"):
    """actual: a device tensor or a host float. Shape and dtype first, then values; NaN fails."""
    if isinstance(actual, nk.Tensor):
        assert actual.device == "cuda"
        actual = actual.numpy()
    a = np.asarray(actual, np.float32)
    assert a.shape == np.shape(expected)
    np.testing.assert_allclose(a.astype(np.float64), expected, *TOL[family])


def K():
    """The device module (`_cuda`, or `_cuda_emu` under the emulator)."""
    return backend(cu(np.zeros(1)))


def _forward(stem, kw, y, p, out=None):
    return getattr(K(), stem + "_forward")(cu(y), cu(p), *kw.values(), out=out)


def _backward(stem, kw, y, p):
    d = nan_cu(p.shape)
    getattr(K(), stem + "_backward")(d, cu(y), cu(p), *kw.values())
    return d


def _samples(shape):
    return int(np.prod(shape[:-1])) if len(shape) > 1 else 1


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("shape", SHAPES)
def test_forward_and_backward(case, shape, rng):
    stem, kw, ref, make = CASES[case]
    y, p = (a.astype(np.float32) for a in make(rng, shape))
    per_sample_ref = ref(y.astype(np.float64), p.astype(np.float64))
    value = _forward(stem, kw, y, p)
    assert isinstance(value, float)
    check(value, np.mean(per_sample_ref))
    out = nan_cu(shape[:-1] or (1,))  # a 1-d input is one sample
    assert _forward(stem, kw, y, p, out) == value  # deterministic: same sum order every call
    check(out.numpy().reshape(per_sample_ref.shape), per_sample_ref)
    # backward: the CPU kernel (itself checked against finite differences) on the same inputs;
    # scaled by the number of averaged terms so entries are O(1) and the absolute tolerance bites
    d = _backward(stem, kw, y, p)
    d_cpu = np.full(p.shape, np.nan, np.float32)
    d_cpu_t = nk.tensor(d_cpu)
    getattr(_core, stem + "_backward")(d_cpu_t, nk.tensor(y), nk.tensor(p), *kw.values())
    terms = _samples(shape) if stem in ROW_LOSSES else p.size
    check(d.numpy() * np.float32(terms), d_cpu_t.numpy().astype(np.float64) * terms)


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("shape", FD_SHAPES)
def test_backward_matches_finite_differences(case, shape, rng):
    stem, kw, ref, make = CASES[case]
    y, p = (a.astype(np.float32) for a in make(rng, shape))
    d = _backward(stem, kw, y, p)
    expected = numeric_grad(lambda q: np.mean(ref(y.astype(np.float64), q)), p)
    terms = _samples(shape) if stem in ROW_LOSSES else p.size
    check(d.numpy() * np.float32(terms), expected * terms)


def test_many_rows_mean_is_deterministic(rng):
    """5000 rows: many blocks of row losses, one fixed-order reduction; repeated calls agree exactly."""
    y, p = rng.normal(size=(5000, 3)).astype(np.float32), rng.normal(size=(5000, 3)).astype(np.float32)
    value = K().mean_squared_error_forward(cu(y), cu(p), None)
    check(value, np.mean((y.astype(np.float64) - p) ** 2))
    assert all(K().mean_squared_error_forward(cu(y), cu(p), None) == value for _ in range(3))


# ---- sparse categorical cross-entropy -------------------------------------------------------------

SPARSE_SHAPES = [(1, 1), (1, 7), (7, 1), (7, 33), (33, 7), (2, 257), (257, 3)]


@pytest.mark.parametrize("from_logits", [False, True])
@pytest.mark.parametrize("label_dtype", [np.int32, np.int64])
@pytest.mark.parametrize("label_shape", ["flat", "column"])
@pytest.mark.parametrize("shape", SPARSE_SHAPES)
def test_sparse_forward_backward(shape, label_shape, label_dtype, from_logits, rng):
    n, c = shape
    labels = rng.integers(0, c, n).astype(label_dtype)
    p = (3 * rng.normal(size=shape) if from_logits else rng.uniform(0.1, 1.0, shape)).astype(np.float32)
    y = onehot(labels, c)
    ref = ref_cce_logits if from_logits else ref_cce
    lab = cu(labels if label_shape == "flat" else labels.reshape(n, 1), label_dtype)
    value = K().sparse_categorical_crossentropy_forward(lab, cu(p), from_logits, None)
    check(value, np.mean(ref(y, p.astype(np.float64))))
    out = nan_cu((n,))
    K().sparse_categorical_crossentropy_forward(lab, cu(p), from_logits, out)
    check(out, ref(y, p.astype(np.float64)))
    d = nan_cu(shape)
    K().sparse_categorical_crossentropy_backward(d, lab, cu(p), from_logits)
    expected = numeric_grad(lambda q: np.mean(ref(y, q)), p)
    check(d.numpy() * np.float32(n), expected * n)


@pytest.mark.parametrize("bad", [-1, 4, 100])
@pytest.mark.parametrize("label_dtype", [np.int32, np.int64])
def test_sparse_out_of_range_label_names_value_and_position(bad, label_dtype, rng):
    p = cu(rng.uniform(0.1, 1, (5, 4)))
    labels = cu(np.array([0, 3, bad, 2, bad]), label_dtype)  # the FIRST bad one is reported
    k = K()
    for call in (lambda: k.sparse_categorical_crossentropy_forward(labels, p, False, None),
                 lambda: k.sparse_categorical_crossentropy_backward(nan_cu((5, 4)), labels, p, True),
                 lambda: k.sparse_softmax_cross_entropy_backward(nan_cu((5, 4)), labels, p)):
        with pytest.raises(IndexError, match=rf"label {bad} at position 2 .*\[0, 4\)"):
            call()


def test_sparse_label_shape_and_dtype(rng):
    p = cu(rng.uniform(0.1, 1, (5, 4)))
    with pytest.raises(ValueError, match=r"one label per sample, shape \(5,\).*got \(4,\)"):
        K().sparse_categorical_crossentropy_forward(cu(np.arange(4), np.int64), p, False, None)
    with pytest.raises(TypeError, match="integer labels"):
        K().sparse_categorical_crossentropy_forward(cu(np.zeros(5)), p, False, None)
    with pytest.raises(ValueError, match="cuda"):  # host labels given to the device kernel
        K().sparse_categorical_crossentropy_forward(nk.tensor(np.zeros(5, np.int64)), p, False, None)


# ---- edge values ------------------------------------------------------------------------------------

def test_bce_clips_like_keras():
    y = np.array([[1, 0, 1, 0]], np.float32)
    p = np.array([[0.0, 1.0, 1.0, 0.0]], np.float32)
    check(K().binary_crossentropy_forward(cu(y), cu(p), False, 0.0, None), np.mean(ref_bce(y, p.astype(np.float64))))
    check(_backward("binary_crossentropy", {"f": False, "ls": 0.0}, y, p), np.zeros((1, 4)))


def test_logits_losses_are_stable_for_huge_logits():
    z = np.array([[1000.0, -1000.0, 0.0]], np.float32)
    y = np.array([[1.0, 0.0, 0.0]], np.float32)
    check(K().categorical_crossentropy_forward(cu(y), cu(z), True, 0.0, None), 0.0)
    check(K().binary_crossentropy_forward(cu(y), cu(z), True, 0.0, None),
          np.mean(ref_bce_logits(y, z.astype(np.float64))))
    assert np.all(np.isfinite(_backward("categorical_crossentropy", {"f": True, "ls": 0.0}, y, z).numpy()))


def test_cosine_zero_vector_prediction():
    y = np.array([[1.0, 2.0], [0.5, -1.0]], np.float32)
    p = np.array([[0.0, 0.0], [1.0, 1.0]], np.float32)
    check(K().cosine_similarity_forward(cu(y), cu(p), None), np.mean(ref_cosine(y, p.astype(np.float64))))
    assert np.all(np.isfinite(_backward("cosine_similarity", {}, y, p).numpy()))


def test_categorical_hinge_ties_take_the_first_maximum():
    """(1 - y) p ties at classes 1 and 40 (in different lanes): the gradient goes to class 1 only."""
    y = np.zeros((1, 45), np.float32)
    y[0, 0] = 1
    p = np.zeros((1, 45), np.float32)
    p[0, 1] = p[0, 40] = 2.0
    expected = np.zeros((1, 45))
    expected[0, 0], expected[0, 1] = -1.0, 1.0
    check(_backward("categorical_hinge", {}, y, p), expected)


# ---- fused activation + loss backward -----------------------------------------------------------

FUSED_SHAPES = [(1, 1), (1, 7), (7, 1), (7, 33), (33, 7), (2, 257)]


@pytest.mark.parametrize("smoothing", [0.0, 0.2])
@pytest.mark.parametrize("shape", FUSED_SHAPES)
def test_softmax_cross_entropy_backward_is_chain_rule(shape, smoothing, rng):
    z = rng.normal(size=shape)
    y = _cat_probs(rng, shape)[0]
    probs = softmax(z).astype(np.float32)
    z = log_softmax(z)  # the logits of `probs` exactly (softmax is shift-invariant)
    d = nan_cu(shape)
    K().softmax_cross_entropy_backward(d, cu(y), cu(probs), smoothing)
    expected = numeric_grad(lambda t: np.mean(ref_cce(smooth_categorical(y, smoothing), softmax(t))), z)
    check(d.numpy() * np.float32(shape[0]), expected * shape[0])


@pytest.mark.parametrize("label_dtype", [np.int32, np.int64])
@pytest.mark.parametrize("shape", FUSED_SHAPES)
def test_sparse_softmax_cross_entropy_backward_is_chain_rule(shape, label_dtype, rng):
    n, c = shape
    labels = rng.integers(0, c, n)
    z = rng.normal(size=shape)
    probs = softmax(z).astype(np.float32)
    d = nan_cu(shape)
    K().sparse_softmax_cross_entropy_backward(d, cu(labels, label_dtype), cu(probs))
    expected = numeric_grad(lambda t: np.mean(ref_cce(onehot(labels, c), softmax(t))), z)
    check(d.numpy() * np.float32(n), expected * n)


@pytest.mark.parametrize("smoothing", [0.0, 0.2])
@pytest.mark.parametrize("shape", FUSED_SHAPES + [(7,)])
def test_sigmoid_binary_crossentropy_backward_is_chain_rule(shape, smoothing, rng):
    z = rng.normal(size=shape)
    y = rng.uniform(0, 1, shape)
    probs = sigmoid(z).astype(np.float32)
    d = nan_cu(shape)
    K().sigmoid_binary_crossentropy_backward(d, cu(y), cu(probs), smoothing)
    expected = numeric_grad(lambda t: np.mean(ref_bce(smooth_binary(y, smoothing), sigmoid(t))), z)
    check(d.numpy() * np.float32(z.size), expected * z.size)


# ---- bad input --------------------------------------------------------------------------------------

@pytest.mark.parametrize("stem", ["mean_squared_error", "cosine_similarity", "hinge"])
def test_shape_mismatch_names_both_shapes(stem):
    y, p = cu(np.zeros((3, 4))), cu(np.full((3, 5), 0.5))
    with pytest.raises(ValueError, match=r"y_true \(3, 4\) and y_pred \(3, 5\)"):
        getattr(K(), stem + "_forward")(y, p, None)
    with pytest.raises(ValueError, match=r"y_true \(3, 4\) and y_pred \(3, 5\)"):
        getattr(K(), stem + "_backward")(nan_cu((3, 5)), y, p)


def test_wrong_dtype_device_and_bad_outputs():
    k = K()
    y, p = cu(np.zeros((3, 4))), cu(np.ones((3, 4)))
    with pytest.raises(TypeError, match="y_pred must have dtype float32, got int64"):
        k.mean_squared_error_forward(y, cu(np.zeros((3, 4)), np.int64), None)
    with pytest.raises(ValueError, match=r"dpred must have the shape of the predictions \(3, 4\)"):
        k.mean_squared_error_backward(nan_cu((4, 3)), y, p)
    with pytest.raises(ValueError, match="must not share memory"):
        k.mean_squared_error_backward(p, y, p)
    with pytest.raises(ValueError, match="one loss per sample"):
        k.mean_squared_error_forward(y, p, nan_cu((4,)))
    with pytest.raises(ValueError, match="empty"):
        k.mean_squared_error_forward(cu(np.zeros((0, 3))), cu(np.zeros((0, 3))), None)
    with pytest.raises(ValueError, match="Received: label_smoothing=1.5"):
        k.binary_crossentropy_forward(y, p, False, 1.5, None)
    with pytest.raises(ValueError, match="Received: delta=-1"):
        k.huber_forward(y, p, -1.0, None)
    with pytest.raises(ValueError, match="cuda"):  # host targets given to the device kernel
        k.mean_squared_error_forward(nk.tensor(np.zeros((3, 4), np.float32)), p, None)
