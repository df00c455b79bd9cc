/* Helpers of the generated model (model/engine/cgen.py): PySD's and numpy's semantics in C.
   Copied into every generated source, so the source's hash covers them. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef void (*nx_loop)(char **args, const intptr_t *dimensions, const intptr_t *steps, void *data);

typedef struct { long n; const double *x; const double *y; long stride; } nx_table;   /* y + run * stride */

typedef struct {
    long runs;
    const double *const *value;   /* [inputs] a constant's values (NULL: the model's own) */
    const long *stride;           /* [inputs] 0: one value for all runs, 1: one per run */
    const nx_table *path;         /* [inputs] a time path instead (n = 0: none) */
    const nx_table *table;        /* [tables] a lookup's table (x = NULL: the model's own) */
    const unsigned char *dyn;     /* [variables] recomputed every step (it reads a time path) */
    double final_time, time_step, saveper;   /* NaN: the model's own */
    const int *save; long n_save;            /* variables saved at every save time */
    const int *fixed; long n_fixed;          /* run-constant variables, saved once */
    double *out_step; long capacity;         /* [n_save][capacity][runs] */
    long first_save;                         /* where this call's first save goes (a resumed run's) */
    double *out_fixed;                       /* [n_fixed][runs] */
    double *times; long n_times;             /* save times (out) */
    double pause; int resume;                /* pause at this time (NaN: run to the end); resume from state */
    double *state; long state_stride;        /* [runs][state_stride] */
} nx_call;

static nx_loop NX_LOOP[32];
static void *NX_DATA[32];
static int NX_VECTOR[32];   /* 1: a call on a block of runs verified to give the scalar calls' values */

int nx_set_kernel(int k, nx_loop loop, void *data, int vector) {
    if (k < 0 || k >= 32) return -1;
    NX_LOOP[k] = loop;
    NX_DATA[k] = data;
    NX_VECTOR[k] = vector;
    return 0;
}

/* numpy's float64 loop of a ufunc on one element, with the zero strides of numpy's call on scalars (as in
   PySD's runs): numpy's power takes exponents 0.5, 2 and -1 of a stride-0 operand by a faster, differently
   rounded route than an array's. */
static inline double nx_k1(int k, double a) {
    double out;
    char *args[2] = {(char *)&a, (char *)&out};
    intptr_t n = 1, steps[2] = {0, 0};
    NX_LOOP[k](args, &n, steps, NX_DATA[k]);
    return out;
}

static inline double nx_k2(int k, double a, double b) {
    double out;
    char *args[3] = {(char *)&a, (char *)&b, (char *)&out};
    intptr_t n = 1, steps[3] = {0, 0, 0};
    NX_LOOP[k](args, &n, steps, NX_DATA[k]);
    return out;
}

/* The kernel on a block of n runs, in one call of numpy's loop: its inner loop computes element by element
   as for one. A kernel whose block call was not verified at load (NX_VECTOR) is called per element. */
static void nx_v1(int k, long n, const double *a, double *out) {
    if (!NX_VECTOR[k]) {
        for (long i = 0; i < n; i++) out[i] = nx_k1(k, a[i]);
        return;
    }
    char *args[2] = {(char *)a, (char *)out};
    intptr_t len = n, steps[2] = {sizeof(double), sizeof(double)};
    NX_LOOP[k](args, &len, steps, NX_DATA[k]);
}

/* Exponents numpy's power may take by its scalar fast path (a stride-0 exponent of -1, 0, 0.5, 1 or 2:
   reciprocal, one, sqrt, identity, square). A block whose exponents differ is called with a strided
   exponent, which skips that path, so those elements are computed again as a scalar call does. */
static inline int nx_special(double b) { return (b == -1.0) | (b == 0.0) | (b == 0.5) | (b == 1.0) | (b == 2.0); }

/* Whether b's elements differ (in their bits, as numpy's stride-0 test sees one value) and whether any is
   special; in groups of 8, which the compiler vectorises. */
static inline void nx_scan(long n, const double *b, int *differ, int *special) {
    uint64_t first, bits, changed = 0;
    int any = 0;
    long i = 0;
    memcpy(&first, b, sizeof first);
    for (; i + 8 <= n; i += 8)
        for (int l = 0; l < 8; l++) {
            memcpy(&bits, b + i + l, sizeof bits);
            changed |= bits ^ first;
            any |= nx_special(b[i + l]);
        }
    for (; i < n; i++) {
        memcpy(&bits, b + i, sizeof bits);
        changed |= bits ^ first;
        any |= nx_special(b[i]);
    }
    *differ = changed != 0;
    *special = any;
}

