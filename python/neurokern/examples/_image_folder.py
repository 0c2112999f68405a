"""A small generated image folder for the CNN examples (so they run offline, in seconds).

Class k's images show a few soft blobs of one hue on a noisy background, so the classes are
separable by colour and texture but no two images are alike. Written as PNG with Pillow, laid out as
image_dataset_from_directory expects: root/<class name>/<index>.png.
"""
from pathlib import Path

import numpy as np

HUES = ((220, 90, 40), (40, 120, 220), (60, 200, 80), (200, 190, 50))


def make_image_folder(root, class_names=("cats", "dogs"), per_class=16, size=64, seed=0):
    from PIL import Image

    rng = np.random.default_rng(seed)
    root = Path(root)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    for k, name in enumerate(class_names):
        d = root / name
        d.mkdir(parents=True, exist_ok=True)
        hue = np.array(HUES[k % len(HUES)], np.float32)
        for i in range(per_class):
            img = rng.uniform(60, 140, (size, size, 3)).astype(np.float32)
            for _ in range(3):
                cy, cx = rng.uniform(0.2, 0.8, 2) * size
                r = rng.uniform(0.1, 0.25) * size
                a = np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * r * r))[..., None]
                img = img * (1 - a) + hue * a
            Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(d / f"{i:03d}.png")
    return root
