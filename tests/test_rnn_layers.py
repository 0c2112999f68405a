"""Layers LSTM, SimpleRNN, Embedding, TimeDistributed: outputs vs the float64 references of
test_lstm / test_rnn, gradients by float32 finite differences through the layer API, Keras
initialisation rules, config round trips, parameter counts, models, and bad input."""
import numpy as np
import pytest

import neurokern as nk
from neurokern import initializers, layers, models, optimizers

from _gradcheck import numeric_grad
from conftest import assert_close
from test_lstm import ref_lstm
from test_rnn import ref_rnn


def set_grads(layer):
    for w in layer.weights:
        w.grad = nk.zeros(w.shape)


def layer_fd_check(layer, x, rng, forward_kwargs=None):
    """Backward of `layer` (dx and every weight grad) vs float32 central differences of sum(y * dy)."""
    forward_kwargs = forward_kwargs or {}
    y, ctx = layer.forward(nk.tensor(x), True, **forward_kwargs)
    dy = rng.standard_normal(tuple(y.shape)).astype(np.float32)
    set_grads(layer)
    dx = layer.backward(ctx, nk.tensor(dy))

    def loss_x(v):
        return np.sum(layer.forward(nk.tensor(v.astype(np.float32)), True, **forward_kwargs)[0].numpy() * dy)
    assert_close(dx.numpy(), numeric_grad(loss_x, x, h=1e-2), "grad_fd32")
    for w in layer.weights:
        orig = w.numpy()

        def loss_w(v, w=w):
            w.assign(v)
            return np.sum(layer.forward(nk.tensor(x), True, **forward_kwargs)[0].numpy() * dy)
        want = numeric_grad(loss_w, orig, h=1e-2)
        w.assign(orig)
        assert_close(w.grad.numpy(), want, "grad_fd32")


# ---- LSTM ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("return_sequences", [False, True])
def test_lstm_layer_matches_reference(rng, return_sequences):
    x = rng.uniform(-1, 1, (4, 6, 3)).astype(np.float32)
    lstm = layers.LSTM(5, return_sequences=return_sequences)
    y = lstm(x)
    W, Wh, b = lstm.get_weights()
    z = np.zeros((4, 5))
    hs, h, _ = ref_lstm(x, z, z, W, Wh, b)
    assert_close(y, hs if return_sequences else h, "recurrent")
    assert lstm.compute_output_shape((None, 6, 3)) == ((None, 6, 5) if return_sequences else (None, 5))


def test_lstm_keras_initialisation():
    lstm = layers.LSTM(4, bias_initializer="zeros")
    lstm.build((None, 3, 7))
    W, Wh, b = lstm.get_weights()
    assert W.shape == (7, 16) and Wh.shape == (4, 16) and b.shape == (16,)
    np.testing.assert_array_equal(b, np.r_[np.zeros(4), np.ones(4), np.zeros(8)])  # unit_forget_bias
    assert_close(Wh @ Wh.T, np.eye(4), "gemm")  # orthogonal rows (u < 4u)
    lstm2 = layers.LSTM(4, unit_forget_bias=False)
    lstm2.build((None, 3, 7))
    np.testing.assert_array_equal(lstm2.get_weights()[2], np.zeros(16))


def test_orthogonal_initializer():
    q = initializers.get("orthogonal")((6, 4))
    assert q.dtype == np.float32 and q.shape == (6, 4)
    assert_close(q.T @ q, np.eye(4), "gemm")
    q = initializers.Orthogonal(gain=2.0, seed=3)((3, 5))
    assert_close(q @ q.T, 4 * np.eye(3), "gemm")
    np.testing.assert_array_equal(q, initializers.Orthogonal(gain=2.0, seed=3)((3, 5)))
    assert initializers.deserialize(initializers.serialize(initializers.Orthogonal(1.5, 7))).gain == 1.5


@pytest.mark.parametrize("return_sequences", [False, True])
def test_lstm_layer_gradients(rng, return_sequences):
    lstm = layers.LSTM(3, return_sequences=return_sequences)
    x = rng.uniform(-1, 1, (2, 4, 3)).astype(np.float32)
    lstm(x)
    layer_fd_check(lstm, x, rng)


