"""Rosenblatt's perceptron (1958) learns AND and OR, and provably cannot learn XOR; then the delta rule.

Perceptron rule, one pattern at a time, with a step (threshold) output:
    o = step(x . w)            x = (1, x1, x2): the leading 1 makes w[0] the bias
    w <- w + a * x * (t - o)   (changes w only when the pattern is misclassified)
The convergence theorem: if some w separates the classes, this reaches it in finitely many updates.
For XOR no w exists: o(0,1) = o(1,0) = 1 needs w0 + w1 > 0 and w0 + w2 > 0, and o(0,0) = o(1,1) = 0
needs w0 <= 0 and w0 + w1 + w2 <= 0. Adding the first two gives w0 + w1 + w2 > -w0 >= 0, which
contradicts the last. So the rule never stops changing w; with integer steps the weight vector
revisits an earlier value and cycles forever (the perceptron cycling theorem), and at most 3 of
the 4 patterns are ever right at once.

Delta rule (Widrow and Hoff, 1960), batch gradient descent on the un-thresholded output:
    y = X w,   E = mean((t - y)^2) / 2,   w <- w + lr * X^T (t - y) / N
It converges to the least-squares w; thresholding y at 1/2 then classifies AND and OR, while
for XOR the least-squares output is 1/2 for every pattern.

The training math runs in neurokern.ops: matmul, step, sub, and gemm as the in-place update
(w += alpha * X^T e with beta = 1).
"""
import numpy as np

import neurokern as nk
from neurokern import ops
from neurokern.examples._common import Printer, parser

INPUTS = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
TARGETS = {
    "AND": np.array([0, 0, 0, 1], dtype=np.float32),
    "OR": np.array([0, 1, 1, 1], dtype=np.float32),
    "XOR": np.array([0, 1, 1, 0], dtype=np.float32),
}


def with_bias(x):
    """Prepend the constant input 1 so that w[0] acts as the bias (threshold)."""
    return np.hstack([np.ones((len(x), 1), np.float32), x])


def classify(X, w):
    """Step outputs (N, 1) for inputs X (N, 3) under weights w (3, 1)."""
    return ops.step(ops.matmul(X, w))


def train_perceptron(x, t, learning_rate=1.0, max_epochs=100, w0=None, rng=None):
    """Rosenblatt's rule, one pattern at a time; patterns in a new random order each epoch when
    `rng` is given, else in the fixed order of `x`.

    Returns a dict: weights, epochs, converged, accuracy (final), best_accuracy (over every weight
    vector visited, the "pocket"), distinct (number of distinct weight vectors visited) and cycle
    (fixed order only: the two epochs after which the weights were equal, so they repeat forever).
    """
    X = nk.tensor(with_bias(x))                            # (N, 3)
    T = nk.tensor(t.reshape(-1, 1))                        # (N, 1)
    w = nk.tensor(np.zeros((3, 1), np.float32) if w0 is None else np.array(w0, np.float32).reshape(3, 1))
    rows = [(nk.tensor(with_bias(x[i:i + 1])), nk.tensor(t[i:i + 1].reshape(1, 1))) for i in range(len(x))]

    def accuracy():
        return float(np.mean(classify(X, w).numpy() == T.numpy()))

    visited = {w.numpy().tobytes()}
    at_epoch_end = {}   # weights after an epoch -> that epoch (cycle detection, fixed order)
    best, cycle = accuracy(), None
    for epoch in range(1, max_epochs + 1):
        errors = 0
        order = rng.permutation(len(rows)) if rng is not None else range(len(rows))
        for i in order:
            xi, ti = rows[i]
            o = classify(xi, w)                                       # (1, 1)
            e = ops.sub(ti, o)                                        # (1, 1): t - o in {-1, 0, 1}
            errors += int(e.numpy()[0, 0] != 0)
            ops.gemm(w, xi, e, transpose_a=True, alpha=learning_rate, beta=1.0)  # w += a xi^T e
            visited.add(w.numpy().tobytes())
            best = max(best, accuracy())
        if errors == 0:
            break
        key = w.numpy().tobytes()
        if rng is None and cycle is None and key in at_epoch_end:
            cycle = (at_epoch_end[key], epoch)  # same w, same pattern order: the epochs repeat forever
        at_epoch_end.setdefault(key, epoch)
    return {"weights": w.numpy().ravel(), "epochs": epoch, "converged": errors == 0,
            "accuracy": accuracy(), "best_accuracy": best, "distinct": len(visited), "cycle": cycle}


