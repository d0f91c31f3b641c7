/* conv2d_template.c -- im2col + GEMM convolution kernels for one dtype.
 *
 * Each entry first offers the call to the direct AVX2 kernels of
 * conv2d_direct.h (float32 only; CRMN_CONV_IMPL chooses), which return 1 when
 * they did it.
 *
 * ops/c/templates.py instantiates this text twice, replacing DTYPE by
 * float / double and NPYTYPE by NPY_FLOAT32 / NPY_FLOAT64 (CRMN_GEMM_DTYPE is
 * then scipy_cblas_sgemm / scipy_cblas_dgemm).  Layout is NCHW, filters FCkk.
 *
 * Per image n (P = Ho*Wo, K = C*kh*kw, col = im2col(x[n]) of shape K x P):
 *   forward      y[n]   (F x P) = w (F x K) . col
 *   grad weights dw     (F x K) = sum_n gy[n] (F x P) . col^T
 *   grad inputs  dx[n]          = col2im(w^T (K x F) . gy[n] (F x P)), or at stride 1
 *                dx[n]  (C x H*W) = flip(w)^T (C x F*kh*kw) . im2col(gy[n], pad k-1-p)
 * Images are shared out dynamically between OpenMP threads (a thread slowed
 * by another process does not hold the others up), each with its own column
 * buffer and single-threaded BLAS; a 1x1, stride-1, unpadded convolution
 * skips im2col (col is x[n] itself).
 */

/* col (K x Ho*Wo) <- patches of one image x (C x H x W). */
static void crmn_im2col_DTYPE(const DTYPE *x, int C, int H, int W, int kh, int kw, int sh, int sw, int ph,
                              int pw, int Ho, int Wo, DTYPE *col)
{
    for (int c = 0; c < C; ++c) {
        const DTYPE *xc = x + (size_t)c * H * W;
        for (int a = 0; a < kh; ++a) {
            for (int b = 0; b < kw; ++b) {
                DTYPE *row = col + ((size_t)(c * kh + a) * kw + b) * Ho * Wo;
                /* output columns j whose input column j*sw - pw + b lies in [0, W) */
                int j0 = (pw - b + sw - 1) / sw;
                int j1 = (W - 1 + pw - b) >= 0 ? (W - 1 + pw - b) / sw + 1 : 0;
                if (pw - b <= 0) j0 = 0;
                if (j1 > Wo) j1 = Wo;
                if (j0 > j1) j0 = j1;
                for (int i = 0; i < Ho; ++i) {
                    DTYPE *dst = row + (size_t)i * Wo;
                    int r = i * sh - ph + a;
                    if (r < 0 || r >= H) {
                        memset(dst, 0, sizeof(DTYPE) * Wo);
                        continue;
                    }
                    const DTYPE *src = xc + (size_t)r * W - pw + b;
                    for (int j = 0; j < j0; ++j) dst[j] = 0;
                    if (sw == 1) {
                        memcpy(dst + j0, src + j0, sizeof(DTYPE) * (j1 - j0));
                    } else {
                        for (int j = j0; j < j1; ++j) dst[j] = src[j * sw];
                    }
                    for (int j = j1; j < Wo; ++j) dst[j] = 0;
                }
            }
        }
    }
}

/* x (C x H x W) <- col2im(col): the adjoint of crmn_im2col (x is overwritten). */
static void crmn_col2im_DTYPE(const DTYPE *col, int C, int H, int W, int kh, int kw, int sh, int sw, int ph,
                              int pw, int Ho, int Wo, DTYPE *x)
{
    memset(x, 0, sizeof(DTYPE) * (size_t)C * H * W);
    for (int c = 0; c < C; ++c) {
        DTYPE *xc = x + (size_t)c * H * W;
        for (int a = 0; a < kh; ++a) {
            for (int b = 0; b < kw; ++b) {
                const DTYPE *row = col + ((size_t)(c * kh + a) * kw + b) * Ho * Wo;
                int j0 = (pw - b + sw - 1) / sw;
                int j1 = (W - 1 + pw - b) >= 0 ? (W - 1 + pw - b) / sw + 1 : 0;
                if (pw - b <= 0) j0 = 0;
                if (j1 > Wo) j1 = Wo;
                if (j0 > j1) j0 = j1;
                for (int i = 0; i < Ho; ++i) {
                    int r = i * sh - ph + a;
                    if (r < 0 || r >= H) continue;
                    const DTYPE *src = row + (size_t)i * Wo;
                    DTYPE *dst = xc + (size_t)r * W - pw + b;
                    if (sw == 1) {
                        for (int j = j0; j < j1; ++j) dst[j] += src[j];
                    } else {
                        for (int j = j0; j < j1; ++j) dst[j * sw] += src[j];
                    }
                }
            }
        }
    }
}

