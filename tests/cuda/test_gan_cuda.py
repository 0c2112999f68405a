"""The DCGAN of examples/dcgan_digits (the real network: Dense 6272, two Conv2DTranspose 128 stride 2,
BatchNormalization, LeakyReLU, Dropout, a frozen discriminator inside the combined model) takes a few
train_on_batch steps on a tiny batch on the cpu and on 'cuda' (the emulator here) from the same weights,
with the same latent vectors, images and dropout seeds: the losses and the trained weights agree."""
import warnings

import numpy as np

import neurokern as nk
from neurokern import utils
from neurokern.device import default_device
from neurokern.examples import dcgan_digits as dcgan

RTOL, ATOL = 1e-3, 1e-4  # float32, a few Adam steps through ~10 layers with other summation orders


def _run(device, steps=2, half=1):
    utils.set_random_seed(0)
    rng = np.random.default_rng(1)
    with default_device(device):
        g = dcgan.build_generator()
        d = dcgan.build_discriminator()
        gan = dcgan.build_gan(g, d)
    real = rng.uniform(-1, 1, (2 * half, 28, 28, 1)).astype(np.float32)
    ones, zeros = np.ones((half, 1), np.float32), np.zeros((half, 1), np.float32)
    losses = []
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*trainable weights changed after compile")
        for step in range(steps):
            fake = g.predict_on_batch(rng.standard_normal((half, dcgan.LATENT)).astype(np.float32))
            losses.append(d.train_on_batch(real[half * (step % 2):][:half], ones)[0])
            losses.append(d.train_on_batch(fake, zeros)[0])
            losses.append(gan.train_on_batch(rng.standard_normal((2 * half, dcgan.LATENT)).astype(np.float32),
                                             np.ones((2 * half, 1), np.float32)))
    return np.array(losses, np.float64), [w.numpy() for w in g.weights + d.weights]


def test_dcgan_steps_on_cuda_match_cpu():
    cpu_losses, cpu_weights = _run("cpu")
    cuda_losses, cuda_weights = _run("cuda")
    np.testing.assert_allclose(cuda_losses, cpu_losses, rtol=RTOL, atol=ATOL)
    assert len(cuda_weights) == len(cpu_weights)
    for a, b in zip(cuda_weights, cpu_weights):
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL)
    # the steps did train: the generator's projection moved away from its initial values
    init = _initial_generator_projection()
    assert np.max(np.abs(cpu_weights[0] - init)) > 1e-5


def _initial_generator_projection():
    utils.set_random_seed(0)
    return dcgan.build_generator().weights[0].numpy()
