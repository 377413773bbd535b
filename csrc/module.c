/* module.c -- uba._core, the CPython/NumPy binding of the C core (the only
 * file that includes Python.h).  An adapter, like CPython's math_1: each
 * entry point converts its arguments, makes one call into the core and
 * turns a failed status into an exception in one place, raise_status(),
 * fed by the entry point's table of argument names.  Defaults, keywords
 * and docs live in the uba package. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
#define NPY_TARGET_VERSION NPY_1_23_API_VERSION
#include <numpy/arrayobject.h>
#include <numpy/npy_2_compat.h>

#include <math.h>

#include "uba.h"

/* Groups a scheduler step handles on the stack before it allocates. */
#define STACK_GROUPS 16

/* The module's state: the key under which a param group holds its lr. */
typedef struct core_state {
    PyObject *lr_key;
} core_state;

/* ---- how an entry point reports a status ------------------------------ */

/* A positional argument: its name in uba.h, which the core's statuses use
 * (uba_status_argument), and its name as the user of the entry knows it
 * ("{}" marks where an element's index goes). */
typedef struct arg_name {
    const char *core;
    const char *user;
    int count;  /* a step or budget: an integer must be exact as a double */
} arg_name;

#define SAME(name) {name, name, 0}
#define COUNT(name) {name, name, 1}

typedef struct entry {
    const char *func;
    Py_ssize_t nargs;
    const arg_name *names;  /* one per positional argument                  */
    const char *condition;  /* a bound's step-size condition, or NULL       */
} entry;

/* An element of array argument `arg` a status may be about: the first
 * offending one, its value, and the array's shape (1-D: ndim 1, dims
 * NULL).  raise_status() names it when the status blames `arg`. */
typedef struct element {
    int arg;
    size_t index;
    double value;
    int ndim;
    const npy_intp *dims;
} element;

/* The name of argument `name`, or of its element `at`: "lrs[3]", "t[1, 2]",
 * or with a "{}" slot in the name, "param_groups[3]['lr']". */
static PyObject *
argument_name(const char *name, const element *at)
{
    if (at == NULL) {
        return PyUnicode_FromString(name);
    }
    npy_intp rest = (npy_intp)at->index, index[NPY_MAXDIMS];
    for (int d = at->ndim - 1; d >= 0; d--) {  /* C order: last varies fastest */
        index[d] = d > 0 ? rest % at->dims[d] : rest;
        rest = d > 0 ? rest / at->dims[d] : 0;
    }
    char text[NPY_MAXDIMS * 24 + 80];
    const char *slot = strstr(name, "{}");
    int len = snprintf(text, sizeof text, "%.*s%s",
                       slot != NULL ? (int)(slot - name) : (int)strlen(name),
                       name, slot != NULL ? "" : "[");
    for (int d = 0; d < at->ndim; d++) {
        len += snprintf(text + len, sizeof text - (size_t)len, "%s%zd",
                        d > 0 ? ", " : "", (Py_ssize_t)index[d]);
    }
    snprintf(text + len, sizeof text - (size_t)len, "%.40s",
             slot != NULL ? slot + 2 : "]");
    return PyUnicode_FromString(text);
}

/* Whether the argument list `core` of a status ("phi", "lrs[i]",
 * "(lam_min, lam_max)") names the argument `name`. */
static int
names_argument(const char *core, const char *name)
{
    const size_t len = strlen(name);
    for (const char *at = strstr(core, name); at != NULL;
         at = strstr(at + 1, name)) {
        const char before = at == core ? ' ' : at[-1], after = at[len];
        if ((before == ' ' || before == '(')
            && (after == '\0' || after == ',' || after == ')' || after == '[')) {
            return 1;
        }
    }
    return 0;
}

/* The one place a status becomes an exception: ValueError "<argument>
 * <rule>, got <value>".  uba_status_argument says which argument(s) the
 * status is about; the entry's table, where it is and how the user names
 * it; the value is as passed (an element's as converted; a whole sequence
 * is named without it). */
static PyObject *
raise_status(const entry *e, uba_status status, PyObject *const *args,
             const element *at)
{
    if (status == UBA_E_INTERRUPTED && PyErr_Occurred()) {
        return NULL;  /* what a signal handler or the progress callback
                       * raised while the core polled (long_call) */
    }
    const char *core = uba_status_argument(status);
    const char *rule = status == UBA_E_STEP_CONDITION && e->condition != NULL
                           ? e->condition : uba_status_rule(status);
    int first = -1, second = -1;  /* the arguments it names, in order */
    for (int i = 0; i < (int)e->nargs; i++) {
        if (names_argument(core, e->names[i].core)) {
            *(first < 0 ? &first : &second) = i;
        }
    }
    if (first < 0 || (core[0] == '(') != (second >= 0)) {
        PyErr_Format(PyExc_SystemError, "uba._core.%s: %s", e->func,
                     uba_strerror(status));
        return NULL;
    }
    PyObject *name, *value;
    if (second >= 0) {
        name = PyUnicode_FromFormat("(%s, %s)", e->names[first].user,
                                    e->names[second].user);
        value = PyTuple_Pack(2, args[first], args[second]);
    }
    else {
        if (at != NULL && at->arg != first) {
            at = NULL;
        }
        name = argument_name(e->names[first].user, at);
        value = at != NULL ? PyFloat_FromDouble(at->value)
                           : Py_NewRef(args[first]);
    }
    if (name != NULL && value != NULL) {
        if (second < 0 && (PySequence_Check(value) || PyArray_Check(value))) {
            PyErr_Format(PyExc_ValueError, "%U %s", name, rule);
        }
        else {
            PyErr_Format(PyExc_ValueError, "%U %s, got %R", name, rule, value);
        }
    }
    Py_XDECREF(name);
    Py_XDECREF(value);
    return NULL;
}

/* ---- long calls: the GIL released, signals and progress polled --------- */

/* The core polls this hook about every millisecond: it takes the GIL back
 * to run Python's signal handlers (Ctrl-C raises KeyboardInterrupt there)
 * and the caller's progress callback, and stops the core if either raised. */
