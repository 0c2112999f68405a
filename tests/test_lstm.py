"""LSTM kernels (csrc/cpu/lstm.cpp): every variant on every ISA vs a float64 NumPy step-by-step
reference; backward vs central finite differences of that reference for every weight, the inputs and
both initial states; masks; long sequences; torch.nn.LSTM; bad input.

Kernel convention checked here: dx, dh0, dc0 are OVERWRITTEN (pre-filled with NaN); dkernel,
drecurrent_kernel, dbias ACCUMULATE (pre-filled with a known value that must survive as an offset).
"""
import numpy as np
import pytest

import neurokern as nk
from neurokern import _core, ops

from _gradcheck import numeric_grad
from conftest import assert_close, nan_tensor

VARIANTS = [v[0] for v in _core.lstm_variants()]
ACTS = {"tanh": np.tanh, "sigmoid": lambda z: 1.0 / (1.0 + np.exp(-z)), "relu": lambda z: np.maximum(z, 0.0),
        "linear": lambda z: z}


def ref_lstm(x, h0, c0, W, Wh, b, mask=None, act="tanh", ract="sigmoid"):
    """float64 Keras LSTM, one step at a time: (h_seq, h_last, c_last)."""
    a, ra = ACTS[act], ACTS[ract]
    x, h, c = (np.asarray(v, np.float64) for v in (x, h0, c0))
    W, Wh, b = (np.asarray(v, np.float64) for v in (W, Wh, b))
    N, T, _ = x.shape
    U = Wh.shape[0]
    hs = np.zeros((N, T, U))
    for t in range(T):
        z = x[:, t] @ W + h @ Wh + b
        i, f, g, o = ra(z[:, :U]), ra(z[:, U:2 * U]), a(z[:, 2 * U:3 * U]), ra(z[:, 3 * U:])
        cn = f * c + i * g
        hn = o * a(cn)
        if mask is not None:
            m = (mask[:, t] != 0)[:, None]
            cn, hn = np.where(m, cn, c), np.where(m, hn, h)
        h, c = hn, cn
        hs[:, t] = h
    return hs, h, c


def make(rng, N, T, F, U, scale=0.5):
    f32 = lambda *s: rng.uniform(-scale, scale, s).astype(np.float32)  # noqa: E731
    return dict(x=f32(N, T, F), h0=f32(N, U), c0=f32(N, U), W=f32(F, 4 * U), Wh=f32(U, 4 * U), b=f32(4 * U))


def run_forward(p, variant="auto", mask=None, act="tanh", ract="sigmoid", bias=True):
    N, T, _ = p["x"].shape
    U = p["Wh"].shape[0]
    outs = [nan_tensor(s) for s in ((N, T, U), (N, U), (N, U), (N, T, 4 * U), (N, T, U))]
    t = {k: nk.tensor(v) for k, v in p.items()}
    _core.lstm_forward(*outs, t["x"], t["h0"], t["c0"], None if mask is None else nk.tensor(mask), t["W"], t["Wh"],
                       t["b"] if bias else None, act, ract, variant)
    return outs


def run_backward(p, fwd, dh_seq, dh_last, dc_last, variant="auto", mask=None, act="tanh", ract="sigmoid",
                 acc=0.0, need_dx=True):
    N, T, F = p["x"].shape
    U = p["Wh"].shape[0]
    dx = nan_tensor((N, T, F)) if need_dx else None
    dh0, dc0 = nan_tensor((N, U)), nan_tensor((N, U))
    dW, dWh, db = (nk.tensor(np.full(s, acc, np.float32)) for s in ((F, 4 * U), (U, 4 * U), (4 * U,)))
    t = {k: nk.tensor(v) for k, v in p.items()}
    h_seq, _, _, gates, c_seq = fwd
    opt = lambda a: None if a is None else nk.tensor(a)  # noqa: E731
    _core.lstm_backward(dx, dh0, dc0, dW, dWh, db, opt(dh_seq), opt(dh_last), opt(dc_last), gates, c_seq, h_seq,
                        t["x"], t["h0"], t["c0"], opt(mask), t["W"], t["Wh"], act, ract, variant)
    return dict(x=None if dx is None else dx.numpy(), h0=dh0.numpy(), c0=dc0.numpy(), W=dW.numpy() - acc,
                Wh=dWh.numpy() - acc, b=db.numpy() - acc)


