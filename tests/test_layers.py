"""Layers: Dense/Activation/Dropout/Flatten/Input vs float64 NumPy references, gradients by finite
differences, the backward contract (dx overwritten, weight gradients accumulated, frozen weights
untouched), weights API and config round trips, initializers."""
import math

import numpy as np
import pytest

import neurokern as nk
from neurokern import initializers, layers, ops, utils
from neurokern.layers import Activation, Dense, Dropout, Flatten, Input, InputLayer

from _gradcheck import numeric_grad
from conftest import assert_close

# ---- float64 NumPy references of the activations (Keras definitions) -----------------------------


def _softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


REF_ACT = {
    "linear": lambda z: z,
    "relu": lambda z: np.maximum(z, 0),
    "sigmoid": lambda z: 1 / (1 + np.exp(-z)),
    "tanh": np.tanh,
    "softmax": _softmax,
    "elu": lambda z: np.where(z > 0, z, np.exp(z) - 1),
    "softplus": lambda z: np.log1p(np.exp(z)),
    "softsign": lambda z: z / (1 + np.abs(z)),
    "selu": lambda z: 1.0507009873554805 * np.where(z > 0, z, 1.6732632423543772 * (np.exp(z) - 1)),
    "silu": lambda z: z / (1 + np.exp(-z)),
    "leaky_relu": lambda z: np.where(z > 0, z, 0.2 * z),  # activations.get('leaky_relu'): Keras 3 slope 0.2
    "relu6": lambda z: np.clip(z, 0, 6),
    "hard_sigmoid": lambda z: np.clip(z / 6 + 0.5, 0, 1),
    "exponential": np.exp,
    "log_softmax": lambda z: np.log(_softmax(z)),
}
# where each activation's derivative jumps: finite differences must stay away from these
KINKS = {"relu": [0], "elu": [0], "selu": [0], "leaky_relu": [0], "relu6": [0, 6], "hard_sigmoid": [-3, 3]}


def _away_from_kinks(a, eps=0.05):
    """Move values off 0 (relu/elu kinks) so finite differences are smooth."""
    return np.where(np.abs(a) < eps, np.sign(a + 1e-12) * eps, a)


def layer_grads(layer, x, dy):
    """Run forward(training=True) and backward once with zeroed weight gradients.
    Returns (y, dx, {weight name: grad}) as NumPy."""
    for w in layer.weights:
        g = w.grad_buffer()
        ops.fill(g, 0.0)
        w.grad = g
    y, ctx = layer.forward(nk.tensor(x), training=True)
    dx = layer.backward(ctx, nk.tensor(dy))
    return y.numpy().copy(), dx.numpy().copy(), {w.name: w.grad.numpy().copy() for w in layer.weights}


def built_dense(units, in_dim, activation=None, **kwargs):
    layer = Dense(units, activation=activation, **kwargs)
    layer._maybe_build((None, in_dim))
    return layer


# ---- Dense ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("n,k,units", [(1, 1, 1), (7, 33, 5), (16, 8, 257)])
def test_dense_forward_matches_numpy(rng, isa, n, k, units):
    layer = built_dense(units, k, bias_initializer="random_normal")
    x = rng.standard_normal((n, k)).astype(np.float32)
    w, b = layer.get_weights()
    assert w.shape == (k, units) and b.shape == (units,)  # Keras layouts
    y = layer(x)
    assert_close(y, x.astype(np.float64) @ w + b, "gemm")


