"""neurokern.ops: the thin, documented kernel API used by layers, benchmarks and teaching.

Every function accepts NumPy arrays or neurokern Tensors and returns the same kind; each is a few
lines around one compiled kernel (csrc/cpu/<family>.cpp). One module per op family.
"""
from neurokern.ops.gemm import matmul, gemm, gemm_variants  # noqa: F401
from neurokern.ops.system import get_isa, set_isa, cpu_isa, available_isas  # noqa: F401
from neurokern.ops.loss import *  # noqa: F401,F403  (names in loss.__all__)
from neurokern.ops.optim import *  # noqa: F401,F403  (names in optim.__all__)
