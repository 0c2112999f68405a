"""SimpleRNN kernels (csrc/cpu/rnn.cpp): every variant on every ISA vs a float64 NumPy step-by-step
reference; backward vs central finite differences for every weight, the inputs and the initial state;
masks; long sequences; torch.nn.RNN; bad input.

dx and dh0 are OVERWRITTEN (pre-filled with NaN); dkernel, drecurrent_kernel, dbias ACCUMULATE.
"""
import numpy as np
import pytest

import neurokern as nk
from neurokern import _core, ops

from _gradcheck import numeric_grad
from conftest import assert_close, nan_tensor
from test_lstm import ACTS

VARIANTS = [v[0] for v in _core.rnn_variants()]


def ref_rnn(x, h0, W, Wh, b, mask=None, act="tanh"):
    a = ACTS[act]
    x, h, W, Wh, b = (np.asarray(v, np.float64) for v in (x, h0, W, Wh, b))
    N, T, _ = x.shape
    hs = np.zeros((N, T, Wh.shape[0]))
    for t in range(T):
        hn = a(x[:, t] @ W + h @ Wh + b)
        if mask is not None:
            hn = np.where((mask[:, t] != 0)[:, None], hn, h)
        h = hn
        hs[:, t] = h
    return hs, h


def make(rng, N, T, F, U, scale=0.5):
    f32 = lambda *s: rng.uniform(-scale, scale, s).astype(np.float32)  # noqa: E731
    return dict(x=f32(N, T, F), h0=f32(N, U), W=f32(F, U), Wh=f32(U, U), b=f32(U))


def run_forward(p, variant="auto", mask=None, act="tanh"):
    N, T, _ = p["x"].shape
    U = p["Wh"].shape[0]
    h_seq, h_last = nan_tensor((N, T, U)), nan_tensor((N, U))
    t = {k: nk.tensor(v) for k, v in p.items()}
    _core.rnn_forward(h_seq, h_last, t["x"], t["h0"], None if mask is None else nk.tensor(mask), t["W"], t["Wh"],
                      t["b"], act, variant)
    return h_seq, h_last


def run_backward(p, h_seq, dh_seq, dh_last, variant="auto", mask=None, act="tanh", acc=0.0):
    N, T, F = p["x"].shape
    U = p["Wh"].shape[0]
    dx, dh0 = nan_tensor((N, T, F)), nan_tensor((N, U))
    dW, dWh, db = (nk.tensor(np.full(s, acc, np.float32)) for s in ((F, U), (U, U), (U,)))
    t = {k: nk.tensor(v) for k, v in p.items()}
    opt = lambda a: None if a is None else nk.tensor(a)  # noqa: E731
    _core.rnn_backward(dx, dh0, dW, dWh, db, opt(dh_seq), opt(dh_last), h_seq, t["x"], t["h0"], opt(mask), t["W"],
                       t["Wh"], act, variant)
    return dict(x=dx.numpy(), h0=dh0.numpy(), W=dW.numpy() - acc, Wh=dWh.numpy() - acc, b=db.numpy() - acc)


def fd_grads(p, dh_seq, dh_last, mask=None, act="tanh"):
    def loss(name):
        def f(v):
            q = dict(p)
            q[name] = v
            hs, h = ref_rnn(q["x"], q["h0"], q["W"], q["Wh"], q["b"], mask, act)
            return np.sum(hs * dh_seq) + np.sum(h * dh_last)
        return f
    return {k: numeric_grad(loss(k), p[k]) for k in p}


def test_registry():
    assert VARIANTS[0] == "naive" and "fused" in VARIANTS
    assert ops.rnn_variants() == [tuple(v) for v in _core.rnn_variants()]


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("act", ["tanh", "relu", "sigmoid", "linear"])
@pytest.mark.parametrize("N,T,F,U", [(1, 1, 1, 1), (3, 7, 5, 4), (2, 9, 7, 17), (7, 3, 33, 16)])
def test_forward_matches_reference(isa, rng, variant, act, N, T, F, U):
    p = make(rng, N, T, F, U)
    h_seq, h_last = run_forward(p, variant, act=act)
    hs, h = ref_rnn(p["x"], p["h0"], p["W"], p["Wh"], p["b"], act=act)
    assert_close(h_seq.numpy(), hs, "recurrent")
    assert_close(h_last.numpy(), h, "recurrent")


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("N,T,F,U", [(1, 1, 1, 1), (2, 4, 3, 3)])
@pytest.mark.parametrize("act", ["tanh", "relu"])
def test_backward_matches_finite_differences(isa, rng, variant, N, T, F, U, act):
    p = make(rng, N, T, F, U)
    dhs, dhl = rng.standard_normal((N, T, U)).astype(np.float32), rng.standard_normal((N, U)).astype(np.float32)
    h_seq, _ = run_forward(p, variant, act=act)
    got = run_backward(p, h_seq, dhs, dhl, variant, act=act, acc=1.5)
    want = fd_grads(p, dhs, dhl, act=act)
    for k in want:
        assert_close(got[k], want[k], "recurrent")