@pytest.mark.parametrize("act", sorted(REF_ACT))
def test_dense_activation_gradients_fd(rng, isa, act):
    """Backward (float32 kernels) vs central differences of the float64 NumPy forward, for x, W and b."""
    n, k, units = 4, 6, 5
    layer = built_dense(units, k, activation=act, bias_initializer="random_normal")
    w0, b0 = (a.astype(np.float64) for a in layer.get_weights())
    x = rng.standard_normal((n, k)).astype(np.float32)
    # central differences with h = 1e-6 need every pre-activation well away from a kink
    z = x.astype(np.float64) @ w0 + b0
    assert all(np.all(np.abs(z - k) > 1e-4) for k in KINKS.get(act, []))
    dy = rng.standard_normal((n, units))
    y, dx, grads = layer_grads(layer, x, dy.astype(np.float32))
    f = REF_ACT[act]
    assert_close(y, f(x.astype(np.float64) @ w0 + b0), "layer")
    assert_close(dx, numeric_grad(lambda xx: f(xx @ w0 + b0), x, dy=dy), "layer")
    assert_close(grads["kernel"], numeric_grad(lambda ww: f(x.astype(np.float64) @ ww + b0), w0, dy=dy), "layer")
    assert_close(grads["bias"], numeric_grad(lambda bb: f(x.astype(np.float64) @ w0 + bb), b0, dy=dy), "layer")


def test_dense_gradient_fd_on_float32_kernels(rng):
    """Finite differences straight through the layer's own float32 forward (coarse h, 'grad_fd32')."""
    layer = built_dense(3, 4, activation="tanh")
    x = rng.standard_normal((5, 4)).astype(np.float32)
    dy = rng.standard_normal((5, 3)).astype(np.float32)
    _, dx, grads = layer_grads(layer, x, dy)
    fwd = lambda xx: layer(xx.astype(np.float32)).astype(np.float64)  # noqa: E731
    assert_close(dx, numeric_grad(fwd, x, h=1e-2, dy=dy), "grad_fd32")
    w0 = layer.kernel.numpy()

    def f_w(ww):
        layer.kernel.assign(ww.astype(np.float32))
        return layer(x).astype(np.float64)

    num = numeric_grad(f_w, w0, h=1e-2, dy=dy)
    layer.kernel.assign(w0)
    assert_close(grads["kernel"], num, "grad_fd32")


def test_dense_rank3_input_acts_on_last_axis(rng):
    layer = Dense(4, activation="relu")
    x = rng.standard_normal((2, 3, 5)).astype(np.float32)
    y = layer(x)
    w, b = layer.get_weights()
    assert y.shape == (2, 3, 4)
    assert layer.compute_output_shape((None, 3, 5)) == (None, 3, 4)
    assert_close(y, np.maximum(x.astype(np.float64) @ w + b, 0), "gemm")
    dy = rng.standard_normal((2, 3, 4)).astype(np.float32)
    _, dx, grads = layer_grads(layer, x, dy)
    mask = (x.astype(np.float64) @ w + b) > 0
    dz = dy * mask
    assert dx.shape == x.shape
    assert_close(dx, dz @ w.T.astype(np.float64), "gemm")
    assert_close(grads["kernel"], x.reshape(-1, 5).astype(np.float64).T @ dz.reshape(-1, 4), "gemm")


def test_backward_accumulates_weight_grads_and_overwrites_dx(rng):
    layer = built_dense(3, 4, activation="sigmoid")
    x = rng.standard_normal((6, 4)).astype(np.float32)
    dy = rng.standard_normal((6, 3)).astype(np.float32)
    _, dx1, g1 = layer_grads(layer, x, dy)
    # second backward without zeroing: weight grads double, dx stays the same (fresh, overwritten)
    y, ctx = layer.forward(nk.tensor(x), training=True)
    dx2 = layer.backward(ctx, nk.tensor(dy)).numpy()
    assert_close(layer.kernel.grad.numpy(), 2 * g1["kernel"].astype(np.float64), "layer")
    assert_close(layer.bias.grad.numpy(), 2 * g1["bias"].astype(np.float64), "layer")
    assert_close(dx2, dx1.astype(np.float64), "layer")


def test_weight_sharing_two_uses_add_gradients(rng):
    """One layer used twice: each use has its own ctx; both backwards add into the same grad."""
    layer = built_dense(4, 4, activation="tanh")
    x1, x2 = (rng.standard_normal((3, 4)).astype(np.float32) for _ in range(2))
    dy1, dy2 = (rng.standard_normal((3, 4)).astype(np.float32) for _ in range(2))
    _, _, g1 = layer_grads(layer, x1, dy1)
    _, _, g2 = layer_grads(layer, x2, dy2)
    for w in layer.weights:
        ops.fill(w.grad, 0.0)
    _, c1 = layer.forward(nk.tensor(x1), training=True)
    _, c2 = layer.forward(nk.tensor(x2), training=True)
    layer.backward(c2, nk.tensor(dy2))
    layer.backward(c1, nk.tensor(dy1))
    assert_close(layer.kernel.grad.numpy(), g1["kernel"].astype(np.float64) + g2["kernel"], "layer")


