// In-place optimizer updates on contiguous buffers of equal size.
#include "bind_util.hpp"
#include "pyneural/optimizers.hpp"

namespace pyneural::bind {

namespace {

// Pointer to a C-contiguous float array of `n` elements (n < 0: take its size).
template <class T>
T* flat(const char* op, const char* name, const py::array& a, idx& n, bool write) {
    same_dtype<T>(op, name, a);
    if (!(a.flags() & py::array::c_style)) value_fail(op, std::string(name) + " must be contiguous");
    if (n >= 0 && idx(a.size()) != n)
        value_fail(op, std::string(name) + " has " + std::to_string(a.size()) + " elements, expected " +
                           std::to_string(n));
    if (write && !a.writeable()) value_fail(op, std::string(name) + " is read-only");
    if (reinterpret_cast<std::uintptr_t>(a.data()) % alignof(T) != 0)
        value_fail(op, std::string(name) + " data is not aligned");
    n = idx(a.size());
    return static_cast<T*>(const_cast<void*>(a.data()));
}

void gd_update_py(const py::array& param, const py::array& grad, double lr) {
    const char* op = "gd_update";
    by_float_dtype(op, "param", param, [&](auto tag) {
        using T = decltype(tag);
        idx n = -1;
        T* p = flat<T>(op, "param", param, n, true);
        const T* g = flat<T>(op, "grad", grad, n, false);
        py::gil_scoped_release release;
        gd_update<T>(p, g, n, lr);
    });
}

void momentum_update_py(const py::array& param, const py::array& grad, const py::array& v, double lr, double beta) {
    const char* op = "momentum_update";
    by_float_dtype(op, "param", param, [&](auto tag) {
        using T = decltype(tag);
        idx n = -1;
        T* p = flat<T>(op, "param", param, n, true);
        const T* g = flat<T>(op, "grad", grad, n, false);
        T* vv = flat<T>(op, "v", v, n, true);
        py::gil_scoped_release release;
        momentum_update<T>(p, g, vv, n, lr, beta);
    });
}

void rmsprop_update_py(const py::array& param, const py::array& grad, const py::array& s, double lr, double beta,
                       double eps) {
    const char* op = "rmsprop_update";
    by_float_dtype(op, "param", param, [&](auto tag) {
        using T = decltype(tag);
        idx n = -1;
        T* p = flat<T>(op, "param", param, n, true);
        const T* g = flat<T>(op, "grad", grad, n, false);
        T* ss = flat<T>(op, "s", s, n, true);
        py::gil_scoped_release release;
        rmsprop_update<T>(p, g, ss, n, lr, beta, eps);
    });
}

void adam_update_py(const py::array& param, const py::array& grad, const py::array& v, const py::array& s, double lr,
                    double beta1, double beta2, double eps, std::int64_t t, bool eps_inside_sqrt) {
    const char* op = "adam_update";
    if (t < 1) value_fail(op, "t must be >= 1, got " + std::to_string(t));
    by_float_dtype(op, "param", param, [&](auto tag) {
        using T = decltype(tag);
        idx n = -1;
        T* p = flat<T>(op, "param", param, n, true);
        const T* g = flat<T>(op, "grad", grad, n, false);
        T* vv = flat<T>(op, "v", v, n, true);
        T* ss = flat<T>(op, "s", s, n, true);
        py::gil_scoped_release release;
        adam_update<T>(p, g, vv, ss, n, lr, beta1, beta2, eps, t, eps_inside_sqrt);
    });
}

}  // namespace

void bind_optimizers(py::module_& m) {
    m.def("gd_update", &gd_update_py, "param -= lr * grad (in place).", py::arg("param").noconvert(),
          py::arg("grad").noconvert(), py::arg("lr"));
    m.def("momentum_update", &momentum_update_py, "Momentum step (in place).", py::arg("param").noconvert(),
          py::arg("grad").noconvert(), py::arg("v").noconvert(), py::arg("lr"), py::arg("beta"));
    m.def("rmsprop_update", &rmsprop_update_py, "RMSprop step (in place).", py::arg("param").noconvert(),
          py::arg("grad").noconvert(), py::arg("s").noconvert(), py::arg("lr"), py::arg("beta"), py::arg("eps"));
    m.def("adam_update", &adam_update_py, "Bias-corrected Adam step t (in place).", py::arg("param").noconvert(),
          py::arg("grad").noconvert(), py::arg("v").noconvert(), py::arg("s").noconvert(), py::arg("lr"),
          py::arg("beta1"), py::arg("beta2"), py::arg("eps"), py::arg("t"), py::arg("eps_inside_sqrt"));
}

}  // namespace pyneural::bind
