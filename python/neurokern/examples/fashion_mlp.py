"""The mnist_mlp network on Fashion-MNIST (Zalando's 10 clothing classes, same format as MNIST).

The data comes from --data, $NEUROKERN_DATA/fashion-mnist, ~/.cache/neurokern/fashion-mnist,
Debian's dataset-fashion-mnist package (/usr/share/datasets/fashion-mnist) or a verified download.
Adam by default: over seeds 0-7, 2 epochs gave 0.856-0.864 test accuracy with Adam and a wider
0.83-0.865 with RMSprop (--optimizer rmsprop), whose first epochs are noisier at Keras's defaults.
"""
from neurokern.datasets import fashion_mnist
from neurokern.examples._mlp784 import make_parser, run


def main(argv=None):
    args = make_parser("fashion_mlp", __doc__, epochs=2, optimizer="adam").parse_args(argv)
    return run(args, lambda path: fashion_mnist.load_data(path), "Fashion-MNIST")


if __name__ == "__main__":
    main()
