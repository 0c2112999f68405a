"""2-d convolution and transposed convolution (csrc/cpu/conv.cpp), NHWC activations, Keras kernels.

    conv2d(x (N,H,W,C), w (KH,KW,C,F), b=None (F,)) -> y (N,OH,OW,F)
    conv2d_backward_data(dy, w, input_shape, ...) -> dx                    (a fresh dx)
    conv2d_backward_weights(dw, db, dy, x, ...)   dw += ..., db += ...     (ACCUMULATE in place)
    conv2d_transpose(x (N,H,W,C), w (KH,KW,F,C), b=None (F,)) -> y (N,OH,OW,F)
    conv2d_transpose_backward_data / conv2d_transpose_backward_weights    (same rules)

padding is 'valid', 'same' (Keras/TF: out = ceil(in / stride); the total padding is split with the
extra row/column after, which matters for even kernels and strides), an int (every side), a pair
(ph, pw) (both sides of an axis), or ((top, bottom), (left, right)). strides and dilation_rate are
an int or a pair of positive ints. The transposed conv follows Keras's output-size rule
(output_padding=None: 'valid' -> in*s + max(k - s, 0), 'same' -> in*s) and pads like TensorFlow's
conv2d_transpose: it is exactly the gradient of the conv2d from its output shape to its input shape.
"""
import numbers

from neurokern.ops._util import as_input, as_output, backend, new_output
from neurokern.ops.elementwise import _in_place

__all__ = ["conv_output_size", "conv_transpose_output_size", "conv2d", "conv2d_backward_data",
           "conv2d_backward_weights", "conv2d_transpose", "conv2d_transpose_backward_data",
           "conv2d_transpose_backward_weights", "conv2d_variants"]


def _is_int(v):
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def _pair(value, name, minimum=1):
    """(a, b) from an int or a pair of ints, each >= minimum."""
    pair = (value, value) if _is_int(value) else tuple(value) if isinstance(value, (tuple, list)) else None
    if pair is None or len(pair) != 2 or not all(_is_int(v) and v >= minimum for v in pair):
        what = "positive integers" if minimum == 1 else "integers >= 0"
        raise ValueError(f"{name} must be an int or a pair of {what}. Received: {name}={value!r}")
    return int(pair[0]), int(pair[1])


def _check_axis_padding(padding):
    if isinstance(padding, str):
        if padding not in ("valid", "same"):
            raise ValueError(f"padding must be 'valid', 'same', an int or (before, after). "
                             f"Received: padding={padding!r}")
        return padding
    return _pair(padding, "padding", minimum=0)


