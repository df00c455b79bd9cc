/* The body of a generated model (model/engine/cgen.py fills the marked places). The runs of a call go in
   blocks of at most NB, a variable's values for the block's runs side by side (structure of arrays),
   through the Euler loop of model/engine/batch.py's _integrate: save, flows, updates, time. Each
   equation is a loop over the block, so numpy's kernels are called once per equation and block. The
   equations are split into small functions (nx_part*), each reading the block's state from nx_block_state. */

#define NB /*NB*/
#define LANES 8     /* loops run over a multiple of 8 lanes, so the compiler vectorises them whole; the
                       lanes past the block's runs repeat its last run (RUN), and are never saved */
#define NV /*NV*/
#define NS /*NS*/
#define ND /*ND*/
#define NS_USED /*NS_USED*/
#define ND_USED /*ND_USED*/
enum { NX_RUN, NX_LAYOUT, NX_CLOCK };

typedef struct {
    double *store[ND];          /* a delay's pipes, one allocation per delay and block */
    double *pipe[ND][NB];       /* run r's pipe */
    long order[ND][NB], ptr[ND][NB];
} nx_pipes_of_block;

typedef struct {
    nx_call *c;
    long R0, n, nb;                     /* the block: runs R0..R0+n-1 in nb lanes (n rounded up to LANES) */
    double *V, *S, *F;                  /* [NV][NB], [NS][NB], [NS][NB]: variable i of run R0+r at V[i*NB+r] */
    nx_pipes_of_block *pipes;
    double t, t0, dt, final, saveper;
} nx_block_state;

#define RUN(r) (R0 + ((r) < n ? (r) : n - 1))
#define NX_UNPACK \
    nx_call *c = x->c; const long R0 = x->R0, n = x->n, nb = (x->nb + LANES - 1) & -LANES; /* known: a multiple */ \
    double *V = x->V, *S = V + NV * NB, *F = S + NS * NB;   /* one allocation: the compiler sees they differ */ \
    double *(*PIPE)[NB] = x->pipes->pipe; long (*ORDER)[NB] = x->pipes->order, (*PTR)[NB] = x->pipes->ptr; \
    double t = x->t, t0 = x->t0, dt = x->dt, final = x->final, saveper = x->saveper; \
    (void)c; (void)R0; (void)n; (void)V; (void)S; (void)F; (void)PIPE; (void)ORDER; (void)PTR; \
    (void)t; (void)t0; (void)dt; (void)final; (void)saveper;
#define NX_PART __attribute__((noinline))   /* each part vectorised on its own, not inlined into nx_block */
#define NX_PACK x->t0 = t0; x->dt = dt; x->final = final; x->saveper = saveper;

static inline double nx_lookup(const nx_call *c, int k, long r, double x) {
    if (c->table[k].x) return nx_table_at(&c->table[k], r, x);
    return nx_interp_at(x, TN[k], TX[k], TY[k]);
}

/* A lookup at the same x for every run of the block: read once unless each run has its own table. */
static void nx_lookup_block(const nx_call *c, int k, long R0, long n, long nb, double x, double *out) {
    if (c->table[k].x && c->table[k].stride) {
        for (long r = 0; r < nb; r++) out[r] = nx_table_at(&c->table[k], RUN(r), x);
        return;
    }
    double v = nx_lookup(c, k, R0, x);
    for (long r = 0; r < nb; r++) out[r] = v;
}
/*FUNCTIONS*/
static int nx_save(nx_block_state *x, long k) {
    nx_call *c = x->c;
    k += c->first_save;
    if (k >= c->capacity) return -1;
    for (long j = 0; j < c->n_save; j++)    /* out_step: [n_save][capacity][runs] */
        memcpy(c->out_step + (j * c->capacity + k) * c->runs + x->R0, x->V + (long)c->save[j] * NB,
               sizeof(double) * x->n);
    c->times[k] = x->t;
    return 0;
}

/* The state of run R0+r: time, stocks and smooth stages, each delay's pointer and pipe (as `pause` keeps it);
   stored for the block's runs, loaded into every lane. */
