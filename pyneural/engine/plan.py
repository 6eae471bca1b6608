"""The training plan: a ``Sequential`` model compiled into flat tables and preallocated buffers.

One plan, two executors (``_core.engine_run`` in C++, ``numba_jit.engine.engine_run`` in
Numba) with the same arguments. An executor runs whole epochs of mini-batches (shuffle,
gather, forward, cost, backward, update) without returning to Python, and produces the same
numbers as the per-layer loop of :func:`pyneural.model.training.fit` on the same backend's
kernels (that loop, on the ``numpy`` backend, is the oracle).

Tables
------
``ops`` int64 ``(n_ops, OP_FIELDS)``, one row per ``Sequential`` layer, in order. Columns:

=====  =========  ===============================================================
col    name       meaning
=====  =========  ===============================================================
0      KIND       OP_DENSE, OP_BATCHNORM, OP_DROPOUT, OP_ACTIVATION
1      N_IN       rows of the op's input  (the previous op's output, or Xb)
2      N_OUT      rows of the op's output
3      ACT        activation code (contract.ACTIVATIONS); 0 for dropout
4      P0         offset in ``params``: W (n_out, n_in) C order | gamma (n); else -1
5      P1         offset in ``params``: b (n_out) or -1 without bias | beta (n)
6      OUT        offset in ``ws`` of the op's output A (n_out, mb)
7      AUX0       Dense: Z (== OUT when ACT is identity); BatchNorm: Zn;
                  Dropout: offset in ``masks`` of the uint8 mask (n, mb); else -1
8      AUX1       BatchNorm: pre-activation ``out = gamma*Zn + beta`` (== OUT when
                  ACT is identity); else -1
9      AUX2       BatchNorm: batch mean (n); else -1
10     AUX3       BatchNorm: batch variance (n); else -1
11     STATE      BatchNorm: offset in ``state`` of running_mean (n); running_var
                  follows at STATE + n; else -1
12     LAYER      the layer's index in the model (the dropout key's ``layer``)
=====  =========  ===============================================================

``fpar`` float64 ``(n_ops, FPAR_FIELDS)``: ALPHA (leaky-ReLU slope), KEEP (dropout
keep_prob; 1.0 means the op copies nothing: OUT is the input's offset), EPS (batch norm),
MOMENTUM (batch norm running averages).

``meta`` int64 (see the ``M_*`` names): sizes, loss, task, optimizer and the ``ws``
offsets of the shared buffers Xb (the gathered batch, n_x*B elements; its layout is the
executor's choice), Yb (n_y*B), D0/D1 (two ping-pong gradient buffers of max_n*B) and DZ
(max_n*B). ``hyper`` float64: L2, BETA1 (momentum/RMSprop beta or Adam beta1), BETA2, EPS.

Every (n, mb) matrix in ``ws`` except Xb and Yb (whose layouts are the executor's choice:
the cost kernels' summation order follows the layout, so an executor keeps Yb in the
layout the per-layer loop's ``Y[:, idx]`` has) is C-contiguous with row length ``mb`` (the
batch's size), starting at its offset: the last, shorter batch of an epoch uses the front
of the space.

Buffers (all C-contiguous; dtype T = the model's float dtype unless said)
-------------------------------------------------------------------------
``X`` (n_x, m) in full batch, else ``XT`` (m, n_x): the training inputs, or their
transpose (one row per example, so a mini-batch gathers whole rows); the other one is
empty. ``Y`` (n_y, m) / ``YT`` (m, n_y) likewise for float
targets, or ``labels`` int64 (m,) for integer class labels (LOSS_CCE_LABELS; then Y/YT are
empty). ``params`` (n_params,) every trainable array of the model, in ``model.weights()``
order (the layers' arrays are views of it); ``grads`` (n_params,); ``slot_v``, ``slot_s``
(n_params, or empty) the optimizer's state (its ``slots`` are views of them); ``state``
(n_state,) batch-norm running statistics (views, like params); ``snapshot``
(n_params + n_state,); ``ws`` the workspace; ``masks`` uint8; ``lab`` int64 (B,) gathered
labels; ``perm`` int64 (m,) the epoch's permutation.

Semantics of ``engine_run(*plan.args(), epoch0, n_epochs, lrs, step0, t0, out, stop)``
-------------------------------------------------------------------------------------
For ``e`` in ``epoch0 .. epoch0+n_epochs-1`` (row ``r = e - epoch0`` of ``out``):

1. copy ``params`` then ``state`` into ``snapshot``.
2. Batches: full batch (M_FULL = 1) is X/Y in their order, one step. Otherwise
   ``perm = RandomState((seed + e) mod 2**32).permutation(m)`` (NumPy's legacy MT19937:
   ``init_genrand`` seeding, Fisher-Yates from i = m-1 down to 1 with
   ``j = random_interval(i)``: 32-bit draws masked to the smallest 2^k-1 >= i, rejected
   while > i) cut into ``perm[k:k+B]``, k = 0, B, 2B, ...
3. Each step (``mb`` examples; dropout ``step`` = step0 + steps done in this call; Adam
   ``t`` = t0 + steps done in this call + 1):
   forward every op as the layers do (``linear_forward``, ``batchnorm_forward`` then the
   running averages ``rm = T(mom)*rm + T(1-mom)*mean`` (same for var, ``1-mom`` computed in
   float64 then cast), the activation; ``dropout_forward(A, keep, seed, step, LAYER)``);
   ``cost = total/mb`` with total from ``bce_cost`` | ``softmax_ce_cost`` |
   ``softmax_ce_labels_cost`` | ``0.5*mse_cost``, plus, when l2 > 0,
   ``l2/(2*mb) * (ss_1 + ss_2 + ...)`` (``sum_squares`` of each Dense W, in layer order,
   summed left to right from 0.0). If the cost is not finite: ``out[r, NAN_LAYER]`` = the
   LAYER of the first op (in order) whose cached arrays (input, pre-activation, output, as
   the per-layer loop's ``_first_nonfinite_layer`` checks them) hold a non-finite value
   (-1 if none),
   restore params and state from ``snapshot``, return status STATUS_NONFINITE.
   Else ``out[r, COST] += cost*mb``, ``out[r, CORRECT] +=`` correct predictions (binary:
   ``(AL > 0.5) == (Y > 0.5)``; multiclass: first argmax of the AL column equals the label or
   the first argmax of the one-hot column; regression: nothing), ``out[r, SEEN] += mb``.
   Backward: when M_FUSED, the last op's dZ is ``AL - Y`` (``output_delta``/
   ``output_delta_labels``); otherwise ``dA = output_dA`` (BCE ``-(Y/max(AL,tiny) -
   (1-Y)/max(1-AL,tiny))``, CCE ``-Y/max(AL,tiny)`` with Y one-hot from the labels, MSE
   ``AL - Y``; tiny = the dtype's smallest normal) goes through the last op's backward.
   Ops backward as the layers do (``activation_backward``; ``linear_backward(dZ, A_prev,
   W, dW, db, dA_prev, l2)`` with dW/db written into ``grads`` at P0/P1; batchnorm_backward
   with dgamma/dbeta at P0/P1; ``dropout_apply``); dA is not propagated below op
   M_FIRST_GRAD. Then one optimizer update over the whole flat ``params``/``grads``
   (``gd_update`` | ``momentum_update`` | ``rmsprop_update`` | ``adam_update`` with lr =
   ``lrs[r]``).
   After the step, the C++ executor polls ``stop`` (a Python callable, called with the GIL
   after the call's first step and then at most every ~50 ms: it runs pending signal
   handlers first) and returns STATUS_STOPPED if it
   says so; the row r then holds the partial epoch.
4. ``out[r, STEPS]`` = steps finished in the epoch.

Returns ``(status, epochs_done)``: epochs fully finished (rows 0..epochs_done-1).
"""