typedef struct long_call {
    PyThreadState *thread;  /* saved while the core runs */
    PyObject *progress;     /* NULL, None or a callable(fraction) */
    uba_progress hook;
} long_call;

static int
poll(void *ctx, double fraction)
{
    long_call *c = (long_call *)ctx;
    PyEval_RestoreThread(c->thread);
    int stop = PyErr_CheckSignals() < 0;
    if (!stop && c->progress != NULL && c->progress != Py_None) {
        PyObject *r = PyObject_CallFunction(c->progress, "d", fraction);
        stop = r == NULL;
        Py_XDECREF(r);
    }
    c->thread = PyEval_SaveThread();
    return stop;
}

/* long_call lc = LONG_CALL(lc, progress) releases the GIL; the core gets
 * &lc.hook; PyEval_RestoreThread(lc.thread) takes the GIL back. */
#define LONG_CALL(lc, progress) {PyEval_SaveThread(), progress, {poll, &lc}}

/* ---- converting arguments ----------------------------------------------- */

/* Raises `type`: "<argument> <message><value>", the argument named (with
 * its element `index` if >= 0), a type `value` by its name; returns -1. */
static int
argument_error(PyObject *type, const char *name, Py_ssize_t index,
               const char *message, PyObject *value)
{
    const element at = {0, (size_t)index, 0.0, 1, NULL};
    PyObject *text = argument_name(name, index >= 0 ? &at : NULL);
    if (text != NULL && PyType_Check(value)) {
        PyErr_Format(type, "%U %s%.200s", text, message,
                     ((PyTypeObject *)value)->tp_name);
    }
    else if (text != NULL) {
        PyErr_Format(type, "%U %s%R", text, message, value);
    }
    Py_XDECREF(text);
    return -1;
}

/* A count (a step, a budget) whose double v reached 2**53, where a double
 * holds only some integers: the exact value must be v, else ValueError.
 * An object whose __index__ refuses (a float tensor) is a real: v. */
static int
as_exact_count(PyObject *obj, const char *name, Py_ssize_t index, double v,
               double *out)
{
    PyObject *exact = PyNumber_Index(obj);
    if (exact == NULL) {
        if (!PyErr_ExceptionMatches(PyExc_TypeError)) {
            return -1;
        }
        PyErr_Clear();
        *out = v;
        return 0;
    }
    PyObject *rounded = PyLong_FromDouble(v);
    const int same = rounded == NULL
                         ? -1 : PyObject_RichCompareBool(exact, rounded, Py_EQ);
    if (same == 0) {
        argument_error(PyExc_ValueError, name, index, "must be an integer a "
                       "double holds exactly (every integer up to 2**53), "
                       "got ", exact);
    }
    Py_DECREF(exact);
    Py_XDECREF(rounded);
    *out = v;
    return same > 0 ? 0 : -1;
}

/* Reads a real number.  Python ints and floats, NumPy scalars, 0-d tensors
 * and anything with __float__ or __index__ are accepted; str, bytes,
 * complex and other objects raise TypeError naming the argument, as does
 * a TypeError or ValueError from the object's own __float__.  Any other
 * exception from it (KeyboardInterrupt, MemoryError) propagates unchanged.
 * A real too large for a double becomes +-inf, which the core then
 * refuses with its range.  For a count (a step, a budget), an integer of
 * any type that a double cannot hold exactly is refused. */
static int
as_real(PyObject *obj, const char *name, Py_ssize_t index, int count,
        double *out)
{
    if (PyFloat_CheckExact(obj)) {
        *out = PyFloat_AS_DOUBLE(obj);
        return 0;
    }
    if (PyLong_CheckExact(obj)) {  /* the other common case, fast */
        int overflow = 0;
        const long long i = PyLong_AsLongLongAndOverflow(obj, &overflow);
        if (overflow == 0 && i > -(1LL << 53) && i < (1LL << 53)) {
            *out = (double)i;
            return 0;
        }
    }
    if (PyUnicode_Check(obj) || PyBytes_Check(obj) || PyComplex_Check(obj)
        || PyArray_IsScalar(obj, ComplexFloating) || !PyNumber_Check(obj)) {
        return argument_error(PyExc_TypeError, name, index,
                              "must be a real number, got ",
                              (PyObject *)Py_TYPE(obj));
    }
    const double v = PyFloat_AsDouble(obj);
    if (v == -1.0 && PyErr_Occurred()) {
        if (PyErr_ExceptionMatches(PyExc_OverflowError)) {
            /* a huge int or Fraction: +-inf, refused by the core's range */
            PyErr_Clear();
            PyObject *zero = PyLong_FromLong(0);
            const int negative = zero == NULL ? -1
                : PyObject_RichCompareBool(obj, zero, Py_LT);
            Py_XDECREF(zero);
            *out = negative > 0 ? -(double)INFINITY : (double)INFINITY;
            return negative < 0 ? -1 : 0;
        }
        if (PyErr_ExceptionMatches(PyExc_TypeError)
            || PyErr_ExceptionMatches(PyExc_ValueError)) {
            PyErr_Clear();
            return argument_error(PyExc_TypeError, name, index,
                              "must be a real number, got ",
                              (PyObject *)Py_TYPE(obj));
        }
        return -1;  /* the caller's own __float__ failed: never swallowed */
    }
    if (count && fabs(v) >= UBA_MAX_BUDGET && PyIndex_Check(obj)) {
        return as_exact_count(obj, name, index, v, out);
    }
    *out = v;
    return 0;
}

/* Checks that the entry got its nargs arguments, and reads
 * args[first..first+count) as reals into out[0..count). */
static int
as_reals(const entry *e, PyObject *const *args, Py_ssize_t nargs, int first,
         int count, double *out)
{
    if (nargs != e->nargs) {
        PyErr_Format(PyExc_TypeError,
                     "%s() takes exactly %zd positional arguments (%zd given)",
                     e->func, e->nargs, nargs);
        return -1;
    }
    for (int i = 0; i < count; i++) {
        const arg_name *a = &e->names[first + i];
        if (as_real(args[first + i], a->user, -1, a->count, &out[i]) < 0) {
            return -1;
        }
    }
    return 0;
}

