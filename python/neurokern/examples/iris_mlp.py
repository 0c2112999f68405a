"""A small MLP classifies Fisher's Iris flowers (data bundled with neurokern).

4 measurements -> Dense(16, relu) -> Dense(3, softmax), Adam, sparse categorical cross-entropy.
A stratified 80/20 split keeps 10 flowers of each species for testing; the features are
standardised with the training half's mean and standard deviation.

With 30 test flowers one mistake is 3.3 points, and which flowers land in the test half matters
more than the training: over split seeds 0-19 the test accuracy ranged from 0.87 to 1.0 (mean
0.95), the low end when several of the overlapping versicolor/virginica flowers are held out.
The default seed (3) gives a typical split (29/30); --seed changes the split and the initial weights.
"""
import numpy as np

from neurokern import layers, models, optimizers, utils
from neurokern.datasets import iris
from neurokern.examples._common import Printer, Timer, parser


def build_model(hidden=16, learning_rate=0.01):
    model = models.Sequential([
        layers.Input(shape=(4,)),
        layers.Dense(hidden, activation="relu"),
        layers.Dense(3, activation="softmax"),
    ])
    model.compile(optimizer=optimizers.Adam(learning_rate=learning_rate),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def main(argv=None):
    p = parser("iris_mlp", __doc__, epochs=100, seed=3)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--hidden", type=int, default=16)
    p.add_argument("--learning-rate", type=float, default=0.01)
    args = p.parse_args(argv)
    say = Printer(args.quiet)
    utils.set_random_seed(args.seed)

    x, y = iris.load_data()
    (x_train, y_train), (x_test, y_test) = iris.train_test_split(x, y, test_size=0.2, seed=args.seed)
    mean, std = x_train.mean(axis=0), x_train.std(axis=0)  # preprocessing, fitted on train only
    x_train, x_test = (x_train - mean) / std, (x_test - mean) / std
    say(f"Iris: {len(x_train)} training and {len(x_test)} test flowers, "
        f"classes {', '.join(iris.CLASS_NAMES)}")

    model = build_model(args.hidden, args.learning_rate)
    with Timer() as t:
        history = model.fit(x_train, y_train, epochs=args.epochs, batch_size=args.batch_size,
                            shuffle=True, verbose=0)
    test_loss, test_acc = model.evaluate(x_test, y_test, verbose=0)
    predicted = np.argmax(model.predict(x_test, verbose=0), axis=1)
    train_acc = float(history.history["accuracy"][-1])
    say(f"trained {args.epochs} epochs in {t.seconds:.2f} s "
        f"({1000 * t.seconds / args.epochs:.1f} ms/epoch); final training accuracy {train_acc:.3f}")
    say(f"test loss {test_loss:.4f}, test accuracy {test_acc:.4f} "
        f"({int(np.sum(predicted == y_test))}/{len(y_test)} flowers)")
    return {"test_accuracy": float(test_acc), "test_loss": float(test_loss),
            "train_accuracy": train_acc, "seconds": t.seconds,
            "epoch_seconds": t.seconds / args.epochs}


if __name__ == "__main__":
    main()
