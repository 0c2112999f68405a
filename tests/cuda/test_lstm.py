"""LSTM on device 'cuda' (csrc/cuda/lstm.cu), run on the emulator here: both CUDA variants vs the
float64 step-by-step reference of tests/test_lstm.py, the backward vs central finite differences of
that reference (every weight, the inputs, both initial states), masks of every dtype, activations,
partial upstream gradients, the accumulate / overwrite rules, and bad input.

dx, dh0, dc0 are OVERWRITTEN (pre-filled with NaN); dkernel, drecurrent_kernel, dbias ACCUMULATE
(pre-filled with a known offset that must survive).
"""
import numpy as np
import pytest

import neurokern as nk
from neurokern import ops
from neurokern.ops._util import backend

import test_lstm as cpu  # tests/test_lstm.py: the float64 references
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


def run_forward(p, variant="auto", mask=None, act="tanh", ract="sigmoid", bias=True):
    N, T, _ = p["x"].shape
    U = p["Wh"].shape[0]
    outs = [nan_dev(s) for s in ((N, T, U), (N, U), (N, U), (N, T, 4 * U), (N, T, U))]
    t = {k: dev(v) for k, v in p.items()}
    cuda_module().lstm_forward(*outs, t["x"], t["h0"], t["c0"], dev(mask), t["W"], t["Wh"], t["b"] if bias else None,
                               act, ract, variant)
    return outs


def run_backward(p, fwd, dh_seq, dh_last, dc_last, variant="auto", mask=None, act="tanh", ract="sigmoid",
                 acc=0.0, need_dx=True):
    N, T, F = p["x"].shape
    U = p["Wh"].shape[0]
    dx = nan_dev((N, T, F)) if need_dx else None
    dh0, dc0 = nan_dev((N, U)), nan_dev((N, U))
    dW, dWh, db = (dev(np.full(s, acc, np.float32)) for s in ((F, 4 * U), (U, 4 * U), (4 * U,)))
    t = {k: dev(v) for k, v in p.items()}
    h_seq, _, _, gates, c_seq = fwd
    cuda_module().lstm_backward(dx, dh0, dc0, dW, dWh, db, dev(dh_seq), dev(dh_last), dev(dc_last), gates, c_seq,
                                h_seq, t["x"], t["h0"], t["c0"], dev(mask), t["W"], t["Wh"], act, ract, variant)
    return dict(x=None if dx is None else dx.numpy(), h0=dh0.numpy(), c0=dc0.numpy(), W=dW.numpy() - acc,
                Wh=dWh.numpy() - acc, b=db.numpy() - acc)


def test_registry():
    assert [v[0] for v in cuda_module().lstm_variants()] == VARIANTS


# seq len 1 and 7, units not multiples of 32 (1, 5, 17, 33), batch 1
@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("N,T,F,U", [(1, 1, 1, 1), (3, 7, 5, 4), (2, 7, 7, 17), (1, 3, 33, 33)])
def test_forward_matches_reference(rng, variant, N, T, F, U):
    p = cpu.make(rng, N, T, F, U)
    h_seq, h_last, c_last, gates, c_seq = run_forward(p, variant)
    hs, h, c = cpu.ref_lstm(p["x"], p["h0"], p["c0"], p["W"], p["Wh"], p["b"])
    assert_close(h_seq.numpy(), hs, "recurrent")
    assert_close(h_last.numpy(), h, "recurrent")
    assert_close(c_last.numpy(), c, "recurrent")
    assert_close(c_seq.numpy()[:, -1], c, "recurrent")
    g = gates.numpy()
    assert np.all((g[:, :, :2 * U] > 0) & (g[:, :, :2 * U] < 1)), "i, f are sigmoids (and written: no NaN)"
    assert np.all(np.isfinite(g))


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("act,ract", [("relu", "sigmoid"), ("tanh", "linear"), ("sigmoid", "tanh")])
def test_activations(rng, variant, act, ract):
    p = cpu.make(rng, 2, 4, 3, 5)
    h_seq, _, c_last, _, _ = run_forward(p, variant, act=act, ract=ract)
    hs, _, c = cpu.ref_lstm(p["x"], p["h0"], p["c0"], p["W"], p["Wh"], p["b"], act=act, ract=ract)
    assert_close(h_seq.numpy(), hs, "recurrent")
    assert_close(c_last.numpy(), c, "recurrent")