/* An array-like argument as a new C-contiguous float64 array: only bool,
 * integer and floating dtypes (TypeError otherwise); `one_d` also requires
 * a non-empty 1-D array (ValueError). */
static PyArrayObject *
as_float_array(PyObject *obj, const char *name, int one_d)
{
    const char *what = one_d ? "a 1-D sequence of real numbers"
                             : "a real number or an array of real numbers";
    PyArrayObject *any = (PyArrayObject *)PyArray_FROM_O(obj);
    if (any == NULL) {  /* numpy's own errors for ragged input: renamed */
        if (PyErr_ExceptionMatches(PyExc_ValueError)
            || PyErr_ExceptionMatches(PyExc_TypeError)) {
            PyErr_Clear();
            PyErr_Format(PyExc_ValueError, "%s must be %s", name, what);
        }
        return NULL;
    }
    const char kind = PyArray_DESCR(any)->kind;
    const char *wrong = NULL;
    PyArrayObject *out = NULL;
    if (kind != 'b' && kind != 'i' && kind != 'u' && kind != 'f') {
        PyErr_Format(PyExc_TypeError, "%s must be %s, got an array of dtype %S",
                     name, what, (PyObject *)PyArray_DESCR(any));
    }
    else if (one_d && PyArray_NDIM(any) != 1) {
        wrong = "must be a 1-D sequence of step sizes";
    }
    else if (one_d && PyArray_SIZE(any) == 0) {
        wrong = uba_status_rule(UBA_E_LRS_EMPTY);
    }
    else {
        out = (PyArrayObject *)PyArray_FROM_OTF(
            (PyObject *)any, NPY_DOUBLE,
            NPY_ARRAY_IN_ARRAY | NPY_ARRAY_FORCECAST);
    }
    if (wrong != NULL) {
        PyObject *shape = PyObject_GetAttrString((PyObject *)any, "shape");
        if (shape != NULL) {
            PyErr_Format(PyExc_ValueError, "%s %s, got an array of shape %S",
                         name, wrong, shape);
            Py_DECREF(shape);
        }
    }
    Py_DECREF(any);
    return out;
}

/* One group's value: a real, None ("unknown": NaN to the core), or, as an
 * item (index >= 0), a param group (a dict) whose lr is read (lr_key is
 * "lr").  *plain is cleared for anything but a Python float. */
static int
as_group_value(PyObject *obj, PyObject *lr_key, const char *name,
               Py_ssize_t index, double *out, int *plain)
{
    if (obj == Py_None) {
        *out = (double)NAN;
        return 0;
    }
    if (!PyDict_Check(obj) || index < 0) {
        *plain &= PyFloat_CheckExact(obj);
        return as_real(obj, name, index, 0, out);
    }
    PyObject *lr = PyDict_GetItemWithError(obj, lr_key);
    if (lr == NULL) {
        if (!PyErr_Occurred()) {
            PyErr_Format(PyExc_TypeError, "param_groups[%zd] has no 'lr'",
                         index);
        }
        return -1;
    }
    Py_INCREF(lr);  /* held: its __float__ may empty the group */
    *plain &= PyFloat_CheckExact(lr);
    const int failed = as_real(lr, name, index, 0, out);
    Py_DECREF(lr);
    return failed;
}

/* Reads a per-group argument into buf[0..n): a list or tuple of n group
 * values, or one for every group (*scalar set).  Items are read one at a
 * time, each held while it converts: its __float__ may run any code, even
 * code that empties the list, and the next item is fetched afresh. */
static int
as_group_values(PyObject *obj, PyObject *lr_key, const char *name,
                Py_ssize_t n, double *buf, int *scalar, int *plain)
{
    *scalar = !PyList_Check(obj) && !PyTuple_Check(obj);
    if (*scalar) {
        if (as_group_value(obj, lr_key, name, -1, &buf[0], plain) < 0) {
            return -1;
        }
        for (Py_ssize_t i = 1; i < n; i++) {
            buf[i] = buf[0];
        }
        return 0;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        if (PySequence_Fast_GET_SIZE(obj) != n) {
            char list[64];  /* "param_groups[{}]['lr']" -> "param_groups" */
            snprintf(list, sizeof list, "%.*s", (int)strcspn(name, "["), name);
            PyErr_Format(PyExc_ValueError, "%s must have one value per "
                         "parameter group (%zd), got %zd", list, n,
                         PySequence_Fast_GET_SIZE(obj));
            return -1;
        }
        PyObject *item = Py_NewRef(PySequence_Fast_ITEMS(obj)[i]);
        const int failed = as_group_value(item, lr_key, name, i, &buf[i],
                                          plain);
        Py_DECREF(item);
        if (failed) {
            return -1;
        }
    }
    return 0;
}

/* A list of the n values as floats, with None for NaN ("unknown"). */
static PyObject *
list_of_floats(const double *values, Py_ssize_t n)
{
    PyObject *list = PyList_New(n);
    for (Py_ssize_t i = 0; list != NULL && i < n; i++) {
        PyObject *f = isnan(values[i]) ? Py_NewRef(Py_None)
                                       : PyFloat_FromDouble(values[i]);
        if (f == NULL) {
            Py_CLEAR(list);
            break;
        }
        PyList_SET_ITEM(list, i, f);
    }
    return list;
}

/* ---- schedule ------------------------------------------------------------ */

static const arg_name schedule_names[] = {
    COUNT("t"), COUNT("T"), SAME("phi"), SAME("eta_max"), SAME("eta_min"),
    COUNT("warmup_steps"), SAME("warmup_start")};
static const entry schedule_entry = {"schedule", 7, schedule_names, NULL};

