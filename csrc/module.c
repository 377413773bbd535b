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

#include <structmember.h>

#include <limits.h>
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

/*
 * Reads a real number.  Python ints and floats, numpy scalars and anything
 * with __float__ or __index__ are accepted; str, bytes, complex and other
 * objects raise TypeError naming the argument.  An int too large for a
 * double becomes +-inf, which the core then refuses with its range.
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
            PyObject *zero = PyLong_FromLong(0);
            if (zero == NULL) {
                return -1;
            }
            const int negative = PyObject_RichCompareBool(obj, zero, Py_LT);
            Py_DECREF(zero);
            if (negative < 0) {
                return -1;
            }
            v = negative ? -INFINITY : INFINITY;
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

/* ---- theory (SPEC sections 2-4) ------------------------------------------- */

/*
 * A budget that sizes a buffer: an integer in [1, 2**53] (UBA_E_T names
 * the argument otherwise), small enough to allocate (MemoryError).
 */
static int
as_budget(PyObject *obj, size_t *out)
{
    double T;
    if (as_count(obj, "T", &T) < 0) {
        return -1;
    }
    if (!(T >= 1.0 && T <= UBA_MAX_BUDGET && floor(T) == T)) {
        set_status_error(UBA_E_T, obj);
        return -1;
    }
    if (T > (double)(PY_SSIZE_T_MAX / (Py_ssize_t)(16 * sizeof(double)))) {
        PyErr_NoMemory();
        return -1;
    }
    *out = (size_t)T;
    return 0;
}

/* Raises ValueError for a status whose argument is a pair, e.g.
 * UBA_E_CURVATURE with (lam_min, lam_max). */
static PyObject *
set_pair_error(uba_status status, PyObject *first, PyObject *second)
{
    PyObject *pair = PyTuple_Pack(2, first, second);
    if (pair == NULL) {
        return NULL;
    }
    set_status_error(status, pair);
    Py_DECREF(pair);
    return NULL;
}

/* Prefixes the pending ValueError/TypeError (numpy's, for input it cannot
 * turn into an array) with what `lrs` must be. */
static void
name_lrs_in_error(void)
{
    if (!PyErr_ExceptionMatches(PyExc_ValueError)
        && !PyErr_ExceptionMatches(PyExc_TypeError)) {
        return;
    }
#if PY_VERSION_HEX >= 0x030C0000
    PyObject *exc = PyErr_GetRaisedException();
    PyErr_Format((PyObject *)Py_TYPE(exc),
                 "lrs must be a 1-D sequence of real numbers (%S)", exc);
    PyObject *renamed = PyErr_GetRaisedException();
    PyException_SetCause(renamed, exc);
    PyErr_SetRaisedException(renamed);
#else
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    PyErr_Format(type, "lrs must be a 1-D sequence of real numbers (%S)",
                 value);
    Py_XDECREF(type);
    Py_XDECREF(value);
    Py_XDECREF(tb);
#endif
}

/*
 * Converts any 1-D array-like of step sizes to a C-contiguous float64
 * array (a new reference).  TypeError for a non-real dtype, ValueError
 * for another number of dimensions or no element; each names `lrs`.
 */
static PyArrayObject *
lrs_as_array(PyObject *obj)
{
    PyArrayObject *any = (PyArrayObject *)PyArray_FROM_O(obj);
    if (any == NULL) {
        name_lrs_in_error();
        return NULL;
    }
    const char kind = PyArray_DESCR(any)->kind;
    if (kind != 'b' && kind != 'i' && kind != 'u' && kind != 'f') {
        PyErr_Format(PyExc_TypeError,
                     "lrs must be a 1-D sequence of real numbers, got an "
                     "array of dtype %S", (PyObject *)PyArray_DESCR(any));
        Py_DECREF(any);
        return NULL;
    }
    if (PyArray_NDIM(any) != 1) {
        PyObject *shape = PyObject_GetAttrString((PyObject *)any, "shape");
        if (shape != NULL) {
            PyErr_Format(PyExc_ValueError,
                         "lrs must be a 1-D sequence of step sizes, got an "
                         "array of shape %S", shape);
            Py_DECREF(shape);
        }
        Py_DECREF(any);
        return NULL;
    }
    if (PyArray_SIZE(any) == 0) {
        PyErr_Format(PyExc_ValueError, "%s, got an empty sequence",
                     uba_strerror(UBA_E_LRS_EMPTY));
        Py_DECREF(any);
        return NULL;
    }
    PyArrayObject *lrs = (PyArrayObject *)PyArray_FROM_OTF(
        (PyObject *)any, NPY_DOUBLE, NPY_ARRAY_IN_ARRAY | NPY_ARRAY_FORCECAST);
    Py_DECREF(any);
    return lrs;
}

/*
 * Raises ValueError for a status about one entry of lrs, naming its index
 * and value: "lrs[17] = 0.6 breaks bound (a)'s step-size condition
 * 0 <= eta_t <= 1/L = 0.5".  `condition` and `limit` describe the step-size
 * condition of the function that failed (NULL where it has none).
 */
static PyObject *
lrs_error(uba_status status, const double *lrs, size_t bad,
          const char *condition, double limit)
{
    if (status == UBA_E_LRS_ZERO || status == UBA_E_LRS_EMPTY) {
        PyErr_Format(PyExc_ValueError, "%s, got %s", uba_strerror(status),
                     status == UBA_E_LRS_ZERO ? "only zeros" : "none");
        return NULL;
    }
    PyObject *value = PyFloat_FromDouble(lrs[bad]);
    PyObject *lim = PyFloat_FromDouble(limit);
    if (value != NULL && lim != NULL) {
        if (status == UBA_E_STEP_CONDITION && condition != NULL) {
            PyErr_Format(PyExc_ValueError, "lrs[%zd] = %R breaks %s = %R",
                         (Py_ssize_t)bad, value, condition, lim);
        }
        else {
            PyErr_Format(PyExc_ValueError, "%s, got lrs[%zd] = %R",
                         uba_strerror(status), (Py_ssize_t)bad, value);
        }
    }
    Py_XDECREF(value);
    Py_XDECREF(lim);
    return NULL;
}

static int
is_lrs_status(uba_status s)
{
    return s == UBA_E_LRS || s == UBA_E_LRS_RANGE || s == UBA_E_LRS_ZERO
        || s == UBA_E_STEP_CONDITION || s == UBA_E_LRS_EMPTY;
}

/* A workspace of n doubles (PyMem: freed with PyMem_Free). */
static double *
new_workspace(size_t n)
{
    if (n == SIZE_MAX || n > (size_t)PY_SSIZE_T_MAX / sizeof(double)) {
        PyErr_NoMemory();
        return NULL;
    }
    double *w = PyMem_New(double, n);
    if (w == NULL) {
        PyErr_NoMemory();
    }
    return w;
}

static PyObject *
pair_of_floats(double a, double b)
{
    return Py_BuildValue("(dd)", a, b);
}

PyDoc_STRVAR(chebyshev_step_sizes_doc,
"chebyshev_step_sizes($module, T, lam_min, lam_max, /)\n"
"--\n\n"
"The T Chebyshev min-max step sizes for [lam_min, lam_max], descending,\n"
"as a float64 array.  See uba.theory.chebyshev_step_sizes.");

