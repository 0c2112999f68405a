"""Functional models: Model(inputs, outputs) over a graph of layer calls (Keras semantics).

    img = Input(shape=(28, 28, 1)); meta = Input(shape=(4,))
    x = Flatten()(img)
    h = Concatenate()([Dense(32, activation="relu")(x), meta])
    model = Model(inputs=[img, meta], outputs=[Dense(10, activation="softmax")(h), Dense(1)(h)])

Every layer call on symbolic tensors records a Node (layers/input_layer.py): the layer, the KerasTensors
it was called on and those it returned. Model(inputs, outputs) walks back from the outputs and keeps
the nodes in topological order (each node after the nodes that produce its inputs). The graph may have
several inputs and outputs, layers taking several inputs (merging layers), one layer called more than
once (shared weights: each call keeps its own ctx and every call's backward adds into the same
w.grad), and models used as layers (a generator and a discriminator stacked into a GAN).

Checked when the model is built, each with a message saying what to fix: inputs that are not
Input(...) tensors, outputs that depend on an Input not given in `inputs` (a disconnected graph), an
input no output depends on, a cycle, two layers with one name. Incompatible shapes were already
refused when the layers were called.

    forward:  run the nodes in order; values[tensor] = its Tensor.  ctx = one ctx per node.
    backward: run the nodes in reverse; grads[tensor] = sum of the gradients from every consumer
              (ops.add). A node is skipped when nothing after it needs a gradient, and asked for dx
              (need_dx) only when one of its inputs leads back to a weight being trained or to a model
              input whose gradient the caller wants.

With one output produced by a layer whose last step is an activation (and consumed by no other node),
`output_activation` exposes it so the loss can fuse with it (softmax + cross-entropy), as Sequential does.
"""
from neurokern import ops
from neurokern.layers.base import _bump_structure, _shape_str
from neurokern.layers.input_layer import InputLayer, KerasTensor
from neurokern.models.model import Model

__all__ = ["Functional"]


def _tensor_list(ts, what):
    if isinstance(ts, dict):
        raise TypeError(f"{what} as a dict is not supported: pass a list of tensors. Received: {what} with keys "
                        f"{sorted(ts)}")
    many = isinstance(ts, (list, tuple))
    items = list(ts) if many else [ts]
    if not items:
        raise ValueError(f"a model needs at least one tensor in {what}. Received: {what}={ts!r}")
    for t in items:
        if not isinstance(t, KerasTensor):
            raise TypeError(f"{what} must be symbolic tensors from Input(...) and layer calls. "
                            f"Received: {what}={t!r}")
    return items, many


def _tensor_name(t):
    layer, node, index = t.history
    return f"{layer.name}[{0 if node is None else node.index}][{index}]"


def _topological_nodes(inputs, outputs):
    """The nodes between `inputs` and `outputs`, each after the nodes producing its inputs (iterative
    depth-first post-order, so a deep model does not hit Python's recursion limit)."""
    input_ids = {id(t) for t in inputs}
    used_inputs, order, state = set(), [], {}  # state: 1 = on the current path, 2 = done
    for out in outputs:
        stack = [(out, None)]
        while stack:
            t, it = stack[-1]
            if it is None:  # first visit of tensor t
                if id(t) in input_ids:
                    used_inputs.add(id(t))
                    stack.pop()
                    continue
                layer, node, _ = t.history if t.history else (None, None, 0)
                if node is None:
                    where = f"Input '{layer.name}' of shape {_shape_str(t.shape)}" if layer is not None else repr(t)
                    raise ValueError(
                        f"Graph disconnected: the outputs are not computed from the given inputs alone. Output "
                        f"{_tensor_name(out)} depends on {where}, which is not in `inputs` "
                        f"{[_tensor_name(i) for i in inputs]}. Pass it in inputs=[...], or build the outputs from "
                        "the Input(...) tensors you pass.")
                s = state.get(id(node))
                if s == 2:
                    stack.pop()
                    continue
                if s == 1:
                    raise ValueError(f"the graph has a cycle through layer '{node.layer.name}': a layer's output "
                                     "leads back into its own input. Functional models must be acyclic.")
                state[id(node)] = 1
                stack[-1] = (t, iter(node.inputs))
                continue
            nxt = next(it, None)
            if nxt is not None:
                stack.append((nxt, None))
                continue
            node = t.history[1]
            state[id(node)] = 2
            order.append(node)
            stack.pop()
    unused = [t for t in inputs if id(t) not in used_inputs]
    if unused:
        raise ValueError(f"Graph disconnected: input(s) {[_tensor_name(t) for t in unused]} are not used to compute "
                         "any output. Remove them from `inputs`, or connect them to an output.")
    return order


