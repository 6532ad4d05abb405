/* border.c: the outer border of one 8-connected component, followed as in Suzuki & Abe
 * (1985) step 3 (what OpenCV findContours does), and its closed length through pixel
 * centres (OpenCV arcLength(contour, true) of the CHAIN_APPROX_NONE points).
 *
 * Directions, counter-clockwise on screen (row axis pointing down):
 *   3 2 1
 *   4 . 0
 *   5 6 7
 */
#include <math.h>

#include "shape.h"

#define ES_SQRT2 1.4142135623730951

static const int DR[8] = {0, -1, -1, -1, 0, 1, 1, 1};
static const int DC[8] = {1, 1, 0, -1, -1, -1, 0, 1};

double es_border_length(const uint8_t *grid, uint32_t rows, uint32_t cols, uint32_t r,
                        uint32_t c, size_t *n_points) {
    (void)rows;
    const long stride = (long)cols;
    const long off[8] = {DR[0] * stride + DC[0], DR[1] * stride + DC[1], DR[2] * stride + DC[2],
                         DR[3] * stride + DC[3], DR[4] * stride + DC[4], DR[5] * stride + DC[5],
                         DR[6] * stride + DC[6], DR[7] * stride + DC[7]};
    const double step[8] = {1.0, ES_SQRT2, 1.0, ES_SQRT2, 1.0, ES_SQRT2, 1.0, ES_SQRT2};
    const long start = (long)r * stride + (long)c;
    size_t npts = 1;
    /* 3.1: from the background pixel on the left (direction 4), search clockwise for the
     * first foreground neighbour: the border's last point before it closes. */
    int d1 = -1;
    for (int k = 0; k < 8; k++) {
        int d = (4 - k + 8) & 7;
        if (grid[start + off[d]]) {
            d1 = d;
            break;
        }
    }
    if (d1 < 0) { /* an isolated pixel: one point, length 0 */
        if (n_points) *n_points = 1;
        return 0.0;
    }
    const long p1 = start + off[d1];
    long p3 = start;
    int dprev = d1; /* direction from p3 to the previously visited border pixel */
    double length = 0.0;
    for (;;) {
        /* 3.3: counter-clockwise from the element after the previous pixel. */
        int d4 = -1;
        for (int k = 1; k <= 8; k++) {
            int d = (dprev + k) & 7;
            if (grid[p3 + off[d]]) {
                d4 = d;
                break;
            }
        }
        long p4 = p3 + off[d4]; /* d4 exists: p3 has at least the pixel it came from */
        length += step[d4];
        if (p4 == start && p3 == p1) break; /* 3.5: closed */
        npts++;
        dprev = (d4 + 4) & 7;
        p3 = p4;
    }
    if (n_points) *n_points = npts;
    return length;
}
