"""Loss kernels (csrc/cpu/loss.cpp) against float64 NumPy references written from Keras's definitions.

Forward: the mean loss and the per-sample losses. Backward: against central finite differences of
the same reference (so the backward is the derivative of the Keras forward), into NaN-filled
outputs. Fused softmax/sigmoid backward: against finite differences through the activation.
"""
import numpy as np
import pytest

import neurokern as nk
from neurokern import _core, losses, ops

from _gradcheck import numeric_grad
from conftest import assert_close, nan_tensor

EPS = 1e-7
# Keras clips float32 tensors, so its bounds are the float32 roundings of eps and 1 - eps
LO, HI = float(np.float32(EPS)), float(np.float32(1 - EPS))


# ---- float64 references: per-sample loss over the last axis (Keras), shape y_pred.shape[:-1] ------

def ref_mse(y, p):
    return np.mean((y - p) ** 2, axis=-1)


def ref_mae(y, p):
    return np.mean(np.abs(y - p), axis=-1)


def ref_bce(y, p):
    q = np.clip(p, LO, HI)
    return np.mean(-(y * np.log(q) + (1 - y) * np.log(1 - q)), axis=-1)


def ref_bce_logits(y, z):
    return np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z))), axis=-1)


def ref_cce(y, p):
    q = np.clip(p / np.sum(p, axis=-1, keepdims=True), LO, HI)
    return -np.sum(y * np.log(q), axis=-1)


def log_softmax(z):
    m = np.max(z, axis=-1, keepdims=True)
    return z - m - np.log(np.sum(np.exp(z - m), axis=-1, keepdims=True))


def ref_cce_logits(y, z):
    return -np.sum(y * log_softmax(z), axis=-1)


def onehot(labels, c):
    return np.eye(c)[np.asarray(labels).reshape(-1)].reshape(np.shape(labels) + (c,))


def ref_hinge(y, p):
    if np.all((y == 0) | (y == 1)):
        y = 2 * y - 1
    return np.mean(np.maximum(1 - y * p, 0), axis=-1)


def ref_mape(y, p):
    return 100 * np.mean(np.abs(y - p) / np.maximum(np.abs(y), LO), axis=-1)


def ref_msle(y, p):
    return np.mean((np.log(np.maximum(p, LO) + 1) - np.log(np.maximum(y, LO) + 1)) ** 2, axis=-1)


def ref_huber(y, p, delta=1.0):
    e = np.abs(p - y)
    return np.mean(np.where(e <= delta, 0.5 * e * e, delta * e - 0.5 * delta * delta), axis=-1)


def ref_log_cosh(y, p):
    return np.mean(np.log(np.cosh(p - y)), axis=-1)


def ref_kld(y, p):
    y, p = np.clip(y, LO, 1), np.clip(p, LO, 1)
    return np.sum(y * np.log(y / p), axis=-1)


def ref_poisson(y, p):
    return np.mean(p - y * np.log(p + LO), axis=-1)


def ref_squared_hinge(y, p):
    if np.all((y == 0) | (y == 1)):
        y = 2 * y - 1
    return np.mean(np.maximum(1 - y * p, 0) ** 2, axis=-1)


def ref_categorical_hinge(y, p):
    pos = np.sum(y * p, axis=-1)
    neg = np.max((1 - y) * p, axis=-1)
    return np.maximum(neg - pos + 1, 0)


def l2_normalize(x):  # Keras: x * min(rsqrt(sum x^2), 1/eps); a zero vector's rsqrt is inf
    with np.errstate(divide="ignore"):
        return x * np.minimum(1 / np.sqrt(np.sum(x * x, axis=-1, keepdims=True)), 1 / EPS)


def ref_cosine(y, p):
    return -np.sum(l2_normalize(y) * l2_normalize(p), axis=-1)


def smooth_binary(y, ls):  # Keras label smoothing
    return y * (1 - ls) + 0.5 * ls


def smooth_categorical(y, ls):
    return y * (1 - ls) + ls / y.shape[-1]


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def softmax(z):
    return np.exp(log_softmax(z))


# ---- cases: (kernel stem, kwargs, reference, input maker) -----------------------------------------

def _targets_probs(rng, shape):   # soft targets, probabilities well inside the clip range
    return rng.uniform(0, 1, shape), rng.uniform(0.05, 0.95, shape)


