"""A 2-2-1 sigmoid network learns XOR (Rumelhart, Hinton and Williams, 1986).

Two hidden sigmoid units, one sigmoid output, squared-error loss, full-batch SGD with momentum.
The hidden layer bends the input space so that XOR, which no single linear threshold unit can
compute (see `perceptron`), becomes linearly separable for the output unit.

This small network has local minima: from about one random start in four (Keras's default
glorot_uniform weights) gradient descent settles where one hidden unit is useless and only 2 or
3 of the 4 patterns come out right (Rumelhart, Hinton and Williams saw the same). The script then
starts again from new random weights, up to --restarts times.
"""
import numpy as np

from neurokern import layers, models, optimizers, utils
from neurokern.examples._common import Printer, Timer, parser

X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
Y = np.array([[0], [1], [1], [0]], dtype=np.float32)


def build_model(learning_rate, momentum):
    model = models.Sequential([
        layers.Input(shape=(2,)),
        layers.Dense(2, activation="sigmoid"),
        layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer=optimizers.SGD(learning_rate=learning_rate, momentum=momentum),
                  loss="mean_squared_error")
    return model


def main(argv=None):
    p = parser("xor_mlp", __doc__, epochs=2000, seed=1)
    p.add_argument("--learning-rate", type=float, default=0.5)
    p.add_argument("--momentum", type=float, default=0.9)
    p.add_argument("--restarts", type=int, default=5,
                   help="new random starts allowed after a local minimum (default 5)")
    args = p.parse_args(argv)
    say = Printer(args.quiet)
    utils.set_random_seed(args.seed)

    total = 0.0
    for attempt in range(1, args.restarts + 2):
        model = build_model(args.learning_rate, args.momentum)  # fresh weights from the seeded generator
        with Timer() as t:
            history = model.fit(X, Y, epochs=args.epochs, batch_size=4, shuffle=False, verbose=0)
        total += t.seconds
        out = model.predict(X, verbose=0).reshape(-1)
        correct = int(np.sum((out > 0.5) == (Y.reshape(-1) > 0.5)))
        loss = float(history.history["loss"][-1])
        say(f"start {attempt}: trained {args.epochs} epochs in {t.seconds:.2f} s, "
            f"final squared error {loss:.5f}, {correct}/4 right")
        if correct == 4:
            break
        if attempt <= args.restarts:
            say("  stuck in a local minimum: starting again from new random weights")
    say(" x1 x2 | target | output")
    for (a, b), target, o in zip(X.astype(int), Y.reshape(-1).astype(int), out):
        say(f"  {a}  {b} |   {target}    | {o:.3f}")
    say(f"XOR accuracy: {correct}/4")
    return {"accuracy": correct / 4, "loss": loss, "outputs": out.tolist(), "starts": attempt,
            "seconds": total}


if __name__ == "__main__":
    main()
