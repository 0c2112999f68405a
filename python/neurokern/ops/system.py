"""Which SIMD path the kernels run (for tests and benchmarks; normal use never needs this)."""
from neurokern import _core

_ORDER = ["scalar", "avx2", "avx512"]


def cpu_isa():
    """Best SIMD path the CPU supports."""
    return _core.cpu_isa()


def get_isa():
    """SIMD path the kernels dispatch on now."""
    return _core.get_isa()


def set_isa(isa):
    """Force 'scalar', 'avx2' or 'avx512' (at most cpu_isa()). Returns the previous one."""
    prev = _core.get_isa()
    _core.set_isa(isa)
    return prev


def available_isas():
    """Every path this CPU can run, lowest first."""
    return _ORDER[: _ORDER.index(_core.cpu_isa()) + 1]