def _cat_probs(rng, shape):       # soft rows summing to 1; unnormalised positive predictions
    y = rng.uniform(0, 1, shape)
    return y / y.sum(-1, keepdims=True), rng.uniform(0.1, 1.0, shape)


CASES = {
    "mse": ("mean_squared_error", {}, ref_mse, lambda r, s: (r.normal(size=s), r.normal(size=s))),
    "mae": ("mean_absolute_error", {}, ref_mae, lambda r, s: (r.normal(size=s), r.normal(size=s))),
    "bce": ("binary_crossentropy", {"from_logits": False}, ref_bce, _targets_probs),
    "bce_logits": ("binary_crossentropy", {"from_logits": True}, ref_bce_logits,
                   lambda r, s: (r.integers(0, 2, s).astype(float), 3 * r.normal(size=s))),
    "cce": ("categorical_crossentropy", {"from_logits": False}, ref_cce, _cat_probs),
    "cce_logits": ("categorical_crossentropy", {"from_logits": True}, ref_cce_logits,
                   lambda r, s: (_cat_probs(r, s)[0], 3 * r.normal(size=s))),
    "bce_smoothed": ("binary_crossentropy", {"from_logits": False, "label_smoothing": 0.2},
                     lambda y, p: ref_bce(smooth_binary(y, 0.2), p), _targets_probs),
    "bce_logits_smoothed": ("binary_crossentropy", {"from_logits": True, "label_smoothing": 0.1},
                            lambda y, z: ref_bce_logits(smooth_binary(y, 0.1), z),
                            lambda r, s: (r.integers(0, 2, s).astype(float), 3 * r.normal(size=s))),
    "cce_smoothed": ("categorical_crossentropy", {"from_logits": False, "label_smoothing": 0.3},
                     lambda y, p: ref_cce(smooth_categorical(y, 0.3), p), _cat_probs),
    "cce_logits_smoothed": ("categorical_crossentropy", {"from_logits": True, "label_smoothing": 0.1},
                            lambda y, z: ref_cce_logits(smooth_categorical(y, 0.1), z),
                            lambda r, s: (_cat_probs(r, s)[0], 3 * r.normal(size=s))),
    "hinge01": ("hinge", {}, ref_hinge, lambda r, s: (r.integers(0, 2, s).astype(float), r.normal(size=s))),
    "hinge_pm1": ("hinge", {}, ref_hinge,
                  lambda r, s: (2.0 * r.integers(0, 2, s) - 1, r.normal(size=s))),
    "hinge_real": ("hinge", {}, ref_hinge, lambda r, s: (r.normal(size=s), r.normal(size=s))),
    "cosine": ("cosine_similarity", {}, ref_cosine, lambda r, s: (r.normal(size=s), r.normal(size=s))),
    "mape": ("mean_absolute_percentage_error", {}, ref_mape,
             lambda r, s: (r.uniform(0.5, 2, s) * r.choice([-1, 1], s), r.normal(size=s))),
    "msle": ("mean_squared_logarithmic_error", {}, ref_msle,
             lambda r, s: (r.uniform(0, 3, s), r.uniform(0.1, 3, s))),
    "huber": ("huber", {"delta": 1.0}, ref_huber, lambda r, s: (r.normal(size=s), 1.5 * r.normal(size=s))),
    "huber_half": ("huber", {"delta": 0.5}, lambda y, p: ref_huber(y, p, 0.5),
                   lambda r, s: (r.normal(size=s), r.normal(size=s))),
    "log_cosh": ("log_cosh", {}, ref_log_cosh, lambda r, s: (r.normal(size=s), 2 * r.normal(size=s))),
    "kld": ("kl_divergence", {}, ref_kld, lambda r, s: (_cat_probs(r, s)[0], r.uniform(0.05, 1, s))),
    "poisson": ("poisson", {}, ref_poisson,
                lambda r, s: (r.integers(0, 5, s).astype(float), r.uniform(0.1, 3, s))),
    "squared_hinge01": ("squared_hinge", {}, ref_squared_hinge,
                        lambda r, s: (r.integers(0, 2, s).astype(float), r.normal(size=s))),
    "squared_hinge_real": ("squared_hinge", {}, ref_squared_hinge,
                           lambda r, s: (r.normal(size=s), r.normal(size=s))),
    "categorical_hinge": ("categorical_hinge", {}, ref_categorical_hinge,
                          lambda r, s: (onehot(r.integers(0, s[-1], s[:-1]), s[-1]), r.normal(size=s))),
}
# losses whose per-sample value is a SUM over the last axis (gradients scale with 1/N, not 1/(N D))
ROW_LOSSES = ("categorical_crossentropy", "cosine_similarity", "kl_divergence", "categorical_hinge")
SHAPES = [(1, 1), (1, 7), (7, 1), (7, 33), (33, 7), (2, 257), (257, 3), (7,), (2, 3, 5)]
BIG = (300, 257)  # 77100 values: rows split across threads


