// pyneural._core: the compiled kernels (see pyneural/backends/contract.py for the ops).
#include <string>

#include "bind_util.hpp"
#include "pyneural/gemm.hpp"

#ifndef PYNEURAL_VERSION
#define PYNEURAL_VERSION "unknown"
#endif

namespace pyneural::bind {

void bind_engine(py::module_& m);  // bind_engine.cpp

namespace {

std::string compiler() {
#if defined(__clang__)
    return std::string("Clang ") + __clang_version__;
#elif defined(__GNUC__)
    return std::string("GCC ") + __VERSION__;
#elif defined(_MSC_VER)
    return "MSVC " + std::to_string(_MSC_VER);
#else
    return "unknown";
#endif
}

// Best SIMD level of this CPU (what the multiversioned kernels dispatch to).
std::string simd_level() {
#if PYNEURAL_X86_DISPATCH
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return "avx512f";
    if (__builtin_cpu_supports("avx2")) return "avx2";
    if (__builtin_cpu_supports("sse2")) return "sse2";
#endif
    return "baseline";
}

py::dict build_info() {
    py::dict d;
    d["version"] = PYNEURAL_VERSION;
    d["compiler"] = compiler();
    d["cxx_standard"] = long(__cplusplus);
#ifdef _OPENMP
    d["openmp"] = true;
    d["openmp_version"] = long(_OPENMP);
#else
    d["openmp"] = false;
    d["openmp_version"] = py::none();
#endif
    d["simd"] = simd_level();
    d["multiversioning"] = bool(PYNEURAL_X86_DISPATCH);
    d["gemm_kernel_float32"] = gemm_impl<float>().name;
    d["gemm_kernel_float64"] = gemm_impl<double>().name;
    d["num_threads"] = num_threads();
    return d;
}

void set_num_threads_py(int n) {
    if (n < 1) throw py::value_error("[set_num_threads] n must be >= 1, got " + std::to_string(n));
    set_num_threads(n);
}

}  // namespace

}  // namespace pyneural::bind

PYBIND11_MODULE(_core, m) {
    using namespace pyneural::bind;
    m.doc() = "pyneural compiled core: C++17/OpenMP kernels of the backend contract.";
    m.attr("__version__") = PYNEURAL_VERSION;
    m.def("build_info", &build_info, "Compiler, C++ standard, OpenMP and SIMD details of this build.");
    m.def("set_num_threads", &set_num_threads_py, "Threads for every parallel kernel (process-wide).", py::arg("n"));
    m.def("get_num_threads", &pyneural::num_threads, "Threads the parallel kernels use.");
    bind_activations(m);
    bind_linear(m);
    bind_losses(m);
    bind_dropout(m);
    bind_batchnorm(m);
    bind_optimizers(m);
    bind_engine(m);
}