def fd_grads(p, dh_seq, dh_last, dc_last, mask=None, act="tanh", ract="sigmoid"):
    """d(sum(h_seq*dh_seq) + sum(h_last*dh_last) + sum(c_last*dc_last)) / d(each input), float64."""
    def loss(name):
        def f(v):
            q = dict(p)
            q[name] = v
            hs, h, c = ref_lstm(q["x"], q["h0"], q["c0"], q["W"], q["Wh"], q["b"], mask, act, ract)
            return np.sum(hs * dh_seq) + np.sum(h * dh_last) + np.sum(c * dc_last)
        return f
    return {k: numeric_grad(loss(k), p[k]) for k in p}


def upstream(rng, N, T, U):
    return (rng.standard_normal((N, T, U)).astype(np.float32), rng.standard_normal((N, U)).astype(np.float32),
            rng.standard_normal((N, U)).astype(np.float32))


def test_registry():
    assert VARIANTS[0] == "naive" and "fused" in VARIANTS
    assert ops.lstm_variants() == [tuple(v) for v in _core.lstm_variants()]


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("N,T,F,U", [(1, 1, 1, 1), (3, 7, 5, 4), (2, 9, 7, 17), (5, 4, 33, 16), (7, 3, 2, 33)])
def test_forward_matches_reference(isa, rng, variant, N, T, F, U):
    p = make(rng, N, T, F, U)
    h_seq, h_last, c_last, gates, c_seq = run_forward(p, variant)
    hs, h, c = ref_lstm(p["x"], p["h0"], p["c0"], p["W"], p["Wh"], p["b"])
    assert_close(h_seq.numpy(), hs, "recurrent")
    assert_close(h_last.numpy(), h, "recurrent")
    assert_close(c_last.numpy(), c, "recurrent")
    assert_close(gates.numpy()[:, :, :U], gates.numpy()[:, :, :U], "recurrent")  # written (no NaN)
    assert np.all((gates.numpy()[:, :, :2 * U] > 0) & (gates.numpy()[:, :, :2 * U] < 1)), "i, f are sigmoids"


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("act,ract", [("tanh", "sigmoid"), ("relu", "sigmoid"), ("tanh", "linear"),
                                      ("sigmoid", "tanh")])
def test_activations(rng, variant, act, ract):
    p = make(rng, 3, 5, 4, 6)
    h_seq, h_last, c_last, _, _ = run_forward(p, variant, act=act, ract=ract)
    hs, h, c = ref_lstm(p["x"], p["h0"], p["c0"], p["W"], p["Wh"], p["b"], act=act, ract=ract)
    assert_close(h_seq.numpy(), hs, "recurrent")
    assert_close(c_last.numpy(), c, "recurrent")


def test_no_bias(rng):
    p = make(rng, 2, 4, 3, 5)
    h_seq = run_forward(p, bias=False)[0]
    hs = ref_lstm(p["x"], p["h0"], p["c0"], p["W"], p["Wh"], np.zeros(20))[0]
    assert_close(h_seq.numpy(), hs, "recurrent")


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("N,T,F,U", [(1, 1, 1, 1), (2, 3, 3, 2), (3, 4, 2, 3)])
@pytest.mark.parametrize("act,ract", [("tanh", "sigmoid"), ("relu", "sigmoid")])
def test_backward_matches_finite_differences(isa, rng, variant, N, T, F, U, act, ract):
    p = make(rng, N, T, F, U)
    dhs, dhl, dcl = upstream(rng, N, T, U)
    fwd = run_forward(p, variant, act=act, ract=ract)
    got = run_backward(p, fwd, dhs, dhl, dcl, variant, act=act, ract=ract, acc=0.75)
    want = fd_grads(p, dhs, dhl, dcl, act=act, ract=ract)
    for k in ("x", "h0", "c0", "W", "Wh", "b"):
        assert_close(got[k], want[k], "recurrent")


