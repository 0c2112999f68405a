"""VGG16: Keras layer names and parameter counts, Keras 2 .h5 weight loading (synthetic files written
here with h5py in Keras' layout), the same outputs as PyTorch with the weights transposed, the
imagenet download path (never the network), preprocess_input, and transfer learning: a frozen base
stays bit-identical through fit, and fine-tuning block5 changes only block5 and the head."""
import numpy as np
import pytest

import neurokern as nk
from neurokern import layers
from neurokern.applications import VGG16, preprocess_input, vgg16
from neurokern.models import Sequential

from conftest import assert_close

try:
    import h5py
except ImportError:  # h5py is in the [test] extra; only the .h5 tests need it
    h5py = None
needs_h5py = pytest.mark.skipif(h5py is None, reason="h5py is not installed (pip install '.[test]')")

CONV_NAMES = [f"block{b}_conv{i}" for b, n in ((1, 2), (2, 2), (3, 3), (4, 3), (5, 3)) for i in range(1, n + 1)]
POOL_NAMES = [f"block{b}_pool" for b in range(1, 6)]


def write_keras_h5(path, model_layers, full_model=False, rename=None, dtype=np.float32):
    """A Keras 2 HDF5 weights file: root (save_weights) or 'model_weights' (model.save) with attribute
    'layer_names'; per layer a group with attribute 'weight_names' and datasets '<layer>/<layer>/<w>:0'."""
    rename = rename or {}
    with h5py.File(path, "w") as f:
        g = f.create_group("model_weights") if full_model else f
        names = [rename.get(layer.name, layer.name) for layer in model_layers]
        g.attrs["layer_names"] = [n.encode("utf8") for n in names]
        g.attrs["backend"] = b"tensorflow"
        g.attrs["keras_version"] = b"2.15.0"
        for name, layer in zip(names, model_layers):
            lg = g.create_group(name)
            wnames = [f"{name}/{w.name}:0" for w in layer.weights]
            lg.attrs["weight_names"] = [n.encode("utf8") for n in wnames]
            for wn, w in zip(wnames, layer.weights):
                lg.create_dataset(wn, data=w.numpy().astype(dtype))
        if full_model:
            f.attrs["model_config"] = b"{}"


def randomize(model, rng, scale=None):
    """Small random weights (He-like scale per layer so activations stay O(1) through 13 convs)."""
    for layer in model.layers:
        for w in layer.weights:
            fan_in = int(np.prod(w.shape[:-1])) if len(w.shape) > 1 else 1
            s = scale if scale is not None else (np.sqrt(2.0 / fan_in) if len(w.shape) > 1 else 0.05)
            w.assign(rng.standard_normal(w.shape).astype(np.float32) * s)


def weights_of(model):
    return {w.path: w.numpy() for layer in model.layers for w in layer.weights}


# --- architecture --------------------------------------------------------------------------------

def test_vgg16_layers_and_parameter_count():
    model = VGG16(weights=None)
    names = [layer.name for layer in model.layers[1:]]
    expected = []
    for b, n in ((1, 2), (2, 2), (3, 3), (4, 3), (5, 3)):
        expected += [f"block{b}_conv{i}" for i in range(1, n + 1)] + [f"block{b}_pool"]
    assert names == expected + ["flatten", "fc1", "fc2", "predictions"]
    assert model.name == "vgg16"
    assert model.count_params() == 138_357_544
    assert model.output_shape == (None, 1000)
    assert model.get_layer("block5_pool").output_shape == (None, 7, 7, 512)
    assert model.get_layer("block1_conv1").kernel.shape == (3, 3, 3, 64)
    assert model.get_layer("fc1").kernel.shape == (25088, 4096)
    lines = []
    model.summary(print_fn=lines.append)
    # title, rule, header, rule, then 23 rows (InputLayer + 22 layers) each followed by a rule, 3 totals, a rule
    assert len(lines) == 4 + 2 * 23 + 3 + 1
    assert "Total params: 138,357,544" in "\n".join(lines)


@pytest.mark.parametrize("pooling, out", [(None, (None, 1, 2, 512)), ("avg", (None, 512)), ("max", (None, 512))])
def test_vgg16_without_top(pooling, out):
    model = VGG16(include_top=False, weights=None, input_shape=(32, 64, 3), pooling=pooling)
    assert model.output_shape == out
    assert model.count_params() == 14_714_688  # the 13 convolutions
    assert [layer.name for layer in model.layers if layer.name.startswith("block")] == \
        [n for b in range(1, 6) for n in CONV_NAMES + POOL_NAMES if n.startswith(f"block{b}_")]


