"""The Numba executor of a training plan: whole epochs of mini-batch training in one call.

:func:`engine_run` takes the plan's tables and buffers (see :mod:`pyneural.engine.plan`,
whose docstring is the specification) and runs ``n_epochs`` epochs - shuffle, gather,
forward, cost, backward, optimizer update - inside one nopython function, without
allocating in the step loop: every matrix is a view of the plan's workspace.

The per-op work is done by the backend's own kernel bodies (the ``py_func`` of each
:class:`._jit.Entry`: the same tiles, the same serial/parallel thresholds and the same
operation order), so the numbers equal the per-layer ``fit`` loop on the ``numba`` backend
bit for bit. They are compiled again here as ordinary generic dispatchers, typed by the
engine's (writable, C-contiguous) views.

The engine compiles lazily, once per float dtype, with fixed argument types (C-contiguous
buffers; inputs typed read-only so read-only and writable inputs share the version), and
is cached on disk.
"""

from __future__ import annotations

import warnings

import numba
import numpy as np
from numba import types

from ...engine import plan as P
from ..contract import ACT_IDENTITY, ACT_SOFTMAX
from . import activations, batchnorm, dropout, linear, losses, optimizers
from ._jit import _OPTIONS, kernel
from .mt19937 import N as _MT_WORDS
from .mt19937 import permutation


def _generic(entry):
    """A dispatcher of ``entry``'s kernel body typed by its callers (the engine's views)."""
    return numba.njit(parallel=entry.parallel, **_OPTIONS)(entry.py_func)


_linear_forward = _generic(linear._forward)
_param_grads = _generic(linear._param_grads)
_input_grad = _generic(linear._input_grad)
_output_delta = _generic(linear._output_delta)
_output_delta_labels = _generic(linear._output_delta_labels)
_act_forward = _generic(activations._forward)
_act_backward = _generic(activations._backward)
_softmax = _generic(activations.softmax)
_softmax_backward = _generic(activations._softmax_backward)
_reduce = _generic(losses._reduce)
_labels_sum = _generic(losses._labels_sum)
_bn_forward = _generic(batchnorm._forward)
_bn_backward = _generic(batchnorm._backward)
_dropout_forward = _generic(dropout._forward)
_dropout_apply = _generic(dropout._apply)
_update = _generic(optimizers._update)

# The plan's layout constants are frozen into the compiled engine; _jit's cache guard hashes
# engine/plan.py too, so a changed layout recompiles.
OP_DENSE, OP_BATCHNORM, OP_DROPOUT, OP_ACTIVATION = P.OP_DENSE, P.OP_BATCHNORM, P.OP_DROPOUT, P.OP_ACTIVATION
KIND, N_IN, N_OUT, ACT, P0, P1, OUT = P.KIND, P.N_IN, P.N_OUT, P.ACT, P.P0, P.P1, P.OUT
AUX0, AUX1, AUX2, AUX3, STATE, LAYER = P.AUX0, P.AUX1, P.AUX2, P.AUX3, P.STATE, P.LAYER
ALPHA, KEEP, EPS, MOMENTUM = P.ALPHA, P.KEEP, P.EPS, P.MOMENTUM
LOSS_BCE, LOSS_CCE, LOSS_CCE_LABELS, LOSS_MSE = P.LOSS_BCE, P.LOSS_CCE, P.LOSS_CCE_LABELS, P.LOSS_MSE
TASK_BINARY, TASK_MULTICLASS = P.TASK_BINARY, P.TASK_MULTICLASS
OPT_GD, OPT_MOMENTUM, OPT_RMSPROP, OPT_ADAM = P.OPT_GD, P.OPT_MOMENTUM, P.OPT_RMSPROP, P.OPT_ADAM
COST, CORRECT, SEEN, STEPS, NAN_LAYER = P.COST, P.CORRECT, P.SEEN, P.STEPS, P.NAN_LAYER
STATUS_OK, STATUS_NONFINITE = P.STATUS_OK, P.STATUS_NONFINITE
# Kernel selectors as np.int64 (a Python int would be typed as a literal, and each value
# would compile its own version of the kernel).
_UPD_GD, _UPD_MOMENTUM, _UPD_RMSPROP, _UPD_ADAM, _UPD_ADAM_INSIDE = (np.int64(k) for k in (
    optimizers._GD, optimizers._MOMENTUM, optimizers._RMSPROP, optimizers._ADAM, optimizers._ADAM_EPS_INSIDE))
