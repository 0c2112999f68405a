"""Functional models as graphs (models/functional.py) and the merging layers (layers/merging.py):
multi-input / multi-output shapes and training, merging layers vs NumPy and their gradients vs finite
differences, weight sharing between two calls of one layer, gradients through a nested model, the
trainable set fixed at compile (frozen weights bit-identical), summary's Connected to column, config
round trips, and the build-time errors (wrong shapes, incompatible layers, cycles, disconnected graphs)."""
import warnings

import numpy as np
import pytest

import neurokern as nk
from neurokern import layers, models, utils
from neurokern.layers import (Add, Average, Concatenate, Conv2D, Dense, Dropout, Flatten, Input, Multiply,
                              Subtract)

from _gradcheck import numeric_grad
from conftest import assert_close


def _grads(model, xs, dy_list):
    """({weight path: grad}, [dx per input]) for upstream gradients dy_list (one per output): the backward
    of sum_k <output_k, dy_k>."""
    trained = model._current_trainable()
    model._assign_grads(trained)
    x_t = [nk.tensor(x) for x in xs] if len(xs) > 1 else nk.tensor(xs[0])
    y, ctx = model.forward(x_t, training=True)
    dys = [nk.tensor(d) for d in dy_list]
    dx = model.backward(ctx, dys if len(dys) > 1 else dys[0], need_dx=True)
    dx = dx if isinstance(dx, list) else [dx]
    return {w.path: w.grad.numpy().copy() for w in trained}, [d.numpy().copy() for d in dx]


# ---- the merging layers ---------------------------------------------------------------------------
MERGES = {
    "add": (Add, lambda xs: sum(xs)),
    "subtract": (Subtract, lambda xs: xs[0] - xs[1]),
    "multiply": (Multiply, lambda xs: np.prod(np.stack(xs), axis=0)),
    "average": (Average, lambda xs: sum(xs) / len(xs)),
}


@pytest.mark.parametrize("name", sorted(MERGES))
@pytest.mark.parametrize("shape, n", [((1, 7), 2), ((33, 1), 3), ((3, 5, 7), 2)])
def test_merge_forward_and_backward(rng, name, shape, n):
    cls, ref = MERGES[name]
    if name == "subtract":
        n = 2
    layer = cls()
    xs = [rng.standard_normal(shape) for _ in range(n)]
    y, ctx = layer.forward([nk.tensor(x.astype(np.float32)) for x in xs])
    assert_close(y.numpy(), ref(xs), "elementwise")
    dy = rng.standard_normal(shape)
    dxs = layer.backward(ctx, nk.tensor(dy.astype(np.float32)))
    assert len(dxs) == n
    for i in range(n):
        def f(xi, i=i):
            ys = list(xs)
            ys[i] = xi
            return ref(ys)
        assert_close(dxs[i].numpy(), numeric_grad(f, xs[i], dy=dy), "layer")
    assert layer.backward(ctx, nk.tensor(dy.astype(np.float32)), need_dx=False) is None


@pytest.mark.parametrize("shapes, axis", [
    ([(2, 3), (2, 5)], -1),
    ([(1, 7), (1, 1), (1, 33)], -1),
    ([(3, 2, 4), (3, 5, 4)], 1),
    ([(2, 3, 4, 6), (2, 3, 4, 10)], -1),
    ([(2, 7, 3, 2), (2, 1, 3, 2)], 1),
])
def test_concatenate_forward_and_backward(rng, shapes, axis):
    layer = Concatenate(axis=axis)
    xs = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    y, ctx = layer.forward([nk.tensor(x) for x in xs])
    expected = np.concatenate(xs, axis=axis)
    assert np.array_equal(y.numpy(), expected)  # a copy: exact
    assert layer.compute_output_shape([(None,) + s[1:] for s in shapes]) == (None,) + expected.shape[1:]
    dy = rng.standard_normal(expected.shape).astype(np.float32)
    dxs = layer.backward(ctx, nk.tensor(dy))
    cuts = np.cumsum([s[axis] for s in shapes])[:-1]
    for dx, part in zip(dxs, np.split(dy, cuts, axis=axis)):
        assert np.array_equal(dx.numpy(), part)