def test_frozen_layer_computes_dx_but_no_weight_grads(rng):
    layer = built_dense(3, 4)
    for w in layer.weights:
        w.grad = None  # what the model does for weights it does not train
    before = layer.get_weights()
    x = rng.standard_normal((5, 4)).astype(np.float32)
    dy = rng.standard_normal((5, 3)).astype(np.float32)
    _, ctx = layer.forward(nk.tensor(x), training=True)
    dx = layer.backward(ctx, nk.tensor(dy)).numpy()
    assert_close(dx, dy.astype(np.float64) @ before[0].T, "gemm")
    for a, b in zip(before, layer.get_weights()):
        assert np.array_equal(a, b)
    assert layer.backward(ctx, nk.tensor(dy), need_dx=False) is None


def test_dense_without_bias(rng):
    layer = built_dense(3, 2, use_bias=False)
    assert [w.name for w in layer.weights] == ["kernel"]
    assert layer.count_params() == 6
    x = rng.standard_normal((4, 2)).astype(np.float32)
    assert_close(layer(x), x.astype(np.float64) @ layer.get_weights()[0], "gemm")


# ---- Activation layer -----------------------------------------------------------------------------
@pytest.mark.parametrize("act", ["relu", "sigmoid", "tanh", "softmax", "elu", "softplus", "silu"])
def test_activation_layer_forward_and_fd(rng, act):
    x = _away_from_kinks(rng.standard_normal((4, 7))).astype(np.float32)
    dy = rng.standard_normal((4, 7))
    layer = Activation(act)
    y, ctx = layer.forward(nk.tensor(x), training=True)
    dx = layer.backward(ctx, nk.tensor(dy.astype(np.float32))).numpy()
    f = REF_ACT[act]
    assert_close(y.numpy(), f(x.astype(np.float64)), "elementwise")
    assert_close(dx, numeric_grad(f, x, dy=dy), "layer")
    layer(x)  # builds it
    assert layer.count_params() == 0 and layer.weights == []


# ---- Dropout --------------------------------------------------------------------------------------
def test_dropout_training_scales_kept_and_gradient_matches_fd(rng):
    rate = 0.3
    x = (rng.random((64, 33)) + 0.5).astype(np.float32)  # nonzero, so the mask is visible in y
    layer = Dropout(rate, seed=7)
    y, seed = layer.forward(nk.tensor(x), training=True)
    y = y.numpy().copy()
    kept = y != 0
    assert_close(y[kept], x[kept].astype(np.float64) / (1 - rate), "elementwise")
    assert abs(1 - kept.mean() - rate) < 0.05  # 2112 draws: std of the fraction ~0.01
    dy = rng.standard_normal(x.shape)
    dx = layer.backward(seed, nk.tensor(dy.astype(np.float32))).numpy()
    assert_close(dx, dy * kept / (1 - rate), "elementwise")  # the mask is recomputed from the seed


def test_dropout_gradient_fd_fixed_seed(rng):
    rate = 0.4
    x = (rng.random((6, 7)) + 0.5).astype(np.float32)
    dy = rng.standard_normal(x.shape)
    layer = Dropout(rate, seed=3)
    _, seed = layer.forward(nk.tensor(x), training=True)
    dx = layer.backward(seed, nk.tensor(dy.astype(np.float32))).numpy()
    # with its seed fixed the forward is a fixed linear map: finite differences through the kernel
    num = numeric_grad(lambda xx: ops.dropout(xx.astype(np.float32), rate, seed).astype(np.float64), x, h=1e-2,
                       dy=dy)
    assert_close(dx, num, "grad_fd32")
    assert 0 < np.count_nonzero(dx) < dx.size


