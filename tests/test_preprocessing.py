"""image_dataset_from_directory on a generated PNG folder (Keras semantics), load_img/img_to_array,
fit/evaluate/predict on a dataset, and the augmentation layers (identity in inference, seeded,
the Keras transform formulas, backward = the op's adjoint)."""
import numpy as np
import pytest
from PIL import Image

import neurokern as nk
from neurokern import layers, ops
from neurokern.preprocessing import image_dataset_from_directory, img_to_array, load_img

from conftest import assert_close

CLASSES = {"cat": 7, "dog": 5, "bird": 3}  # name -> number of images


def make_folder(root, classes=CLASSES, size=(12, 10), nested=False):
    """root/<class>/<k>.png, each image filled with a value that encodes (class, k)."""
    for c, (name, n) in enumerate(sorted(classes.items())):
        d = root / name / ("sub" if nested else "")
        d.mkdir(parents=True, exist_ok=True)
        for k in range(n):
            arr = np.full(size + (3,), 0, np.uint8)
            arr[..., 0], arr[..., 1], arr[..., 2] = 40 * c, 10 * k, 200
            Image.fromarray(arr).save(d / f"{k:03d}.png")
    (root / "README.txt").write_text("not an image")
    return root


def code(images):
    """(class, k) of each image from its pixel values."""
    return [(int(round(im[0, 0, 0] / 40)), int(round(im[0, 0, 1] / 10))) for im in images]


@pytest.fixture
def folder(tmp_path):
    return make_folder(tmp_path / "data")


def all_batches(ds):
    xs, ys = zip(*list(ds))
    return np.concatenate(xs), np.concatenate(ys)


def test_class_names_counts_shapes_and_labels(folder):
    ds = image_dataset_from_directory(folder, image_size=(12, 10), batch_size=4, shuffle=False, verbose=False)
    assert ds.class_names == ["bird", "cat", "dog"]
    assert len(ds) == 4 and ds.num_samples == 15
    batches = list(ds)
    assert [len(b[0]) for b in batches] == [4, 4, 4, 3]
    x, y = all_batches(ds)
    assert x.shape == (15, 12, 10, 3) and x.dtype == np.float32
    assert y.shape == (15,) and y.dtype == np.int32
    assert y.tolist() == [0] * 3 + [1] * 7 + [2] * 5
    assert [c for c, _ in code(x)] == y.tolist()
    assert x.min() >= 0 and x.max() == 200.0  # raw [0, 255] values
    # iterable again, same content
    x2, _ = all_batches(ds)
    np.testing.assert_array_equal(x, x2)


def test_label_modes(folder):
    cat = image_dataset_from_directory(folder, label_mode="categorical", image_size=(6, 5), shuffle=False,
                                       verbose=False)
    x, y = all_batches(cat)
    assert y.shape == (15, 3) and y.dtype == np.float32
    np.testing.assert_array_equal(y.argmax(1), [c for c, _ in code(x)])
    np.testing.assert_array_equal(y.sum(1), 1.0)
    two = folder.parent / "two"
    make_folder(two, {"a": 2, "b": 3})
    binary = image_dataset_from_directory(two, label_mode="binary", image_size=(4, 4), verbose=False, seed=0)
    x, y = all_batches(binary)
    assert y.shape == (5, 1) and y.dtype == np.float32
    np.testing.assert_array_equal(y[:, 0], [c for c, _ in code(x)])
    with pytest.raises(ValueError, match="exactly 2 class_names"):
        image_dataset_from_directory(folder, label_mode="binary", verbose=False)
    only = image_dataset_from_directory(folder, labels=None, image_size=(4, 4), batch_size=32, verbose=False)
    (images,) = list(only)
    assert images.shape == (15, 4, 4, 3)