static PyObject *
chebyshev_step_sizes(PyObject *Py_UNUSED(module), PyObject *const *args,
                     Py_ssize_t nargs)
{
    if (check_nargs("chebyshev_step_sizes", nargs, 3) < 0) {
        return NULL;
    }
    size_t T;
    double lam_min, lam_max;
    if (as_budget(args[0], &T) < 0
        || as_real(args[1], "lam_min", &lam_min) < 0
        || as_real(args[2], "lam_max", &lam_max) < 0) {
        return NULL;
    }
    double eta_max, eta_min, phi;  /* checks the range before allocating */
    uba_status s = uba_curvature_params(lam_min, lam_max, &eta_max, &eta_min,
                                        &phi);
    if (s == UBA_E_CURVATURE) {
        return set_pair_error(s, args[1], args[2]);
    }
    if (s != UBA_OK) {
        return set_status_error(s, args[s == UBA_E_LAM_MIN ? 1 : 2]);
    }
    npy_intp dim = (npy_intp)T;
    PyArrayObject *out = (PyArrayObject *)PyArray_SimpleNew(1, &dim,
                                                            NPY_DOUBLE);
    if (out == NULL) {
        return NULL;
    }
    double *op = (double *)PyArray_DATA(out);
    if (T >= GIL_RELEASE_MIN) {
        Py_BEGIN_ALLOW_THREADS
        s = uba_chebyshev_steps(T, lam_min, lam_max, op);
        Py_END_ALLOW_THREADS
    }
    else {
        s = uba_chebyshev_steps(T, lam_min, lam_max, op);
    }
    if (s != UBA_OK) {
        Py_DECREF(out);
        return set_status_error(s, NULL);
    }
    return (PyObject *)out;
}

PyDoc_STRVAR(chebyshev_log_residual_doc,
"chebyshev_log_residual($module, T, lam_min, lam_max, /)\n"
"--\n\n"
"log(1/T_T((kappa+1)/(kappa-1))), the log of the optimal worst-case\n"
"residual.  See uba.theory.chebyshev_residual.");

static PyObject *
chebyshev_log_residual(PyObject *Py_UNUSED(module), PyObject *const *args,
                       Py_ssize_t nargs)
{
    if (check_nargs("chebyshev_log_residual", nargs, 3) < 0) {
        return NULL;
    }
    size_t T;
    double lam_min, lam_max, lr;
    if (as_budget(args[0], &T) < 0
        || as_real(args[1], "lam_min", &lam_min) < 0
        || as_real(args[2], "lam_max", &lam_max) < 0) {
        return NULL;
    }
    const uba_status s = uba_chebyshev_log_residual(T, lam_min, lam_max, &lr);
    if (s == UBA_E_CURVATURE) {
        return set_pair_error(s, args[1], args[2]);
    }
    if (s != UBA_OK) {
        return set_status_error(s, args[s == UBA_E_LAM_MIN ? 1 : 2]);
    }
    return PyFloat_FromDouble(lr);
}

PyDoc_STRVAR(phi_from_condition_number_doc,
"phi_from_condition_number($module, kappa, /)\n"
"--\n\n"
"phi = 2 * kappa.  See uba.theory.phi_from_condition_number.");

static PyObject *
phi_from_condition_number(PyObject *Py_UNUSED(module), PyObject *const *args,
                          Py_ssize_t nargs)
{
    double kappa, phi;
    if (check_nargs("phi_from_condition_number", nargs, 1) < 0
        || as_real(args[0], "kappa", &kappa) < 0) {
        return NULL;
    }
    const uba_status s = uba_phi_from_kappa(kappa, &phi);
    if (s != UBA_OK) {
        return set_status_error(s, args[0]);
    }
    return PyFloat_FromDouble(phi);
}

PyDoc_STRVAR(condition_number_from_phi_doc,
"condition_number_from_phi($module, phi, /)\n"
"--\n\n"
"kappa = phi / 2.  See uba.theory.condition_number_from_phi.");

static PyObject *
condition_number_from_phi(PyObject *Py_UNUSED(module), PyObject *const *args,
                          Py_ssize_t nargs)
{
    double phi, kappa;
    if (check_nargs("condition_number_from_phi", nargs, 1) < 0
        || as_real(args[0], "phi", &phi) < 0) {
        return NULL;
    }
    const uba_status s = uba_kappa_from_phi(phi, &kappa);
    if (s != UBA_OK) {
        return set_status_error(s, args[0]);
    }
    return PyFloat_FromDouble(kappa);
}

PyDoc_STRVAR(curvature_params_doc,
"curvature_params($module, lam_min, lam_max, /)\n"
"--\n\n"
"(eta_max, eta_min, phi) = (1/lam_min, 1/lam_max, 2 lam_max/lam_min).\n"
"See uba.theory.uba_params_from_curvature.");

static PyObject *
curvature_params(PyObject *Py_UNUSED(module), PyObject *const *args,
                 Py_ssize_t nargs)
{
    double lam_min, lam_max, eta_max, eta_min, phi;
    if (check_nargs("curvature_params", nargs, 2) < 0
        || as_real(args[0], "lam_min", &lam_min) < 0
        || as_real(args[1], "lam_max", &lam_max) < 0) {
        return NULL;
    }
    const uba_status s = uba_curvature_params(lam_min, lam_max, &eta_max,
                                              &eta_min, &phi);
    if (s == UBA_E_CURVATURE) {
        return set_pair_error(s, args[0], args[1]);
    }
    if (s != UBA_OK) {
        return set_status_error(s, args[s == UBA_E_LAM_MIN ? 0 : 1]);
    }
    return Py_BuildValue("(ddd)", eta_max, eta_min, phi);
}

/*
 * The residual entry points share one body: args are (lrs, lam_min,
 * lam_max[, sigma2]); returns (log value, maximiser).
 */
static PyObject *
residual_common(PyObject *const *args, int noisy)
{
    double lam_min, lam_max, sigma2 = 0.0;
    if (as_real(args[1], "lam_min", &lam_min) < 0
        || as_real(args[2], "lam_max", &lam_max) < 0
        || (noisy && as_real(args[3], "sigma2", &sigma2) < 0)) {
        return NULL;
    }
    PyArrayObject *lrs = lrs_as_array(args[0]);
    if (lrs == NULL) {
        return NULL;
    }
    const size_t n = (size_t)PyArray_SIZE(lrs);
    const double *lp = (const double *)PyArray_DATA(lrs);
    double *work = new_workspace(uba_worst_case_work_size(n));
    if (work == NULL) {
        Py_DECREF(lrs);
        return NULL;
    }
    const size_t wn = uba_worst_case_work_size(n);
    double lg = 0.0, at = 0.0;
    size_t bad = 0;
    uba_status s;
    Py_BEGIN_ALLOW_THREADS
    s = noisy ? uba_worst_case_noisy_error(lp, n, lam_min, lam_max, sigma2,
                                           work, wn, &lg, &at, &bad)
              : uba_worst_case_residual(lp, n, lam_min, lam_max, work, wn,
                                        &lg, &at, &bad);
    Py_END_ALLOW_THREADS
    PyMem_Free(work);
    PyObject *result = NULL;
    if (s == UBA_OK) {
        result = pair_of_floats(lg, at);
    }
    else if (is_lrs_status(s)) {
        lrs_error(s, lp, bad, NULL, 0.0);
    }
    else if (s == UBA_E_CURVATURE) {
        set_pair_error(s, args[1], args[2]);
    }
    else {
        set_status_error(s, s == UBA_E_LAM_MIN ? args[1]
                            : s == UBA_E_LAM_MAX ? args[2]
                            : s == UBA_E_SIGMA2 ? args[3] : NULL);
    }
    Py_DECREF(lrs);
    return result;
}

