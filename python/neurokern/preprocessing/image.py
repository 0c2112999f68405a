"""Image folders as batched datasets, with Keras' `image_dataset_from_directory` semantics.

    directory/
        cats/  cat001.jpg cat002.png ...
        dogs/  dog001.jpg ...

    train = image_dataset_from_directory(directory, validation_split=0.2, subset="training", seed=1,
                                         image_size=(150, 150), batch_size=32)
    for images, labels in train:          # images float32 (B, 150, 150, 3) in [0, 255], labels int32 (B,)
        ...

What follows Keras (keras/src/utils/image_dataset_utils.py):
- class names are the sub-directory names sorted alphanumerically (or `class_names`, which fixes
  the order); files are found recursively inside each class directory, with the extensions
  .bmp .gif .jpeg .jpg .png (any case);
- with shuffle=True the file list is shuffled once with `seed` before splitting, so the same seed gives
  disjoint 'training' (the first 1 - validation_split) and 'validation' (the last int(validation_split * N))
  subsets; validation_split with shuffle needs a seed, as in Keras;
- labels: 'int' -> int32 (B,), 'categorical' -> float32 one-hot (B, num_classes), 'binary' -> float32
  (B, 1) (exactly two classes), None -> images only;
- images are resized to image_size like tf.image.resize (half-pixel centres, no antialiasing), here by
  ops.affine_transform2d (bilinear or nearest), and keep their [0, 255] range as float32.
`map(fn)` transforms batches (tf.data style).
Differences: the data is read lazily per batch, each pass over a shuffled dataset reshuffles (like
tf.data's reshuffle_each_iteration) with a generator seeded by `seed`, and only 'bilinear'/'nearest'
resizing exists. `prefetch` / `cache` are accepted and do nothing, so Keras tutorial code runs.

Pillow decodes the files (a dependency of neurokern).
"""
import math
import os
from pathlib import Path

import numpy as np

__all__ = ["image_dataset_from_directory", "ImageDataset", "load_img", "img_to_array", "array_to_img",
           "ALLOWED_FORMATS"]

ALLOWED_FORMATS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
_COLOR_MODES = {"grayscale": ("L", 1), "rgb": ("RGB", 3), "rgba": ("RGBA", 4)}


def _pil():
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - Pillow is a dependency
        raise ImportError("reading image files needs Pillow: pip install pillow") from None
    return Image


# --- single images -------------------------------------------------------------------------------

