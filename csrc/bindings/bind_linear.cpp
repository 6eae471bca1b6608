// linear_forward / linear_backward / output_delta / output_delta_labels.
#include "bind_util.hpp"
#include "pyneural/linear.hpp"

namespace pyneural::bind {

namespace {

void linear_forward_py(const py::array& W, const py::array& A_prev, const py::array& b, const py::array& Z,
                       const py::array& A, int act, double alpha) {
    const char* op = "linear_forward";
    if (!valid_act(act)) value_fail(op, "unknown activation code " + std::to_string(act));
    by_float_dtype(op, "W", W, [&](auto tag) {
        using T = decltype(tag);
        same_dtype<T>(op, "A_prev", A_prev);
        same_dtype<T>(op, "b", b);
        same_dtype<T>(op, "Z", Z);
        same_dtype<T>(op, "A", A);
        const Mat<T> w = view<T>(op, "W", W);
        const Mat<T> x = view<T>(op, "A_prev", A_prev, w.cols, -1);
        const Mat<T> bb = view<T>(op, "b", b, w.rows, 1);
        const Mat<T> z = view<T>(op, "Z", Z, w.rows, x.cols, true);
        const Mat<T> a = view<T>(op, "A", A, w.rows, x.cols, true);
        py::gil_scoped_release release;
        linear_forward<T>(w.c(), x.c(), bb.p, bb.rs, z, a, act, T(alpha));
    });
}

void linear_backward_py(const py::array& dZ, const py::array& A_prev, const py::array& W, const py::array& dW,
                        const py::array& db, const py::object& dA_prev, double lambd) {
    const char* op = "linear_backward";
    by_float_dtype(op, "dZ", dZ, [&](auto tag) {
        using T = decltype(tag);
        same_dtype<T>(op, "A_prev", A_prev);
        same_dtype<T>(op, "W", W);
        same_dtype<T>(op, "dW", dW);
        same_dtype<T>(op, "db", db);
        const Mat<T> dz = view<T>(op, "dZ", dZ);
        const Mat<T> x = view<T>(op, "A_prev", A_prev, -1, dz.cols);
        const Mat<T> w = view<T>(op, "W", W, dz.rows, x.rows);
        const Mat<T> dw = view<T>(op, "dW", dW, dz.rows, x.rows, true);
        const Mat<T> dbv = view<T>(op, "db", db, dz.rows, 1, true);
        Mat<T> dap{nullptr, 0, 0, 0, 0};
        const bool has_dap = !dA_prev.is_none();
        if (has_dap) {
            if (!py::isinstance<py::array>(dA_prev)) type_fail(op, "dA_prev must be an ndarray or None");
            const auto arr = py::reinterpret_borrow<py::array>(dA_prev);
            same_dtype<T>(op, "dA_prev", arr);
            dap = view<T>(op, "dA_prev", arr, x.rows, dz.cols, true);
        }
        py::gil_scoped_release release;
        linear_backward<T>(dz.c(), x.c(), w.c(), dw, dbv.p, dbv.rs, has_dap ? &dap : nullptr, lambd);
    });
}

void output_delta_py(const py::array& AL, const py::array& Y, const py::array& dZ) {
    const char* op = "output_delta";
    by_float_dtype(op, "AL", AL, [&](auto tag) {
        using T = decltype(tag);
        same_dtype<T>(op, "Y", Y);
        same_dtype<T>(op, "dZ", dZ);
        const Mat<T> al = view<T>(op, "AL", AL);
        const Mat<T> y = view<T>(op, "Y", Y, al.rows, al.cols);
        const Mat<T> dz = view<T>(op, "dZ", dZ, al.rows, al.cols, true);
        py::gil_scoped_release release;
        output_delta<T>(al.c(), y.c(), dz);
    });
}

void output_delta_labels_py(const py::array& AL, const py::array& labels, const py::array& dZ) {
    const char* op = "output_delta_labels";
    by_float_dtype(op, "AL", AL, [&](auto tag) {
        using T = decltype(tag);
        same_dtype<T>(op, "dZ", dZ);
        const Mat<T> al = view<T>(op, "AL", AL);
        const Mat<T> dz = view<T>(op, "dZ", dZ, al.rows, al.cols, true);
        idx ls = 0;
        const std::int64_t* lab = labels_view(op, labels, al.cols, al.rows, ls);
        py::gil_scoped_release release;
        output_delta_labels<T>(al.c(), lab, ls, dz);
    });
}

}  // namespace

void bind_linear(py::module_& m) {
    m.def("linear_forward", &linear_forward_py, "Z[:] = W @ A_prev + b; A[:] = g(Z).", py::arg("W").noconvert(),
          py::arg("A_prev").noconvert(), py::arg("b").noconvert(), py::arg("Z").noconvert(), py::arg("A").noconvert(),
          py::arg("act"), py::arg("alpha"));
    m.def("linear_backward", &linear_backward_py, "dW, db and (unless None) dA_prev of a linear layer.",
          py::arg("dZ").noconvert(), py::arg("A_prev").noconvert(), py::arg("W").noconvert(),
          py::arg("dW").noconvert(), py::arg("db").noconvert(), py::arg("dA_prev").none(true), py::arg("lambd"));
    m.def("output_delta", &output_delta_py, "dZ[:] = AL - Y.", py::arg("AL").noconvert(), py::arg("Y").noconvert(),
          py::arg("dZ").noconvert());
    m.def("output_delta_labels", &output_delta_labels_py, "dZ[:] = AL - onehot(labels).", py::arg("AL").noconvert(),
          py::arg("labels").noconvert(), py::arg("dZ").noconvert());
}

}  // namespace pyneural::bind
