// engine_run: whole epochs of training over a plan (pyneural/engine/plan.py is the spec).
// Every buffer is checked here (dtype, C-contiguity, size against meta/ops, no overlap), so
// a malformed plan is a ValueError/TypeError, never a crash; the run releases the GIL and
// takes it back only to poll `stop` (at most every ~50 ms).
#include <optional>

#include "bind_util.hpp"
#include "pyneural/engine.hpp"

namespace pyneural::bind {

namespace {

constexpr const char* kOp = "engine_run";

// Pointer to the data of a C-contiguous array of dtype D with exactly `shape`.
template <class D>
D* buffer(const py::array& a, const char* name, std::initializer_list<idx> shape, bool write) {
    if (!has_dtype<D>(a))
        type_fail(kOp, std::string(name) + " must be " + py::str(py::dtype::of<D>()).cast<std::string>() + ", got " +
                           dtype_name(a));
    bool ok = a.ndim() == py::ssize_t(shape.size());
    std::string want = "(";
    py::ssize_t d = 0;
    for (idx s : shape) {
        want += (d ? ", " : "") + std::to_string(s);
        if (ok && idx(a.shape(d)) != s) ok = false;
        ++d;
    }
    want += shape.size() == 1 ? ",)" : ")";
    if (!ok) value_fail(kOp, std::string(name) + " has shape " + shape_str(a) + ", expected " + want);
    if (!(a.flags() & py::array::c_style)) value_fail(kOp, std::string(name) + " must be C-contiguous");
    if (write && !a.writeable()) value_fail(kOp, std::string(name) + " is read-only");
    if (reinterpret_cast<std::uintptr_t>(a.data()) % alignof(D) != 0)
        value_fail(kOp, std::string(name) + " data is not aligned");
    return static_cast<D*>(const_cast<void*>(a.data()));
}

// A 1-D buffer of dtype D whose length the plan decides (ws, masks).
template <class D>
D* flat_buffer(const py::array& a, const char* name, idx& n) {
    if (a.ndim() != 1) value_fail(kOp, std::string(name) + " must be 1-D, got shape " + shape_str(a));
    n = idx(a.shape(0));
    return buffer<D>(a, name, {n}, true);
}

struct Named {
    const char* name;
    const py::array* a;
    bool written;
};

// No buffer the engine writes may share memory with another buffer (read-only inputs may
// share among themselves: YT is a view of Y when n_y = 1).
void check_no_overlap(std::initializer_list<Named> arrays) {
    for (auto i = arrays.begin(); i != arrays.end(); ++i) {
        const auto a0 = reinterpret_cast<std::uintptr_t>(i->a->data()), a1 = a0 + std::uintptr_t(i->a->nbytes());
        for (auto j = i + 1; j != arrays.end(); ++j) {
            const auto b0 = reinterpret_cast<std::uintptr_t>(j->a->data()), b1 = b0 + std::uintptr_t(j->a->nbytes());
            if ((i->written || j->written) && a0 < a1 && b0 < b1 && a0 < b1 && b0 < a1)
                value_fail(kOp, std::string(i->name) + " and " + j->name + " share memory");
        }
    }
}

py::tuple engine_run_py(const py::array& ops, const py::array& fpar, const py::array& meta, const py::array& hyper,
                        const py::array& X, const py::array& XT, const py::array& Y, const py::array& YT,
                        const py::array& labels, const py::array& params, const py::array& grads,
                        const py::array& slot_v, const py::array& slot_s, const py::array& state,
                        const py::array& snapshot, const py::array& ws, const py::array& masks, const py::array& lab,
                        const py::array& perm, std::int64_t epoch0, std::int64_t n_epochs, const py::array& lrs,
                        std::int64_t step0, std::int64_t t0, const py::array& out, const py::object& stop) {
    using namespace pyneural::engine;
    if (epoch0 < 0 || n_epochs < 0 || step0 < 0 || t0 < 0)
        value_fail(kOp, "epoch0, n_epochs, step0 and t0 must be >= 0");
    if (!stop.is_none() && !PyCallable_Check(stop.ptr())) type_fail(kOp, "stop must be callable or None");
    if (ops.ndim() != 2) value_fail(kOp, "ops must be 2-D, got shape " + shape_str(ops));
    const idx n_ops = idx(ops.shape(0));
    const auto* ops_p = buffer<std::int64_t>(ops, "ops", {n_ops, kOpFields}, false);
    const auto* fpar_p = buffer<double>(fpar, "fpar", {n_ops, kFparFields}, false);
    const auto* meta_p = buffer<std::int64_t>(meta, "meta", {kMetaFields}, false);
    const auto* hyper_p = buffer<double>(hyper, "hyper", {kHyperFields}, false);
    if (meta_p[mNOps] != n_ops) value_fail(kOp, "meta[M_N_OPS] differs from the number of rows of ops");
    if (lrs.ndim() != 1 || idx(lrs.shape(0)) < n_epochs)
        value_fail(kOp, "lrs must have shape (>= n_epochs,), got " + shape_str(lrs));
    const auto* lrs_p = buffer<double>(lrs, "lrs", {idx(lrs.shape(0))}, false);
    if (out.ndim() != 2 || idx(out.shape(0)) < n_epochs)
        value_fail(kOp, "out must have shape (>= n_epochs, " + std::to_string(kOutFields) + "), got " + shape_str(out));
    auto* out_p = buffer<double>(out, "out", {idx(out.shape(0)), kOutFields}, true);
    check_no_overlap({{"X", &X, false}, {"XT", &XT, false}, {"Y", &Y, false}, {"YT", &YT, false},
                      {"labels", &labels, false}, {"lrs", &lrs, false}, {"params", &params, true},
                      {"grads", &grads, true}, {"slot_v", &slot_v, true}, {"slot_s", &slot_s, true},
                      {"state", &state, true}, {"snapshot", &snapshot, true}, {"ws", &ws, true},
                      {"masks", &masks, true}, {"lab", &lab, true}, {"perm", &perm, true}, {"out", &out, true}});

    return by_float_dtype(kOp, "params", params, [&](auto tag) {
        using T = decltype(tag);
        for (const Named& a : {Named{"X", &X, false}, Named{"XT", &XT, false}, Named{"Y", &Y, false},
                               Named{"YT", &YT, false}, Named{"grads", &grads, true}, Named{"slot_v", &slot_v, true},
                               Named{"slot_s", &slot_s, true}, Named{"state", &state, true},
                               Named{"snapshot", &snapshot, true}, Named{"ws", &ws, true}})
            same_dtype<T>(kOp, a.name, *a.a);
        Plan<T> p = parse_plan<T>(ops_p, n_ops, fpar_p, meta_p, hyper_p);
        idx ws_size = 0, masks_size = 0;
        p.ws = flat_buffer<T>(ws, "ws", ws_size);
        p.masks = flat_buffer<std::uint8_t>(masks, "masks", masks_size);
        const std::string err = check_plan(p, ws_size, masks_size);
        if (!err.empty()) value_fail(kOp, "malformed plan: " + err);

        const idx m = p.m, np_ = p.n_params;
        // X and Y are read in full batch only; mini-batches gather from XT and YT.
        if (p.full) p.X = buffer<T>(X, "X", {p.n_x, m}, false);
        if (!p.full) {
            p.XT = buffer<T>(XT, "XT", {m, p.n_x}, false);
            p.perm = buffer<std::int64_t>(perm, "perm", {m}, true);
        }
        if (p.labels_mode()) {
            p.labels = buffer<std::int64_t>(labels, "labels", {m}, false);
            idx stride = 0;
            labels_view(kOp, labels, m, p.n_y, stride);  // range check
            if (!p.full) p.lab = buffer<std::int64_t>(lab, "lab", {p.B}, true);
        } else {
            if (p.full) p.Y = buffer<T>(Y, "Y", {p.n_y, m}, false);
            if (!p.full) p.YT = buffer<T>(YT, "YT", {m, p.n_y}, false);
        }
        p.params = buffer<T>(params, "params", {np_}, true);
        p.grads = buffer<T>(grads, "grads", {np_}, true);
        if (p.opt == kMomentum || p.opt == kAdam) p.slot_v = buffer<T>(slot_v, "slot_v", {np_}, true);
        if (p.opt == kRmsprop || p.opt == kAdam) p.slot_s = buffer<T>(slot_s, "slot_s", {np_}, true);
        p.state = buffer<T>(state, "state", {p.n_state}, true);
        p.snapshot = buffer<T>(snapshot, "snapshot", {np_ + p.n_state}, true);

        // Called by the run (GIL released) every ~50 ms: signal handlers, then stop().
        std::optional<py::error_already_set> raised;
        auto poll = [&]() -> bool {
            py::gil_scoped_acquire gil;
            if (PyErr_CheckSignals() != 0) {
                raised.emplace();
                return true;
            }
            if (stop.is_none()) return false;
            PyObject* r = PyObject_CallObject(stop.ptr(), nullptr);
            const int truth = r == nullptr ? -1 : PyObject_IsTrue(r);
            Py_XDECREF(r);
            if (truth < 0) {
                raised.emplace();
                return true;
            }
            return truth != 0;
        };
        Result res{kOk, 0};
        {
            py::gil_scoped_release release;
            res = run<T>(p, idx(epoch0), idx(n_epochs), lrs_p, step0, t0, out_p, poll);
        }
        if (raised) throw *raised;
        return py::make_tuple(res.status, res.epochs_done);
    });
}

}  // namespace

void bind_engine(py::module_& m) {
    m.def("engine_run", &engine_run_py,
          "Runs epochs epoch0 .. epoch0+n_epochs-1 of a training plan (see pyneural.engine.plan) with the GIL "
          "released; returns (status, epochs_done).",
          py::arg("ops").noconvert(), py::arg("fpar").noconvert(), py::arg("meta").noconvert(),
          py::arg("hyper").noconvert(), py::arg("X").noconvert(), py::arg("XT").noconvert(), py::arg("Y").noconvert(),
          py::arg("YT").noconvert(), py::arg("labels").noconvert(), py::arg("params").noconvert(),
          py::arg("grads").noconvert(), py::arg("slot_v").noconvert(), py::arg("slot_s").noconvert(),
          py::arg("state").noconvert(), py::arg("snapshot").noconvert(), py::arg("ws").noconvert(),
          py::arg("masks").noconvert(), py::arg("lab").noconvert(), py::arg("perm").noconvert(), py::arg("epoch0"),
          py::arg("n_epochs"), py::arg("lrs").noconvert(), py::arg("step0"), py::arg("t0"),
          py::arg("out").noconvert(), py::arg("stop").none(true));
}

}  // namespace pyneural::bind