def test_merge_layers_refuse_bad_inputs():
    a, b, c = Input(shape=(3,)), Input(shape=(4,)), Input(shape=(3,))
    with pytest.raises(ValueError, match=r"'add.*' \(Add\) needs inputs of one shape.*\(None, 3\).*\(None, 4\)"):
        Add()([a, b])
    with pytest.raises(ValueError, match="exactly 2 inputs"):
        Subtract()([a, c, a])
    with pytest.raises(ValueError, match="at least 2 inputs"):
        Add()([a])
    with pytest.raises(TypeError, match="takes a list of input tensors"):
        Multiply()(a)
    with pytest.raises(ValueError, match="matching shapes except for the concatenation axis"):
        Concatenate(axis=-1)([Input(shape=(2, 3)), Input(shape=(4, 3))])
    with pytest.raises(ValueError, match="not a non-batch axis"):
        Concatenate(axis=0)([a, c])
    with pytest.raises(ValueError, match="takes one input tensor, but it was called on a list of 2"):
        Dense(2)([a, c])
    with pytest.raises(ValueError, match="axis must be an integer"):
        Concatenate(axis=1.5)
    # eager calls on arrays work like Keras's
    out = layers.add([np.ones((2, 3), np.float32), np.full((2, 3), 2, np.float32)])
    assert isinstance(out, np.ndarray) and np.array_equal(out, np.full((2, 3), 3, np.float32))


# ---- graphs with several inputs and outputs ---------------------------------------------------------
def two_in_two_out(name="multi"):
    img = Input(shape=(4, 4, 1), name="img")
    meta = Input(shape=(3,), name="meta")
    x = Flatten(name="flat")(Conv2D(2, 3, padding="same", activation="relu", name="conv")(img))
    h = Concatenate(name="join")([Dense(5, activation="tanh", name="img_feat")(x), meta])
    cls = Dense(3, activation="softmax", name="cls")(h)
    reg = Dense(1, name="reg")(h)
    return models.Model(inputs=[img, meta], outputs=[cls, reg], name=name)


def test_multi_input_multi_output_shapes_predict_and_summary(rng):
    model = two_in_two_out()
    assert model.input_shape == [(None, 4, 4, 1), (None, 3)]
    assert model.input == model.inputs and len(model.output) == 2 and model.output[1].shape == (None, 1)
    assert model.output_shape == [(None, 3), (None, 1)]
    assert [l.name for l in model.layers] == ["img", "meta", "conv", "flat", "img_feat", "join", "cls", "reg"]
    x = [rng.standard_normal((7, 4, 4, 1)).astype(np.float32), rng.standard_normal((7, 3)).astype(np.float32)]
    cls, reg = model.predict(x, batch_size=3)
    assert cls.shape == (7, 3) and reg.shape == (7, 1)
    np.testing.assert_allclose(cls.sum(axis=1), 1.0, rtol=1e-5)
    by_name = model.predict({"img": x[0], "meta": x[1]})
    assert np.array_equal(by_name[0], cls) and np.array_equal(by_name[1], reg)
    on_batch = model.predict_on_batch(x)
    assert np.array_equal(on_batch[1], reg)
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert lines[2].split() == ["Layer", "(type)", "Output", "Shape", "Param", "#", "Connected", "to"]
    join = next(i for i, line in enumerate(lines) if line.startswith(" join (Concatenate)"))
    assert lines[join].split()[-1] == "img_feat[0][0]" and lines[join + 1].split() == ["meta[0][0]"]
    assert "(None, 8)" in lines[join]
    assert "Total params: " + f"{model.count_params():,}" in text
    assert model.count_params() == (9 * 2 + 2) + (32 * 5 + 5) + (8 * 3 + 3) + (8 + 1)


