"""An LSTM forecasts next month's international airline passengers from the last `look_back` months.

The same data, split and scaling as timeseries_mlp (bundled Box & Jenkins series, 1949-1960;
the last 48 months test; MinMax fitted on the training months only), but the window is fed as a
sequence: input shape (timesteps=look_back, features=1), the Keras layout (samples, timesteps,
features) that LSTM expects.

Each window is given relative to its last month (inputs x - x_last, target y - x_last; the
forecast is x_last + output): the LSTM learns the month-to-month change. Fed raw levels, it fits
the training years but cannot extrapolate to the busier test years, whose scaled levels (up to
1.7) it never saw: measured test RMSE 62-76, worse than persistence (seeds 0-2, 300 epochs);
relative windows stay in the training range. (The MLP, being piecewise linear, extrapolates
levels and needs no such step.)

Network: LSTM(units) -> Dense(1), mean squared error, Adam. Reported: train and test RMSE in
thousands of passengers next to the persistence baseline ("next month = this month", test RMSE
48.0). With look_back=12 the window holds the same month a year earlier, so the LSTM can learn
the seasonal swing; measured test RMSE 25-32 over seeds 0-3 (100 epochs, about 2 s).

--plot PATH saves truth vs predictions as a PNG (needs matplotlib; without it the plot is
skipped with a message). --no-plot turns it off.
"""
from neurokern import layers, models, optimizers, utils
from neurokern.datasets import airline
from neurokern.examples._common import Printer, Timer, parser
from neurokern.examples.timeseries_mlp import add_common_arguments, check_look_back, forecast_report


def build_model(look_back, units=32, learning_rate=0.01):
    model = models.Sequential([
        layers.LSTM(units, input_shape=(look_back, 1)),
        layers.Dense(1),
    ])
    model.compile(optimizer=optimizers.Adam(learning_rate=learning_rate), loss="mse")
    return model


def main(argv=None):
    p = parser("timeseries_lstm", __doc__, epochs=100, seed=0)
    add_common_arguments(p, "timeseries_lstm", look_back=12, batch_size=8, learning_rate=0.01)
    p.add_argument("--units", type=int, default=32)
    args = p.parse_args(argv)
    check_look_back(p, args.look_back)
    say = Printer(args.quiet)
    utils.set_random_seed(args.seed)

    series = airline.load_data()
    split = airline.windowed_split(series, look_back=args.look_back, train_fraction=0.67)
    # relative to the window's last month, then (samples, look_back) -> (samples, timesteps, features=1)
    last_train, last_test = split.x_train[:, -1], split.x_test[:, -1]
    x_train = (split.x_train - last_train[:, None]).reshape(len(split.x_train), args.look_back, 1)
    x_test = (split.x_test - last_test[:, None]).reshape(len(split.x_test), args.look_back, 1)
    say(f"airline passengers: {len(x_train)} training sequences, {len(x_test)} test sequences "
        f"({airline.months()[split.test_index[0]]} .. {airline.months()[split.test_index[-1]]}), "
        f"shape (timesteps={args.look_back}, features=1)")

    model = build_model(args.look_back, args.units, args.learning_rate)
    with Timer() as t:
        history = model.fit(x_train, split.y_train - last_train, epochs=args.epochs, batch_size=args.batch_size,
                            shuffle=True, verbose=0)
    say(f"trained {args.epochs} epochs in {t.seconds:.2f} s; final training loss (scaled MSE) "
        f"{history.history['loss'][-1]:.5f}")
    train_pred = last_train + model.predict(x_train)[:, 0]
    test_pred = last_test + model.predict(x_test)[:, 0]
    m = forecast_report(say, split, series, train_pred, test_pred,
                        f"LSTM({args.units})", None if args.no_plot else args.plot)
    m["seconds"] = t.seconds
    return m


if __name__ == "__main__":
    main()