static PyObject *
schedule(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    const entry *e = &schedule_entry;
    double v[7];
    if (as_reals(e, args, nargs, 1, 6, &v[1]) < 0) {
        return NULL;
    }
    uba_params p;
    uba_status s = uba_params_init(&p, v[1], v[2], v[3], v[4], v[5], v[6]);
    if (s != UBA_OK) {
        return raise_status(e, s, args, NULL);
    }
    PyObject *t_obj = args[0];
    if (PyFloat_Check(t_obj) || PyLong_Check(t_obj)
        || PyArray_IsScalar(t_obj, Number)) {
        double eta;
        if (as_real(t_obj, "t", -1, 1, &v[0]) < 0) {
            return NULL;
        }
        s = uba_eta(&p, v[0], &eta);
        return s == UBA_OK ? PyFloat_FromDouble(eta)
                           : raise_status(e, s, args, NULL);
    }

    PyArrayObject *t = as_float_array(t_obj, "t", 0);
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
    size_t bad = 0;
    long_call lc = LONG_CALL(lc, NULL);
    s = uba_eta_fill(&p, tp, n, (double *)PyArray_DATA(out), &bad, &lc.hook);
    PyEval_RestoreThread(lc.thread);
    if (s != UBA_OK) {
        const element at = {0, bad, tp[bad], PyArray_NDIM(t), PyArray_DIMS(t)};
        raise_status(e, s, args, &at);
        Py_CLEAR(out);
    }
    Py_DECREF(t);
    return (PyObject *)out;
}

/* ---- a scheduler step ------------------------------------------------------ */

enum { G_T, G_PHI, G_WARMUP, G_FACTOR, G_T_PREV, G_T_NOW, G_BASE, G_ETA_MIN,
       G_LRS, G_WRITTEN, G_RATIOS, G_NARGS };

static const arg_name step_names[] = {
    {"T", "T_max", 1}, SAME("phi"), COUNT("warmup_steps"),
    {"warmup_start", "warmup_start_factor", 0}, {"t_prev", "last_epoch", 1},
    {"t", "last_epoch", 1}, {"eta_max", "base_lrs", 0}, SAME("eta_min"),
    {"lr_now", "param_groups[{}]['lr']", 0}, SAME("written"),
    {"ratio", "ratios", 0}};
static const entry step_entry = {"step_groups", G_NARGS, step_names, NULL};

static PyObject *
step_groups(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    const entry *e = &step_entry;
    double v[G_BASE];
    if (as_reals(e, args, nargs, 0, G_BASE, v) < 0) {
        return NULL;
    }
    const uba_group_step params = {v[G_T], v[G_PHI], v[G_WARMUP],
                                   v[G_FACTOR]};
    const Py_ssize_t n = PyObject_Length(args[G_LRS]);
    if (n < 0) {
        return NULL;
    }
    double stack[6 * STACK_GROUPS];
    double *buf = n <= STACK_GROUPS ? stack
                                    : PyMem_New(double, 6 * (size_t)n);
    if (buf == NULL) {
        return PyErr_NoMemory();
    }
    double *group[6];  /* base, eta_min, lrs, written, ratios, then lr_next */
    int scalar[5], plain[5] = {1, 1, 1, 1, 1};
    PyObject *result = NULL;
    PyObject *lr_key = ((core_state *)PyModule_GetState(module))->lr_key;
    for (int k = 0; k < 6; k++) {
        group[k] = buf + (size_t)k * (size_t)n;
    }
    for (int k = 0; k < 5; k++) {
        if (as_group_values(args[G_BASE + k], lr_key,
                            e->names[G_BASE + k].user, n, group[k],
                            &scalar[k], &plain[k]) < 0) {
            goto exit;
        }
    }
    size_t bad = 0;
    const uba_status s = uba_step_groups(&params, v[G_T_PREV], v[G_T_NOW],
                                         (size_t)n, group[0], group[1],
                                         group[2], group[3], group[4],
                                         group[5], &bad);
    if (s == UBA_OK) {
        PyObject *lrs = list_of_floats(group[5], n);
        PyObject *ratios = list_of_floats(group[4], n);
        if (lrs != NULL && ratios != NULL) {
            result = PyTuple_Pack(3, lrs, ratios, plain[G_LRS - G_BASE]
                                                      ? Py_True : Py_False);
        }
        Py_XDECREF(lrs);
        Py_XDECREF(ratios);
    }
    else {
        const int arg = s == UBA_E_ETA_MAX ? G_BASE
                      : s == UBA_E_ETA_MIN ? G_ETA_MIN : G_LRS;
        const int k = arg - G_BASE;
        const element at = {scalar[k] ? -1 : arg, bad,
                            bad < (size_t)n ? group[k][bad] : 0.0, 1, NULL};
        raise_status(e, s, args, &at);
    }
exit:
    if (buf != stack) {
        PyMem_Free(buf);
    }
    return result;
}

/* ---- theory ------------------------------------------------------------------ */

/* The theory entry points share one adapter, theory().  Each takes, in
 * this order, the step sizes lrs (if any), the budget T (if any) and
 * reals; it returns one to three floats. */
typedef struct theory_call {
    const double *lrs;  /* n step sizes                                  */
    size_t n;
    size_t T;
    double v[8];        /* the real arguments, in order                  */
    double *work;       /* a workspace of work_len doubles, or NULL      */
    size_t work_len;
    double out[3];
    size_t bad;         /* the first offending entry of lrs              */
    const uba_progress *hook;
} theory_call;

enum theory_fn {
    CHEBYSHEV_STEPS, CHEBYSHEV_LOG_RESIDUAL, CURVATURE_PARAMS,
    PHI_FROM_KAPPA, KAPPA_FROM_PHI, WORST_CASE_RESIDUAL, WORST_CASE_NOISY_ERROR, BOUND_NONCONVEX,
    BOUND_CONVEX, BOUND_STRONGLY_CONVEX, OPTIMAL_PHI,
    OPTIMAL_PHI_STRONGLY_CONVEX
};

typedef struct theory_entry {
    entry e;
    enum theory_fn fn;
    int takes_lrs, takes_T, n_out;
    int takes_progress;  /* a last argument: None or a callable(fraction) */
} theory_entry;

