"""pad_sequences and Tokenizer against Keras's documented behaviour, on hand-written cases.

The expected values are worked out by hand from Keras's rules (keras.utils.pad_sequences and
keras.preprocessing.text.Tokenizer of Keras 2), not computed by the code under test.
"""
import numpy as np
import pytest

from neurokern.preprocessing import Tokenizer, pad_sequences, text_to_word_sequence
from neurokern.preprocessing import sequence as sequence_module

SEQS = [[1, 2, 3], [4, 5], [6, 7, 8, 9, 10], []]


def test_import_paths():
    import neurokern as nk
    assert nk.preprocessing.sequence.pad_sequences is pad_sequences is sequence_module.pad_sequences
    assert nk.preprocessing.text.Tokenizer is Tokenizer


# --- pad_sequences ------------------------------------------------------------------------------

def test_pad_default_pre_to_longest():
    x = pad_sequences(SEQS)
    assert x.shape == (4, 5) and x.dtype == np.int32
    np.testing.assert_array_equal(x, [[0, 0, 1, 2, 3], [0, 0, 0, 4, 5], [6, 7, 8, 9, 10], [0, 0, 0, 0, 0]])


@pytest.mark.parametrize("padding,truncating,expected", [
    ("pre", "pre", [[0, 1, 2, 3], [0, 0, 4, 5], [7, 8, 9, 10], [0, 0, 0, 0]]),
    ("post", "pre", [[1, 2, 3, 0], [4, 5, 0, 0], [7, 8, 9, 10], [0, 0, 0, 0]]),
    ("pre", "post", [[0, 1, 2, 3], [0, 0, 4, 5], [6, 7, 8, 9], [0, 0, 0, 0]]),
    ("post", "post", [[1, 2, 3, 0], [4, 5, 0, 0], [6, 7, 8, 9], [0, 0, 0, 0]]),
])
def test_pad_and_truncate_sides(padding, truncating, expected):
    x = pad_sequences(SEQS, maxlen=4, padding=padding, truncating=truncating)
    assert x.shape == (4, 4) and x.dtype == np.int32
    np.testing.assert_array_equal(x, expected)


def test_pad_value_dtype_and_float_truncation():
    x = pad_sequences([[1.5, 2.7], [3.2]], maxlen=3, dtype="float32", value=-1.0)
    assert x.dtype == np.float32
    np.testing.assert_array_equal(x, np.float32([[-1, 1.5, 2.7], [-1, -1, 3.2]]))
    # the default int32 dtype truncates floats toward zero, as Keras (np.asarray(..., dtype))
    np.testing.assert_array_equal(pad_sequences([[1.9, -2.9]], maxlen=3), [[0, 1, -2]])
    np.testing.assert_array_equal(pad_sequences([[1, 2]], maxlen=3, value=9), [[9, 1, 2]])


def test_pad_maxlen_longer_shorter_and_zero():
    np.testing.assert_array_equal(pad_sequences([[1, 2]], maxlen=1), [[2]])
    np.testing.assert_array_equal(pad_sequences([[1, 2]], maxlen=1, truncating="post"), [[1]])
    assert pad_sequences([[1, 2]], maxlen=0).shape == (1, 0)
    assert pad_sequences([]).shape == (0, 0)
    assert pad_sequences([], maxlen=3).shape == (0, 3)


def test_pad_accepts_arrays_tuples_and_object_arrays():
    obj = np.empty(2, dtype=object)
    obj[0], obj[1] = [5, 6, 7], [8]
    np.testing.assert_array_equal(pad_sequences(obj, maxlen=2), [[6, 7], [0, 8]])
    np.testing.assert_array_equal(pad_sequences([(1, 2), np.array([3])]), [[1, 2], [0, 3]])


def test_pad_vector_items_keep_their_shape():
    seqs = [[[1, 2], [3, 4]], [[5, 6]]]
    x = pad_sequences(seqs, maxlen=3, dtype="float32")
    assert x.shape == (2, 3, 2)
    np.testing.assert_array_equal(x[1], [[0, 0], [0, 0], [5, 6]])
    with pytest.raises(ValueError, match="items of shape"):
        pad_sequences([[[1, 2]], [[1, 2, 3]]])


@pytest.mark.parametrize("kwargs,match", [
    ({"padding": "middle"}, "padding must be 'pre' or 'post'"),
    ({"truncating": "both"}, "truncating must be 'pre' or 'post'"),
    ({"maxlen": -1}, "maxlen must be None or a non-negative integer"),
    ({"maxlen": 2.5}, "maxlen must be None or a non-negative integer"),
    ({"value": "x"}, "use dtype=object"),
    ({"dtype": "no-such-dtype"}, "dtype must be a NumPy dtype"),
])
def test_pad_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        pad_sequences(SEQS, **kwargs)


