"""CNN layers (Conv2D, Conv2DTranspose, pooling, UpSampling2D, BatchNormalization, LeakyReLU, Reshape,
ZeroPadding2D): forward vs float64 NumPy references of the Keras/TF definitions, gradients by finite
differences through the layer API on small awkward shapes, BatchNormalization training vs inference
(moving statistics, frozen layers), configs, and bad input (ValueError naming the layer)."""
import math

import numpy as np
import pytest

import neurokern as nk
from neurokern import layers, models, ops, utils
from neurokern.layers import (AveragePooling2D, AvgPool2D, BatchNormalization, Conv2D, Conv2DTranspose, Dense,
                              Flatten, GlobalAveragePooling2D, GlobalAvgPool2D, Input, LeakyReLU, MaxPool2D,
                              MaxPooling2D, Reshape, UpSampling2D, ZeroPadding2D)

from _gradcheck import numeric_grad
from conftest import assert_close


# ---- float64 NumPy references (Keras / TF definitions) -------------------------------------------
def same_pads(size, k, s, d=1):
    """TF 'same' padding: (out, before, after)."""
    span = (k - 1) * d + 1
    out = -(-size // s)
    total = max((out - 1) * s + span - size, 0)
    return out, total // 2, total - total // 2


def conv2d_ref(x, w, b, strides, padding, dilation):
    n, h, wd, c = x.shape
    kh, kw, _, f = w.shape
    (sh, sw), (dh, dw) = strides, dilation
    if padding == "same":
        oh, pt, pb = same_pads(h, kh, sh, dh)
        ow, pl, pr = same_pads(wd, kw, sw, dw)
    else:
        pt = pb = pl = pr = 0
        oh = (h - (kh - 1) * dh - 1) // sh + 1
        ow = (wd - (kw - 1) * dw - 1) // sw + 1
    xp = np.pad(x, ((0, 0), (pt, pb), (pl, pr), (0, 0)))
    y = np.zeros((n, oh, ow, f))
    for i in range(kh):
        for j in range(kw):
            patch = xp[:, i * dh: i * dh + (oh - 1) * sh + 1: sh, j * dw: j * dw + (ow - 1) * sw + 1: sw, :]
            y += patch @ w[i, j]
    return y + (0 if b is None else b)


def conv2d_transpose_ref(x, w, b, strides, padding, out_hw, dilation=(1, 1)):
    """Scatter form of the transposed convolution (w is (KH, KW, F, C)); the output size comes from the
    layer's Keras rule and the padding from TF's forward-convolution rule on that size."""
    n, h, wd, c = x.shape
    kh, kw, f, _ = w.shape
    (sh, sw), (dh, dw) = strides, dilation
    oh, ow = out_hw
    pt = same_pads(oh, kh, sh, dh)[1] if padding == "same" else 0
    pl = same_pads(ow, kw, sw, dw)[1] if padding == "same" else 0
    y = np.zeros((n, oh, ow, f))
    for i in range(h):
        for j in range(wd):
            for a in range(kh):
                for bb in range(kw):
                    r, q = i * sh + a * dh - pt, j * sw + bb * dw - pl
                    if 0 <= r < oh and 0 <= q < ow:
                        y[:, r, q, :] += x[:, i, j, :] @ w[a, bb].T
    return y + (0 if b is None else b)


def pool_ref(x, pool, strides, padding, mode):
    n, h, wd, c = x.shape
    (ph, pw), (sh, sw) = pool, strides
    if padding == "same":
        oh, pt, _ = same_pads(h, ph, sh)
        ow, pl, _ = same_pads(wd, pw, sw)
    else:
        pt = pl = 0
        oh, ow = (h - ph) // sh + 1, (wd - pw) // sw + 1
    y = np.zeros((n, oh, ow, c))
    for i in range(oh):
        for j in range(ow):
            r0, q0 = i * sh - pt, j * sw - pl
            win = x[:, max(r0, 0): r0 + ph, max(q0, 0): q0 + pw, :]  # in-bounds elements only
            y[:, i, j] = win.max(axis=(1, 2)) if mode == "max" else win.mean(axis=(1, 2))
    return y


def bilinear_ref(x, size):
    """tf.image.resize(method='bilinear') with half-pixel centres, as Keras UpSampling2D."""
    def axis_weights(n_in, scale):
        o = np.arange(n_in * scale)
        src = (o + 0.5) / scale - 0.5
        lo_f = np.floor(src)
        lerp = src - lo_f
        lo = np.maximum(lo_f, 0).astype(int)
        hi = np.minimum(np.ceil(src), n_in - 1).astype(int)
        m = np.zeros((n_in * scale, n_in))
        np.add.at(m, (o, lo), 1 - lerp)
        np.add.at(m, (o, hi), lerp)
        return m
    mh, mw = axis_weights(x.shape[1], size[0]), axis_weights(x.shape[2], size[1])
    return np.einsum("ph,nhwc,qw->npqc", mh, x, mw)


def bn_train_ref(x, gamma, beta, eps):
    axes = tuple(range(x.ndim - 1))
    mean, var = x.mean(axis=axes), x.var(axis=axes)
    return gamma * (x - mean) / np.sqrt(var + eps) + beta


# ---- helpers -------------------------------------------------------------------------------------
def build(layer, shape):
    layer._maybe_build((None,) + tuple(shape[1:]))
    return layer


def layer_grads(layer, x, dy, training=True):
    """forward + backward once with zeroed weight gradients: (y, dx, {weight name: grad}) as NumPy."""
    for w in layer.trainable_weights:
        g = w.grad_buffer()
        ops.fill(g, 0.0)
        w.grad = g
    y, ctx = layer.forward(nk.tensor(x), training=training)
    y = y.numpy().copy()
    dx = layer.backward(ctx, nk.tensor(dy))
    return y, dx.numpy().copy(), {w.name: w.grad.numpy().copy() for w in layer.trainable_weights}


def run(layer, x, training=True):
    return layer.forward(nk.tensor(np.ascontiguousarray(x, dtype=np.float32)), training=training)[0].numpy() \
        .astype(np.float64)


def check_fd32(layer, x, dy, training=True):
    """Backward vs central differences (h = 1e-2) of the layer's own float32 forward, for x and each
    trainable weight ('grad_fd32')."""
    _, dx, grads = layer_grads(layer, x, dy, training)
    assert_close(dx, numeric_grad(lambda xx: run(layer, xx, training), x, h=1e-2, dy=dy), "grad_fd32")
    for w in layer.trainable_weights:
        w0 = w.numpy()

        def f(ww, w=w):
            w.assign(ww)
            return run(layer, x, training)

        num = numeric_grad(f, w0, h=1e-2, dy=dy)
        w.assign(w0)
        assert_close(grads[w.name], num, "grad_fd32")
    return dx, grads


def rand(rng, shape, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


# ---- Conv2D --------------------------------------------------------------------------------------
CONV_CASES = [  # (input shape, filters, kernel, strides, padding, dilation)
    ((2, 7, 6, 3), 4, (3, 3), (1, 1), "valid", (1, 1)),
    ((1, 7, 5, 2), 3, (3, 2), (2, 2), "same", (1, 1)),
    ((2, 8, 7, 1), 5, (5, 5), (1, 1), "same", (1, 1)),
    ((1, 9, 8, 3), 2, (3, 3), (1, 1), "valid", (2, 2)),
    ((2, 6, 7, 2), 3, (2, 3), (1, 1), "same", (2, 1)),
    ((1, 7, 7, 3), 2, (3, 3), (3, 2), "valid", (1, 1)),
    ((3, 1, 1, 5), 7, (1, 1), (1, 1), "valid", (1, 1)),
]


@pytest.mark.parametrize("shape,filters,kernel,strides,padding,dilation", CONV_CASES)
def test_conv2d_forward_and_gradients_match_float64_reference(rng, shape, filters, kernel, strides, padding,
                                                             dilation):
    layer = build(Conv2D(filters, kernel, strides=strides, padding=padding, dilation_rate=dilation,
                         bias_initializer="random_normal"), shape)
    w, b = (a.astype(np.float64) for a in layer.get_weights())
    assert w.shape == tuple(kernel) + (shape[-1], filters) and b.shape == (filters,)  # Keras layout
    x = rand(rng, shape)
    ref = lambda xx, ww=w, bb=b: conv2d_ref(xx, ww, bb, strides, padding, dilation)  # noqa: E731
    expected = ref(x.astype(np.float64))
    assert layer.compute_output_shape((None,) + shape[1:]) == (None,) + expected.shape[1:]
    dy = rng.standard_normal(expected.shape)
    y, dx, grads = layer_grads(layer, x, dy.astype(np.float32))
    assert_close(y, expected, "gemm")
    assert_close(dx, numeric_grad(ref, x, dy=dy), "gemm")
    assert_close(grads["kernel"], numeric_grad(lambda ww: ref(x.astype(np.float64), ww), w, dy=dy), "gemm")
    assert_close(grads["bias"], dy.sum(axis=(0, 1, 2)), "gemm")


@pytest.mark.parametrize("shape,filters,kernel,strides,padding,dilation", CONV_CASES[:4])
def test_conv2d_gradients_fd_through_layer(rng, shape, filters, kernel, strides, padding, dilation):
    layer = build(Conv2D(filters, kernel, strides=strides, padding=padding, dilation_rate=dilation,
                         activation="tanh", bias_initializer="random_normal"), shape)
    x = rand(rng, shape)
    dy = rand(rng, layer.compute_output_shape((shape[0],) + shape[1:]))
    check_fd32(layer, x, dy)


def test_conv2d_relu_activation_and_accumulating_backward(rng):
    layer = build(Conv2D(3, 3, padding="same", activation="relu", use_bias=False), (2, 5, 6, 2))
    assert len(layer.weights) == 1 and layer.bias is None
    x = rand(rng, (2, 5, 6, 2))
    w = layer.get_weights()[0].astype(np.float64)
    z = conv2d_ref(x.astype(np.float64), w, None, (1, 1), "same", (1, 1))
    dy = rand(rng, z.shape)
    y, dx1, g1 = layer_grads(layer, x, dy)
    assert_close(y, np.maximum(z, 0), "gemm")
    dz = dy * (z > 0)
    assert_close(dx1, numeric_grad(lambda xx: conv2d_ref(xx, w, None, (1, 1), "same", (1, 1)), x, dy=dz), "gemm")
    # a second backward without zeroing: the kernel gradient doubles, dx is overwritten (the same)
    _, ctx = layer.forward(nk.tensor(x), training=True)
    dx2 = layer.backward(ctx, nk.tensor(dy)).numpy()
    assert_close(layer.kernel.grad.numpy(), 2 * g1["kernel"].astype(np.float64), "gemm")
    assert_close(dx2, dx1.astype(np.float64), "gemm")
    assert layer.backward(ctx, nk.tensor(dy), need_dx=False) is None


def test_conv2d_loss_fused_softmax_path(rng):
    layer = build(Conv2D(4, 1, activation="softmax"), (2, 3, 3, 2))
    assert layer.output_activation.name == "softmax"
    x = rand(rng, (2, 3, 3, 2))
    dz = rand(rng, (2, 3, 3, 4))
    _, ctx = layer.forward(nk.tensor(x), training=True)
    dx = layer.backward_from_pre_activation(ctx, nk.tensor(dz)).numpy()
    w = layer.get_weights()[0].astype(np.float64)
    assert_close(dx, dz.astype(np.float64) @ w[0, 0].T, "gemm")  # a 1x1 conv is a matmul over channels


# ---- Conv2DTranspose -----------------------------------------------------------------------------
TRANSPOSE_CASES = [  # (input shape, filters, kernel, strides, padding, output_padding)
    ((2, 3, 4, 3), 2, (3, 3), (2, 2), "same", None),
    ((1, 4, 3, 2), 3, (3, 2), (2, 1), "valid", None),
    ((2, 3, 3, 2), 4, (4, 4), (2, 2), "same", None),
    ((1, 3, 5, 1), 2, (3, 3), (3, 2), "valid", (2, 1)),
    ((1, 4, 4, 3), 2, (5, 3), (1, 1), "same", None),
]


@pytest.mark.parametrize("shape,filters,kernel,strides,padding,output_padding", TRANSPOSE_CASES)
def test_conv2d_transpose_matches_reference_and_fd(rng, shape, filters, kernel, strides, padding, output_padding):
    layer = build(Conv2DTranspose(filters, kernel, strides=strides, padding=padding, output_padding=output_padding,
                                  bias_initializer="random_normal"), shape)
    w, b = (a.astype(np.float64) for a in layer.get_weights())
    assert w.shape == tuple(kernel) + (filters, shape[-1])  # Keras transpose layout (KH, KW, F, C)
    out_shape = layer.compute_output_shape((None,) + shape[1:])
    x = rand(rng, shape)
    ref = lambda xx, ww=w: conv2d_transpose_ref(xx, ww, b, strides, padding, out_shape[1:3])  # noqa: E731
    expected = ref(x.astype(np.float64))
    dy = rng.standard_normal(expected.shape)
    y, dx, grads = layer_grads(layer, x, dy.astype(np.float32))
    assert_close(y, expected, "gemm")
    assert_close(dx, numeric_grad(ref, x, dy=dy), "gemm")
    assert_close(grads["kernel"], numeric_grad(lambda ww: ref(x.astype(np.float64), ww), w, dy=dy), "gemm")
    assert_close(grads["bias"], dy.sum(axis=(0, 1, 2)), "gemm")
    check_fd32(layer, x, dy.astype(np.float32))


def test_conv2d_transpose_output_sizes_follow_keras():
    cases = [  # (in, kernel, stride, padding, output_padding) -> Keras output length
        ((5, 3, 2, "same", None), 10), ((5, 3, 2, "valid", None), 11), ((5, 2, 3, "valid", None), 15),
        ((5, 3, 2, "same", 1), 10), ((5, 3, 2, "valid", 1), 12), ((5, 4, 2, "same", 0), 8),
        ((1, 5, 1, "valid", None), 5),
    ]
    for (size, k, s, pad, op), expected in cases:
        layer = Conv2DTranspose(1, k, strides=s, padding=pad, output_padding=op)
        assert layer.compute_output_shape((None, size, size, 1)) == (None, expected, expected, 1), (size, k, s, pad, op)
    with pytest.raises(ValueError, match=r"Strides must be greater than output padding.*output_padding=\(2, 2\)"):
        Conv2DTranspose(1, 3, strides=2, output_padding=2)


# ---- pooling -------------------------------------------------------------------------------------
POOL_CASES = [  # (input shape, pool, strides, padding)
    ((2, 6, 7, 3), (2, 2), None, "valid"),
    ((1, 7, 5, 2), (3, 3), (2, 2), "same"),
    ((2, 5, 5, 1), (2, 3), (1, 2), "valid"),
    ((1, 7, 6, 2), (2, 2), None, "same"),
    ((1, 1, 1, 4), (1, 1), None, "valid"),
]


def distinct_values(rng, shape):
    """Distinct values 0.1 apart: no ties in a max window, so finite differences with h = 1e-2 are smooth."""
    return (rng.permutation(math.prod(shape)).reshape(shape) * 0.1 - 1).astype(np.float32)


@pytest.mark.parametrize("cls,mode", [(MaxPooling2D, "max"), (AveragePooling2D, "avg")])
@pytest.mark.parametrize("shape,pool,strides,padding", POOL_CASES)
def test_pooling_matches_reference_and_fd(rng, cls, mode, shape, pool, strides, padding):
    layer = build(cls(pool, strides=strides, padding=padding), shape)
    assert layer.weights == []
    x = distinct_values(rng, shape)
    expected = pool_ref(x.astype(np.float64), pool, strides or pool, padding, mode)
    assert layer.compute_output_shape((None,) + shape[1:]) == (None,) + expected.shape[1:]
    dy = rand(rng, expected.shape)
    y, dx, _ = layer_grads(layer, x, dy)
    assert_close(y, expected, "elementwise")
    ref = lambda xx: pool_ref(xx, pool, strides or pool, padding, mode)  # noqa: E731
    assert_close(dx, numeric_grad(ref, x, dy=dy.astype(np.float64)), "layer")
    check_fd32(layer, x, dy)


def test_global_average_pooling_and_keepdims(rng):
    x = rand(rng, (3, 5, 7, 4))
    dy = rand(rng, (3, 4))
    layer = build(GlobalAveragePooling2D(), x.shape)
    assert layer.compute_output_shape((None, 5, 7, 4)) == (None, 4)
    y, dx, _ = layer_grads(layer, x, dy)
    assert_close(y, x.astype(np.float64).mean(axis=(1, 2)), "reduce")
    assert_close(dx, numeric_grad(lambda xx: xx.mean(axis=(1, 2)), x, dy=dy.astype(np.float64)), "layer")
    check_fd32(layer, x, dy)
    keep = build(GlobalAveragePooling2D(keepdims=True), x.shape)
    assert keep.compute_output_shape((None, 5, 7, 4)) == (None, 1, 1, 4)
    y, dx2, _ = layer_grads(keep, x, dy.reshape(3, 1, 1, 4))
    assert y.shape == (3, 1, 1, 4)
    assert_close(dx2, dx.astype(np.float64), "elementwise")


def test_pooling_aliases_are_the_keras_classes():
    assert MaxPool2D is MaxPooling2D and AvgPool2D is AveragePooling2D and GlobalAvgPool2D is GlobalAveragePooling2D
    layer = layers.deserialize({"class_name": "MaxPool2D", "config": {"pool_size": (3, 3)}})
    assert isinstance(layer, MaxPooling2D) and layer.pool_size == (3, 3) and layer.strides == (3, 3)


# ---- UpSampling2D --------------------------------------------------------------------------------
@pytest.mark.parametrize("interpolation", ["nearest", "bilinear"])
@pytest.mark.parametrize("shape,size", [((2, 3, 4, 2), (2, 2)), ((1, 5, 2, 3), (3, 2)), ((1, 1, 1, 1), (2, 3))])
def test_upsampling2d_matches_reference_and_fd(rng, interpolation, shape, size):
    layer = build(UpSampling2D(size, interpolation=interpolation), shape)
    x = rand(rng, shape)
    if interpolation == "nearest":
        ref = lambda xx: np.repeat(np.repeat(xx, size[0], axis=1), size[1], axis=2)  # noqa: E731
    else:
        ref = lambda xx: bilinear_ref(xx, size)  # noqa: E731
    expected = ref(x.astype(np.float64))
    assert layer.compute_output_shape((None,) + shape[1:]) == (None,) + expected.shape[1:]
    dy = rand(rng, expected.shape)
    y, dx, _ = layer_grads(layer, x, dy)
    assert_close(y, expected, "elementwise")
    assert_close(dx, numeric_grad(ref, x, dy=dy.astype(np.float64)), "layer")
    check_fd32(layer, x, dy)


# ---- BatchNormalization --------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(4, 3, 5, 3), (7, 5), (2, 1, 1, 6)])
@pytest.mark.parametrize("center,scale", [(True, True), (False, True), (True, False)])
def test_batchnorm_training_matches_reference_and_fd(rng, shape, center, scale):
    layer = build(BatchNormalization(center=center, scale=scale, gamma_initializer="random_normal",
                                     beta_initializer="random_normal"), shape)
    assert [w.name for w in layer.weights] == (["gamma"] if scale else []) + (["beta"] if center else []) + \
        ["moving_mean", "moving_variance"]
    assert [w.name for w in layer.non_trainable_weights] == ["moving_mean", "moving_variance"]
    c = shape[-1]
    gamma = layer.gamma.numpy().astype(np.float64) if scale else np.ones(c)
    beta = layer.beta.numpy().astype(np.float64) if center else np.zeros(c)
    x = rand(rng, shape, 2.0) + 0.5
    dy = rand(rng, shape)
    y, dx, grads = layer_grads(layer, x, dy)
    ref = lambda xx: bn_train_ref(xx, gamma, beta, 1e-3)  # noqa: E731
    assert_close(y, ref(x.astype(np.float64)), "layer")
    assert_close(dx, numeric_grad(ref, x, dy=dy.astype(np.float64)), "layer")
    if scale:
        assert_close(grads["gamma"], numeric_grad(lambda g: bn_train_ref(x.astype(np.float64), g, beta, 1e-3), gamma,
                                                  dy=dy.astype(np.float64)), "layer")
    if center:
        assert_close(grads["beta"], dy.astype(np.float64).sum(axis=tuple(range(len(shape) - 1))), "layer")
    check_fd32(layer, x, dy)


def test_batchnorm_moving_statistics_update_as_keras(rng):
    layer = build(BatchNormalization(momentum=0.9), (None, 3))
    x = rand(rng, (16, 3), 3.0) + 2.0
    layer(x, training=True)
    xd = x.astype(np.float64)
    assert_close(layer.moving_mean.numpy(), 0.9 * 0 + 0.1 * xd.mean(axis=0), "reduce")
    assert_close(layer.moving_variance.numpy(), 0.9 * 1 + 0.1 * xd.var(axis=0), "reduce")  # biased variance
    # inference uses the moving statistics and leaves them alone
    mm, mv = layer.moving_mean.numpy().astype(np.float64), layer.moving_variance.numpy().astype(np.float64)
    y = layer(x, training=False)
    assert_close(y, (xd - mm) / np.sqrt(mv + 1e-3), "layer")
    assert_close(layer.moving_mean.numpy(), mm, "reduce")


def test_batchnorm_inference_mode_gradients(rng):
    layer = build(BatchNormalization(gamma_initializer="random_normal", beta_initializer="random_normal",
                                     moving_mean_initializer="random_normal", moving_variance_initializer="ones"),
                  (None, 4, 3, 5))
    layer.moving_variance.assign(rng.uniform(0.5, 2.0, 5))
    g, bt, mm, mv = (w.numpy().astype(np.float64) for w in layer.weights)
    x = rand(rng, (2, 4, 3, 5))
    dy = rand(rng, (2, 4, 3, 5))
    ref = lambda xx, gg=g: gg * (xx - mm) / np.sqrt(mv + 1e-3) + bt  # noqa: E731
    y, dx, grads = layer_grads(layer, x, dy, training=False)
    assert_close(y, ref(x.astype(np.float64)), "layer")
    assert_close(dx, numeric_grad(ref, x, dy=dy.astype(np.float64)), "layer")
    assert_close(grads["gamma"], numeric_grad(lambda gg: ref(x.astype(np.float64), gg), g, dy=dy.astype(np.float64)),
                 "layer")
    assert_close(grads["beta"], dy.astype(np.float64).sum(axis=(0, 1, 2)), "layer")
    check_fd32(layer, x, dy, training=False)


def test_batchnorm_moving_stats_update_during_fit_and_frozen_layer_uses_them(rng):
    utils.set_random_seed(0)
    model = models.Sequential([Input(shape=(4, 4, 2)), Conv2D(3, 3, padding="same"), BatchNormalization(),
                               Flatten(), Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    bn = model.layers[1]
    x = rand(rng, (32, 4, 4, 2)) + 1.0
    y = rng.integers(0, 2, 32)
    before = bn.get_weights()
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    after = bn.get_weights()
    assert not np.allclose(before[2], after[2]) and not np.allclose(before[3], after[3])  # moving stats moved
    assert not np.allclose(before[0], after[0])  # gamma trained
    # frozen: runs in inference mode inside fit (moving stats and gamma/beta untouched)
    bn.trainable = False
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    assert len(model.non_trainable_weights) == 4
    frozen = bn.get_weights()
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    for a, b in zip(frozen, bn.get_weights()):
        assert np.array_equal(a, b)
    z = model.layers[0](x)
    g, bt, mm, mv = (a.astype(np.float64) for a in frozen)
    out, _ = bn.forward(nk.tensor(z), training=True)  # training=True, but frozen: moving statistics
    assert_close(out.numpy(), g * (z - mm) / np.sqrt(mv + 1e-3) + bt, "layer")


# ---- LeakyReLU, Reshape, ZeroPadding2D ----------------------------------------------------------
@pytest.mark.parametrize("slope", [0.3, 0.01, 0.0, 1.7])
def test_leaky_relu_layer(rng, slope):
    layer = LeakyReLU(negative_slope=slope) if slope != 0.3 else LeakyReLU()
    x = rand(rng, (3, 5, 7))
    x = np.where(np.abs(x) < 0.05, 0.05, x).astype(np.float32)  # away from the kink for h = 1e-2
    ref = lambda xx: np.where(xx > 0, xx, slope * xx)  # noqa: E731
    dy = rand(rng, x.shape)
    y, dx, _ = layer_grads(build(layer, x.shape), x, dy)
    assert_close(y, ref(x.astype(np.float64)), "elementwise")
    assert_close(dx, numeric_grad(ref, x, dy=dy.astype(np.float64)), "layer")
    check_fd32(layer, x, dy)


def test_leaky_relu_alpha_alias_warns_as_keras():
    with pytest.warns(UserWarning, match="`alpha` is deprecated"):
        layer = LeakyReLU(alpha=0.2)
    assert layer.negative_slope == 0.2 and layer.get_config()["negative_slope"] == 0.2
    with pytest.raises(ValueError, match=r"negative_slope.*Received: negative_slope=-0\.1"):
        LeakyReLU(-0.1)


@pytest.mark.parametrize("in_shape,target,out", [((2, 3, 4), (4, 3), (4, 3)), ((2, 12), (-1, 2, 2), (3, 2, 2)),
                                                 ((3, 2, 2, 5), (5, -1), (5, 4)), ((1, 7), (7, 1, 1), (7, 1, 1))])
def test_reshape_forward_backward(rng, in_shape, target, out):
    layer = build(Reshape(target), in_shape)
    assert layer.compute_output_shape((None,) + in_shape[1:]) == (None,) + out
    x = rand(rng, in_shape)
    dy = rand(rng, (in_shape[0],) + out)
    y, dx, _ = layer_grads(layer, x, dy)
    assert np.array_equal(y, x.reshape((in_shape[0],) + out))
    assert np.array_equal(dx, dy.reshape(in_shape))
    check_fd32(layer, x, dy)


@pytest.mark.parametrize("padding,pads", [(1, ((1, 1), (1, 1))), ((2, 0), ((2, 2), (0, 0))),
                                          (((0, 3), (2, 1)), ((0, 3), (2, 1)))])
def test_zero_padding2d(rng, padding, pads):
    layer = build(ZeroPadding2D(padding), (2, 3, 4, 2))
    assert layer.padding == pads
    x = rand(rng, (2, 3, 4, 2))
    ref = lambda xx: np.pad(xx, ((0, 0),) + pads + ((0, 0),))  # noqa: E731
    expected = ref(x.astype(np.float64))
    assert layer.compute_output_shape((None, 3, 4, 2)) == (None,) + expected.shape[1:]
    dy = rand(rng, expected.shape)
    y, dx, _ = layer_grads(layer, x, dy)
    assert_close(y, expected, "elementwise")
    assert_close(dx, numeric_grad(ref, x, dy=dy.astype(np.float64)), "layer")
    check_fd32(layer, x, dy)


# ---- configs -------------------------------------------------------------------------------------
CONFIG_MAKERS = [
    lambda: Conv2D(8, (3, 5), strides=2, padding="same", activation="relu", use_bias=False,
                   kernel_initializer="he_normal"),
    lambda: Conv2D(4, 3, dilation_rate=2, kernel_regularizer="l2"),
    lambda: Conv2DTranspose(3, 4, strides=(2, 2), padding="same", output_padding=(1, 0)),
    lambda: MaxPooling2D(3, strides=2, padding="same"),
    lambda: AveragePooling2D((2, 3)),
    lambda: GlobalAveragePooling2D(keepdims=True),
    lambda: UpSampling2D((2, 3), interpolation="bilinear"),
    lambda: BatchNormalization(momentum=0.9, epsilon=1e-5, center=False, gamma_initializer="random_normal"),
    lambda: LeakyReLU(0.1),
    lambda: Reshape((-1, 4)),
    lambda: ZeroPadding2D(((1, 2), (3, 4))),
]


@pytest.mark.parametrize("make", CONFIG_MAKERS)
def test_config_round_trip(make):
    layer = make()
    config = layer.get_config()
    clone = type(layer).from_config(config)
    assert clone.get_config() == config
    again = layers.deserialize(layers.serialize(layer))
    assert type(again) is type(layer) and again.get_config() == config


def test_keras_default_names_and_param_counts():
    utils.clear_session()
    model = models.Sequential([Input(shape=(8, 8, 3)), Conv2D(4, 3), BatchNormalization(), LeakyReLU(),
                               MaxPooling2D(), Conv2DTranspose(2, 3), UpSampling2D(), ZeroPadding2D(),
                               AveragePooling2D(), GlobalAveragePooling2D(), Reshape((2, 1))])
    assert [l.name for l in model.layers] == ["conv2d", "batch_normalization", "leaky_re_lu", "max_pooling2d",
                                              "conv2d_transpose", "up_sampling2d", "zero_padding2d",
                                              "average_pooling2d", "global_average_pooling2d", "reshape"]
    assert [l.count_params() for l in model.layers] == [3 * 3 * 3 * 4 + 4, 16, 0, 0, 3 * 3 * 4 * 2 + 2, 0, 0, 0, 0, 0]
    assert model.output_shape == (None, 2, 1)
    assert model.layers[4].output_shape == (None, 5, 5, 2)


# ---- bad input -----------------------------------------------------------------------------------
@pytest.mark.parametrize("make,match", [
    (lambda: Conv2D(-1, 3), r"filters.*Received: filters=-1"),
    (lambda: Conv2D(0, 3), r"Received: filters=0"),
    (lambda: Conv2D(4, 0), r"kernel_size.*Received: kernel_size=0"),
    (lambda: Conv2D(4, 3, strides=0), r"strides.*Received: strides=0"),
    (lambda: Conv2D(4, 3, strides=(1, -2)), r"Received: strides=\(1, -2\)"),
    (lambda: Conv2D(4, 3, padding="full"), r"padding.*Received: padding='full'"),
    (lambda: Conv2D(4, 3, data_format="channels_first"), r"channels_last.*Received: data_format='channels_first'"),
    (lambda: Conv2D(4, 3, strides=2, dilation_rate=2), r"dilation_rate"),
    (lambda: Conv2DTranspose(4, 3, strides=-1), r"Received: strides=-1"),
    (lambda: MaxPooling2D(strides=0), r"strides.*Received: strides=0"),
    (lambda: MaxPooling2D(pool_size=(2, 2, 2)), r"pool_size"),
    (lambda: AveragePooling2D(data_format="channels_first"), r"channels_last"),
    (lambda: GlobalAveragePooling2D(data_format="channels_first"), r"channels_last"),
    (lambda: UpSampling2D(interpolation="bicubic"), r"Received: interpolation='bicubic'"),
    (lambda: UpSampling2D(size=0), r"Received: size=0"),
    (lambda: BatchNormalization(momentum=1.5), r"Received: momentum=1.5"),
    (lambda: BatchNormalization(epsilon=0), r"Received: epsilon=0"),
    (lambda: Reshape((2, -1, -1)), r"at most one -1.*Received: target_shape"),
    (lambda: Reshape((0, 3)), r"Received: target_shape=\(0, 3\)"),
    (lambda: ZeroPadding2D(-1), r"Received: padding=-1"),
])
def test_bad_arguments_raise_value_error(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_kernel_larger_than_input_is_reported_at_build_time_naming_the_layer():
    with pytest.raises(ValueError, match=r"layer 'big_kernel'.*kernel \(5, 5\).*'valid'"):
        models.Sequential([Input(shape=(4, 6, 1)), Conv2D(2, 5, name="big_kernel")])
    with pytest.raises(ValueError, match=r"layer 'dilated'.*dilation \(3, 3\)"):
        models.Sequential([Input(shape=(6, 6, 1)), Conv2D(2, 3, dilation_rate=3, name="dilated")])
    with pytest.raises(ValueError, match=r"layer 'pool'.*pool_size \(3, 3\)"):
        models.Sequential([Input(shape=(2, 6, 1)), MaxPooling2D(3, name="pool")])
    # 'same' padding is fine
    models.Sequential([Input(shape=(4, 6, 1)), Conv2D(2, 5, padding="same"), MaxPooling2D(3, padding="same")])


def test_wrong_input_rank_names_the_layer():
    with pytest.raises(ValueError, match=r"layer 'conv'.*expected ndim=4, found ndim=3"):
        models.Sequential([Input(shape=(28, 28)), Conv2D(4, 3, name="conv")])
    for layer in (MaxPooling2D(name="p"), UpSampling2D(name="p"), ZeroPadding2D(name="p"),
                  GlobalAveragePooling2D(name="p")):
        with pytest.raises(ValueError, match=r"layer 'p'.*ndim=4"):
            layer(np.zeros((2, 5, 5), np.float32))
    with pytest.raises(ValueError, match=r"layer 'bn'.*ndim"):
        BatchNormalization(name="bn")(np.zeros((3,), np.float32))
    with pytest.raises(ValueError, match=r"layer 'bn1'.*last \(channels\) axis.*axis=1"):
        BatchNormalization(axis=1, name="bn1")(np.zeros((2, 3, 4, 5), np.float32))


def test_channel_mismatch_names_the_layer(tmp_path):
    conv = Conv2D(4, 3, name="c1")
    conv(np.zeros((1, 5, 5, 3), np.float32))
    with pytest.raises(ValueError, match=r"layer 'c1'.*axis -1.*value 3.*\(None, 5, 5, 1\)"):
        conv(np.zeros((1, 5, 5, 1), np.float32))
    with pytest.raises(ValueError, match=r"layer 'c1' weight 'kernel' has shape \(3, 3, 3, 4\).*\(3, 3, 1, 4\)"):
        conv.set_weights([np.zeros((3, 3, 1, 4)), np.zeros(4)])
    # weights saved from a 1-channel model do not load into a 3-channel one
    one = models.Sequential([Input(shape=(6, 6, 1)), Conv2D(4, 3, name="a")])
    three = models.Sequential([Input(shape=(6, 6, 3)), Conv2D(4, 3, name="a")])
    path = tmp_path / "w.npz"
    one.save_weights(path)
    before = three.get_weights()
    with pytest.raises(ValueError, match=r"layer 'a' weight 'kernel' expects shape \(3, 3, 3, 4\), "
                                         r"found \(3, 3, 1, 4\)"):
        three.load_weights(path)
    assert all(np.array_equal(a, b) for a, b in zip(before, three.get_weights()))


def test_reshape_to_incompatible_size_names_the_layer():
    with pytest.raises(ValueError, match=r"layer 'rs'.*\(None, 3, 4\) \(12 values per sample\).*\(5, 2\)"):
        models.Sequential([Input(shape=(3, 4)), Reshape((5, 2), name="rs")])
    with pytest.raises(ValueError, match=r"layer 'rs2'.*target_shape \(5, -1\)"):
        models.Sequential([Input(shape=(3, 4)), Reshape((5, -1), name="rs2")])