def test_multi_output_training_losses_and_metrics(rng):
    utils.set_random_seed(3)
    model = two_in_two_out()
    model.compile("adam", loss={"cls": "sparse_categorical_crossentropy", "reg": "mse"},
                  loss_weights=[1.0, 0.5], metrics={"cls": ["accuracy"]})
    x = [rng.standard_normal((16, 4, 4, 1)).astype(np.float32), rng.standard_normal((16, 3)).astype(np.float32)]
    y = [rng.integers(0, 3, 16), rng.standard_normal((16, 1)).astype(np.float32)]
    out = model.train_on_batch(x, y)
    assert model.metrics_names == ["loss", "cls_loss", "reg_loss", "cls_accuracy"]
    assert len(out) == 4
    logs = model.test_on_batch(x, y, return_dict=True)
    assert set(logs) == {"loss", "cls_loss", "reg_loss", "cls_accuracy"}
    assert logs["loss"] == pytest.approx(logs["cls_loss"] + 0.5 * logs["reg_loss"], rel=1e-6)
    cls, reg = model.predict(x)
    assert logs["reg_loss"] == pytest.approx(float(np.mean((reg - y[1]) ** 2)), rel=1e-5)
    h = model.fit(x, y, epochs=3, batch_size=5, verbose=0)
    assert set(h.history) == {"loss", "cls_loss", "reg_loss", "cls_accuracy"}
    assert np.isfinite(h.history["loss"]).all()
    with pytest.raises(ValueError, match="has 2 outputs .*holds 1 arrays"):
        model.train_on_batch(x, [y[0]])
    with pytest.raises(ValueError, match="has 2 inputs .*pass x as a list"):
        model.predict(x[0])
    with pytest.raises(ValueError, match=r"Input 1 \('meta'\) .*expected shape \(None, 3\).*\(16, 4\)"):
        model.predict([x[0], np.zeros((16, 4), np.float32)])
    with pytest.raises(ValueError, match="Data cardinality is ambiguous"):
        model.predict([x[0], x[1][:5]])


# ---- gradients: shared layers and nested models vs finite differences ------------------------------
def test_shared_layer_two_inputs_gradients_fd(rng):
    """One Dense called on two inputs (a siamese pair): both calls add into its kernel's gradient."""
    a, b = Input(shape=(3,)), Input(shape=(3,))
    shared = Dense(4, activation="tanh", bias_initializer="random_normal", name="shared")
    diff = Subtract()([shared(a), shared(b)])
    out = Dense(2, name="head")(Multiply()([diff, shared(a)]))
    model = models.Model([a, b], out)
    assert [type(l).__name__ for l in model.layers] == ["InputLayer", "InputLayer", "Dense", "Subtract", "Multiply",
                                                        "Dense"]
    assert len(model.weights) == 4  # the shared kernel and bias once
    lines = []
    model.summary(print_fn=lines.append)
    row = next(i for i, line in enumerate(lines) if line.startswith(" shared (Dense)"))
    # three calls: on a, on b, on a again (Keras numbers each call of a layer: shared[0], shared[1], shared[2])
    assert [lines[row + k].split()[-1] for k in range(3)] == [f"{a.history[0].name}[0][0]",
                                                              f"{b.history[0].name}[0][0]",
                                                              f"{a.history[0].name}[0][0]"]
    assert lines[row].split()[2:5] == ["(None,", "4)", "16"]
    sub = next(i for i, line in enumerate(lines) if line.startswith(" subtract"))
    assert [lines[sub].split()[-1], lines[sub + 1].split()] == ["shared[0][0]", ["shared[1][0]"]]
    mul = next(i for i, line in enumerate(lines) if line.startswith(" multiply"))
    assert [lines[mul].split()[-1], lines[mul + 1].split()] == [f"{diff.history[0].name}[0][0]", ["shared[2][0]"]]
    xa, xb = rng.standard_normal((5, 3)), rng.standard_normal((5, 3))
    dy = rng.standard_normal((5, 2))
    params = [w.numpy().astype(np.float64) for w in model.weights]

    def forward(ps, xa, xb):
        w1, b1, w2, b2 = ps
        ha, hb = np.tanh(xa @ w1 + b1), np.tanh(xb @ w1 + b1)
        return ((ha - hb) * ha) @ w2 + b2

    grads, dx = _grads(model, [xa.astype(np.float32), xb.astype(np.float32)], [dy.astype(np.float32)])
    for i, w in enumerate(model.weights):
        def f(p, i=i):
            ps = list(params)
            ps[i] = p
            return forward(ps, xa, xb)
        assert_close(grads[w.path], numeric_grad(f, params[i], dy=dy), "layer")
    assert_close(dx[0], numeric_grad(lambda v: forward(params, v, xb), xa, dy=dy), "layer")
    assert_close(dx[1], numeric_grad(lambda v: forward(params, xa, v), xb, dy=dy), "layer")


