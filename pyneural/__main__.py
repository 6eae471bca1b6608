"""``python -m pyneural`` / ``pyneural``: the command line.

    pyneural demo     the course's planar-flower network, trained on the active backend
    pyneural config   the installation's configuration (= pyneural.show_config())
"""

from __future__ import annotations

import argparse
import sys
import time


def _demo(args) -> int:
    import numpy as np

    import pyneural as pn
    from pyneural import functional as F

    if args.backend:
        pn.set_backend(args.backend)
    backend = pn.get_backend().NAME
    X, Y = pn.datasets.planar()
    print(f"Planar flower: X {X.shape}, Y {Y.shape}; a 2-4-1 tanh/sigmoid network, "
          f"learning rate 1.2, {args.iterations} iterations, backend {backend!r}")
    params = F.initialize_parameters(2, 4, 1)
    t0 = time.perf_counter()
    for i in range(args.iterations):
        A2, caches = F.L_model_forward(X, params, "tanh", "sigmoid")
        cost = F.compute_cost(A2, Y)
        grads = F.L_model_backward(A2, Y, caches, "tanh", "sigmoid")
        params = F.update_parameters(params, grads, 1.2)
        if i % 1000 == 0:
            print("Cost after iteration %i: %f" % (i, cost))
    elapsed = time.perf_counter() - t0
    p = F.predict(X, Y, params, "tanh", "sigmoid", print_accuracy=False)
    acc = float(np.mean(p == Y))
    print(f"Accuracy: {acc:.2%}  ({elapsed:.2f} s, {1e6 * elapsed / max(args.iterations, 1):.0f} µs per iteration)")
    return 0


def _config(args) -> int:
    import pyneural as pn

    pn.show_config()
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="pyneural", description="pyneural command line")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="train the course's planar-flower network")
    demo.add_argument("--iterations", type=int, default=10000, help="gradient-descent iterations")
    demo.add_argument("--backend", choices=["cpp", "numba", "numpy"], help="backend to use")
    demo.set_defaults(func=_demo)
    cfg = sub.add_parser("config", help="show versions, backends, threads and SIMD level")
    cfg.set_defaults(func=_config)
    args = parser.parse_args(argv)
    if getattr(args, "iterations", 1) < 1:
        parser.error("--iterations must be >= 1")
    try:
        return args.func(args)
    except Exception as exc:  # one line, non-zero exit: no traceback for a user's mistake
        print(f"pyneural: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
