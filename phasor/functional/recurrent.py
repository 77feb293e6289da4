r"""Complex recurrent cells: GRU, LSTM and the unitary RNN of Arjovsky et al. (2016).

The GRU and LSTM cells use torch's gate layout and equations with complex weights, inputs and
states. A gate needs a *real-valued* squashing of a complex pre-activation $a$; two
conventions are offered (argument ``gate``):

``"real"`` (phasor's default)
    $g = \sigma(\Re a)$, a real gate in $(0, 1)$ that scales the modulus of each
    complex unit and leaves its phase alone. The GRU update
    $h' = (1 - z) n + z h$ stays a convex combination per unit, so
    $|h'| \le \max(|n|, |h|)$, and for real weights and real data every cell equals
    torch's cell exactly (the imaginary parts stay zero).
- ``"split"``: $g = \sigma(\Re a) + i\,\sigma(\Im a)$ ([`split_sigmoid`][phasor.functional.activation.split_sigmoid]),
  multiplied as a complex number: the convention of complexPyTorch's ``ComplexGRUCell`` and
  of complextorch's ``GRUCell``/``LSTMCell`` (split "type-A" sigmoid). Such a gate rotates
  the state it multiplies and can have modulus up to $\sqrt 2$; with real data it
  does not reduce to torch's cell (its imaginary part is $\sigma(0) = 1/2$).

The candidate (GRU) and cell-output (LSTM) nonlinearity is complex (argument ``activation``):
``"split_tanh"`` (default, [`split_tanh`][phasor.functional.activation.split_tanh], as both libraries above) or
``"amp_phase_tanh"`` ([`amp_phase_tanh`][phasor.functional.activation.amp_phase_tanh], which keeps the phase).

Every function takes ``input`` of shape ``(*, input_size)`` and states ``(*, hidden_size)``
with the same leading dimensions (``*`` may be empty: an unbatched step).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from phasor._validation import check_complex, check_same_dtype
from phasor.functional.activation import amp_phase_tanh, modrelu, split_sigmoid, split_tanh
from phasor.functional.linear import linear

__all__ = ["gru_cell", "lstm_cell", "unitary_matrix", "unitary_rnn_cell"]

Fn = Callable[[torch.Tensor], torch.Tensor]


def _real_gate(a: torch.Tensor) -> torch.Tensor:
    return torch.sigmoid(a.real)


# Gate squashings and candidate nonlinearities by name (the ``gate`` and ``activation`` args).
_GATES: dict[str, Fn] = {"real": _real_gate, "split": split_sigmoid}
_ACTIVATIONS: dict[str, Fn] = {"split_tanh": split_tanh, "amp_phase_tanh": amp_phase_tanh}


def _resolve_gate(gate: str) -> Fn:
    """The gate squashing named ``gate``; ``ValueError`` naming the choices otherwise."""
    if gate not in _GATES:
        raise ValueError(f"unknown gate {gate!r}; choose one of {', '.join(_GATES)}")
    return _GATES[gate]


def _resolve_activation(activation: str) -> Fn:
    """The candidate nonlinearity named ``activation``; ``ValueError`` otherwise."""
    if activation not in _ACTIVATIONS:
        raise ValueError(
            f"unknown activation {activation!r}; choose one of {', '.join(_ACTIVATIONS)}"
        )
    return _ACTIVATIONS[activation]


def _check_weights(
    w_ih: torch.Tensor, w_hh: torch.Tensor, gates: int, kind: str
) -> tuple[int, int]:
    """``(input_size, hidden_size)`` of the weights of a cell with ``gates`` stacked gates."""
    check_complex(w_ih, "w_ih")
    check_complex(w_hh, "w_hh")
    check_same_dtype(w_hh, w_ih, "w_hh")
    if w_hh.dim() != 2 or w_hh.shape[0] != gates * w_hh.shape[1]:
        raise ValueError(
            f"w_hh of a {kind} cell must have shape ({gates} * hidden_size, hidden_size), "
            f"got {tuple(w_hh.shape)}"
        )
    hidden = w_hh.shape[1]
    if w_ih.dim() != 2 or w_ih.shape[0] != gates * hidden:
        raise ValueError(
            f"w_ih of a {kind} cell must have shape ({gates * hidden}, input_size) for "
            f"hidden_size={hidden}, got {tuple(w_ih.shape)}"
        )
    return w_ih.shape[1], hidden


def _check_state(state: torch.Tensor, input: torch.Tensor, weight: torch.Tensor, name: str):
    check_complex(state, name)
    check_same_dtype(state, weight, name)
    hidden = weight.shape[1]
    expected = (*input.shape[:-1], hidden)
    if tuple(state.shape) != expected:
        raise ValueError(
            f"{name} must have shape {expected} for input of shape {tuple(input.shape)} and "
            f"hidden_size={hidden}, got {tuple(state.shape)}"
        )


def _gru_step(
    gi: torch.Tensor,
    hx: torch.Tensor,
    w_hh: torch.Tensor,
    b_hh: torch.Tensor | None,
    gate: Fn,
    activation: Fn,
) -> torch.Tensor:
    """One GRU step from the input projection ``gi = x W_ih^T + b_ih`` (no checks)."""
    gh = linear(hx, w_hh, b_hh)
    i_r, i_z, i_n = gi.chunk(3, -1)
    h_r, h_z, h_n = gh.chunk(3, -1)
    r = gate(i_r + h_r)
    z = gate(i_z + h_z)
    n = activation(i_n + r * h_n)
    return (1 - z) * n + z * hx


def _lstm_step(
    gi: torch.Tensor,
    hx: tuple[torch.Tensor, torch.Tensor],
    w_hh: torch.Tensor,
    b_hh: torch.Tensor | None,
    gate: Fn,
    activation: Fn,
) -> tuple[torch.Tensor, torch.Tensor]:
    """One LSTM step from the input projection ``gi = x W_ih^T + b_ih`` (no checks)."""
    h, c = hx
    i, f, g, o = (gi + linear(h, w_hh, b_hh)).chunk(4, -1)
    c_new = gate(f) * c + gate(i) * activation(g)
    return gate(o) * activation(c_new), c_new


def gru_cell(
    input: torch.Tensor,
    hx: torch.Tensor,
    w_ih: torch.Tensor,
    w_hh: torch.Tensor,
    b_ih: torch.Tensor | None = None,
    b_hh: torch.Tensor | None = None,
    gate: str = "real",
    activation: str = "split_tanh",
) -> torch.Tensor:
    r"""One step of a complex GRU, with torch's gate layout ``(r, z, n)``.

    $$
    r &= \gamma(W_{ir} x + b_{ir} + W_{hr} h + b_{hr}) \\
    z &= \gamma(W_{iz} x + b_{iz} + W_{hz} h + b_{hz}) \\
    n &= \phi\bigl(W_{in} x + b_{in} + r \odot (W_{hn} h + b_{hn})\bigr) \\
    h' &= (1 - z) \odot n + z \odot h
    $$

    with the gate squashing $\gamma$ (``gate``: ``"real"`` gives
    $\sigma(\Re a)$, ``"split"`` gives $\sigma(\Re a) + i\sigma(\Im a)$) and the
    complex candidate nonlinearity $\phi$ (``activation``: ``"split_tanh"`` or
    ``"amp_phase_tanh"``); see the module docstring. Products are complex, with no
    conjugation of the weights.

    Args:
        input: complex input, or real of the weights' real dtype.
        hx: complex hidden state.
        w_ih: complex ``(3 * hidden_size, input_size)``, rows ``W_ir; W_iz; W_in``.
        w_hh: complex ``(3 * hidden_size, hidden_size)``, rows ``W_hr; W_hz; W_hn``.
        b_ih: optional complex ``(3 * hidden_size,)``.
        b_hh: optional complex ``(3 * hidden_size,)``.
        gate: ``"real"`` (default) or ``"split"``.
        activation: ``"split_tanh"`` (default) or ``"amp_phase_tanh"``.

    Shape:
        - Input: $(*, H_{in})$.
        - Hidden state and output: $(*, H)$, dtype of the weights.
    """
    gate_fn, act_fn = _resolve_gate(gate), _resolve_activation(activation)
    _check_weights(w_ih, w_hh, 3, "GRU")
    _check_state(hx, input, w_hh, "hx")
    return _gru_step(linear(input, w_ih, b_ih), hx, w_hh, b_hh, gate_fn, act_fn)


def lstm_cell(
    input: torch.Tensor,
    hx: tuple[torch.Tensor, torch.Tensor],
    w_ih: torch.Tensor,
    w_hh: torch.Tensor,
    b_ih: torch.Tensor | None = None,
    b_hh: torch.Tensor | None = None,
    gate: str = "real",
    activation: str = "split_tanh",
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""One step of a complex LSTM, with torch's gate layout ``(i, f, g, o)``.

    $$
    (a_i, a_f, a_g, a_o) &= W_{ih} x + b_{ih} + W_{hh} h + b_{hh} \\
    c' &= \gamma(a_f) \odot c + \gamma(a_i) \odot \phi(a_g) \\
    h' &= \gamma(a_o) \odot \phi(c')
    $$

    with the gate squashing $\gamma$ and the complex nonlinearity $\phi$ of
    `gru_cell` (``gate``, ``activation``; see the module docstring).

    Args:
        input: complex input, or real of the weights' real dtype.
        hx: the pair ``(h, c)`` of complex hidden and cell states.
        w_ih: complex ``(4 * hidden_size, input_size)``, rows ``W_ii; W_if; W_ig; W_io``.
        w_hh: complex ``(4 * hidden_size, hidden_size)``.
        b_ih: optional complex ``(4 * hidden_size,)``.
        b_hh: optional complex ``(4 * hidden_size,)``.
        gate: ``"real"`` (default) or ``"split"``.
        activation: ``"split_tanh"`` (default) or ``"amp_phase_tanh"``.

    Shape:
        - Input: $(*, H_{in})$.
        - ``h``, ``c`` and the outputs ``(h', c')``: $(*, H)$, dtype of the weights.
    """
    gate_fn, act_fn = _resolve_gate(gate), _resolve_activation(activation)
    _check_weights(w_ih, w_hh, 4, "LSTM")
    if not isinstance(hx, tuple | list) or len(hx) != 2:
        raise TypeError("hx of an LSTM cell must be the pair (h, c) of hidden and cell states")
    _check_state(hx[0], input, w_hh, "h")
    _check_state(hx[1], input, w_hh, "c")
    return _lstm_step(linear(input, w_ih, b_ih), tuple(hx), w_hh, b_hh, gate_fn, act_fn)


