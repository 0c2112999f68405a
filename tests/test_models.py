"""Sequential: building and summary, gradients of a whole model by finite differences, fit / evaluate /
predict / train_on_batch semantics (History keys, validation_split = last fraction, frozen layers,
the compile-time trainable snapshot), reproducibility, weights I/O (round trips, corrupt files),
and the progress output."""
import os
import re

import numpy as np
import pytest

import neurokern as nk
from neurokern import losses, models, optimizers, utils
from neurokern.layers import Activation, Dense, Dropout, Flatten, Input
from neurokern.models import Sequential

from _gradcheck import numeric_grad
from conftest import assert_close


def mlp(units=(8,), inputs=4, outputs=3, activation="tanh", out_activation="softmax", dropout=None):
    model = Sequential([Input(shape=(inputs,))])
    for u in units:
        model.add(Dense(u, activation=activation))
        if dropout:
            model.add(Dropout(dropout))
    model.add(Dense(outputs, activation=out_activation))
    return model


def blobs(n=240, features=4, classes=3, seed=0):
    """Separable Gaussian blobs: (x float32, integer labels)."""
    r = np.random.default_rng(seed)
    centers = r.normal(0, 3, (classes, features))
    y = r.integers(0, classes, n)
    x = centers[y] + r.normal(0, 0.7, (n, features))
    return x.astype(np.float32), y


# ---- building and summary -------------------------------------------------------------------------
def test_mnist_mlp_summary_matches_keras():
    utils.clear_session()
    model = Sequential([Dense(512, activation="relu", input_shape=(784,)), Dropout(0.2),
                        Dense(10, activation="softmax")])
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert lines[0] == 'Model: "sequential"'
    assert re.search(r"Layer \(type\)\s+Output Shape\s+Param #", text)
    assert re.search(r"dense \(Dense\)\s+\(None, 512\)\s+401,920", text)
    assert re.search(r"dropout \(Dropout\)\s+\(None, 512\)\s+0", text)
    assert re.search(r"dense_1 \(Dense\)\s+\(None, 10\)\s+5,130", text)
    assert "Total params: 407,050 (1.55 MB)" in text
    assert "Trainable params: 407,050 (1.55 MB)" in text
    assert "Non-trainable params: 0 (0.00 B)" in text
    assert model.count_params() == 407050
    golden = """\
Model: "sequential"
_________________________________________________________________
 Layer (type)                 Output Shape              Param #
=================================================================
 dense (Dense)                (None, 512)               401,920
_________________________________________________________________
 dropout (Dropout)            (None, 512)               0
_________________________________________________________________
 dense_1 (Dense)              (None, 10)                5,130
=================================================================
Total params: 407,050 (1.55 MB)
Trainable params: 407,050 (1.55 MB)
Non-trainable params: 0 (0.00 B)
_________________________________________________________________"""
    assert text == golden
    assert [l.name for l in model.layers] == ["dense", "dropout", "dense_1"]  # no InputLayer, as Keras


def test_summary_counts_frozen_params_and_never_truncates():
    model = mlp(units=(5,))
    model.layers[0].trainable = False
    model.layers[1].name = "a_very_long_layer_name_that_does_not_fit_the_default_column"
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert "a_very_long_layer_name_that_does_not_fit_the_default_column (Dense)" in text
    assert "Trainable params: 18" in text and "Non-trainable params: 25" in text


def test_unbuilt_model_builds_on_first_data_and_checks_later_inputs():
    model = Sequential([Dense(3), Dense(2)])
    assert not model.built
    with pytest.raises(ValueError, match="not yet been built"):
        model.summary()
    y = model.predict(np.zeros((5, 7), np.float32))
    assert y.shape == (5, 2) and model.built and model.input_shape == (None, 7)
    with pytest.raises(ValueError, match=r"layer 'dense.*' .*expects inputs of shape \(None, 7\).*\(5, 6\)"):
        model.predict(np.zeros((5, 6), np.float32))


