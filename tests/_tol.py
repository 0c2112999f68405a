"""The one table of test tolerances: (rtol, atol) per op family, float32 kernels vs float64 NumPy.

Why these numbers:
- gemm: a K-term float32 dot product accumulates ~sqrt(K)*eps relative error (eps = 6e-8); blocked
  and FMA orders differ from NumPy's. With K <= 2048 and |entries| ~ 1 that is < 3e-6 * sqrt(K) * |c|;
  1e-4 relative + 1e-4 absolute (for entries of C near 0) has 10x margin.
- elementwise: one or two roundings, plus vectorised exp/tanh/log approximations accurate to a few
  ulp (~4e-7 relative); 1e-5 leaves room for sigmoid/softplus compositions.
- loss / reduce: a mean over up to ~1e5 float32 terms (pairwise/blocked sums) -> 1e-5 relative.
- optim: a handful of float32 operations per element on values ~1 -> 1e-5.
- grad_fd: central differences in float64 with h = 1e-6 on smooth functions: truncation O(h^2)
  and cancellation O(eps64/h) ~ 1e-10, so 1e-6 is safe but still catches any wrong formula.
"""

TOL = {
    "gemm": (1e-4, 1e-4),
    # conv2d / conv2d_transpose: GEMMs with K = KH*KW*C (<= ~600 terms in the tests) or sums of up to
    # N*OH*OW ~ 4000 terms of |x*dy| <= 1 for the weight gradient, in blocked / chunked orders: the
    # same sqrt(K)*eps argument as gemm, scaled by the larger sums; 2e-4 has >10x margin.
    "conv": (2e-4, 2e-4),
    "elementwise": (1e-5, 1e-6),
    "loss": (1e-5, 1e-6),
    "reduce": (1e-5, 1e-5),
    "optim": (1e-5, 1e-6),
    "layer": (1e-4, 1e-5),
    "grad_fd": (1e-6, 1e-7),
    # float32 kernels differenced with h = 1e-2: rounding error ~eps32*|f|/h ~ 1e-5 and truncation
    # O(h^2) ~ 1e-4 relative for smooth layers, so 2e-2 relative / 2e-3 absolute.
    "grad_fd32": (2e-2, 2e-3),
    # values printed in Keras docstrings (e.g. 0.815, 9.683772) are rounded to 3-6 decimals: half a
    # unit in the 3rd decimal absolute, nothing relative.
    "keras_doc": (0.0, 5e-4),
    # recurrent layers (LSTM, SimpleRNN) vs float64 step-by-step references: every step adds a
    # K = F + U dot product (~1e-6 relative) plus vector sigmoid/tanh (a few ulp), and errors carried
    # in h and c are damped by the gates (|f|, |tanh'| < 1) but compound over up to 500 steps and,
    # in the backward, through the dW sums over N*T rows: 5e-4 relative + 5e-5 absolute.
    "recurrent": (5e-4, 5e-5),
}