_BCE, _CE, _MSE, _SQUARES = (np.int64(k) for k in (losses._BCE, losses._CE, losses._MSE, losses._SQUARES))
_TWO32 = 4294967296


@kernel
def _mat(buf, off, n, mb):
    """The ``(n, mb)`` C-ordered matrix at offset ``off`` of a flat buffer."""
    return buf[off:off + n * mb].reshape((n, mb))


@kernel
def _col(buf, off, n):
    """The ``(n, 1)`` column vector at offset ``off``."""
    return buf[off:off + n].reshape((n, 1))


@kernel
def _copy(src, dst):
    """``dst[:] = src`` as a plain loop (no array expression for the parfor pass to thread)."""
    for i in range(dst.shape[0]):
        dst[i] = src[i]


@kernel
def _zeros(n, like):
    out = np.empty(n, like.dtype)
    for i in range(n):
        out[i] = 0
    return out


@kernel
def _src(ops, k, xb):
    """``ws`` offset of op ``k``'s input (the previous op's output, or the batch)."""
    return xb if k == 0 else ops[k - 1, OUT]


@kernel
def _gather(X, XT, Y, YT, labels, perm, ws, lab, k0, mb, xb, yb, n_x, n_y, is_labels):
    """Columns ``perm[k0:k0+mb]`` of X and Y into the ``(n, mb)`` batch buffers."""
    Xb = _mat(ws, xb, n_x, mb)
    for j in range(mb):
        row = XT[perm[k0 + j]]
        for i in range(n_x):
            Xb[i, j] = row[i]
    if is_labels:
        for j in range(mb):
            lab[j] = labels[perm[k0 + j]]
    else:
        Yb = _mat(ws, yb, n_y, mb)
        for j in range(mb):
            row = YT[perm[k0 + j]]
            for i in range(n_y):
                Yb[i, j] = row[i]


@kernel
def _copy_full(X, Y, labels, ws, lab, xb, yb, is_labels):
    """Full batch: X and Y (or the labels) into the batch buffers, once per call."""
    n_x, m = X.shape
    dst = ws[xb:xb + n_x * m]
    src = X.reshape(n_x * m)
    for i in range(n_x * m):
        dst[i] = src[i]
    if is_labels:
        for j in range(m):
            lab[j] = labels[j]
    else:
        dst = ws[yb:yb + Y.size]
        src = Y.reshape(Y.size)
        for i in range(Y.size):
            dst[i] = src[i]


@kernel
def _forward(ops, fpar, params, state, ws, masks, zero_b, mb, xb, seed, step):
    """Forward every op on the ``mb`` columns of the batch, as the layers do."""
    for k in range(ops.shape[0]):
        kind, n_in, n_out, act = ops[k, KIND], ops[k, N_IN], ops[k, N_OUT], ops[k, ACT]
        alpha = fpar[k, ALPHA]
        A_in = _mat(ws, _src(ops, k, xb), n_in, mb)
        A = _mat(ws, ops[k, OUT], n_out, mb)
        if kind == OP_DENSE:
            W = _mat(params, ops[k, P0], n_out, n_in)
            p1 = ops[k, P1]
            b = _col(params, p1, n_out) if p1 >= 0 else _col(zero_b, 0, n_out)
            Z = _mat(ws, ops[k, AUX0], n_out, mb)
            _linear_forward(W, A_in, b, Z, A, act, alpha)
            if act == ACT_SOFTMAX:
                _softmax(Z, A)
        elif kind == OP_BATCHNORM:
            pre = _mat(ws, ops[k, AUX1], n_out, mb)
            mean, var = _col(ws, ops[k, AUX2], n_out), _col(ws, ops[k, AUX3], n_out)
            _bn_forward(A_in, _col(params, ops[k, P0], n_out), _col(params, ops[k, P1], n_out),
                        _mat(ws, ops[k, AUX0], n_out, mb), pre, mean, var, fpar[k, EPS])
            t = params.dtype.type
            mom = fpar[k, MOMENTUM]
            keep, new = t(mom), t(1.0 - mom)  # NumPy: mom * rm + (1 - mom) * mean, in T
            st = ops[k, STATE]
            rm, rv = state[st:st + n_out], state[st + n_out:st + 2 * n_out]
            for i in range(n_out):
                rm[i] = keep * rm[i] + new * mean[i, 0]
            for i in range(n_out):
                rv[i] = keep * rv[i] + new * var[i, 0]
            if act == ACT_SOFTMAX:
                _softmax(pre, A)
            elif act != ACT_IDENTITY:
                _act_forward(pre, A, act, alpha)
        elif kind == OP_DROPOUT:
            keep_prob = fpar[k, KEEP]
            if keep_prob != 1.0:  # else OUT is the input: nothing to do
                threshold = min(np.int64(keep_prob * 4294967296.0), _TWO32)  # reference's keep_threshold
                _dropout_forward(A_in, A, _mat(masks, ops[k, AUX0], n_out, mb), threshold, keep_prob,
                                 seed & 0xFFFFFFFF, seed >> 32, step & 0xFFFFFFFF, ops[k, LAYER] & 0xFFFFFFFF)
        else:
            if act == ACT_SOFTMAX:
                _softmax(A_in, A)
            else:
                _act_forward(A_in, A, act, alpha)