@pytest.mark.parametrize("variant", VARIANTS)
def test_backward_with_partial_upstream(rng, variant):
    """dh_seq / dh_last / dc_last may each be None (zero): e.g. return_sequences=False."""
    N, T, F, U = 2, 3, 2, 3
    p = make(rng, N, T, F, U)
    _, dhl, _ = upstream(rng, N, T, U)
    got = run_backward(p, run_forward(p, variant), None, dhl, None, variant)
    want = fd_grads(p, np.zeros((N, T, U)), dhl, np.zeros((N, U)))
    for k in want:
        assert_close(got[k], want[k], "recurrent")


@pytest.mark.parametrize("variant", VARIANTS)
def test_mask_carries_state(isa, rng, variant):
    N, T, F, U = 3, 6, 2, 3
    p = make(rng, N, T, F, U)
    mask = np.ones((N, T), np.float32)
    mask[0, 2:4] = 0
    mask[1, 0] = 0
    mask[2, 5] = 0
    h_seq, h_last, c_last, _, _ = run_forward(p, variant, mask=mask)
    hs, h, c = ref_lstm(p["x"], p["h0"], p["c0"], p["W"], p["Wh"], p["b"], mask)
    assert_close(h_seq.numpy(), hs, "recurrent")
    assert_close(c_last.numpy(), c, "recurrent")
    np.testing.assert_array_equal(h_seq.numpy()[0, 2], h_seq.numpy()[0, 1])  # carried exactly
    dhs, dhl, dcl = upstream(rng, N, T, U)
    got = run_backward(p, (h_seq, h_last, c_last) + tuple(run_forward(p, variant, mask=mask)[3:]), dhs, dhl, dcl,
                       variant, mask=mask)
    want = fd_grads(p, dhs, dhl, dcl, mask=mask)
    for k in want:
        assert_close(got[k], want[k], "recurrent")


@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("N,T,F,U", [(4, 33, 7, 17), (2, 500, 3, 5), (64, 3, 9, 40), (64, 4, 9, 80)])
def test_fused_matches_naive_on_larger_shapes(isa, rng, N, T, F, U, masked):
    """Long sequences (500 steps), and N*U large enough for the threaded time loop (the last shape
    splits 80 units unevenly, 48 + 32, over 2 threads)."""
    p = make(rng, N, T, F, U, scale=0.3)
    dhs, dhl, dcl = upstream(rng, N, T, U)
    mask = (rng.uniform(size=(N, T)) > 0.3).astype(np.float32) if masked else None
    res = {}
    for v in ("naive", "fused"):
        fwd = run_forward(p, v, mask=mask)
        res[v] = ([o.numpy() for o in fwd[:3]], run_backward(p, fwd, dhs, dhl, dcl, v, mask=mask, acc=-2.0))
    hs, h, c = ref_lstm(p["x"], p["h0"], p["c0"], p["W"], p["Wh"], p["b"], mask)
    for got, want in zip(res["fused"][0], (hs, h, c)):
        assert_close(got, want, "recurrent")
    for k in res["naive"][1]:
        assert_close(res["fused"][1][k], res["naive"][1][k].astype(np.float64), "recurrent")


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("N,T,F,U", [(3, 7, 5, 4), (64, 4, 9, 80)])
def test_inference_forward_saves_no_gates(isa, rng, variant, masked, N, T, F, U):
    """gates=None (inference) gives bit-identical h_seq, h_last, c_last, c_seq to the saving forward."""
    p = make(rng, N, T, F, U)
    mask = (rng.uniform(size=(N, T)) > 0.3).astype(np.float32) if masked else None
    saved = [o.numpy() for o in run_forward(p, variant, mask=mask)]
    outs = [nan_tensor(s) for s in ((N, T, U), (N, U), (N, U), (N, T, U))]
    t = {k: nk.tensor(v) for k, v in p.items()}
    _core.lstm_forward(outs[0], outs[1], outs[2], None, outs[3], t["x"], t["h0"], t["c0"],
                       None if mask is None else nk.tensor(mask), t["W"], t["Wh"], t["b"], "tanh", "sigmoid",
                       variant)
    for got, want in zip(outs, saved[:3] + saved[4:]):
        np.testing.assert_array_equal(got.numpy(), want)
    r = ops.lstm_forward(p["x"], p["h0"], p["c0"], p["W"], p["Wh"], p["b"], mask=mask, variant=variant,
                         training=False)
    assert r[3] is None
    np.testing.assert_array_equal(r[0], saved[0])


