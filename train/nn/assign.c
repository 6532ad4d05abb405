/* assign.c: linear sum assignment for rectangular cost matrices, solved as scipy does
 * (Crouse, "On implementing 2D rectangular assignment algorithms", IEEE TAES 2016):
 * one shortest augmenting path per row with dual variables u, v, Dijkstra-like over the
 * reduced costs. O(nr^2 nc) for nr <= nc; a wide matrix is solved transposed. */
#include <math.h>

#include "nn_internal.h"

typedef struct lsap_work {
    double *u, *v, *spc; /* row duals, column duals, shortest path costs */
    int *path, *col4row, *row4col, *remaining;
    char *sr, *sc;
} lsap_work;

/* Finds the cheapest augmenting path from cur_row; returns the sink column or -1 when every
 * remaining column is forbidden (+inf). *min_val receives the path length. */
static int augmenting_path(int nr, int nc, const double *cost, lsap_work *w, int cur_row,
                           double *min_val) {
    double mv = 0;
    int n_rem = nc;
    for (int it = 0; it < nc; it++) w->remaining[it] = nc - it - 1;
    memset(w->sr, 0, (size_t)nr);
    memset(w->sc, 0, (size_t)nc);
    for (int j = 0; j < nc; j++) w->spc[j] = INFINITY;
    int sink = -1, i = cur_row;
    while (sink == -1) {
        int index = -1;
        double lowest = INFINITY;
        w->sr[i] = 1;
        for (int it = 0; it < n_rem; it++) {
            int j = w->remaining[it];
            double r = mv + cost[(int64_t)i * nc + j] - w->u[i] - w->v[j];
            if (r < w->spc[j]) {
                w->path[j] = i;
                w->spc[j] = r;
            }
            /* prefer an unassigned column on ties: it ends the search */
            if (w->spc[j] < lowest || (w->spc[j] == lowest && w->row4col[j] == -1)) {
                lowest = w->spc[j];
                index = it;
            }
        }
        mv = lowest;
        if (mv == INFINITY) return -1;
        int j = w->remaining[index];
        if (w->row4col[j] == -1)
            sink = j;
        else
            i = w->row4col[j];
        w->sc[j] = 1;
        w->remaining[index] = w->remaining[--n_rem];
    }
    *min_val = mv;
    return sink;
}

/* nr <= nc; col4row filled */
static int solve(int nr, int nc, const double *cost, lsap_work *w, es_error *err) {
    for (int i = 0; i < nr; i++) {
        w->u[i] = 0;
        w->col4row[i] = -1;
    }
    for (int j = 0; j < nc; j++) {
        w->v[j] = 0;
        w->row4col[j] = -1;
        w->path[j] = -1;
    }
    for (int cur = 0; cur < nr; cur++) {
        double mv;
        int sink = augmenting_path(nr, nc, cost, w, cur, &mv);
        if (sink < 0) return es_error_set(err, ES_ERR_INVALID, "linear_sum_assignment: cost matrix is infeasible");
        w->u[cur] += mv;
        for (int i = 0; i < nr; i++)
            if (w->sr[i] && i != cur) w->u[i] += mv - w->spc[w->col4row[i]];
        for (int j = 0; j < nc; j++)
            if (w->sc[j]) w->v[j] -= mv - w->spc[j];
        /* flip the path back to cur */
        int j = sink;
        for (;;) {
            int i = w->path[j];
            w->row4col[j] = i;
            int t = w->col4row[i];
            w->col4row[i] = j;
            j = t;
            if (i == cur) break;
        }
    }
    return ES_OK;
}

int nn_linear_sum_assignment(const double *cost, int nr, int nc, int *rows, int *cols,
                             double *total, es_error *err) {
    if (nr < 0 || nc < 0 || (!cost && nr && nc))
        return es_error_set(err, ES_ERR_INVALID, "linear_sum_assignment: bad %d x %d matrix", nr, nc);
    if (total) *total = 0;
    if (nr == 0 || nc == 0) return ES_OK;
    for (int64_t i = 0; i < (int64_t)nr * nc; i++)
        if (isnan(cost[i]) || cost[i] == -INFINITY)
            return es_error_set(err, ES_ERR_INVALID,
                                "linear_sum_assignment: cost[%lld] is %s (NaN and -inf are not allowed)",
                                (long long)i, isnan(cost[i]) ? "NaN" : "-inf");
    int transpose = nr > nc;
    int r = transpose ? nc : nr, c = transpose ? nr : nc;
    double *tc = NULL;
    if (transpose) {
        tc = malloc((size_t)nr * nc * sizeof *tc);
        if (!tc) return es_error_set(err, ES_ERR_NOMEM, "linear_sum_assignment: out of memory");
        for (int i = 0; i < nr; i++)
            for (int j = 0; j < nc; j++) tc[(int64_t)j * nr + i] = cost[(int64_t)i * nc + j];
    }
    lsap_work w;
    w.u = malloc((size_t)r * sizeof(double));
    w.v = malloc((size_t)c * sizeof(double));
    w.spc = malloc((size_t)c * sizeof(double));
    w.path = malloc((size_t)c * sizeof(int));
    w.col4row = malloc((size_t)r * sizeof(int));
    w.row4col = malloc((size_t)c * sizeof(int));
    w.remaining = malloc((size_t)c * sizeof(int));
    w.sr = malloc((size_t)r);
    w.sc = malloc((size_t)c);
    int rc;
    if (!w.u || !w.v || !w.spc || !w.path || !w.col4row || !w.row4col || !w.remaining || !w.sr || !w.sc)
        rc = es_error_set(err, ES_ERR_NOMEM, "linear_sum_assignment: out of memory");
    else
        rc = solve(r, c, transpose ? tc : cost, &w, err);
    if (rc == ES_OK) {
        if (!transpose) {
            for (int i = 0; i < r; i++) {
                rows[i] = i;
                cols[i] = w.col4row[i];
            }
        } else {
            /* pairs (original row, original col) sorted by original row */
            int k = 0;
            for (int orow = 0; orow < nr; orow++)
                if (w.row4col[orow] >= 0) {
                    rows[k] = orow;
                    cols[k] = w.row4col[orow];
                    k++;
                }
        }
        if (total) {
            double s = 0;
            for (int i = 0; i < r; i++) s += cost[(int64_t)rows[i] * nc + cols[i]];
            *total = s;
        }
    }
    free(tc);
    free(w.u);
    free(w.v);
    free(w.spc);
    free(w.path);
    free(w.col4row);
    free(w.row4col);
    free(w.remaining);
    free(w.sr);
    free(w.sc);
    return rc;
}
