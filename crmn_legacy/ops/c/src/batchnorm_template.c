/* batchnorm_template.c -- fused training-mode batch normalisation for one dtype.
 *
 * crmn_legacy/ops/batchnorm.py instantiates this text for float and double
 * (DTYPE, NPYTYPE).  x is (N, C, S) C-contiguous (S = H*W, statistics over
 * n and s for each channel c, M = N*S).
 *
 * forward   mu_c = 1/M sum x,  var_c = 1/M sum (x - mu_c)^2  (one pass over memory: per (n, c) row its
 *           sum and its squared deviations about its own mean, combined per channel by Chan's formula),
 *           inv_c = 1/sqrt(var_c + eps),
 *           y = (x - mu_c) * inv_c * gamma_c + beta_c,   or max(that, 0) when relu
 * backward  xhat = (x - mu_c) inv_c,  dbeta_c = sum dy,  dgamma_c = sum dy xhat,
 *           dx = gamma_c inv_c (dy - dbeta_c / M - xhat dgamma_c / M)
 *           where, when relu, dy is first masked by the forward output: dy [y > 0]
 *
 * Every pass walks the arrays in memory order (image by image, each (n, c)
 * row of S values contiguous; loops over n outside c), the images shared out
 * between OpenMP threads:
 * a sum over one channel would otherwise read N separate rows N*C*S apart,
 * which measured about 3x slower than the memory bandwidth at k=4 sizes.  A
 * row's sum is accumulated in DTYPE (vectorised), stored per (n, c) in double,
 * and the N partial sums of a channel are added in image order: the result
 * does not depend on the number of threads.
 */