def test_build_with_input_shape_and_model_call(rng):
    model = Sequential([Dense(4, activation="relu"), Dense(2)])
    model.build((None, 3))
    x = rng.standard_normal((6, 3)).astype(np.float32)
    w1, b1, w2, b2 = (a.astype(np.float64) for a in model.get_weights())
    expected = np.maximum(x @ w1 + b1, 0) @ w2 + b2
    assert_close(model(x), expected, "gemm")
    assert_close(model.predict(x, batch_size=4), expected, "gemm")
    out = model(nk.tensor(x))
    assert isinstance(out, nk.Tensor)


# ---- gradients of a whole model -------------------------------------------------------------------
def _model_grads(model, x, y):
    """(loss, {path: grad}, dx) via the model's own step minus the optimizer update."""
    trained = model._current_trainable()
    model._assign_grads(trained)
    y_pred, ctx = model.forward(nk.tensor(x), training=True)
    act = model.output_activation
    if act is not None and model.loss.fuses_with(act.name):
        loss, dz = model.loss.fused_forward_backward(nk.tensor(y), y_pred)
        dx = model.backward_from_pre_activation(ctx, dz, need_dx=True)
    else:
        loss, dy = model.loss.forward_backward(nk.tensor(y), y_pred)
        dx = model.backward(ctx, dy, need_dx=True)
    return loss, {w.path: w.grad.numpy().copy() for w in trained}, dx.numpy().copy()


@pytest.mark.parametrize("case", ["softmax_ce_fused", "linear_mse"])
def test_two_layer_model_gradients_fd(rng, isa, case):
    """Every weight gradient and dx of a Dense-tanh -> Dense model vs central differences of a float64
    NumPy forward + loss."""
    if case == "softmax_ce_fused":
        model = mlp(units=(5,), inputs=4, outputs=3, out_activation="softmax")
        model.compile("sgd", "categorical_crossentropy")
        y = utils.to_categorical(rng.integers(0, 3, 6), 3)

        def ref_loss(p):
            return -np.mean(np.sum(y * np.log(p), axis=1))

        def head(z):
            e = np.exp(z - z.max(1, keepdims=True))
            return e / e.sum(1, keepdims=True)
    else:
        model = mlp(units=(5,), inputs=4, outputs=3, out_activation=None)
        model.compile("sgd", "mse")
        y = rng.standard_normal((6, 3)).astype(np.float32)

        def ref_loss(p):
            return np.mean((p - y) ** 2)

        def head(z):
            return z
    x = rng.standard_normal((6, 4)).astype(np.float32)
    params = [w.numpy().astype(np.float64) for w in model.weights]
    names = [w.path for w in model.weights]

    def forward(xx, ps):
        w1, b1, w2, b2 = ps
        return ref_loss(head(np.tanh(xx @ w1 + b1) @ w2 + b2))

    loss, grads, dx = _model_grads(model, x, y)
    assert_close(np.float32(loss), forward(x.astype(np.float64), params), "loss")
    for i, name in enumerate(names):
        def f(p, i=i):
            ps = list(params)
            ps[i] = p
            return forward(x.astype(np.float64), ps)
        assert_close(grads[name], numeric_grad(f, params[i]), "layer")
    assert_close(dx, numeric_grad(lambda xx: forward(xx, params), x), "layer")


def test_functional_shared_layer_gradients_fd(rng):
    """Model(inputs, outputs) calling one Dense twice: both calls' backwards add into its gradient."""
    inp = Input(shape=(3,))
    shared = Dense(3, activation="tanh", bias_initializer="random_normal")
    out = Dense(2)(shared(shared(inp)))
    model = models.Model(inputs=inp, outputs=out)
    assert type(model).__name__ == "Functional"
    assert [type(l).__name__ for l in model.layers] == ["InputLayer", "Dense", "Dense"]
    assert model.count_params() == 12 + 8
    model.compile("sgd", "mse")
    x = rng.standard_normal((5, 3)).astype(np.float32)
    y = rng.standard_normal((5, 2)).astype(np.float32)
    params = [w.numpy().astype(np.float64) for w in model.weights]

    def forward(ps):
        w1, b1, w2, b2 = ps
        h = np.tanh(np.tanh(x.astype(np.float64) @ w1 + b1) @ w1 + b1)
        return np.mean((h @ w2 + b2 - y) ** 2)

    _, grads, _ = _model_grads(model, x, y)
    for i, w in enumerate(model.weights):
        def f(p, i=i):
            ps = list(params)
            ps[i] = p
            return forward(ps)
        assert_close(grads[w.path], numeric_grad(f, params[i]), "layer")


