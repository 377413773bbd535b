/*
 * module.c -- uba._core, the CPython/NumPy binding of the C core.
 *
 * The only file that includes Python.h.  Entry points are positional-only
 * and underscore-level: defaults, keywords and docs live in the uba package.
 * Every status of the core becomes an exception in one place,
 * set_status_error(), naming the argument, its value and what is allowed.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
#define NPY_TARGET_VERSION NPY_1_23_API_VERSION
#include <numpy/arrayobject.h>
#include <numpy/npy_2_compat.h>

#include <math.h>

#include "uba.h"

/* Below this many elements, releasing the GIL costs more than it frees. */
#define GIL_RELEASE_MIN 4096

/* Groups handled on the stack by step_groups before it allocates. */
#define STACK_GROUPS 16

/* ---- errors ------------------------------------------------------------ */

/*
 * Raises ValueError for a status of the core.  `value` is the argument the
 * status names, as the caller passed it: its repr goes into the message, so
 * the user sees exactly what was refused.  Returns NULL for `return`.
 */
static PyObject *
set_status_error(uba_status status, PyObject *value)
{
    if (status == UBA_E_NULL) {
        PyErr_SetString(PyExc_SystemError, "uba: internal NULL argument");
        return NULL;
    }
    if (value == NULL) {
        PyErr_SetString(PyExc_ValueError, uba_strerror(status));
        return NULL;
    }
    PyErr_Format(PyExc_ValueError, "%s, got %R", uba_strerror(status), value);
    return NULL;
}

/* *out = -inf or +inf by the sign of obj, a real too large for a double. */
static int
as_infinity(PyObject *obj, double *out)
{
    PyObject *zero = PyLong_FromLong(0);
    if (zero == NULL) {
        return -1;
    }
    const int negative = PyObject_RichCompareBool(obj, zero, Py_LT);
    Py_DECREF(zero);
    if (negative < 0) {
        return -1;
    }
    *out = negative ? -INFINITY : INFINITY;
    return 0;
}

/*
 * Reads a real number.  Python ints and floats, numpy scalars and anything
 * with __float__ or __index__ are accepted; str, bytes, complex and other
 * objects raise TypeError naming the argument, as does a TypeError or
 * ValueError from the object's own __float__; any other exception from it
 * (KeyboardInterrupt, MemoryError) propagates unchanged.  An int, or any
 * real, too large for a double becomes +-inf, which the core then refuses
 * with its range.
 */
static int
as_real(PyObject *obj, const char *name, double *out)
{
    if (PyFloat_CheckExact(obj)) {
        *out = PyFloat_AS_DOUBLE(obj);
        return 0;
    }
    if (PyLong_Check(obj)) {
        double v = PyLong_AsDouble(obj);
        if (v == -1.0 && PyErr_Occurred()) {
            if (!PyErr_ExceptionMatches(PyExc_OverflowError)) {
                return -1;
            }
            PyErr_Clear();
            return as_infinity(obj, out);
        }
        *out = v;
        return 0;
    }
    if (PyUnicode_Check(obj) || PyBytes_Check(obj) || PyComplex_Check(obj)
        || !(PyNumber_Check(obj))) {
        PyErr_Format(PyExc_TypeError, "%s must be a real number, got %.200s",
                     name, Py_TYPE(obj)->tp_name);
        return -1;
    }
    double v = PyFloat_AsDouble(obj);
    if (v == -1.0 && PyErr_Occurred()) {
        if (PyErr_ExceptionMatches(PyExc_OverflowError)) {
            /* A real too large for a double (a huge Fraction): +-inf, as
             * for a huge int, so the core refuses it with its range. */
            PyErr_Clear();
            return as_infinity(obj, out);
        }
        if (!PyErr_ExceptionMatches(PyExc_TypeError)
            && !PyErr_ExceptionMatches(PyExc_ValueError)) {
            /* The caller's own __float__ failed (KeyboardInterrupt,
             * MemoryError, a bug of theirs): never swallow that. */
            return -1;
        }
        PyErr_Format(PyExc_TypeError, "%s must be a real number, got %.200s",
                     name, Py_TYPE(obj)->tp_name);
        return -1;
    }
    *out = v;
    return 0;
}

/* Exact-int check for T and warmup_steps: a Python int beyond 2**53 would
 * round silently on the way to a double, so it is refused as such. */