def test_nested_model_called_twice_gradients_fd(rng):
    """A functional model used as a layer on two inputs, merged, plus a second output: weight gradients
    and input gradients vs central differences of a float64 NumPy forward."""
    u = Input(shape=(3,))
    inner = models.Model(u, Dense(4, activation="tanh", bias_initializer="random_normal", name="inner_d")(u),
                         name="inner")
    a, b = Input(shape=(3,)), Input(shape=(3,))
    ha, hb = inner(a), inner(b)
    merged = Average(name="average")([ha, hb])
    out1 = Dense(2, name="out1")(merged)
    out2 = Dense(1, activation="sigmoid", name="out2")(ha)
    model = models.Model([a, b], [out1, out2])
    assert [l.name for l in model.layers][2:] == ["inner", "average", "out1", "out2"]
    assert len(model.weights) == 6 and len(inner._inbound_nodes) == 2
    xa, xb = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    dy1, dy2 = rng.standard_normal((4, 2)), rng.standard_normal((4, 1))
    weights = model.weights
    paths = [w.path for w in weights]
    params = [w.numpy().astype(np.float64) for w in weights]

    def forward(ps, xa, xb):
        p = dict(zip(paths, ps))
        w, c = p["inner_d/kernel"], p["inner_d/bias"]
        ha, hb = np.tanh(xa @ w + c), np.tanh(xb @ w + c)
        o1 = ((ha + hb) / 2) @ p["out1/kernel"] + p["out1/bias"]
        o2 = 1 / (1 + np.exp(-(ha @ p["out2/kernel"] + p["out2/bias"])))
        return np.sum(o1 * dy1) + np.sum(o2 * dy2)

    grads, dx = _grads(model, [xa.astype(np.float32), xb.astype(np.float32)],
                       [dy1.astype(np.float32), dy2.astype(np.float32)])
    for i, w in enumerate(weights):
        def f(q, i=i):
            ps = list(params)
            ps[i] = q
            return forward(ps, xa, xb)
        assert_close(grads[w.path], numeric_grad(f, params[i]), "layer")
    assert_close(dx[0], numeric_grad(lambda v: forward(params, v, xb), xa), "layer")
    assert_close(dx[1], numeric_grad(lambda v: forward(params, xa, v), xb), "layer")


def test_gradient_through_nested_sequential_with_fused_output(rng):
    """GAN shape: Model(z, disc(gen(z))) with a sigmoid + binary cross-entropy fused at the end of the
    nested discriminator; the generator's gradients vs central differences."""
    gen = models.Sequential([Input(shape=(2,)), Dense(3, activation="tanh", bias_initializer="random_normal")],
                            name="gen")
    d_in = Input(shape=(3,))
    disc = models.Model(d_in, Dense(1, activation="sigmoid", name="d_out")(d_in), name="disc")
    z = Input(shape=(2,))
    gan = models.Model(z, disc(gen(z)))
    gan.compile("sgd", "binary_crossentropy")
    assert gan.output_activation is not None and gan.output_activation.name == "sigmoid"
    x = rng.standard_normal((6, 2)).astype(np.float32)
    y = (rng.random((6, 1)) > 0.5).astype(np.float32)
    trained = gan._current_trainable()
    gan._assign_grads(trained)
    y_pred, ctx = gan.forward(nk.tensor(x), training=True)
    _, dz = gan.loss.fused_forward_backward(nk.tensor(y), y_pred)
    gan.backward_from_pre_activation(ctx, dz, need_dx=False)
    params = [w.numpy().astype(np.float64) for w in trained]

    def loss(ps):
        w1, b1, w2, b2 = ps
        p = 1 / (1 + np.exp(-(np.tanh(x @ w1 + b1) @ w2 + b2)))
        return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))

    for i, w in enumerate(trained):
        def f(q, i=i):
            ps = list(params)
            ps[i] = q
            return loss(ps)
        assert_close(w.grad.numpy(), numeric_grad(f, params[i]), "layer")