def _f32(*arrays):
    return [np.asarray(a, dtype=np.float32) for a in arrays]


def _kernel_forward(stem, kw, y, p, out=None):
    extra = tuple(kw.values())  # from_logits or delta
    return getattr(_core, stem + "_forward")(nk.tensor(y), nk.tensor(p), *extra, out=out)


def _kernel_backward(stem, kw, y, p):
    d = nan_tensor(p.shape)
    extra = tuple(kw.values())
    getattr(_core, stem + "_backward")(d, nk.tensor(y), nk.tensor(p), *extra)
    return d.numpy()


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("shape", SHAPES + [BIG])
def test_forward(case, shape, isa, rng):
    stem, kw, ref, make = CASES[case]
    y, p = _f32(*make(rng, shape))
    y64, p64 = y.astype(np.float64), p.astype(np.float64)
    per_sample_ref = ref(y64, p64)
    value = _kernel_forward(stem, kw, y, p)
    assert isinstance(value, float)
    assert_close(np.float32(value), np.mean(per_sample_ref), "loss")
    out = nan_tensor(shape[:-1] or (1,))  # a 1-d input is one sample
    _kernel_forward(stem, kw, y, p, out)
    assert_close(out.numpy().reshape(per_sample_ref.shape), per_sample_ref, "loss")
    # the ops layer: same value, NumPy in -> NumPy per-sample out
    assert_close(np.float32(getattr(ops, stem)(y, p, **kw)), np.float32(value), "loss")
    assert_close(getattr(ops, stem)(y, p, **kw, per_sample=True), per_sample_ref, "loss")


def _samples(shape):
    return int(np.prod(shape[:-1])) if len(shape) > 1 else 1


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("shape", SHAPES)
def test_backward_matches_finite_differences(case, shape, isa, rng):
    stem, kw, ref, make = CASES[case]
    y, p = _f32(*make(rng, shape))
    y64 = y.astype(np.float64)
    d = _kernel_backward(stem, kw, y, p)
    expected = numeric_grad(lambda q: np.mean(ref(y64, q)), p)
    # scale by the number of averaged terms so entries are O(1) and the absolute tolerance bites
    terms = _samples(shape) if stem in ROW_LOSSES else p.size
    assert_close(d * np.float32(terms), expected * terms, "loss")
    assert_close(getattr(ops, stem + "_backward")(y, p, **kw), expected, "loss")


def test_backward_big_matches_reference_formula(rng, isa):
    # the threaded path: MSE's gradient 2 (p - y) / (N D) at a size split across threads
    y, p = _f32(rng.normal(size=BIG), rng.normal(size=BIG))
    d = _kernel_backward("mean_squared_error", {}, y, p)
    assert_close(d * np.float32(p.size), 2 * (p.astype(np.float64) - y), "loss")


# ---- sparse categorical cross-entropy -------------------------------------------------------------

SPARSE_SHAPES = [(1, 1), (1, 7), (7, 1), (7, 33), (33, 7), (2, 257), (257, 3)]