static int
as_count(PyObject *obj, const char *name, double *out)
{
    if (as_real(obj, name, out) < 0) {
        return -1;
    }
    if (PyLong_Check(obj) && fabs(*out) >= UBA_MAX_BUDGET) {
        int overflow = 0;
        long long v = PyLong_AsLongLongAndOverflow(obj, &overflow);
        if (v == -1 && PyErr_Occurred()) {
            return -1;
        }
        if (overflow != 0 || v > (1LL << 53) || v < -(1LL << 53)) {
            *out = overflow < 0 || v < 0 ? -INFINITY : INFINITY;
        }
    }
    return 0;
}

static int
check_nargs(const char *func, Py_ssize_t nargs, Py_ssize_t expected)
{
    if (nargs != expected) {
        PyErr_Format(PyExc_TypeError,
                     "%s() takes exactly %zd positional arguments (%zd given)",
                     func, expected, nargs);
        return -1;
    }
    return 0;
}

/* ---- arrays of steps ----------------------------------------------------- */

/*
 * Converts an array-like of steps to a C-contiguous float64 array (a new
 * reference).  Only bool, integer and floating dtypes are accepted: strings
 * or objects that numpy could force to float are refused with TypeError.
 */
static PyArrayObject *
steps_as_array(PyObject *obj)
{
    PyArrayObject *any = (PyArrayObject *)PyArray_FROM_O(obj);
    if (any == NULL) {
        return NULL;
    }
    const char kind = PyArray_DESCR(any)->kind;
    if (kind != 'b' && kind != 'i' && kind != 'u' && kind != 'f') {
        PyErr_Format(PyExc_TypeError,
                     "t must be a real number or an array of real numbers, "
                     "got an array of dtype %S", (PyObject *)PyArray_DESCR(any));
        Py_DECREF(any);
        return NULL;
    }
    PyArrayObject *t = (PyArrayObject *)PyArray_FROM_OTF(
        (PyObject *)any, NPY_DOUBLE, NPY_ARRAY_IN_ARRAY | NPY_ARRAY_FORCECAST);
    Py_DECREF(any);
    return t;
}

/* Names the element at flat index i of a C-ordered array, e.g. "t[2, 3]". */
static PyObject *
bad_step_error(PyArrayObject *t, size_t i, double value)
{
    const int ndim = PyArray_NDIM(t);
    const npy_intp *dims = PyArray_DIMS(t);
    npy_intp index[NPY_MAXDIMS];
    npy_intp rest = (npy_intp)i;
    for (int d = ndim - 1; d >= 0; d--) {
        index[d] = dims[d] > 0 ? rest % dims[d] : 0;
        rest = dims[d] > 0 ? rest / dims[d] : 0;
    }
    PyObject *where = PyUnicode_FromString("");
    for (int d = 0; where != NULL && d < ndim; d++) {
        PyObject *next = PyUnicode_FromFormat("%U%s%zd", where,
                                              d > 0 ? ", " : "",
                                              (Py_ssize_t)index[d]);
        Py_SETREF(where, next);
    }
    PyObject *number = PyFloat_FromDouble(value);
    if (where != NULL && number != NULL) {
        PyErr_Format(PyExc_ValueError, "%s, got t[%U] = %R",
                     uba_strerror(UBA_E_STEP), where, number);
    }
    Py_XDECREF(where);
    Py_XDECREF(number);
    return NULL;
}

/* ---- schedule ------------------------------------------------------------ */

PyDoc_STRVAR(schedule_doc,
"schedule($module, t, T, phi, eta_max, eta_min, warmup_steps, warmup_start, /)\n"
"--\n\n"
"UBA learning rate at step(s) t: a float for a real t, else a float64\n"
"array of t's shape.  See uba.schedule.");

enum { A_T_STEP, A_BUDGET, A_PHI, A_ETA_MAX, A_ETA_MIN, A_WARMUP, A_START,
       SCHEDULE_NARGS };