def test_functional_model_fit_save_load(tmp_path, rng):
    inp = Input(shape=(4,))
    out = Dense(3, activation="softmax")(Dropout(0.1)(Dense(6, activation="relu")(inp)))
    model = models.Model(inp, out, name="clf")
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    x, y = blobs(n=64)
    h = model.fit(x, y, epochs=2, verbose=0)
    assert set(h.history) == {"loss", "accuracy"}
    model.save(tmp_path / "f.npz")
    clone = models.load_model(tmp_path / "f.npz")
    assert clone.name == "clf" and np.array_equal(clone.predict(x), model.predict(x))
    with pytest.raises(TypeError, match="needs inputs and outputs"):
        models.Model()
    with pytest.raises(ValueError, match="not computed from the given inputs"):
        models.Model(Input(shape=(4,)), out)


def test_first_layer_skips_input_gradient(rng):
    """need_dx=False: no layer before the first trained one computes dx (backward returns None)."""
    model = mlp(units=(5,))
    model.compile("sgd", "categorical_crossentropy")
    trained = model._current_trainable()
    model._assign_grads(trained)
    y_pred, ctx = model.forward(nk.tensor(rng.standard_normal((3, 4)).astype(np.float32)), training=True)
    assert model.backward(ctx, nk.tensor(np.ones((3, 3), np.float32)), need_dx=False) is None


# ---- fit / evaluate / predict ---------------------------------------------------------------------
def test_fit_decreases_loss_and_history_keys():
    utils.set_random_seed(0)
    x, y = blobs()
    model = mlp(units=(16,), activation="relu")
    model.compile(optimizers.Adam(learning_rate=0.01), "sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, batch_size=32, epochs=8, verbose=0)
    assert history is model.history
    assert set(history.history) == {"loss", "accuracy"}
    assert history.epoch == list(range(8))
    losses_ = history.history["loss"]
    assert len(losses_) == 8 and losses_[-1] < 0.5 * losses_[0]
    assert history.history["accuracy"][-1] > 0.9
    loss, acc = model.evaluate(x, y, verbose=0)
    assert acc > 0.9 and np.isfinite(loss)
    assert model.metrics_names == ["loss", "accuracy"]
    lines = []
    model.summary(print_fn=lines.append)
    assert any(re.fullmatch(r"Optimizer params: [\d,]+ \(.*\)", line) for line in lines)


@pytest.mark.parametrize("loss,units,act,target", [
    ("binary_crossentropy", 1, "sigmoid", "binary"),
    ("categorical_crossentropy", 3, "softmax", "onehot"),
    ("mse", 2, None, "regression"),
])
def test_fit_other_losses_train(loss, units, act, target):
    utils.set_random_seed(1)
    x, labels = blobs(classes=3 if target != "binary" else 2)
    if target == "binary":
        y = labels.astype(np.float32)  # (N,) against a (None, 1) output, as Keras allows
    elif target == "onehot":
        y = utils.to_categorical(labels, 3)
    else:
        y = np.stack([x[:, 0] - x[:, 1], 0.5 * x[:, 2]], axis=1)
    model = mlp(units=(16,), activation="relu", outputs=units, out_activation=act)
    model.compile(optimizers.Adam(learning_rate=0.01), loss)
    h = model.fit(x, y, epochs=6, verbose=0)
    assert h.history["loss"][-1] < 0.6 * h.history["loss"][0]


def test_validation_split_takes_last_fraction_before_shuffling():
    x, y = blobs(n=100)
    model = mlp()
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["acc"])
    h = model.fit(x, y, batch_size=16, epochs=2, validation_split=0.2, verbose=0)
    assert set(h.history) == {"loss", "acc", "val_loss", "val_acc"}
    # validation runs after the epoch's last update, so it equals evaluating the last 20 samples now
    val_loss, val_acc = model.evaluate(x[80:], y[80:], batch_size=16, verbose=0)
    assert val_loss == pytest.approx(h.history["val_loss"][-1], rel=1e-12)
    assert val_acc == pytest.approx(h.history["val_acc"][-1], rel=1e-12)