from __future__ import annotations

import numpy as np

from .. import kernels
from ..backends.contract import ACT_IDENTITY
from ..layers import Activation, BatchNorm, Dense, Dropout

OP_DENSE, OP_BATCHNORM, OP_DROPOUT, OP_ACTIVATION = 1, 2, 3, 4
(KIND, N_IN, N_OUT, ACT, P0, P1, OUT, AUX0, AUX1, AUX2, AUX3, STATE, LAYER) = range(13)
OP_FIELDS = 13
ALPHA, KEEP, EPS, MOMENTUM = range(4)
FPAR_FIELDS = 4

LOSS_BCE, LOSS_CCE, LOSS_CCE_LABELS, LOSS_MSE = 1, 2, 3, 4
TASK_BINARY, TASK_MULTICLASS, TASK_REGRESSION = 0, 1, 2
OPT_GD, OPT_MOMENTUM, OPT_RMSPROP, OPT_ADAM = 0, 1, 2, 3

(M_N_OPS, M_N_X, M_N_Y, M_M, M_B, M_FULL, M_LOSS, M_FUSED, M_TASK, M_OPT, M_EPS_INSIDE,
 M_N_PARAMS, M_N_STATE, M_SEED, M_XB, M_YB, M_D0, M_D1, M_DZ, M_FIRST_GRAD) = range(20)
