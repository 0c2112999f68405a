"""Whole models trained with fit() on device 'cuda' (the emulator here) match the same training on the cpu.

The two runs start from the same weights (copied with set_weights), see the same batches (shuffle=False),
and use the same optimizer settings, so per-epoch losses, final weights and predictions must agree to the
float32 tolerance of a few hundred kernel calls. Layer code is the same for both: only where the tensors
live differs.
"""
import numpy as np
import pytest

import neurokern as nk
from neurokern import layers, models, optimizers

# a few float32 steps with different summation orders (GPU-style reductions vs blocked CPU loops)
RTOL, ATOL = 2e-4, 2e-5


def _cnn():
    return models.Sequential([
        layers.Input((9, 9, 2)),
        layers.Conv2D(3, 3, activation="relu"),
        layers.MaxPooling2D(2),
        layers.Flatten(),
        layers.Dense(5, activation="softmax"),
    ])


def _lstm():
    return models.Sequential([
        layers.Input((6, 3)),
        layers.LSTM(7),
        layers.Dense(1),
    ])


def _data(kind):
    rng = np.random.default_rng(7)
    if kind == "cnn":
        x = rng.standard_normal((10, 9, 9, 2)).astype(np.float32)
        y = rng.integers(0, 5, size=10)
        return x, y, "sparse_categorical_crossentropy"
    x = rng.standard_normal((10, 6, 3)).astype(np.float32)
    y = rng.standard_normal((10, 1)).astype(np.float32)
    return x, y, "mse"


def _train(build, weights, device, x, y, loss, how="to"):
    if how == "default":
        nk.set_default_device(device)
    model = build()
    model.set_weights(weights)
    model.compile(optimizer=optimizers.Adam(0.01), loss=loss)
    if how == "to":
        model.to(device)
    assert all(w.value.device == device for w in model.weights)
    history = model.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)
    # still there after training: nothing fell back to the cpu on the way
    assert all(w.value.device == device for w in model.weights)
    assert all(t.device == device for t in model.optimizer.variables)
    out = model.predict(x, batch_size=4), model.evaluate(x, y, batch_size=4, verbose=0)
    nk.set_default_device("cpu")
    return history.history["loss"], model.get_weights(), out


@pytest.mark.parametrize("kind,how", [("cnn", "to"), ("lstm", "to"), ("cnn", "default")])
def test_fit_on_cuda_matches_cpu(kind, how):
    build = _cnn if kind == "cnn" else _lstm
    x, y, loss = _data(kind)
    weights = build().get_weights()
    cpu_loss, cpu_w, (cpu_pred, cpu_eval) = _train(build, weights, "cpu", x, y, loss)
    dev_loss, dev_w, (dev_pred, dev_eval) = _train(build, weights, "cuda", x, y, loss, how)
    assert cpu_loss[1] < cpu_loss[0]  # it trained: the comparison below is not between two no-ops
    np.testing.assert_allclose(dev_loss, cpu_loss, rtol=RTOL, atol=ATOL)
    for a, b in zip(dev_w, cpu_w):
        assert a.shape == b.shape and a.dtype == b.dtype == np.float32
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL)
    assert not np.allclose(dev_w[0], weights[0])  # the weights moved
    assert dev_pred.shape == cpu_pred.shape and np.all(np.isfinite(dev_pred))
    np.testing.assert_allclose(dev_pred, cpu_pred, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(dev_eval, cpu_eval, rtol=RTOL, atol=ATOL)


def test_train_on_cuda_then_continue_on_cpu():
    # Model.to carries the Adam moments along: training on, after moving, matches training on one device.
    x, y, loss = _data("cnn")
    weights = _cnn().get_weights()

    def run(devices):
        model = _cnn()
        model.set_weights(weights)
        model.compile(optimizer=optimizers.Adam(0.01), loss=loss)
        for d in devices:
            model.to(d)
            model.fit(x, y, batch_size=5, epochs=1, shuffle=False, verbose=0)
        return model.get_weights()

    for a, b in zip(run(["cuda", "cpu"]), run(["cpu", "cpu"])):
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL)
