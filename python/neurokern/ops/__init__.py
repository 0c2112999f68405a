"""neurokern.ops: the thin, documented kernel API used by layers, benchmarks and teaching.

Every function accepts NumPy arrays or neurokern Tensors and returns the same kind; each is a few
lines around one compiled kernel (csrc/cpu/<family>.cpp). One module per op family.
"""
from neurokern.ops.gemm import matmul, gemm, gemm_variants  # noqa: F401
from neurokern.ops.system import get_isa, set_isa, cpu_isa, available_isas  # noqa: F401
from neurokern.ops.activation import *  # noqa: F401,F403
from neurokern.ops.elementwise import bias_add, bias_add_backward, add, sub, mul, div, scale, axpy, fill, copy, square, sqrt, sum, mean, argmax  # noqa: F401,E501,A004
from neurokern.ops.dropout import dropout, dropout_backward, philox4x32_10  # noqa: F401
from neurokern.ops.loss import *  # noqa: F401,F403  (names in loss.__all__)
from neurokern.ops.optim import *  # noqa: F401,F403  (names in optim.__all__)
from neurokern.ops.pool import *  # noqa: F401,F403  (names in pool.__all__)
from neurokern.ops.upsample import *  # noqa: F401,F403  (names in upsample.__all__)
from neurokern.ops.batchnorm import *  # noqa: F401,F403  (names in batchnorm.__all__)
from neurokern.ops.pad import *  # noqa: F401,F403  (names in pad.__all__)
from neurokern.ops.lstm import *  # noqa: F401,F403  (names in lstm.__all__)
from neurokern.ops.rnn import *  # noqa: F401,F403  (names in rnn.__all__)
from neurokern.ops.embedding import *  # noqa: F401,F403  (names in embedding.__all__)
from neurokern.ops.conv import *  # noqa: F401,F403  (names in conv.__all__)
from neurokern.ops.image import affine_transform2d, affine_transform2d_backward  # noqa: F401
