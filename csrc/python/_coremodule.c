/*
 * _coremodule.c -- uba._core, the CPython/NumPy binding of the C core.
 *
 * The only C file that includes Python.h: the core (the .c files of csrc)
 * is pure C11, built and tested without Python.  This file is an adapter, as
 * CPython's math module is one: each entry point converts its arguments,
 * makes one call into the core, and turns a failed status into an
 * exception in one place, raise_status().  The core says which argument a
 * status is about by id (uba_status_blame); the entry point's table of
 * parameters says where the user passed that argument and what the user
 * calls it.  Defaults, keywords and the docs users read live in the uba
 * package.
 *
 * Sections: the module's state; how a status becomes an exception;
 * converting arguments; long calls; the entry points (schedule, the
 * scheduler's StepParams and step_groups, the theory); the module.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
#define NPY_TARGET_VERSION NPY_1_23_API_VERSION
#include <numpy/arrayobject.h>
#include <numpy/npy_2_compat.h>

#include <math.h>
#include <stdbool.h>

#include "uba.h"

/* Groups a scheduler step handles on the stack before it allocates. */
#define STACK_GROUPS 16

/* ---- the module's state -------------------------------------------------- */

typedef struct core_state {
    PyObject *lr_key;              /* "lr", interned: a param group's key */
    PyTypeObject *step_params;     /* the StepParams type                 */
} core_state;

static core_state *
get_state(PyObject *module)
{
    return (core_state *)PyModule_GetState(module);
}

/* ---- how an entry point reports a status ---------------------------------- */

/* How a positional parameter is read. */
typedef enum param_kind {
    REAL,      /* a real number                                             */
    COUNT,     /* a real that counts steps (t, T): an integer of any type
                * must be one a double holds exactly                        */
    INTEGER,   /* a count the user gives as an integer: a bool is refused   */
    ARRAY,     /* real numbers: an array, a sequence (or one for all)       */
    VALUES,    /* one real for all, or a 1-D sequence (a spectrum's)        */
    PAIR,      /* two reals, (lo, hi)                                       */
    PEAK,      /* a real (fixed), or two reals (lo, hi) (a range)           */
    OTHER,     /* read by the entry point itself (a callable, StepParams)   */
} param_kind;

/* A positional parameter: its name as the user of the entry point knows it
 * ("{}" marks where an element's index goes), the core's id of the
 * argument it is (two for a pair), and how it is read. */
typedef struct param {
    const char *name;
    uba_arg arg;
    uba_arg arg2;
    param_kind kind;
} param;

/* An entry point: its parameters, and a rule it words its own way
 * (a bound's step-size condition, a range in the user's names). */
typedef struct entry {
    const char *name;
    Py_ssize_t nargs;
    const param *params;
    uba_status reworded;   /* UBA_OK: none */
    const char *rule;
} entry;

/* The parameter that carries the core's argument `arg`, or -1. */
static int
param_of(const entry *e, uba_arg arg)
{
    for (int i = 0; arg != UBA_ARG_NONE && i < (int)e->nargs; i++) {
        if (e->params[i].arg == arg || e->params[i].arg2 == arg) {
            return i;
        }
    }
    return -1;
}

/* An element of array parameter `param` a status is about: its flat index
 * and value, and the array's shape (1-D: ndim 1, dims NULL). */
typedef struct element {
    int param;
    size_t index;
    double value;
    int ndim;
    const npy_intp *dims;
} element;

/* The name of parameter `name`, or of its element `at`: "lrs[3]",
 * "t[1, 2]", or with a "{}" slot in the name, "param_groups[3]['lr']". */
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
    const char *slot = strchr(name, '{');  /* the table's "{}", if any */
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

/* A value as a message shows it: its repr, except that an integer of more
 * than SHOWN_INT digits shows its first 20 and last 10 ("1000...0000 (401
 * digits)"), any other repr longer than SHOWN_MAX characters its first 60
 * and last 10, and an integer too long for a str at all its size.  (The
 * same rule as uba._checks.shown.) */
#define SHOWN_INT 40
#define SHOWN_MAX 80

static PyObject *
shown(PyObject *value)
{
    PyObject *text = PyObject_Repr(value);
    if (text == NULL) {
        if (!PyLong_Check(value) || !PyErr_ExceptionMatches(PyExc_ValueError)) {
            return NULL;
        }
        PyErr_Clear();  /* beyond sys.get_int_max_str_digits() */
        PyObject *bits = PyObject_CallMethod(value, "bit_length", NULL);
        const double n = bits != NULL ? PyLong_AsDouble(bits) : -1.0;
        Py_XDECREF(bits);
        return n < 0.0 ? NULL : PyUnicode_FromFormat(
            "an integer of about %zd digits", (Py_ssize_t)(n * 0.30103) + 1);
    }
    const Py_ssize_t len = PyUnicode_GET_LENGTH(text);
    const int is_int = PyLong_Check(value) && !PyBool_Check(value);
    const Py_ssize_t head = is_int ? 20 + (PyUnicode_READ_CHAR(text, 0) == '-')
                                   : 60;
    if (len <= (is_int ? SHOWN_INT : SHOWN_MAX)) {
        return text;
    }
    PyObject *first = PyUnicode_Substring(text, 0, head);
    PyObject *last = PyUnicode_Substring(text, len - 10, len);
    PyObject *out = first == NULL || last == NULL ? NULL
        : is_int ? PyUnicode_FromFormat("%U...%U (%zd digits)", first, last,
                                        len - head + 20)
                 : PyUnicode_FromFormat("%U...%U", first, last);
    Py_XDECREF(first);
    Py_XDECREF(last);
    Py_DECREF(text);
    return out;
}

/* The one place a status becomes an exception: ValueError "<argument>
 * <rule>, got <value>".  The core says which argument(s) the status is
 * about; the entry's table, which parameter holds it and its name; the
 * value is as passed (an element's as converted; a whole sequence is named
 * without it).  A status the table cannot place is a bug: SystemError. */
static PyObject *
raise_status(const entry *e, uba_status status, PyObject *const *args,
             const element *at)
{
    if (status == UBA_E_INTERRUPTED && PyErr_Occurred()) {
        return NULL;  /* what a signal handler or the progress callback
                       * raised while the core polled (long_call) */
    }
    const uba_blame blame = uba_status_blame(status);
    const int first = param_of(e, blame.arg);
    const int second = blame.pair == UBA_ARG_NONE ? first
                                                  : param_of(e, blame.pair);
    if (first < 0 || second < 0) {
        PyErr_Format(PyExc_SystemError, "uba._core.%s: %s", e->name,
                     uba_strerror(status));
        return NULL;
    }
    const char *rule = status == e->reworded ? e->rule
                                             : uba_status_rule(status);
    PyObject *name, *value = NULL;
    bool show = true;  /* the value, after "got" */
    if (second != first) {  /* two parameters: "(lam_min, lam_max)" */
        PyObject *a = shown(args[first]);
        PyObject *b = a != NULL ? shown(args[second]) : NULL;
        name = PyUnicode_FromFormat("(%s, %s)", e->params[first].name,
                                    e->params[second].name);
        value = b != NULL ? PyUnicode_FromFormat("(%U, %U)", a, b) : NULL;
        Py_XDECREF(a);
        Py_XDECREF(b);
    }
    else {
        if (at != NULL && at->param != first) {
            at = NULL;
        }
        name = argument_name(e->params[first].name, at);
        /* a whole sequence is named without its values; a pair held in
         * one parameter (phi_range, a peak's range) is shown */
        PyObject *v = args[first];
        const param_kind kind = e->params[first].kind;
        show = at != NULL || kind == PAIR || kind == PEAK
               || !(PySequence_Check(v) || PyArray_Check(v));
        if (show) {
            PyObject *number = at != NULL ? PyFloat_FromDouble(at->value)
                                          : Py_NewRef(v);
            value = number != NULL ? shown(number) : NULL;
            Py_XDECREF(number);
        }
    }
    if (name != NULL && !show) {
        PyErr_Format(PyExc_ValueError, "%U %s", name, rule);
    }
    else if (name != NULL && value != NULL) {
        PyErr_Format(PyExc_ValueError, "%U %s, got %U", name, rule, value);
    }
    Py_XDECREF(name);
    Py_XDECREF(value);
    return NULL;
}

