/*
 * module.c -- uba._core, the CPython/NumPy binding of the C core.
 *
 * The only file that includes Python.h.  An adapter, in the manner of
 * CPython's math_1: each entry point converts its positional arguments,
 * makes one call into the core, and turns a failed status into an
 * exception in one place, raise_status(), which names the argument the
 * core blames as the entry point's table of argument names says.
 * Defaults, keywords and docs live in the uba package.
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

/* Groups a scheduler step handles on the stack before it allocates. */
#define STACK_GROUPS 16

/* The module's state: the key under which a param group holds its lr. */
typedef struct core_state {
    PyObject *lr_key;
} core_state;

static core_state *
state_of(PyObject *module)
{
    return (core_state *)PyModule_GetState(module);
}

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

/*
 * An element of array argument `arg` a status may be about: the first
 * offending one, its value, and the array's shape (1-D: ndim 1, dims
 * NULL).  raise_status() names it when the status blames `arg`.
 */
typedef struct element {
    int arg;
    size_t index;
    double value;
    int ndim;
    const npy_intp *dims;
} element;

/* "2, 3" for flat index i of a C-ordered array of the given shape. */
static PyObject *
index_text(const element *at)
{
    npy_intp index[NPY_MAXDIMS];
    npy_intp rest = (npy_intp)at->index;
    for (int d = at->ndim - 1; d >= 0; d--) {
        index[d] = d > 0 ? rest % at->dims[d] : rest;
        rest = d > 0 ? rest / at->dims[d] : 0;
    }
    PyObject *text = PyUnicode_FromString("");
    for (int d = 0; text != NULL && d < at->ndim; d++) {
        Py_SETREF(text, PyUnicode_FromFormat("%U%s%zd", text,
                                             d > 0 ? ", " : "",
                                             (Py_ssize_t)index[d]));
    }
    return text;
}

/* The argument's name, with the element's index where there is one:
 * "lrs[3]", or a name with a "{}" slot filled: "param_groups[3]['lr']". */
static PyObject *
argument_name(const char *name, const element *at)
{
    if (at == NULL) {
        return PyUnicode_FromString(name);
    }
    PyObject *index = index_text(at);
    if (index == NULL) {
        return NULL;
    }
    const char *slot = strstr(name, "{}");
    PyObject *head = slot == NULL ? NULL : PyUnicode_FromStringAndSize(
                                               name, slot - name);
    PyObject *text =
        slot == NULL ? PyUnicode_FromFormat("%s[%U]", name, index)
        : head == NULL ? NULL
                       : PyUnicode_FromFormat("%U%U%s", head, index, slot + 2);
    Py_DECREF(index);
    Py_XDECREF(head);
    return text;
}

/* The position of the argument uba.h calls core[0..len), or -1. */
static int
position_of(const entry *e, const char *core, size_t len)
{
    for (int i = 0; i < (int)e->nargs; i++) {
        const char *name = e->names[i].core;
        if (strlen(name) == len && strncmp(name, core, len) == 0) {
            return i;
        }
    }
    return -1;
}

/*
 * The one place a status of the core becomes an exception: ValueError
 * "<argument> <rule>, got <value>".  The core says which argument the
 * status is about (uba_status_argument: "phi", "lrs[i]", a pair such as
 * "(lam_min, lam_max)"); the entry's table gives its position and the name
 * the user knows it by; the value is the one passed (or, for an element,
 * the one converted).  A whole sequence is named without its value.
 */