def test_vgg16_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="at least 32x32"):
        VGG16(include_top=False, weights=None, input_shape=(31, 64, 3))
    with pytest.raises(ValueError, match="should be \\(224, 224, 3\\)"):
        VGG16(include_top=True, weights="imagenet", input_shape=(64, 64, 3))
    with pytest.raises(ValueError, match="`classes` should be 1000"):
        VGG16(weights="imagenet", classes=10)
    with pytest.raises(ValueError, match="pooling"):
        VGG16(include_top=False, weights=None, input_shape=(32, 32, 3), pooling="sum")
    with pytest.raises(ValueError, match="no such file"):
        VGG16(weights=str(tmp_path / "missing.h5"))
    with pytest.raises(ValueError, match="`weights` argument"):
        VGG16(weights=3)


# --- preprocess_input ------------------------------------------------------------------------------

def test_preprocess_input_is_caffe_mode(rng):
    x = rng.uniform(0, 255, (2, 4, 5, 3)).astype(np.float32)
    got = preprocess_input(x)
    ref = x[..., ::-1].astype(np.float64) - np.array([103.939, 116.779, 123.68])
    assert_close(got, ref, "elementwise")
    assert got[0, 0, 0, 0] == np.float32(x[0, 0, 0, 2] - np.float32(103.939))  # B channel first
    with pytest.raises(ValueError, match="RGB images"):
        preprocess_input(np.zeros((2, 4, 4, 1)))


# --- Keras .h5 weights -----------------------------------------------------------------------------

def tiny_vgg(seed=0, block2_filters=6):
    nk.utils.set_random_seed(seed)
    inputs = layers.Input(shape=(12, 12, 3))
    x = layers.Conv2D(4, 3, padding="same", activation="relu", name="block1_conv1")(inputs)
    x = layers.Conv2D(4, 3, padding="same", activation="relu", name="block1_conv2")(x)
    x = layers.MaxPooling2D(2, name="block1_pool")(x)
    x = layers.Conv2D(block2_filters, 3, padding="same", activation="relu", name="block2_conv1")(x)
    x = layers.MaxPooling2D(2, name="block2_pool")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(5, activation="softmax", name="predictions")(x)
    return nk.models.Model(inputs, x, name="tiny")


@needs_h5py
@pytest.mark.parametrize("full_model", [False, True])
def test_load_tiny_vgg_like_h5(tmp_path, rng, full_model):
    src = tiny_vgg(0)
    randomize(src, rng)
    path = tmp_path / "tiny.h5"
    write_keras_h5(path, src.layers[1:], full_model=full_model)
    dst = tiny_vgg(1)
    kernel = lambda m, name: m.get_layer(name).kernel.numpy()  # noqa: E731
    assert not np.array_equal(kernel(dst, "block1_conv1"), kernel(src, "block1_conv1"))
    dst.load_weights(str(path))
    for k, v in weights_of(src).items():
        np.testing.assert_array_equal(weights_of(dst)[k], v)
    x = rng.uniform(0, 1, (3, 12, 12, 3)).astype(np.float32)
    np.testing.assert_array_equal(dst.predict(x), src.predict(x))


@needs_h5py
def test_load_by_topology_ignores_names_and_by_name_skips(tmp_path, rng):
    src = tiny_vgg(0)
    randomize(src, rng)
    path = tmp_path / "renamed.h5"
    write_keras_h5(path, src.layers[1:], rename={"block1_conv1": "conv2d", "predictions": "dense_7"})
    dst = tiny_vgg(1)
    dst.load_weights(str(path))  # by topology: order decides
    np.testing.assert_array_equal(dst.get_layer("predictions").kernel.numpy(),
                                  src.get_layer("predictions").kernel.numpy())
    other = tiny_vgg(2)
    before = weights_of(other)
    other.load_weights(str(path), by_name=True)  # renamed layers are skipped
    after = weights_of(other)
    np.testing.assert_array_equal(after["block1_conv1/kernel"], before["block1_conv1/kernel"])
    np.testing.assert_array_equal(after["predictions/kernel"], before["predictions/kernel"])
    np.testing.assert_array_equal(after["block2_conv1/kernel"], src.get_layer("block2_conv1").kernel.numpy())


