"""API-level bad input: each mistake raises a Python exception whose message says what to fix."""
import math

import numpy as np
import pytest

from neurokern import callbacks, initializers, metrics, regularizers, utils
from neurokern.layers import Activation, Dense, Dropout, Flatten, Input, InputLayer
from neurokern.models import Sequential


def compiled(loss="sparse_categorical_crossentropy", outputs=3):
    model = Sequential([Input(shape=(4,)), Dense(5, activation="relu"), Dense(outputs, activation="softmax")])
    model.compile("sgd", loss)
    return model


X = np.zeros((6, 4), np.float32)
Y = np.array([0, 1, 2, 0, 1, 2])


@pytest.mark.parametrize("units", [-3, 0, 2.5, "8", True, None])
def test_dense_bad_units(units):
    with pytest.raises(ValueError, match=f"Received: units={units!r}$".replace("(", r"\(").replace(".", r"\.")):
        Dense(units)


def test_dense_negative_units_message():
    with pytest.raises(ValueError, match=r"expected a positive integer. Received: units=-3"):
        Dense(-3)


@pytest.mark.parametrize("rate", [1.5, -0.1, math.nan, math.inf, 1.0, "0.5", None])
def test_dropout_bad_rate(rate):
    with pytest.raises(ValueError, match=r"Expected a float value between 0 and 1.*Received: rate="):
        Dropout(rate)


def test_unknown_names():
    with pytest.raises(ValueError, match="relu2"):
        Dense(3, activation="relu2")
    with pytest.raises(ValueError, match="relu2"):
        Activation("relu2")
    with pytest.raises(ValueError, match="unknown initializer 'glorot'"):
        Dense(3, kernel_initializer="glorot")
    with pytest.raises(ValueError, match="unknown regularizer"):
        Dense(3, kernel_regularizer="l3")
    model = Sequential([Input(shape=(4,)), Dense(2)])
    with pytest.raises(ValueError, match="crossentropyy"):
        model.compile("sgd", loss="crossentropyy")
    with pytest.raises(ValueError, match="adamm"):
        model.compile("adamm", loss="mse")
    with pytest.raises(ValueError, match="unknown metric 'accuray'"):
        model.compile("sgd", loss="mse", metrics=["accuray"])


def test_bad_layer_kwargs():
    with pytest.raises(TypeError, match=r"unexpected keyword argument\(s\) \['unit'\]"):
        Dense(3, unit=4)
    with pytest.raises(ValueError, match="Received: dtype='float16'"):
        Dense(3, dtype="float16")
    with pytest.raises(ValueError, match="Received: input_dim=-1"):
        Dense(3, input_dim=-1)
    with pytest.raises(ValueError, match="Received: shape=None"):
        Input()
    with pytest.raises(ValueError, match="must be positive"):
        Input(shape=(0, 3))
    with pytest.raises(ValueError, match="channels_last"):
        Flatten(data_format="channels_first")


def test_fit_before_compile():
    model = Sequential([Input(shape=(4,)), Dense(3)])
    with pytest.raises(RuntimeError, match=r"You must call compile\(\) before fit\(\)"):
        model.fit(X, Y)
    with pytest.raises(RuntimeError, match=r"compile\(\) before evaluate"):
        model.evaluate(X, Y)
    model.compile("sgd")
    with pytest.raises(ValueError, match="compiled with a loss"):
        model.fit(X, Y)


def test_x_y_length_mismatch():
    with pytest.raises(ValueError, match="x has 6 samples but y has 5"):
        compiled().fit(X, Y[:5], verbose=0)


def test_wrong_feature_count_names_the_layer():
    model = compiled()
    with pytest.raises(ValueError, match=r"layer 'dense.*expects inputs of shape \(None, 4\).*\(6, 5\)"):
        model.fit(np.zeros((6, 5), np.float32), Y, verbose=0)
    with pytest.raises(ValueError, match=r"expects inputs of shape \(None, 4\)"):
        model.predict(np.zeros((6, 4, 1), np.float32))


def test_shape_mismatch_at_add_names_both_layers():
    utils.clear_session()
    pre_built = Dense(2)
    pre_built._maybe_build((None, 7))
    model = Sequential([Input(shape=(4,)), Dense(3)])
    with pytest.raises(ValueError, match=r"layer 'dense' .*expected axis -1 of input shape to have value 7.*"
                                         r"\(None, 3\) \(output of layer 'dense_1'\)"):
        model.add(pre_built)
    assert len(model.layers) == 1  # the failed add left the model as it was


