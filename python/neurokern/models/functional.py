"""Functional models with one input and one output: Model(inputs, outputs) (Keras semantics).

    inputs = Input(shape=(784,))
    x = Dense(512, activation="relu")(inputs)
    outputs = Dense(10, activation="softmax")(Dropout(0.2)(x))
    model = Model(inputs=inputs, outputs=outputs)

Each layer call on a symbolic KerasTensor records (layer, inbound tensor). With single-input layers
the graph from `inputs` to `outputs` is a chain of calls, which may call the same layer more than
once (weight sharing: each call keeps its own ctx, and the backward of every call adds into the
shared weight gradients). The chain runs with Sequential's forward/backward; `layers` lists the
InputLayer and then each distinct layer once, as Keras does.
"""
from neurokern.layers.input_layer import InputLayer, KerasTensor
from neurokern.models.model import Model
from neurokern.models.sequential import Sequential

__all__ = ["Functional"]


def _single(t, what):
    if isinstance(t, (list, tuple)):
        if len(t) != 1:
            raise NotImplementedError(f"models with several {what} are not supported yet. Received: {len(t)} "
                                      f"{what}")
        t = t[0]
    if not isinstance(t, KerasTensor):
        raise TypeError(f"{what} must be symbolic tensors from Input(...) and layer calls. "
                        f"Received: {what}={t!r}")
    return t


class Functional(Sequential):
    """A Model built from Input(...) and layer calls. Created by Model(inputs=..., outputs=...)."""

    def __init__(self, inputs=None, outputs=None, name=None, trainable=True):
        if inputs is None or outputs is None:
            raise TypeError("Model() needs inputs and outputs: Model(inputs=Input(shape=...), outputs=...); or use "
                            f"Sequential([...]). Received: inputs={inputs!r}, outputs={outputs!r}")
        inputs, outputs = _single(inputs, "inputs"), _single(outputs, "outputs")
        Model.__init__(self, name=name, trainable=trainable)
        if not (inputs.history and isinstance(inputs.history[0], InputLayer)):
            raise ValueError("inputs must be the tensor returned by Input(shape=...)")
        calls, t = [], outputs
        while t is not inputs:
            if t.history is None or isinstance(t.history[0], InputLayer):
                raise ValueError(f"outputs {t!r} are not computed from the given inputs {inputs!r}: pass the "
                                 "Input(...) tensor the layers were called on")
            layer, t = t.history
            calls.append(layer)
        self._layers = calls[::-1]  # the call sequence (a shared layer appears once per call)
        self._input_layer = inputs.history[0]
        self._shapes = []
        self._infer_shapes()
        self._build_shape = self._input_layer._build_shape
        self.inputs, self.outputs = [inputs], [outputs]

    @property
    def layers(self):
        """The InputLayer, then each distinct layer once, in call order (Keras)."""
        out, seen = [self._input_layer], {id(self._input_layer)}
        for layer in self._layers:
            if id(layer) not in seen:
                seen.add(id(layer))
                out.append(layer)
        return out

    def _sublayers(self):
        return self.layers[1:]

    def add(self, layer):
        raise TypeError("a functional Model is fixed by its inputs and outputs; use Sequential to add layers")

    def pop(self):
        raise TypeError("a functional Model is fixed by its inputs and outputs; use Sequential to pop layers")

    def get_config(self):
        from neurokern import layers as layers_module
        distinct = self.layers
        index = {id(layer): i for i, layer in enumerate(distinct)}
        return {"name": self.name, "trainable": self.trainable,
                "layers": [layers_module.serialize(layer) for layer in distinct],
                "calls": [index[id(layer)] for layer in self._layers]}

    @classmethod
    def from_config(cls, config):
        from neurokern import layers as layers_module
        distinct = [layers_module.deserialize(item) for item in config["layers"]]
        if not distinct or not isinstance(distinct[0], InputLayer):
            raise ValueError("a functional model config starts with its InputLayer")
        t = distinct[0].output
        for i in config["calls"]:
            t = distinct[i](t)
        return cls(distinct[0].output, t, name=config.get("name"), trainable=config.get("trainable", True))
