r"""Complex recurrent cells and layers: thin modules over `phasor.functional.recurrent`.

The layers follow torch's signatures and layouts (``torch.nn.GRU``, ``torch.nn.LSTM``):
parameters ``weight_ih_l{k}``, ``weight_hh_l{k}``, ``bias_ih_l{k}``, ``bias_hh_l{k}`` (suffix
``_reverse`` for the backward direction), input ``(L, N, H_in)`` (``(N, L, H_in)`` with
``batch_first``), unbatched ``(L, H_in)`` or a `torch.nn.utils.rnn.PackedSequence`,
states ``(D * num_layers, N, H)`` whatever ``batch_first`` is. The time loop runs in Python,
one complex step at a time (there is no fused complex kernel); the input projections of all
time steps are computed at once per layer.

Initialisation as torch: every weight and bias has its real and imaginary parts drawn from
$U(-k, k)$, $k = 1/\sqrt{\text{hidden\_size}}$, so
$\operatorname{Var}(W) = 2k^2/3$. The unitary RNN draws its recurrent matrix with
uniform eigenvalue phases (see `UnitaryRNNCell`).
"""

from __future__ import annotations

import math
import warnings

import torch
from torch import nn
from torch.nn.utils.rnn import PackedSequence, pad_packed_sequence

from phasor._validation import check_complex, check_ndim, check_same_dtype
from phasor.functional import recurrent as R
from phasor.functional.dropout import dropout as complex_dropout
from phasor.functional.linear import linear
from phasor.nn._real_state import KeepsRealState
from phasor.nn.init import unitary_
from phasor.nn.linear import _factory_kwargs

__all__ = ["GRU", "LSTM", "GRUCell", "LSTMCell", "UnitaryRNN", "UnitaryRNNCell"]

State = tuple[torch.Tensor, ...]


def _uniform_(tensor: torch.Tensor, bound: float) -> None:
    """Real and imaginary parts of a complex ``tensor`` from ``U(-bound, bound)``, in place."""
    with torch.no_grad():
        torch.view_as_real(tensor).uniform_(-bound, bound)


def _unitary_generator_(a: torch.Tensor) -> None:
    r"""Set ``a`` so that ``exp(a - a^H) = V diag(e^{i theta}) V^H``, in place.

    ``V`` is Haar-random ([`phasor.nn.init.unitary_`][phasor.nn.init.unitary_]) and the phases ``theta`` uniform on
    ``[-pi, pi)``; ``a = S / 2`` with the skew-Hermitian ``S = V diag(i theta) V^H``.
    """
    with torch.no_grad():
        v = unitary_(torch.empty_like(a))
        theta = (2 * torch.rand(a.shape[-1], dtype=a.real.dtype, device=a.device) - 1) * math.pi
        a.copy_((v * (0.5j * theta)) @ v.mH)


def _check_sizes(input_size: int, hidden_size: int) -> None:
    if input_size < 1 or hidden_size < 1:
        raise ValueError(
            f"input_size and hidden_size must be positive, got {input_size} and {hidden_size}"
        )


class _Cell(KeepsRealState):
    """Parameters and checks shared by the cells: ``gates`` stacked gates of ``hidden_size``."""

    _gates = 1

    def __init__(self, input_size, hidden_size, bias, device, dtype) -> None:
        factory = _factory_kwargs(device, dtype)
        _check_sizes(input_size, hidden_size)
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        rows = self._gates * hidden_size
        self.weight_ih = nn.Parameter(torch.empty(rows, input_size, **factory))
        if bias:
            self.bias_ih = nn.Parameter(torch.empty(rows, **factory))
        else:
            self.register_parameter("bias_ih", None)

    def _zeros(self, input: torch.Tensor) -> torch.Tensor:
        check_ndim(input, (1, 2), shape="(N, H_in) or unbatched (H_in)")
        shape = (*input.shape[:-1], self.hidden_size)
        return torch.zeros(shape, dtype=self.weight_ih.dtype, device=self.weight_ih.device)

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}, bias={self.bias_ih is not None}"