@pytest.mark.parametrize("from_logits", [False, True])
@pytest.mark.parametrize("label_dtype", [np.int32, np.int64])
@pytest.mark.parametrize("label_shape", ["flat", "column"])
@pytest.mark.parametrize("shape", SPARSE_SHAPES)
def test_sparse_forward_backward(shape, label_shape, label_dtype, from_logits, isa, rng):
    n, c = shape
    labels = rng.integers(0, c, n).astype(label_dtype)
    p = (3 * rng.normal(size=shape) if from_logits else rng.uniform(0.1, 1.0, shape)).astype(np.float32)
    y = onehot(labels, c)
    ref = ref_cce_logits if from_logits else ref_cce
    lab = labels if label_shape == "flat" else labels.reshape(n, 1)
    value = _core.sparse_categorical_crossentropy_forward(nk.tensor(lab), nk.tensor(p), from_logits, None)
    assert_close(np.float32(value), np.mean(ref(y, p.astype(np.float64))), "loss")
    out = nan_tensor((n,))
    _core.sparse_categorical_crossentropy_forward(nk.tensor(lab), nk.tensor(p), from_logits, out)
    assert_close(out.numpy(), ref(y, p.astype(np.float64)), "loss")
    d = nan_tensor(shape)
    _core.sparse_categorical_crossentropy_backward(d, nk.tensor(lab), nk.tensor(p), from_logits)
    expected = numeric_grad(lambda q: np.mean(ref(y, q)), p)
    assert_close(d.numpy() * np.float32(n), expected * n, "loss")


def test_sparse_accepts_whole_float_labels(rng):
    p = rng.uniform(0.1, 1, (5, 4)).astype(np.float32)
    labels = np.array([0, 3, 1, 2, 3])
    assert ops.sparse_categorical_crossentropy(labels.astype(np.float32), p) == \
        ops.sparse_categorical_crossentropy(labels, p)
    with pytest.raises(ValueError, match=r"whole numbers.*label=1\.5"):
        ops.sparse_categorical_crossentropy(np.array([0, 1.5, 1, 2, 3]), p)


@pytest.mark.parametrize("bad", [-1, 4, 100])
@pytest.mark.parametrize("label_dtype", [np.int32, np.int64])
def test_sparse_out_of_range_label_names_value_and_position(bad, label_dtype, rng):
    p = rng.uniform(0.1, 1, (5, 4)).astype(np.float32)
    labels = np.array([0, 3, bad, 2, 1], dtype=label_dtype)
    for call in (lambda: ops.sparse_categorical_crossentropy(labels, p),
                 lambda: ops.sparse_categorical_crossentropy_backward(labels, p),
                 lambda: ops.sparse_softmax_cross_entropy_backward(labels, p)):
        with pytest.raises(IndexError, match=rf"label {bad} at position 2 .*\[0, 4\)"):
            call()


def test_sparse_label_shape_mismatch(rng):
    p = rng.uniform(0.1, 1, (5, 4)).astype(np.float32)
    with pytest.raises(ValueError, match=r"one label per sample, shape \(5,\).*got \(4,\)"):
        ops.sparse_categorical_crossentropy(np.array([0, 1, 2, 3]), p)
    with pytest.raises(TypeError, match="integer labels"):
        _core.sparse_categorical_crossentropy_forward(nk.tensor(np.zeros(5, np.float32)), nk.tensor(p),
                                                      False, None)


# ---- edge values ------------------------------------------------------------------------------------

def test_bce_clips_like_keras(isa):
    # p = 0 and 1 are clipped to [eps, 1 - eps] (float32): finite loss, zero gradient there
    y = np.array([[1, 0, 1, 0]], np.float32)
    p = np.array([[0.0, 1.0, 1.0, 0.0]], np.float32)
    assert_close(np.float32(ops.binary_crossentropy(y, p)), np.mean(ref_bce(y, p.astype(np.float64))), "loss")
    assert_close(ops.binary_crossentropy_backward(y, p), np.zeros((1, 4)), "loss")


def test_logits_losses_are_stable_for_huge_logits(isa):
    z = np.array([[1000.0, -1000.0, 0.0]], np.float32)
    y = np.array([[1.0, 0.0, 0.0]], np.float32)
    assert_close(np.float32(ops.categorical_crossentropy(y, z, from_logits=True)), 0.0, "loss")
    assert_close(np.float32(ops.binary_crossentropy(y, z, from_logits=True)),
                 np.mean(ref_bce_logits(y, z.astype(np.float64))), "loss")
    assert np.all(np.isfinite(ops.categorical_crossentropy_backward(y, z, from_logits=True)))


