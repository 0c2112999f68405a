"""Affine image resampling for the augmentation layers (csrc/cpu/image.cpp).

    y  = ops.affine_transform2d(x, transforms, interpolation="bilinear", fill_mode="reflect")
    dx = ops.affine_transform2d_backward(dy, transforms, input_shape=x.shape, ...)

x is NHWC float32. transforms holds one row [a0, a1, a2, b0, b1, b2] per image (or one row for all):
output pixel (row i, column j) samples the input at column a0*j + a1*i + a2 and row b0*j + b1*i + b2
(output -> input, the Keras / TF ImageProjectiveTransformV3 convention without the projective terms).
fill_mode says what lies outside the image: 'reflect' (Keras' default, d c b a | a b c d | d c b a),
'wrap', 'nearest' (edge pixels) or 'constant' (fill_value). The backward is the exact adjoint of the
sampling (gradients w.r.t. x; the transforms are not differentiated).
"""
import numpy as np

from neurokern._core import Tensor
from neurokern.ops._util import as_input, as_output, backend, new_output

__all__ = ["affine_transform2d", "affine_transform2d_backward", "FILL_MODES", "INTERPOLATIONS"]

FILL_MODES = ("reflect", "wrap", "constant", "nearest")
INTERPOLATIONS = ("bilinear", "nearest")


def _check_modes(interpolation, fill_mode):
    if interpolation not in INTERPOLATIONS:
        raise ValueError(f"interpolation must be one of {INTERPOLATIONS}. Received: interpolation={interpolation!r}")
    if fill_mode not in FILL_MODES:
        raise ValueError(f"fill_mode must be one of {FILL_MODES}. Received: fill_mode={fill_mode!r}")


def _transforms(transforms, n, like):
    """(n, 6) float32 Tensor on `like`'s device from (6,), (n, 6) or Keras' (n, 8) with zero projective terms."""
    t = transforms.numpy() if isinstance(transforms, Tensor) else np.asarray(transforms)
    if t.dtype.kind not in "fiu":
        raise TypeError(f"transforms must be numeric. Received: transforms with dtype {t.dtype}")
    t = np.asarray(t, dtype=np.float64)
    if t.ndim == 1:
        t = t[None, :]
    if t.ndim != 2 or t.shape[1] not in (6, 8) or t.shape[0] not in (1, n):
        raise ValueError(f"transforms must have shape (6,), ({n}, 6) or ({n}, 8) (one [a0, a1, a2, b0, b1, b2] "
                         f"row per image). Received: transforms with shape {np.shape(transforms)}")
    if t.shape[1] == 8:
        if np.any(t[:, 6:] != 0):
            raise ValueError("only affine transforms are supported: the projective terms c0, c1 (columns 6 and 7) "
                             "must be 0")
        t = t[:, :6]
    t = np.ascontiguousarray(np.broadcast_to(t, (n, 6)), dtype=np.float32)
    from neurokern import device as _device
    from neurokern.tensor import tensor
    return _device.to_device(tensor(t), like.device)


def affine_transform2d(x, transforms, interpolation="bilinear", fill_mode="reflect", fill_value=0.0,
                       output_shape=None, out=None):
    """y[n, i, j, :] = x[n] sampled at (row, column) = (b0*j + b1*i + b2, a0*j + a1*i + a2).

    output_shape (OH, OW) defaults to the input's (H, W)."""
    _check_modes(interpolation, fill_mode)
    x_t, as_np = as_input(x)
    if x_t.ndim != 4:
        raise ValueError(f"affine_transform2d expects images of shape (N, H, W, C). Received: x with shape "
                         f"{tuple(x_t.shape)}")
    n, h, w, c = (int(d) for d in x_t.shape)
    oh, ow = (h, w) if output_shape is None else (int(output_shape[0]), int(output_shape[1]))
    y = new_output(out, (n, oh, ow, c), x_t)
    backend(x_t).affine_transform2d_forward(y, x_t, _transforms(transforms, n, x_t), interpolation, fill_mode,
                                            float(fill_value))
    return as_output(y, as_np)


def affine_transform2d_backward(dy, transforms, input_shape, interpolation="bilinear", fill_mode="reflect",
                                out=None):
    """dx (shape input_shape = (N, H, W, C)) = the adjoint of affine_transform2d applied to dy; overwrites."""
    _check_modes(interpolation, fill_mode)
    dy_t, as_np = as_input(dy)
    input_shape = tuple(int(d) for d in input_shape)
    if dy_t.ndim != 4 or len(input_shape) != 4:
        raise ValueError(f"affine_transform2d_backward expects dy (N, OH, OW, C) and input_shape (N, H, W, C). "
                         f"Received: dy with shape {tuple(dy_t.shape)}, input_shape={input_shape}")
    dx = new_output(out, input_shape, dy_t)
    backend(dy_t).affine_transform2d_backward(dx, dy_t, _transforms(transforms, input_shape[0], dy_t),
                                              interpolation, fill_mode)
    return as_output(dx, as_np)