@needs_h5py
def test_bad_h5_files_raise_naming_the_layer(tmp_path, rng):
    model = tiny_vgg(0)
    before = weights_of(model)
    not_h5 = tmp_path / "weights.h5"
    not_h5.write_bytes(b"\x00" * 100)
    with pytest.raises(ValueError, match="not an HDF5 file"):
        model.load_weights(str(not_h5))
    other = tiny_vgg(1, block2_filters=7)
    wrong = tmp_path / "wrong.h5"
    write_keras_h5(wrong, other.layers[1:])
    with pytest.raises(ValueError, match=r"layer 'block2_conv1' weight 'kernel' has shape \(3, 3, 4, 6\)"
                                         r".*stores shape \(3, 3, 4, 7\)"):
        model.load_weights(str(wrong))
    partial = tmp_path / "partial.h5"
    write_keras_h5(partial, [l for l in model.layers[1:] if l.name != "block2_conv1"])
    with pytest.raises(ValueError, match=r"Missing from the file: \['block2_conv1'\]"):
        model.load_weights(str(partial))
    no_names = tmp_path / "plain.h5"
    with h5py.File(no_names, "w") as f:
        f.create_dataset("x", data=np.zeros(3))
    with pytest.raises(ValueError, match="no 'layer_names'"):
        model.load_weights(str(no_names))
    for k, v in weights_of(model).items():  # nothing was half-loaded
        np.testing.assert_array_equal(v, before[k])


@needs_h5py
def test_full_vgg16_notop_from_h5_matches_pytorch(tmp_path, rng):
    """Keras-layout file with small random weights -> VGG16(include_top=False, weights=path) at 32x32;
    the whole network against PyTorch with the kernels transposed (KH,KW,C,F) -> (F,C,KH,KW)."""
    src = VGG16(include_top=False, weights=None, input_shape=(32, 32, 3))
    randomize(src, rng)
    path = tmp_path / "vgg16_notop.h5"
    write_keras_h5(path, src.layers[1:])
    model = VGG16(include_top=False, weights=str(path), input_shape=(32, 32, 3))
    for k, v in weights_of(src).items():
        np.testing.assert_array_equal(weights_of(model)[k], v)
    x = rng.uniform(0, 255, (2, 32, 32, 3)).astype(np.float32)
    x = preprocess_input(x) / 64.0
    got = model.predict(x)
    assert got.shape == (2, 1, 1, 512)

    torch = pytest.importorskip("torch")
    t = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2))).double()
    with torch.no_grad():
        for layer in model.layers[1:]:
            if layer.name.endswith("_pool"):
                t = torch.nn.functional.max_pool2d(t, 2, 2)
            else:
                w = torch.from_numpy(layer.kernel.numpy().transpose(3, 2, 0, 1)).double()
                b = torch.from_numpy(layer.bias.numpy()).double()
                t = torch.relu(torch.nn.functional.conv2d(t, w, b, padding=1))
    ref = t.numpy().transpose(0, 2, 3, 1)
    assert_close(got, ref, "gemm")


@needs_h5py
def test_vgg16_with_top_loads_its_own_h5(tmp_path, rng):
    """A whole-model file ('model_weights' group) of VGG16 with its top at 32x32 input (fc1 is 512 x 4096
    there), stored as float16 to keep it small: every layer including fc1/fc2/predictions loads."""
    src = VGG16(include_top=True, weights=None, input_shape=(32, 32, 3), classes=3)
    for name in ("fc1", "fc2", "predictions"):
        for w in src.get_layer(name).weights:
            w.assign(rng.standard_normal(w.shape).astype(np.float32) * 0.01)
    path = tmp_path / "top.h5"
    write_keras_h5(path, src.layers[1:], full_model=True, dtype=np.float16)
    model = VGG16(include_top=True, weights=str(path), input_shape=(32, 32, 3), classes=3)
    np.testing.assert_array_equal(model.get_layer("predictions").kernel.numpy(),
                                  src.get_layer("predictions").kernel.numpy().astype(np.float16).astype(np.float32))


# --- imagenet weights: never the network -----------------------------------------------------------

