"""UpSampling2D over NHWC activations (csrc/cpu/upsample.cpp), as Keras.

    y  = ops.upsampling2d(x, size=(2, 2), interpolation='nearest')    # (N, H*SH, W*SW, C)
    dx = ops.upsampling2d_backward(dy, x.shape, size, interpolation)

'nearest' repeats each pixel; 'bilinear' is tf.image.resize(method='bilinear') with half-pixel
centres and edge clamping (= PyTorch interpolate(mode='bilinear', align_corners=False)). The
backward returns a fresh dx (overwritten). `variant` is 'auto' or 'naive' (reference loops).
"""
from neurokern.ops._util import as_input, as_output, backend, new_output
from neurokern.ops.pool import _pair, _shape4

__all__ = ["upsampling2d", "upsampling2d_backward"]


def _interpolation(interpolation):
    i = interpolation.lower() if isinstance(interpolation, str) else interpolation
    if i not in ("nearest", "bilinear"):
        raise ValueError("interpolation must be 'nearest' or 'bilinear'. "
                         f"Received: interpolation={interpolation!r}")
    return i


def upsampling2d(x, size=(2, 2), interpolation="nearest", out=None, variant="auto"):
    """x (N, H, W, C) upsampled by integer factors size = (SH, SW)."""
    size, interpolation = _pair(size, "size"), _interpolation(interpolation)
    x_t, as_np = as_input(x)
    n, h, w, c = _shape4(x_t.shape, "x")
    y = new_output(out, (n, h * size[0], w * size[1], c), x_t)
    backend(x_t).upsampling2d_forward(y, x_t, size, interpolation, variant)
    return as_output(y, as_np)


def upsampling2d_backward(dy, input_shape, size=(2, 2), interpolation="nearest", out=None, variant="auto"):
    """dx (input_shape): dy pulled back through the upsampling (sums over the pixels each input fed)."""
    size, interpolation = _pair(size, "size"), _interpolation(interpolation)
    dy_t, as_np = as_input(dy)
    dx = new_output(out, _shape4(input_shape, "input_shape"), dy_t)
    backend(dy_t).upsampling2d_backward(dx, dy_t, size, interpolation, variant)
    return as_output(dx, as_np)