static PyObject *
raise_status(const entry *e, uba_status status, PyObject *const *args,
             const element *at)
{
    const char *core = uba_status_argument(status);
    const char *rule = status == UBA_E_STEP_CONDITION && e->condition != NULL
                           ? e->condition : uba_status_rule(status);
    const char *comma = core[0] == '(' ? strchr(core, ',') : NULL;
    const char *bracket = strchr(core, '[');
    int first, second = -1;
    if (comma != NULL) {
        first = position_of(e, core + 1, (size_t)(comma - core - 1));
        second = position_of(e, comma + 2, strlen(comma + 2) - 1);
    }
    else {
        first = position_of(e, core, bracket != NULL
                                         ? (size_t)(bracket - core)
                                         : strlen(core));
    }
    if (first < 0 || (comma != NULL && second < 0)) {
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

static int
check_nargs(const entry *e, Py_ssize_t nargs)
{
    if (nargs != e->nargs) {
        PyErr_Format(PyExc_TypeError,
                     "%s() takes exactly %zd positional arguments (%zd given)",
                     e->func, e->nargs, nargs);
        return -1;
    }
    return 0;
}

/* ---- converting arguments ----------------------------------------------- */

/* The name of argument `name`, or of its element `index` (if >= 0). */
static PyObject *
name_of(const char *name, Py_ssize_t index)
{
    const element at = {0, (size_t)index, 0.0, 1, NULL};
    return argument_name(name, index >= 0 ? &at : NULL);
}

static int
not_a_real(const char *name, Py_ssize_t index, PyObject *obj)
{
    PyObject *text = name_of(name, index);
    if (text != NULL) {
        PyErr_Format(PyExc_TypeError, "%U must be a real number, got %.200s",
                     text, Py_TYPE(obj)->tp_name);
        Py_DECREF(text);
    }
    return -1;
}

/*
 * A count (a step, a budget) whose double v reached 2**53, where a double
 * holds only some integers: the exact value must be v, else ValueError.
 * An object whose __index__ refuses (a float tensor) is a real: v.
 */
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
    PyObject *text = same == 0 ? name_of(name, index) : NULL;
    if (text != NULL) {
        PyErr_Format(PyExc_ValueError, "%U must be an integer a double holds "
                     "exactly (every integer up to 2**53), got %R", text,
                     exact);
        Py_DECREF(text);
    }
    Py_DECREF(exact);
    Py_XDECREF(rounded);
    *out = v;
    return same > 0 ? 0 : -1;
}

/*
 * Reads a real number.  Python ints and floats, NumPy scalars, 0-d tensors
 * and anything with __float__ or __index__ are accepted; str, bytes,
 * complex and other objects raise TypeError naming the argument, as does
 * a TypeError or ValueError from the object's own __float__.  Any other
 * exception from it (KeyboardInterrupt, MemoryError) propagates unchanged.
 * A real too large for a double becomes +-inf, which the core then
 * refuses with its range.  For a count (a step, a budget), an integer of
 * any type that a double cannot hold exactly is refused.
 */
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
        return not_a_real(name, index, obj);
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
            return not_a_real(name, index, obj);
        }
        return -1;  /* the caller's own __float__ failed: never swallowed */
    }
    if (count && fabs(v) >= UBA_MAX_BUDGET && PyIndex_Check(obj)) {
        return as_exact_count(obj, name, index, v, out);
    }
    *out = v;
    return 0;
}

/* Reads args[first..first+count) as reals into out[0..count). */
static int
as_reals(const entry *e, PyObject *const *args, int first, int count,
         double *out)
{
    for (int i = 0; i < count; i++) {
        const arg_name *a = &e->names[first + i];
        if (as_real(args[first + i], a->user, -1, a->count, &out[i]) < 0) {
            return -1;
        }
    }
    return 0;
}

/*
 * A budget that sizes a buffer: an integer in [1, 2**53] (UBA_E_T
 * otherwise), small enough to allocate.
 */
static int
as_budget(const entry *e, PyObject *const *args, int arg, size_t *out)
{
    double T;
    if (as_real(args[arg], e->names[arg].user, -1, 1, &T) < 0) {
        return -1;
    }
    if (!(T >= 1.0 && T <= UBA_MAX_BUDGET && floor(T) == T)) {
        raise_status(e, UBA_E_T, args, NULL);
        return -1;
    }
    if (T > (double)(PY_SSIZE_T_MAX / (Py_ssize_t)(16 * sizeof(double)))) {
        PyErr_NoMemory();
        return -1;
    }
    *out = (size_t)T;
    return 0;
}

/*
 * Converts an array-like argument to a C-contiguous float64 array (a new
 * reference).  Only bool, integer and floating dtypes are accepted
 * (TypeError otherwise).  `one_d` also requires a non-empty 1-D array
 * (ValueError).
 */
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

/*
 * One group's value: a real, None ("unknown": NaN to the core), or, as an
 * item (index >= 0), a parameter group (a dict), whose lr is read (under
 * `lr_key`, the interned "lr").  *plain is cleared for anything but a
 * Python float.
 */
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

/*
 * Reads a per-group argument into buf[0..n): a list or tuple of n group
 * values, or one for every group (*scalar set).  Items are read one at a
 * time, each held while it converts: its __float__ may run any code, even
 * code that empties the list, and the next item is fetched afresh.
 */
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

/* A list of the n values as floats, with None for NaN ("unknown"); the
 * list `same` itself (a new reference) if it holds just these floats. */