static void nx_state(nx_block_state *x, int store) {
    nx_pipes_of_block *p = x->pipes;
    const long R0 = x->R0, n = x->n;
    for (long r = 0; r < (store ? n : x->nb); r++) {
        double *state = x->c->state + RUN(r) * x->c->state_stride;
        long at = 0;
        if (store) state[at++] = x->t; else x->t = state[at++];
        for (long k = 0; k < NS_USED; k++, at++) {
            if (store) state[at] = x->S[k * NB + r]; else x->S[k * NB + r] = state[at];
        }
        for (int d = 0; d < ND_USED; d++) {
            if (store) state[at++] = (double)p->ptr[d][r]; else p->ptr[d][r] = (long)state[at++];
            for (long k = 0; k < p->order[d][r]; k++, at++) {
                if (store) state[at] = p->pipe[d][r][k]; else p->pipe[d][r][k] = state[at];
            }
        }
    }
}

/* Runs R0..R0+n-1 of the call (n <= NB), in `values` ([NV + 2 NS][NB], zeroed here); NX_LAYOUT: only
   initialise them and give the largest state's size; NX_CLOCK: only the time axis (t0, final, dt, saveper). */
static int nx_block(nx_call *c, double *values, long R0, long n, int mode, double *clock, long *layout) {
    memset(values, 0, sizeof(double) * (NV + 2 * NS) * NB);
    nx_block_state block = {c, R0, n, (n + LANES - 1) / LANES * LANES, values, values + NV * NB,
                            values + (NV + NS) * NB, calloc(1, sizeof(nx_pipes_of_block)), 0.0, 0.0, 0.0, 0.0, 0.0};
    nx_block_state *x = &block;
    long saves = 0;
    int status = 0;
    if (!x->pipes) return -2;
/*CONTROL*/
    if (mode == NX_CLOCK) {
        clock[0] = x->t0; clock[1] = x->final; clock[2] = x->dt; clock[3] = x->saveper;
        goto done;
    }
    if (!(x->dt > 0.0)) { status = -3; goto done; }
    x->t = x->t0;
/*INIT*/
    if (mode == NX_LAYOUT) {
        for (long r = 0; r < n; r++) {
            long size = 1 + NS_USED;
            for (int d = 0; d < ND_USED; d++) size += 1 + x->pipes->order[d][r];
            if (size > *layout) *layout = size;
        }
        goto done;
    }
    if (c->resume) nx_state(x, 0);
    while (x->t + x->dt * 1e-05 < x->final) {
        if (!isnan(c->pause) && x->t >= c->pause - x->dt * 1e-05) break;
/*NEEDED*/
        if (nx_in_return(x->t, x->t0, x->dt, x->saveper)) {
/*REST*/
            if (nx_save(x, saves++)) { status = -1; goto done; }
        }
/*FLOWS*/
/*UPDATES*/
        x->t = x->t + x->dt;
    }
    if (!isnan(c->pause)) {
        nx_state(x, 1);
    } else if (nx_in_return(x->t, x->t0, x->dt, x->saveper)) {
/*NEEDED*/
/*REST*/
        if (nx_save(x, saves++)) { status = -1; goto done; }
    }
    for (long j = 0; j < c->n_fixed; j++)
        for (long r = 0; r < n; r++) c->out_fixed[j * c->runs + R0 + r] = x->V[(long)c->fixed[j] * NB + r];
    c->n_times = c->first_save + saves;
done:
    for (int d = 0; d < ND_USED; d++) free(x->pipes->store[d]);
    free(x->pipes);
    return status;
}

/* Every block of the call in turn (mode NX_RUN or NX_LAYOUT), in one allocation. */
static int nx_blocks(nx_call *c, int mode, long *layout) {
    double *values = malloc(sizeof(double) * (NV + 2 * NS) * NB);
    int status = values ? 0 : -2;
    for (long r = 0; r < c->runs && !status; r += NB)
        status = nx_block(c, values, r, c->runs - r < NB ? c->runs - r : NB, mode, NULL, layout);
    free(values);
    return status;
}

int nx_run(nx_call *c) {
    return nx_blocks(c, NX_RUN, NULL);
}

long nx_state_size(nx_call *c) {
    long most = 0;
    return nx_blocks(c, NX_LAYOUT, &most) ? -1 : most;
}

/* The time axis of run 0 (control variables with the call's overrides): t0, final, dt, saveper. */
int nx_clock(nx_call *c, double *out) {
    double *values = malloc(sizeof(double) * (NV + 2 * NS) * NB);
    int status = values ? nx_block(c, values, 0, 1, NX_CLOCK, out, NULL) : -2;
    free(values);
    return status;
}