def test_dropout_is_identity_at_inference_and_rate_zero(rng):
    x = rng.standard_normal((5, 6)).astype(np.float32)
    assert np.array_equal(Dropout(0.5)(x, training=False), x)
    assert np.array_equal(Dropout(0.0)(x, training=True), x)


def test_dropout_seeds_reproducible_and_fresh_per_call(rng):
    x = np.ones((32, 32), np.float32)
    a, b = Dropout(0.5, seed=3), Dropout(0.5, seed=3)
    ya1, ya2 = a(x, training=True), a(x, training=True)
    assert np.array_equal(ya1, b(x, training=True))  # same layer seed -> same sequence of masks
    assert not np.array_equal(ya1, ya2)              # a new mask on each call
    utils.set_random_seed(11)
    u1 = Dropout(0.5)(x, training=True)
    utils.set_random_seed(11)
    u2 = Dropout(0.5)(x, training=True)
    assert np.array_equal(u1, u2)


# ---- Flatten / Input ------------------------------------------------------------------------------
def test_flatten_forward_backward(rng):
    x = rng.standard_normal((3, 4, 5, 2)).astype(np.float32)
    layer = Flatten()
    y, ctx = layer.forward(nk.tensor(x))
    assert y.shape == (3, 40)
    assert np.array_equal(y.numpy(), x.reshape(3, 40))
    dy = rng.standard_normal((3, 40)).astype(np.float32)
    dx = layer.backward(ctx, nk.tensor(dy)).numpy()
    assert np.array_equal(dx, dy.reshape(x.shape))  # the gradient of a reshape is the inverse reshape
    assert layer.compute_output_shape((None, 4, 5, 2)) == (None, 40)
    assert layer.compute_output_shape((None, None, 5)) == (None, None)


def test_input_returns_symbolic_tensor_and_layer_call_builds():
    t = Input(shape=(784,))
    assert t.shape == (None, 784)
    assert isinstance(t.history[0], InputLayer)
    out = Dense(10)(t)
    assert out.shape == (None, 10)
    assert out.history[0].built and out.history[0].kernel.shape == (784, 10)


# ---- weights API, naming, config ------------------------------------------------------------------
def test_keras_style_auto_names():
    utils.clear_session()
    assert [Dense(2).name, Dense(2).name, Dropout(0.1).name, Dense(2).name] == ["dense", "dense_1", "dropout",
                                                                                "dense_2"]
    assert Dense(2, name="head").name == "head"


def test_get_set_weights_round_trip_and_checks(rng):
    layer = built_dense(3, 2)
    new = [rng.standard_normal((2, 3)).astype(np.float32), rng.standard_normal(3).astype(np.float32)]
    layer.set_weights(new)
    got = layer.get_weights()
    assert all(np.array_equal(a, b) for a, b in zip(got, new))
    got[0][:] = 0  # get_weights returns copies
    assert np.array_equal(layer.get_weights()[0], new[0])
    with pytest.raises(ValueError, match=r"expects 2 weight arrays .* received 1"):
        layer.set_weights(new[:1])
    with pytest.raises(ValueError, match=r"weight 'bias' has shape \(3,\), but the provided array has shape \(4,\)"):
        layer.set_weights([new[0], np.zeros(4)])
    assert np.array_equal(layer.get_weights()[0], new[0])  # failed set_weights changed nothing


def test_trainable_flag_and_param_counts():
    layer = built_dense(10, 784)
    assert layer.count_params() == 7850
    assert len(layer.trainable_weights) == 2 and layer.non_trainable_weights == []
    layer.trainable = False
    assert layer.trainable_weights == [] and len(layer.non_trainable_weights) == 2
    assert layer.count_params() == 7850


def test_weights_are_tensors_in_keras_layout():
    layer = built_dense(5, 3)
    assert isinstance(layer.kernel.value, nk.Tensor) and layer.kernel.value.dtype == "float32"
    assert layer.kernel.shape == (3, 5) and layer.bias.shape == (5,)
    assert layer.kernel.path == f"{layer.name}/kernel"


