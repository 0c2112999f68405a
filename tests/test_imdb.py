"""IMDB loader (Keras format, no pickle) and the synthetic reviews corpus, on small synthetic files.

No test touches the network: downloads go through a monkeypatched _cache.fetch that writes local
bytes. Keras-style imdb.npz files are built here from hand-assembled pickle opcodes (the pickle
module is never used), the way NumPy's np.save writes an object array of lists.
"""
import hashlib
import io
import json
import struct
import zipfile
from pathlib import Path

import numpy as np
import pytest

from neurokern.datasets import _cache, imdb, reviews
from neurokern.preprocessing import pad_sequences

RAW = {  # raw word ranks as stored in Keras's imdb.npz (1 = most frequent word)
    "x_train": [[1, 2], [3, 4, 5], [6], [7, 8, 9, 10]],
    "y_train": [0, 1, 0, 1],
    "x_test": [[2, 2, 2], [11]],
    "y_test": [1, 0],
}


# --- building Keras-style files without pickle --------------------------------------------------

def _int_op(v):
    return b"K" + bytes([v]) if v < 256 else b"M" + struct.pack("<H", v) if v < 65536 else b"J" + struct.pack("<i", v)


def _unicode(s):
    b = s.encode()
    return b"X" + struct.pack("<I", len(b)) + b


def object_array_pickle(lists, extra=b""):
    """Pickle protocol 3 bytes of np.array(lists, dtype=object) (1-D), as np.save writes them."""
    out = [b"\x80\x03", b"cnumpy.core.multiarray\n_reconstruct\nq\x00", b"cnumpy\nndarray\nq\x01",
           b"K\x00\x85q\x02C\x01bq\x03\x87q\x04Rq\x05",
           b"(K\x01", _int_op(len(lists)), b"\x85q\x06",
           b"cnumpy\ndtype\nq\x07", _unicode("O8"), b"\x89\x88\x87q\x08Rq\x09",
           b"(K\x03", _unicode("|"), b"NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK?tq\x0ab",
           b"\x89", b"]q\x0b("]
    for s in lists:
        out.append(b"]")
        if s:
            out.append(b"(" + b"".join(_int_op(w) for w in s) + b"e")
    out += [b"e", extra, b"tq\x0cb."]
    return b"".join(out)


def npy_bytes_object(lists, extra=b""):
    header = "{'descr': '|O', 'fortran_order': False, 'shape': (%d,), }" % len(lists)
    header = header.encode("latin1")
    pad = 64 - (10 + len(header) + 1) % 64
    header += b" " * pad + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header + object_array_pickle(lists, extra)


def npy_bytes(array):
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.asarray(array), allow_pickle=False)
    return buf.getvalue()


def write_keras_npz(path, raw=RAW, extra=b""):
    with zipfile.ZipFile(path, "w") as zf:
        for split in ("train", "test"):
            zf.writestr(f"x_{split}.npy", npy_bytes_object(raw[f"x_{split}"], extra))
            zf.writestr(f"y_{split}.npy", npy_bytes(np.asarray(raw[f"y_{split}"], dtype=np.int64)))
    return path


