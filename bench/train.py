"""End-to-end training throughput: one optimizer step of a seed network, neurokern vs PyTorch CPU.

    python bench/train.py [--network mlp|lenet|dcgan] [--batch 128] [--threads 2] [--steps 30]

Both frameworks run the same network (same layer sizes, optimizer, loss, batch) on the same random
batch, in this one process, alternating, with the same number of threads. Reports images per second
and the ratio neurokern / torch (> 1 means neurokern is faster). Absolute times on a shared VM vary
run to run; the ratio measured side by side is the figure to quote.

--network dcgan times one GAN step of examples/dcgan_digits.py with `batch` images: the discriminator
trained on batch/2 real and batch/2 generated images (two train_on_batch calls, as the example does),
then the generator trained through the combined model on `batch` latent vectors with the discriminator
frozen. PyTorch runs the same layers (NCHW, its native layout; padding chosen for the same output
sizes) with the discriminator's parameters excluded from the generator step's gradients.
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


def dcgan_neurokern_step(batch, rng):
    """A function running one GAN step of examples/dcgan_digits.py on fixed random data."""
    import warnings

    from neurokern.examples import dcgan_digits as dc
    generator, discriminator = dc.build_generator(), dc.build_discriminator()
    gan = dc.build_gan(generator, discriminator)
    half = batch // 2
    real = rng.uniform(-1, 1, (half, 28, 28, 1)).astype(np.float32)
    z_half = rng.standard_normal((half, dc.LATENT)).astype(np.float32)
    z = rng.standard_normal((batch, dc.LATENT)).astype(np.float32)
    ones, zeros = np.ones((half, 1), np.float32), np.zeros((half, 1), np.float32)
    ones_g = np.ones((batch, 1), np.float32)
    warnings.filterwarnings("ignore", message=".*trainable weights changed after compile")

    def step():
        fake = generator.predict_on_batch(z_half)
        discriminator.train_on_batch(real, ones)
        discriminator.train_on_batch(fake, zeros)
        gan.train_on_batch(z, ones_g)
    return step


def dcgan_torch_step(batch, rng):
    import torch
    nn = torch.nn
    gen = nn.Sequential(
        nn.Linear(100, 128 * 7 * 7), nn.LeakyReLU(0.2), nn.Unflatten(1, (128, 7, 7)),
        nn.ConvTranspose2d(128, 128, 4, stride=2, padding=1), nn.LeakyReLU(0.2),      # 14x14
        nn.ConvTranspose2d(128, 128, 4, stride=2, padding=1), nn.LeakyReLU(0.2),      # 28x28
        nn.Conv2d(128, 1, 7, padding=3), nn.Tanh())
    disc = nn.Sequential(
        nn.Conv2d(1, 64, 3, stride=2, padding=1), nn.LeakyReLU(0.2), nn.Dropout(0.4),  # 14x14
        nn.Conv2d(64, 64, 3, stride=2, padding=1), nn.LeakyReLU(0.2), nn.Dropout(0.4),  # 7x7
        nn.Flatten(), nn.Linear(64 * 7 * 7, 1))  # + sigmoid inside BCEWithLogitsLoss
    opt_d = torch.optim.Adam(disc.parameters(), lr=2e-4, betas=(0.5, 0.999), eps=1e-7)
    opt_g = torch.optim.Adam(gen.parameters(), lr=2e-4, betas=(0.5, 0.999), eps=1e-7)
    bce = nn.BCEWithLogitsLoss()
    half = batch // 2
    real = torch.from_numpy(rng.uniform(-1, 1, (half, 1, 28, 28)).astype(np.float32))
    z_half = torch.from_numpy(rng.standard_normal((half, 100)).astype(np.float32))
    z = torch.from_numpy(rng.standard_normal((batch, 100)).astype(np.float32))
    ones, zeros, ones_g = torch.ones(half, 1), torch.zeros(half, 1), torch.ones(batch, 1)

    def step():
        with torch.no_grad():
            fake = gen(z_half)
        for images, labels in ((real, ones), (fake, zeros)):  # two discriminator updates, as in Keras
            opt_d.zero_grad(set_to_none=True)
            bce(disc(images), labels).backward()
            opt_d.step()
        for p in disc.parameters():  # frozen in the combined model: no weight gradients
            p.requires_grad_(False)
        opt_g.zero_grad(set_to_none=True)
        bce(disc(gen(z)), ones_g).backward()
        opt_g.step()
        for p in disc.parameters():
            p.requires_grad_(True)
    return step


NETWORKS = {"mlp": ((784,), 10, mlp_neurokern, mlp_torch),
            "lenet": ((28, 28, 1), 10, lenet_neurokern, lenet_torch),
            "dcgan": (None, None, dcgan_neurokern_step, dcgan_torch_step)}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--network", choices=sorted(NETWORKS), default="mlp")
    p.add_argument("--batch", type=int, default=None, help="default: 128 (mlp), 64 (lenet, dcgan)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--steps", type=int, default=30)
    args = p.parse_args(argv)

    import neurokern as nk
    nk.set_num_threads(args.threads)
    in_shape, classes, make_nk, make_torch = NETWORKS[args.network]
    if args.batch is None:
        args.batch = 128 if args.network == "mlp" else 64
    rng = np.random.default_rng(0)
    try:
        import torch
    except ImportError:
        torch = None
    if args.network == "dcgan":  # whole GAN steps (see the module docstring)
        t_nk = _median_time(make_nk(args.batch, rng), args.steps, warmup=2)
        rows = [("neurokern", t_nk)]
        if torch is not None:
            torch.set_num_threads(args.threads)
            torch.manual_seed(0)
            rows.append((f"torch {torch.__version__}", _median_time(make_torch(args.batch, rng), args.steps,
                                                                    warmup=2)))
        return _report(args, rows, t_nk, torch)
    x = rng.random((args.batch, *in_shape), dtype=np.float32)
    y = rng.integers(0, classes, size=args.batch).astype(np.int64)

    model = make_nk(args.batch)
    t_nk = _median_time(lambda: model.train_on_batch(x, y), args.steps)

    rows = [("neurokern", t_nk)]
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
    return _report(args, rows, t_nk, torch)


def _report(args, rows, t_nk, torch):
    from neurokern import ops
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
