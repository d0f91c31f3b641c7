/* batchnorm_template.c -- fused training-mode batch normalisation for one dtype.
 *
 * crmn_legacy/ops/batchnorm.py instantiates this text for float and double
 * (DTYPE, NPYTYPE).  x is (N, C, S) C-contiguous (S = H*W, statistics over
 * n and s for each channel c, M = N*S).  Accumulation is in double.
 *
 * forward   mu_c = 1/M sum x,  var_c = 1/M sum (x - mu_c)^2  (two passes),
 *           inv_c = 1/sqrt(var_c + eps),
 *           y = (x - mu_c) * inv_c * gamma_c + beta_c,   or max(that, 0) when relu
 * backward  xhat = (x - mu_c) inv_c,  dbeta_c = sum dy,  dgamma_c = sum dy xhat,
 *           dx = gamma_c inv_c (dy - dbeta_c / M - xhat dgamma_c / M)
 *           where, when relu, dy is first masked by the forward output: dy [y > 0]
 * Channels are shared out between OpenMP threads.
 */

static int crmn_bn_fwd_impl_DTYPE(PyArrayObject *xa, PyArrayObject *ga, PyArrayObject *ba, double eps, int relu,
                                  PyArrayObject **y_out, PyArrayObject **m_out, PyArrayObject **i_out)
{
    const npy_intp N = PyArray_DIMS(xa)[0], C = PyArray_DIMS(xa)[1];
    npy_intp S = 1;
    for (int d = 2; d < PyArray_NDIM(xa); ++d) S *= PyArray_DIMS(xa)[d];
    if (crmn_bn_check_vec("BatchNormTrain", "gamma", ga, C) || crmn_bn_check_vec("BatchNormTrain", "beta", ba, C))
        return -1;
    if (N * S == 0) {
        PyErr_SetString(PyExc_ValueError, "BatchNormTrain: batch statistics of an empty batch");
        return -1;
    }
    if (crmn_prepare(y_out, PyArray_NDIM(xa), PyArray_DIMS(xa), NPYTYPE) ||
        crmn_prepare(m_out, 1, &C, NPYTYPE) || crmn_prepare(i_out, 1, &C, NPYTYPE))
        return -1;
    const DTYPE *x = (const DTYPE *)PyArray_DATA(xa);
    const DTYPE *gamma = (const DTYPE *)PyArray_DATA(ga), *beta = (const DTYPE *)PyArray_DATA(ba);
    DTYPE *y = (DTYPE *)PyArray_DATA(*y_out);
    DTYPE *mo = (DTYPE *)PyArray_DATA(*m_out), *io = (DTYPE *)PyArray_DATA(*i_out);
    const double M = (double)N * (double)S;
    const int nt = crmn_threads(C, C * N * S, 32768);
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt) if (nt > 1)
    for (npy_intp c = 0; c < C; ++c) {
        double sum = 0.0, ssq = 0.0;
        for (npy_intp n = 0; n < N; ++n) {
            const DTYPE *xr = x + (n * C + c) * S;
            DTYPE acc = 0;
#pragma omp simd reduction(+ : acc)
            for (npy_intp s = 0; s < S; ++s) acc += xr[s];
            sum += (double)acc;
        }
        const DTYPE mu = (DTYPE)(sum / M);
        for (npy_intp n = 0; n < N; ++n) {
            const DTYPE *xr = x + (n * C + c) * S;
            DTYPE acc = 0;
#pragma omp simd reduction(+ : acc)
            for (npy_intp s = 0; s < S; ++s) {
                const DTYPE d = xr[s] - mu;
                acc += d * d;
            }
            ssq += (double)acc;
        }
        const DTYPE inv = (DTYPE)(1.0 / sqrt((double)(DTYPE)(ssq / M) + eps));
        const DTYPE g = gamma[c], b = beta[c];
        for (npy_intp n = 0; n < N; ++n) {
            const DTYPE *xr = x + (n * C + c) * S;
            DTYPE *yr = y + (n * C + c) * S;
            if (relu) {
                for (npy_intp s = 0; s < S; ++s) {
                    const DTYPE v = (xr[s] - mu) * inv * g + b;
                    yr[s] = v > 0 ? v : 0;
                }
            } else {
                for (npy_intp s = 0; s < S; ++s) yr[s] = (xr[s] - mu) * inv * g + b;
            }
        }
        mo[c] = mu;
        io[c] = inv;
    }
    return 0;
}