def unitary_matrix(a: torch.Tensor) -> torch.Tensor:
    r"""The unitary matrix $W = \exp(A - A^H)$ of an unconstrained square complex ``a``.

    $S = A - A^H$ is skew-Hermitian ($S^H = -S$), so
    $W^H W = e^{-S} e^{S} = I$ exactly up to rounding, whatever ``a`` is: gradient
    steps on ``a`` never leave the unitary group (the exponential parametrisation of
    Lezcano-Casado & Martínez-Rubio 2019). Every unitary matrix is reached (``a = S / 2``
    with ``S`` a logarithm of ``W``). It is evaluated as $e^{-i} \exp(S + iI)$, the same
    matrix, where `torch.linalg.matrix_exp` is accurate to about ``1e-15`` in
    complex128 for small generators too (``W^H W = I`` to ``1e-12`` measured for generator
    entries from ``1e-6`` to ``50``).

    Shape:
        - ``a``: $(*, H, H)$, complex.
        - Output: $(*, H, H)$, same dtype.
    """
    check_complex(a, "a")
    if a.dim() < 2 or a.shape[-1] != a.shape[-2]:
        raise ValueError(f"a must be a square matrix (*, H, H), got shape {tuple(a.shape)}")
    eye = torch.eye(a.shape[-1], dtype=a.dtype, device=a.device)
    # exp(S) = e^{-i} exp(S + iI) (iI commutes with S). torch's matrix_exp is least accurate
    # for 1-norms near 1e-2 (W^H W - I up to 3e-12 in complex128); the shift moves small
    # generators out of that range (1e-15 there), and keeps large ones at their accuracy.
    return torch.linalg.matrix_exp(a - a.mH + 1j * eye) * complex(math.cos(1), -math.sin(1))


