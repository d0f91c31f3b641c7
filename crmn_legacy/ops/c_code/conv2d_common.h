/* conv2d_common.h -- dtype-independent helpers of the crmn_legacy conv2d C code.
 *
 * Included once per compiled module, before the float and double
 * instantiations of conv2d_template.c.
 */
#ifndef CRMN_CONV2D_COMMON_H
#define CRMN_CONV2D_COMMON_H

#include <stdlib.h>
#include <string.h>
#include <cblas.h>
#ifdef _OPENMP
#include <omp.h>
#define CRMN_THREAD_ID() omp_get_thread_num()
#else
#define CRMN_THREAD_ID() 0
#endif

/* OpenBLAS thread control of the scipy-openblas32 wheel (declared in its cblas.h). */
#define CRMN_BLAS_GET_THREADS scipy_openblas_get_num_threads
#define CRMN_BLAS_SET_THREADS scipy_openblas_set_num_threads

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

/* A C-contiguous array of the given type (new reference), or NULL with an error set. */
static PyArrayObject *crmn_contiguous(PyArrayObject *a, int typenum)
{
    return (PyArrayObject *)PyArray_FROMANY((PyObject *)a, typenum, 0, 0, NPY_ARRAY_C_CONTIGUOUS | NPY_ARRAY_ALIGNED);
}

/* Make *out a C-contiguous 4D array of the given shape, reusing it when possible. */
static int crmn_prepare_output(PyArrayObject **out, npy_intp d0, npy_intp d1, npy_intp d2, npy_intp d3,
                               int typenum)
{
    npy_intp dims[4] = {d0, d1, d2, d3};
    if (*out != NULL && PyArray_NDIM(*out) == 4 && PyArray_TYPE(*out) == typenum &&
        PyArray_IS_C_CONTIGUOUS(*out) && PyArray_ISWRITEABLE(*out) &&
        PyArray_DIMS(*out)[0] == d0 && PyArray_DIMS(*out)[1] == d1 && PyArray_DIMS(*out)[2] == d2 &&
        PyArray_DIMS(*out)[3] == d3)
        return 0;
    Py_XDECREF(*out);
    *out = (PyArrayObject *)PyArray_EMPTY(4, dims, typenum, 0);
    return *out == NULL ? -1 : 0;
}

/* Read an int64 vector of length 2 (kshape / ishape). */
static int crmn_read_pair(const char *op, const char *what, PyArrayObject *v, npy_int64 out[2])
{
    if (PyArray_NDIM(v) != 1 || PyArray_DIMS(v)[0] != 2 || PyArray_TYPE(v) != NPY_INT64) {
        PyErr_Format(PyExc_ValueError, "%s: %s must be an int64 vector of length 2", op, what);
        return -1;
    }
    out[0] = *(npy_int64 *)PyArray_GETPTR1(v, 0);
    out[1] = *(npy_int64 *)PyArray_GETPTR1(v, 1);
    return 0;
}

/* Parallel plan: OpenMP over images (single-threaded BLAS inside), or one
 * thread calling multi-threaded BLAS.  CRMN_CONV_PARALLEL=blas forces the
 * latter (a diagnostic knob used by the benchmark). */
static int crmn_num_threads(npy_intp n_images)
{
    int nt = 1;
#ifdef _OPENMP
    const char *mode = getenv("CRMN_CONV_PARALLEL");
    if (mode != NULL && strcmp(mode, "blas") == 0) return 1;
    nt = omp_get_max_threads();
#endif
    if (nt > n_images) nt = (int)n_images;
    return nt < 1 ? 1 : nt;
}

#endif /* CRMN_CONV2D_COMMON_H */
