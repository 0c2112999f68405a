"""Data preprocessing utilities (Keras `keras.utils` / `keras.preprocessing` equivalents):

    ds = nk.preprocessing.image_dataset_from_directory("data/train", image_size=(150, 150), batch_size=32)
    model.fit(ds, epochs=5)

and the single-image helpers load_img / img_to_array / array_to_img. Images are decoded with Pillow.
"""
from neurokern.preprocessing.image import (  # noqa: F401
    ALLOWED_FORMATS, ImageDataset, array_to_img, image_dataset_from_directory, img_to_array, load_img)

__all__ = ["image_dataset_from_directory", "ImageDataset", "load_img", "img_to_array", "array_to_img",
           "ALLOWED_FORMATS"]