@kernel
def _all_finite(a):
    for i in range(a.shape[0]):
        if not np.isfinite(a[i]):
            return False
    return True


@kernel
def _nonfinite_layer(ops, ws, mb):
    """LAYER of the first op with a non-finite value in any array it wrote (its output,
    Z, Zn, the batch statistics: what the per-layer loop's caches hold), or -1."""
    for k in range(ops.shape[0]):
        n = ops[k, N_OUT]
        ok = _all_finite(ws[ops[k, OUT]:ops[k, OUT] + n * mb])
        if ops[k, KIND] == OP_DENSE or ops[k, KIND] == OP_BATCHNORM:
            ok = ok and _all_finite(ws[ops[k, AUX0]:ops[k, AUX0] + n * mb])
        if ops[k, KIND] == OP_BATCHNORM:
            ok = ok and _all_finite(ws[ops[k, AUX1]:ops[k, AUX1] + n * mb])
            ok = ok and _all_finite(ws[ops[k, AUX2]:ops[k, AUX2] + n])
            ok = ok and _all_finite(ws[ops[k, AUX3]:ops[k, AUX3] + n])
        if not ok:
            return ops[k, LAYER]
    return -1


@kernel
def _cost(ops, params, loss, AL, Yb, lab, l2):
    """The batch cost ``total/mb`` plus the L2 term, as ``loss.cost + model._l2_cost``."""
    mb = AL.shape[1]
    if loss == LOSS_BCE:
        total = -_reduce(_BCE, AL, Yb)
    elif loss == LOSS_CCE:
        total = -_reduce(_CE, AL, Yb)
    elif loss == LOSS_CCE_LABELS:
        total = -_labels_sum(AL, lab)
    else:
        total = 0.5 * _reduce(_MSE, AL, Yb)
    cost = total / mb
    if l2 > 0.0:
        ss = 0.0
        for k in range(ops.shape[0]):
            if ops[k, KIND] == OP_DENSE:
                W = _mat(params, ops[k, P0], ops[k, N_OUT], ops[k, N_IN])
                ss += _reduce(_SQUARES, W, W)
        cost = cost + l2 / (2 * mb) * ss
    return cost


@kernel
def _argmax_col(A, j):
    """``np.argmax(A[:, j])``: the first maximum, or the first NaN."""
    best = 0
    v = A[0, j]
    for i in range(1, A.shape[0]):
        if v != v:
            break
        x = A[i, j]
        if x > v or x != x:
            best, v = i, x
    return best


@kernel
def _correct(task, AL, Yb, lab, is_labels):
    """Correct predictions of the batch, as ``sequential._correct`` counts them (binary:
    matching elements, so an output of n_y > 1 sigmoid units counts up to n_y per example)."""
    n, mb = AL.shape
    if task == TASK_BINARY:
        half = AL.dtype.type(0.5)
        hits = 0
        for i in range(n):
            a, y = AL[i], Yb[i]
            for j in range(mb):
                if (a[j] > half) == (y[j] > half):
                    hits += 1
        return float(hits)
    if task == TASK_MULTICLASS:
        hits = 0
        for j in range(mb):
            label = lab[j] if is_labels else _argmax_col(Yb, j)
            if _argmax_col(AL, j) == label:
                hits += 1
        return float(hits)
    return 0.0