@pytest.mark.parametrize("variant", VARIANTS)
def test_mask(isa, rng, variant):
    N, T, F, U = 3, 5, 2, 4
    p = make(rng, N, T, F, U)
    mask = np.ones((N, T), np.int32)
    mask[0, 1:3] = 0
    mask[2, 0] = 0
    h_seq, h_last = run_forward(p, variant, mask=mask)
    hs, h = ref_rnn(p["x"], p["h0"], p["W"], p["Wh"], p["b"], mask)
    assert_close(h_seq.numpy(), hs, "recurrent")
    dhs, dhl = rng.standard_normal((N, T, U)).astype(np.float32), rng.standard_normal((N, U)).astype(np.float32)
    got = run_backward(p, h_seq, dhs, dhl, variant, mask=mask)
    want = fd_grads(p, dhs, dhl, mask=mask)
    for k in want:
        assert_close(got[k], want[k], "recurrent")


@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("N,T,F,U", [(3, 500, 4, 6), (64, 4, 9, 160), (70, 3, 5, 130)])
def test_fused_matches_naive_on_larger_shapes(isa, rng, N, T, F, U, masked):
    """500 steps, and N*U large enough for the threaded time loop (130 units split 80 + 50)."""
    p = make(rng, N, T, F, U, scale=0.3)
    dhs, dhl = rng.standard_normal((N, T, U)).astype(np.float32), rng.standard_normal((N, U)).astype(np.float32)
    mask = (rng.uniform(size=(N, T)) > 0.3).astype(np.float32) if masked else None
    hs, h = ref_rnn(p["x"], p["h0"], p["W"], p["Wh"], p["b"], mask)
    grads = {}
    for v in ("naive", "fused"):
        h_seq, h_last = run_forward(p, v, mask=mask)
        assert_close(h_seq.numpy(), hs, "recurrent")
        grads[v] = run_backward(p, h_seq, dhs, None, v, mask=mask)
    for k in grads["naive"]:
        assert_close(grads["fused"][k], grads["naive"][k].astype(np.float64), "recurrent")


def test_against_torch(rng):
    torch = pytest.importorskip("torch")
    N, T, F, U = 2, 5, 3, 4
    p = make(rng, N, T, F, U)
    rnn = torch.nn.RNN(F, U, batch_first=True).double()
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(torch.from_numpy(p["W"].T.astype(np.float64)))
        rnn.weight_hh_l0.copy_(torch.from_numpy(p["Wh"].T.astype(np.float64)))
        rnn.bias_ih_l0.copy_(torch.from_numpy(p["b"].astype(np.float64)))
        rnn.bias_hh_l0.zero_()
    x = torch.from_numpy(p["x"].astype(np.float64)).requires_grad_()
    out, hn = rnn(x, torch.from_numpy(p["h0"][None].astype(np.float64)))
    dhs = rng.standard_normal((N, T, U))
    (out * torch.from_numpy(dhs)).sum().backward()
    h_seq, _ = run_forward(p)
    assert_close(h_seq.numpy(), out.detach().numpy(), "recurrent")
    got = run_backward(p, h_seq, dhs.astype(np.float32), None)
    assert_close(got["x"], x.grad.numpy(), "recurrent")
    assert_close(got["Wh"], rnn.weight_hh_l0.grad.numpy().T, "recurrent")


def test_ops_and_bad_input(rng):
    p = make(rng, 2, 3, 4, 5)
    h_seq, h_last = ops.rnn_forward(p["x"], None, p["W"], p["Wh"], p["b"])
    assert_close(h_seq, ref_rnn(p["x"], np.zeros((2, 5)), p["W"], p["Wh"], p["b"])[0], "recurrent")
    dW, dWh = nk.zeros((4, 5)), nk.zeros((5, 5))
    dx, dh0 = ops.rnn_backward(dW, dWh, None, h_seq, None, h_seq, p["x"], None, p["W"], p["Wh"])
    assert dx.shape == (2, 3, 4) and dh0.shape == (2, 5)
    with pytest.raises(ValueError, match="rank 3"):
        ops.rnn_forward(p["x"][0], None, p["W"], p["Wh"])
    with pytest.raises(ValueError, match="0 timesteps"):
        ops.rnn_forward(np.zeros((2, 0, 4), np.float32), None, p["W"], p["Wh"])
    with pytest.raises(ValueError, match="initial state h0"):
        ops.rnn_forward(p["x"], np.zeros((2, 4), np.float32), p["W"], p["Wh"])
    with pytest.raises(ValueError, match="recurrent_kernel"):
        ops.rnn_forward(p["x"], None, p["W"], p["Wh"][:, :4])
    with pytest.raises(ValueError, match="unknown rnn variant"):
        ops.rnn_forward(p["x"], None, p["W"], p["Wh"], variant="x")
    with pytest.raises(ValueError, match="'tanh', 'sigmoid', 'relu', 'linear'"):
        ops.rnn_forward(p["x"], None, p["W"], p["Wh"], activation="elu")
