"""Time the fig1-left protocol of the phase-pruning study: NumPy (hand-written gradients)
against phasor layers + autograd, on the same data and weights.

Times a few full-batch steps and one checkpoint's evaluation (origin, 10 random halves and
4 projections on the test set), then extrapolates to the paper's 2000 steps and
20 checkpoints. Not a test; run it by hand::

    OMP_NUM_THREADS=1 python benchmarks/phase_pruning.py --data-dir "$PHASOR_DATA/mnist"
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from phasor.data import load_images
from phasor.experiments.phase_pruning.numpy_mlp import NumpyMLP, encode_inputs, init_weights
from phasor.experiments.phase_pruning.torch_mlp import TorchMLP
from phasor.weights import keep_phase


def _time(fn, repeats: int) -> float:
    fn()  # warm-up
    started = time.perf_counter()
    for _ in range(repeats):
        fn()
    return (time.perf_counter() - started) / repeats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", default="mnist", help="image data set (default: mnist)")
    parser.add_argument("--data-dir", help="folder of its IDX files (default: $PHASOR_DATA/NAME)")
    parser.add_argument(
        "--train-size", type=int, default=30000, help="training images (default: 30000)"
    )
    parser.add_argument(
        "--steps", type=int, default=3, help="timed steps per implementation (default: 3)"
    )
    parser.add_argument(
        "--dtype", choices=("float64", "float32"), default="float64", help="default: float64"
    )
    args = parser.parse_args()

    data = load_images(args.dataset, args.data_dir, train_size=args.train_size)
    x = encode_inputs(data.train_images.numpy(), True, args.dtype)
    y = data.train_labels.numpy()
    xt = encode_inputs(data.test_images.numpy(), True, args.dtype)
    weights = init_weights([x.shape[1], 100, 10], True, np.random.default_rng(0))
    print(
        f"fig1-left: complex 785-100-10, {len(y)} train / {len(xt)} test images, {args.dtype}, "
        f"torch threads {torch.get_num_threads()}"
    )
    net = NumpyMLP(weights, dtype=args.dtype)
    model = TorchMLP(weights, dtype=args.dtype)
    x_t, y_t, xt_t = torch.from_numpy(x), torch.from_numpy(y), torch.from_numpy(xt)
    rows = {
        "numpy": (
            _time(lambda: net.step(x, y, 0.1), args.steps),
            _time(lambda: net.predict(xt), 3),
        ),
        "torch": (
            _time(lambda: model.step(x_t, y_t, 0.1), args.steps),
            _time(lambda: model.predict(xt_t), 3),
        ),
    }
    w = torch.from_numpy(net.weights[0])
    print(f"(projection keep_phase of W1: {_time(lambda: keep_phase(w, 0.01), 5) * 1e3:.2f} ms)")
    print(f"{'impl':<6} {'step (s)':>9} {'test pass (s)':>14} {'2000 steps + 20 checkpoints':>29}")
    for name, (step, evaluate) in rows.items():
        total = 2000 * step + 20 * 15 * evaluate  # 15 test passes per checkpoint
        print(f"{name:<6} {step:9.3f} {evaluate:14.3f} {total / 60:26.1f} min")


if __name__ == "__main__":
    main()
