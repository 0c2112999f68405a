"""Activation functions, forward and backward (csrc/cpu/activation.cpp).

    y = ops.relu(x)                      dx = ops.relu_backward(dy, x)
    y = ops.sigmoid(x)                   dx = ops.sigmoid_backward(dy, y)      # from the output
    y = ops.activation(x, "elu", 1.0)    dx = ops.activation_backward(dy, x, y, "elu", 1.0)

Each takes NumPy arrays or Tensors and returns the same kind (float32, same shape). Backward
functions return dx = dy * f' (a new array, or `out`). sigmoid, tanh, softmax and log_softmax
backward take the forward OUTPUT y; the others take the forward input x. softmax and log_softmax
act over the last axis. Formulas: activation_info() or the header of csrc/cpu/activation.cpp.
"""
from neurokern import _core
from neurokern.ops._util import as_input, as_output, backend, new_output

__all__ = [
    "activation", "activation_backward", "activation_names", "activation_info", "linear",
    "linear_backward", "step", "step_backward", "sign", "sign_backward", "sigmoid",
    "sigmoid_backward", "tanh", "tanh_backward", "relu", "relu_backward", "leaky_relu",
    "leaky_relu_backward", "elu", "elu_backward", "relu6", "relu6_backward", "softplus",
    "softplus_backward", "softsign", "softsign_backward", "selu", "selu_backward", "silu",
    "silu_backward", "exponential", "exponential_backward", "hard_sigmoid", "hard_sigmoid_backward",
    "softmax", "softmax_backward", "log_softmax", "log_softmax_backward",
]


def activation_names():
    """Every name activation() accepts ('swish' is an alias of 'silu')."""
    return list(_core.activation_names())


def activation_info():
    """One dict per activation: name, backward_uses ('x' or 'y'), has_alpha, default_alpha, rowwise, formula."""
    return list(_core.activation_info())


def activation(x, name, alpha=None, out=None):
    """y = f(x) for the activation called `name`; alpha=None uses its default (leaky_relu 0.3, elu 1.0)."""
    x_t, as_np = as_input(x)
    y = new_output(out, x_t.shape, x_t)
    backend(x_t).activation_forward(y, x_t, name, alpha)
    return as_output(y, as_np)


def activation_backward(dy, x, y, name, alpha=None, out=None):
    """dx = dy * f'(.) given the saved forward input `x` and output `y` (the unused one may be None)."""
    dy_t, as_np = as_input(dy)
    x_t = None if x is None else as_input(x)[0]
    y_t = None if y is None else as_input(y)[0]
    dx = new_output(out, dy_t.shape, dy_t)
    backend(dy_t).activation_backward(dx, dy_t, x_t, y_t, name, alpha)
    return as_output(dx, as_np)


def _fwd(name, x, alpha=None, out=None):
    return activation(x, name, alpha, out)


def _bwd_x(name, dy, x, alpha=None, out=None):
    return activation_backward(dy, x, None, name, alpha, out)


def _bwd_y(name, dy, y, out=None):
    return activation_backward(dy, None, y, name, None, out)


def linear(x, out=None): return _fwd("linear", x, out=out)
def linear_backward(dy, x, out=None): return _bwd_x("linear", dy, x, out=out)
def step(x, out=None): return _fwd("step", x, out=out)
def step_backward(dy, x, out=None): return _bwd_x("step", dy, x, out=out)
def sign(x, out=None): return _fwd("sign", x, out=out)
def sign_backward(dy, x, out=None): return _bwd_x("sign", dy, x, out=out)
def sigmoid(x, out=None): return _fwd("sigmoid", x, out=out)
def sigmoid_backward(dy, y, out=None): return _bwd_y("sigmoid", dy, y, out=out)
def tanh(x, out=None): return _fwd("tanh", x, out=out)
def tanh_backward(dy, y, out=None): return _bwd_y("tanh", dy, y, out=out)
def relu(x, out=None): return _fwd("relu", x, out=out)
def relu_backward(dy, x, out=None): return _bwd_x("relu", dy, x, out=out)
def leaky_relu(x, alpha=0.3, out=None): return _fwd("leaky_relu", x, alpha, out)
def leaky_relu_backward(dy, x, alpha=0.3, out=None): return _bwd_x("leaky_relu", dy, x, alpha, out)
def elu(x, alpha=1.0, out=None): return _fwd("elu", x, alpha, out)
def elu_backward(dy, x, alpha=1.0, out=None): return _bwd_x("elu", dy, x, alpha, out)
def relu6(x, out=None): return _fwd("relu6", x, out=out)
def relu6_backward(dy, x, out=None): return _bwd_x("relu6", dy, x, out=out)
def softplus(x, out=None): return _fwd("softplus", x, out=out)
def softplus_backward(dy, x, out=None): return _bwd_x("softplus", dy, x, out=out)
def softsign(x, out=None): return _fwd("softsign", x, out=out)
def softsign_backward(dy, x, out=None): return _bwd_x("softsign", dy, x, out=out)
def selu(x, out=None): return _fwd("selu", x, out=out)
def selu_backward(dy, x, out=None): return _bwd_x("selu", dy, x, out=out)
def silu(x, out=None): return _fwd("silu", x, out=out)
def silu_backward(dy, x, out=None): return _bwd_x("silu", dy, x, out=out)
def exponential(x, out=None): return _fwd("exponential", x, out=out)
def exponential_backward(dy, x, out=None): return _bwd_x("exponential", dy, x, out=out)
def hard_sigmoid(x, out=None): return _fwd("hard_sigmoid", x, out=out)
def hard_sigmoid_backward(dy, x, out=None): return _bwd_x("hard_sigmoid", dy, x, out=out)
def softmax(x, out=None): return _fwd("softmax", x, out=out)
def softmax_backward(dy, y, out=None): return _bwd_y("softmax", dy, y, out=out)
def log_softmax(x, out=None): return _fwd("log_softmax", x, out=out)
def log_softmax_backward(dy, y, out=None): return _bwd_y("log_softmax", dy, y, out=out)