/* Loop over images n < N, shared out between `nt` OpenMP threads when nt > 1
 * (OpenBLAS set to one thread meanwhile); the body sees n, tid and buf, the
 * thread's PER-element slice of wsbase.  SCHED is the "omp for" pragma:
 * CRMN_FOR_IMAGES (dynamic) where each image writes its own output,
 * CRMN_FOR_IMAGES_STATIC where threads accumulate partial sums, so that which
 * images a thread adds up, hence the rounding, is the same on every call. */
#define CRMN_FOR_IMAGES_DTYPE(N, PER, ...) CRMN_FOR_IMAGES_SCHED_DTYPE("omp for schedule(dynamic, 1)", N, PER, __VA_ARGS__)
#define CRMN_FOR_IMAGES_STATIC_DTYPE(N, PER, ...) CRMN_FOR_IMAGES_SCHED_DTYPE("omp for schedule(static)", N, PER, __VA_ARGS__)
#define CRMN_FOR_IMAGES_SCHED_DTYPE(SCHED, N, PER, ...)                                     \
    do {                                                                                    \
        int crmn_saved_threads_ = 0;                                                        \
        if (nt > 1) {                                                                       \
            crmn_saved_threads_ = CRMN_BLAS_GET_THREADS();                                  \
            CRMN_BLAS_SET_THREADS(1);                                                       \
        }                                                                                   \
        _Pragma("omp parallel num_threads(nt) if (nt > 1)")                                 \
        {                                                                                   \
            int tid = CRMN_THREAD_ID();                                                     \
            DTYPE *buf = wsbase + (size_t)tid * (PER);                                      \
            (void)buf;                                                                      \
            _Pragma(SCHED)                                                                  \
            for (npy_intp n = 0; n < (N); ++n) __VA_ARGS__                                  \
        }                                                                                   \
        if (nt > 1) CRMN_BLAS_SET_THREADS(crmn_saved_threads_);                             \
    } while (0)

static int crmn_conv2d_fwd_impl_DTYPE(PyArrayObject *xa, PyArrayObject *wa, PyArrayObject **y_out, int sh,
                                      int sw, int padh, int padw, crmn_workspace *ws)
{
    const char *op = "Conv2d";
    const npy_intp N = PyArray_DIMS(xa)[0];
    const int C = (int)PyArray_DIMS(xa)[1], H = (int)PyArray_DIMS(xa)[2], W = (int)PyArray_DIMS(xa)[3];
    const int F = (int)PyArray_DIMS(wa)[0], kh = (int)PyArray_DIMS(wa)[2], kw = (int)PyArray_DIMS(wa)[3];
    const int ph = crmn_resolve_pad(padh, kh), pw = crmn_resolve_pad(padw, kw);
    int Ho, Wo;
    if (PyArray_DIMS(wa)[1] != C) {
        PyErr_Format(PyExc_ValueError, "%s: input has %d channels but filters expect %d", op, C,
                     (int)PyArray_DIMS(wa)[1]);
        return -1;
    }
    if (crmn_check_geometry(op, H, W, kh, kw, ph, pw, sh, sw, &Ho, &Wo)) return -1;
    if (crmn_prepare4(y_out, N, F, Ho, Wo, NPYTYPE)) return -1;

    const crmn_gemm_plan g = crmn_make_gemm_plan(N, C, kh, kw, Ho, Wo, sh, sw, ph, pw);
    const int K = g.K, P = g.P, direct = g.no_im2col, nt = g.nt;
    const size_t per = g.cols;
    const DTYPE *x = (const DTYPE *)PyArray_DATA(xa), *w = (const DTYPE *)PyArray_DATA(wa);
    DTYPE *y = (DTYPE *)PyArray_DATA(*y_out);
    DTYPE *wsbase = NULL;
    if (N == 0 || F == 0 || P == 0) return 0;
    if (K == 0) {
        memset(y, 0, sizeof(DTYPE) * (size_t)N * F * P);
        return 0;
    }
    {
        const int r = crmn_direct_fwd_DTYPE(xa, wa, *y_out, sh, sw, ph, pw, ws);
        if (r) return r < 0 ? -1 : 0;
    }
    if (per && (wsbase = (DTYPE *)crmn_ws_get(ws, sizeof(DTYPE) * per * nt)) == NULL) return -1;
    CRMN_FOR_IMAGES_DTYPE(N, per, {
        const DTYPE *xn = x + (size_t)n * C * H * W;
        const DTYPE *col = xn;
        if (!direct) {
            crmn_im2col_DTYPE(xn, C, H, W, kh, kw, sh, sw, ph, pw, Ho, Wo, buf);
            col = buf;
        }
        CRMN_GEMM_DTYPE(CblasRowMajor, CblasNoTrans, CblasNoTrans, F, P, K, 1, w, K, col, P, 0, y + (size_t)n * F * P, P);
    });
    return 0;
}