@kernel
def _output_dA(loss, AL, Yb, lab, dA):
    """``loss.output_dA``: the gradient at the output when it does not fuse with the activation."""
    one, zero = AL.dtype.type(1.0), AL.dtype.type(0.0)
    tiny = losses._tiny(AL)
    n, mb = AL.shape
    for i in range(n):
        a, d = AL[i], dA[i]
        for j in range(mb):
            aj = a[j]
            if loss == LOSS_MSE:
                d[j] = aj - Yb[i, j]
                continue
            y = (one if lab[j] == i else zero) if loss == LOSS_CCE_LABELS else Yb[i, j]
            ma = tiny if aj < tiny else aj  # np.maximum(AL, tiny), NaN kept
            if loss == LOSS_BCE:
                c = one - aj
                mc = tiny if c < tiny else c
                d[j] = -(y / ma - (one - y) / mc)
            else:
                d[j] = -y / ma


@kernel
def _other(buf, d0, d1):
    """The gradient buffer of D0/D1 that is not ``buf``."""
    return d1 if buf == d0 else d0


@kernel
def _backward(ops, fpar, params, grads, ws, masks, db_scratch, mb, xb, first, cur, have_dz, d0, d1, dz, l2):
    """Ops backward from the last to ``first``. ``cur``: ``ws`` offset of the incoming
    gradient (the last op's dZ when ``have_dz``, else its dA)."""
    for k in range(ops.shape[0] - 1, first - 1, -1):
        kind, n_in, n_out, act = ops[k, KIND], ops[k, N_IN], ops[k, N_OUT], ops[k, ACT]
        alpha = fpar[k, ALPHA]
        below = k > first  # the input gradient is needed
        if kind == OP_DROPOUT:
            if fpar[k, KEEP] != 1.0:
                nxt = _other(cur, d0, d1)
                _dropout_apply(_mat(ws, cur, n_out, mb), _mat(masks, ops[k, AUX0], n_out, mb),
                               _mat(ws, nxt, n_in, mb), fpar[k, KEEP])
                cur = nxt
            continue
        if kind == OP_ACTIVATION:
            if not have_dz:  # a given dZ passes through unchanged
                nxt = _other(cur, d0, d1)
                A_in, A = _mat(ws, _src(ops, k, xb), n_in, mb), _mat(ws, ops[k, OUT], n_out, mb)
                dA, dZ = _mat(ws, cur, n_out, mb), _mat(ws, nxt, n_in, mb)
                if act == ACT_SOFTMAX:
                    _softmax_backward(dA, A, dZ)
                else:
                    _act_backward(dA, A_in, A, dZ, act, alpha)
                cur = nxt
            have_dz = False
            continue
        # Dense or BatchNorm: dZ through the activation (an identity's dZ is dA itself).
        zin = ops[k, AUX0] if kind == OP_DENSE else ops[k, AUX1]
        if not have_dz and act != ACT_IDENTITY:
            dA, A = _mat(ws, cur, n_out, mb), _mat(ws, ops[k, OUT], n_out, mb)
            zbuf = dz if cur != dz else d0  # never in place
            dZ = _mat(ws, zbuf, n_out, mb)
            if act == ACT_SOFTMAX:
                _softmax_backward(dA, A, dZ)
            else:
                _act_backward(dA, _mat(ws, zin, n_out, mb), A, dZ, act, alpha)
            cur = zbuf
        have_dz = False
        dZ = _mat(ws, cur, n_out, mb)
        nxt = _other(cur, d0, d1)
        if kind == OP_DENSE:
            W = _mat(params, ops[k, P0], n_out, n_in)
            p1 = ops[k, P1]
            db = _col(grads, p1, n_out) if p1 >= 0 else _col(db_scratch, 0, n_out)
            A_prev = _mat(ws, _src(ops, k, xb), n_in, mb)
            _param_grads(dZ, A_prev, W, _mat(grads, ops[k, P0], n_out, n_in), db, l2)
            if below:
                _input_grad(W, dZ, _mat(ws, nxt, n_in, mb))
        else:
            _bn_backward(dZ, _mat(ws, ops[k, AUX0], n_out, mb), _col(params, ops[k, P0], n_out),
                         _col(ws, ops[k, AUX3], n_out), _mat(ws, nxt, n_in, mb),
                         _col(grads, ops[k, P0], n_out), _col(grads, ops[k, P1], n_out), fpar[k, EPS])
        cur = nxt


