"""Conv2DTranspose (Keras): the gradient of a convolution w.r.t. its input, used as an upsampling layer.

Kernel (KH, KW, F, C) in Keras's transpose layout (output filters before input channels), bias (F,).

Output size per spatial axis (Keras compute_conv_transpose_output_length), k' = (k - 1) * d + 1:
    output_padding None:  'valid' -> in * s + max(k' - s, 0)      'same' -> in * s
    output_padding p:     (in - 1) * s + k' - 2 * pad + p,   pad = k' // 2 for 'same', 0 for 'valid'

Forward:   z = conv_transpose(x, W) + b              ops.conv2d_transpose
           y = act(z)
Backward:  dz = act'(dy)
           dW += ..., db += sum dz                   ops.conv2d_transpose_backward_weights   ACCUMULATES
           dx  = conv(dz, W)                         ops.conv2d_transpose_backward_data      OVERWRITES
"""
from neurokern import ops
from neurokern.layers.conv import BaseConv, normalize_tuple

__all__ = ["Conv2DTranspose"]


class Conv2DTranspose(BaseConv):
    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", output_padding=None, data_format=None,
                 dilation_rate=(1, 1), activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None, **kwargs):
        super().__init__(2, filters, kernel_size, strides=strides, padding=padding, data_format=data_format,
                         dilation_rate=dilation_rate, activation=activation, use_bias=use_bias,
                         kernel_initializer=kernel_initializer, bias_initializer=bias_initializer,
                         kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer, **kwargs)
        if output_padding is not None:
            output_padding = normalize_tuple(output_padding, 2, "output_padding", allow_zero=True)
            if any(p >= s for p, s in zip(output_padding, self.strides)):
                raise ValueError("Strides must be greater than output padding. "
                                 f"Received: strides={self.strides}, output_padding={output_padding}")
        self.output_padding = output_padding

    def _kernel_shape(self, in_channels):
        return self.kernel_size + (self.filters, in_channels)

    def compute_output_shape(self, input_shape):
        # the transpose of a convolution never shrinks the input: no 'kernel too large' case
        input_shape = tuple(input_shape)
        if len(input_shape) != 4:
            return super().compute_output_shape(input_shape)  # raises the rank error
        out = []
        for axis, size in enumerate(input_shape[1:3]):
            out.append(None if size is None else self._output_size(size, axis))
        return (input_shape[0],) + tuple(out) + (self.filters,)

    def _output_size(self, size, axis):
        k = (self.kernel_size[axis] - 1) * self.dilation_rate[axis] + 1
        s = self.strides[axis]
        if self.output_padding is None:
            return size * s + max(k - s, 0) if self.padding == "valid" else size * s
        pad = k // 2 if self.padding == "same" else 0
        return (size - 1) * s + k - 2 * pad + self.output_padding[axis]

    def _op_forward(self, x, bias):
        return ops.conv2d_transpose(x, self.kernel.value, bias, self.strides, self.padding, self.output_padding,
                                    self.dilation_rate)

    def _op_backward_data(self, dz, input_shape):
        return ops.conv2d_transpose_backward_data(dz, self.kernel.value, input_shape, self.strides, self.padding,
                                                  self.output_padding, self.dilation_rate)

    def _op_backward_weights(self, dw, db, dz, x):
        ops.conv2d_transpose_backward_weights(dw, db, dz, x, self.strides, self.padding, self.output_padding,
                                              self.dilation_rate)

    def get_config(self):
        config = super().get_config()
        config.pop("groups", None)
        config["output_padding"] = self.output_padding
        return config