static int crmn_conv2d_gradw_impl_DTYPE(PyArrayObject *xa, PyArrayObject *ga, int kh, int kw,
                                        PyArrayObject **dw_out, int sh, int sw, int padh, int padw,
                                        crmn_workspace *ws)
{
    const char *op = "Conv2dGradWeights";
    const npy_intp N = PyArray_DIMS(xa)[0];
    const int C = (int)PyArray_DIMS(xa)[1], H = (int)PyArray_DIMS(xa)[2], W = (int)PyArray_DIMS(xa)[3];
    const int F = (int)PyArray_DIMS(ga)[1];
    const int ph = crmn_resolve_pad(padh, kh), pw = crmn_resolve_pad(padw, kw);
    int Ho, Wo;
    if (PyArray_DIMS(ga)[0] != N) {
        PyErr_Format(PyExc_ValueError, "%s: input batch %d != output-gradient batch %d", op, (int)N,
                     (int)PyArray_DIMS(ga)[0]);
        return -1;
    }
    if (crmn_check_geometry(op, H, W, kh, kw, ph, pw, sh, sw, &Ho, &Wo)) return -1;
    if (crmn_check_out(op, (int)PyArray_DIMS(ga)[2], (int)PyArray_DIMS(ga)[3], Ho, Wo)) return -1;
    if (crmn_prepare4(dw_out, F, C, kh, kw, NPYTYPE)) return -1;

    const crmn_gemm_plan g = crmn_make_gemm_plan(N, C, kh, kw, Ho, Wo, sh, sw, ph, pw);
    const int K = g.K, P = g.P, direct = g.no_im2col, nt = g.nt;
    /* per thread: its column buffer, then (threads > 0) its own F x K accumulator */
    const size_t colsz = g.cols, per = colsz + (size_t)F * K;
    const DTYPE *x = (const DTYPE *)PyArray_DATA(xa), *gy = (const DTYPE *)PyArray_DATA(ga);
    DTYPE *dw = (DTYPE *)PyArray_DATA(*dw_out);
    DTYPE *wsbase = NULL;
    if (F == 0 || K == 0) return 0;
    memset(dw, 0, sizeof(DTYPE) * (size_t)F * K);
    if (N == 0 || P == 0) return 0;
    {
        const int r = crmn_direct_gradw_DTYPE(xa, ga, *dw_out, sh, sw, ph, pw, ws);
        if (r) return r < 0 ? -1 : 0;
    }
    if ((wsbase = (DTYPE *)crmn_ws_get(ws, sizeof(DTYPE) * per * nt)) == NULL) return -1;
    for (int t = 1; t < nt; ++t) memset(wsbase + (size_t)t * per + colsz, 0, sizeof(DTYPE) * (size_t)F * K);
    CRMN_FOR_IMAGES_STATIC_DTYPE(N, per, {
        const DTYPE *xn = x + (size_t)n * C * H * W;
        const DTYPE *col = xn;
        DTYPE *acc = tid == 0 ? dw : buf + colsz;
        if (!direct) {
            crmn_im2col_DTYPE(xn, C, H, W, kh, kw, sh, sw, ph, pw, Ho, Wo, buf);
            col = buf;
        }
        CRMN_GEMM_DTYPE(CblasRowMajor, CblasNoTrans, CblasTrans, F, K, P, 1, gy + (size_t)n * F * P, P, col, P, 1, acc, K);
    });
    for (int t = 1; t < nt; ++t) {
        const DTYPE *acc = wsbase + (size_t)t * per + colsz;
        for (size_t i = 0; i < (size_t)F * K; ++i) dw[i] += acc[i];
    }
    return 0;
}