PyDoc_STRVAR(worst_case_residual_doc,
"worst_case_residual($module, lrs, lam_min, lam_max, /)\n"
"--\n\n"
"(log max_lam |prod (1 - eta lam)|, a maximiser lam).  See\n"
"uba.theory.worst_case_residual.");

static PyObject *
worst_case_residual(PyObject *Py_UNUSED(module), PyObject *const *args,
                    Py_ssize_t nargs)
{
    if (check_nargs("worst_case_residual", nargs, 3) < 0) {
        return NULL;
    }
    return residual_common(args, 0);
}

PyDoc_STRVAR(worst_case_noisy_error_doc,
"worst_case_noisy_error($module, lrs, lam_min, lam_max, sigma2, /)\n"
"--\n\n"
"(log max_lam E x_T^2 of the noisy quadratic, a maximiser lam).  See\n"
"uba.theory.worst_case_noisy_error.");

static PyObject *
worst_case_noisy_error(PyObject *Py_UNUSED(module), PyObject *const *args,
                       Py_ssize_t nargs)
{
    if (check_nargs("worst_case_noisy_error", nargs, 4) < 0) {
        return NULL;
    }
    return residual_common(args, 1);
}

/* Which bound: the order of its scalar arguments after lrs. */
enum { BOUND_NONCONVEX, BOUND_CONVEX, BOUND_STRONGLY_CONVEX };

/*
 * The bound entry points: (lrs, L, sigma2, f_gap), (lrs, L, sigma2, dist2)
 * and (lrs, mu, L, sigma2, f_gap).
 */
static PyObject *
bound_common(PyObject *const *args, int which)
{
    static const char *const names[3][4] = {
        {"L", "sigma2", "f_gap", NULL},
        {"L", "sigma2", "dist2", NULL},
        {"mu", "L", "sigma2", "f_gap"},
    };
    static const char *const conditions[3] = {
        "bound (a)'s step-size condition 0 <= eta_t <= 1/L",
        "bound (b)'s step-size condition 0 <= eta_t <= 1/(2L)",
        "bound (c)'s step-size condition 0 <= eta_t <= 1/L",
    };
    const int count = which == BOUND_STRONGLY_CONVEX ? 4 : 3;
    double v[4] = {0.0, 0.0, 0.0, 0.0};
    for (int i = 0; i < count; i++) {
        if (as_real(args[i + 1], names[which][i], &v[i]) < 0) {
            return NULL;
        }
    }
    PyArrayObject *lrs = lrs_as_array(args[0]);
    if (lrs == NULL) {
        return NULL;
    }
    const size_t n = (size_t)PyArray_SIZE(lrs);
    const double *lp = (const double *)PyArray_DATA(lrs);
    double bound = 0.0;
    size_t bad = 0;
    uba_status s = UBA_OK;
    Py_BEGIN_ALLOW_THREADS
    switch (which) {
    case BOUND_NONCONVEX:
        s = uba_bound_nonconvex(lp, n, v[0], v[1], v[2], &bound, &bad);
        break;
    case BOUND_CONVEX:
        s = uba_bound_convex(lp, n, v[0], v[1], v[2], &bound, &bad);
        break;
    default:
        s = uba_bound_strongly_convex(lp, n, v[0], v[1], v[2], v[3], &bound,
                                      &bad);
        break;
    }
    Py_END_ALLOW_THREADS
    PyObject *result = NULL;
    if (s == UBA_OK) {
        result = PyFloat_FromDouble(bound);
    }
    else if (is_lrs_status(s)) {
        const double L = which == BOUND_STRONGLY_CONVEX ? v[1] : v[0];
        const double limit = which == BOUND_CONVEX ? 0.5 / L : 1.0 / L;
        lrs_error(s, lp, bad, conditions[which], limit);
    }
    else {
        PyObject *arg = NULL;
        const char *want = s == UBA_E_L ? "L" : s == UBA_E_MU ? "mu"
            : s == UBA_E_SIGMA2 ? "sigma2" : s == UBA_E_F_GAP ? "f_gap"
            : s == UBA_E_DIST2 ? "dist2" : "";
        for (int i = 0; i < count; i++) {
            if (strcmp(names[which][i], want) == 0) {
                arg = args[i + 1];
            }
        }
        set_status_error(s, arg);
    }
    Py_DECREF(lrs);
    return result;
}

PyDoc_STRVAR(bound_nonconvex_doc,
"bound_nonconvex($module, lrs, L, sigma2, f_gap, /)\n"
"--\n\n"
"Bound (a) of SPEC section 3.  See uba.theory.bound_nonconvex.");

static PyObject *
bound_nonconvex(PyObject *Py_UNUSED(module), PyObject *const *args,
                Py_ssize_t nargs)
{
    if (check_nargs("bound_nonconvex", nargs, 4) < 0) {
        return NULL;
    }
    return bound_common(args, BOUND_NONCONVEX);
}

PyDoc_STRVAR(bound_convex_doc,
"bound_convex($module, lrs, L, sigma2, dist2, /)\n"
"--\n\n"
"Bound (b) of SPEC section 3.  See uba.theory.bound_convex.");

static PyObject *
bound_convex(PyObject *Py_UNUSED(module), PyObject *const *args,
             Py_ssize_t nargs)
{
    if (check_nargs("bound_convex", nargs, 4) < 0) {
        return NULL;
    }
    return bound_common(args, BOUND_CONVEX);
}

PyDoc_STRVAR(bound_strongly_convex_doc,
"bound_strongly_convex($module, lrs, mu, L, sigma2, f_gap, /)\n"
"--\n\n"
"Bound (c) of SPEC section 3.  See uba.theory.bound_strongly_convex.");

static PyObject *
bound_strongly_convex(PyObject *Py_UNUSED(module), PyObject *const *args,
                      Py_ssize_t nargs)
{
    if (check_nargs("bound_strongly_convex", nargs, 5) < 0) {
        return NULL;
    }
    return bound_common(args, BOUND_STRONGLY_CONVEX);
}

PyDoc_STRVAR(optimal_phi_doc,
"optimal_phi($module, T, lam_min, lam_max, sigma2, eta_max, eta_min,\n"
"            phi_lo, phi_hi, /)\n"
"--\n\n"
"(phi*, log of the worst-case noisy-quadratic error at phi*).  See\n"
"uba.theory.optimal_phi.");

enum { O_T, O_LAM_MIN, O_LAM_MAX, O_SIGMA2, O_ETA_MAX, O_ETA_MIN, O_PHI_LO,
       O_PHI_HI, OPTIMAL_PHI_NARGS };

