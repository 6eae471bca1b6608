"""pyneural.functional against transcriptions of the course's NumPy code, on every backend."""

from __future__ import annotations

import math

import numpy as np
import pytest

import pyneural as pn
from pyneural import functional as F

ACTIVATIONS = ["relu", "tanh", "sigmoid", "leaky_relu", "identity"]


# ------------------------------------------------------------ course code, transcribed


def course_init_deep(layer_dims, seed=3, scale=0.01):
    np.random.seed(seed)
    parameters = {}
    for l in range(1, len(layer_dims)):
        factor = np.sqrt(2 / layer_dims[l - 1]) if scale == "he" else scale
        parameters["W" + str(l)] = np.random.randn(layer_dims[l], layer_dims[l - 1]) * factor
        parameters["b" + str(l)] = np.zeros((layer_dims[l], 1))
    return parameters


def course_random_mini_batches(X, Y, mini_batch_size=64, seed=0):
    np.random.seed(seed)
    m = X.shape[1]
    permutation = list(np.random.permutation(m))
    shuffled_X = X[:, permutation]
    shuffled_Y = Y[:, permutation].reshape((1, m))
    batches = []
    num_complete = math.floor(m / mini_batch_size)
    for k in range(num_complete):
        batches.append((shuffled_X[:, k * mini_batch_size:(k + 1) * mini_batch_size],
                        shuffled_Y[:, k * mini_batch_size:(k + 1) * mini_batch_size]))
    if m % mini_batch_size != 0:
        batches.append((shuffled_X[:, num_complete * mini_batch_size:m],
                        shuffled_Y[:, num_complete * mini_batch_size:m]))
    return batches


def course_forward_backward(X, Y, parameters):
    """The course's L_model_forward / L_model_backward (ReLU hidden, sigmoid output)."""
    L = len(parameters) // 2
    caches, A = [], X
    for l in range(1, L + 1):
        W, b = parameters["W" + str(l)], parameters["b" + str(l)]
        Z = W @ A + b
        caches.append((A, W, Z))
        A = np.maximum(0, Z) if l < L else 1 / (1 + np.exp(-Z))
    AL = A
    m = X.shape[1]
    grads = {}
    dZ = AL - Y
    for l in range(L, 0, -1):
        A_prev, W, Z = caches[l - 1]
        if l < L:
            dZ = grads["dA" + str(l)] * (Z > 0)
        grads["dW" + str(l)] = dZ @ A_prev.T / m
        grads["db" + str(l)] = np.sum(dZ, axis=1, keepdims=True) / m
        grads["dA" + str(l - 1)] = W.T @ dZ
    return AL, grads


# --------------------------------------------------------------------------- the tests


def test_initializers_draw_the_course_numbers_without_touching_global_state():
    np.random.seed(123)
    before = np.random.random()
    np.random.seed(123)
    params = F.initialize_parameters_deep([5, 4, 3])
    assert np.random.random() == before  # global stream not consumed or reseeded
    expected = course_init_deep([5, 4, 3])
    for k in expected:
        np.testing.assert_array_equal(params[k], expected[k])
    he = F.initialize_parameters_he([2, 5, 2, 1])
    exp_he = course_init_deep([2, 5, 2, 1], scale="he")
    for k in exp_he:
        np.testing.assert_array_equal(he[k], exp_he[k])
    two = F.initialize_parameters(2, 4, 1)
    exp_two = course_init_deep([2, 4, 1], seed=2)
    np.testing.assert_array_equal(two["W1"], exp_two["W1"])
    np.testing.assert_array_equal(F.initialize_parameters(2, 4, 1, seed=1)["W2"], course_init_deep([2, 4, 1], seed=1)["W2"])
    assert not np.any(F.initialize_parameters_zeros([3, 2, 1])["W1"])
    w, b = F.initialize_with_zeros(3)
    assert w.shape == (3, 1) and b == 0.0


@pytest.mark.parametrize(("m", "size"), [(300, 64), (128, 64), (7, 3), (5, 10)])
def test_random_mini_batches_match_course(m, size):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((3, m))
    Y = (rng.random((1, m)) > 0.5).astype(float)
    ours = F.random_mini_batches(X, Y, size, seed=11)
    theirs = course_random_mini_batches(X, Y, size, seed=11)
    assert len(ours) == len(theirs) == math.ceil(m / size)
    for (x1, y1), (x2, y2) in zip(ours, theirs):
        np.testing.assert_array_equal(x1, x2)
        np.testing.assert_array_equal(y1, y2)