def test_validation_data_gives_val_keys():
    x, y = blobs(n=64)
    model = mlp()
    model.compile("rmsprop", "sparse_categorical_crossentropy", metrics=["accuracy", "sparse_categorical_crossentropy"])
    h = model.fit(x, y, epochs=2, validation_data=(x[:10], y[:10]), verbose=0)
    assert set(h.history) == {"loss", "accuracy", "sparse_categorical_crossentropy", "val_loss", "val_accuracy",
                              "val_sparse_categorical_crossentropy"}
    ev = model.evaluate(x[:10], y[:10], verbose=0, return_dict=True)
    assert ev["loss"] == pytest.approx(h.history["val_loss"][-1], rel=1e-12)
    # the metric copy of the loss agrees with the loss kernel
    assert ev["sparse_categorical_crossentropy"] == pytest.approx(ev["loss"], rel=1e-4)


def test_evaluate_and_train_on_batch_return_forms():
    x, y = blobs(n=40)
    model = mlp()
    model.compile("sgd", "sparse_categorical_crossentropy")
    assert isinstance(model.evaluate(x, y, verbose=0), float)
    assert isinstance(model.train_on_batch(x[:8], y[:8]), float)
    model.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
    out = model.train_on_batch(x[:8], y[:8])
    assert isinstance(out, list) and len(out) == 2
    d = model.test_on_batch(x[:8], y[:8], return_dict=True)
    assert set(d) == {"loss", "accuracy"}
    assert model.predict_on_batch(x[:3]).shape == (3, 3)


def test_train_on_batch_sgd_step_matches_manual_update(rng):
    """One SGD step changes each weight by exactly -lr * gradient (the gradient from the same kernels)."""
    model = mlp(units=(5,))
    model.compile(optimizers.SGD(learning_rate=0.1), "categorical_crossentropy")
    x = rng.standard_normal((4, 4)).astype(np.float32)
    y = utils.to_categorical([0, 1, 2, 1], 3)
    before = model.get_weights()
    _, grads, _ = _model_grads(model, x, y)
    model.train_on_batch(x, y)
    for w, b in zip(model.weights, before):
        assert_close(w.numpy(), b.astype(np.float64) - 0.1 * grads[w.path], "optim")


def test_trainable_false_keeps_weights_bit_identical_through_fit():
    x, y = blobs(n=64)
    model = mlp(units=(6, 6))
    model.layers[0].trainable = False
    model.compile("adam", "sparse_categorical_crossentropy")
    frozen = model.layers[0].get_weights()
    others = model.layers[1].get_weights()
    model.fit(x, y, epochs=2, verbose=0)
    assert all(np.array_equal(a, b) for a, b in zip(frozen, model.layers[0].get_weights()))
    assert not np.array_equal(others[0], model.layers[1].get_weights()[0])