def test_target_shape_mismatch_hints():
    model = compiled(loss="categorical_crossentropy")
    with pytest.raises(ValueError, match=r"y has shape \(6,\).*sparse_categorical_crossentropy.*to_categorical"):
        model.fit(X, Y, verbose=0)
    model = compiled()
    onehot = np.eye(3, dtype=np.float32)[Y]
    with pytest.raises(ValueError, match=r"one integer label per sample.*For one-hot y use "
                                         r"loss='categorical_crossentropy'"):
        model.fit(X, onehot, verbose=0)
    with pytest.raises(ValueError, match=r"labels must be in \[0, 3\).*found values from 0 to 7"):
        model.fit(X, np.array([0, 1, 2, 7, 1, 0]), verbose=0)
    with pytest.raises(ValueError, match="needs integer class labels"):
        model.fit(X, Y + 0.5, verbose=0)


@pytest.mark.parametrize("kwargs,match", [
    ({"batch_size": 0}, "batch_size must be a positive integer"),
    ({"epochs": -1}, "epochs must be a non-negative integer"),
    ({"validation_split": 1.0}, r"validation_split must be in \[0, 1\)"),
    ({"validation_split": 0.95}, "leaves no training samples out of 6"),
    ({"verbose": 3}, "verbose must be 0, 1, 2 or 'auto'"),
    ({"validation_data": X}, r"validation_data must be a tuple \(x_val, y_val\)"),
    ({"sample_weight": np.ones(5)}, r"one weight per sample, shape \(6,\).*\(5,\)"),
    ({"sample_weight": -np.ones(6)}, "finite and non-negative"),
    ({"class_weight": {0: 1.0, 2: 1.0}}, "keys from 0 to one less than the number of classes"),
    ({"class_weight": {0: 1.0, 1: 2.0}}, r"weights for classes 0..1, but the targets hold class 2"),
])
def test_bad_fit_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        compiled().fit(X, Y, **{"verbose": 0, **kwargs})


def test_bad_data_types():
    model = compiled()
    with pytest.raises(TypeError, match="must be numeric"):
        model.fit(np.array([["a"] * 4] * 6), Y, verbose=0)
    with pytest.raises(TypeError, match="several inputs/outputs are not supported"):
        model.fit([X, X], Y, verbose=0)
    with pytest.raises(ValueError, match="x is None"):
        model.predict(None)


def test_sequential_add_errors():
    model = Sequential()
    with pytest.raises(TypeError, match="must be an instance of class Layer"):
        model.add("dense")
    model.add(Dense(2, name="a"))
    with pytest.raises(ValueError, match="should have unique names"):
        model.add(Dense(2, name="a"))
    with pytest.raises(ValueError, match="can only be the first element"):
        model.add(InputLayer(shape=(3,)))


def test_set_weights_errors_leave_model_unchanged():
    model = compiled()
    before = model.get_weights()
    bad = [w.copy() for w in before]
    bad[2] = np.zeros((5, 4), np.float32)
    with pytest.raises(ValueError, match=r"weight 'kernel' has shape \(5, 3\), but the provided array has shape "
                                         r"\(5, 4\)"):
        model.set_weights(bad)
    with pytest.raises(ValueError, match="expects 4 weight arrays"):
        model.set_weights(before + before)
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))


def test_load_weights_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="no weights file"):
        compiled().load_weights(tmp_path / "nope.npz")


def test_misc_helpers_bad_input():
    with pytest.raises(ValueError, match=r"label 5 is out of range.*\[0, 3\)"):
        utils.to_categorical([0, 5], num_classes=3)
    with pytest.raises(ValueError, match="label -1 is out of range"):
        utils.to_categorical([-1, 1])
    with pytest.raises(ValueError, match="integer class labels"):
        utils.to_categorical([0.5])
    with pytest.raises(ValueError, match="Received: seed=-1"):
        utils.set_random_seed(-1)
    with pytest.raises(ValueError, match="Received: mode='fan'"):
        initializers.VarianceScaling(mode="fan")
    with pytest.raises(ValueError, match="Received: l2=-1"):
        regularizers.L2(-1)
    with pytest.raises(ValueError, match="Received: patience=-2"):
        callbacks.EarlyStopping(patience=-2)
    with pytest.raises(ValueError, match="mode must be 'auto', 'min' or 'max'"):
        callbacks.ModelCheckpoint("x.npz", mode="best")
    with pytest.raises(ValueError, match="binary labels"):
        metrics.AUC()(np.array([0, 2]), np.array([0.1, 0.2]))
    with pytest.raises(TypeError, match="Callback instances"):
        compiled().fit(X, Y, verbose=0, callbacks=[print])


def test_count_params_unbuilt_layer():
    with pytest.raises(ValueError, match="isn't built"):
        Dense(3).count_params()
