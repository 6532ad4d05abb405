/* test_assign.c: the linear sum assignment solver against brute force (every permutation)
 * on random matrices up to 8 x 8, against known optima on rectangular ones, a 100 x 300
 * matching that no single move improves, its bad-input errors; and box NMS against
 * hand-made cases. (Its 100 x 300 speed: bench-nn-assign.) */
#include "es_test.h"
#include "nn.h"

static es_error err;

/* minimum over injective maps of the smaller side into the larger */
static double brute(const double *c, int nr, int nc, int row, unsigned used, double acc, double best) {
    if (row == nr) return acc < best ? acc : best;
    for (int j = 0; j < nc; j++)
        if (!(used & (1u << j))) best = brute(c, nr, nc, row + 1, used | (1u << j), acc + c[row * nc + j], best);
    return best;
}

static double brute_any(const double *c, int nr, int nc) {
    if (nr <= nc) return brute(c, nr, nc, 0, 0, 0, INFINITY);
    double *t = malloc(sizeof(double) * nr * nc);
    for (int i = 0; i < nr; i++)
        for (int j = 0; j < nc; j++) t[j * nr + i] = c[i * nc + j];
    double b = brute(t, nc, nr, 0, 0, 0, INFINITY);
    free(t);
    return b;
}

static void test_matches_brute_force(void) {
    nn_rng rng;
    nn_rng_seed(&rng, 7);
    double c[64];
    int rows[8], cols[8];
    for (int trial = 0; trial < 300; trial++) {
        int nr = 1 + (int)(nn_rng_u32(&rng) % 8), nc = 1 + (int)(nn_rng_u32(&rng) % 8);
        int ties = trial % 3 == 0; /* small integers: many ties */
        for (int i = 0; i < nr * nc; i++)
            c[i] = ties ? (double)(nn_rng_u32(&rng) % 4) : (double)nn_rng_uniform(&rng) * 10 - 3;
        double total;
        CHECK_OK(nn_linear_sum_assignment(c, nr, nc, rows, cols, &total, &err), &err);
        int k = nr < nc ? nr : nc;
        double s = 0;
        unsigned ur = 0, uc = 0;
        for (int i = 0; i < k; i++) {
            s += c[rows[i] * nc + cols[i]];
            CHECK(!(ur & (1u << rows[i])) && !(uc & (1u << cols[i])));
            ur |= 1u << rows[i];
            uc |= 1u << cols[i];
            if (i) CHECK(rows[i] > rows[i - 1]); /* sorted by row, as scipy */
        }
        CHECK_NEAR(s, total, 1e-9);
        CHECK_NEAR(total, brute_any(c, nr, nc), 1e-9);
    }
}

static void test_known_rectangular_optima(void) {
    /* scipy docs example: cost [[4,1,3],[2,0,5],[3,2,2]] -> rows 0,1,2 cols 1,0,2, sum 5 */
    double a[9] = {4, 1, 3, 2, 0, 5, 3, 2, 2};
    int r[3], c[3];
    double t;
    CHECK_OK(nn_linear_sum_assignment(a, 3, 3, r, c, &t, &err), &err);
    CHECK(c[0] == 1 && c[1] == 0 && c[2] == 2);
    CHECK_NEAR(t, 5, 0);
    /* 2 x 4: row 0 best at col 3 (1), row 1 best at col 3 too (0) but 1 + 2 (col 1) = 3 <
     * 5 + 0 -> rows pick cols 3 and 1? row0: [9 9 9 1], row1: [9 2 9 0]: 1 + 2 = 3 */
    double b[8] = {9, 9, 9, 1, 9, 2, 9, 0};
    CHECK_OK(nn_linear_sum_assignment(b, 2, 4, r, c, &t, &err), &err);
    CHECK(r[0] == 0 && c[0] == 3 && r[1] == 1 && c[1] == 1);
    CHECK_NEAR(t, 3, 0);
    /* the transpose (4 x 2) gives the same pairs, sorted by row */
    double bt[8] = {9, 9, 9, 2, 9, 9, 1, 0};
    CHECK_OK(nn_linear_sum_assignment(bt, 4, 2, r, c, &t, &err), &err);
    CHECK(r[0] == 1 && c[0] == 1 && r[1] == 3 && c[1] == 0);
    CHECK_NEAR(t, 3, 0);
    /* +inf = forbidden pair; still feasible */
    double d[4] = {INFINITY, 1, 2, INFINITY};
    CHECK_OK(nn_linear_sum_assignment(d, 2, 2, r, c, &t, &err), &err);
    CHECK(c[0] == 1 && c[1] == 0);
    CHECK_NEAR(t, 3, 0);
    /* identity-structured 5 x 10: diagonal zeros, everything else 1 */
    double e[50];
    for (int i = 0; i < 50; i++) e[i] = (i / 10 == i % 10 - 5) ? 0 : 1;
    int r5[5], c5[5];
    CHECK_OK(nn_linear_sum_assignment(e, 5, 10, r5, c5, &t, &err), &err);
    for (int i = 0; i < 5; i++) CHECK_EQ_INT(c5[i], i + 5);
    CHECK_NEAR(t, 0, 0);
    /* empty */
    CHECK_OK(nn_linear_sum_assignment(NULL, 0, 5, r, c, &t, &err), &err);
}