def test_gan_recipe_trainable_snapshot_at_compile_and_warning_once(rng):
    """Keras 3 rule: the trainable set is fixed by compile(); a change after compile warns once."""
    gen = Sequential([Input(shape=(2,)), Dense(4, activation="tanh")], name="gen")
    disc = Sequential([Input(shape=(4,)), Dense(1, activation="sigmoid")], name="disc")
    disc.compile("sgd", "binary_crossentropy")
    disc.trainable = False
    gan = Sequential([gen, disc], name="gan")
    assert gan.built and gan.input_shape == (None, 2) and gan.output_shape == (None, 1)
    assert [l.name for l in gan.layers] == ["gen", "disc"]
    with pytest.raises(ValueError, match=r"layer 'disc' .*expected shape \(None, 4\).*\(None, 5\).*'gen5'"):
        Sequential([Sequential([Input(shape=(2,)), Dense(5)], name="gen5"), disc])
    gan.compile("sgd", "binary_crossentropy")
    z = rng.standard_normal((8, 2)).astype(np.float32)
    ones = np.ones((8, 1), np.float32)
    d_before, g_before = disc.get_weights(), gen.get_weights()
    gan.train_on_batch(z, ones)
    assert all(np.array_equal(a, b) for a, b in zip(d_before, disc.get_weights()))
    assert not np.array_equal(g_before[0], gen.get_weights()[0])
    real = rng.standard_normal((8, 4)).astype(np.float32)
    with pytest.warns(UserWarning, match=r"trainable weights changed after compile\(\).*GAN recipe"):
        disc.train_on_batch(real, ones)  # compiled while trainable: still trains
    assert not np.array_equal(d_before[0], disc.get_weights()[0])
    disc.train_on_batch(real, ones)  # no second warning (pytest turns warnings into errors)
    for _ in range(3):
        gan.compile("sgd", "binary_crossentropy", metrics=["accuracy"])
    assert len(gan.train_on_batch(z, ones)) == 2


def test_set_random_seed_gives_bit_identical_training():
    x, y = blobs(n=96)

    def run(seed):
        utils.set_random_seed(seed)
        model = mlp(units=(8,), dropout=0.3)
        model.compile("adam", "sparse_categorical_crossentropy")
        model.fit(x, y, batch_size=16, epochs=2, verbose=0)  # shuffles and drops out
        return model.get_weights()

    a, b, c = run(5), run(5), run(6)
    assert all(np.array_equal(p, q) for p, q in zip(a, b))
    assert not all(np.array_equal(p, q) for p, q in zip(a, c))


def test_compile_before_build_then_add_and_recompile():
    x, y = blobs(n=40)
    model = Sequential([Dense(5, activation="relu")])
    model.compile("adam", "mse")  # not built yet: the trainable set is taken at the first step
    model.fit(x, np.ones((40, 5), np.float32), epochs=1, verbose=0)
    model.add(Dense(3, activation="softmax"))
    model.compile("adam", "sparse_categorical_crossentropy")
    before = model.layers[1].get_weights()
    model.fit(x, y, epochs=1, verbose=0)
    assert not np.array_equal(before[0], model.layers[1].get_weights()[0])  # the new layer trains


def test_fit_without_shuffle_and_initial_epoch():
    x, y = blobs(n=50)
    model = mlp()
    model.compile("sgd", "sparse_categorical_crossentropy")
    h = model.fit(x, y, epochs=3, initial_epoch=1, shuffle=False, verbose=0, batch_size=7)
    assert h.epoch == [1, 2]


def test_image_shaped_input_flatten_and_activation_layers(rng):
    """Flatten after rank-3 inputs, a separate softmax Activation layer fused with the loss."""
    utils.set_random_seed(2)
    x = rng.standard_normal((60, 4, 3)).astype(np.float32)
    y = (x[:, :, 0].sum(1) > 0).astype(np.int64)
    model = Sequential([Input(shape=(4, 3)), Flatten(), Dense(8, activation="relu"), Dense(2), Activation("softmax")])
    assert model.output_shape == (None, 2) and model.layers[1].input_shape == (None, 12)
    model.compile(optimizers.Adam(learning_rate=0.02), "sparse_categorical_crossentropy", metrics=["accuracy"])
    h = model.fit(x, y, epochs=10, batch_size=10, verbose=0)
    assert h.history["loss"][-1] < 0.5 * h.history["loss"][0]


