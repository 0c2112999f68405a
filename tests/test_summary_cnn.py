"""summary() of the CNN seed networks: Keras output shapes and parameter counts, in the exact line layout
of Model.summary (golden text, as tests/test_models.py does for the MLP). The counts were worked out by
hand from the Keras formulas: Conv2D (KH*KW*C + 1) * F, Dense (in + 1) * units; a 'valid' 3x3 conv takes
2 off each spatial size, 'same' keeps it, a 2x2 max pool halves it (rounding down)."""
import re

import pytest

from neurokern import utils
from neurokern.examples import fashion_cnn, lenet, mnist_cnn
from neurokern.layers import BatchNormalization, Conv2D, Dense, Dropout, Flatten, Input, MaxPooling2D
from neurokern.models import Sequential

CHOLLET_GOLDEN = """\
Model: "sequential"
____________________________________________________________________
 Layer (type)                    Output Shape              Param #
====================================================================
 conv2d (Conv2D)                 (None, 26, 26, 32)        320
____________________________________________________________________
 max_pooling2d (MaxPooling2D)    (None, 13, 13, 32)        0
____________________________________________________________________
 conv2d_1 (Conv2D)               (None, 11, 11, 64)        18,496
____________________________________________________________________
 max_pooling2d_1 (MaxPooling2D)  (None, 5, 5, 64)          0
____________________________________________________________________
 conv2d_2 (Conv2D)               (None, 3, 3, 64)          36,928
____________________________________________________________________
 flatten (Flatten)               (None, 576)               0
____________________________________________________________________
 dense (Dense)                   (None, 64)                36,928
____________________________________________________________________
 dense_1 (Dense)                 (None, 10)                650
====================================================================
Total params: 93,322 (364.54 KB)
Trainable params: 93,322 (364.54 KB)
Non-trainable params: 0 (0.00 B)
____________________________________________________________________"""

LENET_GOLDEN = """\
Model: "sequential"
____________________________________________________________________
 Layer (type)                    Output Shape              Param #
====================================================================
 conv2d (Conv2D)                 (None, 28, 28, 6)         156
____________________________________________________________________
 max_pooling2d (MaxPooling2D)    (None, 14, 14, 6)         0
____________________________________________________________________
 conv2d_1 (Conv2D)               (None, 10, 10, 16)        2,416
____________________________________________________________________
 max_pooling2d_1 (MaxPooling2D)  (None, 5, 5, 16)          0
____________________________________________________________________
 flatten (Flatten)               (None, 400)               0
____________________________________________________________________
 dense (Dense)                   (None, 120)               48,120
____________________________________________________________________
 dense_1 (Dense)                 (None, 84)                10,164
____________________________________________________________________
 dense_2 (Dense)                 (None, 10)                850
====================================================================
Total params: 61,706 (241.04 KB)
Trainable params: 61,706 (241.04 KB)
Non-trainable params: 0 (0.00 B)
____________________________________________________________________"""


def summary_text(model):
    lines = []
    model.summary(print_fn=lines.append)
    return "\n".join(lines)


@pytest.fixture(autouse=True)
def fresh_names():
    utils.clear_session()  # automatic layer names start again at conv2d, dense, ...


def test_chollet_mnist_convnet_summary_is_keras():
    model = Sequential([
        Input(shape=(28, 28, 1)),
        Conv2D(32, (3, 3), activation="relu"), MaxPooling2D((2, 2)),
        Conv2D(64, (3, 3), activation="relu"), MaxPooling2D((2, 2)),
        Conv2D(64, (3, 3), activation="relu"),
        Flatten(), Dense(64, activation="relu"), Dense(10, activation="softmax"),
    ])
    assert model.count_params() == 93322
    assert summary_text(model) == CHOLLET_GOLDEN