static PyObject *
list_of_floats(const double *values, Py_ssize_t n, PyObject *same)
{
    const int is_list = same != NULL && PyList_Check(same)
                        && PyList_GET_SIZE(same) == n;
    Py_ssize_t equal = 0;
    while (is_list && equal < n
           && PyFloat_CheckExact(PyList_GET_ITEM(same, equal))
           && PyFloat_AS_DOUBLE(PyList_GET_ITEM(same, equal)) == values[equal]) {
        equal++;
    }
    if (is_list && equal == n) {
        return Py_NewRef(same);
    }
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
    if (check_nargs(e, nargs) < 0 || as_reals(e, args, 1, 6, &v[1]) < 0) {
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
    Py_BEGIN_ALLOW_THREADS
    s = uba_eta_fill(&p, tp, n, (double *)PyArray_DATA(out), &bad);
    Py_END_ALLOW_THREADS
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
    if (check_nargs(e, nargs) < 0 || as_reals(e, args, 0, G_BASE, v) < 0) {
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
    for (int k = 0; k < 6; k++) {
        group[k] = buf + (size_t)k * (size_t)n;
    }
    for (int k = 0; k < 5; k++) {
        if (as_group_values(args[G_BASE + k], state_of(module)->lr_key,
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
        PyObject *lrs = list_of_floats(group[5], n, NULL);
        PyObject *ratios = list_of_floats(group[4], n, args[G_RATIOS]);
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

/*
 * The theory entry points share one adapter, theory().  Each takes, in
 * this order, the step sizes lrs (if any), the budget T (if any) and
 * reals; it returns one to three floats.
 */
typedef struct theory_call {
    const double *lrs;  /* n step sizes                                  */
    size_t n;
    size_t T;
    double v[8];        /* the real arguments, in order                  */
    double *work;       /* a workspace of work_len doubles, or NULL      */
    size_t work_len;
    double out[3];
    size_t bad;         /* the first offending entry of lrs              */
} theory_call;

enum theory_fn {
    CHEBYSHEV_LOG_RESIDUAL, CURVATURE_PARAMS, PHI_FROM_KAPPA, KAPPA_FROM_PHI,
    WORST_CASE_RESIDUAL, WORST_CASE_NOISY_ERROR, BOUND_NONCONVEX,
    BOUND_CONVEX, BOUND_STRONGLY_CONVEX, OPTIMAL_PHI,
    OPTIMAL_PHI_STRONGLY_CONVEX
};

typedef struct theory_entry {
    entry e;
    enum theory_fn fn;
    int takes_lrs, takes_T, n_out;
} theory_entry;

/* The one call into the core of each theory entry point. */
static uba_status
call_theory(enum theory_fn fn, theory_call *c)
{
    const double *v = c->v;
    double *out = c->out;
    switch (fn) {
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
                                       &c->bad);
    case WORST_CASE_NOISY_ERROR:
        return uba_worst_case_noisy_error(c->lrs, c->n, v[0], v[1], v[2],
                                          c->work, c->work_len, &out[0],
                                          &out[1], &c->bad);
    case BOUND_NONCONVEX:
        return uba_bound_nonconvex(c->lrs, c->n, v[0], v[1], v[2], out,
                                   &c->bad);
    case BOUND_CONVEX:
        return uba_bound_convex(c->lrs, c->n, v[0], v[1], v[2], out, &c->bad);
    case BOUND_STRONGLY_CONVEX:
        return uba_bound_strongly_convex(c->lrs, c->n, v[0], v[1], v[2], v[3],
                                         out, &c->bad);
    case OPTIMAL_PHI:
        return uba_optimal_phi(c->T, v[0], v[1], v[2], v[3], v[4], v[5], v[6],
                               c->work, c->work_len, &out[0], &out[1]);
    case OPTIMAL_PHI_STRONGLY_CONVEX:
        return uba_optimal_phi_strongly_convex(c->T, v[0], v[1], v[2], v[3],
                                               v[4], v[5], v[6], &out[0],
                                               &out[1]);
    }
    return UBA_E_NULL;
}

/* The workspace each call needs, in doubles (0: none). */
static size_t
theory_work_size(enum theory_fn fn, const theory_call *c)
{
    switch (fn) {
    case WORST_CASE_RESIDUAL:
    case WORST_CASE_NOISY_ERROR:
        return uba_worst_case_work_size(c->n);
    case OPTIMAL_PHI:
        return uba_optimal_phi_work_size(c->T);
    default:
        return 0;
    }
}

static const arg_name curvature_names[] = {
    COUNT("T"), SAME("lam_min"), SAME("lam_max")};
static const arg_name kappa_names[] = {SAME("kappa"), SAME("phi")};
static const arg_name residual_names[] = {
    SAME("lrs"), SAME("lam_min"), SAME("lam_max"), SAME("sigma2")};
static const arg_name nonconvex_names[] = {
    SAME("lrs"), SAME("L"), SAME("sigma2"), SAME("f_gap")};
static const arg_name convex_names[] = {
    SAME("lrs"), SAME("L"), SAME("sigma2"), SAME("dist2")};
static const arg_name strongly_convex_names[] = {
    SAME("lrs"), SAME("mu"), SAME("L"), SAME("sigma2"), SAME("f_gap")};
static const arg_name optimal_phi_names[] = {
    COUNT("T"), SAME("lam_min"), SAME("lam_max"), SAME("sigma2"),
    SAME("eta_max"), SAME("eta_min"), SAME("phi_lo"), SAME("phi_hi")};
static const arg_name optimal_sc_names[] = {
    COUNT("T"), SAME("mu"), SAME("L"), SAME("sigma2"), SAME("f_gap"),
    SAME("eta_max"), SAME("phi_lo"), SAME("phi_hi")};

static const entry chebyshev_steps_entry = {
    "chebyshev_step_sizes", 3, curvature_names, NULL};

#define THEORY(func, nargs, names, condition, fn, lrs, T, n_out)            \
    static const theory_entry fn##_ENTRY = {                                 \
        {func, nargs, names, condition}, fn, lrs, T, n_out}

THEORY("chebyshev_log_residual", 3, curvature_names, NULL,
       CHEBYSHEV_LOG_RESIDUAL, 0, 1, 1);
THEORY("curvature_params", 2, curvature_names + 1, NULL, CURVATURE_PARAMS, 0,
       0, 3);
THEORY("phi_from_condition_number", 1, kappa_names, NULL, PHI_FROM_KAPPA, 0,
       0, 1);
THEORY("condition_number_from_phi", 1, kappa_names + 1, NULL, KAPPA_FROM_PHI,
       0, 0, 1);
THEORY("worst_case_residual", 3, residual_names, NULL, WORST_CASE_RESIDUAL, 1,
       0, 2);
THEORY("worst_case_noisy_error", 4, residual_names, NULL,
       WORST_CASE_NOISY_ERROR, 1, 0, 2);
THEORY("bound_nonconvex", 4, nonconvex_names,
       "must meet bound (a)'s step-size condition 0 <= eta_t <= 1/L",
       BOUND_NONCONVEX, 1, 0, 1);
THEORY("bound_convex", 4, convex_names,
       "must meet bound (b)'s step-size condition 0 <= eta_t <= 1/(2L)",
       BOUND_CONVEX, 1, 0, 1);
THEORY("bound_strongly_convex", 5, strongly_convex_names,
       "must meet bound (c)'s step-size condition 0 <= eta_t <= 1/L",
       BOUND_STRONGLY_CONVEX, 1, 0, 1);
THEORY("optimal_phi", 8, optimal_phi_names, NULL, OPTIMAL_PHI, 0, 1, 2);
THEORY("optimal_phi_strongly_convex", 8, optimal_sc_names, NULL,
       OPTIMAL_PHI_STRONGLY_CONVEX, 0, 1, 2);

/*
 * The one body of the theory entry points: converts the arguments, makes
 * the entry's call (the GIL released), and returns its results or raises
 * for its status.  A workspace is allocated only once the call, made
 * without one, got past every check of its arguments (UBA_E_NULL): a bad
 * argument then gives its ValueError, not a MemoryError for a huge T.
 */
static PyObject *
theory(const theory_entry *te, PyObject *const *args, Py_ssize_t nargs)
{
    const entry *e = &te->e;
    theory_call c = {0};
    PyArrayObject *lrs = NULL;
    const int first = te->takes_lrs + te->takes_T;
    if (check_nargs(e, nargs) < 0
        || (te->takes_T && as_budget(e, args, 0, &c.T) < 0)
        || as_reals(e, args, first, (int)nargs - first, c.v) < 0) {
        return NULL;
    }
    if (te->takes_lrs) {
        if ((lrs = as_float_array(args[0], "lrs", 1)) == NULL) {
            return NULL;
        }
        c.lrs = (const double *)PyArray_DATA(lrs);
        c.n = (size_t)PyArray_SIZE(lrs);
    }
    const size_t work_len = theory_work_size(te->fn, &c);
    uba_status s = work_len == 0 ? UBA_E_NULL : call_theory(te->fn, &c);
    if (s == UBA_E_NULL && work_len > 0) {
        c.work_len = work_len;
        if ((c.work = new_workspace(work_len)) == NULL) {
            Py_XDECREF(lrs);
            return NULL;
        }
    }
    if (s == UBA_E_NULL) {
        Py_BEGIN_ALLOW_THREADS
        s = call_theory(te->fn, &c);
        Py_END_ALLOW_THREADS
    }
    PyMem_Free(c.work);
    PyObject *result = NULL;
    if (s != UBA_OK) {
        const int about_entry = strchr(uba_status_argument(s), '[') != NULL;
        const element at = {0, c.bad, c.bad < c.n ? c.lrs[c.bad] : 0.0, 1,
                            NULL};
        raise_status(e, s, args, about_entry ? &at : NULL);
    }
    else if (te->n_out == 1) {
        result = PyFloat_FromDouble(c.out[0]);
    }
    else {
        result = te->n_out == 2 ? Py_BuildValue("(dd)", c.out[0], c.out[1])
                                : Py_BuildValue("(ddd)", c.out[0], c.out[1],
                                                c.out[2]);
    }
    Py_XDECREF(lrs);
    return result;
}

#define THEORY_ENTRY(name, fn)                                              \
    static PyObject *name(PyObject *Py_UNUSED(module),                      \
                          PyObject *const *args, Py_ssize_t nargs)          \
    {                                                                       \
        return theory(&fn##_ENTRY, args, nargs);                            \
    }

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

/* The Chebyshev steps fill an array of T: the range is checked before it
 * is allocated. */
static PyObject *
chebyshev_step_sizes(PyObject *Py_UNUSED(module), PyObject *const *args,
                     Py_ssize_t nargs)
{
    const entry *e = &chebyshev_steps_entry;
    size_t T;
    double lam[2], unused[3];
    if (check_nargs(e, nargs) < 0 || as_budget(e, args, 0, &T) < 0
        || as_reals(e, args, 1, 2, lam) < 0) {
        return NULL;
    }
    uba_status s = uba_curvature_params(lam[0], lam[1], &unused[0],
                                        &unused[1], &unused[2]);
    PyArrayObject *out = NULL;
    if (s == UBA_OK) {
        npy_intp dim = (npy_intp)T;
        out = (PyArrayObject *)PyArray_SimpleNew(1, &dim, NPY_DOUBLE);
        if (out == NULL) {
            return NULL;
        }
        Py_BEGIN_ALLOW_THREADS
        s = uba_chebyshev_steps(T, lam[0], lam[1],
                                (double *)PyArray_DATA(out));
        Py_END_ALLOW_THREADS
    }
    if (s != UBA_OK) {
        Py_XDECREF(out);
        return raise_status(e, s, args, NULL);
    }
    return (PyObject *)out;
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
    FASTCALL(worst_case_residual, "lrs, lam_min, lam_max"),
    FASTCALL(worst_case_noisy_error, "lrs, lam_min, lam_max, sigma2"),
    FASTCALL(bound_nonconvex, "lrs, L, sigma2, f_gap"),
    FASTCALL(bound_convex, "lrs, L, sigma2, dist2"),
    FASTCALL(bound_strongly_convex, "lrs, mu, L, sigma2, f_gap"),
    FASTCALL(optimal_phi, "T, lam_min, lam_max, sigma2, eta_max, eta_min, "
                          "phi_lo, phi_hi"),
    FASTCALL(optimal_phi_strongly_convex, "T, mu, L, sigma2, f_gap, eta_max, "
                                          "phi_lo, phi_hi"),
    {NULL, NULL, 0, NULL},
};

/*
 * Multi-phase init (PEP 489).  The core is stateless; the module's state
 * is the interned key "lr".  The exec slot imports NumPy's C API and
 * publishes the C library's version.
 */
static int
core_exec(PyObject *module)
{
    if (PyArray_ImportNumPyAPI() < 0) {
        return -1;
    }
    state_of(module)->lr_key = PyUnicode_InternFromString("lr");
    if (state_of(module)->lr_key == NULL) {
        return -1;
    }
    return PyModule_AddStringConstant(module, "c_version", uba_version());
}

static int
core_clear(PyObject *module)
{
    Py_CLEAR(state_of(module)->lr_key);
    return 0;
}

static void
core_free(void *module)
{
    core_clear((PyObject *)module);
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
    .m_clear = core_clear,
    .m_free = core_free,
};

PyMODINIT_FUNC PyInit__core(void);

PyMODINIT_FUNC
PyInit__core(void)
{
    return PyModuleDef_Init(&core_module);
}