class _GatedCell(_Cell):
    def __init__(
        self, input_size, hidden_size, bias, device, dtype, gate: str, activation: str
    ) -> None:
        R._resolve_gate(gate)
        R._resolve_activation(activation)
        super().__init__(input_size, hidden_size, bias, device, dtype)
        self.gate = gate
        self.activation = activation
        factory = {"device": self.weight_ih.device, "dtype": self.weight_ih.dtype}
        rows = self._gates * hidden_size
        self.weight_hh = nn.Parameter(torch.empty(rows, hidden_size, **factory))
        if bias:
            self.bias_hh = nn.Parameter(torch.empty(rows, **factory))
        else:
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Real and imaginary parts of every parameter from ``U(-k, k)``, ``k = 1/sqrt(H)``."""
        for p in self.parameters():
            _uniform_(p, 1 / math.sqrt(self.hidden_size))

    def extra_repr(self) -> str:
        return super().extra_repr() + f", gate={self.gate!r}, activation={self.activation!r}"


class GRUCell(_GatedCell):
    r"""A complex GRU cell; see [`phasor.functional.gru_cell`][phasor.functional.recurrent.gru_cell].

    $$
    r = \gamma(W_{ir} x + b_{ir} + W_{hr} h + b_{hr}),\quad
    z = \gamma(W_{iz} x + b_{iz} + W_{hz} h + b_{hz}),\quad
    n = \phi(W_{in} x + b_{in} + r \odot (W_{hn} h + b_{hn})),\quad
    h' = (1 - z) \odot n + z \odot h
    $$

    Args:
        input_size: features of the input.
        hidden_size: features of the hidden state.
        bias: if ``False``, no ``bias_ih`` and ``bias_hh``.
        device: device of the parameters.
        dtype: ``torch.complex64`` (default) or ``torch.complex128``.
        gate: gate squashing $\gamma$: ``"real"`` (default, $\sigma(\Re a)$) or
            ``"split"`` ($\sigma(\Re a) + i\sigma(\Im a)$, as complexPyTorch).
        activation: candidate nonlinearity $\phi$: ``"split_tanh"`` (default) or
            ``"amp_phase_tanh"``.

    Attributes:
        weight_ih: complex ``(3 * hidden_size, input_size)``, gates ``(r, z, n)``.
        weight_hh: complex ``(3 * hidden_size, hidden_size)``.
        bias_ih: complex ``(3 * hidden_size,)`` or ``None``.
        bias_hh: complex ``(3 * hidden_size,)`` or ``None``.

    Shape:
        - Input: $(N, H_{in})$ or $(H_{in})$; complex, or real of the weights'
          real dtype.
        - hx: $(N, H)$ or $(H)$, complex; zeros if not given.
        - Output: $(N, H)$ or $(H)$, dtype of the weights.
    """

    _gates = 3

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
        gate: str = "real",
        activation: str = "split_tanh",
    ) -> None:
        super().__init__(input_size, hidden_size, bias, device, dtype, gate, activation)

    def forward(self, input: torch.Tensor, hx: torch.Tensor | None = None) -> torch.Tensor:
        hx = self._zeros(input) if hx is None else hx
        return R.gru_cell(
            input,
            hx,
            self.weight_ih,
            self.weight_hh,
            self.bias_ih,
            self.bias_hh,
            self.gate,
            self.activation,
        )


class LSTMCell(_GatedCell):
    r"""A complex LSTM cell; see [`phasor.functional.lstm_cell`][phasor.functional.recurrent.lstm_cell].

    $$
    c' = \gamma(a_f) \odot c + \gamma(a_i) \odot \phi(a_g),\quad
    h' = \gamma(a_o) \odot \phi(c'),\quad
    (a_i, a_f, a_g, a_o) = W_{ih} x + b_{ih} + W_{hh} h + b_{hh}
    $$

    Args: as `GRUCell`.

    Attributes:
        weight_ih: complex ``(4 * hidden_size, input_size)``, gates ``(i, f, g, o)``.
        weight_hh: complex ``(4 * hidden_size, hidden_size)``.
        bias_ih: complex ``(4 * hidden_size,)`` or ``None``.
        bias_hh: complex ``(4 * hidden_size,)`` or ``None``.

    Shape:
        - Input: $(N, H_{in})$ or $(H_{in})$.
        - hx: the pair ``(h, c)``, each $(N, H)$ or $(H)$; zeros if not given.
        - Output: the pair ``(h', c')``, each $(N, H)$ or $(H)$.
    """

    _gates = 4

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
        gate: str = "real",
        activation: str = "split_tanh",
    ) -> None:
        super().__init__(input_size, hidden_size, bias, device, dtype, gate, activation)

    def forward(
        self, input: torch.Tensor, hx: tuple[torch.Tensor, torch.Tensor] | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        if hx is None:
            zeros = self._zeros(input)
            hx = (zeros, zeros)
        return R.lstm_cell(
            input,
            hx,
            self.weight_ih,
            self.weight_hh,
            self.bias_ih,
            self.bias_hh,
            self.gate,
            self.activation,
        )


class UnitaryRNNCell(_Cell):
    r"""The unitary RNN cell of Arjovsky, Shah & Bengio (2016); see
    [`phasor.functional.unitary_rnn_cell`][phasor.functional.recurrent.unitary_rnn_cell].

    $$
    h' = \mathrm{modReLU}(W_{ih} x + b_{ih} + W h,\ b), \qquad W = \exp(A - A^H)
    $$

    The recurrent matrix $W$ (`weight_hh`) is computed from the unconstrained
    complex parameter $A$ (``generator_hh``) in every forward pass, so it is unitary to
    rounding after any optimiser step. $A$ starts as $S/2$ with
    $S = V \operatorname{diag}(i\theta) V^H$, $V$ Haar-random and
    $\theta \sim U[-\pi, \pi)$: $W$ starts with uniformly spread eigenvalue
    phases. The modReLU bias $b$ starts at 0 (the identity, as
    [`ModReLU`][phasor.nn.activation.ModReLU]).

    Args:
        input_size: features of the input.
        hidden_size: features of the hidden state.
        bias: if ``False``, no complex ``bias_ih`` (the modReLU bias is always learnt).
        device: device of the parameters.
        dtype: ``torch.complex64`` (default) or ``torch.complex128``.

    Attributes:
        weight_ih: complex ``(hidden_size, input_size)``, from ``U(-k, k)`` on both parts.
        bias_ih: complex ``(hidden_size,)`` or ``None``, from ``U(-k, k)`` on both parts.
        generator_hh: complex ``(hidden_size, hidden_size)``, the generator $A$.
        modrelu_bias: real ``(hidden_size,)``, the modReLU bias $b$.

    Shape:
        - Input: $(N, H_{in})$ or $(H_{in})$.
        - hx: $(N, H)$ or $(H)$, complex; zeros if not given.
        - Output: $(N, H)$ or $(H)$, dtype of the weights.
    """

    _real_state = ("modrelu_bias",)

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__(input_size, hidden_size, bias, device, dtype)
        factory = {"device": self.weight_ih.device, "dtype": self.weight_ih.dtype}
        self.generator_hh = nn.Parameter(torch.empty(hidden_size, hidden_size, **factory))
        self.modrelu_bias = nn.Parameter(
            torch.empty(hidden_size, device=factory["device"], dtype=factory["dtype"].to_real())
        )
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1 / math.sqrt(self.hidden_size)
        _uniform_(self.weight_ih, bound)
        if self.bias_ih is not None:
            _uniform_(self.bias_ih, bound)
        _unitary_generator_(self.generator_hh)
        nn.init.zeros_(self.modrelu_bias)

    @property
    def weight_hh(self) -> torch.Tensor:
        """The unitary recurrent matrix $\\exp(A - A^H)$."""
        return R.unitary_matrix(self.generator_hh)

    def forward(self, input: torch.Tensor, hx: torch.Tensor | None = None) -> torch.Tensor:
        hx = self._zeros(input) if hx is None else hx
        return R.unitary_rnn_cell(
            input, hx, self.weight_ih, self.generator_hh, self.modrelu_bias, self.bias_ih
        )


class _RNNBase(KeepsRealState):
    """Stacked, optionally bidirectional layers of one cell type, run step by step."""

    _states = 1  # tensors in the recurrent state: h (GRU, unitary), or (h, c) (LSTM)

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int,
        bias: bool,
        batch_first: bool,
        dropout: float,
        bidirectional: bool,
        device,
        dtype,
    ) -> None:
        self._factory = _factory_kwargs(device, dtype)
        _check_sizes(input_size, hidden_size)
        if num_layers < 1:
            raise ValueError(f"num_layers must be at least 1, got {num_layers}")
        if not 0 <= dropout <= 1:
            raise ValueError(f"dropout must be a probability in [0, 1], got {dropout}")
        if dropout > 0 and num_layers == 1:
            warnings.warn(
                "dropout acts between recurrent layers (after all but the last), so a non-zero "
                f"dropout needs num_layers > 1; got dropout={dropout} and num_layers=1",
                stacklevel=3,
            )
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self._directions = 2 if bidirectional else 1

    def _suffixes(self):
        """``(layer, direction, suffix)`` of every layer and direction, in state order."""
        for layer in range(self.num_layers):
            for direction in range(self._directions):
                yield layer, direction, f"_l{layer}" + ("_reverse" if direction else "")

    def _layer_input_size(self, layer: int) -> int:
        return self.input_size if layer == 0 else self.hidden_size * self._directions

    def _complex(self, name: str, *shape: int) -> None:
        self.register_parameter(name, nn.Parameter(torch.empty(*shape, **self._factory)))

    def _optional_bias(self, name: str, rows: int) -> None:
        if self.bias:
            self._complex(name, rows)
        else:
            self.register_parameter(name, None)

    def _check_hx(self, hx, batch: int, batched: bool) -> list[State]:
        """The initial state of every layer and direction, each a tuple of ``(N, H)``."""
        rows = self.num_layers * self._directions
        weight = self.weight_ih_l0
        shape = (rows, batch, self.hidden_size) if batched else (rows, self.hidden_size)
        if hx is None:
            zeros = torch.zeros(
                rows, batch, self.hidden_size, dtype=weight.dtype, device=weight.device
            )
            return [(zeros[i],) * self._states for i in range(rows)]
        parts = (hx,) if self._states == 1 else hx
        if self._states > 1 and (not isinstance(hx, tuple | list) or len(hx) != self._states):
            raise TypeError(f"hx of {type(self).__name__} must be the pair (h_0, c_0)")
        checked = []
        for part, name in zip(parts, ("h_0", "c_0"), strict=False):
            check_complex(part, name)
            check_same_dtype(part, weight, name)
            if tuple(part.shape) != shape:
                raise ValueError(
                    f"{name} must have shape {shape} (num_layers * num_directions, "
                    f"{'N, ' if batched else ''}hidden_size), got {tuple(part.shape)}"
                )
            checked.append(part if batched else part.unsqueeze(1))
        return [tuple(part[i] for part in checked) for i in range(rows)]

    def forward(self, input, hx=None):
        packed = isinstance(input, PackedSequence)
        if packed:
            x, lengths = pad_packed_sequence(input)  # (T, B, H_in) in the caller's order
            steps = torch.arange(x.shape[0], device=lengths.device)
            mask = (steps[:, None] < lengths[None, :]).to(x.device)
            batched = True
        else:
            check_ndim(
                input,
                (2, 3),
                shape="(L, N, H_in) ((N, L, H_in) with batch_first) or unbatched (L, H_in)",
            )
            batched = input.dim() == 3
            x = input if batched else input.unsqueeze(1)
            if batched and self.batch_first:
                x = x.transpose(0, 1)
            mask = None
        if x.shape[-1] != self.input_size or x.shape[0] == 0:
            raise ValueError(
                f"input must hold at least one time step of input_size={self.input_size} "
                f"features, got shape {tuple(x.shape)}"
            )
        initial = self._check_hx(hx, x.shape[1], batched)
        finals: list[State] = []
        out = x
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(self._directions):
                # (w_ih, b_ih, step) of this layer and direction, step(gi, state) -> state
                w_ih, b_ih, step = self._step_fn(f"_l{layer}" + ("_reverse" if direction else ""))
                gi = linear(out, w_ih, b_ih)  # every time step's input projection at once
                state = initial[layer * self._directions + direction]
                ys: list[torch.Tensor | None] = [None] * gi.shape[0]
                times = range(gi.shape[0] - 1, -1, -1) if direction else range(gi.shape[0])
                for t in times:
                    new = step(gi[t], state)
                    if mask is not None:  # padded steps keep the state
                        keep = mask[t, :, None]
                        new = tuple(
                            torch.where(keep, n, s) for n, s in zip(new, state, strict=True)
                        )
                    state = new
                    ys[t] = state[0]
                outputs.append(torch.stack(ys))
                finals.append(state)
            out = torch.cat(outputs, -1) if self._directions == 2 else outputs[0]
            if layer < self.num_layers - 1:
                out = complex_dropout(out, self.dropout, self.training)
        final = [torch.stack([s[k] for s in finals]) for k in range(self._states)]
        if not batched:
            out = out.squeeze(1)
            final = [f.squeeze(1) for f in final]
        elif packed:
            out = self._pack_like(out, input)
        elif self.batch_first:
            out = out.transpose(0, 1)
        return out, (final[0] if self._states == 1 else tuple(final))

    @staticmethod
    def _pack_like(out: torch.Tensor, input: PackedSequence) -> PackedSequence:
        """``out`` ``(T, B, *)`` in the caller's order, packed like ``input``."""
        if input.sorted_indices is not None:
            out = out.index_select(1, input.sorted_indices)
        rows = [out[t, :size] for t, size in enumerate(input.batch_sizes.tolist())]
        return PackedSequence(
            torch.cat(rows), input.batch_sizes, input.sorted_indices, input.unsorted_indices
        )

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if not self.bias:
            s += ", bias=False"
        if self.batch_first:
            s += ", batch_first=True"
        if self.dropout:
            s += f", dropout={self.dropout}"
        if self.bidirectional:
            s += ", bidirectional=True"
        return s


