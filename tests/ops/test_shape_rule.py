"""shape_rule: our Ops' infer_shape answers both PyTensor call forms, and PyTensor >= 3.3 sees no deprecated fgraph."""

import inspect
import warnings

import pytensor.tensor as pt
import pytest
from pytensor.graph.basic import Apply
from pytensor.graph.op import Op

import crmn_legacy.ops as ops
from crmn_legacy.ops.shape_rule import shape_rule

OP_CLASSES = [getattr(ops, name) for name in ops.__all__
              if isinstance(getattr(ops, name), type) and issubclass(getattr(ops, name), Op)
              and "infer_shape" in vars(getattr(ops, name))]


def test_the_ops_with_shape_rules_are_all_found():
    names = {cls.__name__ for cls in OP_CLASSES}
    assert {"Conv2d", "Conv2dGradInputs", "Conv2dGradWeights", "MeanPool", "MeanPoolGrad", "BatchNormTrain",
            "BatchNormTrainGrad", "AddChannelBias", "ChannelSum", "Matmul"} <= names


@pytest.mark.parametrize("cls", OP_CLASSES, ids=lambda c: c.__name__)
def test_every_op_writes_the_new_signature(cls):
    assert list(inspect.signature(cls.__dict__["infer_shape"]).parameters) == ["self", "node", "shapes"]


def _tiny_op_class():
    class Halve(Op):
        """y = x[:, ::2]: a shape rule that needs the node and the input shapes."""

        def make_node(self, x):
            x = pt.as_tensor_variable(x)
            return Apply(self, [x], [x.type()])

        def perform(self, node, inputs, outputs):
            outputs[0][0] = inputs[0][:, ::2]

        @shape_rule
        def infer_shape(self, node, shapes):
            n, c = shapes[0]
            return [(n, (c + 1) // 2)]

    return Halve


def test_both_call_forms_give_the_same_shapes():
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)  # PyTensor >= 3.3 warns at class creation
        Halve = _tiny_op_class()
    op = Halve()
    node = op.make_node(pt.matrix("x"))
    assert op.infer_shape(node, [(4, 7)]) == [(4, 4)]          # PyTensor >= 3.3
    assert op.infer_shape(None, node, [(4, 7)]) == [(4, 4)]    # PyTensor <= 3.2 passes fgraph first
    with pytest.raises(TypeError, match="infer_shape takes"):
        op.infer_shape(node)


def test_pytensor_uses_the_rule_in_shape_inference():
    """Compiling ``y.shape`` asks the rule instead of computing ``y``."""
    import pytensor
    from pytensor.compile.mode import Mode

    Halve = _tiny_op_class()
    x = pt.matrix("x")
    f = pytensor.function([x], Halve()(x).shape, mode=Mode(linker="py", optimizer="fast_run"))
    assert not any(isinstance(n.op, Halve) for n in f.maker.fgraph.apply_nodes), "the shape still computes y"
    assert f([[1.0, 2.0, 3.0]] * 2).tolist() == [2, 2]
