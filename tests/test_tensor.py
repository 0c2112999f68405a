import numpy as np
import pytest

import neurokern as nk
from neurokern import _core


def test_version_matches_pyproject():
    import pathlib
    import tomllib
    pyproject = pathlib.Path(__file__).parents[1] / "pyproject.toml"
    if pyproject.exists():
        assert nk.__version__ == tomllib.loads(pyproject.read_text())["project"]["version"]
    assert isinstance(nk.__version__, str) and nk.__version__.count(".") == 2


def test_tensor_wraps_numpy_without_copy():
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    t = nk.tensor(a)
    assert t.shape == (3, 4) and t.dtype == "float32" and t.device == "cpu"
    assert t.ndim == 2 and t.size == 12 and len(t) == 3
    a[1, 2] = 100.0  # writes through: same memory
    assert t.numpy()[1, 2] == 100.0
    assert np.shares_memory(t.numpy(), a)
    assert np.asarray(t).base is not None


def test_tensor_converts_when_needed():
    a64 = np.arange(6, dtype=np.float64).reshape(2, 3)
    t = nk.tensor(a64)
    assert t.dtype == "float32" and np.array_equal(t.numpy(), a64.astype(np.float32))
    nc = np.arange(12, dtype=np.float32).reshape(3, 4)[:, ::2]  # non-contiguous view
    t2 = nk.tensor(nc)
    assert np.array_equal(t2.numpy(), nc)
    ro = np.arange(3, dtype=np.float32)
    ro.flags.writeable = False
    assert np.array_equal(nk.tensor(ro).numpy(), ro)
    assert nk.tensor([1, 2, 3]).dtype == "int64"
    assert nk.tensor(np.array([1, 2], dtype=np.int32)).dtype == "int32"
    assert nk.tensor([1.5, 2]).dtype == "float32"
    assert nk.tensor([1, 2], dtype="float32").dtype == "float32"


def test_numpy_view_outlives_tensor():
    t = nk.zeros((1000,))
    view = t.numpy()
    del t
    import gc
    gc.collect()
    assert view.sum() == 0.0  # storage kept alive by the array's base


def test_buffer_protocol_and_memoryview():
    t = nk.tensor(np.ones((2, 3), dtype=np.float32))
    mv = memoryview(t)
    assert mv.shape == (2, 3) and mv.format == "f"


def test_reshape_shares_storage():
    t = nk.tensor(np.arange(12, dtype=np.float32))
    r = t.reshape([3, -1])
    assert r.shape == (3, 4) and r._share_memory_with(t)
    with pytest.raises(ValueError, match="cannot reshape"):
        t.reshape([5, -1])
    with pytest.raises(ValueError, match="only one dimension"):
        t.reshape([-1, -1])


def test_bad_dtype_and_device_raise():
    with pytest.raises(ValueError, match="float32, int32 or int64"):
        nk.tensor([1, 2], dtype="float16")
    with pytest.raises(TypeError, match="dtype"):
        nk.tensor(np.array(["a", "b"]))
    with pytest.raises(TypeError, match="float32, int32 or int64"):
        _core.from_numpy(np.zeros(3, dtype=np.float16))
    with pytest.raises(ValueError, match="non-contiguous"):
        _core.from_numpy(np.zeros((4, 4), dtype=np.float32)[:, 1])
    with pytest.raises(RuntimeError, match="CUDA|cuda"):
        nk.tensor([1.0], device="cuda")
    with pytest.raises(ValueError, match="negative dimension"):
        nk.empty((2, -1))


def test_empty_zeros_alignment():
    z = nk.zeros((3, 5))
    assert z.numpy().sum() == 0 and z.data_ptr % 64 == 0
    e = nk.empty((0, 4))
    assert e.shape == (0, 4) and e.size == 0


def test_isa_control_round_trips():
    from neurokern import ops
    isas = ops.available_isas()
    assert isas[0] == "scalar" and ops.cpu_isa() == isas[-1]
    prev = ops.set_isa("scalar")
    try:
        assert ops.get_isa() == "scalar"
    finally:
        ops.set_isa(prev)
    with pytest.raises(ValueError, match="unknown ISA"):
        ops.set_isa("sse9")


def test_threads_control():
    n = nk.get_num_threads()
    nk.set_num_threads(1)
    assert nk.get_num_threads() == 1
    nk.set_num_threads(n)
    with pytest.raises(ValueError):
        nk.set_num_threads(0)


def test_zero_dim_tensor_keeps_its_rank():
    t = nk.tensor(np.float32(3.5))
    assert t.shape == () and t.ndim == 0 and t.numpy() == np.float32(3.5)