static PyObject *
optimal_phi(PyObject *Py_UNUSED(module), PyObject *const *args,
            Py_ssize_t nargs)
{
    if (check_nargs("optimal_phi", nargs, OPTIMAL_PHI_NARGS) < 0) {
        return NULL;
    }
    size_t T;
    double lam_min, lam_max, sigma2, eta_max, eta_min, phi_lo, phi_hi;
    if (as_budget(args[O_T], &T) < 0
        || as_real(args[O_LAM_MIN], "lam_min", &lam_min) < 0
        || as_real(args[O_LAM_MAX], "lam_max", &lam_max) < 0
        || as_real(args[O_SIGMA2], "sigma2", &sigma2) < 0
        || as_real(args[O_ETA_MAX], "eta_max", &eta_max) < 0
        || as_real(args[O_ETA_MIN], "eta_min", &eta_min) < 0
        || as_real(args[O_PHI_LO], "phi_range", &phi_lo) < 0
        || as_real(args[O_PHI_HI], "phi_range", &phi_hi) < 0) {
        return NULL;
    }
    /* validate first (a NULL workspace fails last), then allocate */
    double phi = 0.0, obj = 0.0;
    uba_status s = uba_optimal_phi(T, lam_min, lam_max, sigma2, eta_max,
                                   eta_min, phi_lo, phi_hi, NULL, 0, &phi,
                                   &obj);
    if (s == UBA_E_NULL) {
        const size_t wn = uba_optimal_phi_work_size(T);
        double *work = new_workspace(wn);
        if (work == NULL) {
            return NULL;
        }
        Py_BEGIN_ALLOW_THREADS
        s = uba_optimal_phi(T, lam_min, lam_max, sigma2, eta_max, eta_min,
                            phi_lo, phi_hi, work, wn, &phi, &obj);
        Py_END_ALLOW_THREADS
        PyMem_Free(work);
    }
    switch (s) {
    case UBA_OK:
        return pair_of_floats(phi, obj);
    case UBA_E_CURVATURE:
        return set_pair_error(s, args[O_LAM_MIN], args[O_LAM_MAX]);
    case UBA_E_ETA_RANGE:
        return set_pair_error(s, args[O_ETA_MAX], args[O_ETA_MIN]);
    case UBA_E_PHI_RANGE:
        return set_pair_error(s, args[O_PHI_LO], args[O_PHI_HI]);
    default: {
        static const int arg_of[UBA_STATUS_COUNT] = {
            [UBA_E_T] = O_T, [UBA_E_LAM_MIN] = O_LAM_MIN,
            [UBA_E_LAM_MAX] = O_LAM_MAX, [UBA_E_SIGMA2] = O_SIGMA2,
            [UBA_E_ETA_MAX] = O_ETA_MAX, [UBA_E_ETA_MIN] = O_ETA_MIN,
        };
        return set_status_error(s, args[arg_of[s]]);
    }
    }
}

PyDoc_STRVAR(optimal_phi_strongly_convex_doc,
"optimal_phi_strongly_convex($module, T, mu, L, sigma2, f_gap, eta_max,\n"
"                            phi_lo, phi_hi, /)\n"
"--\n\n"
"(phi*, bound (c) at phi*).  See uba.theory.optimal_phi_strongly_convex.");

enum { C_T, C_MU, C_L, C_SIGMA2, C_F_GAP, C_ETA_MAX, C_PHI_LO, C_PHI_HI,
       OPTIMAL_SC_NARGS };

static PyObject *
optimal_phi_strongly_convex(PyObject *Py_UNUSED(module),
                            PyObject *const *args, Py_ssize_t nargs)
{
    if (check_nargs("optimal_phi_strongly_convex", nargs, OPTIMAL_SC_NARGS)
        < 0) {
        return NULL;
    }
    size_t T;
    double mu, L, sigma2, f_gap, eta_max, phi_lo, phi_hi;
    if (as_budget(args[C_T], &T) < 0
        || as_real(args[C_MU], "mu", &mu) < 0
        || as_real(args[C_L], "L", &L) < 0
        || as_real(args[C_SIGMA2], "sigma2", &sigma2) < 0
        || as_real(args[C_F_GAP], "f_gap", &f_gap) < 0
        || as_real(args[C_ETA_MAX], "eta_max", &eta_max) < 0
        || as_real(args[C_PHI_LO], "phi_range", &phi_lo) < 0
        || as_real(args[C_PHI_HI], "phi_range", &phi_hi) < 0) {
        return NULL;
    }
    double phi = 0.0, bound = 0.0;
    uba_status s;
    Py_BEGIN_ALLOW_THREADS
    s = uba_optimal_phi_strongly_convex(T, mu, L, sigma2, f_gap, eta_max,
                                        phi_lo, phi_hi, &phi, &bound);
    Py_END_ALLOW_THREADS
    if (s == UBA_OK) {
        return pair_of_floats(phi, bound);
    }
    if (s == UBA_E_PHI_RANGE) {
        return set_pair_error(s, args[C_PHI_LO], args[C_PHI_HI]);
    }
    static const int arg_of[UBA_STATUS_COUNT] = {
        [UBA_E_T] = C_T, [UBA_E_MU] = C_MU, [UBA_E_L] = C_L,
        [UBA_E_SIGMA2] = C_SIGMA2, [UBA_E_F_GAP] = C_F_GAP,
        [UBA_E_ETA_MAX_L] = C_ETA_MAX,
    };
    return set_status_error(s, args[arg_of[s]]);
}

/* ---- UBALR.step in one C call ---------------------------------------------- */

/*
 * StepMethod(cls, fallback, tensor_type) is a method descriptor written in
 * C.  uba/scheduler.py sets UBALR.step = StepMethod(UBALR, LRScheduler.step,
 * torch.Tensor), so `sched.step()` is one C call: the type carries
 * Py_TPFLAGS_METHOD_DESCRIPTOR, so CPython calls it with the scheduler as
 * args[0] and no bound method is created.
 *
 * The common step takes the fast path, which does what LRScheduler.step
 * followed by UBALR._update_lr does, in the same order, with the same
 * arithmetic (uba_step_groups, the function _core.step_groups calls) and
 * the same torch calls on tensor lrs (item, fill_, item, clone):
 *
 *     _step_count += 1; last_epoch += 1; _get_lr_called_within_step = False
 *     each group: lr = float, or lr.fill_(float) for a tensor
 *     _ratios, _written (what was stored, read back with item() for a
 *     tensor), _last_lr (clones for tensors)
 *
 * Everything is read and computed before anything is changed, so when any
 * condition of the fast path fails the step is handed, untouched, to the
 * Python implementation (`fallback`, LRScheduler.step, which calls
 * UBALR._update_lr).  That happens for: a subclass of UBALR; an epoch
 * argument; the initial step (_is_initial); the first step after
 * construction (_step_count == 1, where torch checks the order of
 * optimizer.step() and scheduler.step() and may warn: torch's own code
 * issues those warnings, with torch's text); lrs, base lrs, floors or
 * bookkeeping of any type other than float, int, list or an exact
 * torch.Tensor; a parameter group that is not a dict; last_epoch or
 * _step_count beyond 64 bits; and any value uba_step_groups refuses (the
 * Python path then raises the error that names it).  tests/test_step_c.py
 * runs the same sequences through both paths and compares every lr and
 * the whole state bit for bit.
 */