def test_layer_backward_after_inference_forward_raises(rng):
    layer = nk.layers.LSTM(3)
    layer.build((2, 4, 5))
    for w in layer.weights:
        w.grad = nk.zeros(w.shape)
    x = nk.tensor(rng.uniform(-1, 1, (2, 4, 5)).astype(np.float32))
    y, ctx = layer.forward(x, False)
    with pytest.raises(RuntimeError, match="training=True"):
        layer.backward(ctx, nk.tensor(np.ones((2, 3), np.float32)))


def test_backward_need_dx_false_skips_dx(rng):
    p = make(rng, 2, 3, 4, 5)
    dhs, dhl, dcl = upstream(rng, 2, 3, 5)
    fwd = run_forward(p)
    a = run_backward(p, fwd, dhs, dhl, dcl, need_dx=False)
    b = run_backward(p, fwd, dhs, dhl, dcl)
    assert a["x"] is None
    for k in ("W", "Wh", "b", "h0", "c0"):
        np.testing.assert_array_equal(a[k], b[k])


def test_ops_wrappers_numpy_in_numpy_out(rng):
    p = make(rng, 2, 5, 3, 4)
    h_seq, h_last, c_last, gates, c_seq = ops.lstm_forward(p["x"], p["h0"], p["c0"], p["W"], p["Wh"], p["b"])
    assert isinstance(h_seq, np.ndarray) and gates.shape == (2, 5, 16) and c_seq.shape == (2, 5, 4)
    hs, h, c = ref_lstm(p["x"], p["h0"], p["c0"], p["W"], p["Wh"], p["b"])
    assert_close(h_seq, hs, "recurrent")
    # None initial states are zeros
    z = np.zeros((2, 4), np.float32)
    assert_close(ops.lstm_forward(p["x"], None, None, p["W"], p["Wh"], p["b"])[0],
                 ref_lstm(p["x"], z, z, p["W"], p["Wh"], p["b"])[0], "recurrent")
    dW, dWh, db = nk.zeros((3, 16)), nk.zeros((4, 16)), nk.zeros((16,))
    dx, dh0, dc0 = ops.lstm_backward(dW, dWh, db, None, np.ones((2, 4), np.float32), None, gates, c_seq, h_seq,
                                     p["x"], p["h0"], p["c0"], p["W"], p["Wh"])
    want = fd_grads(p, np.zeros((2, 5, 4)), np.ones((2, 4)), np.zeros((2, 4)))
    assert_close(dx, want["x"], "recurrent")
    assert_close(dW.numpy(), want["W"], "recurrent")
    assert_close(dc0, want["c0"], "recurrent")