@pytest.fixture
def no_data_anywhere(tmp_path, monkeypatch):
    monkeypatch.delenv("NEUROKERN_DATA", raising=False)
    monkeypatch.delenv("NEUROKERN_OFFLINE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))

    def no_network(url, dest):
        raise AssertionError(f"test tried to download {url}")
    monkeypatch.setattr(_cache, "fetch", no_network)
    return tmp_path


# --- reading ----------------------------------------------------------------------------------------

def test_read_keras_npz_without_pickle(tmp_path):
    d = imdb.read_keras_npz(write_keras_npz(tmp_path / "imdb.npz"))
    assert d["x_train"] == RAW["x_train"] and d["x_test"] == RAW["x_test"]
    assert d["y_train"].dtype == np.int64 and d["y_train"].tolist() == RAW["y_train"]
    with pytest.raises(ValueError, match="Object arrays cannot be loaded"):
        np.load(tmp_path / "imdb.npz", allow_pickle=False)["x_train"]  # what plain np.load says


def test_read_keras_npz_large_ints_and_empty_reviews(tmp_path):
    raw = dict(RAW, x_train=[[300, 70000], [5], [], [1]])
    d = imdb.read_keras_npz(write_keras_npz(tmp_path / "imdb.npz", raw))
    assert d["x_train"] == [[300, 70000], [5], [], [1]]


def test_hostile_pickle_is_refused(tmp_path):
    evil = b"cos\nsystem\n" + _unicode("echo pwned") + b"\x85R"  # os.system('echo pwned') inside the list
    with pytest.raises(ValueError, match="refusing pickled content.*global os.system"):
        imdb.read_keras_npz(write_keras_npz(tmp_path / "imdb.npz", extra=evil))
    with pytest.raises(ValueError, match="refusing pickled content"):
        imdb._object_array_lists(b"\x80\x03]q\x00(K\x01X\x01\x00\x00\x00ae.", "x")  # a str in a review


def test_flat_format_round_trip(tmp_path):
    imdb.save_flat(tmp_path / "imdb_flat.npz", (RAW["x_train"], RAW["y_train"]), (RAW["x_test"], RAW["y_test"]))
    with np.load(tmp_path / "imdb_flat.npz", allow_pickle=False) as f:
        assert f["x_train_words"].dtype == np.int32
    d = imdb.read_flat_npz(tmp_path / "imdb_flat.npz")
    assert d["x_train"] == RAW["x_train"] and d["y_test"].tolist() == RAW["y_test"]


def test_not_an_imdb_file(tmp_path):
    np.savez(tmp_path / "other.npz", a=np.zeros(3))
    with pytest.raises(ValueError, match="no array 'x_train'"):
        imdb.read_keras_npz(tmp_path / "other.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="not an .npz file"):
        imdb.read_keras_npz(tmp_path / "junk.npz")
    with pytest.raises(ValueError, match="not an .npz file"):
        imdb.load_data(path=tmp_path / "junk.npz")


# --- Keras's load_data rules ------------------------------------------------------------------------

def expected_keras(raw, num_words=None, skip_top=0, maxlen=None, seed=113, start_char=1, oov_char=2, index_from=3):
    """The Keras rules written out plainly (keras/src/datasets/imdb.py)."""
    rng = np.random.RandomState(seed)
    out = []
    for split in ("train", "test"):
        order = np.arange(len(raw[f"x_{split}"]))
        rng.shuffle(order)
        xs = [raw[f"x_{split}"][i] for i in order]
        ys = [raw[f"y_{split}"][i] for i in order]
        xs = [([start_char] if start_char is not None else []) + [w + index_from for w in s] for s in xs]
        if maxlen:
            keep = [i for i in range(len(xs)) if len(xs[i]) < maxlen]
            xs, ys = [xs[i] for i in keep], [ys[i] for i in keep]
        out.append((xs, ys))
    if not num_words:
        num_words = max(max(s) for xs, _ in out for s in xs)
    res = []
    for xs, ys in out:
        if oov_char is not None:
            xs = [[w if skip_top <= w < num_words else oov_char for w in s] for s in xs]
        else:
            xs = [[w for w in s if skip_top <= w < num_words] for s in xs]
        res.append((xs, ys))
    return res


@pytest.mark.parametrize("kwargs", [
    {}, {"num_words": 8}, {"num_words": 8, "oov_char": None}, {"skip_top": 5, "num_words": 10},
    {"maxlen": 4}, {"start_char": None, "index_from": 0}, {"seed": 7, "index_from": 5},
])
def test_load_data_follows_keras(tmp_path, no_data_anywhere, kwargs):
    path = write_keras_npz(tmp_path / "imdb.npz")
    (x_train, y_train), (x_test, y_test) = imdb.load_data(path=path, **kwargs)
    for x, y, (ex, ey) in ((x_train, y_train, expected_keras(RAW, **kwargs)[0]),
                           (x_test, y_test, expected_keras(RAW, **kwargs)[1])):
        assert x.dtype == object and x.ndim == 1 and y.dtype == np.int64
        assert [list(s) for s in x] == ex and y.tolist() == ey


def test_load_data_hand_checked_case(tmp_path, no_data_anywhere):
    path = write_keras_npz(tmp_path / "imdb.npz")
    (x_train, y_train), _ = imdb.load_data(path=path, num_words=8, seed=113)
    got = sorted(zip((tuple(s) for s in x_train), y_train.tolist()))
    # start 1, ranks + 3, anything >= 8 becomes 2
    assert got == sorted([((1, 4, 5), 0), ((1, 6, 7, 2), 1), ((1, 2), 0), ((1, 2, 2, 2, 2), 1)])
    # equal-length reviews still give a 1-D object array (np.array(..., dtype=object) would not)
    (x, _), _ = imdb.apply_vocabulary([[1, 2], [3, 4]], [0, 1], [[5, 6]], [1])
    assert x.shape == (2,) and x.dtype == object and list(x[0]) in ([1, 4, 5], [1, 6, 7])


def test_load_data_bad_arguments(tmp_path, no_data_anywhere):
    path = write_keras_npz(tmp_path / "imdb.npz")
    with pytest.raises(ValueError, match="increase maxlen"):
        imdb.load_data(path=path, maxlen=1)
    with pytest.raises(ValueError, match="num_words must be None or a positive integer"):
        imdb.load_data(path=path, num_words=0)
    with pytest.raises(ValueError, match="skip_top must be a non-negative integer"):
        imdb.load_data(path=path, skip_top=-1)
    with pytest.raises(FileNotFoundError, match="holds no IMDB copy"):
        imdb.load_data(path=tmp_path / "nowhere")


# --- where the file comes from -------------------------------------------------------------------

def test_search_order(tmp_path, no_data_anywhere, monkeypatch):
    cache = tmp_path / "cache" / "neurokern" / "imdb"
    cache.mkdir(parents=True)
    write_keras_npz(cache / "imdb.npz")
    assert imdb.find() == cache / "imdb.npz"
    assert imdb.find("imdb.npz") == cache / "imdb.npz"  # Keras's bare default name = search
    env = tmp_path / "env"
    (env / "imdb").mkdir(parents=True)
    imdb.save_flat(env / "imdb" / "imdb_flat.npz", (RAW["x_train"], RAW["y_train"]), (RAW["x_test"], RAW["y_test"]))
    monkeypatch.setenv("NEUROKERN_DATA", str(env))
    assert imdb.find() == env / "imdb" / "imdb_flat.npz"
    explicit = tmp_path / "mine"
    explicit.mkdir()
    write_keras_npz(explicit / "imdb.npz")
    assert imdb.find(explicit) == explicit / "imdb.npz"
    assert imdb.find(explicit / "imdb.npz") == explicit / "imdb.npz"
    # both formats load to the same data
    a = imdb.load_data(path=explicit)
    b = imdb.load_data()
    for (xa, ya), (xb, yb) in zip(a, b):
        assert [list(s) for s in xa] == [list(s) for s in xb] and ya.tolist() == yb.tolist()


def test_download_checks_sha256(tmp_path, no_data_anywhere, monkeypatch):
    good = write_keras_npz(tmp_path / "source.npz").read_bytes()
    monkeypatch.setattr(imdb, "NPZ_SHA256", hashlib.sha256(good).hexdigest())
    calls = []

    def fake_fetch(url, dest):
        calls.append(url)
        Path(dest).write_bytes(good)
    monkeypatch.setattr(_cache, "fetch", fake_fetch)
    (x_train, _), _ = imdb.load_data()
    assert calls == [imdb.ORIGIN + "imdb.npz"] and len(x_train) == 4
    assert (tmp_path / "cache" / "neurokern" / "imdb" / "imdb.npz").is_file()
    imdb.load_data()  # now cached: no second download
    assert len(calls) == 1


def test_download_rejects_wrong_digest_and_offline(tmp_path, no_data_anywhere, monkeypatch):
    monkeypatch.setattr(_cache, "fetch", lambda url, dest: Path(dest).write_bytes(b"tampered"))
    with pytest.raises(OSError, match="SHA-256 mismatch"):
        imdb.load_data()
    assert not (tmp_path / "cache" / "neurokern" / "imdb" / "imdb.npz").exists()
    with pytest.raises(FileNotFoundError, match="IMDB not found"):
        imdb.load_data(download_if_missing=False)
    monkeypatch.setenv("NEUROKERN_OFFLINE", "1")
    with pytest.raises(OSError, match="NEUROKERN_OFFLINE"):
        imdb.load_data()


def test_get_word_index(tmp_path, no_data_anywhere, monkeypatch):
    body = json.dumps({"the": 1, "and": 2, "film": 19}).encode()
    local = tmp_path / "wi.json"
    local.write_bytes(body)
    assert imdb.get_word_index(local) == {"the": 1, "and": 2, "film": 19}
    with pytest.raises(FileNotFoundError, match="no such word-index file"):
        imdb.get_word_index(tmp_path / "missing.json")
    monkeypatch.setattr(imdb, "WORD_INDEX_MD5", hashlib.md5(body).hexdigest())
    monkeypatch.setattr(_cache, "fetch", lambda url, dest: Path(dest).write_bytes(body))
    assert imdb.get_word_index()["film"] == 19
    assert (tmp_path / "cache" / "neurokern" / "imdb" / "imdb_word_index.json").is_file()
    (tmp_path / "bad.json").write_text("[1, 2]")
    with pytest.raises(ValueError, match="mapping words to integer ranks"):
        imdb.get_word_index(tmp_path / "bad.json")


# --- the synthetic corpus ---------------------------------------------------------------------

def test_reviews_texts_are_deterministic_and_labelled():
    texts, labels = reviews.generate(50, seed=3)
    assert reviews.generate(50, seed=3)[0] == texts
    assert reviews.generate(50, seed=4)[0] != texts
    assert labels.dtype == np.int64 and set(labels.tolist()) == {0, 1}
    for t, y in zip(texts, labels):
        words = t.lower().replace(".", " ").split()
        # majority rule: count opinion adjectives, flipping those after a negation (one or two words back)
        score = 0
        for i, w in enumerate(words):
            if w in reviews.POSITIVE or w in reviews.NEGATIVE:
                sign = 1 if w in reviews.POSITIVE else -1
                if any(n in words[max(0, i - 2):i] for n in reviews.NEGATIONS):
                    sign = -sign
                score += sign
        assert score != 0 and (score > 0) == (y == 1), t


def test_reviews_load_data_is_imdb_format():
    (x_train, y_train), (x_test, y_test) = reviews.load_data(num_words=50, n_train=200, n_test=80, seed=1)
    assert x_train.dtype == object and x_train.shape == (200,) and y_train.shape == (200,)
    assert x_test.shape == (80,) and y_test.dtype == np.int64
    assert all(s[0] == 1 for s in x_train)  # start_char
    flat = np.concatenate([np.asarray(s) for s in x_train])
    assert flat.max() < 50 and flat.min() >= 1 and np.any(flat == 2)  # rare words became oov_char 2
    assert 0.35 < y_train.mean() < 0.65
    # decoding with the word index gives back the text (as with imdb.get_word_index)
    wi = reviews.get_word_index(n_train=200, n_test=80, seed=1)
    inv = {r + 3: w for w, r in wi.items()}
    # (num_words above the largest index: with None, Keras's rule makes the largest index oov)
    (x_full, _), _ = reviews.load_data(num_words=len(wi) + 4, n_train=200, n_test=80, seed=1)
    words = [inv[i] for i in x_full[0][1:]]
    texts, _ = reviews.generate(280, seed=1)
    assert " ".join(words) in [" ".join(t.lower().replace(".", "").split()) for t in texts[:200]]
    assert pad_sequences(x_train, maxlen=64).shape == (200, 64)


def test_reviews_bad_arguments():
    with pytest.raises(ValueError, match="n_train must be a positive integer"):
        reviews.load_data(n_train=0)
    with pytest.raises(ValueError, match="n must be a non-negative integer"):
        reviews.generate(-1)