def test_class_names_fix_the_order_and_grayscale(folder):
    ds = image_dataset_from_directory(folder, class_names=["dog", "cat", "bird"], color_mode="grayscale",
                                      image_size=(12, 10), shuffle=False, verbose=False)
    x, y = all_batches(ds)
    assert ds.class_names == ["dog", "cat", "bird"]
    assert x.shape == (15, 12, 10, 1)
    assert y.tolist() == [0] * 5 + [1] * 7 + [2] * 3
    expected = np.asarray(Image.open(folder / "dog" / "000.png").convert("L"), np.float32)
    np.testing.assert_array_equal(x[0, :, :, 0], expected)


def test_files_in_nested_directories_are_found(tmp_path):
    ds = image_dataset_from_directory(make_folder(tmp_path / "n", nested=True), image_size=(3, 3), verbose=False,
                                      seed=1)
    assert ds.num_samples == 15


def test_shuffle_with_seed_is_repeatable_and_reshuffles(folder):
    a = image_dataset_from_directory(folder, image_size=(4, 4), batch_size=5, seed=3, verbose=False)
    b = image_dataset_from_directory(folder, image_size=(4, 4), batch_size=5, seed=3, verbose=False)
    first_a, first_b = code(all_batches(a)[0]), code(all_batches(b)[0])
    assert first_a == first_b
    second_a = code(all_batches(a)[0])
    assert sorted(second_a) == sorted(first_a) and second_a != first_a  # each pass reshuffles
    x, y = all_batches(a)
    assert [c for c, _ in code(x)] == y.tolist()  # labels travel with their images


@pytest.mark.parametrize("split", [0.2, 0.5])
def test_validation_split_subsets_are_disjoint(folder, split):
    kw = dict(image_size=(4, 4), validation_split=split, seed=11, verbose=False)
    train = image_dataset_from_directory(folder, subset="training", **kw)
    val = image_dataset_from_directory(folder, subset="validation", **kw)
    n_val = int(split * 15)
    assert val.num_samples == n_val and train.num_samples == 15 - n_val
    assert not set(train.file_paths) & set(val.file_paths)
    assert len(set(train.file_paths) | set(val.file_paths)) == 15
    both = image_dataset_from_directory(folder, subset="both", **kw)
    assert both[0].file_paths == train.file_paths and both[1].file_paths == val.file_paths


def test_resize_matches_bilinear_half_pixel_reference(tmp_path):
    rng = np.random.default_rng(0)
    arr = rng.integers(0, 256, (9, 13, 3), dtype=np.uint8)
    (tmp_path / "d" / "only").mkdir(parents=True)
    Image.fromarray(arr).save(tmp_path / "d" / "only" / "x.png")
    for size in ((5, 7), (20, 4)):
        ds = image_dataset_from_directory(tmp_path / "d", image_size=size, shuffle=False, verbose=False)
        (x, _), = list(ds)
        # tf.image.resize bilinear: in = (out + 0.5) * in_size / out_size - 0.5, clamped to the image
        def axis(n_out, n_in):
            c = np.clip((np.arange(n_out) + 0.5) * n_in / n_out - 0.5, 0, n_in - 1)
            lo = np.floor(c).astype(int)
            hi = np.minimum(lo + 1, n_in - 1)
            return lo, hi, c - lo
        r0, r1, fr = axis(size[0], 9)
        c0, c1, fc = axis(size[1], 13)
        a = arr.astype(np.float64)
        top = a[r0][:, c0] * (1 - fc)[None, :, None] + a[r0][:, c1] * fc[None, :, None]
        bot = a[r1][:, c0] * (1 - fc)[None, :, None] + a[r1][:, c1] * fc[None, :, None]
        ref = top * (1 - fr)[:, None, None] + bot * fr[:, None, None]
        assert_close(x[0], ref, "elementwise")