META_FIELDS = 20
H_L2, H_BETA1, H_BETA2, H_EPS = range(4)
HYPER_FIELDS = 4

# Columns of ``out`` (float64, one row per epoch of the call).
COST, CORRECT, SEEN, STEPS, NAN_LAYER = range(5)
OUT_FIELDS = 5
STATUS_OK, STATUS_NONFINITE, STATUS_STOPPED = 0, 1, 2

_LOSS_CODES = {"binary_crossentropy": LOSS_BCE, "categorical_crossentropy": LOSS_CCE, "mse": LOSS_MSE}
_OPT_CODES = {"gd": OPT_GD, "momentum": OPT_MOMENTUM, "rmsprop": OPT_RMSPROP, "adam": OPT_ADAM}
_TASKS = {"binary": TASK_BINARY, "multiclass": TASK_MULTICLASS, "regression": TASK_REGRESSION}


class Plan:
    """Tables and buffers of one ``fit`` call (see the module docstring)."""

    ARG_NAMES = ("ops", "fpar", "meta", "hyper", "X", "XT", "Y", "YT", "labels", "params", "grads",
                 "slot_v", "slot_s", "state", "snapshot", "ws", "masks", "lab", "perm")

    def args(self):
        return tuple(getattr(self, name) for name in self.ARG_NAMES)


class _Alloc:
    """Bump allocator of offsets in one flat buffer."""

    def __init__(self):
        self.size = 0

    def take(self, n):
        off = self.size
        self.size += int(n)
        return off


def flat_params(model):
    """The model's trainable arrays as views of one flat buffer (made once per model; the
    layers' ``params`` are rebound to the views, values kept)."""
    flat = getattr(model, "_flat_params", None)
    weights = model.weights()
    if flat is not None and all(np.shares_memory(a, flat) for _, _, a in weights):
        return flat
    n = sum(a.size for _, _, a in weights)
    flat = np.empty(n, model.dtype)
    off = 0
    for i, k, a in weights:
        view = flat[off:off + a.size].reshape(a.shape)
        view[...] = a
        model.layers[i].params[k] = view
        off += a.size
    model._flat_params = flat
    return flat


def flat_state(model):
    """Batch-norm running statistics as views of one flat buffer, like :func:`flat_params`."""
    flat = getattr(model, "_flat_state", None)
    arrays = [(layer, k, a) for layer in model.layers for k, a in layer.state.items()]
    if flat is not None and all(np.shares_memory(a, flat) for _, _, a in arrays):
        return flat
    flat = np.empty(sum(a.size for _, _, a in arrays), model.dtype)
    off = 0
    for layer, k, a in arrays:
        view = flat[off:off + a.size].reshape(a.shape)
        view[...] = a
        layer.state[k] = view
        off += a.size
    model._flat_state = flat
    return flat