def test_lstm_return_state_and_initial_state(rng):
    x = rng.uniform(-1, 1, (3, 5, 2)).astype(np.float32)
    h0, c0 = rng.uniform(-1, 1, (3, 4)).astype(np.float32), rng.uniform(-1, 1, (3, 4)).astype(np.float32)
    lstm = layers.LSTM(4, return_sequences=True, return_state=True)
    out, h, c = lstm(x, initial_state=[h0, c0])
    W, Wh, b = lstm.get_weights()
    hs, hl, cl = ref_lstm(x, h0, c0, W, Wh, b)
    assert_close(out, hs, "recurrent")
    assert_close(h, hl, "recurrent")
    assert_close(c, cl, "recurrent")
    assert lstm.compute_output_shape((None, 5, 2)) == [(None, 5, 4), (None, 4), (None, 4)]
    # backward with [d_out, d_h, d_c] (d_h None)
    y, ctx = lstm.forward(nk.tensor(x), True, initial_state=[h0, c0])
    set_grads(lstm)
    dx = lstm.backward(ctx, [nk.tensor(np.ones((3, 5, 4), np.float32)), None, nk.tensor(np.ones((3, 4), np.float32))])
    assert dx.shape == (3, 5, 2) and np.all(np.isfinite(dx.numpy()))
    with pytest.raises(ValueError, match="initial state must have shape"):
        lstm(x, initial_state=[h0[:2], c0])
    with pytest.raises(ValueError, match="expects 2 initial state"):
        lstm(x, initial_state=[h0])


@pytest.mark.parametrize("cell", ["LSTM", "SimpleRNN"])
def test_return_state_and_initial_state_in_a_functional_graph(rng, cell):
    """Encoder-decoder: `out, *states = Cell(u, return_state=True)(x)`, then a decoder started from those
    states. Outputs equal the direct calls; gradients of every weight and both inputs (through the
    states into the encoder) match float32 finite differences of the whole model."""
    Cell, n_states = getattr(layers, cell), (2 if cell == "LSTM" else 1)
    enc_in, dec_in = layers.Input((5, 3)), layers.Input((4, 2))
    encoder = Cell(4, return_state=True, name="encoder")
    enc_out, *states = encoder(enc_in)
    assert [s.shape for s in [enc_out] + states] == [(None, 4)] * (1 + n_states)
    decoder = Cell(4, return_sequences=True, name="decoder")
    dec_seq = decoder(dec_in, initial_state=states)
    out = layers.TimeDistributed(layers.Dense(1), name="head")(dec_seq)
    model = models.Model([enc_in, dec_in], out)
    lines = []
    model.summary(print_fn=lines.append)
    row = next(i for i, line in enumerate(lines) if line.startswith(" decoder"))
    assert [lines[row + 1 + k].split()[-1] for k in range(n_states)] == [f"encoder[0][{k + 1}]"
                                                                         for k in range(n_states)]

    xe = rng.uniform(-1, 1, (3, 5, 3)).astype(np.float32)
    xd = rng.uniform(-1, 1, (3, 4, 2)).astype(np.float32)
    got = model.predict([xe, xd], verbose=0)
    _, *s = encoder(xe)
    want = model.layers[-1](decoder(xd, initial_state=s))
    assert_close(got, want, "recurrent")

    y, ctx = model.forward([nk.tensor(xe), nk.tensor(xd)], training=True)
    dy = rng.standard_normal(tuple(y.shape)).astype(np.float32)
    for w in model.weights:
        w.grad = nk.zeros(w.shape)
    dxe, dxd = model.backward(ctx, nk.tensor(dy), need_dx=True)

    def loss(xe, xd):
        return np.sum(model.forward([nk.tensor(xe.astype(np.float32)), nk.tensor(xd.astype(np.float32))],
                                    training=False)[0].numpy() * dy)
    assert_close(dxe.numpy(), numeric_grad(lambda v: loss(v, xd), xe, h=1e-2), "grad_fd32")
    assert_close(dxd.numpy(), numeric_grad(lambda v: loss(xe, v), xd, h=1e-2), "grad_fd32")
    for w in encoder.weights:  # the encoder learns only through the decoder's initial states
        orig = w.numpy()

        def loss_w(v, w=w):
            w.assign(v)
            return loss(xe, xd)
        want = numeric_grad(loss_w, orig, h=1e-2)
        w.assign(orig)
        assert np.abs(want).max() > 1e-3
        assert_close(w.grad.numpy(), want, "grad_fd32")

    # Keras 2's list form builds the same node; the graph survives a config round trip
    again = decoder([dec_in] + states)
    assert again.shape == dec_seq.shape
    clone = models.Model.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    assert_close(clone.predict([xe, xd], verbose=0), got, "recurrent")