def load_img(path, color_mode="rgb", target_size=None, interpolation="nearest", keep_aspect_ratio=False):
    """A PIL image from `path`, converted to `color_mode` and resized (PIL) to target_size (height, width)."""
    Image = _pil()
    if color_mode not in _COLOR_MODES:
        raise ValueError(f"color_mode must be 'grayscale', 'rgb' or 'rgba'. Received: color_mode={color_mode!r}")
    filters = {"nearest": Image.NEAREST, "bilinear": Image.BILINEAR, "bicubic": Image.BICUBIC,
               "lanczos": Image.LANCZOS, "box": Image.BOX, "hamming": Image.HAMMING}
    if interpolation not in filters:
        raise ValueError(f"interpolation must be one of {sorted(filters)}. Received: interpolation={interpolation!r}")
    with open(path, "rb") as f:
        img = Image.open(f)
        img.load()
    img = img.convert(_COLOR_MODES[color_mode][0])
    if target_size is not None:
        h, w = (int(s) for s in target_size)
        if (img.height, img.width) != (h, w):
            if keep_aspect_ratio:  # crop the centre to the target's aspect ratio first (Keras)
                ch, cw = min(img.height, img.width * h // w), min(img.width, img.height * w // h)
                top, left = (img.height - ch) // 2, (img.width - cw) // 2
                img = img.crop((left, top, left + cw, top + ch))
            img = img.resize((w, h), filters[interpolation])
    return img


def img_to_array(img, data_format=None, dtype="float32"):
    """(height, width, channels) array of a PIL image (channels_last)."""
    if data_format not in (None, "channels_last"):
        raise ValueError(f"only data_format='channels_last' is supported. Received: data_format={data_format!r}")
    arr = np.asarray(img, dtype=dtype)
    return arr[:, :, None] if arr.ndim == 2 else arr


def array_to_img(x, scale=True):
    """A PIL image from a (height, width, 1|3|4) array; scale=True maps [min, max] to [0, 255]."""
    Image = _pil()
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 3 or x.shape[-1] not in (1, 3, 4):
        raise ValueError(f"array_to_img expects (height, width, 1|3|4). Received: array with shape {x.shape}")
    if scale:
        x = x - x.min()
        if x.max() > 0:
            x = x * (255.0 / x.max())
    x = np.clip(np.round(x), 0, 255).astype(np.uint8)
    return Image.fromarray(x[:, :, 0] if x.shape[-1] == 1 else x, {1: "L", 3: "RGB", 4: "RGBA"}[x.shape[-1]])


def _resize(arr, size, interpolation):
    """tf.image.resize (half-pixel centres, no antialias) of one (h, w, c) float32 image, by the affine kernel."""
    from neurokern import ops
    h, w = arr.shape[:2]
    oh, ow = size
    if (h, w) == (oh, ow):
        return arr
    sx, sy = w / ow, h / oh  # input coordinate = (out + 0.5) * scale - 0.5, clamped to the image
    t = np.array([sx, 0.0, 0.5 * sx - 0.5, 0.0, sy, 0.5 * sy - 0.5], np.float32)
    return ops.affine_transform2d(np.ascontiguousarray(arr[None]), t, interpolation, "nearest",
                                  output_shape=(oh, ow))[0]


# --- directories ---------------------------------------------------------------------------------

def _files_under(root, follow_links):
    out = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=follow_links):
        dirnames.sort()
        for name in sorted(filenames):
            if name.lower().endswith(ALLOWED_FORMATS):
                out.append(os.path.join(dirpath, name))
    return out


class ImageDataset:
    """Batches (images, labels) read from image files; iterable any number of times.

    `len(ds)` is the number of batches; `class_names` and `file_paths` are as in Keras."""

    def __init__(self, file_paths, labels, class_names, label_mode, color_mode, batch_size, image_size,
                 interpolation, shuffle, seed):
        self.file_paths = list(file_paths)
        self._labels = labels
        self.class_names = class_names
        self.label_mode = label_mode
        self.color_mode = color_mode
        self.batch_size = batch_size
        self.image_size = image_size
        self.interpolation = interpolation
        self.shuffle = shuffle
        self._rng = np.random.default_rng(seed)
        self.element_spec = ((None,) + tuple(image_size) + (_COLOR_MODES[color_mode][1],),
                             None if label_mode is None else self._label_shape())

    def _label_shape(self):
        return {"int": (None,), "binary": (None, 1), "categorical": (None, len(self.class_names))}[self.label_mode]

    @property
    def num_samples(self):
        return len(self.file_paths)

    def __len__(self):
        return math.ceil(len(self.file_paths) / self.batch_size)

    def _load(self, path):
        try:
            img = load_img(path, color_mode=self.color_mode)
        except Exception as e:  # PIL.UnidentifiedImageError, truncated files, ...
            raise ValueError(f"could not read image file {path}: {e}") from None
        return _resize(img_to_array(img), self.image_size, self.interpolation)

    def _labels_for(self, idx):
        y = self._labels[idx]
        if self.label_mode == "int":
            return y.astype(np.int32)
        if self.label_mode == "binary":
            return y.astype(np.float32).reshape(-1, 1)
        out = np.zeros((len(y), len(self.class_names)), np.float32)
        out[np.arange(len(y)), y] = 1.0
        return out

    def __iter__(self):
        n = len(self.file_paths)
        order = self._rng.permutation(n) if self.shuffle else np.arange(n)
        for start in range(0, n, self.batch_size):
            idx = order[start:start + self.batch_size]
            images = np.stack([self._load(self.file_paths[i]) for i in idx]).astype(np.float32, copy=False)
            if self.label_mode is None:
                yield images
            else:
                yield images, self._labels_for(idx)

    def map(self, fn):
        """A dataset whose batches are fn(*batch) (e.g. lambda x, y: (preprocess_input(x), y)), as tf.data's map."""
        return _MappedDataset(self, fn)

    def take(self, count):
        """The first `count` batches of one pass (a list)."""
        out = []
        for i, batch in enumerate(self):
            if i >= count:
                break
            out.append(batch)
        return out

    def prefetch(self, buffer_size=None):
        return self

    def cache(self, filename=""):
        return self

    def __repr__(self):
        return (f"<ImageDataset {len(self.file_paths)} files, {len(self.class_names or [])} classes, "
                f"{len(self)} batches of {self.batch_size}>")


