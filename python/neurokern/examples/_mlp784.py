"""The Keras mnist_mlp network, shared by mnist_mlp and fashion_mlp.

784 pixels / 255 -> Dense(512, relu) -> Dropout(0.2) -> Dense(10, softmax); RMSprop or Adam (Keras
defaults, learning rate 0.001), sparse categorical cross-entropy, batch 128. One fit() call per
epoch (the optimizer state carries over, as in Keras) so each epoch is timed.
"""
import numpy as np

from neurokern import layers, models, utils
from neurokern.examples._common import Printer, Timer, parser


def build_model(optimizer="rmsprop", hidden=512, dropout=0.2):
    model = models.Sequential([
        layers.Input(shape=(784,)),
        layers.Dense(hidden, activation="relu"),
        layers.Dropout(dropout),
        layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def make_parser(name, doc, epochs=2, optimizer="rmsprop"):
    p = parser(name, doc, epochs=epochs, seed=0)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--optimizer", choices=("rmsprop", "adam"), default=optimizer)
    p.add_argument("--hidden", type=int, default=512)
    p.add_argument("--train-samples", type=int, default=None,
                   help="train on the first N images only (quick runs)")
    p.add_argument("--data", default=None, help="directory holding the dataset files")
    return p


def run(args, load, title):
    """Load with `load(path)`, train, evaluate; returns the metrics dict the examples return."""
    say = Printer(args.quiet)
    utils.set_random_seed(args.seed)
    (x_train, y_train), (x_test, y_test) = load(args.data)
    if args.train_samples:
        x_train, y_train = x_train[:args.train_samples], y_train[:args.train_samples]
    # preprocessing (not training math): flatten and scale to [0, 1] floats
    x_train = x_train.reshape(len(x_train), 784).astype(np.float32) / 255.0
    x_test = x_test.reshape(len(x_test), 784).astype(np.float32) / 255.0
    say(f"{title}: {len(x_train)} training and {len(x_test)} test images")

    model = build_model(args.optimizer, args.hidden)
    if not args.quiet:
        model.summary()
    epoch_seconds = []
    for epoch in range(args.epochs):
        with Timer() as t:
            history = model.fit(x_train, y_train, epochs=1, batch_size=args.batch_size, shuffle=True,
                                verbose=0)
        epoch_seconds.append(t.seconds)
        h = history.history
        say(f"epoch {epoch + 1}/{args.epochs}: {t.seconds:.2f} s, loss {h['loss'][-1]:.4f}, "
            f"accuracy {h['accuracy'][-1]:.4f}")
    test_loss, test_acc = model.evaluate(x_test, y_test, batch_size=1000, verbose=0)
    say(f"test loss {test_loss:.4f}, test accuracy {test_acc:.4f}")
    return {"test_accuracy": float(test_acc), "test_loss": float(test_loss),
            "epoch_seconds": epoch_seconds, "train_samples": len(x_train)}
