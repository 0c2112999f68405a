"""Transfer learning with VGG16: train a new head on a frozen convolutional base, then fine-tune block5.

    base = VGG16(include_top=False, weights=..., input_shape=(S, S, 3)); base.trainable = False
    model = Sequential([base, Flatten(), Dense(64, relu), Dropout(0.5), Dense(classes, softmax)])
    1. fit the head (Adam 1e-3); the base's weights stay bit-identical
    2. base.trainable = True, then every layer outside block5 frozen again; recompile (Adam 1e-5); fit

Images go through vgg16.preprocess_input (RGB -> BGR, minus the ImageNet means) via dataset.map.
--weights PATH loads Keras' vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5 (or 'imagenet' to use the
cached / downloaded file); without it the base is randomly initialised, which still shows the mechanics.
--data DIR uses a real image folder; by default a small generated 3-class folder at 64x64 runs in seconds.
"""
import tempfile

import numpy as np

from neurokern.examples._common import Printer, Timer, parser


def build(classes, image_size, weights, seed=0):
    from neurokern import layers, models, utils
    from neurokern.applications import VGG16

    utils.set_random_seed(seed)
    base = VGG16(include_top=False, weights=weights, input_shape=(image_size, image_size, 3))
    base.trainable = False
    model = models.Sequential([base, layers.Flatten(), layers.Dense(64, activation="relu", name="head_dense"),
                               layers.Dropout(0.5, seed=seed), layers.Dense(classes, activation="softmax",
                                                                           name="head_predictions")],
                              name="vgg16_transfer")
    return base, model


def _snapshot(model):
    return {w.path: w.numpy() for w in model.weights}


def main(argv=None):
    p = parser("vgg16_transfer", __doc__, epochs=2)
    p.add_argument("--data", help="image folder with one sub-directory per class")
    p.add_argument("--weights", default=None, help="Keras VGG16 notop .h5 file, or 'imagenet' (default: random)")
    p.add_argument("--image-size", type=int, default=64, help="square input size, >= 32 (default 64)")
    p.add_argument("--batch-size", type=int, default=8, help="batch size (default 8)")
    p.add_argument("--fine-tune-epochs", type=int, default=1, help="epochs with block5 trainable (default 1)")
    args = p.parse_args(argv)
    out = Printer(args.quiet)
    from neurokern import optimizers
    from neurokern.applications.vgg16 import preprocess_input
    from neurokern.preprocessing import image_dataset_from_directory

    with tempfile.TemporaryDirectory() as tmp:
        data = args.data
        if data is None:
            from neurokern.examples._image_folder import make_image_folder
            data = make_image_folder(tmp, ("cats", "dogs", "frogs"), per_class=8, size=48, seed=args.seed)
            out(f"no --data: generated {data} (3 classes x 8 images)")
        size = (args.image_size, args.image_size)
        train, val = image_dataset_from_directory(data, image_size=size, batch_size=args.batch_size,
                                                  validation_split=0.25, subset="both", seed=args.seed,
                                                  verbose=not args.quiet)
        classes = len(train.class_names)
        train_p = train.map(lambda x, y: (preprocess_input(x), y))
        val_p = val.map(lambda x, y: (preprocess_input(x), y))
        base, model = build(classes, args.image_size, args.weights, args.seed)
        model.compile(optimizer=optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        model.summary(print_fn=out)
        frozen = _snapshot(base)
        with Timer() as t1:
            h1 = model.fit(train_p, epochs=args.epochs, validation_data=val_p, verbose=0 if args.quiet else 2)
        base_unchanged = all(np.array_equal(v, frozen[k]) for k, v in _snapshot(base).items())
        out(f"head trained in {t1.seconds:.1f} s; frozen base unchanged: {base_unchanged}")

        fine = {"loss": [], "val_accuracy": [None]}
        changed, t2 = [], 0.0
        if args.fine_tune_epochs > 0:
            base.trainable = True
            for layer in base.layers:
                layer.trainable = layer.name.startswith("block5")
            model.compile(optimizer=optimizers.Adam(1e-5), loss="sparse_categorical_crossentropy",
                          metrics=["accuracy"])
            before = _snapshot(base)
            with Timer() as timer:
                fine = model.fit(train_p, epochs=args.fine_tune_epochs, validation_data=val_p,
                                 verbose=0 if args.quiet else 2).history
            t2 = timer.seconds
            changed = sorted({k.split("/")[0] for k, v in _snapshot(base).items() if not np.array_equal(v, before[k])})
            out(f"fine-tuned in {t2:.1f} s; base layers changed: {changed}")
    return {"class_names": train.class_names, "head_loss": h1.history["loss"],
            "head_val_accuracy": h1.history["val_accuracy"][-1], "base_unchanged": base_unchanged,
            "fine_tune_loss": fine["loss"], "fine_tune_val_accuracy": fine["val_accuracy"][-1],
            "changed_base_layers": changed, "seconds": t1.seconds + t2}


if __name__ == "__main__":
    main()
