"""A small convnet on Fashion-MNIST (Zalando's 10 clothing classes) with Adam.

    Conv2D(32, 3, relu) - MaxPooling2D(2) - Conv2D(64, 3, relu) - MaxPooling2D(2) - Flatten - Dropout(0.25)
    - Dense(128, relu) - Dense(10, softmax)

The data comes from --data, $NEUROKERN_DATA/fashion-mnist, ~/.cache/neurokern/fashion-mnist,
Debian's dataset-fashion-mnist package (/usr/share/datasets/fashion-mnist) or a verified download.

Default: 5 epochs, batch 64, Adam (Keras defaults). Measured with seed 0 on the 2-core machine, unloaded:
9-12 s per epoch, test accuracy 0.902 after the 5 epochs (the per-epoch test accuracy was 0.862 0.872
0.896 0.892 0.902). --train-samples 5000 --epochs 3 gives 0.811 in a few seconds.
"""
from neurokern import layers, models
from neurokern.datasets import fashion_mnist
from neurokern.examples.mnist_cnn import make_parser, train_and_evaluate


def build_model():
    model = models.Sequential([
        layers.Input(shape=(28, 28, 1)),
        layers.Conv2D(32, 3, activation="relu"),
        layers.MaxPooling2D(2),
        layers.Conv2D(64, 3, activation="relu"),
        layers.MaxPooling2D(2),
        layers.Flatten(),
        layers.Dropout(0.25),
        layers.Dense(128, activation="relu"),
        layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def main(argv=None):
    args = make_parser("fashion_cnn", __doc__, epochs=5, batch_size=64).parse_args(argv)
    return train_and_evaluate(args, build_model, fashion_mnist.load_data(args.data), "Fashion-MNIST")


if __name__ == "__main__":
    main()
