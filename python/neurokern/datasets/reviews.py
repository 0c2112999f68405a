"""A SYNTHETIC movie-review sentiment corpus, generated offline. It is NOT IMDB.

    from neurokern.datasets import reviews
    (x_train, y_train), (x_test, y_test) = reviews.load_data(num_words=1000, n_train=2000, n_test=500)
    texts, labels = reviews.generate(3, seed=0)          # the English texts behind the indices

Each review is made from a few templated sentences: 1-3 opinion phrases ("the acting was not
very good", "i found the plot dull") mixed with 1-3 neutral sentences ("i saw it on a sunday
with my sister"), in random order. An opinion phrase uses a positive or negative adjective,
sometimes an intensifier, and in about a quarter of phrases a negation ("not", "never",
"hardly") that flips it. The label (1 = positive) is the polarity of the majority of phrases:
only a review with 3 phrases may have one that disagrees (in 20% of them), so the label is
always determined by the text, but a model has to read negations (a bag of words gets about
0.78 held-out accuracy), not just spot one word.

load_data tokenises the texts with neurokern.preprocessing.text.Tokenizer fitted on the training
texts (rank 1 = most frequent word) and returns them exactly in keras.datasets.imdb's format and
with its arguments (start_char, oov_char, index_from, num_words, skip_top, maxlen; see
neurokern.datasets.imdb), so code written for IMDB runs on it unchanged. Reviews have about
10-50 words (median 27). It exists so the sentiment example and its test run with no download; accuracy on
it says nothing about accuracy on real reviews.
"""
import numpy as np

from neurokern.datasets.imdb import apply_vocabulary
from neurokern.preprocessing.text import Tokenizer

POSITIVE = ("good", "great", "excellent", "wonderful", "brilliant", "superb", "moving", "funny", "charming",
            "beautiful", "gripping", "delightful", "memorable", "clever", "touching", "fantastic", "enjoyable",
            "stunning", "masterful", "inventive")
NEGATIVE = ("bad", "awful", "terrible", "boring", "dull", "weak", "poor", "clumsy", "tedious", "predictable",
            "forgettable", "painful", "lifeless", "messy", "ugly", "annoying", "disappointing", "pointless",
            "bland", "stupid")
NEGATIONS = ("not", "never", "hardly")
INTENSIFIERS = ("very", "really", "truly", "quite", "so", "rather")
SUBJECTS = ("the film", "the movie", "the plot", "the acting", "the script", "the ending", "the cast",
            "the music", "the story", "the dialogue", "the direction", "the pacing", "the camera work",
            "this picture", "the lead actor", "the villain", "the second half", "the opening scene")
VERBS = ("was", "is", "felt", "seemed", "looked")
OPINION_TEMPLATES = ("{subj} {verb} {mod}{adj}", "i found {subj} {mod}{adj}", "overall {subj} {verb} {mod}{adj}",
                     "to me {subj} {verb} {mod}{adj}")
# Neutral sentences: plenty of words that carry no sentiment, so a model must find the opinions.
DAYS = ("monday", "friday", "saturday", "sunday", "rainy evening", "long flight", "holiday")
PEOPLE = ("sister", "brother", "friends", "parents", "wife", "husband", "roommate", "kids", "colleagues")
PLACES = ("a small town", "paris", "new york", "the desert", "a spaceship", "a hospital", "the suburbs",
          "an old house", "the mountains", "a prison")
THINGS = ("detective", "teacher", "soldier", "family", "robot", "journalist", "farmer", "boxer", "chef", "pilot")
ACTIONS = ("moves to the city", "looks for a lost brother", "tries to win a contest", "keeps a secret",
           "plans a long trip", "opens a restaurant", "investigates a crime", "returns home after the war")
FILLER_TEMPLATES = ("i saw it on a {day} with my {who}", "it runs about {n} minutes",
                    "the story takes place in {place}", "it is about a {thing} who {act}",
                    "it was released in {year}", "my {who} picked it for us",
                    "the {thing} is played by a newcomer", "there is a long scene in {place}")


