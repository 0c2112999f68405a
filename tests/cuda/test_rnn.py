"""SimpleRNN on device 'cuda' (csrc/cuda/rnn.cu), run on the emulator here: both CUDA variants vs the
float64 step-by-step reference of tests/test_rnn.py, the backward vs central finite differences of
that reference, masks, every supported activation, and bad input.

dx and dh0 are OVERWRITTEN (pre-filled with NaN); dkernel, drecurrent_kernel, dbias ACCUMULATE.
"""
import numpy as np
import pytest

import neurokern as nk
from neurokern import ops
from neurokern.ops._util import backend

import test_rnn as cpu  # tests/test_rnn.py: the float64 references
assert_close = cpu.assert_close


def dev(a):
    return None if a is None else nk.tensor(np.ascontiguousarray(a), device="cuda")


def nan_dev(shape):
    return dev(np.full(shape, np.nan, np.float32))

@pytest.fixture
def emulator_checks():
    """The emulator's checking mode for one test: guard pages around every device buffer (out-of-bounds
    reads and writes fault), poisoned fresh memory, and each kernel run in forward and in reverse thread
    order with the results compared (a race or a missing __syncthreads shows up as a difference).
    Tensors must be created after it is on."""
    from neurokern import _cuda_emu
    _cuda_emu.emu_set_check(True)
    try:
        yield
    finally:
        _cuda_emu.emu_set_check(False)


def cuda_module():
    return backend(dev(np.zeros(1, np.float32)))


VARIANTS = ["naive", "fused"]  # the CUDA table (test_registry checks it), reference first


def run_forward(p, variant="auto", mask=None, act="tanh", bias=True):
    N, T, _ = p["x"].shape
    U = p["Wh"].shape[0]
    h_seq, h_last = nan_dev((N, T, U)), nan_dev((N, U))
    t = {k: dev(v) for k, v in p.items()}
    cuda_module().rnn_forward(h_seq, h_last, t["x"], t["h0"], dev(mask), t["W"], t["Wh"], t["b"] if bias else None,
                              act, variant)
    return h_seq, h_last


def run_backward(p, h_seq, dh_seq, dh_last, variant="auto", mask=None, act="tanh", acc=0.0, need_dx=True):
    N, T, F = p["x"].shape
    U = p["Wh"].shape[0]
    dx, dh0 = (nan_dev((N, T, F)) if need_dx else None), nan_dev((N, U))
    dW, dWh, db = (dev(np.full(s, acc, np.float32)) for s in ((F, U), (U, U), (U,)))
    t = {k: dev(v) for k, v in p.items()}
    cuda_module().rnn_backward(dx, dh0, dW, dWh, db, dev(dh_seq), dev(dh_last), h_seq, t["x"], t["h0"], dev(mask),
                               t["W"], t["Wh"], act, variant)
    return dict(x=None if dx is None else dx.numpy(), h0=dh0.numpy(), W=dW.numpy() - acc, Wh=dWh.numpy() - acc,
                b=db.numpy() - acc)


def test_registry():
    assert [v[0] for v in cuda_module().rnn_variants()] == VARIANTS


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("act", ["tanh", "relu", "sigmoid", "linear"])
@pytest.mark.parametrize("N,T,F,U", [(1, 1, 1, 1), (3, 7, 5, 4), (2, 7, 33, 17)])
def test_forward_matches_reference(rng, variant, act, N, T, F, U):
    p = cpu.make(rng, N, T, F, U)
    h_seq, h_last = run_forward(p, variant, act=act)
    hs, h = cpu.ref_rnn(p["x"], p["h0"], p["W"], p["Wh"], p["b"], act=act)
    assert_close(h_seq.numpy(), hs, "recurrent")
    assert_close(h_last.numpy(), h, "recurrent")


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("N,T,F,U", [(1, 1, 1, 1), (2, 4, 3, 3), (1, 7, 2, 5)])
@pytest.mark.parametrize("act", ["tanh", "relu"])
def test_backward_matches_finite_differences(rng, variant, N, T, F, U, act):
    p = cpu.make(rng, N, T, F, U)
    dhs, dhl = rng.standard_normal((N, T, U)).astype(np.float32), rng.standard_normal((N, U)).astype(np.float32)
    h_seq, _ = run_forward(p, variant, act=act)
    got = run_backward(p, h_seq, dhs, dhl, variant, act=act, acc=0.5)
    want = cpu.fd_grads(p, dhs, dhl, act=act)
    for k in want:
        assert_close(got[k], want[k], "recurrent")


