"""Central finite differences for gradient checks.

Two ways, used together (see tests/_tol.py for the tolerances):
- `numeric_grad(f, x)` in float64 on a NumPy reference of the forward: checks that the kernel's
  backward formula is the derivative of the forward definition (the kernel's forward is separately
  checked against the same reference).
- `numeric_grad(f, x, h=1e-2)` straight on float32 kernels (layers): coarser, tolerance "grad_fd32".
"""
import numpy as np


def numeric_grad(f, x, h=1e-6, dy=None):
    """d(sum(f(x) * dy))/dx by central differences; f maps an array to an array or a scalar."""
    x = np.array(x, dtype=np.float64)
    g = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        old = x[i]
        x[i] = old + h
        fp = np.asarray(f(x), dtype=np.float64)
        x[i] = old - h
        fm = np.asarray(f(x), dtype=np.float64)
        x[i] = old
        diff = fp - fm
        g[i] = np.sum(diff * dy) / (2 * h) if dy is not None else np.sum(diff) / (2 * h)
    return g