class _MappedDataset:
    """`dataset.map(fn)`: the same batches passed through fn; keeps len(), class_names, map and take."""

    def __init__(self, source, fn):
        self._source, self._fn = source, fn
        self.class_names = getattr(source, "class_names", None)
        self.file_paths = getattr(source, "file_paths", None)

    def __len__(self):
        return len(self._source)

    def __iter__(self):
        for batch in self._source:
            yield self._fn(*batch) if isinstance(batch, tuple) else self._fn(batch)

    map = ImageDataset.map
    take = ImageDataset.take
    prefetch = ImageDataset.prefetch
    cache = ImageDataset.cache


def _split(paths, labels, validation_split, subset):
    num_val = int(validation_split * len(paths))
    if subset == "training":
        return paths[:len(paths) - num_val], labels[:len(paths) - num_val]
    return paths[len(paths) - num_val:], labels[len(labels) - num_val:]


def image_dataset_from_directory(directory, labels="inferred", label_mode="int", class_names=None,
                                 color_mode="rgb", batch_size=32, image_size=(256, 256), shuffle=True, seed=None,
                                 validation_split=None, subset=None, interpolation="bilinear", follow_links=False,
                                 crop_to_aspect_ratio=False, pad_to_aspect_ratio=False, data_format=None,
                                 verbose=True):
    """An ImageDataset of (images, labels) batches from `directory` (see the module docstring).

    subset='both' returns (training, validation)."""
    if not isinstance(directory, (str, os.PathLike)) or not Path(directory).is_dir():
        raise ValueError(f"directory must be an existing directory of class sub-directories. "
                         f"Received: directory={directory!r}")
    if not (labels in ("inferred", None) or isinstance(labels, (list, tuple))):
        raise ValueError("`labels` argument should be a list/tuple of integer labels, of the same size as the number "
                         "of image files in the target directory. If you wish to infer the labels from the "
                         "subdirectory names in the target directory, pass `labels=\"inferred\"`. If you wish to get "
                         "a dataset that only contains images (no labels), pass `labels=None`. "
                         f"Received: labels={labels!r}")
    if label_mode not in ("int", "categorical", "binary", None):
        raise ValueError('`label_mode` argument must be one of "int", "categorical", "binary", or None. '
                         f"Received: label_mode={label_mode!r}")
    if labels is None:
        label_mode = None
    if class_names is not None and labels != "inferred":
        raise ValueError(f"You can only pass `class_names` if `labels='inferred'`. Received: labels={labels!r}, "
                         f"and class_names={class_names!r}")
    if color_mode not in _COLOR_MODES:
        raise ValueError('`color_mode` must be one of {"rgb", "rgba", "grayscale"}. '
                         f"Received: color_mode={color_mode!r}")
    if interpolation not in ("bilinear", "nearest"):
        raise ValueError(f"interpolation must be 'bilinear' or 'nearest' (tf.image.resize methods neurokern has). "
                         f"Received: interpolation={interpolation!r}")
    if crop_to_aspect_ratio or pad_to_aspect_ratio:
        raise NotImplementedError("crop_to_aspect_ratio / pad_to_aspect_ratio are not supported yet")
    if data_format not in (None, "channels_last"):
        raise ValueError(f"only data_format='channels_last' is supported. Received: data_format={data_format!r}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size <= 0:
        raise ValueError(f"batch_size must be a positive integer. Received: batch_size={batch_size!r}")
    try:
        image_size = tuple(int(s) for s in image_size)
    except (TypeError, ValueError):
        image_size = ()
    if len(image_size) != 2 or min(image_size) <= 0:
        raise ValueError("image_size must be (height, width) of positive integers. "
                         f"Received: image_size={image_size!r}")
    if validation_split is not None and not (isinstance(validation_split, (int, float)) and 0 < validation_split < 1):
        raise ValueError(f"`validation_split` must be between 0 and 1, received: {validation_split!r}")
    if subset not in ("training", "validation", "both", None):
        raise ValueError(f'`subset` must be either "training", "validation" or "both", received: {subset!r}')
    if bool(validation_split) != bool(subset):
        raise ValueError("If `subset` is set, `validation_split` must be set, and inversely. "
                         f"Received: validation_split={validation_split!r}, subset={subset!r}")
    if validation_split and shuffle and seed is None:
        raise ValueError("If using `validation_split` and shuffling the data, you must provide a `seed` argument, to "
                         "make sure that there is no overlap between the training and validation subset.")

    root = Path(directory)
    if labels == "inferred":
        subdirs = sorted(p.name for p in root.iterdir() if p.is_dir())
        if class_names is not None:
            class_names = [str(c) for c in class_names]
            if sorted(class_names) != subdirs:
                raise ValueError(f"The `class_names` passed did not match the names of the subdirectories of the "
                                 f"target directory. Expected: {subdirs} (or a reordering). Received: "
                                 f"class_names={class_names}")
        else:
            class_names = subdirs
        paths, label_list = [], []
        for k, name in enumerate(class_names):
            files = _files_under(root / name, follow_links)
            if not files:
                raise ValueError(f"class directory {root / name} holds no image files ({', '.join(ALLOWED_FORMATS)}): "
                                 "remove it or add images")
            paths += files
            label_list += [k] * len(files)
        label_arr = np.array(label_list, np.int64)
    else:
        paths = _files_under(root, follow_links)
        class_names = None
        if labels is None:
            label_arr = np.zeros(len(paths), np.int64)
        else:
            label_arr = np.asarray(labels)
            if label_arr.ndim != 1 or len(label_arr) != len(paths) or label_arr.dtype.kind not in "iu":
                raise ValueError(f"Expected the lengths of `labels` to match the number of files in the target "
                                 f"directory. len(labels) is {len(labels)} while we found {len(paths)} files in "
                                 f"directory {directory}.")
            label_arr = label_arr.astype(np.int64)
            class_names = [str(c) for c in range(int(label_arr.max()) + 1)] if len(label_arr) else []
    if not paths:
        raise ValueError(f"No images found in directory {directory}. Allowed formats: {ALLOWED_FORMATS}")
    if label_mode == "binary" and len(class_names or []) != 2:
        raise ValueError(f'When passing `label_mode="binary"`, there must be exactly 2 class_names. Received: '
                         f"class_names={class_names}")
    if verbose:
        print(f"Found {len(paths)} files" + (f" belonging to {len(class_names)} classes." if class_names else "."))

    if shuffle:  # once, before splitting: the same seed gives complementary subsets
        if seed is None:
            seed = int(np.random.default_rng().integers(0, 1_000_000))
        perm = np.random.default_rng(seed).permutation(len(paths))
        paths, label_arr = [paths[i] for i in perm], label_arr[perm]

    def make(p, y, what):
        if not p:
            raise ValueError(f"No {what} images found in directory {directory} (validation_split="
                             f"{validation_split}, {len(paths)} files). Allowed formats: {ALLOWED_FORMATS}")
        if verbose and what:
            print(f"Using {len(p)} files for {what}.")
        return ImageDataset(p, y, class_names, label_mode, color_mode, int(batch_size), image_size, interpolation,
                            shuffle, None if seed is None else seed + (1 if what == "validation" else 0))

    if subset is None:
        return make(paths, label_arr, "")
    if subset == "both":
        return (make(*_split(paths, label_arr, validation_split, "training"), "training"),
                make(*_split(paths, label_arr, validation_split, "validation"), "validation"))
    return make(*_split(paths, label_arr, validation_split, subset), subset)
