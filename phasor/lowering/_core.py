"""The mechanism of the lowering: the rule registry, the pair layout, parameter copies.

A *rule* turns one phasor module into its real-valued equivalent. It is registered for the
module's class with `register` and called as ``rule(module, ctx)`` with a `Context`; it
returns the lowered module and whether that module's (first) output is real. `lower_module`
dispatches on the exact class, so a subclass needs its own rule.

Conventions every rule keeps (tested for every public module of `phasor.nn`):

- A complex tensor $(D_0, D_1, \\dots)$ travels as the real tensor $(D_0, 2, D_1, \\dots)$,
  real part at index 0 of dim 1 (`to_pair`); a real tensor travels as it is.
- The lowered module has the parameters and buffers of the phasor module under the *same
  names*; a complex one of shape $S$ becomes a real one of shape $(2, *S)$ with the real part
  at index 0 (`pair_tensor`), a real one is copied as it is. So gradients and state dicts map
  one to one (`pair_state_dict`).
- No complex tensor is created anywhere in the lowered forward or backward pass.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, replace

import torch
from torch import nn

Rule = Callable[[nn.Module, "Context"], tuple[nn.Module, bool]]

RULES: dict[type, Rule] = {}
"""Module class -> rule; filled by the family modules of `phasor.lowering`."""


@dataclass(frozen=True)
class Context:
    """What a rule knows about where its module sits.

    Attributes:
        real_input: the module's (first) input is a real tensor, not a pair.
        kernel: ``"by-shape"``, ``"stacked"`` or ``"gauss"`` (see `phasor.lowering.lower`).
        path: the module's dotted name in the model (``""`` for the model itself).
    """

    real_input: bool
    kernel: str
    path: str = ""

    def child(self, name: str, real_input: bool | None = None) -> Context:
        """The context of the submodule ``name`` (its input realness given or inherited)."""
        path = f"{self.path}.{name}" if self.path else name
        return replace(
            self, path=path, real_input=self.real_input if real_input is None else real_input
        )

    def where(self, module: nn.Module) -> str:
        """``"path (ClassName)"`` for messages."""
        name = type(module).__name__
        return f"{self.path} ({name})" if self.path else name

    def refuse_real_input(self, module: nn.Module) -> None:
        """Raise the `TypeError` phasor's layer would raise on a real input."""
        if self.real_input:
            raise TypeError(
                f"lower: {self.where(module)} gets a real input, which phasor's layer refuses"
            )


def register(*classes: type) -> Callable[[Rule], Rule]:
    """Register ``rule`` as the lowering of each class in ``classes`` (decorator)."""

    def decorate(rule: Rule) -> Rule:
        for cls in classes:
            RULES[cls] = rule
        return rule

    return decorate


def lower_module(module: nn.Module, ctx: Context) -> tuple[nn.Module, bool]:
    """The lowered ``module`` and whether its output is real, by the rule of its class.

    A module of `torch.nn` itself (``nn.ReLU``, ``nn.Linear`` ...) without complex parameters
    or buffers that gets a real input is kept as it is (copied): it is already real.
    """
    rule = RULES.get(type(module))
    if rule is not None:
        return rule(module, ctx)
    if ctx.real_input and _is_plain_real_torch_module(module):
        return copy.deepcopy(module), True
    names = ", ".join(sorted(cls.__name__ for cls in RULES))
    kind = type(module)
    raise TypeError(
        f"lower: cannot lower {ctx.path or 'the model'} ({kind.__module__}.{kind.__qualname__}); "
        f"supported: {names}, and real torch.nn modules on real input"
    )


def _is_plain_real_torch_module(module: nn.Module) -> bool:
    if not type(module).__module__.startswith("torch.nn"):
        return False
    tensors = [*module.parameters(), *module.buffers()]
    return not any(t.is_complex() for t in tensors)


def to_pair(z: torch.Tensor) -> torch.Tensor:
    """Complex $(D_0, D_1, \\dots)$ to the real pair layout $(D_0, 2, D_1, \\dots)$
    (real part first); a real tensor is returned as it is."""
    if not z.is_complex():
        return z
    if z.dim() == 0:
        raise ValueError(
            "to_pair: a 0-dimensional tensor has no pair layout (dim 1 is the pair axis)"
        )
    return torch.stack((z.real, z.imag), dim=1)


