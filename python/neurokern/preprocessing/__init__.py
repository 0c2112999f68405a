"""Data preprocessing in keras.preprocessing / keras.utils style.

    from neurokern.preprocessing.sequence import pad_sequences
    from neurokern.preprocessing.text import Tokenizer
    ds = nk.preprocessing.image_dataset_from_directory("data/train", image_size=(150, 150), batch_size=32)
    model.fit(ds, epochs=5)

plus the single-image helpers load_img / img_to_array / array_to_img (images are decoded with Pillow).
"""
from neurokern.preprocessing import image, sequence, text  # noqa: F401
from neurokern.preprocessing.sequence import pad_sequences  # noqa: F401
from neurokern.preprocessing.text import Tokenizer, text_to_word_sequence  # noqa: F401
from neurokern.preprocessing.image import (  # noqa: F401
    ALLOWED_FORMATS, ImageDataset, array_to_img, image_dataset_from_directory, img_to_array, load_img)