def test_chollet_convnet_with_input_shape_kwarg_and_the_example_model():
    # Keras 2 style: input_shape on the first layer, the same table
    model = Sequential([Conv2D(32, 3, activation="relu", input_shape=(28, 28, 1)), MaxPooling2D(2),
                        Conv2D(64, 3, activation="relu"), MaxPooling2D(2), Conv2D(64, 3, activation="relu"),
                        Flatten(), Dense(64, activation="relu"), Dense(10, activation="softmax")])
    assert summary_text(model) == CHOLLET_GOLDEN
    utils.clear_session()
    assert summary_text(mnist_cnn.build_model()) == CHOLLET_GOLDEN


def test_lenet_summary_is_keras():
    assert summary_text(lenet.build_model()) == LENET_GOLDEN
    assert lenet.build_model().count_params() == 61706


def test_cats_vs_dogs_convnet_param_count():
    """150x150x3, four 'same' 3x3 conv + 2x2 max-pool blocks (32, 64, 128, 128 filters), Flatten, Dropout 0.5,
    Dense 512, Dense 128, Dense 1. Spatial 150 -> 75 -> 37 -> 18 -> 9, so Flatten gives 9*9*128 = 10,368:
    896 + 18,496 + 73,856 + 147,584 + (10,368 + 1) * 512 + (512 + 1) * 128 + 129 = 5,615,553."""
    model = Sequential([Input(shape=(150, 150, 3))])
    for filters in (32, 64, 128, 128):
        model.add(Conv2D(filters, (3, 3), padding="same", activation="relu"))
        model.add(MaxPooling2D((2, 2)))
    model.add(Flatten())
    model.add(Dropout(0.5))
    model.add(Dense(512, activation="relu"))
    model.add(Dense(128, activation="relu"))
    model.add(Dense(1, activation="sigmoid"))
    text = summary_text(model)
    assert model.count_params() == 5615553
    assert "Total params: 5,615,553 (21.42 MB)" in text
    expected = [("conv2d (Conv2D)", "(None, 150, 150, 32)", "896"),
                ("max_pooling2d (MaxPooling2D)", "(None, 75, 75, 32)", "0"),
                ("conv2d_1 (Conv2D)", "(None, 75, 75, 64)", "18,496"),
                ("max_pooling2d_1 (MaxPooling2D)", "(None, 37, 37, 64)", "0"),
                ("conv2d_2 (Conv2D)", "(None, 37, 37, 128)", "73,856"),
                ("max_pooling2d_2 (MaxPooling2D)", "(None, 18, 18, 128)", "0"),
                ("conv2d_3 (Conv2D)", "(None, 18, 18, 128)", "147,584"),
                ("max_pooling2d_3 (MaxPooling2D)", "(None, 9, 9, 128)", "0"),
                ("flatten (Flatten)", "(None, 10368)", "0"),
                ("dropout (Dropout)", "(None, 10368)", "0"),
                ("dense (Dense)", "(None, 512)", "5,308,928"),
                ("dense_1 (Dense)", "(None, 128)", "65,664"),
                ("dense_2 (Dense)", "(None, 1)", "129")]
    for name, shape, params in expected:
        assert re.search(rf"^ {re.escape(name)}\s+{re.escape(shape)}\s+{params}$", text, re.M), name


def test_fashion_cnn_model_and_batchnorm_non_trainable_params():
    model = fashion_cnn.build_model()
    # 320 + 18,496 + (5*5*64 + 1) * 128 + 1,290
    assert model.count_params() == 320 + 18496 + 1601 * 128 + 1290
    utils.clear_session()
    model = Sequential([Input(shape=(8, 8, 3)), Conv2D(4, 3, use_bias=False), BatchNormalization(), Flatten(),
                        Dense(2)])
    text = summary_text(model)
    assert re.search(r"^ batch_normalization \(BatchNormalization\)\s+\(None, 6, 6, 4\)\s+16$", text, re.M)
    # gamma, beta trainable; moving mean and variance not (Keras counts them in the total)
    assert "Total params: 414 (1.62 KB)" in text
    assert "Trainable params: 406 (1.59 KB)" in text
    assert "Non-trainable params: 8 (32.00 B)" in text