enum {
    K_STEP_COUNT, K_LAST_EPOCH, K_IS_INITIAL, K_WITHIN_STEP, K_OPTIMIZER,
    K_PARAM_GROUPS, K_LR, K_T_MAX, K_PHI, K_WARMUP_STEPS, K_WARMUP_FACTOR,
    K_ETA_MIN, K_BASE_LRS, K_RATIOS, K_WRITTEN, K_LAST_LR, K_ITEM, K_FILL,
    K_CLONE, K_EPOCH, K_COUNT
};

static const char *const KEY_NAMES[K_COUNT] = {
    [K_STEP_COUNT] = "_step_count", [K_LAST_EPOCH] = "last_epoch",
    [K_IS_INITIAL] = "_is_initial",
    [K_WITHIN_STEP] = "_get_lr_called_within_step",
    [K_OPTIMIZER] = "optimizer", [K_PARAM_GROUPS] = "param_groups",
    [K_LR] = "lr", [K_T_MAX] = "T_max", [K_PHI] = "phi",
    [K_WARMUP_STEPS] = "warmup_steps",
    [K_WARMUP_FACTOR] = "warmup_start_factor", [K_ETA_MIN] = "eta_min",
    [K_BASE_LRS] = "base_lrs", [K_RATIOS] = "_ratios",
    [K_WRITTEN] = "_written", [K_LAST_LR] = "_last_lr", [K_ITEM] = "item",
    [K_FILL] = "fill_", [K_CLONE] = "clone", [K_EPOCH] = "epoch",
};

typedef struct {
    PyObject_HEAD
    PyObject *cls;          /* exact instances of it take the fast path   */
    PyObject *fallback;     /* the Python step (LRScheduler.step)         */
    PyObject *tensor_type;  /* torch.Tensor                               */
    PyObject *keys[K_COUNT];
    vectorcallfunc vectorcall;
} StepMethod;

/* A strong reference to dict[key]; NULL if absent or on error. */
static PyObject *
dict_get(PyObject *dict, PyObject *key)
{
    PyObject *v = PyDict_GetItemWithError(dict, key);
    Py_XINCREF(v);
    return v;
}

/* An exact float or int as a double: 1; anything else (or an int too
 * large for a double): 0, with no exception set. */
static int
plain_real(PyObject *v, double *out)
{
    if (PyFloat_CheckExact(v)) {
        *out = PyFloat_AS_DOUBLE(v);
        return 1;
    }
    if (PyLong_CheckExact(v)) {
        const double d = PyLong_AsDouble(v);
        if (d == -1.0 && PyErr_Occurred()) {
            PyErr_Clear();
            return 0;
        }
        *out = d;
        return 1;
    }
    return 0;
}

static PyObject *
call_method0(PyObject *obj, PyObject *name)
{
    PyObject *args[2] = {NULL, obj};
    return PyObject_VectorcallMethod(
        name, args + 1, 1 | PY_VECTORCALL_ARGUMENTS_OFFSET, NULL);
}

/* An lr or base lr as UBALR's _as_float reads it: a plain number, or an
 * exact torch.Tensor through item().  1: read; 0: not for the fast path. */
static int
lr_value(StepMethod *m, PyObject *v, double *out, int *is_tensor,
         int *called_out)
{
    *is_tensor = 0;
    if (plain_real(v, out)) {
        return 1;
    }
    if (!Py_IS_TYPE(v, (PyTypeObject *)m->tensor_type)) {
        return 0;
    }
    *is_tensor = 1;
    *called_out = 1;
    PyObject *item = call_method0(v, m->keys[K_ITEM]);
    if (item == NULL) {
        PyErr_Clear();
        return 0;
    }
    const int ok = plain_real(item, out);
    Py_DECREF(item);
    return ok;
}

/* list[i] (borrowed), or NULL if the list is now shorter: item() may
 * release the GIL, and another thread may change a list meanwhile. */
static PyObject *
list_item(PyObject *list, Py_ssize_t i)
{
    return i < PyList_GET_SIZE(list) ? PyList_GET_ITEM(list, i) : NULL;
}

/* Reads a 64-bit int attribute value (exact int only): 1 ok, 0 not. */
static int
plain_int64(PyObject *v, long long *out)
{
    if (v == NULL || !PyLong_CheckExact(v)) {
        return 0;
    }
    int overflow = 0;
    const long long x = PyLong_AsLongLongAndOverflow(v, &overflow);
    if (overflow != 0 || (x == -1 && PyErr_Occurred())) {
        PyErr_Clear();
        return 0;
    }
    *out = x;
    return 1;
}

/*
 * Sets dict[key] to a list of the n new references in items (stolen).  When
 * the list now in dict[key] has the right length and nothing but the dict
 * (and `held`, our own reference to it) refers to it, it is refilled in
 * place: no one can tell, and a step then allocates no container (so it
 * does not drive the cyclic GC).  Otherwise a new list is stored, as the
 * Python path always does.  held_is_current: no Python code can have run
 * since `held` was read from dict[key], so it is still the value there.
 */
static int
commit_list(PyObject *dict, PyObject *key, PyObject *held, int held_is_current,
            PyObject **items, Py_ssize_t n)
{
#ifndef Py_GIL_DISABLED
    PyObject *cur = held_is_current ? held : PyDict_GetItemWithError(dict, key);
    if (cur != NULL && PyList_CheckExact(cur) && PyList_GET_SIZE(cur) == n
        && Py_REFCNT(cur) == 1 + (cur == held)) {
        for (Py_ssize_t i = 0; i < n; i++) {
            PyObject *old = PyList_GET_ITEM(cur, i);
            PyList_SET_ITEM(cur, i, items[i]);
            items[i] = old;
        }
        for (Py_ssize_t i = 0; i < n; i++) {  /* after: no half-made list */
            Py_CLEAR(items[i]);
        }
        return 0;
    }
#else
    (void)held;
    (void)held_is_current;
#endif
    PyObject *list = PyErr_Occurred() ? NULL : PyList_New(n);
    for (Py_ssize_t i = 0; i < n; i++) {
        if (list != NULL) {
            PyList_SET_ITEM(list, i, items[i]);
            items[i] = NULL;
        }
        else {
            Py_CLEAR(items[i]);
        }
    }
    if (list == NULL) {
        return -1;
    }
    const int r = PyDict_SetItem(dict, key, list);
    Py_DECREF(list);
    return r;
}

/* Everything one fast step reads, computes and holds. */
typedef struct {
    PyObject *dict;           /* the scheduler's __dict__                  */
    PyObject *attr[K_COUNT];  /* attributes read from it (strong refs)     */
    PyObject *groups;         /* optimizer.param_groups                    */
    Py_ssize_t n;             /* number of groups                          */
    long long count, epoch;   /* _step_count and last_epoch before the step */
    uba_group_step s;
    double *base, *eta_min, *lr_now, *written, *ratio, *lr_next;
    PyObject **lr_obj;        /* each group's lr as read (strong refs)     */
    PyObject **items;         /* the entries of a list being made (strong) */
    PyObject **ratio_items;   /* the entries of _ratios (strong)           */
    int *is_tensor;
    PyObject **group_obj;     /* each group dict (strong refs): torch may  */
                              /* release the GIL and others edit the list  */
    Py_ssize_t n_lr;          /* strong refs held in lr_obj and group_obj  */
    int called_out;           /* a torch method ran: Python code may have  */
                              /* changed any dict since it was read        */
    void *heap;
    double stack_d[6 * STACK_GROUPS];
    PyObject *stack_o[4 * STACK_GROUPS];
    int stack_i[STACK_GROUPS];
} fast_state;