/* ---- converting arguments --------------------------------------------------- */

/* Raises `type`: "<argument> <message><what>", the argument named (with
 * its element `index` if >= 0); `what` is a type (shown by its name) or a
 * value (shown as shown() shows it).  Returns -1. */
static int
argument_error(PyObject *type, const char *name, Py_ssize_t index,
               const char *message, PyObject *what)
{
    const element at = {0, (size_t)index, 0.0, 1, NULL};
    PyObject *text = argument_name(name, index >= 0 ? &at : NULL);
    PyObject *value = text == NULL || PyType_Check(what) ? NULL
                                                         : shown(what);
    if (text != NULL && PyType_Check(what)) {
        PyErr_Format(type, "%U %s%.200s", text, message,
                     ((PyTypeObject *)what)->tp_name);
    }
    else if (value != NULL) {
        PyErr_Format(type, "%U %s%U", text, message, value);
    }
    Py_XDECREF(text);
    Py_XDECREF(value);
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

/* A real whose __float__ overflowed (a huge int, a Fraction): +-inf by its
 * sign, which the core then refuses with its range; an object that cannot
 * say its sign either is named as too large. */
static int
overflowed_real(PyObject *obj, const char *name, Py_ssize_t index,
                double *out)
{
    PyObject *zero = PyLong_FromLong(0);
    const int negative = zero == NULL ? -1
        : PyObject_RichCompareBool(obj, zero, Py_LT);
    Py_XDECREF(zero);
    if (negative < 0) {
        if (!PyErr_ExceptionMatches(PyExc_TypeError)) {
            return -1;
        }
        PyErr_Clear();
        return argument_error(PyExc_ValueError, name, index, "must be a real "
                              "number a double can hold, got ", obj);
    }
    *out = negative ? -(double)INFINITY : (double)INFINITY;
    return 0;
}

/* Reads a real number.  Python ints and floats, NumPy scalars, 0-d tensors
 * and anything with __float__ or __index__ are accepted; str, bytes,
 * complex and other objects raise TypeError naming the argument, as does
 * a TypeError or ValueError from the object's own __float__.  Any other
 * exception from it (KeyboardInterrupt, MemoryError) propagates unchanged.
 * A real too large for a double becomes +-inf, which the core then
 * refuses with its range.  For a count, an integer of any type that a
 * double cannot hold exactly is refused; for an INTEGER, a bool too. */
static int
as_real(PyObject *obj, const char *name, Py_ssize_t index, param_kind kind,
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
    if (kind == INTEGER && PyBool_Check(obj)) {
        return argument_error(PyExc_TypeError, name, index,
                              "must be an integer, got ",
                              (PyObject *)Py_TYPE(obj));
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
            PyErr_Clear();
            return overflowed_real(obj, name, index, out);
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
    if (kind != REAL && fabs(v) >= UBA_MAX_BUDGET && PyIndex_Check(obj)) {
        return as_exact_count(obj, name, index, v, out);
    }
    *out = v;
    return 0;
}

/* Reads parameter i of entry e as a real. */
static int
as_param(const entry *e, PyObject *const *args, int i, double *out)
{
    return as_real(args[i], e->params[i].name, -1, e->params[i].kind, out);
}

/* Checks that the entry got its nargs arguments. */
static int
check_nargs(const entry *e, Py_ssize_t nargs)
{
    if (nargs != e->nargs) {
        PyErr_Format(PyExc_TypeError,
                     "%s() takes exactly %zd positional arguments (%zd given)",
                     e->name, e->nargs, nargs);
        return -1;
    }
    return 0;
}

/* A pair of reals, such as phi_range = (phi_lo, phi_hi): a sequence of two
 * (TypeError otherwise, naming the pair as the core names its parts), each
 * read as a real named "<name>[0]", "<name>[1]". */
static int
as_pair(PyObject *obj, const param *p, double *out)
{
    PyObject *items = PySequence_Check(obj) && !PyUnicode_Check(obj)
                          ? PySequence_Tuple(obj) : NULL;
    if (items == NULL || PyTuple_GET_SIZE(items) != 2) {
        if (items == NULL && PyErr_Occurred()
            && !PyErr_ExceptionMatches(PyExc_TypeError)) {
            return -1;
        }
        PyErr_Clear();
        Py_XDECREF(items);
        PyObject *value = shown(obj);
        if (value != NULL) {
            PyErr_Format(PyExc_TypeError, "%s must be a pair (%s, %s), got %U",
                         p->name, uba_arg_name(p->arg), uba_arg_name(p->arg2),
                         value);
            Py_DECREF(value);
        }
        return -1;
    }
    int failed = 0;
    for (Py_ssize_t k = 0; k < 2 && !failed; k++) {
        failed = as_real(PyTuple_GET_ITEM(items, k), p->name, k, REAL,
                         &out[k]) < 0;
    }
    Py_DECREF(items);
    return failed ? -1 : 0;
}

/* A peak (PEAK): a real, fixed (out[0] = out[1]), or a pair (lo, hi) as a
 * tuple or list, a range to search; TypeError otherwise, each item named
 * "<name>[0]", "<name>[1]". */
static int
as_peak(PyObject *obj, const param *p, double *out)
{
    if (!PyTuple_Check(obj) && !PyList_Check(obj)) {
        if (as_real(obj, p->name, -1, REAL, &out[0]) < 0) {
            return -1;
        }
        out[1] = out[0];
        return 0;
    }
    PyObject *items = PySequence_Tuple(obj);  /* held: a list may change */
    if (items == NULL) {
        return -1;
    }
    int failed = PyTuple_GET_SIZE(items) != 2;
    if (failed) {
        argument_error(PyExc_TypeError, p->name, -1, "must be a real number "
                       "or a pair (lo, hi), got ", obj);
    }
    for (Py_ssize_t k = 0; k < 2 && !failed; k++) {
        failed = as_real(PyTuple_GET_ITEM(items, k), p->name, k, REAL,
                         &out[k]) < 0;
    }
    Py_DECREF(items);
    return failed ? -1 : 0;
}

/* The shapes an array argument may have. */
typedef enum array_shape {
    ANY_SHAPE,  /* a real, or an array of any shape (schedule's t)        */
    ONE_D,      /* a 1-D sequence (lrs, eigenvalues)                      */
    UP_TO_ONE_D /* a real (one for all), or a 1-D sequence                */
} array_shape;

/* An array-like argument as a new C-contiguous float64 array: only bool,
 * integer and floating dtypes (TypeError otherwise), of an allowed shape
 * (ValueError otherwise). */
static PyArrayObject *
as_float_array(PyObject *obj, const char *name, array_shape shape)
{
    static const char *const what_of[] = {
        [ANY_SHAPE] = "a real number or an array of real numbers",
        [ONE_D] = "a 1-D sequence of real numbers",
        [UP_TO_ONE_D] = "a real number or a 1-D sequence of real numbers"};
    const char *what = what_of[shape];
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
    PyArrayObject *out = NULL;
    if (kind != 'b' && kind != 'i' && kind != 'u' && kind != 'f') {
        PyErr_Format(PyExc_TypeError, "%s must be %s, got an array of dtype %S",
                     name, what, (PyObject *)PyArray_DESCR(any));
    }
    else if ((shape == ONE_D && PyArray_NDIM(any) != 1)
             || (shape == UP_TO_ONE_D && PyArray_NDIM(any) > 1)) {
        PyObject *dims = PyObject_GetAttrString((PyObject *)any, "shape");
        if (dims != NULL) {
            PyErr_Format(PyExc_ValueError, "%s must be %s, got an array of "
                         "shape %S", name, what, dims);
            Py_DECREF(dims);
        }
    }
    else {
        out = (PyArrayObject *)PyArray_FROM_OTF(
            (PyObject *)any, NPY_DOUBLE,
            NPY_ARRAY_IN_ARRAY | NPY_ARRAY_FORCECAST);
    }
    Py_DECREF(any);
    return out;
}

/* One group's value: a real, None ("unknown": NaN to the core), or, as an
 * item (index >= 0), a param group (a dict) whose lr is read (lr_key is
 * "lr").  *plain is cleared for anything but a Python float. */
static int
as_group_value(PyObject *obj, PyObject *lr_key, const char *name,
               Py_ssize_t index, double *out, bool *plain)
{
    if (obj == Py_None) {
        *out = (double)NAN;
        return 0;
    }
    if (!PyDict_Check(obj) || index < 0) {
        *plain &= PyFloat_CheckExact(obj);
        return as_real(obj, name, index, REAL, out);
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
    const int failed = as_real(lr, name, index, REAL, out);
    Py_DECREF(lr);
    return failed;
}

/* Reads a per-group argument into buf[0..n): a list or tuple of n group
 * values, or one for every group (*scalar set).  Items are read one at a
 * time, each held while it converts: its __float__ may run any code, even
 * code that empties the list, and the next item is fetched afresh. */
static int
as_group_values(PyObject *obj, PyObject *lr_key, const char *name,
                Py_ssize_t n, double *buf, bool *scalar, bool *plain)
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

/* A budget as the size_t the theory takes: T where it is a whole number a
 * size_t holds, else 0, which the core refuses as it would refuse T
 * (its status then names T as passed). */
static size_t
as_size(double T)
{
    const double cap = UBA_MAX_BUDGET < (double)SIZE_MAX ? UBA_MAX_BUDGET
                                                         : (double)SIZE_MAX;
    return T >= 1.0 && T <= cap && floor(T) == T ? (size_t)T : 0;
}

/* ---- long calls: the GIL released, signals and progress polled ------------ */

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

/* Releases the GIL; the core gets &c->hook until long_call_end. */
static void
long_call_begin(long_call *c, PyObject *progress)
{
    c->progress = progress;
    c->hook.poll = poll;
    c->hook.ctx = c;
    c->thread = PyEval_SaveThread();
}

static void
long_call_end(long_call *c)
{
    PyEval_RestoreThread(c->thread);
}

/* ---- schedule ---------------------------------------------------------------- */

static const param schedule_params[] = {
    {.name = "t", .arg = UBA_ARG_STEP, .kind = COUNT},
    {.name = "T", .arg = UBA_ARG_T, .kind = COUNT},
    {.name = "phi", .arg = UBA_ARG_PHI, .kind = REAL},
    {.name = "eta_max", .arg = UBA_ARG_ETA_MAX, .kind = REAL},
    {.name = "eta_min", .arg = UBA_ARG_ETA_MIN, .kind = REAL},
    {.name = "warmup_steps", .arg = UBA_ARG_WARMUP_STEPS, .kind = COUNT},
    {.name = "warmup_start", .arg = UBA_ARG_WARMUP_START, .kind = REAL},
};
static const entry schedule_entry = {
    .name = "schedule", .nargs = 7, .params = schedule_params};

static PyObject *
schedule(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    const entry *e = &schedule_entry;
    double v[7];
    if (check_nargs(e, nargs) < 0) {
        return NULL;
    }
    for (int i = 1; i < 7; i++) {
        if (as_param(e, args, i, &v[i]) < 0) {
            return NULL;
        }
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
        if (as_param(e, args, 0, &v[0]) < 0) {
            return NULL;
        }
        s = uba_eta(&p, v[0], &eta);
        return s == UBA_OK ? PyFloat_FromDouble(eta)
                           : raise_status(e, s, args, NULL);
    }

    PyArrayObject *t = as_float_array(t_obj, "t", ANY_SHAPE);
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
    long_call lc;
    long_call_begin(&lc, NULL);
    s = uba_eta_fill(&p, tp, n, (double *)PyArray_DATA(out), &bad, &lc.hook);
    long_call_end(&lc);
    if (s != UBA_OK) {
        const element at = {0, bad, tp[bad], PyArray_NDIM(t), PyArray_DIMS(t)};
        raise_status(e, s, args, &at);
        Py_CLEAR(out);
    }
    Py_DECREF(t);
    return (PyObject *)out;
}

/* ---- a scheduler's parameters, checked once: StepParams ---------------------- */

/* An immutable uba_group_step, made when a scheduler is made and passed
 * to every step_groups call: T, phi, W and f are checked here, once. */
typedef struct step_params_object {
    PyObject_HEAD
    uba_group_step s;
    PyObject *args;  /* (T_max, phi, warmup_steps, warmup_start_factor) as
                      * int, float, int, float: what was checked */
} step_params_object;

static const param step_params_params[] = {
    {.name = "T_max", .arg = UBA_ARG_T, .kind = INTEGER},
    {.name = "phi", .arg = UBA_ARG_PHI, .kind = REAL},
    {.name = "warmup_steps", .arg = UBA_ARG_WARMUP_STEPS, .kind = INTEGER},
    {.name = "warmup_start_factor", .arg = UBA_ARG_WARMUP_FACTOR,
     .kind = REAL},
};
static const entry step_params_entry = {
    .name = "StepParams", .nargs = 4, .params = step_params_params,
    .reworded = UBA_E_WARMUP_STEPS,
    .rule = "must be an integer in [0, T_max)"};

/* A StepParams of type `type` for the four arguments a[0..4), checked by
 * the core. */
static PyObject *
make_step_params(PyTypeObject *type, PyObject *const *a, Py_ssize_t nargs)
{
    const entry *e = &step_params_entry;
    double v[4];
    if (check_nargs(e, nargs) < 0) {
        return NULL;
    }
    for (int i = 0; i < 4; i++) {
        if (as_param(e, a, i, &v[i]) < 0) {
            return NULL;
        }
    }
    uba_group_step s;
    const uba_status status = uba_group_step_init(&s, v[0], v[1], v[2], v[3]);
    if (status != UBA_OK) {
        return raise_status(e, status, a, NULL);
    }
    step_params_object *self = (step_params_object *)type->tp_alloc(type, 0);
    if (self == NULL) {
        return NULL;
    }
    self->s = s;
    self->args = Py_BuildValue("(NdNd)", PyLong_FromDouble(s.T), s.phi,
                               PyLong_FromDouble(s.warmup_steps),
                               s.warmup_start_factor);
    if (self->args == NULL) {
        Py_DECREF(self);
        return NULL;
    }
    return (PyObject *)self;
}

static PyObject *
step_params_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    if (kwargs != NULL && PyDict_GET_SIZE(kwargs) > 0) {
        PyErr_SetString(PyExc_TypeError,
                        "StepParams() takes no keyword arguments");
        return NULL;
    }
    return make_step_params(type, PySequence_Fast_ITEMS(args),
                            PyTuple_GET_SIZE(args));
}

/* params.current(T_max, phi, warmup_steps, warmup_start_factor): params
 * itself if it was made from these values (the same objects, as a
 * scheduler that stored params.args passes them, or equal numbers), else
 * new parameters, checked.  A scheduler calls it at every step, so that a
 * budget, shape or warmup changed since (a rebudget's segment, a loaded
 * state, an attribute set by hand) is checked once, when it changes. */
static PyObject *
step_params_current(PyObject *self, PyObject *const *a, Py_ssize_t nargs)
{
    const step_params_object *p = (const step_params_object *)self;
    const double held[4] = {p->s.T, p->s.phi, p->s.warmup_steps,
                            p->s.warmup_start_factor};
    bool same = nargs == 4;
    for (Py_ssize_t i = 0; same && i < 4; i++) {
        if (a[i] != PyTuple_GET_ITEM(p->args, i)) {
            double v;
            if (as_param(&step_params_entry, a, (int)i, &v) < 0) {
                return NULL;  /* not a number: named as StepParams names it */
            }
            same = v == held[i];
        }
    }
    return same ? Py_NewRef(self) : make_step_params(Py_TYPE(self), a, nargs);
}

static void
step_params_dealloc(PyObject *self)
{
    PyTypeObject *type = Py_TYPE(self);
    Py_XDECREF(((step_params_object *)self)->args);
    type->tp_free(self);
    Py_DECREF(type);
}

static PyObject *
step_params_repr(PyObject *self)
{
    return PyUnicode_FromFormat("StepParams%R",
                                ((step_params_object *)self)->args);
}

/* Pickles (and copies) as the call that makes it. */
static PyObject *
step_params_reduce(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    return Py_BuildValue("(OO)", (PyObject *)Py_TYPE(self),
                         ((step_params_object *)self)->args);
}

static PyMethodDef step_params_methods[] = {
    {"current", (PyCFunction)(void (*)(void))step_params_current,
     METH_FASTCALL,
     "current($self, T_max, phi, warmup_steps, warmup_start_factor, /)\n--\n\n"
     "self if made from these values, else new parameters, checked."},
    {"__reduce__", step_params_reduce, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyObject *
step_params_args(PyObject *self, void *Py_UNUSED(closure))
{
    return Py_NewRef(((step_params_object *)self)->args);
}

static PyGetSetDef step_params_getset[] = {
    {"args", step_params_args, NULL,
     "(T_max, phi, warmup_steps, warmup_start_factor), as checked.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot step_params_slots[] = {
    {Py_tp_new, (void *)step_params_new},
    {Py_tp_dealloc, (void *)step_params_dealloc},
    {Py_tp_repr, (void *)step_params_repr},
    {Py_tp_methods, step_params_methods},
    {Py_tp_getset, step_params_getset},
    {Py_tp_doc, (void *)"StepParams(T_max, phi, warmup_steps, "
                        "warmup_start_factor, /)\n--\n\n"
                        "A scheduler's parameters, checked once (see the "
                        "uba package)."},
    {0, NULL},
};

static PyType_Spec step_params_spec = {
    .name = "uba._core.StepParams",
    .basicsize = sizeof(step_params_object),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE,
    .slots = step_params_slots,
};

/* ---- a scheduler step ------------------------------------------------------ */

enum { G_PARAMS, G_T_PREV, G_T_NOW, G_BASE, G_ETA_MIN, G_LRS, G_WRITTEN,
       G_RATIOS, G_NARGS };

/* t_prev is named as last_epoch too: both are the scheduler's step; the
 * core's status about either (UBA_E_STEP) shows t's value. */
static const param step_groups_params[] = {
    [G_PARAMS] = {.name = "params", .kind = OTHER},
    [G_T_PREV] = {.name = "last_epoch", .kind = COUNT},
    [G_T_NOW] = {.name = "last_epoch", .arg = UBA_ARG_STEP, .kind = COUNT},
    [G_BASE] = {.name = "base_lrs", .arg = UBA_ARG_ETA_MAX, .kind = ARRAY},
    [G_ETA_MIN] = {.name = "eta_min", .arg = UBA_ARG_ETA_MIN, .kind = ARRAY},
    [G_LRS] = {.name = "param_groups[{}]['lr']", .arg = UBA_ARG_LR_NOW,
               .kind = ARRAY},
    [G_WRITTEN] = {.name = "written", .kind = ARRAY},
    [G_RATIOS] = {.name = "ratios", .kind = ARRAY},
};
static const entry step_groups_entry = {
    .name = "step_groups", .nargs = G_NARGS, .params = step_groups_params};

static PyObject *
step_groups(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    const entry *e = &step_groups_entry;
    const core_state *state = get_state(module);
    double t[2];
    if (check_nargs(e, nargs) < 0
        || as_param(e, args, G_T_PREV, &t[0]) < 0
        || as_param(e, args, G_T_NOW, &t[1]) < 0) {
        return NULL;
    }
    if (!PyObject_TypeCheck(args[G_PARAMS], state->step_params)) {
        PyErr_Format(PyExc_TypeError, "params must be a uba._core.StepParams, "
                     "got %.200s", Py_TYPE(args[G_PARAMS])->tp_name);
        return NULL;
    }
    const uba_group_step *params = &((step_params_object *)args[G_PARAMS])->s;
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
    /* base, eta_min, lrs, written, ratios (the parameters G_BASE.. in
     * order), then lr_next */
    double *group[6];
    bool scalar[5], plain[5] = {true, true, true, true, true};
    PyObject *result = NULL;
    for (int k = 0; k < 6; k++) {
        group[k] = buf + (size_t)k * (size_t)n;
    }
    for (int k = 0; k < 5; k++) {
        if (as_group_values(args[G_BASE + k], state->lr_key,
                            e->params[G_BASE + k].name, n, group[k],
                            &scalar[k], &plain[k]) < 0) {
            goto exit;
        }
    }
    size_t bad = 0;
    const uba_status s = uba_step_groups(params, t[0], t[1], (size_t)n,
                                         group[0], group[1], group[2],
                                         group[3], group[4], group[5], &bad);
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
        /* a group's status is about an element of its parameter */
        const int p = param_of(e, uba_status_blame(s).arg);
        const int k = p >= G_BASE && p < G_BASE + 5 ? p - G_BASE : -1;
        const element at = {k >= 0 && !scalar[k] ? p : -1, bad,
                            k >= 0 && bad < (size_t)n ? group[k][bad] : 0.0,
                            1, NULL};
        raise_status(e, s, args, &at);
    }
exit:
    if (buf != stack) {
        PyMem_Free(buf);
    }
    return result;
}

/* ---- theory ------------------------------------------------------------------ */

/* The theory entry points share one body, theory().  Each reads its
 * parameters in order, by kind: the budget T (a COUNT named "T", as the
 * core's size_t), the step sizes lrs and the eigenvalues (ARRAYs), the
 * rest of a spectrum (VALUES), reals (a PAIR or a PEAK gives two) and the
 * progress callback (OTHER, last); it returns an array of steps, one to
 * three floats, or what uba_choose_phi found. */
#define THEORY_MAX_PARAMS 10

typedef struct theory_call {
    const double *lrs;  /* n step sizes                                  */
    size_t n;
    uba_spectrum sp;    /* the spectrum, where the entry takes one       */
    size_t T;
    double v[8];        /* the reals, in order                           */
    double *work;       /* a workspace (or the steps) of work_len doubles */
    size_t work_len;
    double out[3];
    uba_phi_choice choice;
    size_t bad;         /* the first offending entry of an array         */
    const uba_progress *hook;
    /* each array parameter as converted (NULL for None), by position;
     * released by theory() */
    PyArrayObject *arrays[THEORY_MAX_PARAMS];
} theory_call;

typedef enum theory_fn {
    CHEBYSHEV_STEPS, CHEBYSHEV_LOG_RESIDUAL, CURVATURE_PARAMS,
    PHI_FROM_KAPPA, KAPPA_FROM_PHI, WORST_CASE_RESIDUAL,
    WORST_CASE_NOISY_ERROR, BOUND_NONCONVEX, BOUND_CONVEX,
    BOUND_STRONGLY_CONVEX, OPTIMAL_PHI, OPTIMAL_PHI_STRONGLY_CONVEX,
    PHI_RANGE_CHECK, EXPECTED_LOSS, CHOOSE_PHI
} theory_fn;

/* What an entry returns besides 1 to 3 floats (n_out). */
enum { OUT_STEPS = 0, OUT_NONE = -1, OUT_CHOICE = -2 };

typedef struct theory_entry {
    entry e;
    theory_fn fn;
    int n_out;    /* floats, or OUT_STEPS (the array of Chebyshev steps),
                   * OUT_NONE, OUT_CHOICE (uba_choose_phi's result) */
} theory_entry;

/* The status of the arguments that size the call's buffer, before it is
 * allocated: a bad one is reported as itself, not as a MemoryError for a
 * huge T (UBA_OK for calls that need no buffer).  A spectrum's bad entry
 * goes to c->bad. */
static uba_status
theory_check(theory_fn fn, theory_call *c)
{
    const double *v = c->v;
    switch (fn) {
    case CHEBYSHEV_STEPS:
        return uba_chebyshev_check(c->T, v[0], v[1]);
    case WORST_CASE_RESIDUAL:
        return uba_worst_case_check(c->n, v[0], v[1], 0.0);
    case WORST_CASE_NOISY_ERROR:
        return uba_worst_case_check(c->n, v[0], v[1], v[2]);
    case OPTIMAL_PHI:
        return uba_optimal_phi_check(c->T, v[0], v[1], v[2], v[3], v[4], v[5],
                                     v[6]);
    case EXPECTED_LOSS:
        return uba_expected_loss_check(c->n, &c->sp, &c->bad);
    case CHOOSE_PHI:
        return uba_choose_phi_check(c->T, &c->sp, v[0], v[1], v[2], v[3],
                                    v[4], &c->bad);
    default:
        return UBA_OK;
    }
}

/* The buffer each call needs, in doubles (0: none). */
static size_t
theory_work_size(theory_fn fn, const theory_call *c)
{
    switch (fn) {
    case CHEBYSHEV_STEPS:
        return c->T;
    case WORST_CASE_RESIDUAL:
    case WORST_CASE_NOISY_ERROR:
        return uba_worst_case_work_size(c->n);
    case OPTIMAL_PHI:
        return uba_optimal_phi_work_size(c->T);
    case EXPECTED_LOSS:
        return uba_expected_loss_work_size(c->n);
    case CHOOSE_PHI:
        return uba_choose_phi_work_size(c->T);
    default:
        return 0;
    }
}

/* The one call into the core of each theory entry point. */
static uba_status
call_theory(theory_fn fn, theory_call *c)
{
    const double *v = c->v;
    double *out = c->out;
    switch (fn) {
    case CHEBYSHEV_STEPS:  /* into the buffer: the array returned */
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
    case PHI_RANGE_CHECK:
        return uba_phi_range_check(v[0], v[1]);
    case EXPECTED_LOSS:
        return uba_expected_loss(c->lrs, c->n, &c->sp, c->work, c->work_len,
                                 &out[0], &out[1], &c->bad, c->hook);
    case CHOOSE_PHI:
        return uba_choose_phi(c->T, &c->sp, v[0], v[1], v[2], v[3], v[4],
                              c->work, c->work_len, &c->choice, &c->bad,
                              c->hook);
    }
    return UBA_E_NULL;
}

/* The parameters of the theory entry points, by the ids the core blames. */
#define T_PARAM {.name = "T", .arg = UBA_ARG_T, .kind = COUNT}
#define LRS_PARAM {.name = "lrs", .arg = UBA_ARG_LRS, .kind = ARRAY}
#define REAL_PARAM(id, text) {.name = text, .arg = UBA_ARG_##id, .kind = REAL}
#define PHI_RANGE_PARAM                                                     \
    {.name = "phi_range", .arg = UBA_ARG_PHI_LO, .arg2 = UBA_ARG_PHI_HI,    \
     .kind = PAIR}
#define PROGRESS_PARAM {.name = "progress", .kind = OTHER}
#define SPECTRUM_PARAMS                                                     \
    {.name = "eigenvalues", .arg = UBA_ARG_EIGENVALUES, .kind = ARRAY},     \
    {.name = "weights", .arg = UBA_ARG_WEIGHTS, .kind = VALUES},            \
    {.name = "start", .arg = UBA_ARG_START, .kind = VALUES},                \
    {.name = "noise", .arg = UBA_ARG_NOISE, .kind = VALUES}

static const param budget_range_params[] = {
    T_PARAM, REAL_PARAM(LAM_MIN, "lam_min"), REAL_PARAM(LAM_MAX, "lam_max")};
static const param range_params[] = {
    REAL_PARAM(LAM_MIN, "lam_min"), REAL_PARAM(LAM_MAX, "lam_max")};
static const param kappa_params[] = {REAL_PARAM(KAPPA, "kappa")};
static const param phi_params[] = {REAL_PARAM(PHI, "phi")};
static const param residual_params[] = {
    LRS_PARAM, REAL_PARAM(LAM_MIN, "lam_min"), REAL_PARAM(LAM_MAX, "lam_max"),
    PROGRESS_PARAM};
static const param noisy_params[] = {
    LRS_PARAM, REAL_PARAM(LAM_MIN, "lam_min"), REAL_PARAM(LAM_MAX, "lam_max"),
    REAL_PARAM(SIGMA2, "sigma2"), PROGRESS_PARAM};
static const param nonconvex_params[] = {
    LRS_PARAM, REAL_PARAM(L, "L"), REAL_PARAM(SIGMA2, "sigma2"),
    REAL_PARAM(F_GAP, "f_gap")};
static const param convex_params[] = {
    LRS_PARAM, REAL_PARAM(L, "L"), REAL_PARAM(SIGMA2, "sigma2"),
    REAL_PARAM(DIST2, "dist2")};
static const param strongly_convex_params[] = {
    LRS_PARAM, REAL_PARAM(MU, "mu"), REAL_PARAM(L, "L"),
    REAL_PARAM(SIGMA2, "sigma2"), REAL_PARAM(F_GAP, "f_gap")};
static const param optimal_phi_params[] = {
    T_PARAM, REAL_PARAM(LAM_MIN, "lam_min"), REAL_PARAM(LAM_MAX, "lam_max"),
    REAL_PARAM(SIGMA2, "sigma2"), REAL_PARAM(ETA_MAX, "eta_max"),
    REAL_PARAM(ETA_MIN, "eta_min"), PHI_RANGE_PARAM, PROGRESS_PARAM};
static const param phi_range_params[] = {PHI_RANGE_PARAM};
static const param optimal_sc_params[] = {
    T_PARAM, REAL_PARAM(MU, "mu"), REAL_PARAM(L, "L"),
    REAL_PARAM(SIGMA2, "sigma2"), REAL_PARAM(F_GAP, "f_gap"),
    REAL_PARAM(ETA_MAX, "eta_max"), PHI_RANGE_PARAM, PROGRESS_PARAM};
static const param expected_loss_params[] = {
    LRS_PARAM, SPECTRUM_PARAMS, PROGRESS_PARAM};
static const param choose_phi_params[] = {
    T_PARAM, SPECTRUM_PARAMS,
    {.name = "eta_max", .arg = UBA_ARG_ETA_MAX, .kind = PEAK},
    REAL_PARAM(ETA_MIN, "eta_min"), PHI_RANGE_PARAM, PROGRESS_PARAM};

#define COUNT_OF(a) ((Py_ssize_t)(sizeof(a) / sizeof((a)[0])))

static const theory_entry CHEBYSHEV_STEPS_ENTRY = {
    .e = {.name = "chebyshev_step_sizes", .nargs = COUNT_OF(budget_range_params),
          .params = budget_range_params},
    .fn = CHEBYSHEV_STEPS, .n_out = OUT_STEPS};
static const theory_entry CHEBYSHEV_LOG_RESIDUAL_ENTRY = {
    .e = {.name = "chebyshev_log_residual",
          .nargs = COUNT_OF(budget_range_params),
          .params = budget_range_params},
    .fn = CHEBYSHEV_LOG_RESIDUAL, .n_out = 1};
static const theory_entry CURVATURE_PARAMS_ENTRY = {
    .e = {.name = "curvature_params", .nargs = COUNT_OF(range_params),
          .params = range_params},
    .fn = CURVATURE_PARAMS, .n_out = 3};
static const theory_entry PHI_FROM_KAPPA_ENTRY = {
    .e = {.name = "phi_from_condition_number", .nargs = COUNT_OF(kappa_params),
          .params = kappa_params},
    .fn = PHI_FROM_KAPPA, .n_out = 1};
static const theory_entry KAPPA_FROM_PHI_ENTRY = {
    .e = {.name = "condition_number_from_phi", .nargs = COUNT_OF(phi_params),
          .params = phi_params},
    .fn = KAPPA_FROM_PHI, .n_out = 1};
static const theory_entry WORST_CASE_RESIDUAL_ENTRY = {
    .e = {.name = "worst_case_residual", .nargs = COUNT_OF(residual_params),
          .params = residual_params},
    .fn = WORST_CASE_RESIDUAL, .n_out = 2};
static const theory_entry WORST_CASE_NOISY_ERROR_ENTRY = {
    .e = {.name = "worst_case_noisy_error", .nargs = COUNT_OF(noisy_params),
          .params = noisy_params},
    .fn = WORST_CASE_NOISY_ERROR, .n_out = 2};
/* The bounds word their step-size conditions (UBA_STEP_LIMIT_* of uba.h)
 * in the user's terms. */
static const theory_entry BOUND_NONCONVEX_ENTRY = {
    .e = {.name = "bound_nonconvex", .nargs = COUNT_OF(nonconvex_params),
          .params = nonconvex_params, .reworded = UBA_E_STEP_CONDITION,
          .rule = "must meet bound (a)'s step-size condition "
                  "0 <= eta_t <= 1/L"},
    .fn = BOUND_NONCONVEX, .n_out = 1};
static const theory_entry BOUND_CONVEX_ENTRY = {
    .e = {.name = "bound_convex", .nargs = COUNT_OF(convex_params),
          .params = convex_params, .reworded = UBA_E_STEP_CONDITION,
          .rule = "must meet bound (b)'s step-size condition "
                  "0 <= eta_t <= 1/(2L)"},
    .fn = BOUND_CONVEX, .n_out = 1};
static const theory_entry BOUND_STRONGLY_CONVEX_ENTRY = {
    .e = {.name = "bound_strongly_convex",
          .nargs = COUNT_OF(strongly_convex_params),
          .params = strongly_convex_params,
          .reworded = UBA_E_STEP_CONDITION,
          .rule = "must meet bound (c)'s step-size condition "
                  "0 <= eta_t <= 1/L"},
    .fn = BOUND_STRONGLY_CONVEX, .n_out = 1};
static const theory_entry OPTIMAL_PHI_ENTRY = {
    .e = {.name = "optimal_phi", .nargs = COUNT_OF(optimal_phi_params),
          .params = optimal_phi_params},
    .fn = OPTIMAL_PHI, .n_out = 2};
static const theory_entry OPTIMAL_PHI_STRONGLY_CONVEX_ENTRY = {
    .e = {.name = "optimal_phi_strongly_convex",
          .nargs = COUNT_OF(optimal_sc_params), .params = optimal_sc_params},
    .fn = OPTIMAL_PHI_STRONGLY_CONVEX, .n_out = 2};
static const theory_entry PHI_RANGE_CHECK_ENTRY = {
    .e = {.name = "check_phi_range", .nargs = COUNT_OF(phi_range_params),
          .params = phi_range_params},
    .fn = PHI_RANGE_CHECK, .n_out = OUT_NONE};
static const theory_entry EXPECTED_LOSS_ENTRY = {
    .e = {.name = "expected_loss", .nargs = COUNT_OF(expected_loss_params),
          .params = expected_loss_params},
    .fn = EXPECTED_LOSS, .n_out = 2};
_Static_assert(COUNT_OF(choose_phi_params) <= THEORY_MAX_PARAMS,
               "theory_call holds an array for each parameter");
static const theory_entry CHOOSE_PHI_ENTRY = {
    .e = {.name = "choose_phi", .nargs = COUNT_OF(choose_phi_params),
          .params = choose_phi_params},
    .fn = CHOOSE_PHI, .n_out = OUT_CHOICE};

/* Reads array parameter i of entry e into c: the steps, or a part of the
 * spectrum, by the core's id of the argument (weights may be None). */
static int
theory_array(const entry *e, PyObject *const *args, int i, theory_call *c)
{
    const param *p = &e->params[i];
    if (p->arg == UBA_ARG_WEIGHTS && args[i] == Py_None) {
        return 0;  /* one each: sp.weights stays NULL */
    }
    PyArrayObject *a = as_float_array(args[i], p->name,
                                      p->kind == ARRAY ? ONE_D : UP_TO_ONE_D);
    if (a == NULL) {
        return -1;
    }
    c->arrays[i] = a;
    const double *data = (const double *)PyArray_DATA(a);
    const size_t size = (size_t)PyArray_SIZE(a);
    switch (p->arg) {
    case UBA_ARG_LRS:
        c->lrs = data;
        c->n = size;
        break;
    case UBA_ARG_EIGENVALUES:
        c->sp.eigenvalues = data;
        c->sp.n = size;
        break;
    case UBA_ARG_WEIGHTS:
        c->sp.weights = data;
        c->sp.n_weights = size;
        break;
    case UBA_ARG_START:
        c->sp.start = data;
        c->sp.n_start = size;
        break;
    default:  /* UBA_ARG_NOISE */
        c->sp.noise = data;
        c->sp.n_noise = size;
    }
    return 0;
}

/* Reads the parameters into c (the arrays into c->arrays, new
 * references). */
static int
theory_args(const entry *e, PyObject *const *args, theory_call *c,
            PyObject **progress)
{
    int k = 0;  /* the next real */
    for (int i = 0; i < (int)e->nargs; i++) {
        const param *p = &e->params[i];
        double T;
        switch (p->kind) {
        case ARRAY:
        case VALUES:
            if (theory_array(e, args, i, c) < 0) {
                return -1;
            }
            break;
        case PAIR:
            if (as_pair(args[i], p, &c->v[k]) < 0) {
                return -1;
            }
            k += 2;
            break;
        case PEAK:
            if (as_peak(args[i], p, &c->v[k]) < 0) {
                return -1;
            }
            k += 2;
            break;
        case OTHER:
            *progress = args[i];
            break;
        default:
            if (p->arg == UBA_ARG_T) {
                if (as_param(e, args, i, &T) < 0) {
                    return -1;
                }
                c->T = as_size(T);
            }
            else if (as_param(e, args, i, &c->v[k++]) < 0) {
                return -1;
            }
        }
    }
    return 0;
}

/* The entry of an array parameter that status s is about, as the core
 * reported it in c->bad: where that parameter is a 1-D array (one value
 * for all is named as passed), else NULL. */
static const element *
bad_entry(const entry *e, uba_status s, const theory_call *c, element *at)
{
    const uba_blame blame = uba_status_blame(s);
    const int i = param_of(e, blame.arg);
    if (!blame.entry || i < 0 || c->arrays[i] == NULL
        || PyArray_NDIM(c->arrays[i]) != 1
        || c->bad >= (size_t)PyArray_SIZE(c->arrays[i])) {
        return NULL;
    }
    *at = (element){i, c->bad,
                    ((const double *)PyArray_DATA(c->arrays[i]))[c->bad], 1,
                    NULL};
    return at;
}

/* uba_choose_phi's result as a tuple: (phi, eta_max, loss, loss_default,
 * loss_cosine, initial_loss, flat_lo, flat_hi, phi_at_end, peak_at_end,
 * eta_lo, eta_hi, lam_max, evaluations). */
static PyObject *
choice_tuple(const uba_phi_choice *c)
{
    return Py_BuildValue("(ddddddddiidddd)", c->phi, c->eta_max, c->loss,
                         c->loss_default, c->loss_cosine, c->initial_loss,
                         c->flat_lo, c->flat_hi, c->phi_at_end,
                         c->peak_at_end, c->eta_lo, c->eta_hi, c->lam_max,
                         c->evaluations);
}

/* The one body of the theory entry points: reads the arguments, checks
 * those that size a buffer and allocates it, makes the entry's call (a
 * long_call, given the progress argument if any), and returns its results
 * or raises for its status. */
static PyObject *
theory(const theory_entry *te, PyObject *const *args, Py_ssize_t nargs)
{
    const entry *e = &te->e;
    theory_call c = {0};
    PyObject *progress = NULL, *buffer = NULL, *result = NULL;
    if (check_nargs(e, nargs) < 0
        || theory_args(e, args, &c, &progress) < 0) {
        goto exit;
    }
    uba_status s = theory_check(te->fn, &c);
    const size_t work_len = s == UBA_OK ? theory_work_size(te->fn, &c) : 0;
    if (work_len > 0) {
        npy_intp dim = (npy_intp)work_len;
        buffer = work_len > (size_t)NPY_MAX_INTP / sizeof(double)
                     ? PyErr_NoMemory()
                     : PyArray_SimpleNew(1, &dim, NPY_DOUBLE);
        if (buffer == NULL) {
            goto exit;
        }
        c.work = (double *)PyArray_DATA((PyArrayObject *)buffer);
        c.work_len = work_len;
    }
    if (s == UBA_OK) {
        long_call lc;
        long_call_begin(&lc, progress);
        c.hook = &lc.hook;
        s = call_theory(te->fn, &c);
        long_call_end(&lc);
    }
    if (s != UBA_OK) {
        element at;
        raise_status(e, s, args, bad_entry(e, s, &c, &at));
    }
    else if (te->n_out == OUT_STEPS) {
        result = Py_NewRef(buffer);
    }
    else if (te->n_out == OUT_NONE) {
        result = Py_NewRef(Py_None);
    }
    else if (te->n_out == OUT_CHOICE) {
        result = choice_tuple(&c.choice);
    }
    else if (te->n_out == 1) {
        result = PyFloat_FromDouble(c.out[0]);
    }
    else {
        result = te->n_out == 2 ? Py_BuildValue("(dd)", c.out[0], c.out[1])
                                : Py_BuildValue("(ddd)", c.out[0], c.out[1],
                                                c.out[2]);
    }
exit:
    Py_XDECREF(buffer);
    for (int i = 0; i < THEORY_MAX_PARAMS; i++) {
        Py_XDECREF(c.arrays[i]);
    }
    return result;
}

#define THEORY_FUNCTION(name, fn)                                           \
    static PyObject *name(PyObject *Py_UNUSED(module),                      \
                          PyObject *const *args, Py_ssize_t nargs)          \
    {                                                                       \
        return theory(&fn##_ENTRY, args, nargs);                            \
    }

THEORY_FUNCTION(chebyshev_step_sizes, CHEBYSHEV_STEPS)
THEORY_FUNCTION(chebyshev_log_residual, CHEBYSHEV_LOG_RESIDUAL)
THEORY_FUNCTION(curvature_params, CURVATURE_PARAMS)
THEORY_FUNCTION(phi_from_condition_number, PHI_FROM_KAPPA)
THEORY_FUNCTION(condition_number_from_phi, KAPPA_FROM_PHI)
THEORY_FUNCTION(worst_case_residual, WORST_CASE_RESIDUAL)
THEORY_FUNCTION(worst_case_noisy_error, WORST_CASE_NOISY_ERROR)
THEORY_FUNCTION(bound_nonconvex, BOUND_NONCONVEX)
THEORY_FUNCTION(bound_convex, BOUND_CONVEX)
THEORY_FUNCTION(bound_strongly_convex, BOUND_STRONGLY_CONVEX)
THEORY_FUNCTION(optimal_phi, OPTIMAL_PHI)
THEORY_FUNCTION(optimal_phi_strongly_convex, OPTIMAL_PHI_STRONGLY_CONVEX)
THEORY_FUNCTION(check_phi_range, PHI_RANGE_CHECK)
THEORY_FUNCTION(expected_loss, EXPECTED_LOSS)
THEORY_FUNCTION(choose_phi, CHOOSE_PHI)

/* ---- the module ------------------------------------------------------------ */

/* Each docstring is a signature line, for inspect.signature; the docs
 * users read live in the uba package. */
#define FASTCALL(pyname, function, signature)                               \
    {.ml_name = pyname,                                                      \
     .ml_meth = (PyCFunction)(void (*)(void))function,                       \
     .ml_flags = METH_FASTCALL,                                              \
     .ml_doc = pyname "($module, " signature ", /)\n--\n\nSee the uba package."}

static PyMethodDef core_methods[] = {
    FASTCALL("schedule", schedule, "t, T, phi, eta_max, eta_min, "
             "warmup_steps, warmup_start"),
    FASTCALL("step_groups", step_groups, "params, t_prev, t, base_lrs, "
             "eta_min, lrs, written, ratios"),
    FASTCALL("chebyshev_step_sizes", chebyshev_step_sizes,
             "T, lam_min, lam_max"),
    FASTCALL("chebyshev_log_residual", chebyshev_log_residual,
             "T, lam_min, lam_max"),
    FASTCALL("curvature_params", curvature_params, "lam_min, lam_max"),
    FASTCALL("phi_from_condition_number", phi_from_condition_number, "kappa"),
    FASTCALL("condition_number_from_phi", condition_number_from_phi, "phi"),
    FASTCALL("worst_case_residual", worst_case_residual,
             "lrs, lam_min, lam_max, progress"),
    FASTCALL("worst_case_noisy_error", worst_case_noisy_error,
             "lrs, lam_min, lam_max, sigma2, progress"),
    FASTCALL("bound_nonconvex", bound_nonconvex, "lrs, L, sigma2, f_gap"),
    FASTCALL("bound_convex", bound_convex, "lrs, L, sigma2, dist2"),
    FASTCALL("bound_strongly_convex", bound_strongly_convex,
             "lrs, mu, L, sigma2, f_gap"),
    FASTCALL("optimal_phi", optimal_phi, "T, lam_min, lam_max, sigma2, "
             "eta_max, eta_min, phi_range, progress"),
    FASTCALL("optimal_phi_strongly_convex", optimal_phi_strongly_convex,
             "T, mu, L, sigma2, f_gap, eta_max, phi_range, progress"),
    FASTCALL("check_phi_range", check_phi_range, "phi_range"),
    FASTCALL("expected_loss", expected_loss, "lrs, eigenvalues, weights, "
             "start, noise, progress"),
    FASTCALL("choose_phi", choose_phi, "T, eigenvalues, weights, start, "
             "noise, eta_max, eta_min, phi_range, progress"),
    {NULL, NULL, 0, NULL},
};

/* Adds `value` (a new reference, or NULL on an error) to the module. */
static int
add_constant(PyObject *module, const char *name, PyObject *value)
{
    const int failed = value == NULL
                       || PyModule_AddObjectRef(module, name, value) < 0;
    Py_XDECREF(value);
    return failed ? -1 : 0;
}

/* Multi-phase init (PEP 489).  The exec slot imports NumPy's C API, makes
 * the module's state (the interned key "lr", the StepParams type) and
 * publishes the C library's version and the constants of uba.h that the
 * package uses, so that each is written once. */
static int
core_exec(PyObject *module)
{
    core_state *state = get_state(module);
    if (PyArray_ImportNumPyAPI() < 0) {
        return -1;
    }
    state->lr_key = PyUnicode_InternFromString("lr");
    state->step_params = (PyTypeObject *)PyType_FromModuleAndSpec(
        module, &step_params_spec, NULL);
    if (state->lr_key == NULL || state->step_params == NULL
        || PyModule_AddType(module, state->step_params) < 0) {
        return -1;
    }
    return add_constant(module, "c_version",
                        PyUnicode_FromString(uba_version()))
        || add_constant(module, "MAX_BUDGET",
                        PyLong_FromDouble(UBA_MAX_BUDGET))
        || add_constant(module, "STEP_LIMIT_NONCONVEX",
                        PyFloat_FromDouble(UBA_STEP_LIMIT_NONCONVEX))
        || add_constant(module, "STEP_LIMIT_CONVEX",
                        PyFloat_FromDouble(UBA_STEP_LIMIT_CONVEX))
        || add_constant(module, "STEP_LIMIT_STRONGLY_CONVEX",
                        PyFloat_FromDouble(UBA_STEP_LIMIT_STRONGLY_CONVEX))
        ? -1 : 0;
}

static int
core_traverse(PyObject *module, visitproc visit, void *arg)
{
    core_state *state = get_state(module);
    Py_VISIT(state->lr_key);
    Py_VISIT(state->step_params);
    return 0;
}

static int
core_clear(PyObject *module)
{
    core_state *state = get_state(module);
    Py_CLEAR(state->lr_key);
    Py_CLEAR(state->step_params);
    return 0;
}

static void
core_free(void *module)
{
    (void)core_clear((PyObject *)module);
}

static PyModuleDef_Slot core_slots[] = {
    {Py_mod_exec, (void *)core_exec},
#if PY_VERSION_HEX >= 0x030C0000
    /* NumPy's C API does not support several interpreters (3.12+). */
    {Py_mod_multiple_interpreters, Py_MOD_MULTIPLE_INTERPRETERS_NOT_SUPPORTED},
#endif
#if PY_VERSION_HEX >= 0x030D0000
    /* No mutable C state, StepParams immutable: safe without the GIL
     * (3.13+ free threading). */
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
    .m_traverse = core_traverse,
    .m_clear = core_clear,
    .m_free = core_free,
};

PyMODINIT_FUNC PyInit__core(void);

PyMODINIT_FUNC
PyInit__core(void)
{
    return PyModuleDef_Init(&core_module);
}
