"""The 8-3-8 encoder (Rumelhart, Hinton and Williams, 1986): 8 one-hot patterns through 3 units.

Eight one-hot input patterns are squeezed through three sigmoid hidden units and reconstructed.

The network must invent a code for 8 items in 3 units. As in the 1986 table, most hidden values
settle near 0 or 1 (corners of the unit cube) and a few stay in between, which the output layer
can still tell apart. Trained as then: squared error, full-batch gradient descent with momentum.
This prints the hidden values for each input and how many of the 8 patterns come back (argmax
of the output).
"""
import numpy as np

from neurokern import layers, models, optimizers, utils
from neurokern.examples._common import Printer, Timer, parser

PATTERNS = np.eye(8, dtype=np.float32)


def build_model(learning_rate, momentum=0.9):
    hidden = layers.Dense(3, activation="sigmoid", name="hidden")
    model = models.Sequential([layers.Input(shape=(8,)), hidden,
                               layers.Dense(8, activation="sigmoid", name="output")])
    # as in 1986: squared error, full-batch gradient descent with momentum
    model.compile(optimizer=optimizers.SGD(learning_rate=learning_rate, momentum=momentum),
                  loss="mean_squared_error")
    # the same hidden layer (same weights) on its own, to read the code it learns
    encoder = models.Sequential([layers.Input(shape=(8,)), hidden])
    return model, encoder


def main(argv=None):
    p = parser("encoder_838", __doc__, epochs=3000, seed=0)
    p.add_argument("--learning-rate", type=float, default=2.0)
    p.add_argument("--momentum", type=float, default=0.9)
    args = p.parse_args(argv)
    say = Printer(args.quiet)
    utils.set_random_seed(args.seed)

    model, encoder = build_model(args.learning_rate, args.momentum)
    with Timer() as t:
        history = model.fit(PATTERNS, PATTERNS, epochs=args.epochs, batch_size=8, shuffle=False,
                            verbose=0)
    hidden = encoder.predict(PATTERNS, verbose=0)
    out = model.predict(PATTERNS, verbose=0)
    recovered = int(np.sum(np.argmax(out, axis=1) == np.arange(8)))
    codes = {tuple(int(v) for v in (h > 0.5)) for h in hidden}
    loss = float(history.history["loss"][-1])
    say(f"trained {args.epochs} epochs in {t.seconds:.2f} s, final loss {loss:.4f}")
    say("input      | hidden values       | code")
    for i, h in enumerate(hidden):
        say(f"{''.join(str(int(v)) for v in PATTERNS[i])}   | "
            f"{h[0]:.2f}  {h[1]:.2f}  {h[2]:.2f}    | {''.join(str(int(v > 0.5)) for v in h)}")
    say(f"reconstructed {recovered}/8 patterns; {len(codes)} distinct binary hidden codes")
    return {"recovered": recovered, "accuracy": recovered / 8, "distinct_codes": len(codes),
            "hidden": hidden.tolist(), "loss": loss, "seconds": t.seconds}


if __name__ == "__main__":
    main()