@pytest.mark.parametrize("make", [
    lambda: Dense(7, activation="relu", use_bias=False, kernel_initializer="he_normal", name="d"),
    lambda: Dense(3, input_shape=(4,)),
    lambda: Activation("tanh"),
    lambda: Dropout(0.25, seed=5),
    lambda: Flatten(),
])
def test_config_round_trip(make):
    layer = make()
    config = layer.get_config()
    clone = type(layer).from_config(config)
    assert clone.get_config() == config
    assert layers.deserialize(layers.serialize(layer)).get_config() == config


def test_dense_clone_from_config_builds_same_shapes():
    layer = built_dense(4, 3, activation="softmax")
    clone = Dense.from_config(layer.get_config())
    clone._maybe_build((None, 3))
    assert [w.shape for w in clone.weights] == [w.shape for w in layer.weights]
    assert clone.activation.name == "softmax"


# ---- initializers -------------------------------------------------------------------------------
@pytest.mark.parametrize("name,scale,mode,dist", [
    ("glorot_uniform", 1, "fan_avg", "uniform"), ("glorot_normal", 1, "fan_avg", "normal"),
    ("he_uniform", 2, "fan_in", "uniform"), ("he_normal", 2, "fan_in", "normal"),
    ("lecun_uniform", 1, "fan_in", "uniform"), ("lecun_normal", 1, "fan_in", "normal"),
])
def test_variance_scaling_presets_match_keras_formulas(name, scale, mode, dist):
    utils.set_random_seed(0)
    shape = (300, 200)
    w = initializers.get(name)(shape).astype(np.float64)
    assert w.shape == shape and w.dtype == np.float64
    n = {"fan_in": 300, "fan_avg": 250}[mode]
    var = scale / n
    if dist == "uniform":
        limit = math.sqrt(3 * var)
        assert w.max() <= limit and w.min() >= -limit and w.max() > 0.99 * limit
    else:  # truncated at 2 stddev of the underlying normal
        std = math.sqrt(var) / 0.87962566103423978
        assert np.abs(w).max() <= 2 * std
    # the variance is scale / n for all of them (60000 draws: relative std of the estimate ~0.6%)
    assert abs(w.var() / var - 1) < 0.05
    assert abs(w.mean()) < 0.01 * math.sqrt(var) * 10


def test_simple_initializers():
    utils.set_random_seed(1)
    assert np.array_equal(initializers.get("zeros")((2, 3)), np.zeros((2, 3), np.float32))
    assert np.array_equal(initializers.get("ones")((4,)), np.ones(4, np.float32))
    assert np.all(initializers.Constant(2.5)((3, 3)) == 2.5)
    u = initializers.get("random_uniform")((1000,))
    assert u.min() >= -0.05 and u.max() <= 0.05
    t = initializers.TruncatedNormal(stddev=1.0)((10000,))
    assert np.abs(t).max() <= 2.0 and abs(t.std() - 0.8796) < 0.03
    r = initializers.RandomNormal(mean=1.0, stddev=0.5)((20000,))
    assert abs(r.mean() - 1.0) < 0.02 and abs(r.std() - 0.5) < 0.02
    # an explicit seed gives the same values on every call and across instances
    assert np.array_equal(initializers.GlorotUniform(seed=3)((4, 4)), initializers.GlorotUniform(seed=3)((4, 4)))
    assert initializers.deserialize(initializers.serialize(initializers.HeNormal(seed=2))).get_config() == {"seed": 2}
    assert initializers.compute_fans((3, 3, 8, 16)) == (72, 144)


def test_set_random_seed_makes_initial_weights_identical():
    utils.set_random_seed(42)
    a = built_dense(8, 5).get_weights()[0]
    utils.set_random_seed(42)
    b = built_dense(8, 5).get_weights()[0]
    utils.set_random_seed(43)
    c = built_dense(8, 5).get_weights()[0]
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_to_categorical():
    assert np.array_equal(utils.to_categorical([0, 2, 1]), np.eye(3, dtype=np.float32)[[0, 2, 1]])
    out = utils.to_categorical(np.array([[1], [3]]), num_classes=5)
    assert out.shape == (2, 5) and out.dtype == np.float32 and out[1, 3] == 1
    assert utils.to_categorical(np.zeros((2, 3), int), 2).shape == (2, 3, 2)