@pytest.fixture
def no_cache(tmp_path, monkeypatch):
    monkeypatch.delenv("NEUROKERN_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    return tmp_path


def test_imagenet_weights_offline_without_cache_raise_clearly(no_cache, monkeypatch):
    monkeypatch.setenv("NEUROKERN_OFFLINE", "1")
    with pytest.raises(OSError, match=r"NEUROKERN_OFFLINE is set.*vgg16_weights_tf_dim_ordering_tf_kernels_notop\.h5"):
        VGG16(include_top=False, weights="imagenet", input_shape=(32, 32, 3))


def test_imagenet_download_is_verified(no_cache, monkeypatch):
    from neurokern.datasets import _cache
    monkeypatch.delenv("NEUROKERN_OFFLINE", raising=False)
    calls = []

    def fake_fetch(url, dest):  # stands in for the network: writes bytes that are not the published file
        calls.append(url)
        with open(dest, "wb") as f:
            f.write(b"corrupt")
    monkeypatch.setattr(_cache, "fetch", fake_fetch)
    with pytest.raises(OSError, match="does not match Keras' published MD5"):
        vgg16.weights_path("vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5")
    assert calls == [vgg16._BASE_URL + "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"]
    assert not list((no_cache / "cache" / "neurokern" / "models").iterdir())  # nothing half-written stays


def test_cached_weights_are_checked(no_cache, monkeypatch):
    """A cached file is accepted when it has Keras' MD5 and size (then its SHA-256 is recorded and checked)."""
    fname = "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"
    d = no_cache / "home" / ".keras" / "models"
    d.mkdir(parents=True)
    payload = b"pretend weights"
    (d / fname).write_bytes(payload)
    import hashlib
    monkeypatch.setitem(vgg16.WEIGHTS_FILES, fname, (hashlib.md5(payload).hexdigest(), len(payload)))
    assert vgg16.weights_path(fname) == d / fname
    side = d / (fname + ".sha256")
    assert side.read_text().split()[0] == hashlib.sha256(payload).hexdigest()
    (d / fname).write_bytes(b"pretend weightz")  # same size, different bytes
    with pytest.raises(ValueError, match="digest mismatch"):
        vgg16.weights_path(fname)


# --- transfer learning ---------------------------------------------------------------------------

def transfer_model(rng, classes=2):
    nk.utils.set_random_seed(0)
    base = VGG16(include_top=False, weights=None, input_shape=(32, 32, 3))
    randomize(base, rng)
    base.trainable = False
    model = Sequential([base, layers.Flatten(), layers.Dense(8, activation="relu", name="head1"),
                        layers.Dense(classes, activation="softmax", name="head2")])
    return base, model


def test_frozen_base_stays_bit_identical_and_fine_tuning_changes_only_block5(rng):
    base, model = transfer_model(rng)
    x = preprocess_input(rng.uniform(0, 255, (8, 32, 32, 3)).astype(np.float32)) / 64.0
    y = np.array([0, 1] * 4)
    model.compile(optimizer=nk.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy")
    assert len(model.trainable_weights) == 4  # the head only
    frozen = weights_of(base)
    head = {w.path: w.numpy() for w in model.trainable_weights}
    model.fit(x, y, epochs=2, batch_size=4, verbose=0)
    for k, v in weights_of(base).items():
        np.testing.assert_array_equal(v, frozen[k])
    assert all(not np.array_equal(w.numpy(), head[w.path]) for w in model.trainable_weights)

    # fine-tune the top block: block5 trainable again, recompile with a small learning rate
    base.trainable = True
    for layer in base.layers:
        layer.trainable = layer.name.startswith("block5")
    model.compile(optimizer=nk.optimizers.Adam(1e-4), loss="sparse_categorical_crossentropy")
    assert len(model.trainable_weights) == 2 * 3 + 4
    before = weights_of(base)
    model.fit(x, y, epochs=1, batch_size=4, verbose=0)
    after = weights_of(base)
    for k in before:
        if k.startswith("block5"):
            assert not np.array_equal(after[k], before[k]), k
        else:
            np.testing.assert_array_equal(after[k], before[k])


# --- the vgg16_transfer example ------------------------------------------------------------------

@needs_h5py
def test_vgg16_transfer_example_runs(tmp_path, rng):
    from neurokern.examples import vgg16_transfer
    r = vgg16_transfer.main(["--quiet", "--seed", "0", "--epochs", "1", "--image-size", "32"])
    assert r["class_names"] == ["cats", "dogs", "frogs"]
    assert r["base_unchanged"]
    assert r["changed_base_layers"] == ["block5_conv1", "block5_conv2", "block5_conv3"]
    assert all(np.isfinite(r["head_loss"])) and len(r["head_loss"]) == 1
    # --weights PATH: a Keras-layout notop file is loaded into the base
    src = VGG16(include_top=False, weights=None, input_shape=(32, 32, 3))
    randomize(src, rng)
    path = tmp_path / "notop.h5"
    write_keras_h5(path, src.layers[1:])
    r = vgg16_transfer.main(["--quiet", "--weights", str(path), "--image-size", "32", "--epochs", "1",
                             "--fine-tune-epochs", "0"])
    assert r["base_unchanged"] and r["changed_base_layers"] == []


def test_missing_h5py_is_a_clear_import_error(tmp_path, monkeypatch):
    import sys
    from neurokern.applications import _keras_h5
    monkeypatch.setitem(sys.modules, "h5py", None)  # `import h5py` now raises ImportError
    (tmp_path / "w.h5").write_bytes(b"")
    with pytest.raises(ImportError, match="needs h5py: pip install h5py"):
        _keras_h5.load_weights_h5(nk.models.Sequential([layers.Input(shape=(2,)), layers.Dense(1)]), tmp_path / "w.h5")