static int crmn_conv2d_gradi_impl_DTYPE(PyArrayObject *wa, PyArrayObject *ga, int H, int W,
                                        PyArrayObject **dx_out, int sh, int sw, int padh, int padw,
                                        crmn_workspace *ws)
{
    const char *op = "Conv2dGradInputs";
    const npy_intp N = PyArray_DIMS(ga)[0];
    const int F = (int)PyArray_DIMS(wa)[0], C = (int)PyArray_DIMS(wa)[1];
    const int kh = (int)PyArray_DIMS(wa)[2], kw = (int)PyArray_DIMS(wa)[3];
    const int ph = crmn_resolve_pad(padh, kh), pw = crmn_resolve_pad(padw, kw);
    int Ho, Wo;
    if (PyArray_DIMS(ga)[1] != F) {
        PyErr_Format(PyExc_ValueError, "%s: filters have %d output channels but the output gradient has %d", op,
                     F, (int)PyArray_DIMS(ga)[1]);
        return -1;
    }
    if (H < 0 || W < 0) {
        PyErr_Format(PyExc_ValueError, "%s: negative input shape (%d, %d)", op, H, W);
        return -1;
    }
    if (crmn_check_geometry(op, H, W, kh, kw, ph, pw, sh, sw, &Ho, &Wo)) return -1;
    if (crmn_check_out(op, (int)PyArray_DIMS(ga)[2], (int)PyArray_DIMS(ga)[3], Ho, Wo)) return -1;
    if (crmn_prepare4(dx_out, N, C, H, W, NPYTYPE)) return -1;

    const crmn_gemm_plan g = crmn_make_gemm_plan(N, C, kh, kw, Ho, Wo, sh, sw, ph, pw);
    const int K = g.K, P = g.P, direct = g.no_im2col, nt = g.nt;
    const size_t per = g.cols;
    const DTYPE *w = (const DTYPE *)PyArray_DATA(wa), *gy = (const DTYPE *)PyArray_DATA(ga);
    DTYPE *dx = (DTYPE *)PyArray_DATA(*dx_out);
    DTYPE *wsbase = NULL;
    if (N == 0 || C == 0 || H == 0 || W == 0) return 0;
    if (F == 0 || P == 0) {
        memset(dx, 0, sizeof(DTYPE) * (size_t)N * C * H * W);
        return 0;
    }
    {
        const int r = crmn_direct_gradi_DTYPE(wa, ga, *dx_out, sh, sw, ph, pw, ws);
        if (r) return r < 0 ? -1 : 0;
    }
    if (!direct && sh == 1 && sw == 1 && ph < kh && pw < kw) {
        /* Stride 1: dx[n] is the correlation of gy[n], padded by (k-1-p), with the
         * flipped, transposed filters wt[c, f, a, b] = w[f, c, kh-1-a, kw-1-b]:
         * one GEMM of the forward's shape (C x F*kh*kw . F*kh*kw x H*W) instead
         * of a GEMM with inner size F followed by a scatter-add (col2im). */
        const int Kt = F * kh * kw, Pi = H * W;
        const size_t per_t = (size_t)Kt * Pi;
        DTYPE *wt;
        if ((wsbase = (DTYPE *)crmn_ws_get(ws, sizeof(DTYPE) * (per_t * nt + (size_t)C * Kt))) == NULL) return -1;
        wt = wsbase + per_t * nt;
        for (int f = 0; f < F; ++f)
            for (int c = 0; c < C; ++c)
                for (int a = 0; a < kh; ++a)
                    for (int b = 0; b < kw; ++b)
                        wt[((size_t)(c * F + f) * kh + a) * kw + b] =
                            w[((size_t)(f * C + c) * kh + (kh - 1 - a)) * kw + (kw - 1 - b)];
        CRMN_FOR_IMAGES_DTYPE(N, per_t, {
            crmn_im2col_DTYPE(gy + (size_t)n * F * P, F, Ho, Wo, kh, kw, 1, 1, kh - 1 - ph, kw - 1 - pw, H, W, buf);
            CRMN_GEMM_DTYPE(CblasRowMajor, CblasNoTrans, CblasNoTrans, C, Pi, Kt, 1, wt, Kt, buf, Pi, 0,
                 dx + (size_t)n * C * H * W, Pi);
        });
        return 0;
    }
    if (per && (wsbase = (DTYPE *)crmn_ws_get(ws, sizeof(DTYPE) * per * nt)) == NULL) return -1;
    CRMN_FOR_IMAGES_DTYPE(N, per, {
        DTYPE *dxn = dx + (size_t)n * C * H * W;
        DTYPE *col = direct ? dxn : buf;
        CRMN_GEMM_DTYPE(CblasRowMajor, CblasTrans, CblasNoTrans, K, P, F, 1, w, K, gy + (size_t)n * F * P, P, 0, col, P);
        if (!direct) crmn_col2im_DTYPE(col, C, H, W, kh, kw, sh, sw, ph, pw, Ho, Wo, dxn);
    });
    return 0;
}

