"""End-to-end training throughput: one optimizer step of a seed network, neurokern vs PyTorch CPU.

    python bench/train.py [--network mlp] [--batch 128] [--threads 2] [--steps 30]

Both frameworks run the same network (same layer sizes, optimizer, loss, batch) on the same random
batch, in this one process, alternating, with the same number of threads. Reports images per second
and the ratio neurokern / torch (> 1 means neurokern is faster). Absolute times on a shared VM vary
run to run; the ratio measured side by side is the figure to quote.
"""
import argparse
import statistics
import time

import numpy as np


def _median_time(fn, steps, warmup=3):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def mlp_neurokern(batch):
    from neurokern import layers, models
    model = models.Sequential([layers.Input((784,)), layers.Dense(512, activation="relu"),
                               layers.Dropout(0.2), layers.Dense(10, activation="softmax")])
    model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy")
    return model


def mlp_torch(batch):
    import torch
    net = torch.nn.Sequential(torch.nn.Linear(784, 512), torch.nn.ReLU(), torch.nn.Dropout(0.2),
                              torch.nn.Linear(512, 10))
    # Keras RMSprop defaults (rho=0.9, eps=1e-7) in torch's names; CrossEntropyLoss = softmax + CE.
    opt = torch.optim.RMSprop(net.parameters(), lr=1e-3, alpha=0.9, eps=1e-7)
    loss_fn = torch.nn.CrossEntropyLoss()
    return net, opt, loss_fn


def lenet_neurokern(batch):
    from neurokern import layers, models
    model = models.Sequential([
        layers.Input((28, 28, 1)),
        layers.Conv2D(6, 5, padding="same", activation="relu"), layers.MaxPooling2D(2),
        layers.Conv2D(16, 5, activation="relu"), layers.MaxPooling2D(2), layers.Flatten(),
        layers.Dense(120, activation="relu"), layers.Dense(84, activation="relu"),
        layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return model


def lenet_torch(batch):
    import torch
    nn = torch.nn
    net = nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, eps=1e-7)  # Keras Adam defaults
    loss_fn = torch.nn.CrossEntropyLoss()
    return net, opt, loss_fn


NETWORKS = {"mlp": ((784,), 10, mlp_neurokern, mlp_torch),
            "lenet": ((28, 28, 1), 10, lenet_neurokern, lenet_torch)}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--network", choices=sorted(NETWORKS), default="mlp")
    p.add_argument("--batch", type=int, default=None, help="default: 128 (mlp), 64 (lenet)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--steps", type=int, default=30)
    args = p.parse_args(argv)

    import neurokern as nk
    from neurokern import ops
    nk.set_num_threads(args.threads)
    in_shape, classes, make_nk, make_torch = NETWORKS[args.network]
    if args.batch is None:
        args.batch = 128 if args.network == "mlp" else 64
    rng = np.random.default_rng(0)
    x = rng.random((args.batch, *in_shape), dtype=np.float32)
    y = rng.integers(0, classes, size=args.batch).astype(np.int64)

    model = make_nk(args.batch)
    t_nk = _median_time(lambda: model.train_on_batch(x, y), args.steps)

    rows = [("neurokern", t_nk)]
    try:
        import torch
    except ImportError:
        torch = None
    if torch is not None:
        torch.set_num_threads(args.threads)
        net, opt, loss_fn = make_torch(args.batch)
        xt, yt = torch.from_numpy(x), torch.from_numpy(y)
        if xt.ndim == 4:  # NHWC images -> torch's NCHW view of the same memory (channels_last)
            xt = xt.permute(0, 3, 1, 2)

        def step():
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(net(xt), yt)
            loss.backward()
            opt.step()
        rows.append((f"torch {torch.__version__}", _median_time(step, args.steps)))

    print(f"# {args.network} training step, batch {args.batch}, {args.threads} threads, "
          f"neurokern ISA {ops.get_isa()}, median of {args.steps} steps")
    print("| framework | ms/step | images/s | step time / neurokern step time |")
    print("|---|---|---|---|")
    for name, t in rows:
        print(f"| {name} | {t * 1e3:.2f} | {args.batch / t:,.0f} | {t / t_nk:.2f}x |")
    if torch is not None:
        print(f"\nneurokern speed / torch speed: {rows[1][1] / t_nk:.2f}x (> 1: neurokern faster)")
    else:
        print("(torch not installed: pip install '.[bench]' for the comparison)")
    return {name: t for name, t in rows}


if __name__ == "__main__":
    main()