class _GatedRNN(_RNNBase):
    _gates = 1

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
        gate: str = "real",
        activation: str = "split_tanh",
    ) -> None:
        self._gate_fn = R._resolve_gate(gate)
        self._activation_fn = R._resolve_activation(activation)
        super().__init__(
            input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
            device, dtype,
        )  # fmt: skip
        self.gate = gate
        self.activation = activation
        rows = self._gates * self.hidden_size
        for layer, _, suffix in self._suffixes():
            self._complex(f"weight_ih{suffix}", rows, self._layer_input_size(layer))
            self._complex(f"weight_hh{suffix}", rows, self.hidden_size)
            self._optional_bias(f"bias_ih{suffix}", rows)
            self._optional_bias(f"bias_hh{suffix}", rows)
        del self._factory
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Real and imaginary parts of every parameter from ``U(-k, k)``, ``k = 1/sqrt(H)``."""
        for p in self.parameters():
            _uniform_(p, 1 / math.sqrt(self.hidden_size))

    def extra_repr(self) -> str:
        return super().extra_repr() + f", gate={self.gate!r}, activation={self.activation!r}"


_LAYER_ARGS = r"""
    Args:
        input_size: features of the input.
        hidden_size: features of the hidden state.
        num_layers: stacked layers; layer $k > 0$ takes the outputs of layer
            $k - 1$ (both directions concatenated).
        bias: if ``False``, no ``bias_ih_l{k}`` and ``bias_hh_l{k}``.
        batch_first: if ``True``, input and output are ``(N, L, *)`` (not the states).
        dropout: `phasor.functional.dropout` with this probability on the outputs of
            every layer but the last, in training mode.
        bidirectional: if ``True``, each layer also runs backwards in time
            (``*_reverse`` parameters), $D = 2$.
        device: device of the parameters.
        dtype: ``torch.complex64`` (default) or ``torch.complex128``.