def test_no_bias(rng):
    p = cpu.make(rng, 2, 4, 3, 5)
    hs = cpu.ref_lstm(p["x"], p["h0"], p["c0"], p["W"], p["Wh"], np.zeros(20))[0]
    assert_close(run_forward(p, bias=False)[0].numpy(), hs, "recurrent")


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("N,T,F,U", [(1, 1, 1, 1), (2, 3, 3, 2), (1, 7, 2, 3)])
@pytest.mark.parametrize("act,ract", [("tanh", "sigmoid"), ("relu", "sigmoid")])
def test_backward_matches_finite_differences(rng, variant, N, T, F, U, act, ract):
    p = cpu.make(rng, N, T, F, U)
    dhs, dhl, dcl = cpu.upstream(rng, N, T, U)
    fwd = run_forward(p, variant, act=act, ract=ract)
    got = run_backward(p, fwd, dhs, dhl, dcl, variant, act=act, ract=ract, acc=0.75)
    want = cpu.fd_grads(p, dhs, dhl, dcl, act=act, ract=ract)
    for k in ("x", "h0", "c0", "W", "Wh", "b"):
        assert_close(got[k], want[k], "recurrent")


@pytest.mark.parametrize("variant", VARIANTS)
def test_backward_with_partial_upstream(rng, variant):
    """dh_seq / dh_last / dc_last may each be None (zero): e.g. return_sequences=False."""
    N, T, F, U = 2, 3, 2, 3
    p = cpu.make(rng, N, T, F, U)
    _, dhl, _ = cpu.upstream(rng, N, T, U)
    got = run_backward(p, run_forward(p, variant), None, dhl, None, variant)
    want = cpu.fd_grads(p, np.zeros((N, T, U)), dhl, np.zeros((N, U)))
    for k in want:
        assert_close(got[k], want[k], "recurrent")


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("mask_dtype", [np.float32, np.int32, np.int64])
def test_mask_carries_state(rng, variant, mask_dtype):
    N, T, F, U = 3, 6, 2, 3
    p = cpu.make(rng, N, T, F, U)
    mask = np.ones((N, T), mask_dtype)
    mask[0, 2:4] = 0
    mask[1, 0] = 0
    mask[2, 5] = 0
    fwd = run_forward(p, variant, mask=mask)
    hs, h, c = cpu.ref_lstm(p["x"], p["h0"], p["c0"], p["W"], p["Wh"], p["b"], mask)
    assert_close(fwd[0].numpy(), hs, "recurrent")
    assert_close(fwd[2].numpy(), c, "recurrent")
    np.testing.assert_array_equal(fwd[0].numpy()[0, 2], fwd[0].numpy()[0, 1])  # carried exactly
    dhs, dhl, dcl = cpu.upstream(rng, N, T, U)
    got = run_backward(p, fwd, dhs, dhl, dcl, variant, mask=mask)
    want = cpu.fd_grads(p, dhs, dhl, dcl, mask=mask)
    for k in want:
        assert_close(got[k], want[k], "recurrent")
    assert np.all(got["x"][0, 2:4] == 0), "a skipped step has no input gradient"


@pytest.mark.parametrize("variant", VARIANTS)
def test_under_emulator_checks(rng, emulator_checks, variant):
    N, T, F, U = 2, 4, 3, 5
    p = cpu.make(rng, N, T, F, U)
    mask = np.array([[1, 0, 1, 1], [1, 1, 1, 0]], np.int64)
    dhs, dhl, dcl = cpu.upstream(rng, N, T, U)
    fwd = run_forward(p, variant, mask=mask)
    assert_close(fwd[0].numpy(), cpu.ref_lstm(p["x"], p["h0"], p["c0"], p["W"], p["Wh"], p["b"], mask)[0], "recurrent")
    got = run_backward(p, fwd, dhs, dhl, dcl, variant, mask=mask)
    want = cpu.fd_grads(p, dhs, dhl, dcl, mask=mask)
    for k in want:
        assert_close(got[k], want[k], "recurrent")


def test_fused_matches_naive(rng):
    """A larger shape (units not a multiple of 32, several gemm tiles) with a mask: the two schedules
    agree with each other and with the reference."""
    N, T, F, U = 5, 7, 9, 37
    p = cpu.make(rng, N, T, F, U, scale=0.3)
    dhs, dhl, dcl = cpu.upstream(rng, N, T, U)
    mask = (rng.uniform(size=(N, T)) > 0.3).astype(np.float32)
    res = {}
    for v in VARIANTS:
        fwd = run_forward(p, v, mask=mask)
        res[v] = ([o.numpy() for o in fwd[:3]], run_backward(p, fwd, dhs, dhl, dcl, v, mask=mask, acc=-2.0))
    for got, want in zip(res["fused"][0], cpu.ref_lstm(p["x"], p["h0"], p["c0"], p["W"], p["Wh"], p["b"], mask)):
        assert_close(got, want, "recurrent")
    for k in res["naive"][1]:
        assert_close(res["fused"][1][k], res["naive"][1][k].astype(np.float64), "recurrent")


