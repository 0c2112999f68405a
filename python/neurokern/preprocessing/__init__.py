"""Data preprocessing in keras.preprocessing style.

    from neurokern.preprocessing.sequence import pad_sequences
    from neurokern.preprocessing.text import Tokenizer
"""
from neurokern.preprocessing import sequence, text  # noqa: F401
from neurokern.preprocessing.sequence import pad_sequences  # noqa: F401
from neurokern.preprocessing.text import Tokenizer, text_to_word_sequence  # noqa: F401
