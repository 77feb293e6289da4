"""ONNX export of phasor models through the real-pair lowering (`phasor.lowering`).

ONNX has no complex tensors, so the exported graph takes and returns *real pairs*: a complex
input of shape $(N, C, *)$ is fed as the real tensor $(N, 2, C, *)$ with the real
part at index 0 and the imaginary part at index 1 of dim 1 ([`phasor.lowering.to_pair`][phasor.lowering.to_pair]),
and a complex output comes back the same way ([`phasor.lowering.from_pair`][phasor.lowering.from_pair]); a real
output (after ``Modulus``) comes back as it is, and with ``real_input=True`` the real input
goes in as it is. The batch axis is dynamic.
"""

from __future__ import annotations

import os

import torch
from torch import nn

from phasor.lowering import lower, to_pair

__all__ = ["to_onnx"]


def to_onnx(
    model: nn.Module,
    example_input: torch.Tensor,
    path: str | os.PathLike,
    real_input: bool | None = None,
    kernel: str = "stacked",
    opset_version: int = 17,
) -> nn.Module:
    """Export ``model`` (a [`phasor.lowering.lower`][phasor.lowering.lower]-able tree) to an ONNX file.

    Args:
        model: the phasor model; exported in its current train/eval mode (use ``eval()``).
        example_input: an input of the phasor model: complex ``(N, C, *)``, or real.
        path: the ``.onnx`` file to write.
        real_input: whether the graph takes the real input as it is; default: whether
            ``example_input`` is real.
        kernel: ``"stacked"`` or ``"gauss"``, as in [`phasor.lowering.lower`][phasor.lowering.lower].
        opset_version: ONNX opset.

    Returns:
        The lowered module that was exported.

    The graph's input is named ``"input"`` and its output ``"output"``, both real, in the
    pair layout ``(N, 2, C, *)`` where the phasor tensor is complex.
    """
    if real_input is None:
        real_input = not example_input.is_complex()
    lowered = lower(model, real_input=real_input, kernel=kernel)
    example = example_input if real_input else to_pair(example_input)
    torch.onnx.export(
        lowered,
        (example,),
        os.fspath(path),
        input_names=["input"],
        output_names=["output"],
        dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}},
        opset_version=opset_version,
        dynamo=False,
    )
    return lowered