def test_backward_need_dx_false_skips_dx(rng):
    p = cpu.make(rng, 2, 3, 4, 5)
    dhs, dhl, dcl = cpu.upstream(rng, 2, 3, 5)
    fwd = run_forward(p)
    a = run_backward(p, fwd, dhs, dhl, dcl, need_dx=False)
    b = run_backward(p, fwd, dhs, dhl, dcl)
    assert a["x"] is None
    for k in ("W", "Wh", "b", "h0", "c0"):
        np.testing.assert_array_equal(a[k], b[k])


def test_ops_wrappers_on_device(rng):
    """neurokern.ops runs unchanged on device tensors (explicit initial states)."""
    p = cpu.make(rng, 2, 5, 3, 4)
    t = {k: dev(v) for k, v in p.items()}
    h_seq, h_last, c_last, gates, c_seq = ops.lstm_forward(t["x"], t["h0"], t["c0"], t["W"], t["Wh"], t["b"])
    assert h_seq.device == "cuda" and gates.shape == (2, 5, 16)
    assert_close(h_seq.numpy(), cpu.ref_lstm(p["x"], p["h0"], p["c0"], p["W"], p["Wh"], p["b"])[0], "recurrent")
    dW, dWh, db = dev(np.zeros((3, 16), np.float32)), dev(np.zeros((4, 16), np.float32)), dev(np.zeros(16, np.float32))
    dx, dh0, dc0 = ops.lstm_backward(dW, dWh, db, None, dev(np.ones((2, 4), np.float32)), None, gates, c_seq, h_seq,
                                     t["x"], t["h0"], t["c0"], t["W"], t["Wh"])
    want = cpu.fd_grads(p, np.zeros((2, 5, 4)), np.ones((2, 4)), np.zeros((2, 4)))
    assert_close(dx.numpy(), want["x"], "recurrent")
    assert_close(dW.numpy(), want["W"], "recurrent")
    assert_close(dc0.numpy(), want["c0"], "recurrent")


def test_bad_input(rng):
    p = cpu.make(rng, 2, 3, 4, 5)
    t = {k: dev(v) for k, v in p.items()}
    m = cuda_module()
    outs = lambda: [nan_dev(s) for s in ((2, 3, 5), (2, 5), (2, 5), (2, 3, 20), (2, 3, 5))]  # noqa: E731
    with pytest.raises(ValueError, match="0 timesteps"):
        m.lstm_forward(*outs(), dev(np.zeros((2, 0, 4), np.float32)), t["h0"], t["c0"], None, t["W"], t["Wh"], None)
    with pytest.raises(ValueError, match="initial state h0"):
        m.lstm_forward(*outs(), t["x"], dev(np.zeros((3, 5), np.float32)), t["c0"], None, t["W"], t["Wh"], None)
    with pytest.raises(ValueError, match="kernel must have shape"):
        m.lstm_forward(*outs(), t["x"], t["h0"], t["c0"], None, dev(p["W"][:3]), t["Wh"], None)
    with pytest.raises(ValueError, match="mask must have shape"):
        m.lstm_forward(*outs(), t["x"], t["h0"], t["c0"], dev(np.ones((2, 4), np.float32)), t["W"], t["Wh"], None)
    with pytest.raises(ValueError, match="mask"):
        m.lstm_forward(*outs(), t["x"], t["h0"], t["c0"], nk.tensor(np.ones((2, 3), np.float32)), t["W"], t["Wh"],
                       None)
    with pytest.raises(ValueError, match="activation must be one of 'tanh', 'sigmoid', 'relu', 'linear'"):
        m.lstm_forward(*outs(), t["x"], t["h0"], t["c0"], None, t["W"], t["Wh"], None, "softplus")
    with pytest.raises(ValueError, match="unknown lstm variant 'fast'"):
        m.lstm_forward(*outs(), t["x"], t["h0"], t["c0"], None, t["W"], t["Wh"], None, "tanh", "sigmoid", "fast")
    with pytest.raises(TypeError, match="x"):
        m.lstm_forward(*outs(), dev(p["x"].astype(np.int32)), t["h0"], t["c0"], None, t["W"], t["Wh"], None)
    o = outs()
    with pytest.raises(ValueError, match="must not share memory"):
        m.lstm_forward(o[0], o[1], o[1], *o[3:], t["x"], t["h0"], t["c0"], None, t["W"], t["Wh"], None)
    fwd = run_forward(p)
    with pytest.raises(ValueError, match="dkernel"):
        m.lstm_backward(None, nan_dev((2, 5)), nan_dev((2, 5)), nan_dev((4, 21)), nan_dev((5, 20)), None, None, None,
                        None, fwd[3], fwd[4], fwd[0], t["x"], t["h0"], t["c0"], None, t["W"], t["Wh"])