def test_regularizer_adds_penalty_and_gradient(rng):
    from neurokern import regularizers
    x = rng.standard_normal((5, 3)).astype(np.float32)
    y = rng.standard_normal((5, 2)).astype(np.float32)
    model = Sequential([Input(shape=(3,)), Dense(2, kernel_regularizer=regularizers.L2(0.1))])
    model.compile(optimizers.SGD(learning_rate=0.05), "mse")
    w, b = (a.astype(np.float64) for a in model.get_weights())
    loss = model.test_on_batch(x, y)
    p = x @ w + b
    assert loss == pytest.approx(np.mean((p - y) ** 2) + 0.1 * np.sum(w ** 2), rel=1e-5)
    model.train_on_batch(x, y)
    grad_w = 2 * x.T.astype(np.float64) @ (p - y) / p.size + 0.2 * w
    assert_close(model.get_weights()[0], w - 0.05 * grad_w, "optim")


def test_sample_weight_loss_and_sgd_step(rng):
    """Weighted loss = sum_i w_i l_i / N (Keras 'sum_over_batch_size'); the SGD step follows its gradient."""
    x = rng.standard_normal((6, 3)).astype(np.float32)
    y = rng.standard_normal((6, 2)).astype(np.float32)
    w_s = np.array([0.0, 1.0, 2.0, 0.5, 3.0, 1.0], np.float32)
    model = Sequential([Input(shape=(3,)), Dense(2)])
    model.compile(optimizers.SGD(learning_rate=0.1), "mse")
    kernel, bias = (a.astype(np.float64) for a in model.get_weights())
    err = x @ kernel + bias - y
    per_sample = np.mean(err ** 2, axis=1)
    assert model.test_on_batch(x, y, sample_weight=w_s) == pytest.approx(np.sum(w_s * per_sample) / 6, rel=1e-5)
    assert model.evaluate(x, y, sample_weight=w_s, verbose=0) == pytest.approx(np.sum(w_s * per_sample) / 6, rel=1e-5)
    loss = model.train_on_batch(x, y, sample_weight=w_s)
    assert loss == pytest.approx(np.sum(w_s * per_sample) / 6, rel=1e-5)
    d = 2 * w_s[:, None] * err / err.size  # d(sum_i w_i mean_j err_ij^2 / N) / d pred
    assert_close(model.get_weights()[0], kernel - 0.1 * x.T.astype(np.float64) @ d, "optim")
    assert_close(model.get_weights()[1], bias - 0.1 * d.sum(0), "optim")


@pytest.mark.parametrize("loss,make_y", [
    ("sparse_categorical_crossentropy", lambda lab: lab),
    ("categorical_crossentropy", lambda lab: utils.to_categorical(lab, 3)),
])
def test_class_weight_equals_sample_weight_by_class(loss, make_y):
    x, labels = blobs(n=48)
    y = make_y(labels)
    table = {0: 1.0, 1: 3.0, 2: 0.5}
    runs = []
    for kwargs in ({"class_weight": table}, {"sample_weight": np.array([table[c] for c in labels])}):
        utils.set_random_seed(4)
        model = mlp(units=(6,), dropout=0.2)
        model.compile("adam", loss)
        runs.append((model.fit(x, y, epochs=2, batch_size=8, verbose=0, **kwargs).history["loss"],
                     model.get_weights()))
    assert runs[0][0] == runs[1][0]
    assert all(np.array_equal(a, b) for a, b in zip(runs[0][1], runs[1][1]))


def test_fused_softmax_gradient_is_scaled_by_sample_weight(rng):
    """Doubling every weight doubles the fused softmax-CE gradient (one SGD step moves twice as far)."""
    x = rng.standard_normal((5, 4)).astype(np.float32)
    y = np.array([0, 2, 1, 1, 0])
    moves = []
    for scale in (1.0, 2.0):
        utils.set_random_seed(9)
        model = mlp(units=(3,))
        model.compile(optimizers.SGD(learning_rate=0.1), "sparse_categorical_crossentropy")
        before = model.get_weights()
        model.train_on_batch(x, y, sample_weight=np.full(5, scale))
        moves.append([a - b for a, b in zip(model.get_weights(), before)])
    for m1, m2 in zip(*moves):
        assert_close(m2, 2 * m1.astype(np.float64), "optim")


