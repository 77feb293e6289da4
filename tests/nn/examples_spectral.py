"""Examples of the spectral front ends for tests/nn/test_transforms.py."""

import torch

import phasor.nn as cnn


def _waveform(*shape, dtype=torch.float32):
    return lambda g: (torch.randn(*shape, dtype=dtype, generator=g),)


EXAMPLES = {
    "STFT": (lambda: cnn.STFT(16, 4), _waveform(2, 3, 40)),
    "STFT-complex": (
        lambda: cnn.STFT(16, 8, win_length=12, center=False),
        _waveform(2, 40, dtype=torch.complex64),
    ),
    "ISTFT": (lambda: cnn.ISTFT(16, 4), _waveform(2, 3, 9, 11, dtype=torch.complex64)),
    "ISTFT-complex": (
        lambda: cnn.ISTFT(16, 4, return_complex=True),
        _waveform(3, 16, 11, dtype=torch.complex64),
    ),
    "ComplexFilterbank": (
        lambda: cnn.ComplexFilterbank(4, 15, 8000.0, stride=2),
        _waveform(2, 1, 30),
    ),
    "ComplexFilterbank-morlet": (
        lambda: cnn.ComplexFilterbank(3, 9, 8000.0, init="morlet", f_min=900.0),
        _waveform(1, 20, dtype=torch.complex64),
    ),
}