def test_forward_backward_match_course_code(backend_name):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((4, 37))
    Y = (rng.random((1, 37)) > 0.5).astype(float)
    params = F.initialize_parameters_deep([4, 6, 5, 1], scale="he")
    AL_ref, grads_ref = course_forward_backward(X, Y, params)
    with pn.use_backend(backend_name):
        AL, caches = F.L_model_forward(X, params)
        grads = F.L_model_backward(AL, Y, caches)
    np.testing.assert_allclose(AL, AL_ref, rtol=1e-12, atol=1e-15)
    assert sorted(grads) == sorted(grads_ref)
    for k in grads_ref:
        np.testing.assert_allclose(grads[k], grads_ref[k], rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("hidden", ACTIVATIONS)
@pytest.mark.parametrize(("output", "lambd"), [("sigmoid", 0.0), ("sigmoid", 0.7), ("softmax", 0.0), ("softmax", 0.3)])
def test_gradient_check_n_passes_for_every_activation(backend_name, hidden, output, lambd):
    rng = np.random.default_rng(2)
    n_y = 1 if output == "sigmoid" else 3
    X = rng.standard_normal((4, 9))
    if n_y == 1:
        Y = (rng.random((1, 9)) > 0.5).astype(float)
    else:
        Y = np.eye(3)[:, rng.integers(0, 3, 9)]
    params = F.initialize_parameters_deep([4, 5, 3, n_y], seed=4, scale="xavier")
    with pn.use_backend(backend_name):
        AL, caches = F.L_model_forward(X, params, hidden, output)
        grads = F.L_model_backward(AL, Y, caches, hidden, output, lambd=lambd)
        loss = "binary_crossentropy" if n_y == 1 else "categorical_crossentropy"
        diff = F.gradient_check_n(params, grads, X, Y, hidden_activation=hidden,
                                  output_activation=output, lambd=lambd, loss=loss, print_msg=False)
        assert diff < 2e-7
        grads["dW2"] = grads["dW2"] * 1.01  # a deliberately wrong gradient is caught
        bad = F.gradient_check_n(params, grads, X, Y, hidden_activation=hidden,
                                 output_activation=output, lambd=lambd, loss=loss, print_msg=False)
        assert bad > 1e-4


def test_integer_labels_give_the_same_softmax_gradients(backend_name):
    rng = np.random.default_rng(3)
    X = rng.standard_normal((4, 11))
    labels = rng.integers(0, 3, 11)
    params = F.initialize_parameters_deep([4, 5, 3], seed=5, scale="he")
    with pn.use_backend(backend_name):
        AL, caches = F.L_model_forward(X, params, "relu", "softmax")
        g_int = F.L_model_backward(AL, labels, caches, "relu", "softmax")
        g_hot = F.L_model_backward(AL, np.eye(3)[:, labels], caches, "relu", "softmax")
        c_int = F.compute_cost(AL, labels, loss="categorical_crossentropy")
        c_hot = F.compute_cost(AL, np.eye(3)[:, labels], loss="categorical_crossentropy")
    for k in g_hot:
        np.testing.assert_allclose(g_int[k], g_hot[k], rtol=1e-12, atol=1e-15)
    assert c_int == pytest.approx(c_hot, rel=1e-12)
    np.testing.assert_allclose(AL.sum(axis=0), 1.0, rtol=1e-12)


def course_dropout(X, Y, parameters, keep_prob):
    """The course's forward/backward_propagation_with_dropout (3 layers), transcribed."""
    np.random.seed(1)
    W1, b1, W2, b2, W3, b3 = (parameters[k] for k in ("W1", "b1", "W2", "b2", "W3", "b3"))
    Z1 = W1 @ X + b1
    A1 = np.maximum(0, Z1)
    D1 = (np.random.rand(*A1.shape) < keep_prob).astype(int)
    A1 = A1 * D1 / keep_prob
    Z2 = W2 @ A1 + b2
    A2 = np.maximum(0, Z2)
    D2 = (np.random.rand(*A2.shape) < keep_prob).astype(int)
    A2 = A2 * D2 / keep_prob
    Z3 = W3 @ A2 + b3
    A3 = 1 / (1 + np.exp(-Z3))
    m = X.shape[1]
    dZ3 = A3 - Y
    g = {"dZ3": dZ3, "dW3": dZ3 @ A2.T / m, "db3": dZ3.sum(1, keepdims=True) / m}
    dA2 = (W3.T @ dZ3) * D2 / keep_prob
    dZ2 = dA2 * (A2 > 0)
    g.update(dA2=dA2, dZ2=dZ2, dW2=dZ2 @ A1.T / m, db2=dZ2.sum(1, keepdims=True) / m)
    dA1 = (W2.T @ dZ2) * D1 / keep_prob
    dZ1 = dA1 * (A1 > 0)
    g.update(dA1=dA1, dZ1=dZ1, dW1=dZ1 @ X.T / m, db1=dZ1.sum(1, keepdims=True) / m)
    return A3, g


def test_dropout_functions_match_course_code(backend_name):
    rng = np.random.default_rng(4)
    X = rng.standard_normal((2, 30))
    Y = (rng.random((1, 30)) > 0.5).astype(float)
    params = F.initialize_parameters_deep([2, 20, 3, 1], scale="he")
    A3_ref, g_ref = course_dropout(X, Y, params, 0.86)
    with pn.use_backend(backend_name):
        A3, cache = F.forward_propagation_with_dropout(X, params, keep_prob=0.86)
        grads = F.backward_propagation_with_dropout(X, Y, cache, 0.86)
    np.testing.assert_allclose(A3, A3_ref, rtol=1e-12)
    assert sorted(grads) == sorted(g_ref)
    for k in g_ref:
        np.testing.assert_allclose(grads[k], g_ref[k], rtol=1e-10, atol=1e-14)


def test_updates_match_course_and_do_not_mutate_inputs(backend_name):
    rng = np.random.default_rng(5)
    params = F.initialize_parameters_deep([3, 4, 1], scale="he")
    grads = {"d" + k: rng.standard_normal(v.shape) for k, v in params.items()}
    originals = {k: v.copy() for k, v in params.items()}
    held = {k: v for k, v in params.items()}
    with pn.use_backend(backend_name):
        v, s = F.initialize_adam(params)
        p1 = dict(params)
        for t in (1, 2, 3):
            p1, v, s = F.update_parameters_with_adam(p1, grads, v, s, t, 0.01)
        p2 = F.update_parameters_with_gd(dict(params), grads, 0.1)
        vel = F.initialize_velocity(params)
        p3, vel = F.update_parameters_with_momentum(dict(params), grads, vel, 0.9, 0.1)
        sq = F.initialize_rmsprop(params)
        p4, sq = F.update_parameters_with_rmsprop(dict(params), grads, sq, 0.999, 0.01)
    for k in held:  # arrays the caller still holds are untouched
        np.testing.assert_array_equal(held[k], originals[k])
    for k, p in originals.items():
        g = grads["d" + k]
        # Adam as the course writes it, with epsilon outside the root (standard Adam).
        vv, ss, q = np.zeros_like(p), np.zeros_like(p), p.copy()
        for t in (1, 2, 3):
            vv = 0.9 * vv + 0.1 * g
            ss = 0.999 * ss + 0.001 * g**2
            q = q - 0.01 * (vv / (1 - 0.9**t)) / (np.sqrt(ss / (1 - 0.999**t)) + 1e-8)
        np.testing.assert_allclose(p1[k], q, rtol=1e-12)
        np.testing.assert_allclose(p2[k], p - 0.1 * g, rtol=1e-12)
        np.testing.assert_allclose(p3[k], p - 0.1 * (0.1 * g), rtol=1e-12)
        np.testing.assert_allclose(p4[k], p - 0.01 * g / (np.sqrt(0.001 * g**2) + 1e-8), rtol=1e-12)


def test_float32_in_gives_float32_out(backend_name):
    X, Y = pn.datasets.moons()
    params = F.initialize_parameters_he([2, 5, 2, 1], dtype=np.float32)
    with pn.use_backend(backend_name):
        AL, caches = F.L_model_forward(X.astype(np.float32), params)
        grads = F.L_model_backward(AL, Y, caches)
        params = F.update_parameters_with_gd(params, grads, 0.1)
    assert AL.dtype == np.float32
    assert all(g.dtype == np.float32 for g in grads.values())
    assert all(p.dtype == np.float32 for p in params.values())


def test_vector_round_trip():
    params = F.initialize_parameters_deep([4, 5, 3, 1])
    theta, keys = F.dictionary_to_vector(params)
    assert theta.shape == (5 * 4 + 5 + 3 * 5 + 3 + 3 + 1, 1)
    assert keys[0] == "W1" and keys[-1] == "b3"
    back = F.vector_to_dictionary(theta)  # the course's default 4-5-3-1 shapes
    for k in params:
        np.testing.assert_array_equal(back[k], params[k])
    grads = {"d" + k: v for k, v in params.items()}
    grads["dA1"] = np.ones((5, 2))  # other keys are ignored, as in the course
    np.testing.assert_array_equal(F.gradients_to_vector(grads), theta)