def from_pair(x: torch.Tensor) -> torch.Tensor:
    """The real pair layout $(D_0, 2, D_1, \\dots)$ back to complex $(D_0, D_1, \\dots)$."""
    if x.dim() < 2 or x.shape[1] != 2:
        raise ValueError(
            f"from_pair: expected a pair axis of size 2 at dim 1, got shape {tuple(x.shape)}"
        )
    return torch.complex(x[:, 0], x[:, 1])


def pair(re: torch.Tensor, im: torch.Tensor) -> torch.Tensor:
    """The pair tensor of a real part and an imaginary part of the same shape."""
    return torch.stack((re, im), dim=1)


def pair_tensor(t: torch.Tensor) -> torch.Tensor:
    """A parameter or buffer in the lowered module's layout: complex $S$ -> real $(2, *S)$
    (real part at index 0), real as it is; detached and copied."""
    t = t.detach()
    return torch.stack((t.real, t.imag)).clone() if t.is_complex() else t.clone()


def adopt(target: nn.Module, source: nn.Module, names: tuple[str, ...] | None = None) -> None:
    """Give ``target`` copies of ``source``'s own parameters and buffers (not its children's),
    under the same names, in the layout of `pair_tensor`; ``requires_grad`` and
    ``None`` entries are kept. ``names`` restricts the copy."""
    for name, param in source._parameters.items():
        if names is not None and name not in names:
            continue
        if param is None:
            target.register_parameter(name, None)
        else:
            target.register_parameter(
                name, nn.Parameter(pair_tensor(param), requires_grad=param.requires_grad)
            )
    for name, buffer in source._buffers.items():
        if names is not None and name not in names:
            continue
        persistent = name not in source._non_persistent_buffers_set
        value = None if buffer is None else pair_tensor(buffer)
        target.register_buffer(name, value, persistent=persistent)


def pair_state_dict(model: nn.Module) -> dict[str, torch.Tensor]:
    """``model.state_dict()`` in the layout of its lowered module (complex $S$ -> real
    $(2, *S)$): ``lower(model).load_state_dict(pair_state_dict(model))`` holds."""
    return {k: pair_tensor(v) for k, v in model.state_dict().items()}


def complex_state_dict(lowered: nn.Module, model: nn.Module) -> dict[str, torch.Tensor]:
    """The lowered module's state in ``model``'s layout, for ``model.load_state_dict``: each
    entry that is complex in ``model`` is rebuilt from its (2, *S) pair. Trains the lowered
    module and carries the result back."""
    reference = model.state_dict()
    state = {}
    for key, value in lowered.state_dict().items():
        like = reference[key]
        state[key] = (
            torch.complex(value[0], value[1]).to(like.dtype) if like.is_complex() else value
        )
    return state


def parts(t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Real and imaginary parts of a pair-layout parameter $(2, *S)$."""
    return t[0], t[1]


def modulus(x: torch.Tensor) -> torch.Tensor:
    """$|z|$ of a pair tensor; its gradient at 0 is 0, as ``torch.abs`` of a complex tensor.

    Elementwise on the two parts (a norm over the strided pair axis was 10x slower on CPU).
    Unlike ``torch.abs`` of a complex tensor, the squares overflow for $|z|$ above about
    1.8e19 in float32 (1.3e154 in float64).
    """
    re, im = x[:, 0], x[:, 1]
    squared = re * re + im * im
    nonzero = squared != 0  # NaN stays NaN
    return torch.where(nonzero, torch.sqrt(torch.where(nonzero, squared, 1.0)), 0.0)


def per_channel(param: torch.Tensor, ndim: int) -> torch.Tensor:
    """A $(C,)$ or $(1,)$ parameter broadcast over dim 1 of a complex tensor of ``ndim``
    dimensions (dim 2 of its pair tensor, after the pair axis is taken off)."""
    return param.view((-1,) + (1,) * (ndim - 2)) if ndim >= 2 else param