@pytest.mark.parametrize("variant", VARIANTS)
def test_mask(rng, variant):
    N, T, F, U = 3, 5, 2, 4
    p = cpu.make(rng, N, T, F, U)
    mask = np.ones((N, T), np.int32)
    mask[0, 1:3] = 0
    mask[2, 0] = 0
    h_seq, _ = run_forward(p, variant, mask=mask)
    assert_close(h_seq.numpy(), cpu.ref_rnn(p["x"], p["h0"], p["W"], p["Wh"], p["b"], mask)[0], "recurrent")
    dhs, dhl = rng.standard_normal((N, T, U)).astype(np.float32), rng.standard_normal((N, U)).astype(np.float32)
    got = run_backward(p, h_seq, dhs, dhl, variant, mask=mask)
    want = cpu.fd_grads(p, dhs, dhl, mask=mask)
    for k in want:
        assert_close(got[k], want[k], "recurrent")


def test_partial_upstream_and_no_dx(rng):
    N, T, F, U = 2, 4, 3, 5
    p = cpu.make(rng, N, T, F, U)
    h_seq, _ = run_forward(p)
    dhl = rng.standard_normal((N, U)).astype(np.float32)
    got = run_backward(p, h_seq, None, dhl, need_dx=False)
    want = cpu.fd_grads(p, np.zeros((N, T, U)), dhl)
    assert got["x"] is None
    for k in ("h0", "W", "Wh", "b"):
        assert_close(got[k], want[k], "recurrent")


@pytest.mark.parametrize("variant", VARIANTS)
def test_under_emulator_checks(rng, emulator_checks, variant):
    N, T, F, U = 2, 4, 3, 5
    p = cpu.make(rng, N, T, F, U)
    mask = np.array([[1, 0, 1, 1], [1, 1, 1, 0]], np.float32)
    dhs, dhl = rng.standard_normal((N, T, U)).astype(np.float32), rng.standard_normal((N, U)).astype(np.float32)
    h_seq, _ = run_forward(p, variant, mask=mask)
    assert_close(h_seq.numpy(), cpu.ref_rnn(p["x"], p["h0"], p["W"], p["Wh"], p["b"], mask)[0], "recurrent")
    got = run_backward(p, h_seq, dhs, dhl, variant, mask=mask)
    want = cpu.fd_grads(p, dhs, dhl, mask=mask)
    for k in want:
        assert_close(got[k], want[k], "recurrent")


def test_fused_matches_naive(rng):
    N, T, F, U = 4, 7, 9, 37
    p = cpu.make(rng, N, T, F, U, scale=0.3)
    dhs, dhl = rng.standard_normal((N, T, U)).astype(np.float32), rng.standard_normal((N, U)).astype(np.float32)
    mask = (rng.uniform(size=(N, T)) > 0.3).astype(np.float32)
    hs = cpu.ref_rnn(p["x"], p["h0"], p["W"], p["Wh"], p["b"], mask)[0]
    grads = {}
    for v in VARIANTS:
        h_seq, _ = run_forward(p, v, mask=mask)
        assert_close(h_seq.numpy(), hs, "recurrent")
        grads[v] = run_backward(p, h_seq, dhs, dhl, v, mask=mask, acc=1.0)
    for k in grads["naive"]:
        assert_close(grads["fused"][k], grads["naive"][k].astype(np.float64), "recurrent")


def test_ops_and_bad_input(rng):
    p = cpu.make(rng, 2, 3, 4, 5)
    t = {k: dev(v) for k, v in p.items()}
    h_seq, h_last = ops.rnn_forward(t["x"], t["h0"], t["W"], t["Wh"], t["b"])
    assert h_seq.device == "cuda"
    assert_close(h_seq.numpy(), cpu.ref_rnn(p["x"], p["h0"], p["W"], p["Wh"], p["b"])[0], "recurrent")
    m = cuda_module()
    hs, hl = nan_dev((2, 3, 5)), nan_dev((2, 5))
    with pytest.raises(ValueError, match="initial state h0"):
        m.rnn_forward(hs, hl, t["x"], dev(np.zeros((2, 4), np.float32)), None, t["W"], t["Wh"], None)
    with pytest.raises(ValueError, match="recurrent_kernel"):
        m.rnn_forward(hs, hl, t["x"], t["h0"], None, t["W"], dev(p["Wh"][:, :4]), None)
    with pytest.raises(ValueError, match="unknown rnn variant 'x'"):
        m.rnn_forward(hs, hl, t["x"], t["h0"], None, t["W"], t["Wh"], None, "tanh", "x")
    with pytest.raises(ValueError, match="activation must be one of 'tanh', 'sigmoid', 'relu', 'linear'"):
        m.rnn_forward(hs, hl, t["x"], t["h0"], None, t["W"], t["Wh"], None, "elu")
    with pytest.raises(ValueError, match="h0"):
        m.rnn_forward(hs, hl, t["x"], nk.tensor(p["h0"]), None, t["W"], t["Wh"], None)  # a CPU tensor