/* The one call into the core of each theory entry point. */
static uba_status
call_theory(enum theory_fn fn, theory_call *c)
{
    const double *v = c->v;
    double *out = c->out;
    switch (fn) {
    case CHEBYSHEV_STEPS:  /* into the workspace: the array returned */
        return uba_chebyshev_steps(c->T, v[0], v[1], c->work, c->hook);
    case CHEBYSHEV_LOG_RESIDUAL:
        return uba_chebyshev_log_residual(c->T, v[0], v[1], out);
    case CURVATURE_PARAMS:
        return uba_curvature_params(v[0], v[1], &out[0], &out[1], &out[2]);
    case PHI_FROM_KAPPA:
        return uba_phi_from_kappa(v[0], out);
    case KAPPA_FROM_PHI:
        return uba_kappa_from_phi(v[0], out);
    case WORST_CASE_RESIDUAL:
        return uba_worst_case_residual(c->lrs, c->n, v[0], v[1], c->work,
                                       c->work_len, &out[0], &out[1],
                                       &c->bad, c->hook);
    case WORST_CASE_NOISY_ERROR:
        return uba_worst_case_noisy_error(c->lrs, c->n, v[0], v[1], v[2],
                                          c->work, c->work_len, &out[0],
                                          &out[1], &c->bad, c->hook);
    case BOUND_NONCONVEX:
        return uba_bound_nonconvex(c->lrs, c->n, v[0], v[1], v[2], out,
                                   &c->bad, c->hook);
    case BOUND_CONVEX:
        return uba_bound_convex(c->lrs, c->n, v[0], v[1], v[2], out,
                                &c->bad, c->hook);
    case BOUND_STRONGLY_CONVEX:
        return uba_bound_strongly_convex(c->lrs, c->n, v[0], v[1], v[2], v[3],
                                         out, &c->bad, c->hook);
    case OPTIMAL_PHI:
        return uba_optimal_phi(c->T, v[0], v[1], v[2], v[3], v[4], v[5], v[6],
                               c->work, c->work_len, &out[0], &out[1],
                               c->hook);
    case OPTIMAL_PHI_STRONGLY_CONVEX:
        return uba_optimal_phi_strongly_convex(c->T, v[0], v[1], v[2], v[3],
                                               v[4], v[5], v[6], &out[0],
                                               &out[1], c->hook);
    }
    return UBA_E_NULL;
}

/* The workspace each call needs, in doubles (0: none). */
static size_t
theory_work_size(enum theory_fn fn, const theory_call *c)
{
    return fn == CHEBYSHEV_STEPS ? c->T
         : fn == WORST_CASE_RESIDUAL || fn == WORST_CASE_NOISY_ERROR
               ? uba_worst_case_work_size(c->n)
         : fn == OPTIMAL_PHI ? uba_optimal_phi_work_size(c->T) : 0;
}

static const arg_name curvature_names[] = {
    COUNT("T"), SAME("lam_min"), SAME("lam_max")};
static const arg_name kappa_names[] = {SAME("kappa"), SAME("phi")};
static const arg_name residual_names[] = {
    SAME("lrs"), SAME("lam_min"), SAME("lam_max"), SAME("progress")};
static const arg_name noisy_names[] = {
    SAME("lrs"), SAME("lam_min"), SAME("lam_max"), SAME("sigma2"),
    SAME("progress")};
static const arg_name nonconvex_names[] = {
    SAME("lrs"), SAME("L"), SAME("sigma2"), SAME("f_gap")};
static const arg_name convex_names[] = {
    SAME("lrs"), SAME("L"), SAME("sigma2"), SAME("dist2")};
static const arg_name strongly_convex_names[] = {
    SAME("lrs"), SAME("mu"), SAME("L"), SAME("sigma2"), SAME("f_gap")};
static const arg_name optimal_phi_names[] = {
    COUNT("T"), SAME("lam_min"), SAME("lam_max"), SAME("sigma2"),
    SAME("eta_max"), SAME("eta_min"), SAME("phi_lo"), SAME("phi_hi"),
    SAME("progress")};
static const arg_name optimal_sc_names[] = {
    COUNT("T"), SAME("mu"), SAME("L"), SAME("sigma2"), SAME("f_gap"),
    SAME("eta_max"), SAME("phi_lo"), SAME("phi_hi"), SAME("progress")};

#define THEORY(func, nargs, names, condition, fn, lrs, T, n_out, progress)  \
    static const theory_entry fn##_ENTRY = {                                 \
        {func, nargs, names, condition}, fn, lrs, T, n_out, progress}

THEORY("chebyshev_step_sizes", 3, curvature_names, NULL, CHEBYSHEV_STEPS, 0,
       1, 0, 0);
THEORY("chebyshev_log_residual", 3, curvature_names, NULL,
       CHEBYSHEV_LOG_RESIDUAL, 0, 1, 1, 0);
THEORY("curvature_params", 2, curvature_names + 1, NULL, CURVATURE_PARAMS, 0,
       0, 3, 0);
THEORY("phi_from_condition_number", 1, kappa_names, NULL, PHI_FROM_KAPPA, 0,
       0, 1, 0);
THEORY("condition_number_from_phi", 1, kappa_names + 1, NULL, KAPPA_FROM_PHI,
       0, 0, 1, 0);
THEORY("worst_case_residual", 4, residual_names, NULL, WORST_CASE_RESIDUAL, 1,
       0, 2, 1);
THEORY("worst_case_noisy_error", 5, noisy_names, NULL,
       WORST_CASE_NOISY_ERROR, 1, 0, 2, 1);
THEORY("bound_nonconvex", 4, nonconvex_names,
       "must meet bound (a)'s step-size condition 0 <= eta_t <= 1/L",
       BOUND_NONCONVEX, 1, 0, 1, 0);
THEORY("bound_convex", 4, convex_names,
       "must meet bound (b)'s step-size condition 0 <= eta_t <= 1/(2L)",
       BOUND_CONVEX, 1, 0, 1, 0);
THEORY("bound_strongly_convex", 5, strongly_convex_names,
       "must meet bound (c)'s step-size condition 0 <= eta_t <= 1/L",
       BOUND_STRONGLY_CONVEX, 1, 0, 1, 0);
THEORY("optimal_phi", 9, optimal_phi_names, NULL, OPTIMAL_PHI, 0, 1, 2, 1);
THEORY("optimal_phi_strongly_convex", 9, optimal_sc_names, NULL,
       OPTIMAL_PHI_STRONGLY_CONVEX, 0, 1, 2, 1);