static void test_bad_costs(void) {
    int r[2], c[2];
    double nan_cost[4] = {1, NAN, 2, 3};
    CHECK_EQ_INT(nn_linear_sum_assignment(nan_cost, 2, 2, r, c, NULL, &err), ES_ERR_INVALID);
    CHECK(strstr(err.msg, "NaN") != NULL);
    double ninf[4] = {1, -INFINITY, 2, 3};
    CHECK_EQ_INT(nn_linear_sum_assignment(ninf, 2, 2, r, c, NULL, &err), ES_ERR_INVALID);
    double infeasible[4] = {INFINITY, INFINITY, 1, 2};
    CHECK_EQ_INT(nn_linear_sum_assignment(infeasible, 2, 2, r, c, NULL, &err), ES_ERR_INVALID);
    CHECK(strstr(err.msg, "infeasible") != NULL);
}

/* 100 x 300 (K-Net's size; its speed is bench-nn-assign's): a full matching of distinct
 * columns that no single move improves, neither a row to an unused column nor two rows
 * swapping theirs (both necessary for the optimum) */
static void test_100x300_locally_optimal(void) {
    nn_rng rng;
    nn_rng_seed(&rng, 11);
    enum { NR = 100, NC = 300 };
    double *c = malloc(sizeof(double) * NR * NC);
    int rows[NR], cols[NR], used[NC] = {0};
    for (int i = 0; i < NR * NC; i++) c[i] = nn_rng_uniform(&rng);
    CHECK_OK(nn_linear_sum_assignment(c, NR, NC, rows, cols, NULL, &err), &err);
    int col_of[NR], bad = 0;
    for (int k = 0; k < NR; k++) {
        CHECK(rows[k] == k && cols[k] >= 0 && cols[k] < NC && !used[cols[k]]);
        if (cols[k] < 0 || cols[k] >= NC) return;
        used[cols[k]] = 1;
        col_of[k] = cols[k];
    }
    const double eps = 1e-12;
    for (int i = 0; i < NR; i++) {
        double ci = c[i * NC + col_of[i]];
        for (int j = 0; j < NC; j++) bad += !used[j] && c[i * NC + j] < ci - eps;
        for (int k = i + 1; k < NR; k++)
            bad += c[i * NC + col_of[k]] + c[k * NC + col_of[i]] < ci + c[k * NC + col_of[k]] - eps;
    }
    CHECK_EQ_INT(bad, 0);
    free(c);
}

static void test_nms(void) {
    /* boxes 0 and 1 overlap with IoU 0.6818 (15x10 vs 10x10... computed below); box 2 apart */
    float boxes[16] = {0, 0, 10, 10, 1, 1, 11, 11, 50, 50, 60, 60, 0, 0, 10, 10};
    float scores[4] = {0.9f, 0.95f, 0.5f, 0.9f};
    int keep[4], n;
    /* IoU(0,1) = 81 / (100 + 100 - 81) = 0.6807 */
    CHECK_OK(nn_nms(boxes, scores, 4, 0.5f, keep, &n, &err), &err);
    CHECK_EQ_INT(n, 2);
    CHECK(keep[0] == 1 && keep[1] == 2);
    CHECK_OK(nn_nms(boxes, scores, 4, 0.7f, keep, &n, &err), &err);
    /* 1 kept; 0 (iou .68 <= .7) kept; 3 duplicates 0 (iou 1) -> suppressed; 2 kept */
    CHECK_EQ_INT(n, 3);
    CHECK(keep[0] == 1 && keep[1] == 0 && keep[2] == 2);
    float nan_scores[1] = {NAN};
    CHECK_EQ_INT(nn_nms(boxes, nan_scores, 1, 0.5f, keep, &n, &err), ES_ERR_INVALID);
    CHECK_OK(nn_nms(NULL, NULL, 0, 0.5f, keep, &n, &err), &err);
    CHECK_EQ_INT(n, 0);
}

int main(void) {
    ES_RUN(test_matches_brute_force);
    ES_RUN(test_known_rectangular_optima);
    ES_RUN(test_bad_costs);
    ES_RUN(test_100x300_locally_optimal);
    ES_RUN(test_nms);
    ES_TEST_END();
}
