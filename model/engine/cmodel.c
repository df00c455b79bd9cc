/* The body of a generated model (model/engine/cgen.py fills the marked places). One run at a time, as
   model/engine/batch.py's _integrate runs PySD's Euler loop: save, flows, updates, time. */

#define NS_USED /*NS_USED*/
#define ND_USED /*ND_USED*/

static inline double nx_lookup(const nx_call *c, int k, long r, double x) {
    if (c->table[k].x) return nx_table_at(&c->table[k], r, x);
    return nx_interp_at(x, TN[k], TX[k], TY[k]);
}

static int nx_save(nx_call *c, long r, const double *V, double t, long k) {
    if (k >= c->capacity) return -1;
    for (long j = 0; j < c->n_save; j++) c->out_step[(j * c->runs + r) * c->capacity + k] = V[c->save[j]];
    c->times[k] = t;
    return 0;
}

/* Run r of the call; with `layout`, only initialise it and give the size of its state. */
static int nx_one(nx_call *c, long r, long *layout) {
    double V[/*NV*/], S[/*NS*/], F[/*NS*/];
    double *PIPE[/*ND*/] = {0};
    long ORDER[/*ND*/] = {0}, PTR[/*ND*/] = {0};
    double t = 0.0, t0 = 0.0, dt = 0.0, final = 0.0, saveper = 0.0;
    long saves = 0;
    int status = 0;
    (void)F; (void)S; (void)ORDER; (void)PTR;
/*CONTROL*/
    if (!(dt > 0.0)) return -3;
    t = t0;
/*INIT*/
    if (layout) {
        *layout = 1 + NS_USED;
        for (int d = 0; d < ND_USED; d++) *layout += 1 + ORDER[d];
        goto done;
    }
    if (c->resume) {
        const double *state = c->state + r * c->state_stride;
        long at = 0;
        t = state[at++];
        for (long k = 0; k < NS_USED; k++) S[k] = state[at++];
        for (int d = 0; d < ND_USED; d++) {
            PTR[d] = (long)state[at++];
            for (long k = 0; k < ORDER[d]; k++) PIPE[d][k] = state[at++];
        }
    }
    while (t + dt * 1e-05 < final) {
        if (!isnan(c->pause) && t >= c->pause - dt * 1e-05) break;
/*NEEDED*/
        if (nx_in_return(t, t0, dt, saveper)) {
/*REST*/
            if (nx_save(c, r, V, t, saves++)) { status = -1; goto done; }
        }
/*FLOWS*/
/*UPDATES*/
        t = t + dt;
    }
    if (!isnan(c->pause)) {
        double *state = c->state + r * c->state_stride;
        long at = 0;
        state[at++] = t;
        for (long k = 0; k < NS_USED; k++) state[at++] = S[k];
        for (int d = 0; d < ND_USED; d++) {
            state[at++] = (double)PTR[d];
            for (long k = 0; k < ORDER[d]; k++) state[at++] = PIPE[d][k];
        }
    } else if (nx_in_return(t, t0, dt, saveper)) {
/*NEEDED*/
/*REST*/
        if (nx_save(c, r, V, t, saves++)) { status = -1; goto done; }
    }
    for (long j = 0; j < c->n_fixed; j++) c->out_fixed[j * c->runs + r] = V[c->fixed[j]];
    c->n_times = saves;
done:
    for (int d = 0; d < ND_USED; d++) free(PIPE[d]);
    return status;
}

int nx_run(nx_call *c) {
    for (long r = 0; r < c->runs; r++) {
        int status = nx_one(c, r, NULL);
        if (status) return status;
    }
    return 0;
}

long nx_state_size(nx_call *c) {
    long most = 0;
    for (long r = 0; r < c->runs; r++) {
        long size = 0;
        if (nx_one(c, r, &size)) return -1;
        if (size > most) most = size;
    }
    return most;
}

/* The time axis of run 0 (control variables with the call's overrides): t0, final, dt, saveper. */
int nx_clock(nx_call *c, double *out) {
    double V[/*NV*/];
    double t = 0.0, t0 = 0.0, dt = 0.0, final = 0.0, saveper = 0.0;
    long r = 0;
    (void)V; (void)t; (void)r;
/*CONTROL*/
    out[0] = t0; out[1] = final; out[2] = dt; out[3] = saveper;
    return 0;
}
