"""Sequential: a stack of layers, each taking the previous one's output (Keras semantics).

    model = Sequential([Input(shape=(784,)), Dense(512, activation="relu"), Dropout(0.2),
                        Dense(10, activation="softmax")])

Shapes are inferred when a layer is added (if the input shape is known: Input, InputLayer, or
input_shape= on the first layer) or on the first call / fit, so a mismatch is reported at once, naming
the layer and the layer that produced its input. `layers` excludes the InputLayer, as in Keras.

Backward walks the layers in reverse and skips input gradients nobody needs: no layer before the
first one with trained weights computes dx (for an MLP, the first Dense skips its largest GEMM).
"""
from neurokern.layers.base import Layer, _bump_structure, _shape_str
from neurokern.layers.input_layer import InputLayer, KerasTensor
from neurokern.models.model import Model

__all__ = ["Sequential"]


class Sequential(Model):
    def __init__(self, layers=None, name=None, trainable=True, **kwargs):
        super().__init__(name=name, trainable=trainable, **kwargs)
        self._layers = []
        self._input_layer = None
        self._shapes = []  # output shape of each layer once the input shape is known
        if isinstance(layers, Layer):
            layers = [layers]
        for layer in layers or []:
            self.add(layer)

    @property
    def layers(self):
        return list(self._layers)

    def add(self, layer):
        """Append a layer (or an Input(...) tensor / InputLayer as the first element)."""
        if isinstance(layer, KerasTensor):
            owner = layer.history[0] if layer.history else None
            if not isinstance(owner, InputLayer):
                raise TypeError("Sequential.add accepts layers and Input(...) tensors, not the symbolic output of "
                                f"another layer. Received: {layer!r}")
            layer = owner
        if not isinstance(layer, Layer):
            raise TypeError("The added layer must be an instance of class Layer. "
                            f"Received: layer={layer!r} of type {type(layer).__name__}")
        if layer is self:
            raise ValueError("a model cannot be added to itself")
        if isinstance(layer, InputLayer):
            if self._input_layer is not None or self._layers:
                raise ValueError(f"Sequential model '{self.name}': an InputLayer / Input can only be the first "
                                 "element, and only once")
            self._input_layer = layer
            self._infer_shapes()
            return
        if any(l.name == layer.name for l in self._layers):
            raise ValueError("All layers added to a Sequential model should have unique names. Name "
                             f"'{layer.name}' is already the name of a layer in this model. Update the `name` "
                             "argument to pass a unique name.")
        if layer._multi_output:
            raise ValueError(f"All layers in a Sequential model should have a single output tensor; layer "
                             f"'{layer.name}' ({type(layer).__name__}) returns several (e.g. return_state=True). "
                             "Use the functional API: outputs = layer(inputs); models.Model(inputs, outputs)")
        if not self._layers and self._input_layer is None:
            if layer._batch_input_shape is not None:
                self._input_layer = InputLayer(batch_shape=layer._batch_input_shape)
            elif isinstance(layer, Model) and layer.built:  # a built sub-model brings its input shape
                self._input_layer = InputLayer(shape=layer.input_shape[1:])
        self._layers.append(layer)
        _bump_structure()
        if self._input_layer is not None:
            try:
                self._infer_layer(len(self._layers) - 1)
            except Exception:
                self._layers.pop()
                raise
            self.built = True

    def _first_layer_name(self):
        return self._layers[0].name if self._layers else self.name

    def _last_layer_name(self):
        return self._layers[-1].name if self._layers else self.name

    def pop(self):
        if not self._layers:
            raise TypeError("There are no layers in the model.")
        layer = self._layers.pop()
        _bump_structure()
        self._shapes = self._shapes[:len(self._layers)]
        return layer

    # ---- shapes ----------------------------------------------------------------------------------
    def _infer_layer(self, i):
        """Build layer i on the output shape of layer i-1 (or the input) and record its output shape."""
        prev = self._shapes[i - 1] if i > 0 else self._input_layer._build_shape
        producer = self._layers[i - 1].name if i > 0 else None
        layer = self._layers[i]
        layer._maybe_build(prev, producer)
        self._shapes[i:] = [tuple(layer.compute_output_shape(prev))]

    def _infer_shapes(self):
        self._shapes = []
        for i in range(len(self._layers)):
            self._infer_layer(i)
        self.built = True

    def _build_from_shape(self, input_shape):
        if self._input_layer is None:
            self._input_layer = InputLayer(shape=tuple(input_shape)[1:])
        self._infer_shapes()
        self._build_shape = self._input_layer._build_shape

    def build(self, input_shape=None):
        """Build every layer for inputs of `input_shape` (with the batch axis, e.g. (None, 784))."""
        if input_shape is None:
            if self._input_layer is None:
                raise ValueError(f"Sequential model '{self.name}' cannot be built without an input shape: pass "
                                 "build((None, features)), or start the model with Input(shape=...)")
            input_shape = self._input_layer._build_shape
        elif self._input_layer is not None and tuple(input_shape)[1:] != tuple(self._input_layer._build_shape)[1:]:
            raise ValueError(f"Sequential model '{self.name}' already has input shape "
                             f"{self._input_layer._build_shape}; cannot build it for {tuple(input_shape)}")
        self._build_from_shape(tuple(input_shape))
        self.built = True

    def check_input_shape(self, shape, producer=None):
        """Used when this model is a layer of another model: the input must match the built input shape."""
        if self._input_layer is None:
            return
        expected = self._input_layer._build_shape
        if len(expected) != len(shape) or any(e is not None and s is not None and e != s
                                              for e, s in zip(expected[1:], shape[1:])):
            where = f" (output of layer '{producer}')" if producer else ""
            raise ValueError(f"Input 0 of layer '{self.name}' is incompatible with the layer: expected shape "
                             f"{_shape_str(expected)}, but received input with shape {_shape_str(shape)}{where}")

    @property
    def input_shape(self):
        if self._input_layer is None:
            raise AttributeError(f"Sequential model '{self.name}' has no input shape yet")
        return self._input_layer._build_shape

    def compute_output_shape(self, input_shape):
        shape = tuple(input_shape)
        for layer in self._layers:
            shape = tuple(layer.compute_output_shape(shape))
        return shape

    @property
    def output_shape(self):
        if not self.built:
            raise AttributeError(f"Sequential model '{self.name}' is not built yet, so it has no output shape")
        return self._shapes[-1] if self._shapes else self.input_shape

    # ---- compute ---------------------------------------------------------------------------------
    def forward(self, x, training=False):
        # Keras masking: Embedding(mask_zero=True) makes a (batch, timesteps) mask; a recurrent layer
        # consumes it (masked steps carry the state through) and passes it on only with
        # return_sequences; layers with supports_masking (Dense, Dropout, Activation, TimeDistributed)
        # pass it through unchanged; any other layer ends it.
        from neurokern.layers.recurrent import Recurrent

        ctxs = []
        mask = None
        for layer in self._layers:
            inputs = x
            if mask is not None and isinstance(layer, Recurrent):
                x, ctx = layer.forward(x, training, mask=mask)
                mask = mask if layer.return_sequences else None
            else:
                x, ctx = layer.forward(x, training)
                if hasattr(layer, "compute_mask"):
                    mask = layer.compute_mask(inputs, mask)
                elif not getattr(layer, "supports_masking", False):
                    mask = None
            ctxs.append(ctx)
        return x, ctxs

    def _needs_dx(self, need_dx):
        """needs[i]: must layer i return dx? Yes if the caller wants dx or an earlier layer has gradients."""
        first = next((i for i, layer in enumerate(self._layers)
                      if any(w.grad is not None for w in layer._all_weights())), None)
        return [need_dx or (first is not None and i > first) for i in range(len(self._layers))]

    def _backward_from(self, ctx, dy, i, needs):
        for j in range(i, -1, -1):
            if dy is None:
                return None
            dy = self._layers[j].backward(ctx[j], dy, need_dx=needs[j])
        return dy

    def backward(self, ctx, dy, need_dx=True):
        if not self._layers:
            return dy if need_dx else None
        return self._backward_from(ctx, dy, len(self._layers) - 1, self._needs_dx(need_dx))

    @property
    def output_activation(self):
        return self._layers[-1].output_activation if self._layers else None

    def backward_from_pre_activation(self, ctx, dz, need_dx=True):
        needs = self._needs_dx(need_dx)
        dy = self._layers[-1].backward_from_pre_activation(ctx[-1], dz, need_dx=needs[-1])
        return self._backward_from(ctx, dy, len(self._layers) - 2, needs)

    # ---- config ----------------------------------------------------------------------------------
    def get_config(self):
        from neurokern import layers as layers_module
        items = ([layers_module.serialize(self._input_layer)] if self._input_layer is not None else []) + \
            [layers_module.serialize(layer) for layer in self._layers]
        return {"name": self.name, "trainable": self.trainable, "layers": items}

    @classmethod
    def from_config(cls, config):
        from neurokern import layers as layers_module
        config = dict(config)
        items = config.pop("layers", [])
        model = cls(name=config.get("name"), trainable=config.get("trainable", True))
        for item in items:
            model.add(layers_module.deserialize(item))
        return model
