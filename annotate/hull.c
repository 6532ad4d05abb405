/* hull.c: convex hull area by Andrew's monotone chain over points already sorted by x then
 * y (the run endpoints of a column-major mask come out in that order, so no sort). */
#include "shape.h"

/* > 0 when o->a->b turns counter-clockwise (x right, y up). */
static double cross(const double *o, const double *a, const double *b) {
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
}

double es_hull_area_sorted(const double *xy, size_t n, double *hull) {
    if (n < 3) return 0.0;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) { /* lower chain */
        while (k >= 2 && cross(&hull[2 * (k - 2)], &hull[2 * (k - 1)], &xy[2 * i]) <= 0) k--;
        hull[2 * k] = xy[2 * i];
        hull[2 * k + 1] = xy[2 * i + 1];
        k++;
    }
    size_t lower = k + 1;
    for (size_t i = n - 1; i-- > 0;) { /* upper chain, back to the first point */
        while (k >= lower && cross(&hull[2 * (k - 2)], &hull[2 * (k - 1)], &xy[2 * i]) <= 0) k--;
        hull[2 * k] = xy[2 * i];
        hull[2 * k + 1] = xy[2 * i + 1];
        k++;
    }
    k--; /* the last point repeats the first */
    double a = 0.0;
    for (size_t i = 0; i < k; i++) {
        size_t j = (i + 1) % k;
        a += hull[2 * i] * hull[2 * j + 1] - hull[2 * j] * hull[2 * i + 1];
    }
    return a < 0 ? -a / 2 : a / 2;
}