def train_delta_rule(x, t, learning_rate=0.5, epochs=500):
    """Batch gradient descent on E = mean((t - Xw)^2)/2. Returns weights, mse, accuracy."""
    X = nk.tensor(with_bias(x))                            # (N, 3)
    T = nk.tensor(t.reshape(-1, 1))                        # (N, 1)
    w = nk.zeros((3, 1))
    n = len(x)
    for _ in range(epochs):
        e = ops.sub(T, ops.matmul(X, w))                              # (N, 1): t - y, y linear
        ops.gemm(w, X, e, transpose_a=True, alpha=learning_rate / n, beta=1.0)  # w += lr/N X^T e
    y = ops.matmul(X, w).numpy().ravel()
    mse = float(np.mean((t - y) ** 2))
    accuracy = float(np.mean((y > 0.5) == (t > 0.5)))
    return {"weights": w.numpy().ravel(), "outputs": y, "mse": mse, "accuracy": accuracy}


def main(argv=None):
    p = parser("perceptron", __doc__, epochs=100, seed=0)
    p.add_argument("--learning-rate", type=float, default=1.0, help="perceptron step a (default 1)")
    p.add_argument("--init", choices=("zeros", "random"), default="zeros",
                   help="initial weights: zeros, or random integers in [-2, 2] from --seed")
    p.add_argument("--fixed-order", action="store_true",
                   help="present the patterns in the same order every epoch (default: shuffled "
                        "by --seed); the XOR run then shows an exact cycle")
    p.add_argument("--delta-epochs", type=int, default=500, help="delta-rule gradient steps")
    p.add_argument("--delta-learning-rate", type=float, default=0.5)
    args = p.parse_args(argv)
    say = Printer(args.quiet)
    rng = np.random.default_rng(args.seed)

    results = {}
    order = "fixed pattern order" if args.fixed_order else f"patterns shuffled each epoch, seed {args.seed}"
    say(f"Perceptron rule  w <- w + a x (t - o),  o = step(x . w)  (a = {args.learning_rate}, {order})")
    for name, t in TARGETS.items():
        w0 = rng.integers(-2, 3, size=3) if args.init == "random" else None
        r = train_perceptron(INPUTS, t, args.learning_rate, args.epochs, w0,
                             None if args.fixed_order else rng)
        results[name] = {k: r[k] for k in ("accuracy", "best_accuracy", "converged", "epochs",
                                           "distinct", "cycle")}
        results[name]["weights"] = r["weights"].tolist()
        w = ", ".join(f"{v:+.2f}" for v in r["weights"])
        if r["converged"]:
            say(f"  {name:3s}: learned in {r['epochs']} epochs, accuracy {r['accuracy']:.0%}, w = ({w})")
        else:
            say(f"  {name:3s}: not learned after {r['epochs']} epochs (the limit); best accuracy of any "
                f"weights visited {round(4 * r['best_accuracy'])}/4, final w = ({w})")
            say(f"       only {r['distinct']} distinct weight vectors in {4 * r['epochs']} updates: the "
                "weights stay bounded and keep cycling (perceptron cycling theorem).")
            if r["cycle"]:
                say(f"       the weights after epoch {r['cycle'][1]} equal those after epoch "
                    f"{r['cycle'][0]}, so the same epochs repeat forever.")
    say("  XOR is not linearly separable: w0+w1 > 0 and w0+w2 > 0 give w0+w1+w2 > -w0 >= 0,\n"
        "  but (1,1) -> 0 needs w0+w1+w2 <= 0. No single threshold unit computes XOR.")

    say(f"\nDelta rule  w <- w + lr X^T (t - Xw) / N  ({args.delta_epochs} steps, lr {args.delta_learning_rate})")
    for name, t in TARGETS.items():
        r = train_delta_rule(INPUTS, t, args.delta_learning_rate, args.delta_epochs)
        results[f"delta_{name}"] = {"accuracy": r["accuracy"], "mse": r["mse"], "weights": r["weights"].tolist(),
                                    "outputs": r["outputs"].tolist()}
        outs = " ".join(f"{v:.2f}" for v in r["outputs"])
        verdict = f"accuracy (output > 0.5) {r['accuracy']:.0%}"
        if np.max(np.abs(r["outputs"] - 0.5)) < 0.01:
            verdict = "every output is 1/2: the best linear fit cannot tell the classes apart"
        say(f"  {name:3s}: outputs [{outs}], mean squared error {r['mse']:.4f}, {verdict}")
    return results


if __name__ == "__main__":
    main()
