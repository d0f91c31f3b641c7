/* conv2d_common.h -- dtype-independent helpers of the crmn_legacy conv2d C code.
 *
 * Included once per compiled module, after crmn_common.h and blas_common.h and
 * before the float and double instantiations of conv2d_template.c.
 */
#ifndef CRMN_CONV2D_COMMON_H
#define CRMN_CONV2D_COMMON_H

/* A growable scratch buffer owned by one Apply node (freed with the thunk). */
typedef struct {
    void *data;
    size_t bytes;
} crmn_workspace;

static void *crmn_ws_get(crmn_workspace *ws, size_t bytes)
{
    if (bytes > ws->bytes) {
        free(ws->data);
        ws->data = malloc(bytes);
        if (ws->data == NULL) {
            ws->bytes = 0;
            PyErr_Format(PyExc_MemoryError, "conv2d: cannot allocate a %zu-byte workspace", bytes);
            return NULL;
        }
        ws->bytes = bytes;
    }
    return ws->data;
}

/* Border modes as passed in the Op params: >= 0 explicit, -1 half, -2 full. */
static int crmn_resolve_pad(int pad, int k)
{
    if (pad == -1) return k / 2;
    if (pad == -2) return k - 1;
    return pad;
}

/* Run-time geometry check; mirrors conv._check_geometry's messages. */
static int crmn_check_geometry(const char *op, int H, int W, int kh, int kw, int ph, int pw,
                               int sh, int sw, int *Ho, int *Wo)
{
    if (kh < 1 || kw < 1) {
        PyErr_Format(PyExc_ValueError, "%s: kernel size must be >= 1, got (%d, %d)", op, kh, kw);
        return -1;
    }
    if (H + 2 * ph < kh) {
        PyErr_Format(PyExc_ValueError, "%s: kernel height %d is larger than the padded input height %d + 2*%d",
                     op, kh, H, ph);
        return -1;
    }
    if (W + 2 * pw < kw) {
        PyErr_Format(PyExc_ValueError, "%s: kernel width %d is larger than the padded input width %d + 2*%d",
                     op, kw, W, pw);
        return -1;
    }
    *Ho = (H + 2 * ph - kh) / sh + 1;
    *Wo = (W + 2 * pw - kw) / sw + 1;
    return 0;
}

static int crmn_check_out(const char *op, int got_h, int got_w, int Ho, int Wo)
{
    if (got_h != Ho || got_w != Wo) {
        PyErr_Format(PyExc_ValueError,
                     "%s: output-gradient spatial shape (%d, %d) does not match the convolution output (%d, %d)",
                     op, got_h, got_w, Ho, Wo);
        return -1;
    }
    return 0;
}

/* Parallel plan: OpenMP over images (single-threaded BLAS inside), or one
 * thread calling multi-threaded BLAS.  CRMN_CONV_PARALLEL=blas forces the
 * latter (a diagnostic knob used by the benchmark). */
static int crmn_num_threads(npy_intp n_images)
{
    const char *mode = getenv("CRMN_CONV_PARALLEL");
    if (mode != NULL && strcmp(mode, "blas") == 0) return 1;
    return crmn_threads(n_images, 1, 0);
}

/* The im2col + GEMM path of one call: K = C kh kw taps, P = Ho Wo output
 * pixels, whether the im2col copy is skipped (a 1x1 kernel at stride 1
 * without padding: the image already is its column matrix), the thread
 * count, and the column buffer of one thread (elements; 0 when skipped). */
typedef struct {
    int K, P, no_im2col, nt;
    size_t cols;
} crmn_gemm_plan;

static crmn_gemm_plan crmn_make_gemm_plan(npy_intp N, int C, int kh, int kw, int Ho, int Wo, int sh, int sw, int ph,
                                          int pw)
{
    crmn_gemm_plan g;
    g.K = C * kh * kw;
    g.P = Ho * Wo;
    g.no_im2col = (kh == 1 && kw == 1 && sh == 1 && sw == 1 && ph == 0 && pw == 0);
    g.nt = crmn_num_threads(N);
    g.cols = g.no_im2col ? 0 : (size_t)g.K * g.P;
    return g;
}

#endif /* CRMN_CONV2D_COMMON_H */