def test_initial_state_errors_in_a_functional_graph():
    x = layers.Input((5, 3))
    _, h, c = layers.LSTM(4, return_state=True)(x)
    with pytest.raises(ValueError, match="expects 2 initial state"):
        layers.LSTM(4)(x, initial_state=[h])
    with pytest.raises(ValueError, match=r"initial state must have shape \(batch, units\) = \(None, 6\)"):
        layers.LSTM(6)(x, initial_state=[h, c])
    with pytest.raises(TypeError, match="must be symbolic tensors"):
        layers.LSTM(4)(x, initial_state=[h, np.zeros((1, 4), np.float32)])
    with pytest.raises(TypeError, match="mask= is for calls on data"):
        layers.LSTM(4)(x, mask=np.ones((1, 5), np.float32))
    with pytest.raises(ValueError, match="one input tensor|Sequential|single"):
        models.Sequential([layers.Input((5, 3)), layers.LSTM(4, return_state=True), layers.Dense(1)])


def test_lstm_with_embedding_mask(rng):
    idx = np.array([[3, 1, 0, 0], [2, 0, 4, 1]], np.int32)
    emb = layers.Embedding(5, 3, mask_zero=True)
    lstm = layers.LSTM(4, return_sequences=True)
    e = emb(idx)
    m = emb.compute_mask(idx)
    np.testing.assert_array_equal(m, idx != 0)
    y = lstm(e, mask=m)
    W, Wh, b = lstm.get_weights()
    z = np.zeros((2, 4))
    assert_close(y, ref_lstm(e, z, z, W, Wh, b, mask=m)[0], "recurrent")
    np.testing.assert_array_equal(y[0, 3], y[0, 1])  # state carried over the padding
    layer_fd_check(lstm, e, rng, {"mask": m})


def test_lstm_long_sequence(rng):
    x = rng.uniform(-1, 1, (2, 500, 3)).astype(np.float32)
    lstm = layers.LSTM(6)
    y = lstm(x)
    W, Wh, b = lstm.get_weights()
    z = np.zeros((2, 6))
    assert_close(y, ref_lstm(x, z, z, W, Wh, b)[1], "recurrent")


def test_lstm_config_round_trip():
    lstm = layers.LSTM(7, activation="relu", recurrent_activation="sigmoid", return_sequences=True,
                       unit_forget_bias=False, use_bias=False, name="enc", input_shape=(10, 3))
    cfg = lstm.get_config()
    again = layers.LSTM.from_config(cfg)
    assert again.get_config() == cfg
    assert cfg["units"] == 7 and cfg["activation"] == "relu" and cfg["return_sequences"] is True
    again2 = layers.deserialize(layers.serialize(lstm))
    assert isinstance(again2, layers.LSTM) and again2.get_config() == cfg


def test_lstm_bad_arguments(rng):
    with pytest.raises(ValueError, match="units=0"):
        layers.LSTM(0)
    with pytest.raises(ValueError, match="activation=.*softmax"):
        layers.LSTM(3, activation="softmax")
    with pytest.raises(ValueError, match="go_backwards"):
        layers.LSTM(3, go_backwards=True)
    lstm = layers.LSTM(3)
    with pytest.raises(ValueError, match="expected ndim=3"):
        lstm(np.zeros((2, 3), np.float32))
    with pytest.raises(ValueError, match="0 timesteps"):
        layers.LSTM(3)(np.zeros((2, 0, 4), np.float32))
    lstm(np.zeros((2, 3, 4), np.float32))
    with pytest.raises(ValueError, match="expected axis -1"):
        lstm(np.zeros((2, 3, 5), np.float32))


# ---- SimpleRNN -------------------------------------------------------------------------------------
@pytest.mark.parametrize("return_sequences", [False, True])
def test_simple_rnn_layer(rng, return_sequences):
    x = rng.uniform(-1, 1, (3, 5, 2)).astype(np.float32)
    rnn = layers.SimpleRNN(4, return_sequences=return_sequences)
    y = rnn(x)
    W, Wh, b = rnn.get_weights()
    assert W.shape == (2, 4) and Wh.shape == (4, 4) and b.shape == (4,)
    hs, h = ref_rnn(x, np.zeros((3, 4)), W, Wh, b)
    assert_close(y, hs if return_sequences else h, "recurrent")
    layer_fd_check(rnn, x, rng)
    out, st = layers.SimpleRNN(4, return_state=True)(x)
    assert out.shape == (3, 4) and st.shape == (3, 4)
    np.testing.assert_array_equal(out, st)
    cfg = rnn.get_config()
    assert layers.SimpleRNN.from_config(cfg).get_config() == cfg


