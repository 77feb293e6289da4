r"""Lowering of [`phasor.nn.recurrent`][phasor.nn.recurrent]: the GRU, LSTM and unitary RNN
cells and layers.

Every complex product is one real GEMM with the stacked weight
$\begin{pmatrix} A & -B \\ B & A \end{pmatrix}$ ($W = A + iB$) on the features of both parts
laid side by side, $[\Re x \mid \Im x]$ (whatever ``kernel`` `phasor.lowering.lower` is
given: the products are small); the stacked weights are built once per forward, the
time loop runs in Python as in phasor (``torch.compile`` unrolls it). Inside a step a complex
value is a pair $(N, 2, H)$; a real gate $\sigma(\Re a)$ is $(N, 1, H)$ and multiplies both
parts, a split gate $\sigma(\Re a) + i\sigma(\Im a)$ is a pair and multiplies as a complex
number. The unitary matrix $\exp(A - A^H)$ is the matrix exponential of its real $2H \times 2H$
form (``torch.linalg.matrix_exp``, which the ONNX exporter does not support: the GRU and
LSTM export, the unitary RNN does not).

Layouts of the arguments and results (complex ones as pairs, pair axis at dim 1):

- cells: input $(N, 2, H_{in})$, unbatched $(H_{in}, 2)$ (the pair of a 1-D tensor), or the
  real $(N, H_{in})$ / $(H_{in})$; states $(N, 2, H)$ or unbatched $(H, 2)$.
- layers: input $(L, 2, N, H_{in})$, $(N, 2, L, H_{in})$ with ``batch_first``, unbatched
  $(L, 2, H_{in})$, the real $(L, N, H_{in})$ etc., or a ``PackedSequence`` whose data is
  $(S, 2, H_{in})$ (eager only: packing reads the batch sizes); states
  $(D \cdot \text{num\_layers}, 2, N, H)$ or unbatched $(D \cdot \text{num\_layers}, 2, H)$.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import PackedSequence, pad_packed_sequence

from phasor import nn as pnn
from phasor.lowering._core import Context, adopt, modulus, pair, register
from phasor.nn.recurrent import _RNNBase

State = tuple[torch.Tensor, ...]
Fn = Callable[[torch.Tensor], torch.Tensor]


def _stacked(w: torch.Tensor) -> torch.Tensor:
    """The real $(2R, 2C)$ matrix $[[A, -B], [B, A]]$ of a pair weight $(2, R, C)$."""
    a, b = w[0], w[1]
    return torch.cat((torch.cat((a, -b), 1), torch.cat((b, a), 1)), 0)


def _project(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor | None, real_input: bool):
    """$x W^T + b$ with the parts side by side, $(*, 2R)$: ``x`` is a pair $(*, 2, C)$, or
    real $(*, C)$ with ``real_input`` (one GEMM with $[A; B]$ then)."""
    bias = None if b is None else b.flatten()
    if real_input:
        return F.linear(x, w.flatten(0, 1), bias)
    return F.linear(x.flatten(-2), _stacked(w), bias)


def _recurrent(h: torch.Tensor, w_big: torch.Tensor, b: torch.Tensor | None) -> torch.Tensor:
    """$h W^T + b$ of a pair state $(N, 2, H)$ with a stacked weight, $(N, 2R)$."""
    return F.linear(h.flatten(1), w_big, None if b is None else b.flatten())


def _gate_times(g: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """A gate times the pair ``z`` $(N, 2, H)$: a real gate is $(N, 1, H)$, a split one the
    pair $(N, 2, H)$ of a complex number."""
    if g.shape[1] == 1:
        return g * z
    gr, gi, zr, zi = g[:, 0], g[:, 1], z[:, 0], z[:, 1]
    return pair(gr * zr - gi * zi, gr * zi + gi * zr)


def _real_gate(a: torch.Tensor) -> torch.Tensor:
    return torch.sigmoid(a[:, :1])


def _amp_phase_tanh(x: torch.Tensor) -> torch.Tensor:
    """$\\tanh(|z|)\\,z/|z|$ (the identity's slope at 0, as phasor)."""
    mod = modulus(x)
    nonzero = mod > 0
    scale = torch.where(nonzero, torch.tanh(mod) / torch.where(nonzero, mod, 1.0), 1.0)
    return x * scale.unsqueeze(1)


def _modrelu(x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """$\\mathrm{ReLU}(|z| + b)\\,z/|z|$ of a pair $(N, 2, H)$, real bias $(H,)$."""
    mod = modulus(x)
    nonzero = mod > 0
    scale = torch.relu(mod + bias) / torch.where(nonzero, mod, 1.0)
    return x * torch.where(nonzero, scale, (bias == 0).to(mod.dtype)).unsqueeze(1)


_GATES: dict[str, Fn] = {"real": _real_gate, "split": torch.sigmoid}
_ACTIVATIONS: dict[str, Fn] = {"split_tanh": torch.tanh, "amp_phase_tanh": _amp_phase_tanh}


def _gru_step(gi, h, w_hh, b_hh, gate: Fn, activation: Fn) -> torch.Tensor:
    """One GRU step from the input projection ``gi`` $(N, 6H)$; $h' = n + z (h - n)$."""
    gi = gi.unflatten(-1, (2, -1))
    gh = _recurrent(h, w_hh, b_hh).unflatten(-1, (2, -1))
    i_r, i_z, i_n = gi.chunk(3, -1)
    h_r, h_z, h_n = gh.chunk(3, -1)
    r, z = gate(i_r + h_r), gate(i_z + h_z)
    n = activation(i_n + _gate_times(r, h_n))
    return n + _gate_times(z, h - n)


def _lstm_step(gi, state: State, w_hh, b_hh, gate: Fn, activation: Fn) -> State:
    """One LSTM step from the input projection ``gi`` $(N, 8H)$."""
    h, c = state
    a = (gi + _recurrent(h, w_hh, b_hh)).unflatten(-1, (2, -1))
    i, f, g, o = a.chunk(4, -1)
    c_new = _gate_times(gate(f), c) + _gate_times(gate(i), activation(g))
    return _gate_times(gate(o), activation(c_new)), c_new


def _unitary_stacked(generator: torch.Tensor) -> torch.Tensor:
    """The stacked real form $(2H, 2H)$ of $W = \\exp(A - A^H)$, generator $A$ a pair
    $(2, H, H)$; as phasor, $W = e^{-i} \\exp(A - A^H + iI)$.

    The exponential is taken in float64 (of a $2H \\times 2H$ matrix, once per forward): in
    float32 its rounding, carried through every time step, put the gradient of $A$ 2e-3 off
    (on entries of about 100, against a complex128 reference; phasor's complex64 is as far
    off, the other way), more than the float32 tolerance between the two; in float64 it is
    1e-5 off."""
    ar, ai = generator[0], generator[1]
    size = ar.shape[-1]
    eye = torch.eye(size, dtype=ar.dtype, device=ar.device)
    shifted = torch.stack((ar - ar.t(), ai + ai.t() + eye))  # A - A^H + iI
    e = torch.linalg.matrix_exp(_stacked(shifted).double()).to(ar.dtype)
    er, ei = e[:size, :size], e[size:, :size]
    cos, sin = math.cos(1), math.sin(1)
    return _stacked(torch.stack((cos * er + sin * ei, cos * ei - sin * er)))


def _unitary_step(gi, h, w_big, bias) -> torch.Tensor:
    """One unitary-RNN step from the input projection ``gi`` $(N, 2H)$."""
    return _modrelu((gi + _recurrent(h, w_big, None)).unflatten(-1, (2, -1)), bias)


class _PairCell(nn.Module):
    """The layouts of a lowered cell: a batched pair $(N, 2, F)$ as it is, an unbatched pair
    $(F, 2)$ as $(1, 2, F)$ inside (real inputs $(N, F)$, $(F)$ likewise)."""

    def __init__(self, layer: nn.Module, real_input: bool) -> None:
        super().__init__()
        self.real_input = real_input
        self.hidden_size = layer.hidden_size
        adopt(self, layer)

    def _inputs(self, input: torch.Tensor, hx: State | None) -> tuple[torch.Tensor, State, bool]:
        batched_dim = 2 if self.real_input else 3
        if input.dim() not in (batched_dim - 1, batched_dim):
            raise ValueError(
                f"{type(self).__name__}: expected a {'real' if self.real_input else 'pair'} "
                f"input of {batched_dim - 1} or {batched_dim} dimensions, "
                f"got shape {tuple(input.shape)}"
            )
        batched = input.dim() == batched_dim
        if not batched:
            input = input.unsqueeze(0) if self.real_input else input.t().unsqueeze(0)
        weight = self.weight_ih
        if hx is None:
            zeros = weight.new_zeros(input.shape[0], 2, self.hidden_size)
            return input, (zeros,) * self._states, batched
        return input, tuple(s if batched else s.t().unsqueeze(0) for s in hx), batched

    @staticmethod
    def _outputs(state: State, batched: bool) -> State:
        return state if batched else tuple(s[0].t() for s in state)


class PairGRUCell(_PairCell):
    """Lowered [`phasor.nn.GRUCell`][phasor.nn.recurrent.GRUCell]: parameters
    $(2, 3H, *)$ under phasor's names; ``forward(input, hx=None) -> h'``."""

    _states = 1

    def __init__(self, layer: pnn.GRUCell, real_input: bool) -> None:
        super().__init__(layer, real_input)
        self.gate, self.activation = layer.gate, layer.activation

    def forward(self, input: torch.Tensor, hx: torch.Tensor | None = None) -> torch.Tensor:
        x, (h,), batched = self._inputs(input, None if hx is None else (hx,))
        gi = _project(x, self.weight_ih, self.bias_ih, self.real_input)
        step = _gru_step(
            gi,
            h,
            _stacked(self.weight_hh),
            self.bias_hh,
            _GATES[self.gate],
            _ACTIVATIONS[self.activation],
        )
        return self._outputs((step,), batched)[0]


class PairLSTMCell(_PairCell):
    """Lowered [`phasor.nn.LSTMCell`][phasor.nn.recurrent.LSTMCell]: parameters
    $(2, 4H, *)$ under phasor's names; ``forward(input, hx=None) -> (h', c')``."""

    _states = 2

    def __init__(self, layer: pnn.LSTMCell, real_input: bool) -> None:
        super().__init__(layer, real_input)
        self.gate, self.activation = layer.gate, layer.activation

    def forward(
        self, input: torch.Tensor, hx: tuple[torch.Tensor, torch.Tensor] | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        x, state, batched = self._inputs(input, hx)
        gi = _project(x, self.weight_ih, self.bias_ih, self.real_input)
        step = _lstm_step(
            gi,
            state,
            _stacked(self.weight_hh),
            self.bias_hh,
            _GATES[self.gate],
            _ACTIVATIONS[self.activation],
        )
        return self._outputs(step, batched)


class PairUnitaryRNNCell(_PairCell):
    """Lowered [`phasor.nn.UnitaryRNNCell`][phasor.nn.recurrent.UnitaryRNNCell]: pair
    ``weight_ih``, ``bias_ih``, ``generator_hh``, real ``modrelu_bias``;
    ``forward(input, hx=None) -> h'``."""

    _states = 1

    def forward(self, input: torch.Tensor, hx: torch.Tensor | None = None) -> torch.Tensor:
        x, (h,), batched = self._inputs(input, None if hx is None else (hx,))
        gi = _project(x, self.weight_ih, self.bias_ih, self.real_input)
        step = _unitary_step(gi, h, _unitary_stacked(self.generator_hh), self.modrelu_bias)
        return self._outputs((step,), batched)[0]


class _PairRNN(nn.Module):
    """A lowered multi-layer recurrent layer: phasor's loop over layers, directions and time
    steps, on a sequence $(L, N, 2, F)$ inside (time first, pair axis by the features)."""

    _states = 1

    def __init__(self, layer: _RNNBase, real_input: bool) -> None:
        super().__init__()
        self.real_input = real_input
        for name in ("hidden_size", "num_layers", "batch_first", "dropout", "bidirectional"):
            setattr(self, name, getattr(layer, name))
        self._directions = 2 if layer.bidirectional else 1
        adopt(self, layer)

    def _step_fn(self, suffix: str):
        """``(weight_ih, bias_ih, step)`` of a layer and direction, ``step(gi, state)``."""
        raise NotImplementedError

    def _sequence(self, input: torch.Tensor) -> tuple[torch.Tensor, bool]:
        """The input as $(L, N, 2, F)$ (real: $(L, N, F)$), and whether it is batched."""
        real = self.real_input
        batched_dim = 3 if real else 4
        if input.dim() not in (batched_dim - 1, batched_dim):
            layout = "(L, N, H_in)" if real else "(L, 2, N, H_in)"
            raise ValueError(
                f"{type(self).__name__}: expected {'a real' if real else 'a pair'} input "
                f"{layout}, batch first or unbatched, got shape {tuple(input.shape)}"
            )
        if input.dim() < batched_dim:
            return input.unsqueeze(1), False
        if real:
            return (input.transpose(0, 1) if self.batch_first else input), True
        return (input.permute(2, 0, 1, 3) if self.batch_first else input.transpose(1, 2)), True

    def _initial(self, hx, sequence: torch.Tensor, batched: bool) -> list[State]:
        """The initial state of every layer and direction, each a tuple of $(N, 2, H)$."""
        rows = self.num_layers * self._directions
        if hx is None:
            zeros = self.weight_ih_l0.new_zeros(sequence.shape[1], 2, self.hidden_size)
            return [(zeros,) * self._states] * rows
        parts = (hx,) if self._states == 1 else tuple(hx)
        # (rows, 2, N, H) or unbatched (rows, 2, H) -> (rows, N, 2, H)
        parts = [p.transpose(1, 2) if batched else p.unsqueeze(1) for p in parts]
        return [tuple(p[i] for p in parts) for i in range(rows)]

    def _dropout_mask(self, out: torch.Tensor) -> torch.Tensor:
        """phasor's dropout mask of the complex $(L, N, F)$ (same draws), for $(L, N, 2, F)$."""
        shape = (out.shape[0], out.shape[1], out.shape[3])
        mask = torch.empty(shape, dtype=out.dtype, device=out.device).bernoulli_(1 - self.dropout)
        if self.dropout < 1:
            mask = mask / (1 - self.dropout)
        return mask.unsqueeze(2)

    def forward(self, input, hx=None):
        packed = isinstance(input, PackedSequence)
        if packed:
            sequence, lengths = pad_packed_sequence(input)  # (L, B, 2, H_in) in caller's order
            steps = torch.arange(sequence.shape[0], device=lengths.device)
            mask = (steps[:, None] < lengths[None, :]).to(sequence.device)
            batched = True
        else:
            sequence, batched = self._sequence(input)
            mask = None
        initial = self._initial(hx, sequence, batched)
        finals: list[State] = []
        out = sequence
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(self._directions):
                suffix = f"_l{layer}" + ("_reverse" if direction else "")
                w_ih, b_ih, step = self._step_fn(suffix)
                gi = _project(out, w_ih, b_ih, self.real_input and layer == 0)
                state = initial[layer * self._directions + direction]
                ys: list[torch.Tensor | None] = [None] * gi.shape[0]
                times = range(gi.shape[0] - 1, -1, -1) if direction else range(gi.shape[0])
                for t in times:
                    new = step(gi[t], state)
                    if mask is not None:  # padded steps keep the state
                        keep = mask[t, :, None, None]
                        new = tuple(
                            torch.where(keep, n, s) for n, s in zip(new, state, strict=True)
                        )
                    state = new
                    ys[t] = state[0]
                outputs.append(torch.stack(ys))
                finals.append(state)
            out = torch.cat(outputs, -1) if self._directions == 2 else outputs[0]
            if layer < self.num_layers - 1 and self.training and self.dropout > 0:
                out = out * self._dropout_mask(out)
        final = [torch.stack([s[k] for s in finals]) for k in range(self._states)]
        if not batched:
            out = out.squeeze(1)
            final = [f.squeeze(1) for f in final]
        else:
            final = [f.transpose(1, 2) for f in final]
            if packed:
                out = _RNNBase._pack_like(out, input)
            elif self.batch_first:
                out = out.permute(1, 2, 0, 3)
            else:
                out = out.transpose(1, 2)
        return out, (final[0] if self._states == 1 else tuple(final))


class _PairGatedRNN(_PairRNN):
    def __init__(self, layer: _RNNBase, real_input: bool) -> None:
        super().__init__(layer, real_input)
        self.gate, self.activation = layer.gate, layer.activation

    def _recurrent_args(self, suffix: str) -> tuple:
        """``(w_hh, b_hh, gate, activation)`` of a step; the stacked weight once per forward."""
        return (
            _stacked(getattr(self, f"weight_hh{suffix}")),
            getattr(self, f"bias_hh{suffix}"),
            _GATES[self.gate],
            _ACTIVATIONS[self.activation],
        )


class PairGRU(_PairGatedRNN):
    """Lowered [`phasor.nn.GRU`][phasor.nn.recurrent.GRU]: parameters under phasor's names
    ($(2, *S)$ each); ``forward(input, hx=None) -> (output, h_n)``."""

    def _step_fn(self, suffix: str):
        args = self._recurrent_args(suffix)

        def step(gi: torch.Tensor, state: State) -> State:
            return (_gru_step(gi, state[0], *args),)

        return getattr(self, f"weight_ih{suffix}"), getattr(self, f"bias_ih{suffix}"), step


class PairLSTM(_PairGatedRNN):
    """Lowered [`phasor.nn.LSTM`][phasor.nn.recurrent.LSTM]: parameters under phasor's names
    ($(2, *S)$ each); ``forward(input, hx=None) -> (output, (h_n, c_n))``."""

    _states = 2

    def _step_fn(self, suffix: str):
        args = self._recurrent_args(suffix)

        def step(gi: torch.Tensor, state: State) -> State:
            return _lstm_step(gi, state, *args)

        return getattr(self, f"weight_ih{suffix}"), getattr(self, f"bias_ih{suffix}"), step


class PairUnitaryRNN(_PairRNN):
    """Lowered [`phasor.nn.UnitaryRNN`][phasor.nn.recurrent.UnitaryRNN]: pair ``weight_ih_l{k}``,
    ``bias_ih_l{k}``, ``generator_hh_l{k}``, real ``modrelu_bias_l{k}``;
    ``forward(input, hx=None) -> (output, h_n)``."""

    def _step_fn(self, suffix: str):
        w_hh = _unitary_stacked(getattr(self, f"generator_hh{suffix}"))  # once per forward
        bias = getattr(self, f"modrelu_bias{suffix}")

        def step(gi: torch.Tensor, state: State) -> State:
            return (_unitary_step(gi, state[0], w_hh, bias),)

        return getattr(self, f"weight_ih{suffix}"), getattr(self, f"bias_ih{suffix}"), step


_LOWERED = {
    pnn.GRUCell: PairGRUCell,
    pnn.LSTMCell: PairLSTMCell,
    pnn.UnitaryRNNCell: PairUnitaryRNNCell,
    pnn.GRU: PairGRU,
    pnn.LSTM: PairLSTM,
    pnn.UnitaryRNN: PairUnitaryRNN,
}


@register(*_LOWERED)
def _recurrent_rule(layer: nn.Module, ctx: Context) -> tuple[nn.Module, bool]:
    """Every recurrent module takes a real input too (its states stay complex)."""
    return _LOWERED[type(layer)](layer, ctx.real_input), False