static int crmn_bn_grad_impl_DTYPE(PyArrayObject *xa, PyArrayObject *ga, PyArrayObject *ma, PyArrayObject *ia,
                                   PyArrayObject *dya, PyArrayObject *ya, PyArrayObject **dx_out,
                                   PyArrayObject **dg_out, PyArrayObject **db_out)
{
    const char *op = "BatchNormTrainGrad";
    const npy_intp N = PyArray_DIMS(xa)[0], C = PyArray_DIMS(xa)[1];
    npy_intp S = 1;
    for (int d = 2; d < PyArray_NDIM(xa); ++d) S *= PyArray_DIMS(xa)[d];
    if (crmn_bn_check_vec(op, "gamma", ga, C) || crmn_bn_check_vec(op, "mean", ma, C) ||
        crmn_bn_check_vec(op, "inv_std", ia, C))
        return -1;
    if (PyArray_NDIM(dya) != PyArray_NDIM(xa) ||
        !PyArray_CompareLists(PyArray_DIMS(dya), PyArray_DIMS(xa), PyArray_NDIM(xa))) {
        PyErr_Format(PyExc_ValueError, "%s: the output gradient's shape differs from the input's", op);
        return -1;
    }
    if (ya != NULL && (PyArray_NDIM(ya) != PyArray_NDIM(xa) ||
                       !PyArray_CompareLists(PyArray_DIMS(ya), PyArray_DIMS(xa), PyArray_NDIM(xa)))) {
        PyErr_Format(PyExc_ValueError, "%s: the forward output's shape differs from the input's", op);
        return -1;
    }
    if (crmn_prepare(dx_out, PyArray_NDIM(xa), PyArray_DIMS(xa), NPYTYPE) ||
        crmn_prepare(dg_out, 1, &C, NPYTYPE) || crmn_prepare(db_out, 1, &C, NPYTYPE))
        return -1;
    const DTYPE *x = (const DTYPE *)PyArray_DATA(xa), *dy = (const DTYPE *)PyArray_DATA(dya);
    const DTYPE *yf = ya != NULL ? (const DTYPE *)PyArray_DATA(ya) : NULL; /* relu mask source */
    const DTYPE *gamma = (const DTYPE *)PyArray_DATA(ga);
    const DTYPE *mean = (const DTYPE *)PyArray_DATA(ma), *invs = (const DTYPE *)PyArray_DATA(ia);
    DTYPE *dx = (DTYPE *)PyArray_DATA(*dx_out);
    DTYPE *dg = (DTYPE *)PyArray_DATA(*dg_out), *db = (DTYPE *)PyArray_DATA(*db_out);
    const double M = (double)N * (double)S;
    const int nt = crmn_threads(C, C * N * S, 32768);
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt) if (nt > 1)
    for (npy_intp c = 0; c < C; ++c) {
        const DTYPE mu = mean[c], inv = invs[c];
        double sdy = 0.0, sdyx = 0.0;
        for (npy_intp n = 0; n < N; ++n) {
            const DTYPE *xr = x + (n * C + c) * S, *gr = dy + (n * C + c) * S;
            DTYPE a0 = 0, a1 = 0;
            if (yf != NULL) {
                const DTYPE *yr = yf + (n * C + c) * S;
#pragma omp simd reduction(+ : a0, a1)
                for (npy_intp s = 0; s < S; ++s) {
                    const DTYPE g = yr[s] > 0 ? gr[s] : 0;
                    a0 += g;
                    a1 += g * (xr[s] - mu);
                }
            } else {
#pragma omp simd reduction(+ : a0, a1)
                for (npy_intp s = 0; s < S; ++s) {
                    a0 += gr[s];
                    a1 += gr[s] * (xr[s] - mu);
                }
            }
            sdy += (double)a0;
            sdyx += (double)a1;
        }
        const DTYPE dbeta = (DTYPE)sdy, dgamma = (DTYPE)(sdyx * (double)inv);
        const DTYPE scale = gamma[c] * inv;
        const DTYPE mdb = (DTYPE)(sdy / M), mdg = (DTYPE)((double)dgamma / M);
        for (npy_intp n = 0; n < N; ++n) {
            const DTYPE *xr = x + (n * C + c) * S, *gr = dy + (n * C + c) * S;
            DTYPE *dr = dx + (n * C + c) * S;
            if (yf != NULL) {
                const DTYPE *yr = yf + (n * C + c) * S;
                for (npy_intp s = 0; s < S; ++s)
                    dr[s] = scale * ((yr[s] > 0 ? gr[s] : 0) - mdb - (xr[s] - mu) * inv * mdg);
            } else {
                for (npy_intp s = 0; s < S; ++s) dr[s] = scale * (gr[s] - mdb - (xr[s] - mu) * inv * mdg);
            }
        }
        dg[c] = dgamma;
        db[c] = dbeta;
    }
    return 0;
}

static int crmn_bn_fwd_DTYPE(PyArrayObject *x, PyArrayObject *g, PyArrayObject *b, double eps, int relu,
                             PyArrayObject **y, PyArrayObject **m, PyArrayObject **i)
{
    PyArrayObject *xa = crmn_contig(x, NPYTYPE), *ga = NULL, *ba = NULL;
    int ret = -1;
    if (xa && (ga = crmn_contig(g, NPYTYPE)) && (ba = crmn_contig(b, NPYTYPE)))
        ret = crmn_bn_fwd_impl_DTYPE(xa, ga, ba, eps, relu, y, m, i);
    Py_XDECREF(xa);
    Py_XDECREF(ga);
    Py_XDECREF(ba);
    return ret;
}

/* y: the forward output (relu mask), or NULL without relu. */
static int crmn_bn_grad_DTYPE(PyArrayObject *x, PyArrayObject *g, PyArrayObject *m, PyArrayObject *i,
                              PyArrayObject *dy, PyArrayObject *y, PyArrayObject **dx, PyArrayObject **dg,
                              PyArrayObject **db)
{
    PyArrayObject *in[6] = {x, g, m, i, dy, y}, *c[6] = {NULL, NULL, NULL, NULL, NULL, NULL};
    const int n_in = y != NULL ? 6 : 5;
    int ret = 0;
    for (int k = 0; k < n_in && ret == 0; ++k)
        if ((c[k] = crmn_contig(in[k], NPYTYPE)) == NULL) ret = -1;
    if (ret == 0) ret = crmn_bn_grad_impl_DTYPE(c[0], c[1], c[2], c[3], c[4], c[5], dx, dg, db);
    for (int k = 0; k < n_in; ++k) Py_XDECREF(c[k]);
    return ret;
}