@kernel
def _optimizer_step(opt, inside, params, grads, slot_v, slot_s, lr, beta1, beta2, eps, t):
    if opt == OPT_GD:
        _update(_UPD_GD, params, grads, params, params, lr, 0.0, 0.0, 0.0, 1.0, 1.0)
    elif opt == OPT_MOMENTUM:
        _update(_UPD_MOMENTUM, params, grads, slot_v, params, lr, beta1, 0.0, 0.0, 1.0, 1.0)
    elif opt == OPT_RMSPROP:  # RMSprop's beta is the plan's BETA1, the kernel's beta2
        _update(_UPD_RMSPROP, params, grads, params, slot_s, lr, 0.0, beta1, eps, 1.0, 1.0)
    else:
        # Python's float ** int is C pow() on doubles; Numba's ** with an integer exponent
        # multiplies instead, so the exponent is made a float.
        bc1, bc2 = 1.0 - beta1 ** np.float64(t), 1.0 - beta2 ** np.float64(t)
        kind = _UPD_ADAM_INSIDE if inside else _UPD_ADAM
        _update(kind, params, grads, slot_v, slot_s, lr, beta1, beta2, eps, bc1, bc2)


def _run(ops, fpar, meta, hyper, X, XT, Y, YT, labels, params, grads, slot_v, slot_s, state, snapshot,
         ws, masks, lab, perm, epoch0, n_epochs, lrs, step0, t0, out):
    n_ops, n_x, n_y, m, B = meta[P.M_N_OPS], meta[P.M_N_X], meta[P.M_N_Y], meta[P.M_M], meta[P.M_B]
    full, loss, fused, task = meta[P.M_FULL] != 0, meta[P.M_LOSS], meta[P.M_FUSED] != 0, meta[P.M_TASK]
    opt, inside, seed = meta[P.M_OPT], meta[P.M_EPS_INSIDE] != 0, meta[P.M_SEED]
    n_params, n_state = meta[P.M_N_PARAMS], meta[P.M_N_STATE]
    xb, yb, d0, d1, dz = meta[P.M_XB], meta[P.M_YB], meta[P.M_D0], meta[P.M_D1], meta[P.M_DZ]
    first = meta[P.M_FIRST_GRAD]
    l2, beta1, beta2, eps = hyper[P.H_L2], hyper[P.H_BETA1], hyper[P.H_BETA2], hyper[P.H_EPS]
    is_labels = loss == LOSS_CCE_LABELS
    al = ops[n_ops - 1, OUT]

    # Per-call scratch (never in the step loop): a zero bias and a db for bias-free Dense
    # layers (the layer passes zeros and discards db), the MT19937 state.
    max_n = 1
    for k in range(n_ops):
        max_n = max(max_n, ops[k, N_OUT])
    zero_b = _zeros(max_n, params)
    db_scratch = _zeros(max_n, params)
    key = np.empty(_MT_WORDS, np.uint64)
    if full:  # the batch is the data: copy it once, so every op reads the workspace
        _copy_full(X, Y, labels, ws, lab, xb, yb, is_labels)

    done = 0  # steps finished in this call
    for r in range(n_epochs):
        e = epoch0 + r
        _copy(params, snapshot[:n_params])
        _copy(state, snapshot[n_params:n_params + n_state])
        if not full:
            permutation((seed + e) % _TWO32, perm, key)
        lr = lrs[r]
        steps = 0
        k0 = 0
        while k0 < m:
            mb = m if full else min(B, m - k0)
            if not full:
                _gather(X, XT, Y, YT, labels, perm, ws, lab, k0, mb, xb, yb, n_x, n_y, is_labels)
            _forward(ops, fpar, params, state, ws, masks, zero_b, mb, xb, seed, step0 + done)
            AL = _mat(ws, al, n_y, mb)
            Yb = _mat(ws, yb, n_y, mb)  # unused with labels
            labb = lab[:mb]
            cost = _cost(ops, params, loss, AL, Yb, labb, l2)
            if not np.isfinite(cost):
                out[r, NAN_LAYER] = _nonfinite_layer(ops, ws, mb)
                out[r, STEPS] = steps
                _copy(snapshot[:n_params], params)
                _copy(snapshot[n_params:n_params + n_state], state)
                return STATUS_NONFINITE, r
            out[r, COST] += cost * mb
            out[r, CORRECT] += _correct(task, AL, Yb, labb, is_labels)
            out[r, SEEN] += mb
            if fused:
                if is_labels:
                    _output_delta_labels(AL, labb, _mat(ws, dz, n_y, mb))
                else:
                    _output_delta(AL, Yb, _mat(ws, dz, n_y, mb))
                cur = dz
            else:
                _output_dA(loss, AL, Yb, labb, _mat(ws, d0, n_y, mb))
                cur = d0
            _backward(ops, fpar, params, grads, ws, masks, db_scratch, mb, xb, first, cur, fused, d0, d1, dz, l2)
            _optimizer_step(opt, inside, params, grads, slot_v, slot_s, lr, beta1, beta2, eps, t0 + done + 1)
            steps += 1
            done += 1
            k0 += mb
        out[r, STEPS] = steps
    return STATUS_OK, n_epochs