def test_against_torch(rng):
    torch = pytest.importorskip("torch")
    N, T, F, U = 3, 6, 5, 4
    p = make(rng, N, T, F, U)
    lstm = torch.nn.LSTM(F, U, batch_first=True).double()
    with torch.no_grad():
        # Keras kernel (F, 4U) -> torch weight_ih (4U, F); gate order i, f, g, o is the same
        lstm.weight_ih_l0.copy_(torch.from_numpy(p["W"].T.astype(np.float64)))
        lstm.weight_hh_l0.copy_(torch.from_numpy(p["Wh"].T.astype(np.float64)))
        lstm.bias_ih_l0.copy_(torch.from_numpy(p["b"].astype(np.float64)))
        lstm.bias_hh_l0.zero_()
    x = torch.from_numpy(p["x"].astype(np.float64)).requires_grad_()
    h0 = torch.from_numpy(p["h0"][None].astype(np.float64)).requires_grad_()
    c0 = torch.from_numpy(p["c0"][None].astype(np.float64)).requires_grad_()
    out, (hn, cn) = lstm(x, (h0, c0))
    dhs, dhl, dcl = upstream(rng, N, T, U)
    loss = (out * torch.from_numpy(dhs.astype(np.float64))).sum() + (hn[0] * torch.from_numpy(
        dhl.astype(np.float64))).sum() + (cn[0] * torch.from_numpy(dcl.astype(np.float64))).sum()
    loss.backward()
    fwd = run_forward(p)
    assert_close(fwd[0].numpy(), out.detach().numpy(), "recurrent")
    assert_close(fwd[2].numpy(), cn[0].detach().numpy(), "recurrent")
    got = run_backward(p, fwd, dhs, dhl, dcl)
    assert_close(got["x"], x.grad.numpy(), "recurrent")
    assert_close(got["h0"], h0.grad[0].numpy(), "recurrent")
    assert_close(got["c0"], c0.grad[0].numpy(), "recurrent")
    assert_close(got["W"], lstm.weight_ih_l0.grad.numpy().T, "recurrent")
    assert_close(got["Wh"], lstm.weight_hh_l0.grad.numpy().T, "recurrent")
    assert_close(got["b"], lstm.bias_ih_l0.grad.numpy(), "recurrent")


# ---- bad input -------------------------------------------------------------------------------------
def test_bad_input(rng):
    p = make(rng, 2, 3, 4, 5)
    with pytest.raises(ValueError, match="rank 3"):
        ops.lstm_forward(p["x"][0], None, None, p["W"], p["Wh"])
    with pytest.raises(ValueError, match="0 timesteps"):
        ops.lstm_forward(np.zeros((2, 0, 4), np.float32), None, None, p["W"], p["Wh"])
    with pytest.raises(ValueError, match="initial state h0"):
        ops.lstm_forward(p["x"], np.zeros((3, 5), np.float32), None, p["W"], p["Wh"])
    with pytest.raises(ValueError, match="initial state c0"):
        ops.lstm_forward(p["x"], None, np.zeros((2, 4), np.float32), p["W"], p["Wh"])
    with pytest.raises(ValueError, match="kernel must have shape"):
        ops.lstm_forward(p["x"], None, None, p["W"][:3], p["Wh"])
    with pytest.raises(ValueError, match="recurrent_kernel"):
        ops.lstm_forward(p["x"], None, None, p["W"], p["Wh"][:4])
    with pytest.raises(ValueError, match="bias"):
        ops.lstm_forward(p["x"], None, None, p["W"], p["Wh"], p["b"][:7])
    with pytest.raises(ValueError, match="mask must have shape"):
        ops.lstm_forward(p["x"], None, None, p["W"], p["Wh"], mask=np.ones((2, 4), np.float32))
    with pytest.raises(ValueError, match="'tanh', 'sigmoid', 'relu', 'linear'"):
        ops.lstm_forward(p["x"], None, None, p["W"], p["Wh"], activation="softplus")
    with pytest.raises(ValueError, match="Unknown activation"):
        ops.lstm_forward(p["x"], None, None, p["W"], p["Wh"], recurrent_activation="nope")
    with pytest.raises(ValueError, match="unknown lstm variant"):
        ops.lstm_forward(p["x"], None, None, p["W"], p["Wh"], variant="fast")
    with pytest.raises(TypeError, match="x"):
        ops.lstm_forward(nk.tensor(p["x"].astype(np.int32)), None, None, p["W"], p["Wh"])
    fwd = run_forward(p)
    buf = np.zeros((4, 20), np.float32)
    dW, db_alias = nk.tensor(buf), nk.tensor(buf[1])  # dbias would be a row of dkernel
    with pytest.raises(ValueError, match="dkernel"):
        ops.lstm_backward(nk.zeros((4, 21)), nk.zeros((5, 20)), None, None, None, None, fwd[3], fwd[4], fwd[0],
                          p["x"], p["h0"], p["c0"], p["W"], p["Wh"])
    with pytest.raises(ValueError, match="share memory"):
        ops.lstm_backward(dW, nk.zeros((5, 20)), db_alias, None, None, None, fwd[3], fwd[4], fwd[0],
                          p["x"], p["h0"], p["c0"], p["W"], p["Wh"])