static void
fast_release(fast_state *st)
{
    for (Py_ssize_t i = 0; i < st->n_lr; i++) {
        Py_DECREF(st->lr_obj[i]);
        Py_DECREF(st->group_obj[i]);
    }
    for (Py_ssize_t i = 0; st->items != NULL && i < st->n; i++) {
        Py_XDECREF(st->items[i]);
        Py_XDECREF(st->ratio_items[i]);
    }
    for (int i = 0; i < K_COUNT; i++) {
        Py_XDECREF(st->attr[i]);
    }
    Py_XDECREF(st->dict);
    Py_XDECREF(st->groups);
    PyMem_Free(st->heap);
}

static int
fast_buffers(fast_state *st)
{
    const Py_ssize_t n = st->n;
    if (n <= STACK_GROUPS) {
        st->base = st->stack_d;
        st->lr_obj = st->stack_o;
        st->is_tensor = st->stack_i;
        for (Py_ssize_t i = 0; i < 3 * n; i++) {
            st->stack_o[i] = NULL;  /* only what is used: no rep stos */
        }
    }
    else {
        st->heap = PyMem_Calloc((size_t)n, 6 * sizeof(double)
                                           + 4 * sizeof(PyObject *)
                                           + sizeof(int));
        if (st->heap == NULL) {
            return -1;
        }
        st->base = (double *)st->heap;
        st->lr_obj = (PyObject **)(st->base + 6 * n);
        st->is_tensor = (int *)(st->lr_obj + 4 * n);
    }
    st->items = st->lr_obj + n;
    st->ratio_items = st->lr_obj + 2 * n;
    st->group_obj = st->lr_obj + 3 * n;
    st->eta_min = st->base + n;
    st->lr_now = st->base + 2 * n;
    st->written = st->base + 3 * n;
    st->ratio = st->base + 4 * n;
    st->lr_next = st->base + 5 * n;
    return 0;
}

/*
 * The read half of a fast step: every attribute, group and value, then
 * uba_step_groups.  Changes nothing.  Returns 1 when the step can be
 * committed, 0 (no exception set) when the Python path must run instead.
 */
static int
fast_read(StepMethod *m, PyObject *self, fast_state *st)
{
    PyObject *const *k = m->keys;
    static const int needed[] = {
        K_STEP_COUNT, K_LAST_EPOCH, K_IS_INITIAL, K_OPTIMIZER, K_T_MAX,
        K_PHI, K_WARMUP_STEPS, K_WARMUP_FACTOR, K_ETA_MIN, K_BASE_LRS,
        K_RATIOS, K_WRITTEN};

    st->dict = PyObject_GenericGetDict(self, NULL);
    if (st->dict == NULL) {
        goto not_taken;
    }
    for (size_t i = 0; i < sizeof needed / sizeof needed[0]; i++) {
        st->attr[needed[i]] = dict_get(st->dict, k[needed[i]]);
        if (st->attr[needed[i]] == NULL) {
            goto not_taken;
        }
    }
    PyObject **attr = st->attr;
    if (attr[K_IS_INITIAL] != Py_False
        || !plain_int64(attr[K_STEP_COUNT], &st->count) || st->count < 2
        || st->count == LLONG_MAX
        || !plain_int64(attr[K_LAST_EPOCH], &st->epoch)
        || st->epoch == LLONG_MAX) {
        goto not_taken;
    }
    /* As _core.step_groups reads them (as_count, as_real), plain numbers
     * first: the same values, without the calls. */
    double *const config[4] = {&st->s.T, &st->s.phi, &st->s.warmup_steps,
                               &st->s.warmup_start_factor};
    static const int config_keys[4] = {K_T_MAX, K_PHI, K_WARMUP_STEPS,
                                       K_WARMUP_FACTOR};
    for (int i = 0; i < 4; i++) {
        PyObject *v = attr[config_keys[i]];
        if (PyFloat_CheckExact(v)) {
            *config[i] = PyFloat_AS_DOUBLE(v);
            continue;
        }
        if (PyLong_CheckExact(v) && plain_real(v, config[i])
            && fabs(*config[i]) < UBA_MAX_BUDGET) {
            continue;  /* exact: as_count would read the same */
        }
        const int count_arg = config_keys[i] == K_T_MAX
                              || config_keys[i] == K_WARMUP_STEPS;
        if ((count_arg ? as_count(v, "", config[i])
                       : as_real(v, "", config[i])) < 0) {
            goto not_taken;
        }
    }
    st->groups = PyObject_GetAttr(attr[K_OPTIMIZER], k[K_PARAM_GROUPS]);
    if (st->groups == NULL || !PyList_CheckExact(st->groups)) {
        goto not_taken;
    }
    const Py_ssize_t n = st->n = PyList_GET_SIZE(st->groups);
    PyObject *base_lrs = attr[K_BASE_LRS], *eta_min = attr[K_ETA_MIN];
    PyObject *ratios = attr[K_RATIOS], *written = attr[K_WRITTEN];
    const int floors = PyList_CheckExact(eta_min);
    double floor_all = 0.0;
    if (!PyList_CheckExact(base_lrs) || PyList_GET_SIZE(base_lrs) != n
        || !PyList_CheckExact(ratios) || !PyList_CheckExact(written)
        || (floors ? PyList_GET_SIZE(eta_min) != n
                   : !plain_real(eta_min, &floor_all))
        || fast_buffers(st) < 0) {
        goto not_taken;
    }

    /* As UBALR._next_lrs: current lrs, base values, floors, _stored(n),
     * and the ratios (1 each when their count is not n). */
    const int same_written = PyList_GET_SIZE(written) == n;
    const int same_ratios = PyList_GET_SIZE(ratios) == n;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *group = list_item(st->groups, i);
        PyObject *base = list_item(base_lrs, i);
        if (group == NULL || base == NULL || !PyDict_CheckExact(group)) {
            goto not_taken;
        }
        PyObject *lr = dict_get(group, k[K_LR]);
        if (lr == NULL) {
            goto not_taken;
        }
        st->lr_obj[i] = lr;
        st->group_obj[i] = Py_NewRef(group);
        st->n_lr = i + 1;
        Py_INCREF(base);
        int base_is_tensor;
        const int base_ok = lr_value(m, base, &st->base[i], &base_is_tensor,
                                     &st->called_out);
        Py_DECREF(base);
        if (!base_ok
            || !lr_value(m, lr, &st->lr_now[i], &st->is_tensor[i],
                         &st->called_out)) {
            goto not_taken;
        }
        st->eta_min[i] = floor_all;
        PyObject *floor_i = floors ? list_item(eta_min, i) : NULL;
        if (floors && (floor_i == NULL || !plain_real(floor_i,
                                                      &st->eta_min[i]))) {
            goto not_taken;
        }
        st->written[i] = NAN;
        if (same_written) {
            PyObject *w = list_item(written, i);
            if (w == NULL || (w != Py_None && !plain_real(w, &st->written[i]))) {
                goto not_taken;
            }
        }
        st->ratio[i] = 1.0;
        if (same_ratios) {
            PyObject *r = list_item(ratios, i);
            if (r == NULL || !plain_real(r, &st->ratio[i])) {
                goto not_taken;
            }
        }
    }
    /* Bookkeeping to update in place if it is not shared (commit_list). */
    st->attr[K_WITHIN_STEP] = dict_get(st->dict, k[K_WITHIN_STEP]);
    st->attr[K_LAST_LR] = dict_get(st->dict, k[K_LAST_LR]);
    if (PyErr_Occurred()) {
        goto not_taken;
    }
    if (uba_step_groups(&st->s, (double)st->epoch, (double)(st->epoch + 1),
                        (size_t)n, st->base, st->eta_min, st->lr_now,
                        st->written, st->ratio, st->lr_next) != UBA_OK) {
        goto not_taken;
    }
    return 1;