def test_bad_arguments(folder, tmp_path):
    with pytest.raises(ValueError, match="existing directory"):
        image_dataset_from_directory(tmp_path / "missing")
    with pytest.raises(ValueError, match="subset"):
        image_dataset_from_directory(folder, validation_split=0.2, subset="test", seed=1)
    with pytest.raises(ValueError, match="validation_split` must be set"):
        image_dataset_from_directory(folder, subset="training", seed=1)
    with pytest.raises(ValueError, match="must provide a `seed`"):
        image_dataset_from_directory(folder, validation_split=0.2, subset="training")
    with pytest.raises(ValueError, match="between 0 and 1"):
        image_dataset_from_directory(folder, validation_split=1.5, subset="training", seed=1)
    with pytest.raises(ValueError, match="label_mode"):
        image_dataset_from_directory(folder, label_mode="onehot")
    with pytest.raises(ValueError, match="color_mode"):
        image_dataset_from_directory(folder, color_mode="cmyk")
    with pytest.raises(ValueError, match="class_names"):
        image_dataset_from_directory(folder, class_names=["cat", "dog"])
    with pytest.raises(ValueError, match="image_size"):
        image_dataset_from_directory(folder, image_size=(0, 5))
    (folder / "empty_class").mkdir()
    with pytest.raises(ValueError, match="empty_class holds no image files"):
        image_dataset_from_directory(folder)
    (tmp_path / "nothing").mkdir()
    with pytest.raises(ValueError, match="No images found"):
        image_dataset_from_directory(tmp_path / "nothing", labels=None)
    bad = tmp_path / "bad" / "a"
    bad.mkdir(parents=True)
    (bad / "broken.png").write_bytes(b"not a png")
    with pytest.raises(ValueError, match="could not read image file .*broken.png"):
        list(image_dataset_from_directory(tmp_path / "bad", verbose=False))


def test_load_img_and_img_to_array(folder):
    path = folder / "cat" / "002.png"
    img = load_img(path)
    arr = img_to_array(img)
    assert arr.shape == (12, 10, 3) and arr.dtype == np.float32
    assert arr[0, 0].tolist() == [40.0, 20.0, 200.0]
    assert img_to_array(load_img(path, color_mode="grayscale", target_size=(6, 4))).shape == (6, 4, 1)


# --- models on datasets --------------------------------------------------------------------------