def test_cosine_zero_vector_prediction(isa):
    # Keras's normalisation maps a zero vector to zero: loss 0 for that sample, finite gradient
    y = np.array([[1.0, 2.0], [0.5, -1.0]], np.float32)
    p = np.array([[0.0, 0.0], [1.0, 1.0]], np.float32)
    expected = np.mean(ref_cosine(y, p.astype(np.float64)))
    assert_close(np.float32(ops.cosine_similarity(y, p)), expected, "loss")
    assert np.all(np.isfinite(ops.cosine_similarity_backward(y, p)))


# ---- fused activation + loss backward -----------------------------------------------------------

FUSED_SHAPES = [(1, 1), (1, 7), (7, 1), (7, 33), (33, 7), (2, 257)]


@pytest.mark.parametrize("smoothing", [0.0, 0.2])
@pytest.mark.parametrize("shape", FUSED_SHAPES)
def test_softmax_cross_entropy_backward_is_chain_rule(shape, smoothing, isa, rng):
    z = rng.normal(size=shape)
    y = _cat_probs(rng, shape)[0]
    probs = softmax(z).astype(np.float32)
    z = log_softmax(z)  # the logits of `probs` exactly (softmax is shift-invariant)
    d = nan_tensor(shape)
    _core.softmax_cross_entropy_backward(d, nk.tensor(y.astype(np.float32)), nk.tensor(probs), smoothing)
    expected = numeric_grad(lambda t: np.mean(ref_cce(smooth_categorical(y, smoothing), softmax(t))), z)
    n = shape[0]
    assert_close(d.numpy() * np.float32(n), expected * n, "loss")


@pytest.mark.parametrize("shape", FUSED_SHAPES)
def test_sparse_softmax_cross_entropy_backward_is_chain_rule(shape, isa, rng):
    n, c = shape
    labels = rng.integers(0, c, n)
    z = rng.normal(size=shape)
    probs = softmax(z).astype(np.float32)
    d = nan_tensor(shape)
    _core.sparse_softmax_cross_entropy_backward(d, nk.tensor(labels), nk.tensor(probs))
    expected = numeric_grad(lambda t: np.mean(ref_cce(onehot(labels, c), softmax(t))), z)
    assert_close(d.numpy() * np.float32(n), expected * n, "loss")


@pytest.mark.parametrize("smoothing", [0.0, 0.2])
@pytest.mark.parametrize("shape", FUSED_SHAPES + [(7,)])
def test_sigmoid_binary_crossentropy_backward_is_chain_rule(shape, smoothing, isa, rng):
    z = rng.normal(size=shape)
    y = rng.uniform(0, 1, shape)
    probs = sigmoid(z).astype(np.float32)
    d = nan_tensor(shape)
    _core.sigmoid_binary_crossentropy_backward(d, nk.tensor(y.astype(np.float32)), nk.tensor(probs),
                                               smoothing)
    expected = numeric_grad(lambda t: np.mean(ref_bce(smooth_binary(y, smoothing), sigmoid(t))), z)
    assert_close(d.numpy() * np.float32(z.size), expected * z.size, "loss")


# ---- bad input --------------------------------------------------------------------------------------

@pytest.mark.parametrize("stem", ["mean_squared_error", "binary_crossentropy", "cosine_similarity",
                                  "categorical_crossentropy", "hinge"])
def test_shape_mismatch_names_both_shapes(stem):
    y, p = np.zeros((3, 4), np.float32), np.full((3, 5), 0.5, np.float32)
    with pytest.raises(ValueError, match=r"y_true \(3, 4\) and y_pred \(3, 5\)"):
        getattr(ops, stem)(y, p)
    with pytest.raises(ValueError, match=r"y_true \(3, 4\) and y_pred \(3, 5\)"):
        getattr(ops, stem + "_backward")(y, p)


def test_wrong_dtype_and_bad_outputs():
    y = nk.tensor(np.zeros((3, 4), np.float32))
    with pytest.raises(TypeError, match="y_pred must have dtype float32, got int64"):
        _core.mean_squared_error_forward(y, nk.tensor(np.zeros((3, 4), np.int64)), None)
    p = nk.tensor(np.ones((3, 4), np.float32))
    with pytest.raises(ValueError, match=r"dpred must have the shape of the predictions \(3, 4\)"):
        _core.mean_squared_error_backward(nan_tensor((4, 3)), y, p)
    with pytest.raises(ValueError, match="must not share memory"):
        _core.mean_squared_error_backward(p, y, p)
    with pytest.raises(TypeError, match="dpred must have dtype float32"):
        _core.mean_squared_error_backward(nk.zeros((3, 4), "int32"), y, p)
    with pytest.raises(ValueError, match=r"one loss per sample"):
        _core.mean_squared_error_forward(y, p, nan_tensor((4,)))
    with pytest.raises(ValueError, match="empty"):
        ops.mean_squared_error(np.zeros((0, 3), np.float32), np.zeros((0, 3), np.float32))


