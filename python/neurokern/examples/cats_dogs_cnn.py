"""The small convnet for cats vs dogs (150x150x3, Chollet's Deep Learning with Python, 5.2).

    Rescaling(1/255) [+ RandomFlip, RandomRotation(0.1), RandomZoom(0.2) during training]
    Conv2D 32 -> MaxPool -> Conv2D 64 -> MaxPool -> Conv2D 128 -> MaxPool -> Conv2D 128 -> MaxPool
    (3x3 'same' ReLU convolutions, 2x2 pools) -> Flatten -> Dropout(0.5) -> Dense 512 ReLU
    -> Dense 128 ReLU -> Dense 1 sigmoid;  RMSprop(1e-4), binary cross-entropy

--data DIR trains on a real folder (DIR/cats/*.jpg, DIR/dogs/*.jpg, e.g. Kaggle's dogs-vs-cats);
without it a small generated two-class folder is used and a few steps run in seconds. Prints the
summary, the per-epoch loss/accuracy and the validation accuracy.
"""
import tempfile

from neurokern.examples._common import Printer, Timer, parser


def build_model(image_size=150, augment=True, seed=0):
    from neurokern import layers, models, optimizers, utils

    utils.set_random_seed(seed)
    stack = [layers.Input(shape=(image_size, image_size, 3)), layers.Rescaling(1.0 / 255)]
    if augment:
        stack += [layers.RandomFlip("horizontal", seed=seed), layers.RandomRotation(0.1, seed=seed),
                  layers.RandomZoom(0.2, seed=seed)]
    for filters in (32, 64, 128, 128):
        stack += [layers.Conv2D(filters, (3, 3), padding="same", activation="relu"), layers.MaxPooling2D((2, 2))]
    stack += [layers.Flatten(), layers.Dropout(0.5, seed=seed), layers.Dense(512, activation="relu"),
              layers.Dense(128, activation="relu"), layers.Dense(1, activation="sigmoid")]
    model = models.Sequential(stack, name="cats_dogs_cnn")
    model.compile(optimizer=optimizers.RMSprop(learning_rate=1e-4), loss="binary_crossentropy",
                  metrics=["accuracy"])
    return model


def main(argv=None):
    p = parser("cats_dogs_cnn", __doc__, epochs=1)
    p.add_argument("--data", help="image folder with one sub-directory per class (two classes)")
    p.add_argument("--image-size", type=int, default=150, help="square input size (default 150)")
    p.add_argument("--batch-size", type=int, default=8, help="batch size (default 8)")
    p.add_argument("--steps", type=int, default=None,
                   help="training steps per epoch (default: one pass; 3 on the generated folder)")
    p.add_argument("--no-augment", action="store_true", help="leave out the augmentation layers")
    args = p.parse_args(argv)
    out = Printer(args.quiet)
    from neurokern.preprocessing import image_dataset_from_directory

    with tempfile.TemporaryDirectory() as tmp:
        data, steps = args.data, args.steps
        if data is None:
            from neurokern.examples._image_folder import make_image_folder
            data = make_image_folder(tmp, ("cats", "dogs"), per_class=12, size=64, seed=args.seed)
            steps = steps or 3
            out(f"no --data: generated {data} (2 classes x 12 images)")
        train, val = image_dataset_from_directory(
            data, label_mode="binary", image_size=(args.image_size, args.image_size), batch_size=args.batch_size,
            validation_split=0.2, subset="both", seed=args.seed, verbose=not args.quiet)
        model = build_model(args.image_size, augment=not args.no_augment, seed=args.seed)
        model.summary(print_fn=out)
        with Timer() as t:
            hist = model.fit(train, epochs=args.epochs, steps_per_epoch=steps, validation_data=val,
                             verbose=0 if args.quiet else 2)
        out(f"trained {args.epochs} epoch(s) in {t.seconds:.1f} s")
    h = hist.history
    return {"params": model.count_params(), "loss": h["loss"], "accuracy": h["accuracy"],
            "val_loss": h["val_loss"][-1], "val_accuracy": h["val_accuracy"][-1], "class_names": train.class_names,
            "seconds": t.seconds}


if __name__ == "__main__":
    main()
