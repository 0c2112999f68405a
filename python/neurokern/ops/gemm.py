"""Matrix products (csrc/cpu/gemm.cpp)."""
from neurokern.ops._util import as_input, as_output, backend, new_output


def matmul(a, b, transpose_a=False, transpose_b=False, out=None, variant="auto"):
    """op(a) @ op(b) for 2-d float32 inputs, op = transpose when asked.

    Accepts NumPy arrays or Tensors and returns the same kind. `variant` names a registered SGEMM
    implementation (see gemm_variants()); 'auto' picks the fastest for this CPU.
    """
    a_t, a_np = as_input(a)
    b_t, _ = as_input(b)
    if a_t.ndim != 2 or b_t.ndim != 2:
        raise ValueError(f"matmul needs 2-d inputs, got shapes {tuple(a_t.shape)} and {tuple(b_t.shape)}")
    m = a_t.shape[1] if transpose_a else a_t.shape[0]
    n = b_t.shape[0] if transpose_b else b_t.shape[1]
    c = new_output(out, (m, n), a_t)
    backend(a_t).gemm(c, a_t, b_t, transpose_a, transpose_b, 1.0, 0.0, variant)
    return as_output(c, a_np)


def gemm(c, a, b, transpose_a=False, transpose_b=False, alpha=1.0, beta=0.0, variant="auto"):
    """In place: c = alpha * op(a) @ op(b) + beta * c (all Tensors). Returns c."""
    backend(c).gemm(c, a, b, transpose_a, transpose_b, float(alpha), float(beta), variant)
    return c


def gemm_variants():
    """Registered SGEMM implementations as (name, isa, description), simplest first."""
    from neurokern import _core
    return _core.gemm_variants()