static PyObject *
schedule(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    if (check_nargs("schedule", nargs, SCHEDULE_NARGS) < 0) {
        return NULL;
    }
    double T, phi, eta_max, eta_min, warmup, start;
    if (as_count(args[A_BUDGET], "T", &T) < 0
        || as_real(args[A_PHI], "phi", &phi) < 0
        || as_real(args[A_ETA_MAX], "eta_max", &eta_max) < 0
        || as_real(args[A_ETA_MIN], "eta_min", &eta_min) < 0
        || as_count(args[A_WARMUP], "warmup_steps", &warmup) < 0
        || as_real(args[A_START], "warmup_start", &start) < 0) {
        return NULL;
    }
    uba_params p;
    uba_status s = uba_params_init(&p, T, phi, eta_max, eta_min, warmup,
                                   start);
    if (s != UBA_OK) {
        static const int arg_of[UBA_STATUS_COUNT] = {
            [UBA_E_T] = A_BUDGET, [UBA_E_PHI] = A_PHI,
            [UBA_E_ETA_MAX] = A_ETA_MAX, [UBA_E_ETA_MIN] = A_ETA_MIN,
            [UBA_E_WARMUP_STEPS] = A_WARMUP, [UBA_E_WARMUP_START] = A_START,
        };
        return set_status_error(s, args[arg_of[s]]);
    }

    PyObject *t_obj = args[A_T_STEP];
    if (PyFloat_Check(t_obj) || PyLong_Check(t_obj)
        || PyArray_IsScalar(t_obj, Number)) {
        double t, eta;
        if (PyArray_IsScalar(t_obj, ComplexFloating)) {
            PyErr_Format(PyExc_TypeError, "t must be a real number, got %.200s",
                         Py_TYPE(t_obj)->tp_name);
            return NULL;
        }
        if (as_real(t_obj, "t", &t) < 0) {
            return NULL;
        }
        s = uba_eta(&p, t, &eta);
        if (s != UBA_OK) {
            return set_status_error(s, t_obj);
        }
        return PyFloat_FromDouble(eta);
    }

    PyArrayObject *t = steps_as_array(t_obj);
    if (t == NULL) {
        return NULL;
    }
    PyArrayObject *out = (PyArrayObject *)PyArray_SimpleNew(
        PyArray_NDIM(t), PyArray_DIMS(t), NPY_DOUBLE);
    if (out == NULL) {
        Py_DECREF(t);
        return NULL;
    }
    const size_t n = (size_t)PyArray_SIZE(t);
    const double *tp = (const double *)PyArray_DATA(t);
    double *op = (double *)PyArray_DATA(out);
    size_t bad = 0;
    if (n >= GIL_RELEASE_MIN) {
        Py_BEGIN_ALLOW_THREADS
        s = uba_eta_fill(&p, tp, n, op, &bad);
        Py_END_ALLOW_THREADS
    }
    else {
        s = uba_eta_fill(&p, tp, n, op, &bad);
    }
    if (s != UBA_OK) {
        bad_step_error(t, bad, tp[bad]);
        Py_DECREF(t);
        Py_DECREF(out);
        return NULL;
    }
    Py_DECREF(t);
    return (PyObject *)out;
}

/* ---- step_groups --------------------------------------------------------- */

/* Reads a sequence of n real numbers into buf; `name` names it in errors. */
static int
read_reals(PyObject *seq_obj, const char *name, Py_ssize_t n, double *buf)
{
    PyObject *seq = PySequence_Fast(seq_obj, "");
    if (seq == NULL) {
        PyErr_Format(PyExc_TypeError, "%s must be a sequence, got %.200s",
                     name, Py_TYPE(seq_obj)->tp_name);
        return -1;
    }
    if (PySequence_Fast_GET_SIZE(seq) != n) {
        PyErr_Format(PyExc_ValueError,
                     "%s must have one value per parameter group (%zd), "
                     "got %zd", name, n, PySequence_Fast_GET_SIZE(seq));
        Py_DECREF(seq);
        return -1;
    }
    PyObject **items = PySequence_Fast_ITEMS(seq);
    for (Py_ssize_t i = 0; i < n; i++) {
        if (as_real(items[i], name, &buf[i]) < 0) {
            Py_DECREF(seq);
            return -1;
        }
    }
    Py_DECREF(seq);
    return 0;
}

static PyObject *
list_of_floats(const double *values, Py_ssize_t n)
{
    PyObject *list = PyList_New(n);
    for (Py_ssize_t i = 0; list != NULL && i < n; i++) {
        PyObject *f = PyFloat_FromDouble(values[i]);
        if (f == NULL) {
            Py_CLEAR(list);
            break;
        }
        PyList_SET_ITEM(list, i, f);
    }
    return list;
}

PyDoc_STRVAR(step_groups_doc,
"step_groups($module, T, phi, warmup_steps, warmup_start_factor, t_prev, t,\n"
"            base, eta_min, lr_now, written, ratio, /)\n"
"--\n\n"
"One scheduler step for every parameter group (see uba_step_groups in\n"
"uba.h).  Returns (new lrs, new ratios) as lists of floats.");

enum { G_BUDGET, G_PHI, G_WARMUP, G_FACTOR, G_T_PREV, G_T, G_BASE, G_ETA_MIN,
       G_LR_NOW, G_WRITTEN, G_RATIO, STEP_GROUPS_NARGS };

