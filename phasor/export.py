"""ONNX export of phasor models through the real-pair lowering (`phasor.lowering`).

ONNX has no complex tensors, so the exported graph takes and returns *real pairs*: a complex
input of shape $(N, C, *)$ is fed as the real tensor $(N, 2, C, *)$ with the real
part at index 0 and the imaginary part at index 1 of dim 1 ([`phasor.lowering.to_pair`][phasor.lowering.to_pair]),
and a complex output comes back the same way ([`phasor.lowering.from_pair`][phasor.lowering.from_pair]); a real
output (after ``Modulus``) comes back as it is, and with ``real_input=True`` the real input
goes in as it is. A model with several inputs is exported from a tuple of example inputs. The
batch axis (dim 0) is dynamic.
"""

from __future__ import annotations

import os

import torch
from torch import nn
from torch.utils import _pytree as pytree

from phasor.lowering import lower, to_pair

__all__ = ["to_onnx"]


def to_onnx(
    model: nn.Module,
    example_input: torch.Tensor | tuple[torch.Tensor, ...],
    path: str | os.PathLike,
    real_input: bool | None = None,
    kernel: str = "stacked",
    opset_version: int = 17,
) -> nn.Module:
    """Export ``model`` (a [`phasor.lowering.lower`][phasor.lowering.lower]-able tree) to an ONNX file.

    Args:
        model: the phasor model; exported in eval mode (``torch.onnx.export``'s default: batch
            norms use their running statistics, dropout is off).
        example_input: an input of the phasor model: complex ``(N, C, *)``, or real; or a tuple
            of the tensor arguments of a model with several inputs.
        path: the ``.onnx`` file to write.
        real_input: whether the graph takes the (first) real input as it is; default: whether
            the (first) example input is real.
        kernel: ``"by-shape"``, ``"stacked"`` or ``"gauss"``, as in
            [`phasor.lowering.lower`][phasor.lowering.lower].
        opset_version: ONNX opset.

    Returns:
        The lowered module that was exported.

    The graph's input is named ``"input"`` and its output ``"output"``, both real, in the
    pair layout ``(N, 2, C, *)`` where the phasor tensor is complex. With a tuple of inputs
    they are ``"input_0"``, ``"input_1"``, ... (each complex one a pair, each real one as it
    is), and a model that returns a tuple has the outputs ``"output_0"``, ``"output_1"``, ...
    (nested tuples flattened in order). Dim 0 of each is dynamic.
    """
    several = isinstance(example_input, tuple)
    inputs = example_input if several else (example_input,)
    if real_input is None:
        real_input = not inputs[0].is_complex()
    if real_input and inputs[0].is_complex():
        raise TypeError("to_onnx: real_input=True with a complex (first) example input")
    lowered = lower(model, real_input=real_input, kernel=kernel)
    examples = tuple(to_pair(x) for x in inputs)
    training = lowered.training
    with torch.no_grad():  # the output structure, without touching running statistics
        outputs = lowered.eval()(*examples)
    lowered.train(training)
    input_names = [f"input_{i}" for i in range(len(inputs))] if several else ["input"]
    leaves = pytree.tree_leaves(outputs)  # as the graph flattens nested tuples
    output_names = (
        [f"output_{i}" for i in range(len(leaves))] if isinstance(outputs, tuple) else ["output"]
    )
    torch.onnx.export(
        lowered,
        examples,
        os.fspath(path),
        input_names=input_names,
        output_names=output_names,
        dynamic_axes={
            name: {0: "batch"}
            for name, t in zip(input_names + output_names, examples + tuple(leaves), strict=True)
            if isinstance(t, torch.Tensor) and t.dim() > 0
        },
        opset_version=opset_version,
        dynamo=False,
    )
    return lowered