static void nx_v2(int k, long n, const double *a, const double *b, double *out) {
    if (!NX_VECTOR[k]) {
        for (long i = 0; i < n; i++) out[i] = nx_k2(k, a[i], b[i]);
        return;
    }
    int differ, special;
    nx_scan(n, b, &differ, &special);
    char *args[3] = {(char *)a, (char *)b, (char *)out};
    intptr_t len = n, steps[3] = {sizeof(double), differ ? sizeof(double) : 0, sizeof(double)};
    NX_LOOP[k](args, &len, steps, NX_DATA[k]);
    if (differ && special)
        for (long i = 0; i < n; i++)
            if (nx_special(b[i])) out[i] = nx_k2(k, a[i], b[i]);
}

double nx_kernel_check(int k, double a, double b, int arity) {   /* lets the loader verify the kernels */
    return arity == 1 ? nx_k1(k, a) : nx_k2(k, a, b);
}

void nx_kernel_block(int k, long n, const double *a, const double *b, double *out, int arity) {
    if (arity == 1) nx_v1(k, n, a, out); else nx_v2(k, n, a, b, out);
}

static inline double nx_minimum(double a, double b) { return (a <= b || isnan(a)) ? a : b; }  /* np.minimum */
static inline double nx_maximum(double a, double b) { return (a >= b || isnan(a)) ? a : b; }  /* np.maximum */

static inline double nx_xidz(double numerator, double denominator, double x) {   /* PySD: SMALL_VENSIM */
    return fabs(denominator) < 1e-06 ? x : numerator / denominator;
}

static double nx_interp_at(double x, long n, const double *xp, const double *fp) {   /* np.interp */
    if (n == 1) return fp[0];
    if (isnan(x)) return x;
    if (x < xp[0]) return fp[0];
    if (x >= xp[n - 1]) return fp[n - 1];
    long lo = 0, hi = n - 1;                     /* xp[lo] <= x < xp[hi] */
    while (hi - lo > 1) {
        long mid = lo + (hi - lo) / 2;
        if (xp[mid] <= x) lo = mid; else hi = mid;
    }
    if (xp[lo] == x) return fp[lo];
    double slope = (fp[lo + 1] - fp[lo]) / (xp[lo + 1] - xp[lo]);
    double value = slope * (x - xp[lo]) + fp[lo];
    if (isnan(value)) {
        value = slope * (x - xp[lo + 1]) + fp[lo + 1];
        if (isnan(value) && fp[lo] == fp[lo + 1]) value = fp[lo];
    }
    return value;
}

static inline double nx_table_at(const nx_table *table, long run, double x) {
    return nx_interp_at(x, table->n, table->x, table->y + run * table->stride);
}

static inline double nx_pymod(double x, double y) {   /* Python's float %, sign of the divisor */
    double mod = fmod(x, y);
    if (mod != 0.0) {
        if ((y < 0) != (mod < 0)) mod += y;
    } else {
        mod = copysign(0.0, y);
    }
    return mod;
}

static inline int nx_in_return(double t, double t0, double dt, double saveper) {   /* PySD's Time.in_return */
    double prec = dt * 1e-05, delay = t - t0;
    return nx_pymod(delay, saveper) < prec || nx_pymod(-delay, saveper) < prec;
}

static inline long nx_delay_order(double delay_time, double dt) {   /* PySD's DelayFixed.initialize */
    double order = delay_time / dt;
    if (1.0 > order) order = 1.0;
    return (long)nearbyint(order + 1e-06);   /* Python's round: halves to even, as nearbyint */
}

/* A settable constant for runs R0..R0+n-1 in nb lanes (those past n repeat run n-1): its time path at t
   (one path, or one per run), or its values (one, or one per run). */
static void nx_input(const nx_call *c, int k, long R0, long n, long nb, double t, double *out) {
    const nx_table *path = &c->path[k];
    for (long i = 0; i < nb; i++) {
        long run = R0 + (i < n ? i : n - 1);
        if (path->n && !path->stride && i > 0) out[i] = out[0];
        else if (path->n) out[i] = nx_table_at(path, run, t);
        else out[i] = c->value[k][run * c->stride[k]];
    }
}

/* The pipes of one DELAY FIXED for n runs in one allocation: run r's holds order[r] values, all value[r]. */
static int nx_pipes(double **store, double **pipe, const long *order, const double *value, long n) {
    long total = 0;
    for (long r = 0; r < n; r++) total += order[r];
    *store = malloc(sizeof(double) * (size_t)(total > 0 ? total : 1));
    if (!*store) return -2;
    double *at = *store;
    for (long r = 0; r < n; r++) {
        pipe[r] = at;
        for (long k = 0; k < order[r]; k++) at[k] = value[r];
        at += order[r];
    }
    return 0;
}