class Functional(Model):
    """A Model built from Input(...) and layer calls. Created by Model(inputs=..., outputs=...)."""

    def __init__(self, inputs=None, outputs=None, name=None, trainable=True):
        if inputs is None or outputs is None:
            raise TypeError("Model() needs inputs and outputs: Model(inputs=Input(shape=...), outputs=...); or use "
                            f"Sequential([...]). Received: inputs={inputs!r}, outputs={outputs!r}")
        ins, ins_list = _tensor_list(inputs, "inputs")
        outs, outs_list = _tensor_list(outputs, "outputs")
        for t in ins:
            if not (t.history and isinstance(t.history[0], InputLayer) and t.history[1] is None):
                raise ValueError("inputs must be the tensors returned by Input(shape=...), not outputs of other "
                                 f"layers. Received: {_tensor_name(t) if t.history else t!r}")
        if len({id(t) for t in ins}) != len(ins):
            raise ValueError(f"the same Input appears twice in inputs {[_tensor_name(t) for t in ins]}: list each "
                             "input once")
        Model.__init__(self, name=name, trainable=trainable)
        self._nodes = _topological_nodes(ins, outs)
        self.inputs, self.outputs = ins, outs
        self._input_layers = [t.history[0] for t in ins]
        self._multi_input = len(ins) > 1
        self._multi_output = len(outs) > 1
        # Model(inputs=[x], ...) was given lists: predict/fit also accept a list of one array
        self._list_io = (ins_list, outs_list)
        names = {}
        for layer in self.layers:
            if names.setdefault(layer.name, layer) is not layer:
                raise ValueError(f"All layer names should be unique. The name '{layer.name}' is used by two "
                                 "different layers of this model: give one of them another `name`.")
        # Which tensors does a node consume (for the fused output activation)?
        self._consumed = {id(t) for node in self._nodes for t in node.inputs}
        self._build_shape = self.input_shape
        self.built = True
        _bump_structure()

    # ---- structure -------------------------------------------------------------------------------
    @property
    def layers(self):
        """The InputLayers (in `inputs` order), then each other layer once, in call order (Keras)."""
        out, seen = list(self._input_layers), {id(layer) for layer in self._input_layers}
        for node in self._nodes:
            if id(node.layer) not in seen:
                seen.add(id(node.layer))
                out.append(node.layer)
        return out

    def _sublayers(self):
        return [layer for layer in self.layers if not isinstance(layer, InputLayer)]

    def _first_layer_name(self):
        return self._input_layers[0].name

    def _last_layer_name(self):
        return self.outputs[0].history[0].name

    def _input_count(self):
        return len(self.inputs)

    def _output_count(self):
        return len(self.outputs)

    def _output_names(self):
        """One name per output (the producing layer's, Keras's key for per-output losses and metrics)."""
        names = [t.history[0].name for t in self.outputs]
        return [n if names.count(n) == 1 else f"{n}_{i}" for i, n in enumerate(names)]

    def add(self, layer):
        raise TypeError("a functional Model is fixed by its inputs and outputs; use Sequential to add layers")

    def pop(self):
        raise TypeError("a functional Model is fixed by its inputs and outputs; use Sequential to pop layers")

    @property
    def input(self):
        """The input KerasTensor (a list with several inputs), as in Keras."""
        return list(self.inputs) if self._multi_input else self.inputs[0]

    @property
    def output(self):
        return list(self.outputs) if self._multi_output else self.outputs[0]

    # ---- shapes ----------------------------------------------------------------------------------
    @property
    def input_shape(self):
        shapes = [tuple(t.shape) for t in self.inputs]
        return shapes if self._multi_input else shapes[0]

    @property
    def output_shape(self):
        shapes = [tuple(t.shape) for t in self.outputs]
        return shapes if self._multi_output else shapes[0]

    def compute_output_shape(self, input_shape):
        shapes = [tuple(t.shape) for t in self.outputs]
        return shapes if self._multi_output else shapes[0]

    def build(self, input_shape=None):
        """A functional model is built by construction; `input_shape`, if given, must match its inputs."""
        if input_shape is not None:
            self.check_input_shape(input_shape)

    def _build_from_shape(self, input_shape):
        self.check_input_shape(input_shape)

    def _maybe_build(self, input_shape, producer=None):
        self.check_input_shape(input_shape, producer)
        return input_shape

    def check_input_shape(self, shape, producer=None):
        """Used when this model is called as a layer: each input must match the model's Input shapes."""
        shapes = list(shape) if self._multi_input else [shape]
        if self._multi_input and (not isinstance(shape, (list, tuple)) or not all(isinstance(s, (list, tuple))
                                                                                  for s in shape)):
            raise ValueError(f"model '{self.name}' takes {len(self.inputs)} inputs: call it on a list of "
                             f"{len(self.inputs)} tensors. Received: input shape {shape!r}")
        if len(shapes) != len(self.inputs):
            raise ValueError(f"model '{self.name}' takes {len(self.inputs)} input(s), but was called on "
                             f"{len(shapes)}")
        producers = list(producer) if isinstance(producer, (list, tuple)) else [producer] * len(shapes)
        for i, (t, s, p) in enumerate(zip(self.inputs, shapes, producers)):
            expected = tuple(t.shape)
            s = tuple(s)
            if len(expected) != len(s) or any(e is not None and d is not None and e != d
                                              for e, d in zip(expected[1:], s[1:])):
                where = f" (output of layer '{p}')" if p else ""
                raise ValueError(f"Input {i} of layer '{self.name}' is incompatible with the layer: expected shape "
                                 f"{_shape_str(expected)}, but received input with shape {_shape_str(s)}{where}")

    # ---- compute ---------------------------------------------------------------------------------
    def forward(self, x, training=False):
        from neurokern.layers.recurrent import Recurrent

        xs = list(x) if self._multi_input else [x]
        if len(xs) != len(self.inputs):
            raise ValueError(f"model '{self.name}' takes {len(self.inputs)} inputs. Received: {len(xs)}")
        values = {id(t): v for t, v in zip(self.inputs, xs)}
        masks = {}  # Keras masking through single-input layers, as in Sequential.forward
        ctxs = []
        for node in self._nodes:
            args = [values[id(t)] for t in node.inputs]
            layer = node.layer
            if node.multi_input:
                mask = masks.get(id(node.inputs[0])) if isinstance(layer, Recurrent) else None  # [x, *states]
                if mask is not None:
                    y, ctx = layer.forward(args, training, mask=mask)
                else:
                    y, ctx = layer.forward(args, training)
                out_mask = mask if mask is not None and layer.return_sequences else None
            else:
                mask = masks.get(id(node.inputs[0]))
                if mask is not None and isinstance(layer, Recurrent):
                    y, ctx = layer.forward(args[0], training, mask=mask)
                    out_mask = mask if layer.return_sequences else None
                else:
                    y, ctx = layer.forward(args[0], training)
                    if hasattr(layer, "compute_mask"):
                        out_mask = layer.compute_mask(args[0], mask)
                    else:
                        out_mask = mask if getattr(layer, "supports_masking", False) else None
            ys = list(y) if layer._multi_output else [y]
            for t, v in zip(node.outputs, ys):
                values[id(t)] = v
                if out_mask is not None:
                    masks[id(t)] = out_mask
            ctxs.append(ctx)
        outs = [values[id(t)] for t in self.outputs]
        return (outs if self._multi_output else outs[0]), ctxs

    def _requires_grad(self, need_dx):
        """{id(tensor): does its gradient lead anywhere?} (to a trained weight or, with need_dx, an input)."""
        req = {id(t): need_dx for t in self.inputs}
        for node in self._nodes:
            r = any(req.get(id(t), False) for t in node.inputs) or \
                any(w.grad is not None for w in node.layer._all_weights())
            for t in node.outputs:
                req[id(t)] = r
        return req

    def _backward(self, ctxs, seeds, need_dx, fused=None):
        """seeds: {id(output tensor): gradient}. fused: (node, dz) whose backward starts from the pre-activation."""
        req = self._requires_grad(need_dx)
        grads = dict(seeds)
        for node, ctx in zip(reversed(self._nodes), reversed(ctxs)):
            is_fused = fused is not None and node is fused[0]
            dys = [grads.pop(id(t), None) for t in node.outputs]
            if not is_fused and all(d is None for d in dys):
                continue
            needs = [req.get(id(t), False) for t in node.inputs]
            if not any(needs) and not any(w.grad is not None for w in node.layer._all_weights()):
                continue
            layer = node.layer
            if is_fused:
                dx = layer.backward_from_pre_activation(ctx, fused[1], need_dx=any(needs))
            elif layer._multi_output:
                dx = layer.backward(ctx, dys, need_dx=any(needs))
            else:
                dx = layer.backward(ctx, dys[0], need_dx=any(needs))
            if not any(needs) or dx is None:
                continue
            dxs = list(dx) if node.multi_input else [dx]
            for t, d, n in zip(node.inputs, dxs, needs):
                if n and d is not None:
                    prev = grads.get(id(t))
                    grads[id(t)] = d if prev is None else ops.add(prev, d)  # several consumers: gradients add
        if not need_dx:
            return None
        out = []
        for t in self.inputs:
            d = grads.get(id(t))
            if d is None:  # the input reaches the outputs only through paths without gradient
                raise RuntimeError(f"model '{self.name}': no gradient reached input '{t.history[0].name}'")
            out.append(d)
        return out if self._multi_input else out[0]

    def backward(self, ctx, dy, need_dx=True):
        dys = list(dy) if self._multi_output else [dy]
        if len(dys) != len(self.outputs):
            raise ValueError(f"model '{self.name}' has {len(self.outputs)} outputs; backward received "
                             f"{len(dys)} gradients")
        seeds = {}
        for t, d in zip(self.outputs, dys):
            if d is not None:
                seeds[id(t)] = d if id(t) not in seeds else ops.add(seeds[id(t)], d)
        return self._backward(ctx, seeds, need_dx)

    def _fusable_node(self):
        if self._multi_output:
            return None
        t = self.outputs[0]
        node = t.history[1]
        if node is None or node.layer._multi_output or id(t) in self._consumed:
            return None
        return node

    @property
    def output_activation(self):
        node = self._fusable_node()
        return None if node is None else node.layer.output_activation

    def backward_from_pre_activation(self, ctx, dz, need_dx=True):
        node = self._fusable_node()
        if node is None:
            raise NotImplementedError(f"model '{self.name}' has no output activation to fuse")
        return self._backward(ctx, {}, need_dx, fused=(node, dz))

    # ---- summary ---------------------------------------------------------------------------------
    def _node_index(self):
        """{id(node): index among the calls of its layer inside this model} (Keras's node numbering)."""
        index, count = {}, {}
        for node in self._nodes:
            i = count.get(id(node.layer), 0)
            index[id(node)] = i
            count[id(node.layer)] = i + 1
        return index

    def _summary_connections(self):
        """{id(layer): ['producer[node][tensor]', ...]} over every call of the layer in this model."""
        index = self._node_index()
        out = {id(layer): [] for layer in self._input_layers}

        def name(t):
            layer, node, i = t.history
            return f"{layer.name}[{0 if node is None else index[id(node)]}][{i}]"

        for node in self._nodes:
            out.setdefault(id(node.layer), []).extend(name(t) for t in node.inputs)
        return out

    def _summary_output_shape(self, layer):
        if isinstance(layer, InputLayer):
            return _shape_str(layer._build_shape)
        shapes = set()
        for node in self._nodes:
            if node.layer is layer:
                shapes.add(tuple(tuple(t.shape) for t in node.outputs))
        if len(shapes) != 1:
            return "multiple"
        (outs,) = shapes
        return _shape_str(outs[0]) if len(outs) == 1 else "[" + ", ".join(_shape_str(s) for s in outs) + "]"

    # ---- config ----------------------------------------------------------------------------------
    def get_config(self):
        """{"layers": serialized layers (InputLayers first), "nodes": [[layer index, [[layer index, node,
        output], ...], several inputs?] in topological order], "inputs"/"outputs": [[layer, node, output]]}."""
        from neurokern import layers as layers_module
        distinct = self.layers
        li = {id(layer): i for i, layer in enumerate(distinct)}
        index = self._node_index()

        def ref(t):
            layer, node, i = t.history
            return [li[id(layer)], 0 if node is None else index[id(node)], i]

        return {"name": self.name, "trainable": self.trainable,
                "layers": [layers_module.serialize(layer) for layer in distinct],
                "nodes": [[li[id(n.layer)], [ref(t) for t in n.inputs], n.multi_input] for n in self._nodes],
                "inputs": [ref(t) for t in self.inputs], "outputs": [ref(t) for t in self.outputs],
                "list_io": list(self._list_io)}

    @classmethod
    def from_config(cls, config):
        from neurokern import layers as layers_module
        distinct = [layers_module.deserialize(item) for item in config["layers"]]
        made = {}  # (layer index, node index) -> list of output tensors
        for i, layer in enumerate(distinct):
            if isinstance(layer, InputLayer):
                made[(i, 0)] = [layer.output]
        count = {}
        for li, refs, multi in config["nodes"]:
            try:
                args = [made[(a, b)][c] for a, b, c in refs]
            except (KeyError, IndexError):
                raise ValueError(f"functional model config: node of layer {li} refers to a tensor not made "
                                 "before it; the config is corrupt") from None
            out = distinct[li](args if multi else args[0])
            n = count.get(li, 0)
            count[li] = n + 1
            made[(li, n)] = list(out) if isinstance(out, list) else [out]
        ins = [made[(a, b)][c] for a, b, c in config["inputs"]]
        outs = [made[(a, b)][c] for a, b, c in config["outputs"]]
        ins_list, outs_list = config.get("list_io", (len(ins) > 1, len(outs) > 1))
        return cls(ins if ins_list else ins[0], outs if outs_list else outs[0], name=config.get("name"),
                   trainable=config.get("trainable", True))

