"""Metrics vs plain NumPy references (no sklearn): stateful accumulation, reset, Keras names, the
'accuracy' resolution rule, and AUC against a brute-force pairwise formula."""
import math

import numpy as np
import pytest

from neurokern import metrics, utils
from neurokern.layers import Dense, Input
from neurokern.models import Sequential


def _split_update(metric, y_true, y_pred, cuts=(3, 10)):
    """Feed the data in three chunks: a stateful metric must give the one-shot result."""
    edges = [0, *cuts, len(y_true)]
    for a, b in zip(edges[:-1], edges[1:]):
        metric.update_state(y_true[a:b], y_pred[a:b])
    return metric.result()


@pytest.fixture
def data(rng):
    n, c = 23, 4
    probs = rng.random((n, c)) + 0.05
    probs /= probs.sum(1, keepdims=True)
    labels = rng.integers(0, c, n)
    onehot = np.eye(c)[labels]
    p1 = rng.random((n, 1))
    b1 = rng.integers(0, 2, (n, 1)).astype(np.float64)
    reg_true, reg_pred = rng.standard_normal((n, 3)), rng.standard_normal((n, 3))
    return dict(probs=probs, labels=labels, onehot=onehot, p1=p1, b1=b1, reg_true=reg_true, reg_pred=reg_pred)


def test_accuracies(data):
    d = data
    ref_cat = np.mean(d["probs"].argmax(1) == d["labels"])
    assert _split_update(metrics.CategoricalAccuracy(), d["onehot"], d["probs"]) == pytest.approx(ref_cat)
    assert _split_update(metrics.SparseCategoricalAccuracy(), d["labels"], d["probs"]) == pytest.approx(ref_cat)
    assert _split_update(metrics.SparseCategoricalAccuracy(), d["labels"][:, None], d["probs"]) == \
        pytest.approx(ref_cat)
    ref_bin = np.mean((d["p1"] > 0.5) == d["b1"])
    assert _split_update(metrics.BinaryAccuracy(), d["b1"], d["p1"]) == pytest.approx(ref_bin)
    assert _split_update(metrics.BinaryAccuracy(), d["b1"][:, 0], d["p1"]) == pytest.approx(ref_bin)
    ref_bin7 = np.mean((d["p1"] > 0.7) == d["b1"])
    assert _split_update(metrics.BinaryAccuracy(threshold=0.7), d["b1"], d["p1"]) == pytest.approx(ref_bin7)


def test_crossentropy_metrics(data):
    d, eps = data, 1e-7
    p = np.clip(d["p1"], eps, 1 - eps)
    ref_bce = np.mean(-(d["b1"] * np.log(p) + (1 - d["b1"]) * np.log(1 - p)))
    assert _split_update(metrics.BinaryCrossentropy(), d["b1"], d["p1"]) == pytest.approx(ref_bce, rel=1e-12)
    ref_cce = np.mean(-np.log(d["probs"][np.arange(len(d["labels"])), d["labels"]]))
    assert _split_update(metrics.CategoricalCrossentropy(), d["onehot"], d["probs"]) == pytest.approx(ref_cce)
    assert _split_update(metrics.SparseCategoricalCrossentropy(), d["labels"], d["probs"]) == pytest.approx(ref_cce)
    logits = np.log(d["probs"]) + 3.0  # same softmax
    assert metrics.CategoricalCrossentropy(from_logits=True)(d["onehot"], logits) == pytest.approx(ref_cce)
    z = np.log(p / (1 - p))
    assert metrics.BinaryCrossentropy(from_logits=True)(d["b1"], z) == pytest.approx(ref_bce, rel=1e-6)


def test_regression_metrics(data):
    t, p = data["reg_true"], data["reg_pred"]
    assert _split_update(metrics.MeanAbsoluteError(), t, p) == pytest.approx(np.mean(np.abs(t - p)))
    assert _split_update(metrics.MeanSquaredError(), t, p) == pytest.approx(np.mean((t - p) ** 2))
    assert _split_update(metrics.RootMeanSquaredError(), t, p) == pytest.approx(math.sqrt(np.mean((t - p) ** 2)))