# ---- trainable at compile time ----------------------------------------------------------------------
def test_gan_frozen_discriminator_bit_identical_and_still_trainable_alone(rng):
    utils.set_random_seed(0)
    z = Input(shape=(4,))
    gen = models.Model(z, Dense(3, name="g2")(Dense(8, activation="relu", name="g1")(z)), name="gen")
    p = Input(shape=(3,))
    disc = models.Model(p, Dense(1, activation="sigmoid", name="d2")(Dropout(0.2)(Dense(6, activation="relu",
                                                                                      name="d1")(p))), name="disc")
    disc.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    disc.trainable = False
    zz = Input(shape=(4,))
    gan = models.Model(zz, disc(gen(zz)), name="gan")
    gan.compile("adam", "binary_crossentropy")
    assert len(gan.trainable_weights) == 4 and len(gan.non_trainable_weights) == 4
    noise = rng.standard_normal((8, 4)).astype(np.float32)
    ones = np.ones((8, 1), np.float32)
    d_before, g_before = disc.get_weights(), gen.get_weights()
    loss = gan.train_on_batch(noise, ones)
    assert isinstance(loss, float) and np.isfinite(loss)
    assert all(np.array_equal(a, b) for a, b in zip(d_before, disc.get_weights()))
    assert all(not np.array_equal(a, b) for a, b in zip(g_before, gen.get_weights()))
    real = rng.standard_normal((8, 3)).astype(np.float32)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*trainable weights changed after compile")
        loss, acc = disc.train_on_batch(real, ones)  # compiled while trainable: still trains
    assert 0.0 <= acc <= 1.0 and np.isfinite(loss)
    assert all(not np.array_equal(a, b) for a, b in zip(d_before, disc.get_weights()))
    g_now = gen.get_weights()
    d_now = disc.get_weights()
    gan.train_on_batch(noise, ones)
    assert all(np.array_equal(a, b) for a, b in zip(d_now, disc.get_weights()))
    assert not np.array_equal(g_now[0], gen.get_weights()[0])


def test_frozen_layer_inside_functional_model_is_bit_identical(rng):
    inp = Input(shape=(5,))
    frozen = Dense(4, activation="relu", name="frozen")
    out = Dense(2, name="free")(frozen(inp))
    model = models.Model(inp, out)
    frozen.trainable = False
    model.compile("sgd", "mse")
    before = frozen.get_weights()
    free_before = model.get_layer("free").get_weights()
    model.train_on_batch(rng.standard_normal((9, 5)).astype(np.float32), rng.standard_normal((9, 2)).astype(np.float32))
    assert all(np.array_equal(a, b) for a, b in zip(before, frozen.get_weights()))
    assert not np.array_equal(free_before[0], model.get_layer("free").get_weights()[0])


# ---- build-time errors ------------------------------------------------------------------------------
def test_graph_errors_at_build_time():
    a, b = Input(shape=(3,), name="a"), Input(shape=(3,), name="b")
    out = Dense(2)(Add()([a, b]))
    with pytest.raises(ValueError, match=r"Graph disconnected.*Input 'b'.*not in `inputs`"):
        models.Model(a, out)
    with pytest.raises(ValueError, match=r"Graph disconnected: input\(s\) \['c\[0\]\[0\]'\] are not used"):
        models.Model([a, b, Input(shape=(3,), name="c")], out)
    with pytest.raises(ValueError, match="not outputs of other layers"):
        models.Model(Dense(2)(a), out)
    with pytest.raises(ValueError, match="the same Input appears twice"):
        models.Model([a, a, b], out)
    with pytest.raises(TypeError, match="symbolic tensors"):
        models.Model(a, np.zeros(3))
    with pytest.raises(ValueError, match="layer names should be unique"):
        models.Model(a, Dense(2, name="twin")(Dense(2, name="twin")(a)))
    # a cycle can only be made by editing the recorded graph: still refused
    x = Input(shape=(3,))
    d1, d2 = Dense(3), Dense(3)
    h = d1(x)
    y = d2(h)
    h.history[1].inputs = [y]
    with pytest.raises(ValueError, match="cycle through layer"):
        models.Model(x, y)