@pytest.mark.parametrize("loss", [losses.Huber(delta=0.3), losses.BinaryCrossentropy(label_smoothing=0.2),
                                  losses.BinaryCrossentropy(from_logits=True)])
def test_sample_weight_keeps_loss_settings(rng, loss):
    """Weights of 1 give exactly the unweighted loss, whatever the loss's own settings."""
    x = rng.standard_normal((7, 3)).astype(np.float32)
    y = (rng.random((7, 1)) > 0.5).astype(np.float32)
    model = Sequential([Input(shape=(3,)), Dense(1, activation="sigmoid")])
    model.compile("sgd", loss)
    assert model.test_on_batch(x, y, sample_weight=np.ones(7)) == pytest.approx(model.test_on_batch(x, y), rel=1e-5)


def test_validation_sample_weights():
    x, y = blobs(n=40)
    w_val = np.linspace(0, 2, 10)
    model = mlp()
    model.compile("sgd", "sparse_categorical_crossentropy")
    h = model.fit(x[:30], y[:30], epochs=1, verbose=0, validation_data=(x[30:], y[30:], w_val))
    assert h.history["val_loss"][0] == pytest.approx(
        model.evaluate(x[30:], y[30:], sample_weight=w_val, verbose=0), rel=1e-12)


# ---- weights I/O ----------------------------------------------------------------------------------
def test_get_set_weights_model(rng):
    a, b = mlp(), mlp()
    b.set_weights(a.get_weights())
    x = rng.standard_normal((4, 4)).astype(np.float32)
    assert np.array_equal(a.predict(x), b.predict(x))
    with pytest.raises(ValueError, match="expects 4 weight arrays"):
        b.set_weights(a.get_weights()[:3])


def test_save_load_weights_round_trip(tmp_path, rng):
    a = mlp(units=(6, 5))
    path = tmp_path / "w.npz"
    a.save_weights(path)
    b = mlp(units=(6, 5))  # other automatic layer names: loads by position
    assert [l.name for l in a.layers] != [l.name for l in b.layers]
    b.load_weights(path)
    x = rng.standard_normal((3, 4)).astype(np.float32)
    assert np.array_equal(a.predict(x), b.predict(x))
    a.save_weights(str(tmp_path / "noext"))  # written at exactly the given path
    assert os.path.exists(tmp_path / "noext")
    with np.load(path, allow_pickle=False) as f:
        assert sorted(f.files)[0].endswith(f"{a.layers[0].name}/kernel")


def test_save_and_load_model(tmp_path, rng):
    a = mlp(units=(6,), dropout=0.2)
    a.save(tmp_path / "m.npz")
    b = models.load_model(tmp_path / "m.npz")
    assert [type(l).__name__ for l in b.layers] == ["Dense", "Dropout", "Dense"]
    x = rng.standard_normal((3, 4)).astype(np.float32)
    assert np.array_equal(a.predict(x), b.predict(x))
    with pytest.raises(ValueError, match="weights only"):
        a.save_weights(tmp_path / "w.npz")
        models.load_model(tmp_path / "w.npz")


def _assert_unchanged(model, weights):
    assert all(np.array_equal(p, q) for p, q in zip(weights, model.get_weights()))