def flat_slots(optimizer, params_flat, weights):
    """The optimizer's per-parameter state as views of flat buffers ``(v, s)`` (empty when
    unused). Existing state (an optimizer reused across ``fit`` calls) is kept."""
    names = {"gd": (), "momentum": ("v",), "rmsprop": ("s",), "adam": ("v", "s")}[optimizer.name]
    out = {}
    for name in ("v", "s"):
        if name not in names:
            out[name] = np.empty(0, params_flat.dtype)
            continue
        old = optimizer.slots.get(name)
        flat = np.zeros_like(params_flat)
        views, off = [], 0
        for _, _, a in weights:
            views.append(flat[off:off + a.size].reshape(a.shape))
            off += a.size
        if old is not None:
            if len(old) != len(views) or any(o.shape != v.shape for o, v in zip(old, views)):
                raise ValueError("the optimizer holds state for a different model; pass a new optimizer")
            for o, v in zip(old, views):
                v[...] = o
        optimizer.slots[name] = views
        out[name] = flat
    return out["v"], out["s"]


def build_plan(model, X, Y, batch_size, loss, optimizer, l2, seed):
    """Compile ``model`` for training on ``X (n_x, m)``, ``Y`` (validated by ``fit``)."""
    dtype = model.dtype
    m = X.shape[1]
    full = batch_size is None
    B = m if full else int(batch_size)
    weights = model.weights()
    params = flat_params(model)
    state = flat_state(model)
    offsets, off = {}, 0
    for i, k, a in model.weights():
        offsets[(i, k)] = off
        off += a.size

    ws, masks = _Alloc(), _Alloc()
    n_ops = len(model.layers)
    ops = np.full((n_ops, OP_FIELDS), -1, np.int64)
    fpar = np.zeros((n_ops, FPAR_FIELDS), np.float64)
    n_x = model.input_dim
    xb = ws.take(n_x * B)
    prev_out, n_in, max_n, first_grad = xb, n_x, n_x, n_ops
    state_off = 0
    for i, layer in enumerate(model.layers):
        row = ops[i]
        n_out = layer.output_dim
        row[KIND], row[N_IN], row[N_OUT], row[LAYER], row[ACT] = 0, n_in, n_out, i, 0
        max_n = max(max_n, n_out)
        if isinstance(layer, Dense):
            row[KIND] = OP_DENSE
            row[ACT] = kernels.activation_code(layer.activation)
            fpar[i, ALPHA] = layer.alpha
            row[P0] = offsets[(i, "W")]
            row[P1] = offsets.get((i, "b"), -1)
            row[AUX0] = ws.take(n_out * B)
            row[OUT] = row[AUX0] if row[ACT] == ACT_IDENTITY else ws.take(n_out * B)
        elif isinstance(layer, BatchNorm):
            row[KIND] = OP_BATCHNORM
            row[ACT] = kernels.activation_code(layer.activation)
            fpar[i, ALPHA] = getattr(layer, "alpha", 0.01)
            fpar[i, EPS], fpar[i, MOMENTUM] = layer.epsilon, layer.momentum
            row[P0], row[P1] = offsets[(i, "gamma")], offsets[(i, "beta")]
            row[AUX0] = ws.take(n_out * B)
            row[AUX1] = ws.take(n_out * B)
            row[OUT] = row[AUX1] if row[ACT] == ACT_IDENTITY else ws.take(n_out * B)
            row[AUX2], row[AUX3] = ws.take(n_out), ws.take(n_out)
            row[STATE] = state_off
            state_off += 2 * n_out
        elif isinstance(layer, Dropout):
            row[KIND] = OP_DROPOUT
            fpar[i, KEEP] = layer.keep_prob
            if layer.keep_prob == 1.0:
                row[OUT] = prev_out
            else:
                row[OUT] = ws.take(n_out * B)
                row[AUX0] = masks.take(n_out * B)
        elif isinstance(layer, Activation):
            row[KIND] = OP_ACTIVATION
            row[ACT] = kernels.activation_code(layer.activation)
            fpar[i, ALPHA] = getattr(layer, "alpha", 0.01)
            row[OUT] = ws.take(n_out * B)
        else:
            raise TypeError(f"the training engine does not know layer {layer!r}")
        if layer.params and first_grad == n_ops:
            first_grad = i
        prev_out, n_in = row[OUT], n_out
    if state_off != state.size:
        raise AssertionError("batch-norm state layout mismatch")

    is_labels = Y.ndim == 1
    n_y = model.layers[-1].output_dim
    yb = ws.take(n_y * B)
    d0, d1, dz = ws.take(max_n * B), ws.take(max_n * B), ws.take(max_n * B)

    p = Plan()
    p.ops, p.fpar = ops, fpar
    code = LOSS_CCE_LABELS if (is_labels and loss.name == "categorical_crossentropy") else _LOSS_CODES[loss.name]
    out_layer = model.layers[-1]
    fused = hasattr(out_layer, "activation") and loss.fuses_with(out_layer.activation)
    meta = np.zeros(META_FIELDS, np.int64)
    meta[[M_N_OPS, M_N_X, M_N_Y, M_M, M_B, M_FULL, M_LOSS, M_FUSED]] = [n_ops, n_x, n_y, m, B, full, code, fused]
    meta[M_TASK] = _TASKS[model.task]
    meta[M_OPT] = _OPT_CODES[optimizer.name]
    meta[M_EPS_INSIDE] = int(getattr(optimizer, "eps_inside_sqrt", False))
    meta[M_N_PARAMS], meta[M_N_STATE], meta[M_SEED] = params.size, state.size, int(seed)
    meta[[M_XB, M_YB, M_D0, M_D1, M_DZ, M_FIRST_GRAD]] = [xb, yb, d0, d1, dz, first_grad]
    p.meta = meta
    hyper = np.zeros(HYPER_FIELDS, np.float64)
    hyper[H_L2] = l2
    if optimizer.name in ("momentum", "rmsprop"):
        hyper[H_BETA1] = optimizer.beta
    elif optimizer.name == "adam":
        hyper[H_BETA1], hyper[H_BETA2] = optimizer.beta1, optimizer.beta2
    if optimizer.name in ("rmsprop", "adam"):
        hyper[H_EPS] = optimizer.epsilon
    p.hyper = hyper

    # Full batch reads X/Y in place; mini-batches gather rows of the transposes (no copy
    # when the caller's arrays are F-ordered, e.g. scikit-learn's (m, n) data transposed).
    empty = np.empty((0, 0), dtype)
    p.X = np.ascontiguousarray(X) if full else empty
    p.XT = empty if full else np.ascontiguousarray(X.T)
    if is_labels:
        p.Y, p.YT, p.labels = empty, empty, np.ascontiguousarray(Y, dtype=np.int64)
    else:
        p.Y = np.ascontiguousarray(Y) if full else empty
        p.YT = empty if full else np.ascontiguousarray(Y.T)
        p.labels = np.empty(0, np.int64)
    p.params = params
    p.grads = np.zeros_like(params)
    p.slot_v, p.slot_s = flat_slots(optimizer, params, weights)
    p.state = state
    p.snapshot = np.empty(params.size + state.size, dtype)
    p.ws = np.zeros(ws.size, dtype)
    p.masks = np.zeros(masks.size, np.uint8)
    p.lab = np.zeros(B if is_labels else 0, np.int64)
    p.perm = np.zeros(0 if full else m, np.int64)
    p.n_rows_out = OUT_FIELDS
    return p


__all__ = ["Plan", "build_plan", "flat_params", "flat_slots", "flat_state"]
