"""A word-index Tokenizer with the semantics of Keras 2's keras.preprocessing.text.Tokenizer.

    tok = Tokenizer(num_words=10000, oov_token="<unk>")
    tok.fit_on_texts(["The film was good.", "A good, good film!"])
    tok.word_index                     # {'<unk>': 1, 'good': 2, 'film': 3, 'the': 4, 'was': 5, 'a': 6}
    tok.texts_to_sequences(["a bad film"])          # [[6, 1, 3]]

The rules, as Keras:
- a text is lower-cased (lower=True), every character of `filters` becomes `split`, and it is cut
  at `split`, dropping empty pieces (text_to_word_sequence);
- fit_on_texts counts words; indices start at 1 (0 is left for padding) and go by decreasing
  count, ties in order of first appearance; an `oov_token` always gets index 1;
- word_index holds every word seen, whatever num_words; num_words only acts when texts are
  turned into sequences: a word whose index is >= num_words is dropped (or becomes the oov
  index), so at most num_words - 1 distinct indices come out, as in Keras;
- an unknown word is dropped, or becomes the oov index when oov_token is set.
A text may also be a list of tokens (used as is, lower-cased if lower=True), as in Keras.
Not implemented: char_level, analyzer, texts_to_matrix and the JSON round trip.
"""
from collections import OrderedDict, defaultdict

__all__ = ["Tokenizer", "text_to_word_sequence"]

DEFAULT_FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n'


def text_to_word_sequence(input_text, filters=DEFAULT_FILTERS, lower=True, split=" "):
    """The words of `input_text`: lower-cased, `filters` characters removed, cut at `split`."""
    if not isinstance(input_text, str):
        raise ValueError(f"text_to_word_sequence needs a string. Received: input_text of type "
                         f"{type(input_text).__name__}")
    if lower:
        input_text = input_text.lower()
    input_text = input_text.translate(str.maketrans({c: split for c in filters}))
    return [w for w in input_text.split(split) if w]


class Tokenizer:
    """Maps words to integer indices by frequency (see the module docstring for the exact rules).

    Attributes after fit_on_texts: word_index (word -> index), index_word (index -> word),
    word_counts (word -> count, in first-seen order), word_docs (word -> number of texts holding
    it), document_count.
    """

    def __init__(self, num_words=None, filters=DEFAULT_FILTERS, lower=True, split=" ", oov_token=None):
        if num_words is not None and (isinstance(num_words, bool) or not isinstance(num_words, int)
                                      or num_words < 1):
            raise ValueError(f"num_words must be None or a positive integer. Received: num_words={num_words!r}")
        if not isinstance(filters, str):
            raise ValueError(f"filters must be a string of characters to remove. Received: filters={filters!r}")
        if not isinstance(split, str) or not split:
            raise ValueError(f"split must be a non-empty string. Received: split={split!r}")
        if oov_token is not None and not isinstance(oov_token, str):
            raise ValueError(f"oov_token must be None or a string. Received: oov_token={oov_token!r}")
        self.num_words = num_words
        self.filters = filters
        self.lower = bool(lower)
        self.split = split
        self.oov_token = oov_token
        self.word_counts = OrderedDict()
        self.word_docs = defaultdict(int)
        self.document_count = 0
        self.word_index = {}
        self.index_word = {}

    def _words(self, text):
        if isinstance(text, str):
            return text_to_word_sequence(text, self.filters, self.lower, self.split)
        if isinstance(text, (list, tuple)) and all(isinstance(w, str) for w in text):
            return [w.lower() for w in text] if self.lower else list(text)
        raise ValueError(f"each text must be a string or a list of token strings. Received: {text!r}")

    def fit_on_texts(self, texts):
        """Count the words of `texts` (adding to earlier calls) and rebuild word_index."""
        if isinstance(texts, str):
            raise ValueError("fit_on_texts needs a list of texts, not one string. "
                             "Received: texts of type str (wrap it in a list)")
        for text in texts:
            words = self._words(text)
            self.document_count += 1
            for w in words:
                self.word_counts[w] = self.word_counts.get(w, 0) + 1
            for w in set(words):
                self.word_docs[w] += 1
        # sorted() is stable, so equal counts keep their first-seen order (as Keras)
        by_count = sorted(self.word_counts.items(), key=lambda wc: wc[1], reverse=True)
        vocab = ([self.oov_token] if self.oov_token is not None else []) + [w for w, _ in by_count]
        # (an oov_token that also occurs in the texts ends up with its frequency index, since the
        # later duplicate key wins in dict(zip(...)); Keras does the same)
        self.word_index = dict(zip(vocab, range(1, len(vocab) + 1)))
        self.index_word = {i: w for w, i in self.word_index.items()}

    def texts_to_sequences(self, texts):
        """Each text as a list of word indices (rules in the module docstring)."""
        if isinstance(texts, str):
            raise ValueError("texts_to_sequences needs a list of texts, not one string. "
                             "Received: texts of type str (wrap it in a list)")
        oov = self.word_index.get(self.oov_token) if self.oov_token is not None else None
        out = []
        for text in texts:
            seq = []
            for w in self._words(text):
                i = self.word_index.get(w)
                if i is None or (self.num_words and i >= self.num_words):
                    if oov is not None:
                        seq.append(oov)
                else:
                    seq.append(i)
            out.append(seq)
        return out

    def sequences_to_texts(self, sequences):
        """The inverse mapping: each sequence of indices as a space-joined string (Keras rules:
        indices >= num_words and unknown indices become the oov token, or are dropped)."""
        oov = self.word_index.get(self.oov_token) if self.oov_token is not None else None
        out = []
        for seq in sequences:
            words = []
            for i in seq:
                i = int(i)
                w = self.index_word.get(i)
                if w is None or (self.num_words and i >= self.num_words):
                    if oov is not None:
                        words.append(self.index_word[oov])
                else:
                    words.append(w)
            out.append(" ".join(words))
        return out