NEGATION_RATE = 0.25      # share of opinion phrases that are negated ("not good" = negative)
CONTRARY_RATE = 0.2       # chance that a 3-phrase review has one phrase against its label


def _opinion(rng, polarity):
    """One opinion phrase with the given polarity (1 positive, 0 negative)."""
    negated = rng.random() < NEGATION_RATE
    words = POSITIVE if (polarity == 1) != negated else NEGATIVE  # a negation flips the adjective's sign
    mod = ""
    if negated:
        mod += NEGATIONS[rng.integers(len(NEGATIONS))] + " "
    if rng.random() < 0.4:
        mod += INTENSIFIERS[rng.integers(len(INTENSIFIERS))] + " "
    return OPINION_TEMPLATES[rng.integers(len(OPINION_TEMPLATES))].format(
        subj=SUBJECTS[rng.integers(len(SUBJECTS))], verb=VERBS[rng.integers(len(VERBS))], mod=mod,
        adj=words[rng.integers(len(words))])


def _filler(rng):
    return FILLER_TEMPLATES[rng.integers(len(FILLER_TEMPLATES))].format(
        day=DAYS[rng.integers(len(DAYS))], who=PEOPLE[rng.integers(len(PEOPLE))],
        n=int(rng.integers(80, 180)), place=PLACES[rng.integers(len(PLACES))],
        thing=THINGS[rng.integers(len(THINGS))], act=ACTIONS[rng.integers(len(ACTIONS))],
        year=int(rng.integers(1950, 2025)))


def generate(n, seed=0):
    """(texts, labels): `n` generated reviews (English strings) and int64 labels (1 = positive)."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"n must be a non-negative integer. Received: n={n!r}")
    rng = np.random.default_rng(seed)
    texts, labels = [], np.empty(n, dtype=np.int64)
    for i in range(n):
        label = int(rng.integers(2))
        k = int(rng.integers(1, 4))                                         # opinion phrases
        contrary = int(rng.random() < CONTRARY_RATE) if k == 3 else 0        # a minority, never a tie
        polarities = [1 - label] * contrary + [label] * (k - contrary)
        sentences = [_opinion(rng, p) for p in polarities] + [_filler(rng) for _ in range(rng.integers(1, 4))]
        order = rng.permutation(len(sentences))
        texts.append(". ".join(sentences[j].capitalize() for j in order) + ".")
        labels[i] = label
    return texts, labels


def _check_count(name, v):
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
        raise ValueError(f"{name} must be a positive integer. Received: {name}={v!r}")


def _corpus(n_train, n_test, seed):
    _check_count("n_train", n_train)
    _check_count("n_test", n_test)
    # one stream for both splits: the test reviews are new draws, not copies of training reviews
    texts, labels = generate(n_train + n_test, seed)
    tok = Tokenizer()
    tok.fit_on_texts(texts[:n_train])
    return tok, texts, labels


def get_word_index(n_train=2000, n_test=500, seed=0):
    """{word: rank} of the corpus load_data(n_train=..., n_test=..., seed=...) builds (rank 1 = most
    frequent); in the sequences a word appears as rank + index_from, as with imdb.get_word_index()."""
    return dict(_corpus(n_train, n_test, seed)[0].word_index)


def load_data(num_words=None, maxlen=None, n_train=2000, n_test=500, seed=0, skip_top=0, start_char=1,
              oov_char=2, index_from=3):
    """((x_train, y_train), (x_test, y_test)) in keras.datasets.imdb's format, from generated reviews.

    `seed` fixes the texts and the shuffle. Words that only occur in the test reviews are dropped
    (they have no rank), as in IMDB's own index. `maxlen` drops reviews of maxlen words or more,
    exactly as imdb.load_data does (to cut reviews instead, use pad_sequences).
    """
    tok, texts, labels = _corpus(n_train, n_test, seed)
    seqs = tok.texts_to_sequences(texts)
    return apply_vocabulary(seqs[:n_train], labels[:n_train], seqs[n_train:], labels[n_train:],
                            num_words=num_words, skip_top=skip_top, maxlen=maxlen, seed=seed,
                            start_char=start_char, oov_char=oov_char, index_from=index_from)