def test_corrupt_weight_files_raise_and_leave_model_unchanged(tmp_path):
    src = mlp(units=(6,))
    good = tmp_path / "good.npz"
    src.save_weights(good)
    model = mlp(units=(6,))
    before = model.get_weights()
    data = good.read_bytes()

    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="corrupt or truncated"):
        model.load_weights(truncated)
    _assert_unchanged(model, before)

    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"not a zip file at all")
    with pytest.raises(ValueError, match="could not read"):
        model.load_weights(garbage)

    with np.load(good) as f:
        arrays = {k: f[k] for k in f.files}
    kernel_key = next(k for k in arrays if k.endswith("/kernel") and k.startswith("0001"))
    bias_key = next(k for k in arrays if k.endswith("/bias") and k.startswith("0001"))

    wrong = dict(arrays)
    wrong[kernel_key] = np.zeros((6, 4), np.float32)
    np.savez(tmp_path / "wrong.npz", **wrong)
    with pytest.raises(ValueError, match=r"layer '.*' weight 'kernel' expects shape \(6, 3\), found \(6, 4\)"):
        model.load_weights(tmp_path / "wrong.npz")
    _assert_unchanged(model, before)

    missing = {k: v for k, v in arrays.items() if k != bias_key}
    np.savez(tmp_path / "missing.npz", **missing)
    with pytest.raises(ValueError, match=r"has no value for layer '.*' weight 'bias'"):
        model.load_weights(tmp_path / "missing.npz")
    _assert_unchanged(model, before)

    extra = dict(arrays)
    extra["0002/000/dense_9/kernel"] = np.zeros((2, 2), np.float32)
    np.savez(tmp_path / "extra.npz", **extra)
    with pytest.raises(ValueError, match="holds weights the model does not have"):
        model.load_weights(tmp_path / "extra.npz")
    _assert_unchanged(model, before)

    pickled = dict(arrays)
    pickled[kernel_key] = np.array([{"a": 1}], dtype=object)  # would need pickle to read
    np.savez(tmp_path / "pickled.npz", **pickled)
    with pytest.raises(ValueError, match="could not read"):
        model.load_weights(tmp_path / "pickled.npz")
    _assert_unchanged(model, before)

    model.load_weights(good)  # and a good file still loads
    assert np.array_equal(model.get_weights()[0], src.get_weights()[0])


# ---- progress output ------------------------------------------------------------------------------
@pytest.mark.parametrize("verbose", [1, 2])
def test_fit_progress_in_log_files_is_one_line_per_epoch(capsys, verbose):
    x, y = blobs(n=64)
    model = mlp()
    model.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=3, batch_size=8, verbose=verbose, validation_split=0.25)
    out = capsys.readouterr().out  # captured stdout is not a terminal
    assert "\r" not in out and "\b" not in out and "\x1b" not in out
    lines = out.strip().splitlines()
    assert len(lines) == 6  # 'Epoch i/3' + one progress line per epoch
    assert lines[0] == "Epoch 1/3"
    assert re.match(r"6/6 .*- \d+[mu]?s( -)? \d+[mu]?s/step - loss: \d\.\d{4} - accuracy: \d\.\d{4}"
                    r" - val_loss: \d\.\d{4} - val_accuracy: \d\.\d{4}$", lines[1]), lines[1]
    assert ("[==============================]" in lines[1]) == (verbose == 1)


def test_evaluate_and_predict_progress_one_line_in_logs(capsys):
    x, y = blobs(n=64)
    model = mlp()
    model.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.evaluate(x, y, batch_size=16)
    model.predict(x, batch_size=16, verbose=1)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2
    assert re.match(r"4/4 \[=+\] - \d+s \d+[mu]?s/step - loss: \d\.\d{4} - accuracy: \d\.\d{4}$", lines[0]), lines[0]
    assert re.match(r"4/4 \[=+\] - \d+s \d+[mu]?s/step$", lines[1]), lines[1]


def test_fit_verbose_zero_is_silent(capsys):
    x, y = blobs(n=32)
    model = mlp()
    model.compile("sgd", "sparse_categorical_crossentropy")
    model.fit(x, y, epochs=2, verbose=0)
    model.evaluate(x, y, verbose=0)
    model.predict(x)
    assert capsys.readouterr().out == ""


def test_get_layer_and_pop():
    utils.clear_session()
    model = mlp(units=(4,))
    assert model.get_layer("dense") is model.layers[0]
    assert model.get_layer(index=-1) is model.layers[-1]
    with pytest.raises(ValueError, match="No such layer: nope"):
        model.get_layer("nope")
    model.pop()
    assert len(model.layers) == 1 and model.output_shape == (None, 4)


def test_nested_model_config_round_trip():
    model = mlp(units=(3,))
    config = model.get_config()
    clone = Sequential.from_config(config)
    assert clone.get_config()["layers"] == config["layers"]
    assert clone.count_params() == model.count_params()
