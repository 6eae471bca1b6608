"""The same networks in PyTorch, written as a PyTorch user would: ``torch.nn.Sequential``
of ``Linear``/``ReLU``/``Tanh``/``Dropout``, ``BCEWithLogitsLoss``/``CrossEntropyLoss``
(their gradient at the logits is pyneural's ``AL - Y`` over m) and ``torch.optim.Adam``
(fused when this torch has it, else foreach). Examples are rows (torch's layout), the
initial weights are the same He draws, and each mini-batch gathers the same indices.

Imported only when torch is installed (``available()`` says whether it is).
"""

from __future__ import annotations

import functools
import time

import numpy as np

from .workloads import batches, he_parameters


@functools.lru_cache(maxsize=None)
def available() -> bool:
    """Whether PyTorch imports here (imported once, on the first call)."""
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def version():
    import torch

    return torch.__version__


def set_threads(n):
    import torch

    torch.set_num_threads(n)


def make_adam(params, lr):
    """``(optimizer, mode)``: fused Adam if this torch supports it on the CPU, else foreach."""
    import torch

    for mode in ("fused", "foreach"):
        try:
            return torch.optim.Adam(params, lr=lr, betas=(0.9, 0.999), eps=1e-8, **{mode: True}), mode
        except (RuntimeError, TypeError, ValueError):
            continue
    return torch.optim.Adam(params, lr=lr), "for-loop"


class Trainer:
    name = "torch"

    def __init__(self, wl, X, Y, dtype, keep_prob):
        import torch

        self.torch, self.wl = torch, wl
        tdtype = torch.float32 if np.dtype(dtype) == np.float32 else torch.float64
        mods = []
        params = he_parameters(wl, dtype)
        for l, (W, b) in enumerate(params, start=1):
            lin = torch.nn.Linear(W.shape[1], W.shape[0], dtype=tdtype)
            with torch.no_grad():
                lin.weight.copy_(torch.from_numpy(W))
                lin.bias.copy_(torch.from_numpy(b[:, 0]))
            mods.append(lin)
            if l < len(params):
                mods.append(torch.nn.ReLU() if wl.hidden == "relu" else torch.nn.Tanh())
                if keep_prob < 1:
                    mods.append(torch.nn.Dropout(p=1 - keep_prob))
        self.model = torch.nn.Sequential(*mods).train()
        self.X = torch.from_numpy(np.ascontiguousarray(X.T))  # (m, n_x)
        if wl.output == "sigmoid":
            self.Y = torch.from_numpy(np.ascontiguousarray(Y.T))  # (m, 1) float
            self.loss = torch.nn.BCEWithLogitsLoss()
        else:
            self.Y = torch.from_numpy(np.argmax(Y, axis=0))  # (m,) class indices
            self.loss = torch.nn.CrossEntropyLoss()
        self.optimizer, self.adam_mode = make_adam(self.model.parameters(), wl.lr)
        torch.manual_seed(0)

    def run_epochs(self, start, n):
        torch, times = self.torch, []
        m = self.X.shape[0]
        for epoch in range(start, start + n):
            t0 = time.perf_counter()
            cost_total = 0.0
            for idx in batches(m, self.wl.batch_size, epoch):
                if idx is None:
                    xb, yb = self.X, self.Y
                else:
                    ti = torch.from_numpy(idx)
                    xb, yb = self.X[ti], self.Y[ti]
                self.optimizer.zero_grad(set_to_none=True)
                loss = self.loss(self.model(xb), yb)
                loss.backward()
                self.optimizer.step()
                cost_total += loss.item() * xb.shape[0]
            times.append(time.perf_counter() - t0)
        return times

    def params(self):
        out = []
        for mod in self.model:
            if isinstance(mod, self.torch.nn.Linear):
                out += [mod.weight.detach().numpy(), mod.bias.detach().numpy().reshape(-1, 1)]
        return out
