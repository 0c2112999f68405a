"""The classic Keras sentiment LSTM: Embedding(top words, 32) -> LSTM(100) -> Dense(1, sigmoid).

Binary cross-entropy, Adam, reviews padded/cut to a fixed length with pad_sequences.

By default it trains on neurokern's SYNTHETIC review corpus (neurokern.datasets.reviews:
generated movie-review-style sentences with positive/negative words, negations and neutral
filler; NOT IMDB), which needs no download: 2,000 training and 500 held-out reviews, maxlen 48,
3 epochs, batch 32, Adam learning rate 0.01 (with Keras's default 0.001 it needs several more
epochs). Measured held-out accuracy 0.982 (seed 0) and 0.970 (seed 1), 10-16 s per epoch on a
loaded 2-core machine. That says the network and kernels learn (a bag of words gets about 0.78
here, because of the negations), nothing about real reviews.

--imdb trains on the real IMDB reviews (Keras's imdb.npz, found locally or downloaded with a
SHA-256 check; see neurokern.datasets.imdb) with the Keras example's settings: top 5,000 words,
reviews cut to 500 words, 3 epochs, batch 64, learning rate 0.001. Keras reports about 0.87 test
accuracy for this network; neurokern has not been run on real IMDB here (no network on the build machine), and on
2 CPU cores expect it to take a long time (25,000 reviews x 500 timesteps per epoch).
"""
import numpy as np

from neurokern import layers, models, optimizers, utils
from neurokern.datasets import imdb, reviews
from neurokern.examples._common import Printer, Timer, parser
from neurokern.preprocessing.sequence import pad_sequences

TOP_WORDS = 5000


def build_model(top_words=TOP_WORDS, embedding_dim=32, units=100, learning_rate=0.001):
    model = models.Sequential([
        layers.Embedding(top_words, embedding_dim),
        layers.LSTM(units),
        layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer=optimizers.Adam(learning_rate=learning_rate), loss="binary_crossentropy",
                  metrics=["accuracy"])
    return model


def main(argv=None):
    p = parser("imdb_lstm", __doc__, epochs=3, seed=0)
    p.add_argument("--imdb", action="store_true", help="use the real IMDB reviews (Keras's imdb.npz)")
    p.add_argument("--data", default=None, help="IMDB file or directory (with --imdb)")
    p.add_argument("--maxlen", type=int, default=None, help="pad/cut reviews to this many words "
                   "(default 48 synthetic, 500 IMDB)")
    p.add_argument("--batch-size", type=int, default=None, help="default 32 synthetic, 64 IMDB")
    p.add_argument("--train-size", type=int, default=2000, help="synthetic training reviews (default 2000)")
    p.add_argument("--test-size", type=int, default=500, help="synthetic held-out reviews (default 500)")
    p.add_argument("--learning-rate", type=float, default=None, help="Adam's (default 0.01 synthetic, 0.001 IMDB)")
    args = p.parse_args(argv)
    epochs = args.epochs
    maxlen = args.maxlen or (500 if args.imdb else 48)
    learning_rate = args.learning_rate or (0.001 if args.imdb else 0.01)
    batch_size = args.batch_size or (64 if args.imdb else 32)
    say = Printer(args.quiet)
    utils.set_random_seed(args.seed)

    if args.imdb:
        (x_train, y_train), (x_test, y_test) = imdb.load_data(path=args.data or imdb.KERAS_NPZ,
                                                              num_words=TOP_WORDS)
        source = "IMDB"
    else:
        (x_train, y_train), (x_test, y_test) = reviews.load_data(
            num_words=TOP_WORDS, n_train=args.train_size, n_test=args.test_size, seed=args.seed)
        source = "synthetic reviews (not IMDB)"
    lengths = np.array([len(s) for s in x_train])
    x_train = pad_sequences(x_train, maxlen=maxlen)
    x_test = pad_sequences(x_test, maxlen=maxlen)
    say(f"{source}: {len(x_train)} training / {len(x_test)} test reviews, median length "
        f"{int(np.median(lengths))} words, padded/cut to {maxlen}; {np.mean(y_train):.2f} positive")

    model = build_model(TOP_WORDS, learning_rate=learning_rate)
    with Timer() as t:
        history = model.fit(x_train, y_train, epochs=epochs, batch_size=batch_size, shuffle=True, verbose=0)
    loss, acc = model.evaluate(x_test, y_test, verbose=0)
    train_acc = float(history.history["accuracy"][-1])
    say(f"trained {epochs} epochs in {t.seconds:.1f} s ({t.seconds / epochs:.1f} s/epoch); "
        f"final training accuracy {train_acc:.4f}")
    say(f"held-out loss {loss:.4f}, accuracy {acc:.4f}")
    return {"test_accuracy": float(acc), "test_loss": float(loss), "train_accuracy": train_acc,
            "seconds": t.seconds, "epoch_seconds": t.seconds / epochs, "source": source}


if __name__ == "__main__":
    main()
