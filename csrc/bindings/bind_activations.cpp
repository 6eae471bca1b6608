// activation_forward / activation_backward.
#include "bind_util.hpp"
#include "pyneural/activations.hpp"

namespace pyneural::bind {

namespace {

void check_act(const char* op, int act) {
    if (!valid_act(act)) value_fail(op, "unknown activation code " + std::to_string(act));
}

void activation_forward_py(const py::array& Z, const py::array& A, int act, double alpha) {
    const char* op = "activation_forward";
    check_act(op, act);
    by_float_dtype(op, "Z", Z, [&](auto tag) {
        using T = decltype(tag);
        same_dtype<T>(op, "A", A);
        const Mat<T> z = view<T>(op, "Z", Z);
        const Mat<T> a = view<T>(op, "A", A, z.rows, z.cols, true);
        py::gil_scoped_release release;
        activation_forward<T>(z.c(), a, act, T(alpha));
    });
}

void activation_backward_py(const py::array& dA, const py::array& Z, const py::array& A, const py::array& dZ, int act,
                            double alpha) {
    const char* op = "activation_backward";
    check_act(op, act);
    by_float_dtype(op, "dA", dA, [&](auto tag) {
        using T = decltype(tag);
        same_dtype<T>(op, "Z", Z);
        same_dtype<T>(op, "A", A);
        same_dtype<T>(op, "dZ", dZ);
        const Mat<T> da = view<T>(op, "dA", dA);
        const Mat<T> z = view<T>(op, "Z", Z, da.rows, da.cols);
        const Mat<T> a = view<T>(op, "A", A, da.rows, da.cols);
        const Mat<T> dz = view<T>(op, "dZ", dZ, da.rows, da.cols, true);
        py::gil_scoped_release release;
        activation_backward<T>(da.c(), z.c(), a.c(), dz, act, T(alpha));
    });
}

}  // namespace

void bind_activations(py::module_& m) {
    m.def("activation_forward", &activation_forward_py, "A[:] = g(Z).", py::arg("Z").noconvert(),
          py::arg("A").noconvert(), py::arg("act"), py::arg("alpha"));
    m.def("activation_backward", &activation_backward_py, "dZ[:] = dA * g'(Z).", py::arg("dA").noconvert(),
          py::arg("Z").noconvert(), py::arg("A").noconvert(), py::arg("dZ").noconvert(), py::arg("act"),
          py::arg("alpha"));
}

}  // namespace pyneural::bind