"""


class GRU(_GatedRNN):
    r"""A multi-layer complex GRU with torch's interface; every step is
    [`phasor.functional.gru_cell`][phasor.functional.recurrent.gru_cell].
    """

    __doc__ += (
        _LAYER_ARGS
        + r"""        gate, activation: as `GRUCell`.

    Attributes:
        weight_ih_l{k}: complex ``(3 * hidden_size, H_in)`` (``H_in = input_size`` for
            ``k = 0``, else ``D * hidden_size``), gates ``(r, z, n)``.
        weight_hh_l{k}: complex ``(3 * hidden_size, hidden_size)``.
        bias_ih_l{k}, bias_hh_l{k}: complex ``(3 * hidden_size,)``.

    Shape:
        - Input: $(L, N, H_{in})$, $(N, L, H_{in})$ with ``batch_first``,
          $(L, H_{in})$ unbatched, or a ``PackedSequence``; complex, or real of the
          weights' real dtype.
        - hx: $(D \cdot \text{num\_layers}, N, H)$ (or without $N$), complex;
          zeros if not given.
        - Output: ``(output, h_n)``: output $(L, N, D \cdot H)$ (batch first, unbatched
          or packed like the input), ``h_n`` of the shape of ``hx``.
    """
    )

    _gates = 3

    def _step_fn(self, suffix: str):
        w_hh, b_hh = getattr(self, f"weight_hh{suffix}"), getattr(self, f"bias_hh{suffix}")

        def step(gi: torch.Tensor, state: State) -> State:
            return (R._gru_step(gi, state[0], w_hh, b_hh, self._gate_fn, self._activation_fn),)

        return getattr(self, f"weight_ih{suffix}"), getattr(self, f"bias_ih{suffix}"), step


class LSTM(_GatedRNN):
    r"""A multi-layer complex LSTM with torch's interface; every step is
    [`phasor.functional.lstm_cell`][phasor.functional.recurrent.lstm_cell]. There is no ``proj_size``.
    """

    __doc__ += (
        _LAYER_ARGS
        + r"""        gate, activation: as `LSTMCell`.

    Attributes:
        weight_ih_l{k}: complex ``(4 * hidden_size, H_in)``, gates ``(i, f, g, o)``.
        weight_hh_l{k}: complex ``(4 * hidden_size, hidden_size)``.
        bias_ih_l{k}, bias_hh_l{k}: complex ``(4 * hidden_size,)``.

    Shape:
        - Input: as `GRU`.
        - hx: the pair ``(h_0, c_0)``, each $(D \cdot \text{num\_layers}, N, H)$ (or
          without $N$); zeros if not given.
        - Output: ``(output, (h_n, c_n))``, output as `GRU`.
    """
    )

    _gates = 4
    _states = 2

    def _step_fn(self, suffix: str):
        w_hh, b_hh = getattr(self, f"weight_hh{suffix}"), getattr(self, f"bias_hh{suffix}")

        def step(gi: torch.Tensor, state: State) -> State:
            return R._lstm_step(gi, state, w_hh, b_hh, self._gate_fn, self._activation_fn)

        return getattr(self, f"weight_ih{suffix}"), getattr(self, f"bias_ih{suffix}"), step


class UnitaryRNN(_RNNBase):
    r"""A multi-layer unitary RNN (Arjovsky et al. 2016) with torch's RNN interface; every
    step is [`phasor.functional.unitary_rnn_cell`][phasor.functional.recurrent.unitary_rnn_cell], initialised as
    `UnitaryRNNCell`.
    """

    __doc__ += (
        _LAYER_ARGS
        + r"""
    Attributes:
        weight_ih_l{k}: complex ``(hidden_size, H_in)``.
        bias_ih_l{k}: complex ``(hidden_size,)`` (if ``bias``).
        generator_hh_l{k}: complex ``(hidden_size, hidden_size)``, the generator $A$
            of the unitary recurrent matrix $\exp(A - A^H)$.
        modrelu_bias_l{k}: real ``(hidden_size,)``.

    Shape: as `GRU`.
    """
    )

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__(
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            device,
            dtype,
        )
        real = {"device": self._factory["device"], "dtype": self._factory["dtype"].to_real()}
        for layer, _, suffix in self._suffixes():
            self._complex(f"weight_ih{suffix}", hidden_size, self._layer_input_size(layer))
            self._optional_bias(f"bias_ih{suffix}", hidden_size)
            self._complex(f"generator_hh{suffix}", hidden_size, hidden_size)
            self.register_parameter(
                f"modrelu_bias{suffix}", nn.Parameter(torch.empty(hidden_size, **real))
            )
        del self._factory
        self._real_state = tuple(f"modrelu_bias{s}" for _, _, s in self._suffixes())
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1 / math.sqrt(self.hidden_size)
        for _, _, suffix in self._suffixes():
            _uniform_(getattr(self, f"weight_ih{suffix}"), bound)
            if self.bias:
                _uniform_(getattr(self, f"bias_ih{suffix}"), bound)
            _unitary_generator_(getattr(self, f"generator_hh{suffix}"))
            nn.init.zeros_(getattr(self, f"modrelu_bias{suffix}"))

    def _step_fn(self, suffix: str):
        w_hh = R.unitary_matrix(getattr(self, f"generator_hh{suffix}"))  # once per forward
        bias = getattr(self, f"modrelu_bias{suffix}")

        def step(gi: torch.Tensor, state: State) -> State:
            return (R._unitary_step(gi, state[0], w_hh, bias),)

        return getattr(self, f"weight_ih{suffix}"), getattr(self, f"bias_ih{suffix}"), step