/* Entry points called from the Ops' c_code: make the inputs C-contiguous, run, release. */
static int crmn_conv2d_fwd_DTYPE(PyArrayObject *x, PyArrayObject *w, PyArrayObject **y, int sh, int sw,
                                 int padh, int padw, crmn_workspace *ws)
{
    PyArrayObject *xa, *wa;
    if (crmn_contig2(x, w, NPYTYPE, &xa, &wa)) return -1;
    int ret = crmn_conv2d_fwd_impl_DTYPE(xa, wa, y, sh, sw, padh, padw, ws);
    Py_DECREF(xa);
    Py_DECREF(wa);
    return ret;
}

/* A gradient entry: read the (h, w) pair input, make a and b C-contiguous, run impl, release. */
typedef int (*crmn_conv2d_grad_impl_DTYPE)(PyArrayObject *, PyArrayObject *, int, int, PyArrayObject **, int, int,
                                           int, int, crmn_workspace *);

static int crmn_conv2d_grad_entry_DTYPE(crmn_conv2d_grad_impl_DTYPE impl, const char *op, const char *what,
                                        PyArrayObject *a, PyArrayObject *b, PyArrayObject *pair, PyArrayObject **out,
                                        int sh, int sw, int padh, int padw, crmn_workspace *ws)
{
    npy_int64 hw[2];
    PyArrayObject *ac, *bc;
    if (crmn_read_pair(op, what, pair, hw) || crmn_contig2(a, b, NPYTYPE, &ac, &bc)) return -1;
    int ret = impl(ac, bc, (int)hw[0], (int)hw[1], out, sh, sw, padh, padw, ws);
    Py_DECREF(ac);
    Py_DECREF(bc);
    return ret;
}

static int crmn_conv2d_gradw_DTYPE(PyArrayObject *x, PyArrayObject *gy, PyArrayObject *kshape,
                                   PyArrayObject **dw, int sh, int sw, int padh, int padw, crmn_workspace *ws)
{
    return crmn_conv2d_grad_entry_DTYPE(crmn_conv2d_gradw_impl_DTYPE, "Conv2dGradWeights", "kshape", x, gy, kshape,
                                        dw, sh, sw, padh, padw, ws);
}

static int crmn_conv2d_gradi_DTYPE(PyArrayObject *w, PyArrayObject *gy, PyArrayObject *ishape,
                                   PyArrayObject **dx, int sh, int sw, int padh, int padw, crmn_workspace *ws)
{
    return crmn_conv2d_grad_entry_DTYPE(crmn_conv2d_gradi_impl_DTYPE, "Conv2dGradInputs", "ishape", w, gy, ishape,
                                        dx, sh, sw, padh, padw, ws);
}