not_taken:
    PyErr_Clear();
    return 0;
}

static int
set_int(PyObject *dict, PyObject *key, long long value)
{
    PyObject *v = PyLong_FromLongLong(value);
    if (v == NULL) {
        return -1;
    }
    const int r = PyDict_SetItem(dict, key, v);
    Py_DECREF(v);
    return r;
}

/* A group's lr, for the write half (as read, if no Python code can have
 * changed it since); KeyError if it vanished meanwhile. */
static PyObject *
group_lr(StepMethod *m, fast_state *st, Py_ssize_t i, PyObject *known)
{
    if (!st->called_out) {
        return Py_NewRef(known);
    }
    PyObject *lr = dict_get(st->group_obj[i], m->keys[K_LR]);
    if (lr == NULL && !PyErr_Occurred()) {
        PyErr_SetObject(PyExc_KeyError, m->keys[K_LR]);
    }
    return lr;
}

/* isinstance(lr, torch.Tensor), cheaply for the objects the step knows:
 * the tensor it read, or an exact float (what it stores). */
static int
is_tensor_lr(StepMethod *m, fast_state *st, Py_ssize_t i, PyObject *lr)
{
    if (lr == st->lr_obj[i]) {
        return st->is_tensor[i];
    }
    if (PyFloat_CheckExact(lr) || PyLong_CheckExact(lr)) {
        return 0;
    }
    return PyObject_IsInstance(lr, m->tensor_type);
}

/*
 * The write half, in the order of LRScheduler.step and UBALR._update_lr,
 * so that an exception on the way (from fill_, item or clone) leaves the
 * state the Python path would leave.  0, or -1 with an exception set.
 */
static int
fast_write(StepMethod *m, fast_state *st)
{
    PyObject *const *k = m->keys;
    const Py_ssize_t n = st->n;
    if (set_int(st->dict, k[K_STEP_COUNT], st->count + 1) < 0
        || set_int(st->dict, k[K_LAST_EPOCH], st->epoch + 1) < 0) {
        return -1;
    }
    if (st->attr[K_WITHIN_STEP] != Py_False
        && PyDict_SetItem(st->dict, k[K_WITHIN_STEP], Py_False) < 0) {
        return -1;
    }
    /* Each group's new lr; items[i] is what _written[i] will hold. */
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *value = PyFloat_FromDouble(st->lr_next[i]);
        PyObject *lr = value != NULL ? group_lr(m, st, i, st->lr_obj[i])
                                     : NULL;
        if (lr == NULL) {
            Py_XDECREF(value);
            return -1;
        }
        const int is_tensor = is_tensor_lr(m, st, i, lr);
        PyObject *stored = NULL;
        if (is_tensor > 0) {
            PyObject *args[3] = {NULL, lr, value};
            PyObject *r = PyObject_VectorcallMethod(
                k[K_FILL], args + 1, 2 | PY_VECTORCALL_ARGUMENTS_OFFSET,
                NULL);
            st->called_out = 1;
            if (r != NULL) {
                Py_DECREF(r);
                stored = call_method0(lr, k[K_ITEM]);
            }
        }
        else if (is_tensor == 0
                 && PyDict_SetItem(st->group_obj[i], k[K_LR],
                                   value) == 0) {
            stored = Py_NewRef(value);
        }
        if (stored == NULL) {
            Py_DECREF(lr);
            Py_DECREF(value);
            return -1;
        }
        st->items[i] = stored;
        /* lr_obj[i], is_tensor[i]: what the group holds now */
        Py_SETREF(st->lr_obj[i], is_tensor > 0 ? lr : value);
        Py_DECREF(is_tensor > 0 ? value : lr);
        st->is_tensor[i] = is_tensor > 0;
    }
    /* self._ratios = ratios; self._written = written */
    for (Py_ssize_t i = 0; i < n; i++) {
        st->ratio_items[i] = PyFloat_FromDouble(st->ratio[i]);
        if (st->ratio_items[i] == NULL) {
            return -1;
        }
    }
    const int same = !st->called_out;
    if (commit_list(st->dict, k[K_RATIOS], st->attr[K_RATIOS], same,
                    st->ratio_items, n) < 0
        || commit_list(st->dict, k[K_WRITTEN], st->attr[K_WRITTEN], same,
                       st->items, n) < 0) {
        return -1;
    }
    /* self._last_lr: the lrs, tensors cloned */
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *lr = group_lr(m, st, i, st->lr_obj[i]);
        if (lr == NULL) {
            return -1;
        }
        const int is_tensor = is_tensor_lr(m, st, i, lr);
        if (is_tensor != 0) {
            PyObject *copy = is_tensor > 0 ? call_method0(lr, k[K_CLONE])
                                           : NULL;
            st->called_out = 1;
            Py_DECREF(lr);
            if (copy == NULL) {
                return -1;
            }
            lr = copy;
        }
        st->items[i] = lr;
    }
    return commit_list(st->dict, k[K_LAST_LR], st->attr[K_LAST_LR],
                       !st->called_out, st->items, n);
}

static PyObject *
step_vectorcall(PyObject *callable, PyObject *const *args, size_t nargsf,
                PyObject *kwnames)
{
    StepMethod *m = (StepMethod *)callable;
    const Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    const Py_ssize_t nkw = kwnames == NULL ? 0 : PyTuple_GET_SIZE(kwnames);
    /* step(self), step(self, None) or step(self, epoch=None) */
    int plain = nargs >= 1 && Py_IS_TYPE(args[0], (PyTypeObject *)m->cls);
    if (plain && nargs + nkw > 1) {
        plain = nargs + nkw == 2 && args[1] == Py_None
                && (nkw == 0 || PyUnicode_Compare(PyTuple_GET_ITEM(kwnames, 0),
                                                  m->keys[K_EPOCH]) == 0);
        if (PyErr_Occurred()) {
            return NULL;
        }
    }
    if (plain) {
        fast_state st;
        memset(&st, 0, offsetof(fast_state, stack_d));
        int done = fast_read(m, args[0], &st);
        if (done) {
            done = fast_write(m, &st) < 0 ? -1 : 1;
        }
        fast_release(&st);
        if (done != 0) {
            return done > 0 ? Py_NewRef(Py_None) : NULL;
        }
    }
    return PyObject_Vectorcall(m->fallback, args, nargsf, kwnames);
}

