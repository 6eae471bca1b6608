// Costs and sum_squares; each returns a Python float.
#include "bind_util.hpp"
#include "pyneural/losses.hpp"

namespace pyneural::bind {

namespace {

// The three (AL, Y) costs share their checks.
template <class K>
double pair_cost(const char* op, const py::array& AL, const py::array& Y, K kernel) {
    return by_float_dtype(op, "AL", AL, [&](auto tag) {
        using T = decltype(tag);
        same_dtype<T>(op, "Y", Y);
        const Mat<T> al = view<T>(op, "AL", AL);
        const Mat<T> y = view<T>(op, "Y", Y, al.rows, al.cols);
        py::gil_scoped_release release;
        return kernel(al.c(), y.c());
    });
}

double bce_cost_py(const py::array& AL, const py::array& Y) {
    return pair_cost("bce_cost", AL, Y, [](auto a, auto y) { return bce_cost(a, y); });
}

double softmax_ce_cost_py(const py::array& AL, const py::array& Y) {
    return pair_cost("softmax_ce_cost", AL, Y, [](auto a, auto y) { return softmax_ce_cost(a, y); });
}

double mse_cost_py(const py::array& AL, const py::array& Y) {
    return pair_cost("mse_cost", AL, Y, [](auto a, auto y) { return mse_cost(a, y); });
}

double softmax_ce_labels_cost_py(const py::array& AL, const py::array& labels) {
    const char* op = "softmax_ce_labels_cost";
    return by_float_dtype(op, "AL", AL, [&](auto tag) {
        using T = decltype(tag);
        const Mat<T> al = view<T>(op, "AL", AL);
        idx ls = 0;
        const std::int64_t* lab = labels_view(op, labels, al.cols, al.rows, ls);
        py::gil_scoped_release release;
        return softmax_ce_labels_cost<T>(al.c(), lab, ls);
    });
}

// W may be 1-D (a flat parameter buffer) or 2-D.
double sum_squares_py(const py::array& W) {
    const char* op = "sum_squares";
    return by_float_dtype(op, "W", W, [&](auto tag) {
        using T = decltype(tag);
        Mat<T> w{nullptr, 0, 0, 0, 0};
        if (W.ndim() == 1)
            w = Mat<T>{static_cast<T*>(const_cast<void*>(W.data())), 1, idx(W.shape(0)), 0,
                       elem_stride<T>(op, "W", W, 0)};
        else
            w = view<T>(op, "W", W);
        py::gil_scoped_release release;
        return sum_squares<T>(w.c());
    });
}

}  // namespace

void bind_losses(py::module_& m) {
    m.def("bce_cost", &bce_cost_py, "Sum of binary cross-entropy terms (float64).", py::arg("AL").noconvert(),
          py::arg("Y").noconvert());
    m.def("softmax_ce_cost", &softmax_ce_cost_py, "Sum of -y log a (float64).", py::arg("AL").noconvert(),
          py::arg("Y").noconvert());
    m.def("softmax_ce_labels_cost", &softmax_ce_labels_cost_py, "Sum of -log AL[labels[j], j] (float64).",
          py::arg("AL").noconvert(), py::arg("labels").noconvert());
    m.def("mse_cost", &mse_cost_py, "Sum of (a - y)**2 (float64).", py::arg("AL").noconvert(),
          py::arg("Y").noconvert());
    m.def("sum_squares", &sum_squares_py, "Sum of squares of W (float64).", py::arg("W").noconvert());
}

}  // namespace pyneural::bind