/* The one body of the theory entry points: converts the arguments, makes
 * the entry's call (a long_call, given the progress argument if any),
 * returns its results or raises for its status.  A workspace (or the
 * array of Chebyshev steps) is allocated only once the call, made without
 * one, got past every check of its arguments (UBA_E_NULL): a bad argument
 * gives its ValueError, not a MemoryError for a huge T. */
static PyObject *
theory(const theory_entry *te, PyObject *const *args, Py_ssize_t nargs)
{
    const entry *e = &te->e;
    theory_call c = {0};
    PyArrayObject *lrs = NULL;
    const int first = te->takes_lrs + te->takes_T;
    double T = 1.0;  /* a budget sizes buffers: an integer in [1, 2**53] */
    if (as_reals(e, args, nargs, first,
                 (int)e->nargs - first - te->takes_progress, c.v) < 0
        || (te->takes_T && as_real(args[0], "T", -1, 1, &T) < 0)) {
        return NULL;
    }
    if (!(T >= 1.0 && T <= UBA_MAX_BUDGET && floor(T) == T)) {
        return raise_status(e, UBA_E_T, args, NULL);
    }
    c.T = (size_t)T;
    if (te->takes_lrs) {
        if ((lrs = as_float_array(args[0], "lrs", 1)) == NULL) {
            return NULL;
        }
        c.lrs = (const double *)PyArray_DATA(lrs);
        c.n = (size_t)PyArray_SIZE(lrs);
    }
    const size_t work_len = theory_work_size(te->fn, &c);
    PyObject *array = NULL, *result = NULL;  /* the workspace, an array */
    uba_status s = work_len == 0 ? UBA_E_NULL : call_theory(te->fn, &c);
    if (s == UBA_E_NULL && work_len > 0) {
        npy_intp dim = (npy_intp)work_len;
        array = work_len > (size_t)NPY_MAX_INTP / sizeof(double)
                    ? PyErr_NoMemory()
                    : PyArray_SimpleNew(1, &dim, NPY_DOUBLE);
        if (array == NULL) {
            Py_XDECREF(lrs);
            return NULL;
        }
        c.work = (double *)PyArray_DATA((PyArrayObject *)array);
        c.work_len = work_len;
    }
    if (s == UBA_E_NULL) {
        long_call lc = LONG_CALL(lc, te->takes_progress ? args[nargs - 1]
                                                        : NULL);
        c.hook = &lc.hook;
        s = call_theory(te->fn, &c);
        PyEval_RestoreThread(lc.thread);
    }
    if (s != UBA_OK) {
        const int about_entry = strchr(uba_status_argument(s), '[') != NULL;
        const element at = {0, c.bad, c.bad < c.n ? c.lrs[c.bad] : 0.0, 1,
                            NULL};
        raise_status(e, s, args, about_entry ? &at : NULL);
        Py_CLEAR(array);
    }
    else if (te->n_out == 0) {
        result = Py_NewRef(array);
    }
    else if (te->n_out == 1) {
        result = PyFloat_FromDouble(c.out[0]);
    }
    else {
        result = te->n_out == 2 ? Py_BuildValue("(dd)", c.out[0], c.out[1])
                                : Py_BuildValue("(ddd)", c.out[0], c.out[1],
                                                c.out[2]);
    }
    Py_XDECREF(array);
    Py_XDECREF(lrs);
    return result;
}

