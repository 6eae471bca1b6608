// batchnorm_forward / batchnorm_inference / batchnorm_backward. Per-feature vectors are
// (n, 1) arrays (a 1-D array of length n is accepted too), any strides.
#include "bind_util.hpp"
#include "pyneural/batchnorm.hpp"

namespace pyneural::bind {

namespace {

template <class T>
Vec<T> vec(const Mat<T>& v) {
    return {v.p, v.rs};
}

template <class T>
Vec<const T> cvec(const Mat<T>& v) {
    return {v.p, v.rs};
}

void batchnorm_forward_py(const py::array& Z, const py::array& gamma, const py::array& beta, const py::array& Zn,
                          const py::array& out, const py::array& mean, const py::array& var, double eps) {
    const char* op = "batchnorm_forward";
    by_float_dtype(op, "Z", Z, [&](auto tag) {
        using T = decltype(tag);
        same_dtype<T>(op, "gamma", gamma);
        same_dtype<T>(op, "beta", beta);
        same_dtype<T>(op, "Zn", Zn);
        same_dtype<T>(op, "out", out);
        same_dtype<T>(op, "mean", mean);
        same_dtype<T>(op, "var", var);
        const Mat<T> z = view<T>(op, "Z", Z);
        const Mat<T> g = view<T>(op, "gamma", gamma, z.rows, 1);
        const Mat<T> b = view<T>(op, "beta", beta, z.rows, 1);
        const Mat<T> zn = view<T>(op, "Zn", Zn, z.rows, z.cols, true);
        const Mat<T> o = view<T>(op, "out", out, z.rows, z.cols, true);
        const Mat<T> mu = view<T>(op, "mean", mean, z.rows, 1, true);
        const Mat<T> v = view<T>(op, "var", var, z.rows, 1, true);
        py::gil_scoped_release release;
        batchnorm_forward<T>(z.c(), cvec(g), cvec(b), zn, o, vec(mu), vec(v), eps);
    });
}

void batchnorm_inference_py(const py::array& Z, const py::array& gamma, const py::array& beta, const py::array& mean,
                            const py::array& var, const py::array& out, double eps) {
    const char* op = "batchnorm_inference";
    by_float_dtype(op, "Z", Z, [&](auto tag) {
        using T = decltype(tag);
        same_dtype<T>(op, "gamma", gamma);
        same_dtype<T>(op, "beta", beta);
        same_dtype<T>(op, "mean", mean);
        same_dtype<T>(op, "var", var);
        same_dtype<T>(op, "out", out);
        const Mat<T> z = view<T>(op, "Z", Z);
        const Mat<T> g = view<T>(op, "gamma", gamma, z.rows, 1);
        const Mat<T> b = view<T>(op, "beta", beta, z.rows, 1);
        const Mat<T> mu = view<T>(op, "mean", mean, z.rows, 1);
        const Mat<T> v = view<T>(op, "var", var, z.rows, 1);
        const Mat<T> o = view<T>(op, "out", out, z.rows, z.cols, true);
        py::gil_scoped_release release;
        batchnorm_inference<T>(z.c(), cvec(g), cvec(b), cvec(mu), cvec(v), o, eps);
    });
}

void batchnorm_backward_py(const py::array& dout, const py::array& Zn, const py::array& gamma, const py::array& var,
                           const py::array& dZ, const py::array& dgamma, const py::array& dbeta, double eps) {
    const char* op = "batchnorm_backward";
    by_float_dtype(op, "dout", dout, [&](auto tag) {
        using T = decltype(tag);
        same_dtype<T>(op, "Zn", Zn);
        same_dtype<T>(op, "gamma", gamma);
        same_dtype<T>(op, "var", var);
        same_dtype<T>(op, "dZ", dZ);
        same_dtype<T>(op, "dgamma", dgamma);
        same_dtype<T>(op, "dbeta", dbeta);
        const Mat<T> d = view<T>(op, "dout", dout);
        const Mat<T> zn = view<T>(op, "Zn", Zn, d.rows, d.cols);
        const Mat<T> g = view<T>(op, "gamma", gamma, d.rows, 1);
        const Mat<T> v = view<T>(op, "var", var, d.rows, 1);
        const Mat<T> dz = view<T>(op, "dZ", dZ, d.rows, d.cols, true);
        const Mat<T> dg = view<T>(op, "dgamma", dgamma, d.rows, 1, true);
        const Mat<T> db = view<T>(op, "dbeta", dbeta, d.rows, 1, true);
        py::gil_scoped_release release;
        batchnorm_backward<T>(d.c(), zn.c(), cvec(g), cvec(v), dz, vec(dg), vec(db), eps);
    });
}

}  // namespace

void bind_batchnorm(py::module_& m) {
    m.def("batchnorm_forward", &batchnorm_forward_py,
          "Training batch norm per row: mean, var (two-pass, /m), Zn = (Z - mean) / sqrt(var + eps), "
          "out = gamma * Zn + beta.",
          py::arg("Z").noconvert(), py::arg("gamma").noconvert(), py::arg("beta").noconvert(),
          py::arg("Zn").noconvert(), py::arg("out").noconvert(), py::arg("mean").noconvert(),
          py::arg("var").noconvert(), py::arg("eps"));
    m.def("batchnorm_inference", &batchnorm_inference_py,
          "out = gamma * (Z - mean) / sqrt(var + eps) + beta with given statistics.", py::arg("Z").noconvert(),
          py::arg("gamma").noconvert(), py::arg("beta").noconvert(), py::arg("mean").noconvert(),
          py::arg("var").noconvert(), py::arg("out").noconvert(), py::arg("eps"));
    m.def("batchnorm_backward", &batchnorm_backward_py,
          "dbeta = rowmean(dout); dgamma = rowmean(dout * Zn); "
          "dZ = gamma / sqrt(var + eps) * (dout - dbeta - Zn * dgamma).",
          py::arg("dout").noconvert(), py::arg("Zn").noconvert(), py::arg("gamma").noconvert(),
          py::arg("var").noconvert(), py::arg("dZ").noconvert(), py::arg("dgamma").noconvert(),
          py::arg("dbeta").noconvert(), py::arg("eps"));
}

}  // namespace pyneural::bind