static PyObject *
step_method_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    PyObject *cls, *fallback, *tensor_type;
    if (kwargs != NULL && PyDict_GET_SIZE(kwargs) > 0) {
        PyErr_SetString(PyExc_TypeError,
                        "StepMethod() takes no keyword arguments");
        return NULL;
    }
    if (!PyArg_ParseTuple(args, "O!OO!:StepMethod", &PyType_Type, &cls,
                          &fallback, &PyType_Type, &tensor_type)) {
        return NULL;
    }
    if (!PyCallable_Check(fallback)) {
        PyErr_SetString(PyExc_TypeError, "StepMethod: fallback must be callable");
        return NULL;
    }
    StepMethod *m = (StepMethod *)type->tp_alloc(type, 0);
    if (m == NULL) {
        return NULL;
    }
    m->cls = Py_NewRef(cls);
    m->fallback = Py_NewRef(fallback);
    m->tensor_type = Py_NewRef(tensor_type);
    m->vectorcall = step_vectorcall;
    for (int i = 0; i < K_COUNT; i++) {
        m->keys[i] = PyUnicode_InternFromString(KEY_NAMES[i]);
        if (m->keys[i] == NULL) {
            Py_DECREF(m);
            return NULL;
        }
    }
    return (PyObject *)m;
}

static int
step_method_traverse(StepMethod *m, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(m));
    Py_VISIT(m->cls);
    Py_VISIT(m->fallback);
    Py_VISIT(m->tensor_type);
    return 0;
}

static int
step_method_clear(StepMethod *m)
{
    Py_CLEAR(m->cls);
    Py_CLEAR(m->fallback);
    Py_CLEAR(m->tensor_type);
    for (int i = 0; i < K_COUNT; i++) {
        Py_CLEAR(m->keys[i]);
    }
    return 0;
}

static void
step_method_dealloc(StepMethod *m)
{
    PyTypeObject *type = Py_TYPE(m);
    PyObject_GC_UnTrack(m);
    step_method_clear(m);
    type->tp_free((PyObject *)m);
    Py_DECREF(type);
}

/* sched.step (an attribute read, not a call) is a bound method, as for a
 * Python function. */
static PyObject *
step_method_get(PyObject *self, PyObject *obj, PyObject *Py_UNUSED(type))
{
    if (obj == NULL || obj == Py_None) {
        return Py_NewRef(self);
    }
    return PyMethod_New(self, obj);
}

/* __wrapped__, __doc__, __name__, __qualname__: those of the Python step,
 * so that help(), inspect.signature() and functools see LRScheduler.step.
 * (The type has no docstring of its own: __doc__ is this getter.) */
static PyObject *
step_method_wrapped(StepMethod *m, void *Py_UNUSED(closure))
{
    return Py_NewRef(m->fallback);
}

static PyObject *
step_method_fallback_attr(StepMethod *m, void *closure)
{
    return PyObject_GetAttrString(m->fallback, (const char *)closure);
}

static PyGetSetDef step_method_getset[] = {
    {"__wrapped__", (getter)step_method_wrapped, NULL,
     "The Python implementation, used whenever the fast path does not apply.",
     NULL},
    {"__doc__", (getter)step_method_fallback_attr, NULL, NULL, "__doc__"},
    {"__name__", (getter)step_method_fallback_attr, NULL, NULL, "__name__"},
    {"__qualname__", (getter)step_method_fallback_attr, NULL, NULL,
     "__qualname__"},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyMemberDef step_method_members[] = {
    {"__vectorcalloffset__", T_PYSSIZET, offsetof(StepMethod, vectorcall),
     READONLY, NULL},
    {NULL, 0, 0, 0, NULL},
};

static PyType_Slot step_method_slots[] = {
    {Py_tp_new, (void *)step_method_new},
    {Py_tp_dealloc, (void *)step_method_dealloc},
    {Py_tp_traverse, (void *)step_method_traverse},
    {Py_tp_clear, (void *)step_method_clear},
    {Py_tp_call, (void *)PyVectorcall_Call},
    {Py_tp_descr_get, (void *)step_method_get},
    {Py_tp_getset, (void *)step_method_getset},
    {Py_tp_members, (void *)step_method_members},
    {0, NULL},
};

static PyType_Spec step_method_spec = {
    .name = "uba._core.StepMethod",
    .basicsize = sizeof(StepMethod),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC
             | Py_TPFLAGS_METHOD_DESCRIPTOR | Py_TPFLAGS_HAVE_VECTORCALL
             | Py_TPFLAGS_IMMUTABLETYPE,
    .slots = step_method_slots,
};

/* ---- module --------------------------------------------------------------- */

static PyMethodDef core_methods[] = {
    {"schedule", (PyCFunction)(void (*)(void))schedule, METH_FASTCALL,
     schedule_doc},
    {"step_groups", (PyCFunction)(void (*)(void))step_groups, METH_FASTCALL,
     step_groups_doc},
    {"chebyshev_step_sizes", (PyCFunction)(void (*)(void))chebyshev_step_sizes,
     METH_FASTCALL, chebyshev_step_sizes_doc},
    {"chebyshev_log_residual",
     (PyCFunction)(void (*)(void))chebyshev_log_residual, METH_FASTCALL,
     chebyshev_log_residual_doc},
    {"phi_from_condition_number",
     (PyCFunction)(void (*)(void))phi_from_condition_number, METH_FASTCALL,
     phi_from_condition_number_doc},
    {"condition_number_from_phi",
     (PyCFunction)(void (*)(void))condition_number_from_phi, METH_FASTCALL,
     condition_number_from_phi_doc},
    {"curvature_params", (PyCFunction)(void (*)(void))curvature_params,
     METH_FASTCALL, curvature_params_doc},
    {"worst_case_residual", (PyCFunction)(void (*)(void))worst_case_residual,
     METH_FASTCALL, worst_case_residual_doc},
    {"worst_case_noisy_error",
     (PyCFunction)(void (*)(void))worst_case_noisy_error, METH_FASTCALL,
     worst_case_noisy_error_doc},
    {"bound_nonconvex", (PyCFunction)(void (*)(void))bound_nonconvex,
     METH_FASTCALL, bound_nonconvex_doc},
    {"bound_convex", (PyCFunction)(void (*)(void))bound_convex, METH_FASTCALL,
     bound_convex_doc},
    {"bound_strongly_convex",
     (PyCFunction)(void (*)(void))bound_strongly_convex, METH_FASTCALL,
     bound_strongly_convex_doc},
    {"optimal_phi", (PyCFunction)(void (*)(void))optimal_phi, METH_FASTCALL,
     optimal_phi_doc},
    {"optimal_phi_strongly_convex",
     (PyCFunction)(void (*)(void))optimal_phi_strongly_convex, METH_FASTCALL,
     optimal_phi_strongly_convex_doc},
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
    PyObject *step_type = PyType_FromModuleAndSpec(module, &step_method_spec,
                                                   NULL);
    if (step_type == NULL) {
        return -1;
    }
    const int added = PyModule_AddObjectRef(module, "StepMethod", step_type);
    Py_DECREF(step_type);
    return added;
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