_FLOATS = {np.dtype(np.float32): types.float32, np.dtype(np.float64): types.float64}
_compiled = {}


def _signature(dtype):
    T = _FLOATS[np.dtype(dtype)]

    def arr(elem, ndim, readonly=False):
        return types.Array(elem, ndim, "C", readonly=readonly)

    i64, f64 = types.int64, types.float64
    args = (arr(i64, 2, True), arr(f64, 2, True), arr(i64, 1, True), arr(f64, 1, True),  # ops fpar meta hyper
            arr(T, 2, True), arr(T, 2, True), arr(T, 2, True), arr(T, 2, True),  # X XT Y YT
            arr(i64, 1, True),  # labels
            *(arr(T, 1) for _ in range(7)),  # params grads slot_v slot_s state snapshot ws
            arr(types.uint8, 1), arr(i64, 1), arr(i64, 1),  # masks lab perm
            i64, i64, arr(f64, 1, True), i64, i64, arr(f64, 2))  # epoch0 n_epochs lrs step0 t0 out
    return types.UniTuple(i64, 2)(*args)


def _engine(dtype):
    """The compiled engine for ``dtype`` (compiled, or loaded from the disk cache, on first use)."""
    dtype = np.dtype(dtype)
    fn = _compiled.get(dtype)
    if fn is None:
        if dtype not in _FLOATS:
            raise TypeError(f"the training engine runs float32 or float64 models, got {dtype}")
        # parallel=True although _run has no parallel loop of its own: a cached non-parallel
        # caller of cached parallel kernels can segfault when loaded from the cache (Numba
        # issues #8578, #4807); _run keeps array expressions out of its body (see _copy).
        with warnings.catch_warnings():  # "no transformation for parallel execution": as intended
            warnings.simplefilter("ignore", numba.NumbaPerformanceWarning)
            fn = numba.njit([_signature(dtype)], parallel=True, **_OPTIONS)(_run)
        _compiled[dtype] = fn
    return fn


def engine_run(ops, fpar, meta, hyper, X, XT, Y, YT, labels, params, grads, slot_v, slot_s, state, snapshot,
               ws, masks, lab, perm, epoch0, n_epochs, lrs, step0, t0, out, stop):
    """Run ``n_epochs`` epochs of the plan (``engine_run(*plan.args(), epoch0, n_epochs, lrs,
    step0, t0, out, stop)``; semantics in :mod:`pyneural.engine.plan`). Returns
    ``(status, epochs_done)``.

    ``stop`` is ignored: the whole call runs in nopython code, which cannot run Python
    signal handlers, so the caller checks for Ctrl-C between calls (call with few epochs
    to stay responsive). Buffers must be C-contiguous (X and Y may have any layout: X is
    read, once per call, in full batch only), of the model's dtype as the plan makes them;
    only cheap checks guard against writing out of bounds.
    """
    n_epochs = int(n_epochs)
    lrs = np.ascontiguousarray(lrs, dtype=np.float64)
    if n_epochs < 0 or lrs.shape[0] < n_epochs or out.shape[0] < n_epochs or out.shape[1] < P.OUT_FIELDS:
        raise ValueError("lrs and out need a row for each of the n_epochs epochs")
    if meta[P.M_LOSS] != P.LOSS_CCE_LABELS and (YT.size if not meta[P.M_FULL] else Y.size) == 0:
        raise ValueError("the plan has no float targets for its loss")
    if not X.flags.c_contiguous:  # X is read in full batch only (mini-batches gather from XT)
        X = np.ascontiguousarray(X) if meta[P.M_FULL] else np.empty((0, 0), X.dtype)
    if not Y.flags.c_contiguous:
        Y = np.ascontiguousarray(Y) if meta[P.M_FULL] else np.empty((0, 0), Y.dtype)
    status, done = _engine(params.dtype)(ops, fpar, meta, hyper, X, XT, Y, YT, labels, params, grads, slot_v,
                                         slot_s, state, snapshot, ws, masks, lab, perm, int(epoch0), n_epochs,
                                         lrs, int(step0), int(t0), out)
    return int(status), int(done)


__all__ = ["engine_run"]
