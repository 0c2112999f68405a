"""Masks flow through models as in Keras: Embedding(mask_zero=True) -> recurrent layer."""
import numpy as np

import neurokern as nk
from neurokern import layers, models

from conftest import assert_close


def _model(rnn):
    nk.utils.set_random_seed(0)
    return models.Sequential([layers.Input((4,)), layers.Embedding(10, 3, mask_zero=True), rnn,
                              layers.Dense(1)])


def test_pre_padding_is_ignored_in_a_model():
    for rnn in (layers.LSTM(5), layers.SimpleRNN(4)):
        m = _model(rnn)
        padded = m.predict(np.array([[0, 0, 3, 4], [5, 6, 7, 8]]), verbose=0)
        emb, rec, dense = m.layers
        unpadded = np.asarray(dense(rec(emb(np.array([[3, 4]])))))
        assert_close(padded[:1], unpadded, "recurrent")
        # without the mask the zeros would change the answer: the test can fail
        no_mask = np.asarray(dense(rec(emb(np.array([[0, 0, 3, 4]])))))
        assert not np.allclose(no_mask, unpadded)


def test_masked_model_trains_and_matches_direct_calls():
    m = _model(layers.LSTM(5, return_sequences=True))
    x = np.array([[0, 2, 3, 4], [5, 6, 7, 0]])
    emb, rec, dense = m.layers
    direct = np.asarray(dense(rec(emb(x), mask=emb.compute_mask(x))))
    assert_close(m.predict(x, verbose=0), direct, "recurrent")
    m.compile("adam", "mse")
    hist = m.fit(x, np.ones((2, 4, 1), np.float32), epochs=3, verbose=0)
    assert hist.history["loss"][-1] < hist.history["loss"][0]
