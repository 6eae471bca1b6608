// Helpers shared by the bind_*.cpp files: cheap dtype/shape checks and ndarray -> Mat.
// Errors are prefixed with the op name; the Python boundary does the full validation.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <string>

#include "pyneural/common.hpp"

namespace py = pybind11;

namespace pyneural::bind {

void bind_activations(py::module_& m);
void bind_linear(py::module_& m);
void bind_losses(py::module_& m);
void bind_dropout(py::module_& m);
void bind_batchnorm(py::module_& m);
void bind_optimizers(py::module_& m);

[[noreturn]] inline void type_fail(const char* op, const std::string& msg) {
    throw py::type_error(std::string("[") + op + "] " + msg);
}

[[noreturn]] inline void value_fail(const char* op, const std::string& msg) {
    throw py::value_error(std::string("[") + op + "] " + msg);
}

template <class T>
inline bool has_dtype(const py::array& a) {
    return py::array_t<T>::check_(a);
}

inline std::string dtype_name(const py::array& a) { return py::str(a.dtype()).cast<std::string>(); }

// Calls f(T{}) with T = float or double, the dtype of `a`.
template <class F>
inline auto by_float_dtype(const char* op, const char* name, const py::array& a, F&& f) {
    if (has_dtype<double>(a)) return f(double{});
    if (has_dtype<float>(a)) return f(float{});
    type_fail(op, std::string(name) + " must be float32 or float64, got " + dtype_name(a));
}

template <class T>
inline void same_dtype(const char* op, const char* name, const py::array& a) {
    if (!has_dtype<T>(a))
        type_fail(op, std::string(name) + " has dtype " + dtype_name(a) + "; all float arrays of one call must share " +
                          (sizeof(T) == 4 ? "float32" : "float64"));
}

inline std::string shape_str(const py::array& a) {
    std::string s = "(";
    for (py::ssize_t i = 0; i < a.ndim(); ++i) s += (i ? ", " : "") + std::to_string(a.shape(i));
    return s + (a.ndim() == 1 ? ",)" : ")");
}

// Element stride from a byte stride (the boundary guarantees element alignment).
template <class T>
inline idx elem_stride(const char* op, const char* name, const py::array& a, py::ssize_t dim) {
    const py::ssize_t s = a.strides(dim);
    if (s % py::ssize_t(sizeof(T)) != 0) value_fail(op, std::string(name) + " has a stride that is not element-aligned");
    return idx(s / py::ssize_t(sizeof(T)));
}

// View of a 2-D array (a 1-D array of length n is taken as (n, 1), for biases); checks
// shape against (rows, cols) when those are >= 0, and writeability for outputs.
template <class T>
inline Mat<T> view(const char* op, const char* name, const py::array& a, idx rows = -1, idx cols = -1,
                   bool write = false) {
    const py::ssize_t nd = a.ndim();
    if (nd != 2 && !(nd == 1 && cols == 1))
        value_fail(op, std::string(name) + " must be 2-D, got shape " + shape_str(a));
    const idx r = idx(a.shape(0)), c = nd == 2 ? idx(a.shape(1)) : 1;
    if ((rows >= 0 && r != rows) || (cols >= 0 && c != cols))
        value_fail(op, std::string(name) + " has shape " + shape_str(a) + ", expected (" + std::to_string(rows) + ", " +
                           std::to_string(cols) + ")");
    if (write && !a.writeable()) value_fail(op, std::string(name) + " is read-only");
    if (reinterpret_cast<std::uintptr_t>(a.data()) % alignof(T) != 0)
        value_fail(op, std::string(name) + " data is not aligned");
    const idx rs = elem_stride<T>(op, name, a, 0), cs = nd == 2 ? elem_stride<T>(op, name, a, 1) : 0;
    return Mat<T>{static_cast<T*>(const_cast<void*>(a.data())), r, c, rs, cs};
}

// 1-D int64 labels of length m with values in [0, classes).
inline const std::int64_t* labels_view(const char* op, const py::array& labels, idx m, idx classes, idx& stride) {
    if (!has_dtype<std::int64_t>(labels)) type_fail(op, "labels must be int64, got " + dtype_name(labels));
    if (labels.ndim() != 1 || idx(labels.shape(0)) != m)
        value_fail(op, "labels must have shape (" + std::to_string(m) + ",), got " + shape_str(labels));
    stride = elem_stride<std::int64_t>(op, "labels", labels, 0);
    const auto* p = static_cast<const std::int64_t*>(labels.data());
    for (idx j = 0; j < m; ++j)
        if (p[j * stride] < 0 || p[j * stride] >= classes)
            value_fail(op, "labels[" + std::to_string(j) + "] = " + std::to_string(p[j * stride]) +
                               " is outside [0, " + std::to_string(classes) + ")");
    return p;
}

}  // namespace pyneural::bind