def test_incompatible_layers_and_wrong_input_shapes():
    a = Input(shape=(3,))
    with pytest.raises(ValueError, match=r"Input 0 of layer 'conv_bad' is incompatible.*expected ndim=4"):
        Conv2D(2, 3, name="conv_bad")(a)
    dense = Dense(2, name="d3")
    dense(a)
    with pytest.raises(ValueError, match=r"layer 'd3' .*axis -1 .*value 3.*\(None, 5\)"):
        dense(Input(shape=(5,)))
    u = Input(shape=(3,))
    inner = models.Model(u, Dense(2)(u), name="inner3")
    with pytest.raises(ValueError, match=r"Input 0 of layer 'inner3' is incompatible.*\(None, 3\).*\(None, 4\)"):
        inner(Input(shape=(4,)))
    inner.compile("sgd", "mse")
    with pytest.raises(ValueError, match=r"expects inputs of shape \(None, 3\).*\(2, 4\)"):
        inner.predict(np.zeros((2, 4), np.float32))
    with pytest.raises(ValueError, match=r"the output of layer .* has shape \(None, 2\)"):
        inner.train_on_batch(np.zeros((2, 3), np.float32), np.zeros((2, 5), np.float32))


# ---- config / save round trip ----------------------------------------------------------------------
def test_config_and_save_round_trip_with_shared_and_nested(tmp_path, rng):
    u = Input(shape=(3,))
    inner = models.Model(u, Dense(3, activation="tanh")(u), name="inner_rt")
    a, b = Input(shape=(3,), name="ra"), Input(shape=(3,), name="rb")
    shared = Dense(3, name="shared_rt")
    h = Concatenate()([shared(a), shared(inner(b))])
    model = models.Model([a, b], [Dense(2, name="o1")(h), Dense(1, name="o2")(h)],
                         name="rt")
    model.compile("sgd", "mse")
    x = [rng.standard_normal((5, 3)).astype(np.float32) for _ in range(2)]
    path = tmp_path / "rt.npz"
    model.save(path)
    clone = models.load_model(path)
    assert clone.name == "rt" and [l.name for l in clone.layers] == [l.name for l in model.layers]
    for p, q in zip(model.predict(x), clone.predict(x)):
        assert np.array_equal(p, q)
    assert clone.get_layer("shared_rt") is not None and len(clone.get_layer("shared_rt")._inbound_nodes) == 2


def test_dcgan_layers_in_a_graph_match_sequential(rng):
    """Dense, Reshape, BatchNormalization, UpSampling2D, Conv2DTranspose, strided Conv2D, LeakyReLU(0.2),
    Dropout and tanh in a functional graph: the same outputs and the same training step as Sequential."""
    def stack():
        return [layers.Dense(2 * 3 * 3), layers.Reshape((3, 3, 2)), layers.BatchNormalization(),
                layers.LeakyReLU(0.2), layers.UpSampling2D(2), layers.Conv2DTranspose(3, 3, strides=2, padding="same"),
                layers.Conv2D(2, 3, strides=2, padding="same"), layers.Dropout(0.3), layers.Flatten(),
                layers.Dense(1, activation="tanh")]

    seq = models.Sequential([Input(shape=(5,))] + stack())
    z = nk.Input(shape=(5,))
    x = z
    for layer in stack():
        x = layer(x)
    fun = nk.Model(z, x)
    assert isinstance(fun, models.Functional) and fun.output_shape == seq.output_shape == (None, 1)
    fun.set_weights(seq.get_weights())
    data = rng.standard_normal((7, 5)).astype(np.float32)
    target = rng.standard_normal((7, 1)).astype(np.float32)
    assert np.array_equal(fun.predict(data), seq.predict(data))
    for m in (seq, fun):
        m.compile("adam", "mse")
    utils.set_random_seed(4)
    a = seq.train_on_batch(data, target)
    utils.set_random_seed(4)
    b = fun.train_on_batch(data, target)
    assert a == b
    for p, q in zip(seq.get_weights(), fun.get_weights()):
        assert np.array_equal(p, q)
