"""Device tensors on 'cuda' (run on the emulator by conftest.py): allocation, copies both ways, round trips,
default device, moving layers/models, interop protocols, and the error messages."""
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import neurokern as nk
from neurokern import cuda, layers, models, optimizers

DTYPES = [np.float32, np.int32, np.int64]
SHAPES = [(), (0,), (1,), (7,), (33, 257), (2, 0, 3), (1, 1, 1, 13)]


def _values(shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    if np.dtype(dtype).kind == "f":
        return rng.standard_normal(shape).astype(dtype)
    info = np.iinfo(dtype)  # the extremes must survive the trip bit for bit
    a = rng.integers(-1000, 1000, size=shape, dtype=dtype)
    if a.size >= 2:
        a.flat[0], a.flat[-1] = info.min, info.max
    return a


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
def test_round_trip(shape, dtype):
    a = _values(shape, dtype)
    t = nk.tensor(a, device="cuda")
    assert t.device == "cuda" and t.shape == shape and t.dtype == np.dtype(dtype).name
    assert t.nbytes == a.nbytes
    back = t.numpy()
    assert isinstance(back, np.ndarray) and back.shape == shape and back.dtype == dtype
    np.testing.assert_array_equal(back, a)
    # a copy both ways: neither side sees later writes to the other
    assert not np.shares_memory(back, a)
    if a.size:
        a.flat[0] += 1
        assert back.flat[0] != a.flat[0]
        np.testing.assert_array_equal(t.numpy().flat[0], back.flat[0])
        back.flat[-1] = 5
        assert t.numpy().flat[-1] == a.flat[-1]


@pytest.mark.parametrize("dtype", ["float32", "int32", "int64"])
def test_to_and_back_through_cpu_tensors(dtype):
    a = _values((5, 3), np.dtype(dtype), seed=1)
    c = nk.tensor(a)
    d = c.to("cuda")
    assert d.device == "cuda" and c.device == "cpu" and d.dtype == dtype
    assert d.to("cuda") is d and d.to("cuda:0") is d and c.to("cpu") is c
    h = d.to("cpu")
    assert h.device == "cpu" and h.dtype == dtype
    np.testing.assert_array_equal(h.numpy(), a)
    assert not np.shares_memory(h.numpy(), a)


def test_empty_and_zeros():
    for dtype in ["float32", "int32", "int64"]:
        z = nk.zeros((3, 257), dtype=dtype, device="cuda")
        assert z.device == "cuda" and z.shape == (3, 257) and z.dtype == dtype
        np.testing.assert_array_equal(z.numpy(), np.zeros((3, 257), dtype=dtype))
        e = nk.empty((7,), dtype=dtype, device="cuda")
        assert e.device == "cuda" and e.shape == (7,) and e.dtype == dtype
    assert nk.zeros((), device="cuda").numpy().shape == ()
    assert nk.empty((0, 4), device="cuda").numpy().shape == (0, 4)


def test_device_to_device_copies():
    be = cuda.backend()
    a = _values((4, 33), np.float32, seed=2)
    src = nk.tensor(a, device="cuda")
    dup = be.copy(src)
    assert dup.device == "cuda" and dup.data_ptr != src.data_ptr
    np.testing.assert_array_equal(dup.numpy(), a)
    # copy_ in place: d2d, h2d and d2h, each checked against fresh data
    dst = nk.zeros((4, 33), device="cuda")
    be.copy_(dst, src)
    np.testing.assert_array_equal(dst.numpy(), a)
    b = a * 2
    be.copy_(dst, nk.tensor(b))
    np.testing.assert_array_equal(dst.numpy(), b)
    host = nk.zeros((4, 33))
    be.copy_(host, dst)
    np.testing.assert_array_equal(host.numpy(), b)
    with pytest.raises(ValueError, match="same shape"):
        be.copy_(dst, nk.zeros((4, 32), device="cuda"))
    with pytest.raises(TypeError, match="same dtype"):
        be.copy_(dst, nk.zeros((4, 33), dtype="int32", device="cuda"))
    with pytest.raises(ValueError, match="neither tensor is on 'cuda'"):
        be.copy_(nk.zeros((2,)), nk.zeros((2,)))


def test_reshape_shares_device_storage():
    a = np.arange(12, dtype=np.float32)
    t = nk.tensor(a, device="cuda")
    r = t.reshape([3, -1])
    assert r.device == "cuda" and r.shape == (3, 4) and r.data_ptr == t.data_ptr
    np.testing.assert_array_equal(r.numpy(), a.reshape(3, 4))
    cuda.backend().copy_(r, nk.tensor(-a.reshape(3, 4)))
    np.testing.assert_array_equal(t.numpy(), -a)


def test_numpy_protocols_copy_device_tensors():
    a = _values((2, 3), np.float32, seed=3)
    t = nk.tensor(a, device="cuda")
    np.testing.assert_array_equal(np.asarray(t), a)
    np.testing.assert_array_equal(np.asarray(t, dtype=np.float64), a.astype(np.float64))
    with pytest.raises(ValueError, match="only cpu tensors expose a buffer"):
        memoryview(t)


def test_tensor_dtype_conversion_keeps_device():
    t = nk.tensor(np.array([1.5, -2.0], dtype=np.float32), device="cuda")
    i = nk.tensor(t, dtype="int64")
    assert i.device == "cuda" and i.dtype == "int64"
    np.testing.assert_array_equal(i.numpy(), [1, -2])


def test_default_device():
    assert nk.get_default_device() == "cpu"
    nk.set_default_device("cuda")
    assert nk.get_default_device() == "cuda"
    assert nk.tensor([1.0, 2.0]).device == "cuda"
    assert nk.zeros((2,)).device == "cuda" and nk.empty((2,)).device == "cuda"
    assert nk.tensor([1.0], device="cpu").device == "cpu"
    c = nk.tensor(np.ones(3, np.float32), device="cpu")
    assert nk.tensor(c) is c  # a Tensor keeps its own device
    nk.set_default_device("cpu")
    assert nk.tensor([1.0]).device == "cpu"


@pytest.mark.parametrize("bad", ["gpu", "cuda:x", "CUDA", "", 0, None])
def test_unknown_device_names(bad):
    with pytest.raises(ValueError, match="unknown device"):
        nk.tensor([1.0], device=bad) if bad is not None else nk.set_default_device(bad)


def test_second_gpu_is_refused_clearly():
    with pytest.raises(ValueError, match="one CUDA device.*CUDA_VISIBLE_DEVICES"):
        nk.tensor([1.0], device="cuda:1")
    with pytest.raises(ValueError, match="cuda:3"):
        nk.zeros((2,), device="cuda:3")
    assert nk.tensor([1.0], device="cuda:0").device == "cuda"


def test_bindings_refuse_cpu_tensors_and_bad_shapes():
    be = cuda.backend()
    with pytest.raises(ValueError, match="is on cpu but this kernel runs on cuda: move it with .to\\('cuda'\\)"):
        be.to_host(nk.tensor([1.0]))
    with pytest.raises(ValueError, match="must be a cpu tensor"):
        be.to_device(nk.tensor([1.0], device="cuda"))
    with pytest.raises(ValueError, match="negative dimension"):
        be.empty([2, -1])
    with pytest.raises(ValueError, match="unknown dtype 'float64'"):
        nk.zeros((2,), dtype="float64", device="cuda")
    with pytest.raises(TypeError, match="float32, int32 or int64"):
        be.from_numpy(np.zeros(3, dtype=np.float16))


def test_ownership_tag():
    be = cuda.backend()
    t = nk.tensor([1.0, 2.0], device="cuda")
    assert be.owns(t) and be.owns(t.reshape([2, 1]))
    assert not be.owns(nk.tensor([1.0, 2.0]))


def test_emulator_state_and_info():
    assert cuda.is_emulated() and cuda.is_available() and cuda.device_count() == 1
    assert cuda.backend().__name__ == "neurokern._cuda_emu" and cuda.backend().is_emulated()
    cuda.synchronize()
    info = cuda.build_info()
    assert info["emulator_built"] and info["emulated"]
    with pytest.raises(TypeError, match="True or False"):
        cuda.use_emulator("yes")


def test_device_memory_is_released():
    # Storage goes back to the allocator when the last tensor sharing it goes: a released block is
    # reused for the next allocation of the same size (the caching allocator hands it out again).
    t = nk.zeros((1031,), device="cuda")
    r = t.reshape([1, 1031])
    ptr = t.data_ptr
    del t
    alive = nk.zeros((1031,), device="cuda")  # r still holds the first block
    assert alive.data_ptr != ptr
    del r
    again = nk.zeros((1031,), device="cuda")
    assert again.data_ptr == ptr


# ---- interop ------------------------------------------------------------------------------------------

def test_dlpack_on_cpu_tensors_shares_memory():
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    t = nk.tensor(a)
    assert t.__dlpack_device__() == (1, 0)
    v = np.from_dlpack(t)
    assert v.shape == (2, 3) and v.dtype == np.float32 and np.shares_memory(v, a)
    for dtype in (np.int32, np.int64):
        w = np.from_dlpack(nk.tensor(np.arange(5, dtype=dtype)))
        assert w.dtype == dtype
        np.testing.assert_array_equal(w, np.arange(5))
    z = np.from_dlpack(nk.tensor(np.float32(3.5)))
    assert z.shape == () and z == 3.5
    c = np.from_dlpack(t, copy=True) if np.lib.NumpyVersion(np.__version__) >= "2.1.0" else np.array(v)
    assert not np.shares_memory(c, a)
    np.testing.assert_array_equal(c, a)


def test_emulated_tensors_refuse_gpu_interop():
    t = nk.tensor([1.0], device="cuda")
    assert not hasattr(nk.tensor([1.0]), "__cuda_array_interface__")
    assert not hasattr(t, "__cuda_array_interface__")  # host memory: must not pass for GPU memory
    with pytest.raises(BufferError, match="emulator"):
        t.__dlpack__()
    with pytest.raises(BufferError, match="emulator"):
        np.from_dlpack(t)


def test_wrapping_a_cuda_array_on_the_emulator_is_refused():
    class FakeGpuArray:
        __cuda_array_interface__ = {"shape": (2,), "typestr": "<f4", "data": (0x1000, False), "version": 3}

    with pytest.raises(RuntimeError, match="CUDA emulator"):
        nk.tensor(FakeGpuArray())


# ---- layers, weights, models -----------------------------------------------------------------------

def test_weight_assign_and_grad_buffer_follow_the_device():
    layer = layers.Dense(3)
    layer.build((None, 4))
    k = layer.kernel
    assert k.device == "cpu"
    layer.to("cuda")
    assert layer.device == "cuda" and k.value.device == "cuda" and layer.bias.value.device == "cuda"
    new = np.arange(12, dtype=np.float64).reshape(4, 3)
    k.assign(new)
    np.testing.assert_array_equal(k.numpy(), new.astype(np.float32))
    assert k.grad_buffer().device == "cuda"
    layer.set_weights([np.ones((4, 3)), np.full((3,), 2.0)])
    np.testing.assert_array_equal(layer.get_weights()[1], np.full((3,), 2.0, np.float32))


def _dense_model():
    np.random.seed(0)
    model = models.Sequential([layers.Input((5,)), layers.Dense(4, activation="relu"), layers.Dense(2)])
    model.compile(optimizer=optimizers.Adam(1e-3), loss="mse")
    return model


def test_model_to_moves_weights_and_optimizer_state():
    model = _dense_model()
    before = model.get_weights()
    opt = model.optimizer
    trainable = [w.value for w in model.trainable_weights]
    opt.build(trainable)
    # give the state recognisable values so a reset to zeros cannot pass
    for i, var in enumerate(trainable):
        for t in opt._state(var).values():
            np.copyto(t.numpy(), np.full(tuple(t.shape), i + 0.5, np.float32))
    model.to("cuda")
    assert model.device == "cuda"
    for w, b in zip(model.weights, before):
        assert w.value.device == "cuda"
        np.testing.assert_array_equal(w.numpy(), b)
    for i, w in enumerate(model.trainable_weights):
        state = opt._state(w.value)
        assert state and all(t.device == "cuda" for t in state.values())
        for t in state.values():
            np.testing.assert_array_equal(t.numpy(), np.full(tuple(t.shape), i + 0.5, np.float32))
    model.to("cpu")
    assert all(w.value.device == "cpu" for w in model.weights)
    assert all(t.device == "cpu" for t in opt.variables)


def test_unbuilt_model_creates_weights_on_its_device():
    model = models.Sequential([layers.Dense(4)])
    model.to("cuda")
    model.build((None, 3))
    assert model.weights and all(w.value.device == "cuda" for w in model.weights)


def test_model_to_refuses_unknown_devices_before_moving():
    model = _dense_model()
    with pytest.raises(ValueError, match="one CUDA device"):
        model.to("cuda:2")
    assert all(w.value.device == "cpu" for w in model.weights)


# ---- without the emulator (fresh interpreters: the choice is per process) -----------------------------

def _run(code, **env):
    full = {k: v for k, v in os.environ.items() if k != "NEUROKERN_CUDA_EMULATOR"}
    full.update(env)
    return subprocess.run([sys.executable, "-W", "error", "-c", textwrap.dedent(code)], env=full,
                          capture_output=True, text=True, timeout=120)


def test_cuda_without_gpu_or_opt_in_says_how_to_opt_in():
    probe = _run("import neurokern as nk; print(nk.cuda.is_available())")
    assert probe.returncode == 0, probe.stderr
    if probe.stdout.strip() == "True":
        pytest.skip("a real GPU is present: 'cuda' is available without opting in")
    r = _run("""
        import neurokern as nk
        assert not nk.cuda.is_emulated() and not nk.cuda.is_available()
        for make in (lambda: nk.tensor([1.0], device="cuda"), lambda: nk.zeros((2,), device="cuda"),
                     lambda: nk.set_default_device("cuda"), lambda: nk.tensor([1.0]).to("cuda")):
            try:
                make()
            except RuntimeError as e:
                msg = str(e)
                assert "neurokern.cuda.use_emulator()" in msg and "NEUROKERN_CUDA_EMULATOR=1" in msg, msg
            else:
                raise AssertionError("'cuda' worked without a GPU or the emulator")
        assert nk.get_default_device() == "cpu"
        print("ok")
        """)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr
    assert r.stderr == ""  # no warnings on import


def test_environment_variable_opts_in():
    r = _run("""
        import numpy as np
        import neurokern as nk
        assert nk.cuda.is_emulated() and nk.cuda.is_available()
        t = nk.tensor(np.arange(3, dtype=np.float32), device="cuda")
        print(t.device, t.numpy().tolist())
        """, NEUROKERN_CUDA_EMULATOR="1")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "cuda [0.0, 1.0, 2.0]"