def conv_output_size(in_size, kernel, stride=1, dilation=1, padding="valid"):
    """(out, pad_before, pad_after) of a conv along one axis.

    padding: 'valid' (no padding), 'same' (Keras/TF: out = ceil(in / stride), total padding
    max((out-1)*stride + (kernel-1)*dilation + 1 - in, 0), before = total // 2), an int, or a pair
    (before, after). out <= 0 raises ValueError (the kernel does not fit).
    """
    stride, _ = _pair(stride, "stride")
    dilation, _ = _pair(dilation, "dilation")
    kernel, _ = _pair(kernel, "kernel")
    padding = _check_axis_padding(padding)
    eff = (kernel - 1) * dilation + 1
    if padding == "same":
        out = -(-in_size // stride)
        total = max((out - 1) * stride + eff - in_size, 0)
        before, after = total // 2, total - total // 2
    else:
        before, after = (0, 0) if padding == "valid" else padding
        out = (in_size + before + after - eff) // stride + 1 if in_size + before + after >= eff else 0
    if out <= 0:
        raise ValueError(f"the (dilated) kernel {eff} is larger than the padded input "
                         f"{in_size + before + after} (input {in_size}, padding {padding!r}): use "
                         f"padding='same', a smaller kernel or a larger input")
    return out, before, after


def conv_transpose_output_size(in_size, kernel, stride=1, dilation=1, padding="valid",
                               output_padding=None):
    """(out, pad_before, pad_after) of a transposed conv along one axis (Keras's output-size rule).

    The pads are those of the conv2d from `out` back to `in_size` (TF's conv2d_transpose padding);
    ValueError when output_padding >= stride or the sizes are inconsistent.
    """
    stride, _ = _pair(stride, "stride")
    dilation, _ = _pair(dilation, "dilation")
    kernel, _ = _pair(kernel, "kernel")
    padding = _check_axis_padding(padding)
    eff = (kernel - 1) * dilation + 1
    if output_padding is not None:
        if not _is_int(output_padding) or not 0 <= output_padding < stride:
            raise ValueError(f"output_padding must be an int in [0, stride) (stride={stride}). "
                             f"Received: output_padding={output_padding!r}")
    if output_padding is None:
        if padding == "valid":
            out = in_size * stride + max(eff - stride, 0)
        elif padding == "same":
            out = in_size * stride
        else:
            out = (in_size - 1) * stride + eff - padding[0] - padding[1]
    else:
        pad = {"valid": 0, "same": eff // 2}.get(padding) if isinstance(padding, str) else None
        cut = 2 * pad if pad is not None else padding[0] + padding[1]
        out = (in_size - 1) * stride + eff - cut + output_padding
    if out <= 0:
        raise ValueError(f"conv2d_transpose: the output length {out} is not positive (input {in_size}, "
                         f"kernel {eff}, stride {stride}, padding {padding!r})")
    back, before, after = conv_output_size(out, kernel, stride, dilation, padding)
    if back != in_size:
        raise ValueError(f"conv2d_transpose: an output of length {out} (input {in_size}, kernel {kernel}, "
                         f"stride {stride}, padding {padding!r}, output_padding {output_padding!r}) is "
                         f"not the gradient of a conv from {out} back to {in_size}; change output_padding")
    return out, before, after


def _padding_2d(padding):
    """Per-axis padding specs (rows, cols) from the 2-d forms."""
    if isinstance(padding, str) or _is_int(padding):
        return padding, padding
    if isinstance(padding, (tuple, list)) and len(padding) == 2:
        return padding[0], padding[1]
    raise ValueError("padding must be 'valid', 'same', an int, (ph, pw) or ((top, bottom), (left, right)). "
                     f"Received: padding={padding!r}")


def _geometry(in_hw, kernel_hw, strides, padding, dilation_rate):
    """((OH, OW), strides, pads (top, bottom, left, right), dilation) of a conv2d."""
    sh, sw = _pair(strides, "strides")
    dh, dw = _pair(dilation_rate, "dilation_rate")
    ph, pw = _padding_2d(padding)
    oh, pt, pb = conv_output_size(in_hw[0], kernel_hw[0], sh, dh, ph)
    ow, pl, pr = conv_output_size(in_hw[1], kernel_hw[1], sw, dw, pw)
    return (oh, ow), (sh, sw), (pt, pb, pl, pr), (dh, dw)


def _transpose_geometry(in_hw, kernel_hw, strides, padding, output_padding, dilation_rate):
    """((OH, OW), strides, pads, dilation) of a transposed conv; pads are those of its conv2d."""
    sh, sw = _pair(strides, "strides")
    dh, dw = _pair(dilation_rate, "dilation_rate")
    ph, pw = _padding_2d(padding)
    oph, opw = (None, None) if output_padding is None else _pair(output_padding, "output_padding", 0)
    oh, pt, pb = conv_transpose_output_size(in_hw[0], kernel_hw[0], sh, dh, ph, oph)
    ow, pl, pr = conv_transpose_output_size(in_hw[1], kernel_hw[1], sw, dw, pw, opw)
    return (oh, ow), (sh, sw), (pt, pb, pl, pr), (dh, dw)


def _rank4(t, name, layout):
    if t.ndim != 4:
        raise ValueError(f"{name} must be 4-d {layout}. Received: {name} of shape {tuple(t.shape)}")


def _input_shape(input_shape):
    shape = tuple(int(s) for s in input_shape)
    if len(shape) != 4:
        raise ValueError(f"input_shape must be (batch, height, width, channels). Received: "
                         f"input_shape={tuple(input_shape)!r}")
    return shape


def conv2d(x, w, b=None, strides=(1, 1), padding="valid", dilation_rate=(1, 1), out=None,
           variant="auto"):
    """y (N, OH, OW, F) = conv2d(x (N, H, W, C), w (KH, KW, C, F)) + b (F,) (cross-correlation, as Keras)."""
    x_t, as_np = as_input(x)
    w_t, _ = as_input(w)
    b_t = as_input(b)[0] if b is not None else None
    _rank4(x_t, "x", "(batch, height, width, channels)")
    _rank4(w_t, "w", "(kernel_h, kernel_w, in_channels, filters)")
    (oh, ow), s, pads, d = _geometry(x_t.shape[1:3], w_t.shape[:2], strides, padding, dilation_rate)
    y = new_output(out, (x_t.shape[0], oh, ow, w_t.shape[3]), x_t)
    backend(x_t).conv2d_forward(y, x_t, w_t, b_t, s, pads, d, variant)
    return as_output(y, as_np)


def conv2d_backward_data(dy, w, input_shape, strides=(1, 1), padding="valid", dilation_rate=(1, 1),
                         out=None, variant="auto"):
    """dx (input_shape) = gradient of conv2d w.r.t. x for output gradient dy (N, OH, OW, F)."""
    dy_t, as_np = as_input(dy)
    w_t, _ = as_input(w)
    shape = _input_shape(input_shape)
    _rank4(w_t, "w", "(kernel_h, kernel_w, in_channels, filters)")
    _, s, pads, d = _geometry(shape[1:3], w_t.shape[:2], strides, padding, dilation_rate)
    dx = new_output(out, shape, dy_t)
    backend(dy_t).conv2d_backward_data(dx, dy_t, w_t, s, pads, d, variant)
    return as_output(dx, as_np)


def conv2d_backward_weights(dw, db, dy, x, strides=(1, 1), padding="valid", dilation_rate=(1, 1),
                            variant="auto"):
    """ACCUMULATE the conv2d parameter gradients: dw (KH, KW, C, F) += ..., db (F,) += sum of dy.

    dw and db are Tensors (or C-contiguous float32 NumPy arrays) updated in place; db may be None.
    Returns dw.
    """
    dw_t = _in_place(dw, "conv2d_backward_weights", "dw")
    db_t = _in_place(db, "conv2d_backward_weights", "db") if db is not None else None
    dy_t, _ = as_input(dy)
    x_t, _ = as_input(x)
    _rank4(x_t, "x", "(batch, height, width, channels)")
    _rank4(dw_t, "dw", "(kernel_h, kernel_w, in_channels, filters)")
    _, s, pads, d = _geometry(x_t.shape[1:3], dw_t.shape[:2], strides, padding, dilation_rate)
    backend(x_t).conv2d_backward_weights(dw_t, db_t, dy_t, x_t, s, pads, d, variant)
    return dw


def conv2d_transpose(x, w, b=None, strides=(1, 1), padding="valid", output_padding=None,
                     dilation_rate=(1, 1), out=None, variant="auto"):
    """y (N, OH, OW, F) = conv2d_transpose(x (N, H, W, C), w (KH, KW, F, C)) + b (F,), as Keras.

    Computed by conv2d_backward_data's kernel (the transposed conv is the adjoint of conv2d).
    """
    x_t, as_np = as_input(x)
    w_t, _ = as_input(w)
    b_t = as_input(b)[0] if b is not None else None
    _rank4(x_t, "x", "(batch, height, width, channels)")
    _rank4(w_t, "w", "(kernel_h, kernel_w, filters, in_channels)")
    (oh, ow), s, pads, d = _transpose_geometry(x_t.shape[1:3], w_t.shape[:2], strides, padding,
                                               output_padding, dilation_rate)
    y = new_output(out, (x_t.shape[0], oh, ow, w_t.shape[2]), x_t)
    backend(x_t).conv2d_transpose_forward(y, x_t, w_t, b_t, s, pads, d, variant)
    return as_output(y, as_np)


def conv2d_transpose_backward_data(dy, w, input_shape, strides=(1, 1), padding="valid",
                                   output_padding=None, dilation_rate=(1, 1), out=None, variant="auto"):
    """dx (input_shape) = gradient of conv2d_transpose w.r.t. x (conv2d's forward kernel)."""
    dy_t, as_np = as_input(dy)
    w_t, _ = as_input(w)
    shape = _input_shape(input_shape)
    _rank4(w_t, "w", "(kernel_h, kernel_w, filters, in_channels)")
    (oh, ow), s, pads, d = _transpose_geometry(shape[1:3], w_t.shape[:2], strides, padding,
                                               output_padding, dilation_rate)
    _check_dy(dy_t, (shape[0], oh, ow, w_t.shape[2]), "conv2d_transpose_backward_data")
    dx = new_output(out, shape, dy_t)
    backend(dy_t).conv2d_transpose_backward_data(dx, dy_t, w_t, s, pads, d, variant)
    return as_output(dx, as_np)


def conv2d_transpose_backward_weights(dw, db, dy, x, strides=(1, 1), padding="valid", output_padding=None,
                                      dilation_rate=(1, 1), variant="auto"):
    """ACCUMULATE the conv2d_transpose parameter gradients: dw (KH, KW, F, C) +=, db (F,) += sum of dy."""
    dw_t = _in_place(dw, "conv2d_transpose_backward_weights", "dw")
    db_t = _in_place(db, "conv2d_transpose_backward_weights", "db") if db is not None else None
    dy_t, _ = as_input(dy)
    x_t, _ = as_input(x)
    _rank4(x_t, "x", "(batch, height, width, channels)")
    _rank4(dw_t, "dw", "(kernel_h, kernel_w, filters, in_channels)")
    (oh, ow), s, pads, d = _transpose_geometry(x_t.shape[1:3], dw_t.shape[:2], strides, padding,
                                               output_padding, dilation_rate)
    _check_dy(dy_t, (x_t.shape[0], oh, ow, dw_t.shape[2]), "conv2d_transpose_backward_weights")
    backend(x_t).conv2d_transpose_backward_weights(dw_t, db_t, dy_t, x_t, s, pads, d, variant)
    return dw


def _check_dy(dy_t, expected, op):
    if tuple(dy_t.shape) != tuple(expected):
        raise ValueError(f"{op}: dy must have the output's shape {tuple(expected)}. "
                         f"Received: dy of shape {tuple(dy_t.shape)}")


def conv2d_variants():
    """Registered implementations per op: {'forward' | 'backward_data' | 'backward_weights':
    [(name, isa, description), ...]}, simplest first. conv2d_transpose runs the same tables."""
    from neurokern import _core
    return _core.conv2d_variants()