# ---- Embedding ---------------------------------------------------------------------------------
def test_embedding_layer(rng):
    emb = layers.Embedding(10, 4)
    idx = rng.integers(0, 10, (3, 5))
    y = emb(idx)
    E = emb.get_weights()[0]
    assert E.shape == (10, 4) and np.all(np.abs(E) <= 0.05)  # 'uniform' = RandomUniform(-0.05, 0.05)
    np.testing.assert_array_equal(y, E[idx])
    np.testing.assert_array_equal(emb(idx.astype(np.float32)), E[idx])  # what a model feeds
    y, ctx = emb.forward(nk.tensor(idx.astype(np.float32)))
    set_grads(emb)
    dy = rng.standard_normal((3, 5, 4)).astype(np.float32)
    assert emb.backward(ctx, nk.tensor(dy)) is None
    want = np.zeros((10, 4))
    np.add.at(want, idx.reshape(-1), dy.reshape(-1, 4))
    assert_close(emb.embeddings.grad.numpy(), want, "reduce")
    cfg = emb.get_config()
    assert layers.Embedding.from_config(cfg).get_config() == cfg
    assert emb.compute_mask(idx) is None


def test_embedding_bad_input():
    emb = layers.Embedding(5, 2)
    with pytest.raises(IndexError, match="index 5 at flat position 1"):
        emb(np.array([[1, 5]]))
    with pytest.raises(IndexError, match="index -2 at flat position 0"):
        emb(np.array([[-2, 1]]))
    with pytest.raises(ValueError, match="must be integers; found 1.5"):
        emb(np.array([[1.5, 1.0]], np.float32))
    with pytest.raises(ValueError, match="input_dim=0"):
        layers.Embedding(0, 3)


# ---- TimeDistributed ---------------------------------------------------------------------------
def test_time_distributed_dense(rng):
    x = rng.uniform(-1, 1, (3, 4, 5)).astype(np.float32)
    td = layers.TimeDistributed(layers.Dense(2, activation="tanh"))
    y = td(x)
    W, b = td.get_weights()
    assert_close(y, np.tanh(x.astype(np.float64) @ W + b), "layer")
    assert td.compute_output_shape((None, 4, 5)) == (None, 4, 2)
    layer_fd_check(td, x, rng)
    cfg = td.get_config()
    again = layers.deserialize(layers.serialize(td))
    assert isinstance(again.layer, layers.Dense) and again.get_config()["layer"]["config"]["units"] == 2
    assert cfg["layer"]["class_name"] == "Dense"
    with pytest.raises(ValueError, match="Layer"):
        layers.TimeDistributed("dense")
    with pytest.raises(ValueError):
        layers.TimeDistributed(layers.Dense(2))(np.zeros((3, 4), np.float32))


# ---- models ------------------------------------------------------------------------------------
def test_param_counts_in_a_sequential_model():
    model = models.Sequential([layers.Embedding(5000, 32, input_length=20), layers.LSTM(100), layers.Dense(1)])
    model.build((None, 20))
    assert [l.count_params() for l in model.layers] == [160_000, 53_200, 101]
    assert model.count_params() == 213_301
    assert model.output_shape == (None, 1)


def test_sequential_training_reduces_loss(rng):
    """Embedding + LSTM + Dense trained end to end through the Sequential engine (fit/evaluate)."""
    idx = rng.integers(1, 20, (64, 8))
    y = (idx[:, -1] >= 10).astype(np.float32)[:, None]  # depends on the last token
    model = models.Sequential([layers.Embedding(20, 8, input_length=8), layers.LSTM(8), layers.Dense(1, "sigmoid")])
    model.compile(optimizer=optimizers.Adam(learning_rate=0.02), loss="binary_crossentropy")
    first = model.evaluate(idx, y, verbose=0)
    model.fit(idx, y, epochs=30, batch_size=16, verbose=0)
    last = model.evaluate(idx, y, verbose=0)
    first = first[0] if isinstance(first, list) else first
    last = last[0] if isinstance(last, list) else last
    assert last < 0.5 * first
