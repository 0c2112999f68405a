"""A GAN learns the curve y = x² on [-0.5, 0.5] from samples (the 1-D GAN of Brownlee's GAN tutorials).

    generator      z (5) - Dense(15, relu) - Dense(2, linear)       -> a point (x, y)
    discriminator  (x, y) - Dense(25, relu) - Dense(1, sigmoid)     -> P(real)
    combined       Model(z, discriminator(generator(z)))            the discriminator frozen inside it

Each step trains the discriminator on half a batch of real points (label 1) and half a batch of generated
ones (label 0), then the generator through the combined model (label 1: "fool the discriminator"). Both
models are functional Models; the combined model calls them as layers, so it shares their weights. The
discriminator was compiled while trainable and stays trainable on its own; the combined model was compiled
after `discriminator.trainable = False`, so it only trains the generator (Keras 3's rule: compile() fixes
the trainable set). Every --report-every epochs it prints the discriminator's accuracy on real and fake
points and, with matplotlib, saves a scatter plot of real vs generated points. At the end it reports the
mean |y - x²| over 1,000 generated points. Default: 3,000 epochs (one batch of 128 each, ~5 s), seed 1:
error 0.011 with points spread over the whole curve (tests/test_gan_examples.py checks < 0.05 after
2,000 epochs). Like any GAN it is seed-sensitive: over seeds 0-4 the error after 3,000 epochs ranged
0.011-0.099, and some seeds cover only one branch of the parabola (mode collapse).
"""
import os
import warnings

import numpy as np

from neurokern import layers, models, optimizers, utils
from neurokern.examples._common import Printer, Timer, parser

LATENT = 5


def build_generator(latent_dim=LATENT):
    z = layers.Input(shape=(latent_dim,), name="z")
    h = layers.Dense(15, activation="relu", kernel_initializer="he_uniform", name="g_hidden")(z)
    point = layers.Dense(2, activation="linear", name="g_point")(h)
    return models.Model(z, point, name="generator")


def build_discriminator(learning_rate=1e-3):
    point = layers.Input(shape=(2,), name="point")
    h = layers.Dense(25, activation="relu", kernel_initializer="he_uniform", name="d_hidden")(point)
    p = layers.Dense(1, activation="sigmoid", name="d_real")(h)
    model = models.Model(point, p, name="discriminator")
    model.compile(optimizer=optimizers.Adam(learning_rate), loss="binary_crossentropy", metrics=["accuracy"])
    return model


def build_gan(generator, discriminator, learning_rate=1e-3):
    """The combined model: the generator's output fed to the frozen discriminator (weights shared)."""
    discriminator.trainable = False
    z = layers.Input(shape=generator.input_shape[1:], name="gan_z")
    gan = models.Model(z, discriminator(generator(z)), name="gan")
    gan.compile(optimizer=optimizers.Adam(learning_rate), loss="binary_crossentropy")
    return gan


def real_points(n, rng):
    """n points (x, x²) with x uniform in [-0.5, 0.5] (data, made with NumPy)."""
    x = rng.uniform(-0.5, 0.5, size=(n, 1))
    return np.hstack([x, x * x]).astype(np.float32)


def latent_points(n, rng, latent_dim=LATENT):
    return rng.standard_normal((n, latent_dim)).astype(np.float32)


def curve_error(points):
    """Mean |y - x²| of generated points (x, y): how far they fall from the curve."""
    return float(np.mean(np.abs(points[:, 1] - points[:, 0] ** 2)))


def save_scatter(path, real, fake, title):
    """Scatter plot of real (blue) and generated (red) points; returns False without matplotlib."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    fig, ax = plt.subplots(figsize=(4, 4))
    ax.scatter(real[:, 0], real[:, 1], s=4, c="tab:blue", label="real")
    ax.scatter(fake[:, 0], fake[:, 1], s=4, c="tab:red", label="generated")
    ax.set_title(title)
    ax.legend(loc="upper center")
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return True


def main(argv=None):
    p = parser("gan_1d", __doc__, epochs=3000, seed=1)
    p.add_argument("--batch-size", type=int, default=128, help="points per step, half real half fake (default 128)")
    p.add_argument("--report-every", type=int, default=1000, help="epochs between reports and plots (default 1000)")
    p.add_argument("--out-dir", default=".", help="where the scatter PNGs go (default: the current directory)")
    p.add_argument("--no-plot", action="store_true", help="do not save scatter plots")
    args = p.parse_args(argv)
    say = Printer(args.quiet)
    utils.set_random_seed(args.seed)
    rng = np.random.default_rng(args.seed)

    generator = build_generator()
    discriminator = build_discriminator()
    gan = build_gan(generator, discriminator)
    if not args.quiet:
        gan.summary()
    half = args.batch_size // 2
    ones, zeros = np.ones((half, 1), np.float32), np.zeros((half, 1), np.float32)
    gan_labels = np.ones((args.batch_size, 1), np.float32)
    plots, plot_note = [], False
    with Timer() as t, warnings.catch_warnings():
        # the discriminator was compiled while trainable and keeps training its weights although
        # discriminator.trainable is now False (the GAN recipe; models/model.py explains the warning)
        warnings.filterwarnings("ignore", message=".*trainable weights changed after compile")
        for epoch in range(1, args.epochs + 1):
            discriminator.train_on_batch(real_points(half, rng), ones)
            discriminator.train_on_batch(generator.predict_on_batch(latent_points(half, rng)), zeros)
            gan.train_on_batch(latent_points(args.batch_size, rng), gan_labels)
            if epoch % args.report_every == 0 or epoch == args.epochs:
                real = real_points(100, rng)
                fake = generator.predict(latent_points(100, rng), batch_size=100)
                _, acc_real = discriminator.evaluate(real, np.ones((100, 1), np.float32), verbose=0)
                _, acc_fake = discriminator.evaluate(fake, np.zeros((100, 1), np.float32), verbose=0)
                say(f"epoch {epoch}: discriminator accuracy real {acc_real:.2f}, fake {acc_fake:.2f}; "
                    f"mean |y - x²| of generated points {curve_error(fake):.4f}")
                if not args.no_plot:
                    path = os.path.join(args.out_dir, f"gan_1d_epoch{epoch:05d}.png")
                    if save_scatter(path, real, fake, f"epoch {epoch}"):
                        plots.append(path)
                    elif not plot_note:
                        say("matplotlib is not installed: skipping the scatter plots (pip install matplotlib)")
                        plot_note = True
    fake = generator.predict(latent_points(1000, rng), batch_size=250)
    error = curve_error(fake)
    say(f"trained {args.epochs} epochs in {t.seconds:.1f} s; mean |y - x²| over 1000 generated points: {error:.4f}; "
        f"x spans [{fake[:, 0].min():.2f}, {fake[:, 0].max():.2f}]")
    return {"curve_error": error, "x_min": float(fake[:, 0].min()), "x_max": float(fake[:, 0].max()),
            "seconds": t.seconds, "plots": plots}


if __name__ == "__main__":
    main()