def test_pad_bad_sequences():
    with pytest.raises(ValueError, match="non-iterable at position 1"):
        pad_sequences([[1], 5])
    with pytest.raises(ValueError, match="must be a list of sequences"):
        pad_sequences(7)
    with pytest.raises(ValueError, match="Tokenizer.texts_to_sequences"):
        pad_sequences(["a movie", "text"])
    # a bad side is reported even when there is nothing to pad (Keras would silently accept it)
    with pytest.raises(ValueError, match="padding"):
        pad_sequences([[]], padding="left")


def test_pad_string_dtype_object():
    x = pad_sequences([["a", "b"], ["c"]], dtype=object, value="<pad>")
    assert x.tolist() == [["a", "b"], ["<pad>", "c"]]


# --- Tokenizer ----------------------------------------------------------------------------------

TEXTS = ["The cat sat on the mat.", "The dog sat!", "A cat, a DOG... and THE bird?"]
# counts: the 4, cat 2, sat 2, dog 2, a 2, on 1, mat 1, and 1, bird 1
# first-seen order: the, cat, sat, on, mat, dog, a, and, bird -> ties keep that order
INDEX = {"the": 1, "cat": 2, "sat": 3, "dog": 4, "a": 5, "on": 6, "mat": 7, "and": 8, "bird": 9}


def test_text_to_word_sequence():
    assert text_to_word_sequence("Hello, World!  It's\tme.") == ["hello", "world", "it's", "me"]
    assert text_to_word_sequence("A-B c", lower=False) == ["A", "B", "c"]
    assert text_to_word_sequence("a;b;c", filters="", split=";") == ["a", "b", "c"]
    with pytest.raises(ValueError, match="needs a string"):
        text_to_word_sequence(5)


def test_tokenizer_index_by_frequency_then_first_seen():
    tok = Tokenizer()
    tok.fit_on_texts(TEXTS)
    assert tok.word_index == INDEX
    assert tok.index_word == {i: w for w, i in INDEX.items()}
    assert tok.document_count == 3
    assert tok.word_counts["the"] == 4 and tok.word_docs["the"] == 3 and tok.word_docs["cat"] == 2
    assert tok.texts_to_sequences(["the cat and the bird", "an unknown cat"]) == [[1, 2, 8, 1, 9], [2]]


def test_tokenizer_num_words_keeps_indices_below_num_words():
    tok = Tokenizer(num_words=4)  # Keras keeps indices 1..3 only
    tok.fit_on_texts(TEXTS)
    assert tok.word_index == INDEX  # the index itself is never cut
    assert tok.texts_to_sequences(["the dog sat on a cat"]) == [[1, 3, 2]]


def test_tokenizer_oov_token_is_index_one():
    tok = Tokenizer(num_words=4, oov_token="<unk>")
    tok.fit_on_texts(TEXTS)
    assert tok.word_index["<unk>"] == 1 and tok.word_index["the"] == 2 and tok.word_index["bird"] == 10
    # "the"=2, "cat"=3, "sat"=4 >= num_words -> oov, "zebra" unknown -> oov
    assert tok.texts_to_sequences(["the cat sat zebra"]) == [[2, 3, 1, 1]]
    assert tok.sequences_to_texts([[2, 3, 1, 7]]) == ["the cat <unk> <unk>"]


def test_tokenizer_options_and_token_lists():
    tok = Tokenizer(lower=False, filters="", split="|")
    tok.fit_on_texts(["Big|big|BIG|big"])
    assert tok.word_index == {"big": 1, "Big": 2, "BIG": 3}
    tok = Tokenizer()
    tok.fit_on_texts([["Hello", "world"], ["hello"]])  # a text given as tokens is used as is (lower-cased)
    assert tok.word_index == {"hello": 1, "world": 2}


def test_tokenizer_fit_accumulates():
    tok = Tokenizer()
    tok.fit_on_texts(["b a"])
    tok.fit_on_texts(["a"])
    assert tok.word_index == {"a": 1, "b": 2}


def test_tokenizer_sequences_to_texts_round_trip():
    tok = Tokenizer()
    tok.fit_on_texts(TEXTS)
    seqs = tok.texts_to_sequences(TEXTS)
    assert tok.sequences_to_texts(seqs) == ["the cat sat on the mat", "the dog sat", "a cat a dog and the bird"]


@pytest.mark.parametrize("kwargs,match", [
    ({"num_words": 0}, "num_words must be None or a positive integer"),
    ({"num_words": 2.0}, "num_words must be None or a positive integer"),
    ({"split": ""}, "split must be a non-empty string"),
    ({"oov_token": 1}, "oov_token must be None or a string"),
    ({"filters": None}, "filters must be a string"),
])
def test_tokenizer_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Tokenizer(**kwargs)


def test_tokenizer_bad_texts():
    tok = Tokenizer()
    with pytest.raises(ValueError, match="wrap it in a list"):
        tok.fit_on_texts("one string")
    with pytest.raises(ValueError, match="wrap it in a list"):
        tok.texts_to_sequences("one string")
    with pytest.raises(ValueError, match="string or a list of token strings"):
        tok.fit_on_texts([3])