def _unitary_step(
    gi: torch.Tensor, hx: torch.Tensor, w_hh: torch.Tensor, bias: torch.Tensor
) -> torch.Tensor:
    """One unitary-RNN step from ``gi = x W_ih^T + b_ih`` and the unitary ``w_hh`` (no checks)."""
    pre = gi + hx @ w_hh.mT
    if pre.dim() == 1:  # modrelu's per-feature bias needs a feature axis at dim 1
        return modrelu(pre.unsqueeze(0), bias).squeeze(0)
    flat = pre.reshape(-1, pre.shape[-1])
    return modrelu(flat, bias).reshape(pre.shape)


def unitary_rnn_cell(
    input: torch.Tensor,
    hx: torch.Tensor,
    w_ih: torch.Tensor,
    a_hh: torch.Tensor,
    modrelu_bias: torch.Tensor,
    b_ih: torch.Tensor | None = None,
) -> torch.Tensor:
    r"""One step of the unitary RNN of Arjovsky, Shah & Bengio (2016).

    $$
    h' = \mathrm{modReLU}\bigl(W_{ih} x + b_{ih} + W h,\ b\bigr), \qquad
    W = \exp(A - A^H)
    $$

    $W$ is exactly unitary (`unitary_matrix`), so the linear part of the
    recurrence neither grows nor shrinks the state: $\|W h\| = \|h\|$.
    [`modrelu`][phasor.functional.activation.modrelu] with the real per-feature bias $b$ is the
    nonlinearity; for $b = 0$ it is the identity.

    Args:
        input: complex input, or real of the weights' real dtype.
        hx: complex hidden state.
        w_ih: complex ``(hidden_size, input_size)``.
        a_hh: complex ``(hidden_size, hidden_size)``, the unconstrained generator $A$.
        modrelu_bias: real ``(hidden_size,)`` of the weights' real dtype.
        b_ih: optional complex ``(hidden_size,)``.

    Shape:
        - Input: $(*, H_{in})$.
        - Hidden state and output: $(*, H)$, dtype of the weights.
    """
    check_complex(w_ih, "w_ih")
    w_hh = unitary_matrix(a_hh)
    check_same_dtype(a_hh, w_ih, "a_hh")
    if w_ih.dim() != 2 or w_ih.shape[0] != a_hh.shape[-1] or a_hh.dim() != 2:
        raise ValueError(
            "w_ih must have shape (hidden_size, input_size) and a_hh (hidden_size, "
            f"hidden_size), got {tuple(w_ih.shape)} and {tuple(a_hh.shape)}"
        )
    _check_state(hx, input, a_hh, "hx")
    return _unitary_step(linear(input, w_ih, b_ih), hx, w_hh, modrelu_bias)