/* out[c] = sum over n of part[n * C + c], in image order. */
static void crmn_bn_reduce_DTYPE(const double *part, npy_intp N, npy_intp C, double *out)
{
    for (npy_intp c = 0; c < C; ++c) out[c] = 0.0;
    for (npy_intp n = 0; n < N; ++n)
        for (npy_intp c = 0; c < C; ++c) out[c] += part[n * C + c];
}

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
    if (C == 0) return 0;
    const double M = (double)N * (double)S;
    const int nt = crmn_threads(N, N * C * S, 32768);
    double *part = (double *)malloc(sizeof(double) * (size_t)(2 * N * C + 2 * C));
    DTYPE *mu = (DTYPE *)malloc(sizeof(DTYPE) * (size_t)C);
    if (part == NULL || mu == NULL) {
        free(part);
        free(mu);
        PyErr_NoMemory();
        return -1;
    }
    /* per (n, c) row: sum and squared deviations about the row mean; per channel: total and M2 */
    double *rsum = part, *rm2 = part + N * C, *tot = part + 2 * N * C, *m2 = tot + C;
    /* One pass over memory for both statistics: each (n, c) row (S values, in L1/L2 after its first
     * read) gives its sum and its sum of squared deviations about its own mean. */
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
    for (npy_intp n = 0; n < N; ++n) {
        for (npy_intp c = 0; c < C; ++c) {
            const DTYPE *xr = x + (n * C + c) * S;
            DTYPE acc = 0;
#pragma omp simd reduction(+ : acc)
            for (npy_intp s = 0; s < S; ++s) acc += xr[s];
            const DTYPE m = (DTYPE)((double)acc / (double)S);
            DTYPE dev = 0;
#pragma omp simd reduction(+ : dev)
            for (npy_intp s = 0; s < S; ++s) {
                const DTYPE d = xr[s] - m;
                dev += d * d;
            }
            rsum[n * C + c] = (double)acc;
            /* deviations were taken about m, the row mean rounded to DTYPE: correct to the exact mean */
            const double off = (double)acc / (double)S - (double)m;
            rm2[n * C + c] = (double)dev - (double)S * off * off;
        }
    }
    crmn_bn_reduce_DTYPE(rsum, N, C, tot);
    for (npy_intp c = 0; c < C; ++c) mu[c] = (DTYPE)(tot[c] / M);
    /* Chan et al.'s combination: M2_c = sum_n [ M2_(n,c) + S (mean_(n,c) - mean_c)^2 ], in image order. */
    for (npy_intp c = 0; c < C; ++c) m2[c] = 0.0;
    for (npy_intp n = 0; n < N; ++n)
        for (npy_intp c = 0; c < C; ++c) {
            const double d = rsum[n * C + c] / (double)S - tot[c] / M;
            m2[c] += rm2[n * C + c] + (double)S * d * d;
        }
    for (npy_intp c = 0; c < C; ++c) {
        mo[c] = mu[c];
        io[c] = (DTYPE)(1.0 / sqrt((double)(DTYPE)(m2[c] / M) + eps));
    }
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
    for (npy_intp n = 0; n < N; ++n) {
        for (npy_intp c = 0; c < C; ++c) {
            const DTYPE *xr = x + (n * C + c) * S;
            DTYPE *yr = y + (n * C + c) * S;
            const DTYPE m = mu[c], scale = io[c] * gamma[c], b = beta[c];
            if (relu) {
                for (npy_intp s = 0; s < S; ++s) {
                    const DTYPE v = (xr[s] - m) * scale + b;
                    yr[s] = v > 0 ? v : 0;
                }
            } else {
                for (npy_intp s = 0; s < S; ++s) yr[s] = (xr[s] - m) * scale + b;
            }
        }
    }
    free(part);
    free(mu);
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
    if (C == 0) return 0;
    const double M = (double)N * (double)S;
    const int nt = crmn_threads(N, N * C * S, 32768);
    /* part: per-row sums of dy and of dy (x - mu); tot: their channel totals */
    double *part = (double *)malloc(sizeof(double) * (size_t)(2 * N * C + 2 * C));
    DTYPE *coef = (DTYPE *)malloc(sizeof(DTYPE) * (size_t)(3 * C));
    if (part == NULL || coef == NULL) {
        free(part);
        free(coef);
        PyErr_NoMemory();
        return -1;
    }
    double *part_x = part + N * C, *tot = part + 2 * N * C, *tot_x = tot + C;
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
    for (npy_intp n = 0; n < N; ++n) {
        for (npy_intp c = 0; c < C; ++c) {
            const npy_intp off = (n * C + c) * S;
            const DTYPE *xr = x + off, *gr = dy + off;
            const DTYPE mu = mean[c];
            DTYPE a0 = 0, a1 = 0;
            if (yf != NULL) {
                const DTYPE *yr = yf + off;
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
            part[n * C + c] = (double)a0;
            part_x[n * C + c] = (double)a1;
        }
    }
    crmn_bn_reduce_DTYPE(part, N, C, tot);
    crmn_bn_reduce_DTYPE(part_x, N, C, tot_x);
    /* per channel: scale = gamma inv, mdb = dbeta / M, mdg = dgamma / M */
    for (npy_intp c = 0; c < C; ++c) {
        const DTYPE inv = invs[c], dbeta = (DTYPE)tot[c], dgamma = (DTYPE)(tot_x[c] * (double)inv);
        coef[3 * c] = gamma[c] * inv;
        coef[3 * c + 1] = (DTYPE)(tot[c] / M);
        coef[3 * c + 2] = (DTYPE)((double)dgamma / M);
        dg[c] = dgamma;
        db[c] = dbeta;
    }
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
    for (npy_intp n = 0; n < N; ++n) {
        for (npy_intp c = 0; c < C; ++c) {
            const npy_intp off = (n * C + c) * S;
            const DTYPE *xr = x + off, *gr = dy + off;
            DTYPE *dr = dx + off;
            const DTYPE mu = mean[c], inv = invs[c];
            const DTYPE scale = coef[3 * c], mdb = coef[3 * c + 1], mdg = coef[3 * c + 2];
            if (yf != NULL) {
                const DTYPE *yr = yf + off;
                for (npy_intp s = 0; s < S; ++s)
                    dr[s] = scale * ((yr[s] > 0 ? gr[s] : 0) - mdb - (xr[s] - mu) * inv * mdg);
            } else {
                for (npy_intp s = 0; s < S; ++s) dr[s] = scale * (gr[s] - mdb - (xr[s] - mu) * inv * mdg);
            }
        }
    }
    free(part);
    free(coef);
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