# ---- the losses module ------------------------------------------------------------------------------

def test_loss_objects_match_ops_and_return_tensor_gradients(rng):
    y, p = _f32(*_cat_probs(rng, (6, 5)))
    for name, stem in [("mse", "mean_squared_error"), ("mae", "mean_absolute_error"),
                       ("binary_crossentropy", "binary_crossentropy"),
                       ("categorical_crossentropy", "categorical_crossentropy"), ("hinge", "hinge"),
                       ("cosine_similarity", "cosine_similarity")]:
        loss = losses.get(name)
        value, d = loss.forward_backward(y, p)
        assert value == loss(y, p) == getattr(ops, stem)(y, p)
        assert isinstance(d, nk.Tensor) and d.shape == (6, 5)
        assert_close(d.numpy(), getattr(ops, stem + "_backward")(y, p), "loss")


def test_integer_targets_are_cast_like_keras(rng):
    p = rng.uniform(0.1, 0.9, (6, 1)).astype(np.float32)
    labels = rng.integers(0, 2, (6, 1))
    bce = losses.BinaryCrossentropy()
    expected = bce(labels.astype(np.float32), p)
    assert bce(nk.tensor(labels), p) == expected  # an int64 Tensor
    assert bce(nk.tensor(labels.astype(np.int32)), nk.tensor(p)) == expected
    reference = np.mean(ref_bce(labels.astype(np.float64), p.astype(np.float64)))
    assert_close(np.float32(expected), reference, "loss")
    per_sample = losses.mse(nk.tensor(labels), nk.tensor(p)).numpy()
    assert_close(per_sample, ref_mse(labels, p.astype(np.float64)), "loss")


def test_rank_matching_like_keras(rng):
    y = rng.normal(size=7).astype(np.float32)
    p = rng.normal(size=(7, 1)).astype(np.float32)
    loss = losses.MeanSquaredError()
    assert_close(np.float32(loss(y, p)), np.mean((y[:, None].astype(np.float64) - p) ** 2), "loss")
    _, d = loss.forward_backward(y, p)
    assert d.shape == (7, 1)
    assert loss(y[:, None], p[:, 0]) == loss(y, p)
    with pytest.raises(ValueError, match=r"\(7,\).*\(7, 2\)"):
        loss(y, np.zeros((7, 2), np.float32))


def test_fused_path_selection(rng):
    cce, scce, bce = losses.CategoricalCrossentropy(), losses.SparseCategoricalCrossentropy(), \
        losses.BinaryCrossentropy()
    assert cce.fuses_with("softmax") and scce.fuses_with("softmax") and bce.fuses_with("sigmoid")
    assert not cce.fuses_with("sigmoid") and not bce.fuses_with("softmax")
    assert not losses.MeanSquaredError().fuses_with("softmax")
    assert not losses.CategoricalCrossentropy(from_logits=True).fuses_with("softmax")
    with pytest.raises(ValueError, match="fuses_with"):
        losses.CategoricalCrossentropy(from_logits=True).fused_forward_backward(
            np.eye(3, dtype=np.float32), np.eye(3, dtype=np.float32))
    z = rng.normal(size=(4, 3))
    probs = softmax(z).astype(np.float32)
    labels = np.array([0, 2, 1, 1])
    value, d = scce.fused_forward_backward(labels, probs)
    assert value == scce(labels, probs)
    assert_close(d.numpy() * np.float32(4), probs - onehot(labels, 3), "loss")
    value, d = cce.fused_forward_backward(onehot(labels, 3).astype(np.float32), probs)
    assert_close(d.numpy() * np.float32(4), probs - onehot(labels, 3), "loss")
    smoothed = losses.CategoricalCrossentropy(label_smoothing=0.3)
    value, d = smoothed.fused_forward_backward(onehot(labels, 3).astype(np.float32), probs)
    target = onehot(labels, 3) * 0.7 + 0.1
    assert_close(np.float32(value), np.mean(ref_cce(target, probs.astype(np.float64))), "loss")
    assert_close(d.numpy() * np.float32(4), probs - target, "loss")
    with pytest.raises(ValueError, match="Received: label_smoothing=1.5"):
        losses.BinaryCrossentropy(label_smoothing=1.5)
    with pytest.raises(ValueError, match="Received: label_smoothing=-0.5"):
        ops.binary_crossentropy(np.zeros(3, np.float32), np.full(3, 0.5, np.float32), label_smoothing=-0.5)