def small_model(classes=3, shape=(8, 8, 3)):
    nk.utils.set_random_seed(0)
    model = nk.models.Sequential([layers.Input(shape=shape), layers.Rescaling(1 / 255.0), layers.Flatten(),
                                  layers.Dense(16, activation="relu"), layers.Dense(classes, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def test_fit_evaluate_predict_accept_a_dataset(folder):
    train, val = image_dataset_from_directory(folder, image_size=(8, 8), batch_size=4, validation_split=0.2,
                                              subset="both", seed=5, verbose=False)
    model = small_model()
    hist = model.fit(train, epochs=3, validation_data=val, verbose=0)
    assert len(hist.history["loss"]) == 3 and "val_accuracy" in hist.history
    assert hist.history["loss"][-1] < hist.history["loss"][0]
    loss, acc = model.evaluate(val, verbose=0)
    assert np.isfinite(loss) and 0.0 <= acc <= 1.0
    x, y = all_batches(val)
    np.testing.assert_allclose(loss, model.evaluate(x, y, verbose=0)[0], rtol=1e-5)
    pred = model.predict(val)
    assert pred.shape == (val.num_samples, 3)
    steps = model.fit(train, epochs=1, steps_per_epoch=7, verbose=0)  # more steps than one pass: carries on
    assert len(steps.history["loss"]) == 1
    with pytest.raises(ValueError, match="y must be None"):
        model.fit(train, np.zeros(3), verbose=0)
    with pytest.raises(ValueError, match="batch_size must be None"):
        model.fit(train, batch_size=4, verbose=0)


# --- augmentation layers -------------------------------------------------------------------------

AUG = [
    lambda s: layers.RandomFlip(seed=s),
    lambda s: layers.RandomTranslation(0.2, 0.3, seed=s),
    lambda s: layers.RandomRotation(0.1, seed=s),
    lambda s: layers.RandomZoom(0.3, seed=s),
]


@pytest.mark.parametrize("make", AUG)
def test_augmentation_is_identity_in_inference_and_seeded_in_training(make, rng):
    x = rng.standard_normal((6, 11, 9, 3)).astype(np.float32)
    a, b = make(42), make(42)
    np.testing.assert_array_equal(a(x), x)
    np.testing.assert_array_equal(a(x, training=False), x)
    ya, yb = a(x, training=True), b(x, training=True)
    np.testing.assert_array_equal(ya, yb)                      # same seed, same draws
    assert not np.array_equal(a(x, training=True), ya)         # the next call draws again
    assert ya.shape == x.shape and ya.dtype == np.float32
    cfg = a.get_config()
    clone = type(a).from_config(cfg)
    assert clone.get_config() == cfg
    single = make(1)(x[0], training=True)                      # an unbatched image works too
    assert single.shape == x[0].shape


def test_random_flip_flips_whole_images(rng):
    x = rng.standard_normal((40, 5, 6, 2)).astype(np.float32)
    y = layers.RandomFlip("horizontal", seed=3)(x, training=True)
    flipped = [np.array_equal(y[k], x[k, :, ::-1]) for k in range(40)]
    kept = [np.array_equal(y[k], x[k]) for k in range(40)]
    assert all(f or k for f, k in zip(flipped, kept)) and 5 < sum(flipped) < 35
    y = layers.RandomFlip("vertical", seed=3)(x, training=True)
    assert all(np.array_equal(y[k], x[k, ::-1]) or np.array_equal(y[k], x[k]) for k in range(40))
    y = layers.RandomFlip(seed=4)(x, training=True)
    options = lambda k: [x[k], x[k, ::-1], x[k, :, ::-1], x[k, ::-1, ::-1]]  # noqa: E731
    assert all(any(np.array_equal(y[k], o) for o in options(k)) for k in range(40))


def test_layers_use_the_keras_matrices(rng):
    """Each layer's draw, replayed through the formulas of Keras' layers, gives the same output."""
    x = rng.standard_normal((3, 10, 14, 2)).astype(np.float32)
    n, h, w = 3, 10, 14
    layer = layers.RandomRotation((0.05, 0.2), fill_mode="constant", fill_value=0.5, seed=9)
    y = layer(x, training=True)
    angle = np.random.default_rng(9).uniform(0.05, 0.2, size=n) * 2 * np.pi
    c, s = np.cos(angle), np.sin(angle)
    t = np.stack([c, -s, ((w - 1) - (c * (w - 1) - s * (h - 1))) / 2, s, c,
                  ((h - 1) - (s * (w - 1) + c * (h - 1))) / 2], 1)
    np.testing.assert_array_equal(y, ops.affine_transform2d(x, t, "bilinear", "constant", 0.5))
    layer = layers.RandomZoom((-0.5, -0.2), (0.1, 0.4), interpolation="nearest", fill_mode="wrap", seed=2)
    y = layer(x, training=True)
    g = np.random.default_rng(2)
    zy, zx = 1 + g.uniform(-0.5, -0.2, n), 1 + g.uniform(0.1, 0.4, n)
    t = np.stack([zx, 0 * zx, (w - 1) / 2 * (1 - zx), 0 * zx, zy, (h - 1) / 2 * (1 - zy)], 1)
    np.testing.assert_array_equal(y, ops.affine_transform2d(x, t, "nearest", "wrap"))
    layer = layers.RandomTranslation((0.1, 0.2), (-0.3, 0.0), seed=5)
    y = layer(x, training=True)
    g = np.random.default_rng(5)
    ty, tx = g.uniform(0.1, 0.2, n) * h, g.uniform(-0.3, 0.0, n) * w
    t = np.stack([np.ones(n), 0 * tx, -tx, 0 * tx, np.ones(n), -ty], 1)
    np.testing.assert_array_equal(y, ops.affine_transform2d(x, t, "bilinear", "reflect"))


def test_augmentation_backward_is_the_adjoint(rng):
    x = nk.tensor(rng.standard_normal((2, 7, 8, 3)).astype(np.float32))
    dy = nk.tensor(rng.standard_normal((2, 7, 8, 3)).astype(np.float32))
    layer = layers.RandomRotation(0.2, seed=1)
    layer(x)  # build
    y, ctx = layer.forward(x, training=True)
    dx = layer.backward(ctx, dy)
    t, _ = ctx
    assert_close(dx.numpy(), ops.affine_transform2d_backward(dy.numpy(), t, (2, 7, 8, 3)), "elementwise")
    y0, ctx0 = layer.forward(x, training=False)
    assert y0 is x and layer.backward(ctx0, dy) is dy


def test_rescaling(rng):
    x = rng.uniform(0, 255, (2, 3, 4, 3)).astype(np.float32)
    layer = layers.Rescaling(1 / 127.5, offset=-1)
    assert_close(layer(x), x.astype(np.float64) / 127.5 - 1, "elementwise")
    dy = nk.tensor(np.ones((2, 3, 4, 3), np.float32))
    assert_close(layer.backward(None, dy).numpy(), np.full((2, 3, 4, 3), 1 / 127.5), "elementwise")
    assert layers.deserialize(layers.serialize(layer)).get_config()["scale"] == layer.scale


def test_augmentation_bad_arguments():
    with pytest.raises(ValueError, match="unknown mode"):
        layers.RandomFlip("diagonal")
    with pytest.raises(ValueError, match=r"range \[-1.0, 1.0\]"):
        layers.RandomTranslation(1.5, 0.1)
    with pytest.raises(ValueError, match="lower bound"):
        layers.RandomRotation((0.3, 0.1))
    with pytest.raises(ValueError, match="larger than -1"):
        layers.RandomZoom((-1.5, 0.2))
    with pytest.raises(NotImplementedError, match="fill_mode"):
        layers.RandomZoom(0.2, fill_mode="mirror")
    with pytest.raises(NotImplementedError, match="interpolation"):
        layers.RandomRotation(0.2, interpolation="bicubic")
    with pytest.raises(ValueError, match="seed"):
        layers.RandomRotation(0.2, seed=-1)
    with pytest.raises(ValueError, match="scale"):
        layers.Rescaling("x")


def test_augmentation_inside_a_trained_model(rng):
    """fit runs the layers in training mode; predict leaves images untouched."""
    nk.utils.set_random_seed(1)
    model = nk.models.Sequential([layers.Input(shape=(8, 8, 1)), layers.RandomFlip("horizontal", seed=0),
                                  layers.RandomRotation(0.05, seed=0), layers.Flatten(),
                                  layers.Dense(2, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    x = rng.uniform(0, 1, (16, 8, 8, 1)).astype(np.float32)
    y = (x.mean(axis=(1, 2, 3)) > 0.5).astype(np.int64)
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    ref = nk.models.Sequential([layers.Input(shape=(8, 8, 1)), layers.Flatten(), layers.Dense(2, activation="softmax")])
    ref.layers[-1].set_weights(model.layers[-1].get_weights())
    np.testing.assert_array_equal(model.predict(x), ref.predict(x))


# --- the cats_dogs_cnn example -------------------------------------------------------------------

def test_cats_dogs_cnn_example_runs(capsys):
    from neurokern.examples import cats_dogs_cnn
    r = cats_dogs_cnn.main(["--seed", "0", "--steps", "2", "--batch-size", "4"])
    out = capsys.readouterr().out
    # the 150x150 network: 4 conv + 4 pool to (9, 9, 128) -> 10368 -> 512 -> 128 -> 1
    convs = 3 * 3 * 3 * 32 + 32 + 3 * 3 * 32 * 64 + 64 + 3 * 3 * 64 * 128 + 128 + 3 * 3 * 128 * 128 + 128
    dense = 10368 * 512 + 512 + 512 * 128 + 128 + 128 + 1
    assert r["params"] == convs + dense
    assert f"Total params: {convs + dense:,}" in out and "(None, 9, 9, 128)" in out
    assert r["class_names"] == ["cats", "dogs"]
    assert len(r["loss"]) == 1 and np.isfinite(r["loss"][0]) and 0.0 <= r["val_accuracy"] <= 1.0
