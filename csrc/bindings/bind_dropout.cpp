// dropout_forward / dropout_apply. Masks are uint8 (bool is accepted: same bytes, 0/1).
#include "bind_util.hpp"
#include "pyneural/dropout.hpp"

namespace pyneural::bind {

namespace {

Mat<std::uint8_t> mask_view(const char* op, const py::array& mask, idx rows, idx cols, bool write) {
    if (!has_dtype<std::uint8_t>(mask) && !has_dtype<bool>(mask))
        type_fail(op, "mask must be uint8, got " + dtype_name(mask));
    return view<std::uint8_t>(op, "mask", mask, rows, cols, write);
}

void check_keep_prob(const char* op, double keep_prob) {
    if (!(keep_prob > 0.0 && keep_prob <= 1.0)) value_fail(op, "keep_prob must be in (0, 1]");
}

void dropout_forward_py(const py::array& A, const py::array& out, const py::array& mask, double keep_prob,
                        std::uint64_t seed, std::uint32_t step, std::uint32_t layer) {
    const char* op = "dropout_forward";
    check_keep_prob(op, keep_prob);
    by_float_dtype(op, "A", A, [&](auto tag) {
        using T = decltype(tag);
        same_dtype<T>(op, "out", out);
        const Mat<T> a = view<T>(op, "A", A);
        const Mat<T> o = view<T>(op, "out", out, a.rows, a.cols, true);
        const Mat<std::uint8_t> mk = mask_view(op, mask, a.rows, a.cols, true);
        py::gil_scoped_release release;
        dropout_forward<T>(a.c(), o, mk, keep_prob, seed, step, layer);
    });
}

void dropout_apply_py(const py::array& A, const py::array& mask, const py::array& out, double keep_prob) {
    const char* op = "dropout_apply";
    check_keep_prob(op, keep_prob);
    by_float_dtype(op, "A", A, [&](auto tag) {
        using T = decltype(tag);
        same_dtype<T>(op, "out", out);
        const Mat<T> a = view<T>(op, "A", A);
        const Mat<std::uint8_t> mk = mask_view(op, mask, a.rows, a.cols, false);
        const Mat<T> o = view<T>(op, "out", out, a.rows, a.cols, true);
        py::gil_scoped_release release;
        dropout_apply<T>(a.c(), mk.c(), o, keep_prob);
    });
}

}  // namespace

void bind_dropout(py::module_& m) {
    m.def("dropout_forward", &dropout_forward_py,
          "Philox mask (seed, step, layer) and out[:] = A * mask / keep_prob. seed is taken mod 2**64, "
          "step and layer mod 2**32 by the Python wrapper.",
          py::arg("A").noconvert(), py::arg("out").noconvert(), py::arg("mask").noconvert(), py::arg("keep_prob"),
          py::arg("seed"), py::arg("step"), py::arg("layer"));
    m.def("dropout_apply", &dropout_apply_py, "out[:] = A * mask / keep_prob.", py::arg("A").noconvert(),
          py::arg("mask").noconvert(), py::arg("out").noconvert(), py::arg("keep_prob"));
}

}  // namespace pyneural::bind