def test_functions_return_per_sample_losses(rng):
    y, p = _f32(*_cat_probs(rng, (6, 5)))
    assert_close(losses.mse(y, p), ref_mse(y.astype(np.float64), p), "loss")
    assert_close(losses.categorical_crossentropy(y, p), ref_cce(y.astype(np.float64), p), "loss")
    out = losses.sparse_categorical_crossentropy(nk.tensor(np.array([0, 1, 2, 3, 4, 0])), nk.tensor(p))
    assert isinstance(out, nk.Tensor) and out.shape == (6,)


def test_get_and_config_round_trip():
    for name in ["mse", "mean_squared_error", "mae", "mean_absolute_error", "binary_crossentropy",
                 "categorical_crossentropy", "sparse_categorical_crossentropy", "hinge", "cosine_similarity",
                 "mape", "msle", "huber", "log_cosh", "logcosh", "kld", "kl_divergence", "poisson",
                 "squared_hinge", "categorical_hinge", "bce"]:
        loss = losses.get(name)
        assert isinstance(loss, losses.Loss)
        again = losses.deserialize(losses.serialize(loss))
        assert type(again) is type(loss) and again.get_config() == loss.get_config()
    b = losses.BinaryCrossentropy(from_logits=True)
    assert losses.get(b) is b and losses.get(None) is None
    assert isinstance(losses.get(losses.mse), losses.MeanSquaredError)
    assert isinstance(losses.get("SparseCategoricalCrossentropy"), losses.SparseCategoricalCrossentropy)
    assert losses.BinaryCrossentropy.from_config(b.get_config()).from_logits is True
    assert losses.deserialize(losses.serialize(losses.Huber(delta=0.25))).delta == 0.25
    assert losses.get("kld").name == "kl_divergence" and losses.get("huber").name == "huber_loss"
    with pytest.raises(ValueError, match="Received: delta=-1"):
        losses.Huber(delta=-1)
    with pytest.raises(ValueError, match="Received: delta=nan"):
        ops.huber(np.zeros(3, np.float32), np.zeros(3, np.float32), delta=float("nan"))
    with pytest.raises(ValueError, match=r"Could not interpret loss identifier: 'msee'.*mean_squared_error"):
        losses.get("msee")
    with pytest.raises(ValueError, match="Received: reduction='sum'"):
        losses.MeanSquaredError(reduction="sum")
    with pytest.raises(ValueError, match="Received: from_logits='yes'"):
        losses.BinaryCrossentropy(from_logits="yes")


# ---- optional cross-check against PyTorch ---------------------------------------------------------

def test_against_torch(rng):
    torch = pytest.importorskip("torch")
    z = rng.normal(size=(9, 5)).astype(np.float32)
    labels = rng.integers(0, 5, 9)
    expected = torch.nn.functional.cross_entropy(torch.from_numpy(z), torch.from_numpy(labels)).item()
    value = ops.sparse_categorical_crossentropy(labels, z, from_logits=True)
    assert_close(np.float32(value), expected, "loss")
    y = rng.uniform(0, 1, (9, 5)).astype(np.float32)
    expected = torch.nn.functional.binary_cross_entropy_with_logits(torch.from_numpy(z), torch.from_numpy(y))
    assert_close(np.float32(ops.binary_crossentropy(y, z, from_logits=True)), expected.item(), "loss")
    expected = torch.nn.functional.mse_loss(torch.from_numpy(z), torch.from_numpy(y)).item()
    assert_close(np.float32(ops.mean_squared_error(y, z)), expected, "loss")