static PyObject *
step_groups(PyObject *Py_UNUSED(module), PyObject *const *args,
            Py_ssize_t nargs)
{
    if (check_nargs("step_groups", nargs, STEP_GROUPS_NARGS) < 0) {
        return NULL;
    }
    uba_group_step s;
    double t_prev, t;
    if (as_count(args[G_BUDGET], "T", &s.T) < 0
        || as_real(args[G_PHI], "phi", &s.phi) < 0
        || as_count(args[G_WARMUP], "warmup_steps", &s.warmup_steps) < 0
        || as_real(args[G_FACTOR], "warmup_start_factor",
                   &s.warmup_start_factor) < 0
        || as_real(args[G_T_PREV], "t_prev", &t_prev) < 0
        || as_real(args[G_T], "t", &t) < 0) {
        return NULL;
    }
    const Py_ssize_t n = PyObject_Length(args[G_BASE]);
    if (n < 0) {
        return NULL;
    }
    double stack[6 * STACK_GROUPS];
    double *buf = n <= STACK_GROUPS ? stack
                                    : PyMem_New(double, 6 * (size_t)n);
    if (buf == NULL) {
        return PyErr_NoMemory();
    }
    double *base = buf, *eta_min = buf + n, *lr_now = buf + 2 * n;
    double *written = buf + 3 * n, *ratio = buf + 4 * n;
    double *lr_next = buf + 5 * n;
    PyObject *result = NULL;
    if (read_reals(args[G_BASE], "base_lrs", n, base) < 0
        || read_reals(args[G_ETA_MIN], "eta_min", n, eta_min) < 0
        || read_reals(args[G_LR_NOW], "lr", n, lr_now) < 0
        || read_reals(args[G_WRITTEN], "written", n, written) < 0
        || read_reals(args[G_RATIO], "ratio", n, ratio) < 0) {
        goto exit;
    }
    uba_status status = uba_step_groups(&s, t_prev, t, (size_t)n, base,
                                        eta_min, lr_now, written, ratio,
                                        lr_next);
    if (status != UBA_OK) {
        static const int arg_of[UBA_STATUS_COUNT] = {
            [UBA_E_T] = G_BUDGET, [UBA_E_PHI] = G_PHI,
            [UBA_E_WARMUP_STEPS] = G_WARMUP, [UBA_E_WARMUP_START] = G_FACTOR,
            [UBA_E_STEP] = G_T, [UBA_E_ETA_MAX] = G_BASE,
            [UBA_E_ETA_MIN] = G_ETA_MIN, [UBA_E_LR] = G_LR_NOW,
        };
        set_status_error(status, args[arg_of[status]]);
        goto exit;
    }
    PyObject *lrs = list_of_floats(lr_next, n);
    PyObject *ratios = lrs != NULL ? list_of_floats(ratio, n) : NULL;
    if (ratios != NULL) {
        result = PyTuple_Pack(2, lrs, ratios);
    }
    Py_XDECREF(lrs);
    Py_XDECREF(ratios);
exit:
    if (buf != stack) {
        PyMem_Free(buf);
    }
    return result;
}

/* ---- module --------------------------------------------------------------- */

static PyMethodDef core_methods[] = {
    {"schedule", (PyCFunction)(void (*)(void))schedule, METH_FASTCALL,
     schedule_doc},
    {"step_groups", (PyCFunction)(void (*)(void))step_groups, METH_FASTCALL,
     step_groups_doc},
    {NULL, NULL, 0, NULL},
};

/*
 * Multi-phase init (PEP 489).  The core is stateless, so the module keeps
 * no per-interpreter state beyond its dict; the exec slot imports NumPy's
 * C API and publishes the C library's version.
 */
static int
core_exec(PyObject *module)
{
    if (PyArray_ImportNumPyAPI() < 0) {
        return -1;
    }
    if (PyModule_AddStringConstant(module, "c_version", uba_version()) < 0) {
        return -1;
    }
    return 0;
}

static PyModuleDef_Slot core_slots[] = {
    {Py_mod_exec, (void *)core_exec},
#if PY_VERSION_HEX >= 0x030C0000
    /* NumPy's C API does not support several interpreters (3.12+). */
    {Py_mod_multiple_interpreters, Py_MOD_MULTIPLE_INTERPRETERS_NOT_SUPPORTED},
#endif
#if PY_VERSION_HEX >= 0x030D0000
    /* No mutable C state: safe without the GIL (3.13+ free threading). */
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
#endif
    {0, NULL},
};

static struct PyModuleDef core_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "uba._core",
    .m_doc = "C core of uba: the UBA schedule and scheduler step.",
    .m_size = 0,
    .m_methods = core_methods,
    .m_slots = core_slots,
};

PyMODINIT_FUNC
PyInit__core(void)
{
    return PyModuleDef_Init(&core_module);
}