#define THEORY_ENTRY(name, fn)                                              \
    static PyObject *name(PyObject *Py_UNUSED(module),                      \
                          PyObject *const *args, Py_ssize_t nargs)          \
    {                                                                       \
        return theory(&fn##_ENTRY, args, nargs);                            \
    }

THEORY_ENTRY(chebyshev_step_sizes, CHEBYSHEV_STEPS)
THEORY_ENTRY(chebyshev_log_residual, CHEBYSHEV_LOG_RESIDUAL)
THEORY_ENTRY(curvature_params, CURVATURE_PARAMS)
THEORY_ENTRY(phi_from_condition_number, PHI_FROM_KAPPA)
THEORY_ENTRY(condition_number_from_phi, KAPPA_FROM_PHI)
THEORY_ENTRY(worst_case_residual, WORST_CASE_RESIDUAL)
THEORY_ENTRY(worst_case_noisy_error, WORST_CASE_NOISY_ERROR)
THEORY_ENTRY(bound_nonconvex, BOUND_NONCONVEX)
THEORY_ENTRY(bound_convex, BOUND_CONVEX)
THEORY_ENTRY(bound_strongly_convex, BOUND_STRONGLY_CONVEX)
THEORY_ENTRY(optimal_phi, OPTIMAL_PHI)
THEORY_ENTRY(optimal_phi_strongly_convex, OPTIMAL_PHI_STRONGLY_CONVEX)

/* ---- the noisy quadratic over a spectrum ----------------------------------- */

/* expected_loss and choose_phi take a spectrum as four arguments in a row:
 * eigenvalues (1-D), weights (None, a real or 1-D), start and noise (a real
 * or 1-D), each converted to a float64 array the core reads in place. */
enum { SP_EIGENVALUES, SP_WEIGHTS, SP_START, SP_NOISE, SP_COUNT };

typedef struct spectrum_args {
    PyArrayObject *arrays[SP_COUNT];  /* weights: NULL for None */
    uba_spectrum sp;
} spectrum_args;

static void
spectrum_release(spectrum_args *sa)
{
    for (int i = 0; i < SP_COUNT; i++) {
        Py_CLEAR(sa->arrays[i]);
    }
}

/* Reads args[0..SP_COUNT) into sa (released by the caller, also on
 * failure); the core checks lengths and values. */
static int
as_spectrum(const entry *e, PyObject *const *args, int first,
            spectrum_args *sa)
{
    const size_t *counts[SP_COUNT] = {&sa->sp.n, &sa->sp.n_weights,
                                      &sa->sp.n_start, &sa->sp.n_noise};
    const double **data[SP_COUNT] = {&sa->sp.eigenvalues, &sa->sp.weights,
                                     &sa->sp.start, &sa->sp.noise};
    for (int i = 0; i < SP_COUNT; i++) {
        PyObject *obj = args[first + i];
        const char *name = e->names[first + i].user;
        if (i == SP_WEIGHTS && obj == Py_None) {
            continue;
        }
        PyArrayObject *a = as_float_array(obj, name, 0);
        if (a == NULL) {
            return -1;
        }
        sa->arrays[i] = a;
        const int ndim = PyArray_NDIM(a);
        if (ndim > 1 || (i == SP_EIGENVALUES && ndim != 1)) {
            PyObject *shape = PyObject_GetAttrString((PyObject *)a, "shape");
            if (shape != NULL) {
                PyErr_Format(PyExc_ValueError, "%s must be %s, got an array "
                             "of shape %S", name, i == SP_EIGENVALUES
                             ? "a 1-D sequence of real numbers"
                             : "a real number or a 1-D sequence of real "
                               "numbers", shape);
                Py_DECREF(shape);
            }
            return -1;
        }
        *(size_t *)counts[i] = (size_t)PyArray_SIZE(a);
        *data[i] = (const double *)PyArray_DATA(a);
    }
    return 0;
}

/* Raises for a failed spectrum call: an entry of an array named with its
 * index and value (a scalar as passed), a bad peak with the object as
 * passed (a real or a pair). */
static PyObject *
raise_spectrum_status(const entry *e, uba_status s, PyObject *const *args,
                      int first, const spectrum_args *sa,
                      const double *lrs, size_t n, size_t bad)
{
    const int k = s == UBA_E_EIGENVALUES ? SP_EIGENVALUES
                : s == UBA_E_WEIGHTS ? SP_WEIGHTS
                : s == UBA_E_START ? SP_START
                : s == UBA_E_NOISE ? SP_NOISE : -1;
    if (k >= 0 && sa->arrays[k] != NULL && PyArray_NDIM(sa->arrays[k]) == 1) {
        const element at = {first + k, bad,
                            ((const double *)PyArray_DATA(sa->arrays[k]))[bad],
                            1, NULL};
        return raise_status(e, s, args, &at);
    }
    if ((s == UBA_E_LRS || s == UBA_E_LRS_RANGE) && lrs != NULL && bad < n) {
        const element at = {0, bad, lrs[bad], 1, NULL};
        return raise_status(e, s, args, &at);
    }
    for (int i = 0; s == UBA_E_PEAK && i < (int)e->nargs; i++) {
        if (strcmp(e->names[i].core, uba_status_argument(s)) == 0) {
            PyErr_Format(PyExc_ValueError, "%s %s, got %R", e->names[i].user,
                         uba_status_rule(s), args[i]);
            return NULL;
        }
    }
    return raise_status(e, s, args, NULL);
}

/* A workspace of `len` doubles, or NULL with MemoryError. */
static double *
new_workspace(size_t len)
{
    if (len > (size_t)PY_SSIZE_T_MAX / sizeof(double)) {
        PyErr_NoMemory();
        return NULL;
    }
    double *work = PyMem_New(double, len);
    if (work == NULL) {
        PyErr_NoMemory();
    }
    return work;
}

static const arg_name expected_loss_names[] = {
    SAME("lrs"), SAME("eigenvalues"), SAME("weights"), SAME("start"),
    SAME("noise"), SAME("progress")};
static const entry expected_loss_entry = {"expected_loss", 6,
                                          expected_loss_names, NULL};

/* (loss, stability): uba_expected_loss, the workspace allocated once the
 * arguments passed its checks. */
static PyObject *
expected_loss(PyObject *Py_UNUSED(module), PyObject *const *args,
              Py_ssize_t nargs)
{
    const entry *e = &expected_loss_entry;
    if (nargs != e->nargs) {
        PyErr_Format(PyExc_TypeError,
                     "%s() takes exactly %zd positional arguments (%zd given)",
                     e->func, e->nargs, nargs);
        return NULL;
    }
    PyArrayObject *lrs = as_float_array(args[0], "lrs", 1);
    spectrum_args sa = {{NULL}, {0}};
    PyObject *result = NULL;
    double *work = NULL;
    if (lrs == NULL || as_spectrum(e, args, 1, &sa) < 0) {
        goto exit;
    }
    const double *steps = (const double *)PyArray_DATA(lrs);
    const size_t n = (size_t)PyArray_SIZE(lrs);
    double loss = 0.0, stability = 0.0;
    size_t bad = 0;
    uba_status s = uba_expected_loss(steps, n, &sa.sp, NULL, 0, &loss,
                                     &stability, &bad, NULL);
    if (s == UBA_E_NULL) {
        const size_t len = uba_expected_loss_work_size(n);
        if ((work = new_workspace(len)) == NULL) {
            goto exit;
        }
        long_call lc = LONG_CALL(lc, args[nargs - 1]);
        s = uba_expected_loss(steps, n, &sa.sp, work, len, &loss, &stability,
                              &bad, &lc.hook);
        PyEval_RestoreThread(lc.thread);
    }
    if (s != UBA_OK) {
        raise_spectrum_status(e, s, args, 1, &sa, steps, n, bad);
    }
    else {
        result = Py_BuildValue("(dd)", loss, stability);
    }
exit:
    PyMem_Free(work);
    spectrum_release(&sa);
    Py_XDECREF(lrs);
    return result;
}

static const arg_name choose_phi_names[] = {
    COUNT("T"), SAME("eigenvalues"), SAME("weights"), SAME("start"),
    SAME("noise"), SAME("eta_max"), SAME("eta_min"), SAME("phi_lo"),
    SAME("phi_hi"), SAME("progress")};
static const entry choose_phi_entry = {"choose_phi", 10, choose_phi_names,
                                       NULL};

/* The peak: a real (fixed) or a pair (lo, hi) (a range). */
static int
as_peak(PyObject *obj, double *lo, double *hi)
{
    if (PyTuple_Check(obj) || PyList_Check(obj)) {
        if (PySequence_Fast_GET_SIZE(obj) != 2) {
            return argument_error(PyExc_TypeError, "eta_max", -1, "must be a "
                                  "real number or a pair (lo, hi), got ", obj);
        }
        PyObject *a = Py_NewRef(PySequence_Fast_ITEMS(obj)[0]);
        PyObject *b = Py_NewRef(PySequence_Fast_ITEMS(obj)[1]);
        const int failed = as_real(a, "eta_max[0]", -1, 0, lo) < 0
                           || as_real(b, "eta_max[1]", -1, 0, hi) < 0;
        Py_DECREF(a);
        Py_DECREF(b);
        return failed ? -1 : 0;
    }
    if (as_real(obj, "eta_max", -1, 0, lo) < 0) {
        return -1;
    }
    *hi = *lo;
    return 0;
}

/* (phi, eta_max, loss, loss_default, loss_cosine, initial_loss, flat_lo,
 * flat_hi, phi_at_end, peak_at_end, eta_lo, eta_hi, lam_max, evaluations):
 * uba_choose_phi's result. */
static PyObject *
choose_phi(PyObject *Py_UNUSED(module), PyObject *const *args,
           Py_ssize_t nargs)
{
    const entry *e = &choose_phi_entry;
    double v[3], T = 1.0, lo = 0.0, hi = 0.0;
    if (as_reals(e, args, nargs, 6, 3, v) < 0
        || as_real(args[0], "T", -1, 1, &T) < 0) {
        return NULL;
    }
    if (!(T >= 1.0 && T <= UBA_MAX_BUDGET && floor(T) == T)) {
        return raise_status(e, UBA_E_T, args, NULL);
    }
    if (as_peak(args[5], &lo, &hi) < 0) {
        return NULL;
    }
    spectrum_args sa = {{NULL}, {0}};
    PyObject *result = NULL;
    double *work = NULL;
    if (as_spectrum(e, args, 1, &sa) < 0) {
        goto exit;
    }
    uba_phi_choice c;
    size_t bad = 0;
    uba_status s = uba_choose_phi((size_t)T, &sa.sp, lo, hi, v[0], v[1], v[2],
                                  NULL, 0, &c, &bad, NULL);
    if (s == UBA_E_NULL) {
        const size_t len = uba_choose_phi_work_size((size_t)T);
        if ((work = new_workspace(len)) == NULL) {
            goto exit;
        }
        long_call lc = LONG_CALL(lc, args[nargs - 1]);
        s = uba_choose_phi((size_t)T, &sa.sp, lo, hi, v[0], v[1], v[2], work,
                           len, &c, &bad, &lc.hook);
        PyEval_RestoreThread(lc.thread);
    }
    if (s != UBA_OK) {
        raise_spectrum_status(e, s, args, 1, &sa, NULL, 0, bad);
    }
    else {
        result = Py_BuildValue("(ddddddddiidddd)", c.phi, c.eta_max, c.loss,
                               c.loss_default, c.loss_cosine, c.initial_loss,
                               c.flat_lo, c.flat_hi, c.phi_at_end,
                               c.peak_at_end, c.eta_lo, c.eta_hi, c.lam_max,
                               c.evaluations);
    }
exit:
    PyMem_Free(work);
    spectrum_release(&sa);
    return result;
}

/* ---- the module ------------------------------------------------------------ */

/* Each docstring is a signature line, for inspect.signature; the docs
 * users read live in the uba package. */
#define FASTCALL(name, signature)                                           \
    {#name, (PyCFunction)(void (*)(void))name, METH_FASTCALL,                \
     #name "($module, " signature ", /)\n--\n\nSee the uba package."}

static PyMethodDef core_methods[] = {
    FASTCALL(schedule, "t, T, phi, eta_max, eta_min, warmup_steps, "
                       "warmup_start"),
    FASTCALL(step_groups, "T_max, phi, warmup_steps, warmup_start_factor, "
                          "t_prev, t, base_lrs, eta_min, lrs, written, ratios"),
    FASTCALL(chebyshev_step_sizes, "T, lam_min, lam_max"),
    FASTCALL(chebyshev_log_residual, "T, lam_min, lam_max"),
    FASTCALL(curvature_params, "lam_min, lam_max"),
    FASTCALL(phi_from_condition_number, "kappa"),
    FASTCALL(condition_number_from_phi, "phi"),
    FASTCALL(worst_case_residual, "lrs, lam_min, lam_max, progress"),
    FASTCALL(worst_case_noisy_error, "lrs, lam_min, lam_max, sigma2, "
                                     "progress"),
    FASTCALL(bound_nonconvex, "lrs, L, sigma2, f_gap"),
    FASTCALL(bound_convex, "lrs, L, sigma2, dist2"),
    FASTCALL(bound_strongly_convex, "lrs, mu, L, sigma2, f_gap"),
    FASTCALL(optimal_phi, "T, lam_min, lam_max, sigma2, eta_max, eta_min, "
                          "phi_lo, phi_hi, progress"),
    FASTCALL(optimal_phi_strongly_convex, "T, mu, L, sigma2, f_gap, eta_max, "
                                          "phi_lo, phi_hi, progress"),
    FASTCALL(expected_loss, "lrs, eigenvalues, weights, start, noise, "
                            "progress"),
    FASTCALL(choose_phi, "T, eigenvalues, weights, start, noise, eta_max, "
                         "eta_min, phi_lo, phi_hi, progress"),
    {NULL, NULL, 0, NULL},
};

/* Multi-phase init (PEP 489).  The core is stateless; the module's state
 * is the interned key "lr".  The exec slot also imports NumPy's C API and
 * publishes the C library's version. */
static int
core_exec(PyObject *module)
{
    core_state *state = PyModule_GetState(module);
    if (PyArray_ImportNumPyAPI() < 0
        || (state->lr_key = PyUnicode_InternFromString("lr")) == NULL) {
        return -1;
    }
    return PyModule_AddStringConstant(module, "c_version", uba_version());
}

static void
core_free(void *module)
{
    Py_CLEAR(((core_state *)PyModule_GetState(module))->lr_key);
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
    .m_doc = "C core of uba: the UBA schedule, a scheduler step, the theory.",
    .m_size = sizeof(core_state),
    .m_methods = core_methods,
    .m_slots = core_slots,
    .m_free = core_free,
};

PyMODINIT_FUNC PyInit__core(void);

PyMODINIT_FUNC
PyInit__core(void)
{
    return PyModuleDef_Init(&core_module);
}