def _auc_pairwise(labels, scores):
    """P(score of a random positive > score of a random negative) + 1/2 P(tie), over all pairs."""
    pos, neg = scores[labels == 1], scores[labels == 0]
    diff = pos[:, None] - neg[None, :]
    return (np.sum(diff > 0) + 0.5 * np.sum(diff == 0)) / diff.size


def test_auc_exact_vs_pairwise(rng):
    labels = rng.integers(0, 2, 200).astype(np.float64)
    scores = np.round(rng.random(200) * 0.6 + 0.4 * labels, 2)  # rounded: many ties
    assert len(np.unique(scores)) < 100
    m = metrics.AUC()
    assert _split_update(m, labels, scores, cuts=(50, 120)) == pytest.approx(_auc_pairwise(labels, scores), abs=1e-12)
    assert m.name == "auc"
    assert metrics.AUC()(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8])) == pytest.approx(0.75)
    assert metrics.AUC()(np.array([1, 1]), np.array([0.2, 0.3])) == 0.0  # one class only
    m.reset_state()
    assert m.result() == 0.0


def test_precision_recall(rng):
    labels = rng.integers(0, 2, 50)
    scores = rng.random(50)
    pred = scores > 0.5
    tp = np.sum(pred & (labels == 1))
    assert metrics.Precision()(labels, scores) == pytest.approx(tp / pred.sum())
    assert metrics.Recall()(labels, scores) == pytest.approx(tp / (labels == 1).sum())


def test_reset_state_and_mean():
    m = metrics.MeanAbsoluteError()
    m.update_state(np.zeros((2, 1)), np.ones((2, 1)))
    assert m.result() == 1.0
    m.reset_state()
    assert m.result() == 0.0
    mean = metrics.Mean()
    mean.update_state([1.0, 2.0, 3.0])
    mean.update_state([10.0], sample_weight=[3.0])
    assert mean.result() == pytest.approx((6 + 30) / 6)


def test_get_names_as_keras():
    assert metrics.get("mae").name == "mae"
    assert isinstance(metrics.get("mae"), metrics.MeanAbsoluteError)
    assert metrics.get("mean_absolute_error").name == "mean_absolute_error"
    assert metrics.get("AUC").name == "AUC"
    assert metrics.AUC().name == "auc"
    assert metrics.RootMeanSquaredError().name == "root_mean_squared_error"
    with pytest.raises(ValueError, match="unknown metric 'acuracy'"):
        metrics.get("acuracy")


@pytest.mark.parametrize("loss,y_shape,out_shape,expected", [
    ("binary_crossentropy", (8, 3), (None, 3), metrics.BinaryAccuracy),
    ("mse", (8, 1), (None, 1), metrics.BinaryAccuracy),
    ("sparse_categorical_crossentropy", (8,), (None, 5), metrics.SparseCategoricalAccuracy),
    ("mse", (8,), (None, 5), metrics.SparseCategoricalAccuracy),
    ("categorical_crossentropy", (8, 5), (None, 5), metrics.CategoricalAccuracy),
])
def test_accuracy_resolution(loss, y_shape, out_shape, expected):
    for name in ("accuracy", "acc"):
        m = metrics.resolve(name, loss, y_shape, out_shape)
        assert type(m) is expected and m.name == name


def test_history_metric_names_in_fit(rng):
    utils.set_random_seed(3)
    x = rng.standard_normal((40, 3)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.float32)
    model = Sequential([Input(shape=(3,)), Dense(1, activation="sigmoid")])
    model.compile("adam", "binary_crossentropy",
                  metrics=["accuracy", metrics.AUC(), "mae", metrics.RootMeanSquaredError()])
    h = model.fit(x, y, epochs=1, verbose=0, validation_split=0.25)
    assert list(h.history) == ["loss", "accuracy", "auc", "mae", "root_mean_squared_error", "val_loss",
                               "val_accuracy", "val_auc", "val_mae", "val_root_mean_squared_error"]
    # evaluate's accuracy is binary accuracy of the predictions
    pred = model.predict(x)
    res = model.evaluate(x, y, verbose=0, return_dict=True)
    assert res["accuracy"] == pytest.approx(np.mean((pred[:, 0] > 0.5) == y))
    assert res["auc"] == pytest.approx(_auc_pairwise(y, pred[:, 0].astype(np.float64)), abs=1e-12)
