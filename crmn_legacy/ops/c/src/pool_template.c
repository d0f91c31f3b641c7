/* pool_template.c -- non-overlapping p x p mean pooling and its adjoint, for one dtype.
 *
 * crmn_legacy/ops/pool.py instantiates this text for float and double
 * (DTYPE, NPYTYPE).  x is (N, C, H, W), y is (N, C, Ho, Wo) with Ho = H / p,
 * Wo = W / p (integer division: rows and columns that do not fill a window
 * are ignored, Lasagne's ignore_border=True).
 *
 *   forward  y[n,c,i,j]  = 1/p^2 sum_{a,b < p} x[n,c,p i + a,p j + b]
 *   adjoint  dx[n,c,r,s] = 1/p^2 gy[n,c,r / p,s / p]  (0 in the ignored border)
 *
 * The N*C planes are shared out between OpenMP threads.
 */

static int crmn_meanpool_fwd_DTYPE(PyArrayObject *x_in, int p, PyArrayObject **y_out)
{
    PyArrayObject *xa = crmn_contig(x_in, NPYTYPE);
    if (xa == NULL) return -1;
    if (crmn_pool_check4(xa, "MeanPool", "input") || crmn_pool_check_size(xa, p)) {
        Py_DECREF(xa);
        return -1;
    }
    const npy_intp *d = PyArray_DIMS(xa);
    const npy_intp planes = d[0] * d[1], H = d[2], W = d[3], Ho = H / p, Wo = W / p;
    npy_intp od[4] = {d[0], d[1], Ho, Wo};
    if (crmn_prepare(y_out, 4, od, NPYTYPE)) {
        Py_DECREF(xa);
        return -1;
    }
    const DTYPE *x = (const DTYPE *)PyArray_DATA(xa);
    DTYPE *y = (DTYPE *)PyArray_DATA(*y_out);
    const DTYPE scale = (DTYPE)(1.0 / ((double)p * p));
    const int nt = crmn_threads(planes, planes * H * W, 65536);
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
    for (npy_intp q = 0; q < planes; ++q) {
        const DTYPE *xp = x + q * H * W;
        DTYPE *yp = y + q * Ho * Wo;
        for (npy_intp i = 0; i < Ho; ++i) {
            DTYPE *yr = yp + i * Wo;
            for (npy_intp j = 0; j < Wo; ++j) yr[j] = 0;
            for (int a = 0; a < p; ++a) {
                const DTYPE *xr = xp + (i * p + a) * W;
                if (p == 2) {
                    for (npy_intp j = 0; j < Wo; ++j) yr[j] += xr[2 * j] + xr[2 * j + 1];
                } else {
                    for (npy_intp j = 0; j < Wo; ++j)
                        for (int b = 0; b < p; ++b) yr[j] += xr[j * p + b];
                }
            }
            for (npy_intp j = 0; j < Wo; ++j) yr[j] *= scale;
        }
    }
    Py_DECREF(xa);
    return 0;
}

static int crmn_meanpool_grad_DTYPE(PyArrayObject *gy_in, PyArrayObject *ishape, int p, PyArrayObject **dx_out)
{
    npy_int64 hw[2];
    if (crmn_read_pair("MeanPoolGrad", "ishape", ishape, hw)) return -1;
    PyArrayObject *ga = crmn_contig(gy_in, NPYTYPE);
    if (ga == NULL) return -1;
    if (crmn_pool_check4(ga, "MeanPoolGrad", "output gradient")) {
        Py_DECREF(ga);
        return -1;
    }
    const npy_intp *d = PyArray_DIMS(ga);
    const npy_intp planes = d[0] * d[1], Ho = d[2], Wo = d[3], H = (npy_intp)hw[0], W = (npy_intp)hw[1];
    if (H < 0 || W < 0 || H / p != Ho || W / p != Wo) {
        PyErr_Format(PyExc_ValueError,
                     "MeanPoolGrad: output gradient of spatial shape (%ld, %ld) does not come from a %dx%d "
                     "pooling of a (%ld, %ld) input", (long)Ho, (long)Wo, p, p, (long)H, (long)W);
        Py_DECREF(ga);
        return -1;
    }
    npy_intp od[4] = {d[0], d[1], H, W};
    if (crmn_prepare(dx_out, 4, od, NPYTYPE)) {
        Py_DECREF(ga);
        return -1;
    }
    const DTYPE *gy = (const DTYPE *)PyArray_DATA(ga);
    DTYPE *dx = (DTYPE *)PyArray_DATA(*dx_out);
    const DTYPE scale = (DTYPE)(1.0 / ((double)p * p));
    const int nt = crmn_threads(planes, planes * H * W, 65536);
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
    for (npy_intp q = 0; q < planes; ++q) {
        const DTYPE *gp = gy + q * Ho * Wo;
        DTYPE *dp = dx + q * H * W;
        for (npy_intp r = 0; r < H; ++r) {
            DTYPE *dr = dp + r * W;
            if (r >= Ho * p) {
                for (npy_intp s = 0; s < W; ++s) dr[s] = 0;
                continue;
            }
            const DTYPE *gr = gp + (r / p) * Wo;
            if (p == 2) {
                for (npy_intp j = 0; j < Wo; ++j) dr[2 * j] = dr[2 * j + 1] = gr[j] * scale;
            } else {
                for (npy_intp j = 0; j < Wo; ++j)
                    for (int b = 0; b < p; ++b) dr[j * p + b] = gr[j] * scale;
            }
            for (npy_intp s = Wo * p; s < W; ++s) dr[s] = 0;
        }
    }
    Py_DECREF(ga);
    return 0;
}
