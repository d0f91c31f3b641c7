/* conv2d_direct.h -- direct ("implicit GEMM") float32 convolution kernels, AVX2 + FMA (AVX-512 tiles
 * in conv2d_direct512.h, included next, where the CPU has them).
 *
 * Included once, after conv2d_common.h and before the float / double
 * instantiations of conv2d_template.c, which call
 *   crmn_direct_fwd_float / crmn_direct_gradi_float / crmn_direct_gradw_float
 * (and the *_double stubs, which always decline).  Each returns 1 when it did
 * the work, 0 when the caller must use im2col + GEMM, -1 on error (Python
 * exception set).
 *
 * Choice of path, read at every call: CRMN_CONV_IMPL=gemm (never direct),
 * direct (direct wherever it applies: float32, AVX2+FMA CPU), anything else /
 * unset = auto (direct for the cases where it measured faster; see
 * crmn_direct_auto_* below; measurements in docs/PERFORMANCE.md).
 *
 * Layout of one image in the per-thread padded buffer: C channels of Hp rows;
 * a row holds the sw column phases of the zero-padded row one after the other
 * (phase p = padded columns p, p+sw, p+2sw, ...), each phase `phlen` floats.
 * Output column j of kernel tap b then reads phase b % sw at index j + b / sw:
 * 8 consecutive output columns are one unaligned 8-float load, at any stride.
 * Padding cells are zeroed once per call; only the interior is rewritten per
 * image.  A vector of 8 output columns may run past the row end (W not a
 * multiple of 8): its extra lanes read finite buffer data (the buffer has
 * slack at its end) and are not stored.  Offsets are ints: a padded image
 * (group) over 2^31 floats falls back to im2col + GEMM.
 *
 * Forward / grad inputs kernel: a register tile of 6 output channels x 2
 * vectors of 8 output columns (4 x 3 or 2 x 3 for the last, narrower channel
 * block; a vector is any 8-column piece of an output row, so narrow images fill
 * the tile too), loop over the K = C*kh*kw taps with an offset table,
 * broadcast the 6 filter values of the tap (filters pre-transposed to
 * [F/6][K][6], zero-padded in F), FMA.  Taps go in chunks of whole channels
 * (about 288 taps) so that a chunk's filter block stays in L1; later chunks
 * add to the output.
 * Grad weights kernel: dw^T accumulated per thread as [K][F]: a register tile
 * of 16 filters (2 vectors) x 6 taps; per output pixel, the 16 gy values of
 * the pixel (gy transposed per image to [F/16][pixel][16]) times a broadcast
 * of the tap's input value.  Small images go in groups (about 256 pixels per
 * group) so each tile's pixel loop is long enough.
 * Grad inputs: a correlation of gy, padded, with the transposed filters; at
 * stride > 1 by phase decomposition -- each of the sh*sw phases (rows =
 * rho mod sh, cols = sigma mod sw) of dx is a stride-1 correlation of the
 * padded gy with the taps of that phase, computed into a per-thread scratch
 * and interleaved into dx.
 * Threads: OpenMP over images (groups of images for grad weights), each
 * thread with its own padded buffer from the node's workspace; grad weights
 * sums the per-thread partial dw at the end, in thread order, each thread
 * having taken a fixed (static) share of the groups: the result is the same
 * on every call with the same thread count.  float32 accumulation in
 * registers, like sgemm.
 */
#ifndef CRMN_CONV2D_DIRECT_H
#define CRMN_CONV2D_DIRECT_H

#if defined(__x86_64__) || defined(__i386__)
#define CRMN_DIRECT_X86 1
#include <immintrin.h>
#include <limits.h>
#else
#define CRMN_DIRECT_X86 0
#endif

/* 0 gemm, 1 direct, 2 auto */
static int crmn_conv_impl(void)
{
    const char *s = getenv("CRMN_CONV_IMPL");
    if (s != NULL && strcmp(s, "gemm") == 0) return 0;
    if (s != NULL && strcmp(s, "direct") == 0) return 1;
    return 2;
}

static int crmn_direct_cpu_ok(void)
{
#if CRMN_DIRECT_X86
    static int ok = -1;
    if (ok < 0) {
        __builtin_cpu_init();
        ok = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    }
    return ok;
#else
    return 0;
#endif
}

static int crmn_direct_fwd_double(PyArrayObject *xa, PyArrayObject *wa, PyArrayObject *ya, int sh, int sw,
                                  int ph, int pw, crmn_workspace *ws)
{
    (void)xa; (void)wa; (void)ya; (void)sh; (void)sw; (void)ph; (void)pw; (void)ws;
    return 0;
}

static int crmn_direct_gradi_double(PyArrayObject *wa, PyArrayObject *ga, PyArrayObject *dxa, int sh, int sw,
                                    int ph, int pw, crmn_workspace *ws)
{
    (void)wa; (void)ga; (void)dxa; (void)sh; (void)sw; (void)ph; (void)pw; (void)ws;
    return 0;
}

static int crmn_direct_gradw_double(PyArrayObject *xa, PyArrayObject *ga, PyArrayObject *dwa, int sh, int sw,
                                    int ph, int pw, crmn_workspace *ws)
{
    (void)xa; (void)ga; (void)dwa; (void)sh; (void)sw; (void)ph; (void)pw; (void)ws;
    return 0;
}

#if CRMN_DIRECT_X86

#define CRMN_DK_R 6 /* output channels per register tile (forward / grad inputs) */
#define CRMN_DK_V 2 /* 8-column vectors per register tile (3 for the last, narrow channel block) */
#define CRMN_DK_VMAX 3
#define CRMN_DK_TARGET __attribute__((target("avx2,fma")))
#define CRMN_DK_INLINE static inline __attribute__((always_inline, target("avx2,fma")))

/* One output vector: offset of its first column in the padded input buffer
 * and in the output, and how many of its columns are real (8 with AVX2, 16
 * with AVX-512); for AVX-512 row pairs (narrow outputs), the same for the
 * second row's piece (lanes 8-15; cols2 = 0: none). */
typedef struct {
    int in, out, cols;
    int in2, out2, cols2;
} crmn_dk_vec;

/* Kinds of output vectors: 8 columns of a row (AVX2 tiles), 16 columns of a row
 * (AVX-512), up to 8 columns of two consecutive rows (AVX-512, outputs at most 8 wide). */
enum { CRMN_DK_Y8 = 0, CRMN_DK_Z16 = 1, CRMN_DK_Z2X8 = 2 };

static const int crmn_dk_masktab[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};

/* ---------------------------------------------------------------- workspace carving */
static size_t crmn_dk_round(size_t bytes) { return (bytes + 63) & ~(size_t)63; }

/* ---------------------------------------------------------------- padded image */
typedef struct {
    int C, H, W;      /* source image */
    int pt, pl;       /* top / left zero padding */
    int Hp, sw;       /* rows of the buffer, column phases */
    int phlen, rowlen; /* floats per phase, per row (= sw * phlen) */
    size_t imglen;    /* floats per channel of one image (= Hp * rowlen) */
    size_t chanlen;   /* floats per channel (= nimg * imglen: nimg images side by side) */
    size_t total;     /* floats of the whole buffer, with slack */
} crmn_dk_pad;

static void crmn_dk_pad_init(crmn_dk_pad *g, int C, int H, int W, int pt, int pl, int Hp, int Wp, int sw, int nimg)
{
    g->C = C;
    g->H = H;
    g->W = W;
    g->pt = pt;
    g->pl = pl;
    g->Hp = Hp;
    g->sw = sw;
    g->phlen = (Wp + sw - 1) / sw;
    g->rowlen = g->phlen * sw;
    g->imglen = (size_t)Hp * g->rowlen;
    g->chanlen = g->imglen * nimg;
    g->total = g->chanlen * C + (size_t)g->rowlen + 64;
}

/* offset of padded cell (c, row, col) */
static inline size_t crmn_dk_pad_off(const crmn_dk_pad *g, int c, int row, int col)
{
    return (size_t)c * g->chanlen + (size_t)row * g->rowlen + (size_t)(col % g->sw) * g->phlen + col / g->sw;
}

/* d[0..W) = s[0..W) (short rows: no memcpy call) */
CRMN_DK_TARGET static void crmn_dk_copy_row(const float *s, int W, float *d)
{
    int m = 0;
    for (; m + 8 <= W; m += 8) _mm256_storeu_ps(d + m, _mm256_loadu_ps(s + m));
    if (m < W) {
        const __m256i mk = _mm256_loadu_si256((const __m256i *)(crmn_dk_masktab + 8 - (W - m)));
        _mm256_maskstore_ps(d + m, mk, _mm256_maskload_ps(s + m, mk));
    }
}

/* even source columns to de[0..], odd ones to do_[0..] */
CRMN_DK_TARGET static void crmn_dk_deinterleave2(const float *s, int W, float *de, float *do_)
{
    int m = 0, k = 0;
    for (; m + 16 <= W; m += 16, k += 8) {
        const __m256 a = _mm256_loadu_ps(s + m), b = _mm256_loadu_ps(s + m + 8);
        const __m256 ev = _mm256_shuffle_ps(a, b, 0x88), od = _mm256_shuffle_ps(a, b, 0xDD);
        _mm256_storeu_ps(de + k, _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(ev), 0xD8)));
        _mm256_storeu_ps(do_ + k, _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(od), 0xD8)));
    }
    for (; m < W; m += 2, ++k) {
        de[k] = s[m];
        if (m + 1 < W) do_[k] = s[m + 1];
    }
}

static void crmn_dk_pad_fill(const crmn_dk_pad *g, const float *src, float *buf)
{
    for (int c = 0; c < g->C; ++c) {
        for (int r = 0; r < g->H; ++r) {
            const float *s = src + ((size_t)c * g->H + r) * g->W;
            if (g->sw == 1) {
                crmn_dk_copy_row(s, g->W, buf + crmn_dk_pad_off(g, c, r + g->pt, g->pl));
            } else if (g->sw == 2 && crmn_direct_cpu_ok()) {
                crmn_dk_deinterleave2(s, g->W, buf + crmn_dk_pad_off(g, c, r + g->pt, g->pl),
                                      buf + crmn_dk_pad_off(g, c, r + g->pt, g->pl + 1));
            } else {
                for (int p = 0; p < g->sw; ++p) {
                    /* padded columns col = pl + s_ with col % sw == p */
                    int s0 = ((p - g->pl) % g->sw + g->sw) % g->sw;
                    if (s0 >= g->W) continue;
                    float *d = buf + crmn_dk_pad_off(g, c, r + g->pt, g->pl + s0);
                    for (int s_ = s0, k = 0; s_ < g->W; s_ += g->sw, ++k) d[k] = s[s_];
                }
            }
        }
    }
}

/* ---------------------------------------------------------------- forward-type kernel */
/* out + r*ostride + vec[v].out (+)= res[r*V + v] for r < rv (columns < vec[v].cols) */
CRMN_DK_TARGET static void crmn_dk_store(const __m256 *res, int R, int V, const crmn_dk_vec *vec, int rv,
                                         int accum, float *out, npy_intp ostride)
{
    for (int v = 0; v < V; ++v) {
        float *dst = out + vec[v].out;
        const int cols = vec[v].cols;
        const __m256i m = _mm256_loadu_si256((const __m256i *)(crmn_dk_masktab + 8 - cols));
        for (int r = 0; r < R && r < rv; ++r) {
            __m256 o = res[r * V + v];
            float *d = dst + r * ostride;
            if (cols == 8) {
                if (accum) o = _mm256_add_ps(o, _mm256_loadu_ps(d));
                _mm256_storeu_ps(d, o);
            } else {
                if (accum) o = _mm256_add_ps(o, _mm256_maskload_ps(d, m));
                _mm256_maskstore_ps(d, m, o);
            }
        }
    }
}

/* acc[r][v] = sum_k wt[k*CRMN_DK_R + r] * in[koff[k] + vec[v].in] for r < R (R <= CRMN_DK_R, a
 * constant after inlining, as is V); stored to out + r*ostride + vec[v].out for r < rv. */
CRMN_DK_INLINE void crmn_dk_tile(const float *in, const int *koff, int K, const float *wt, const crmn_dk_vec *vec,
                                 const int R, const int V, int rv, const int accum, float *out,
                                 npy_intp ostride)
{
    __m256 acc[CRMN_DK_R][CRMN_DK_VMAX];
    const float *pin[CRMN_DK_VMAX];
    for (int r = 0; r < R; ++r)
        for (int v = 0; v < V; ++v) acc[r][v] = _mm256_setzero_ps();
    for (int v = 0; v < V; ++v) pin[v] = in + vec[v].in;
    for (int k = 0; k < K; ++k) {
        const int o = koff[k];
        __m256 xv[CRMN_DK_VMAX];
        for (int v = 0; v < V; ++v) xv[v] = _mm256_loadu_ps(pin[v] + o);
        const float *wk = wt + (size_t)k * CRMN_DK_R;
        for (int r = 0; r < R; ++r) {
            const __m256 wb = _mm256_broadcast_ss(wk + r);
            for (int v = 0; v < V; ++v) acc[r][v] = _mm256_fmadd_ps(wb, xv[v], acc[r][v]);
        }
    }
    /* The results go through a stack copy: touching acc[][] under the conditions
     * below made GCC keep the whole array in memory inside the k loop. */
    __m256 res[CRMN_DK_R * CRMN_DK_VMAX];
    for (int r = 0; r < R; ++r)
        for (int v = 0; v < V; ++v) _mm256_store_ps((float *)&res[r * V + v], acc[r][v]);
    crmn_dk_store(res, R, V, vec, rv, accum, out, ostride);
}

#define CRMN_DK_TILES(R_, V_, A_)                                                                          \
    do {                                                                                                   \
        int t = 0;                                                                                         \
        for (; t + (V_) <= nvec; t += (V_)) crmn_dk_tile(in, koff, K, wt, vec + t, R_, V_, rv, A_, out, ostride); \
        if ((V_) > 2 && nvec - t == 2) crmn_dk_tile(in, koff, K, wt, vec + t, R_, 2, rv, A_, out, ostride);      \
        else if (nvec - t == 1) crmn_dk_tile(in, koff, K, wt, vec + t, R_, 1, rv, A_, out, ostride);            \
    } while (0)

/* All output vectors for one block of rv <= CRMN_DK_R output channels: 6 x 2
 * vectors per tile, 4 x 3 or 2 x 3 for a narrower last block; accum: add to out. */
CRMN_DK_TARGET static void crmn_dk_block(const float *in, const int *koff, int K, const float *wt,
                                         const crmn_dk_vec *vec, int nvec, int rv, int accum, float *out,
                                         npy_intp ostride)
{
    if (accum) {
        if (rv > 4) CRMN_DK_TILES(6, 2, 1);
        else if (rv > 2) CRMN_DK_TILES(4, 3, 1);
        else CRMN_DK_TILES(2, 3, 1);
    } else {
        if (rv > 4) CRMN_DK_TILES(6, 2, 0);
        else if (rv > 2) CRMN_DK_TILES(4, 3, 0);
        else CRMN_DK_TILES(2, 3, 0);
    }
}

/* One correlation plan: taps (koff, filters wt[Fo/R][K][R]) and output vectors of one kind. */
typedef struct {
    int K;
    const int *koff;
    const float *wt;
    int nvec;
    const crmn_dk_vec *vec;
    int kind;
} crmn_dk_plan;

/* The AVX-512 tiles (conv2d_direct512.h) */
static int crmn_direct_avx512(void);
__attribute__((target("avx512f,avx2,fma"))) static void crmn_dk5_block(const float *in, const int *koff, int K,
                                                                       const float *wt, const crmn_dk_vec *vec,
                                                                       int nvec, int rv, int accum, int pairs,
                                                                       float *out, npy_intp ostride);
__attribute__((target("avx512f,avx2,fma"))) static void crmn_gw5_group(const float *xb, const int *koff, int K,
                                                                       const float *gt, int Fp, size_t gtfb,
                                                                       const int *poff, int npx, float *acc);

/* the kind of output vectors for outputs Wo columns wide */
static int crmn_dk_kind(int Wo)
{
    if (!crmn_direct_avx512()) return CRMN_DK_Y8;
    return Wo > 8 ? CRMN_DK_Z16 : CRMN_DK_Z2X8;
}

/* The taps are taken in chunks of about CRMN_DK_KCHUNK (whole input channels),
 * so that one chunk's filter block (chunk x CRMN_DK_R floats) stays in L1
 * while all output vectors pass; later chunks add to the output. */
#define CRMN_DK_KCHUNK 288
static void crmn_dk_run(const crmn_dk_plan *p, const float *in, int Fo, float *out, npy_intp ostride, int taps_per_chan)
{
    int kc = (CRMN_DK_KCHUNK / taps_per_chan) * taps_per_chan;
    if (kc < taps_per_chan) kc = taps_per_chan;
    for (int k0 = 0; k0 < p->K; k0 += kc) {
        const int K = p->K - k0 < kc ? p->K - k0 : kc;
        for (int f0 = 0, fb = 0; f0 < Fo; f0 += CRMN_DK_R, ++fb) {
            int rv = Fo - f0 < CRMN_DK_R ? Fo - f0 : CRMN_DK_R;
            const float *wt = p->wt + ((size_t)fb * p->K + k0) * CRMN_DK_R;
            if (p->kind != CRMN_DK_Y8)
                crmn_dk5_block(in, p->koff + k0, K, wt, p->vec, p->nvec, rv, k0 > 0, p->kind == CRMN_DK_Z2X8,
                               out + (size_t)f0 * ostride, ostride);
            else
                crmn_dk_block(in, p->koff + k0, K, wt, p->vec, p->nvec, rv, k0 > 0, out + (size_t)f0 * ostride, ostride);
        }
    }
}

/* Output vectors of the given kind of an Ho x Wo output whose row i starts at
 * input offset i*in_row and output offset i*out_row; returns the count written
 * (at most crmn_dk_nvecs(Ho, Wo)).  Row pairs: Wo <= 8; an odd last row is
 * paired with nothing (cols2 = 0, in2 = its own row, read but never stored). */
static int crmn_dk_make_vecs(crmn_dk_vec *vec, int Ho, int Wo, int in_row, int out_row, int kind)
{
    int n = 0;
    if (kind == CRMN_DK_Z2X8) {
        for (int i = 0; i < Ho; i += 2, ++n) {
            const int two = i + 1 < Ho;
            vec[n].in = i * in_row;
            vec[n].out = i * out_row;
            vec[n].cols = Wo;
            vec[n].in2 = (two ? i + 1 : i) * in_row;
            vec[n].out2 = (two ? i + 1 : i) * out_row;
            vec[n].cols2 = two ? Wo : 0;
        }
        return n;
    }
    const int width = kind == CRMN_DK_Z16 ? 16 : 8;
    for (int i = 0; i < Ho; ++i)
        for (int j = 0; j < Wo; j += width, ++n) {
            vec[n].in = i * in_row + j;
            vec[n].out = i * out_row + j;
            vec[n].cols = Wo - j < width ? Wo - j : width;
            vec[n].in2 = vec[n].out2 = vec[n].cols2 = 0;
        }
    return n;
}

/* how many 8-column vectors (an upper bound for any width) */
static inline int crmn_dk_nvecs(int Ho, int Wo) { return Ho * ((Wo + 7) / 8); }

/* A carved workspace: shared part, then nt per-thread parts. */
typedef struct {
    char *base;
    size_t shared, per;
} crmn_dk_ws;

static int crmn_dk_ws_get(crmn_dk_ws *d, crmn_workspace *ws, size_t shared, size_t per, int nt)
{
    d->shared = crmn_dk_round(shared);
    d->per = crmn_dk_round(per);
    d->base = (char *)crmn_ws_get(ws, d->shared + d->per * nt + 64);
    if (d->base == NULL) return -1;
    d->base = (char *)(((size_t)d->base + 63) & ~(size_t)63);
    return 0;
}

/* ---------------------------------------------------------------- heuristics */
/* auto: where the direct path measured faster than im2col + GEMM, single
 * thread (see the DECISION section of ops/conv.py): kernels with more than
 * one tap (1x1 kernels need no im2col, and GEMM won there), and for the
 * forward / grad inputs outputs at least 8 columns wide (one vector; at 4x4 the
 * half-empty vectors lost to GEMM).  Grad weights won at every measured size. */
static int crmn_direct_auto_fwd(int kh, int kw, int Wo)
{
    return kh * kw > 1 && Wo >= 8;
}
static int crmn_direct_auto_gradi(int kh, int kw, int W, int sw)
{
    return kh * kw > 1 && (W + sw - 1) / sw >= 8;
}
static int crmn_direct_auto_gradw(int kh, int kw)
{
    return kh * kw > 1;
}

static int crmn_direct_wanted(int autoval)
{
    int impl = crmn_conv_impl();
    if (impl == 0 || !crmn_direct_cpu_ok()) return 0;
    return impl == 1 ? 1 : autoval;
}

/* ---------------------------------------------------------------- forward */
static int crmn_direct_fwd_float(PyArrayObject *xa, PyArrayObject *wa, PyArrayObject *ya, int sh, int sw,
                                 int ph, int pw, crmn_workspace *ws)
{
    const npy_intp N = PyArray_DIMS(xa)[0];
    const int C = (int)PyArray_DIMS(xa)[1], H = (int)PyArray_DIMS(xa)[2], W = (int)PyArray_DIMS(xa)[3];
    const int F = (int)PyArray_DIMS(wa)[0], kh = (int)PyArray_DIMS(wa)[2], kw = (int)PyArray_DIMS(wa)[3];
    const int Ho = (int)PyArray_DIMS(ya)[2], Wo = (int)PyArray_DIMS(ya)[3];
    if (!crmn_direct_wanted(crmn_direct_auto_fwd(kh, kw, Wo))) return 0;
    const int K = C * kh * kw, Fp = (F + CRMN_DK_R - 1) / CRMN_DK_R * CRMN_DK_R, nv = crmn_dk_nvecs(Ho, Wo);
    const int nt = crmn_num_threads(N);
    crmn_dk_pad g;
    crmn_dk_pad_init(&g, C, H, W, ph, pw, H + 2 * ph, W + 2 * pw, sw, 1);
    if (g.total > (size_t)INT_MAX) return 0;
    crmn_dk_ws d;
    const size_t sz_wt = crmn_dk_round(sizeof(float) * (size_t)Fp * K), sz_koff = crmn_dk_round(sizeof(int) * K);
    if (crmn_dk_ws_get(&d, ws, sz_wt + sz_koff + sizeof(crmn_dk_vec) * nv, sizeof(float) * g.total, nt)) return -1;
    float *wt = (float *)d.base;
    int *koff = (int *)(d.base + sz_wt);
    crmn_dk_vec *vec = (crmn_dk_vec *)(d.base + sz_wt + sz_koff);
    const float *x = (const float *)PyArray_DATA(xa), *w = (const float *)PyArray_DATA(wa);
    float *y = (float *)PyArray_DATA(ya);
    /* filters to [Fp/R][K][R]; the threads share the blocks (256x256x3x3: 0.6 M floats) */
#pragma omp parallel for num_threads(nt) if (nt > 1 && (size_t)Fp * K >= 65536) schedule(static)
    for (int fb = 0; fb < Fp / CRMN_DK_R; ++fb)
        for (int k = 0; k < K; ++k)
            for (int r = 0; r < CRMN_DK_R; ++r) {
                const int f = fb * CRMN_DK_R + r;
                wt[((size_t)fb * K + k) * CRMN_DK_R + r] = f < F ? w[(size_t)f * K + k] : 0.0f;
            }
    for (int c = 0, k = 0; c < C; ++c)
        for (int a = 0; a < kh; ++a)
            for (int b = 0; b < kw; ++b, ++k) koff[k] = (int)crmn_dk_pad_off(&g, c, a, b);
    const int kind = crmn_dk_kind(Wo);
    const int nvk = crmn_dk_make_vecs(vec, Ho, Wo, sh * g.rowlen, Wo, kind);
    crmn_dk_plan plan = {K, koff, wt, nvk, vec, kind};
#pragma omp parallel num_threads(nt) if (nt > 1)
    {
        float *buf = (float *)(d.base + d.shared + d.per * CRMN_THREAD_ID());
        memset(buf, 0, sizeof(float) * g.total);
#pragma omp for schedule(dynamic, 1)
        for (npy_intp n = 0; n < N; ++n) {
            crmn_dk_pad_fill(&g, x + (size_t)n * C * H * W, buf);
            crmn_dk_run(&plan, buf, F, y + (size_t)n * F * Ho * Wo, (npy_intp)Ho * Wo, kh * kw);
        }
    }
    return 1;
}

/* d[2t] = e[t], d[2t+1] = o[t] for t < a multiple of 8 that is <= n; returns that multiple */
CRMN_DK_TARGET static int crmn_dk_interleave2(const float *e, const float *o, int n, float *d)
{
    int t = 0;
    for (; t + 8 <= n; t += 8) {
        const __m256 a = _mm256_loadu_ps(e + t), b = _mm256_loadu_ps(o + t);
        const __m256 lo = _mm256_unpacklo_ps(a, b), hi = _mm256_unpackhi_ps(a, b);
        _mm256_storeu_ps(d + 2 * t, _mm256_permute2f128_ps(lo, hi, 0x20));
        _mm256_storeu_ps(d + 2 * t + 8, _mm256_permute2f128_ps(lo, hi, 0x31));
    }
    return t;
}

/* ---------------------------------------------------------------- grad inputs */
/* One axis of the phase decomposition (n dx positions, stride s, padding p, k kernel taps): phase r
 * (q = ceil((n - r) / s) > 0 positions) with tap a, (r + p - a) % s == 0, reads gy index q' + d for
 * q' < q, d = (r + p - a) / s.  Grows *lead (gy indices below 0) and *ext (one past the last) to cover all. */
static void crmn_dk_phase_extent(int n, int s, int p, int k, int *lead, int *ext)
{
    for (int r = 0; r < s; ++r) {
        const int q = (n - r + s - 1) / s;
        if (q <= 0) continue;
        for (int a = 0; a < k; ++a) {
            if ((r + p - a) % s) continue;
            const int d = (r + p - a) / s;
            if (-d > *lead) *lead = -d;
            if (q + d > *ext) *ext = q + d;
        }
    }
}

static int crmn_direct_gradi_float(PyArrayObject *wa, PyArrayObject *ga, PyArrayObject *dxa, int sh, int sw,
                                   int ph, int pw, crmn_workspace *ws)
{
    const npy_intp N = PyArray_DIMS(ga)[0];
    const int F = (int)PyArray_DIMS(wa)[0], C = (int)PyArray_DIMS(wa)[1];
    const int kh = (int)PyArray_DIMS(wa)[2], kw = (int)PyArray_DIMS(wa)[3];
    const int Ho = (int)PyArray_DIMS(ga)[2], Wo = (int)PyArray_DIMS(ga)[3];
    const int H = (int)PyArray_DIMS(dxa)[2], W = (int)PyArray_DIMS(dxa)[3];
    if (!crmn_direct_wanted(crmn_direct_auto_gradi(kh, kw, W, sw)) || kh > 64 || kw > 64) return 0;
    const int Cp = (C + CRMN_DK_R - 1) / CRMN_DK_R * CRMN_DK_R, nph = sh * sw;
    const int nt = crmn_num_threads(N);
    /* Phase (rho, sigma): output rows r = sh*q + rho (q < Hq), columns s = sw*t + sigma (t < Wq);
     * taps a with (rho + ph - a) % sh == 0 read gy row q + (rho + ph - a) / sh. */
    int PT = 0, PL = 0, Hb = Ho, Wb = Wo, nvtot = 0, maxq = 0;
    /* gy rows read: q + d (q < Hq, d = (rho + ph - a) / sh): the buffer covers rows [-PT, Hb); columns alike */
    crmn_dk_phase_extent(H, sh, ph, kh, &PT, &Hb);
    crmn_dk_phase_extent(W, sw, pw, kw, &PL, &Wb);
    for (int rho = 0; rho < sh; ++rho)
        for (int sg = 0; sg < sw; ++sg) {
            const int Hq = (H - rho + sh - 1) / sh, Wq = (W - sg + sw - 1) / sw;
            if (Hq > 0 && Wq > 0) nvtot += crmn_dk_nvecs(Hq, Wq);
            if (Hq * Wq > maxq) maxq = Hq * Wq;
        }
    crmn_dk_pad g;
    crmn_dk_pad_init(&g, F, Ho, Wo, PT, PL, PT + Hb, PL + Wb, 1, 1);
    if (g.total > (size_t)INT_MAX || (size_t)C * H * W > (size_t)INT_MAX) return 0;
    const int Kall = F * kh * kw;
    const size_t sz_wt = crmn_dk_round(sizeof(float) * (size_t)Cp * Kall), sz_koff = crmn_dk_round(sizeof(int) * Kall);
    const size_t sz_vec = crmn_dk_round(sizeof(crmn_dk_vec) * nvtot);
    const size_t per = crmn_dk_round(sizeof(float) * g.total) + (nph > 1 ? sizeof(float) * (size_t)sw * C * maxq : 0);
    crmn_dk_ws d;
    if (crmn_dk_ws_get(&d, ws, sz_wt + sz_koff + sz_vec + sizeof(crmn_dk_plan) * nph + sizeof(int) * 2 * nph, per, nt))
        return -1;
    float *wt = (float *)d.base;
    int *koff = (int *)(d.base + sz_wt);
    crmn_dk_vec *vec = (crmn_dk_vec *)(d.base + sz_wt + sz_koff);
    crmn_dk_plan *plans = (crmn_dk_plan *)(d.base + sz_wt + sz_koff + sz_vec);
    int *phq = (int *)(plans + nph); /* Hq, Wq per phase */
    const float *w = (const float *)PyArray_DATA(wa), *gy = (const float *)PyArray_DATA(ga);
    float *dx = (float *)PyArray_DATA(dxa);
    /* build the plans: taps of each phase, filters wt[c/R][k][c%R] = w[f, c, a, b] (k = tap index) */
    {
        float *wp = wt;
        int *kp = koff;
        crmn_dk_vec *vp = vec;
        for (int rho = 0; rho < sh; ++rho)
            for (int sg = 0; sg < sw; ++sg) {
                crmn_dk_plan *p = plans + rho * sw + sg;
                int Hq = (H - rho + sh - 1) / sh, Wq = (W - sg + sw - 1) / sw;
                int K = 0;
                if (Hq < 0) Hq = 0;
                if (Wq < 0) Wq = 0;
                phq[2 * (rho * sw + sg)] = Hq;
                phq[2 * (rho * sw + sg) + 1] = Wq;
                /* the kernel rows A[] and columns Bc[] of this phase (kh, kw <= 64, checked above);
                 * tap k = (f * na + ia) * nbb + ib is filter f, kernel cell (A[ia], Bc[ib]) */
                int na = 0, nbb = 0, A[64], Bc[64];
                for (int a = 0; a < kh; ++a)
                    if ((rho + ph - a) % sh == 0) A[na++] = a;
                for (int b = 0; b < kw; ++b)
                    if ((sg + pw - b) % sw == 0) Bc[nbb++] = b;
                for (int f = 0; f < F; ++f)
                    for (int ia = 0; ia < na; ++ia)
                        for (int ib = 0; ib < nbb; ++ib, ++K)
                            kp[K] = (int)crmn_dk_pad_off(&g, f, (rho + ph - A[ia]) / sh + PT,
                                                         (sg + pw - Bc[ib]) / sw + PL);
                /* filters of this phase: [Cp/R][K][R], the threads sharing the channel blocks */
                {
                    const int tpf = na * nbb; /* taps per filter: K == F * tpf */
#pragma omp parallel for num_threads(nt) if (nt > 1 && (size_t)Cp * K >= 65536) schedule(static)
                    for (int cb = 0; cb < Cp / CRMN_DK_R; ++cb)
                        for (int k = 0; k < K; ++k) {
                            const int f = k / tpf, a = A[(k % tpf) / nbb], b = Bc[k % nbb];
                            for (int r = 0; r < CRMN_DK_R; ++r) {
                                const int c = cb * CRMN_DK_R + r;
                                wp[((size_t)cb * K + k) * CRMN_DK_R + r] =
                                    c < C ? w[(((size_t)f * C + c) * kh + a) * kw + b] : 0.0f;
                            }
                        }
                }
                p->K = K;
                p->koff = kp;
                p->wt = wp;
                p->vec = vp;
                p->kind = crmn_dk_kind(Wq);
                p->nvec = (Hq > 0 && Wq > 0) ? crmn_dk_make_vecs(vp, Hq, Wq, g.rowlen, nph > 1 ? Wq : W, p->kind)
                                             : 0;
                kp += K;
                wp += (size_t)Cp * K;
                vp += p->nvec;
            }
    }
#pragma omp parallel num_threads(nt) if (nt > 1)
    {
        float *buf = (float *)(d.base + d.shared + d.per * CRMN_THREAD_ID());
        float *scr = buf + crmn_dk_round(sizeof(float) * g.total) / sizeof(float);
        memset(buf, 0, sizeof(float) * g.total);
#pragma omp for schedule(dynamic, 1)
        for (npy_intp n = 0; n < N; ++n) {
            float *dxn = dx + (size_t)n * C * H * W;
            crmn_dk_pad_fill(&g, gy + (size_t)n * F * Ho * Wo, buf);
            if (nph == 1) {
                if (plans[0].K == 0) memset(dxn, 0, sizeof(float) * (size_t)C * H * W);
                else crmn_dk_run(plans, buf, C, dxn, (npy_intp)H * W, plans[0].K / (F > 0 ? F : 1));
                continue;
            }
            for (int rho = 0; rho < sh; ++rho) {
                const int Hq = phq[2 * rho * sw];
                if (Hq == 0) continue;
                /* the sw column phases of these rows into scr + sg * C * maxq ... */
                for (int sg = 0; sg < sw; ++sg) {
                    const crmn_dk_plan *p = plans + rho * sw + sg;
                    const int Wq = phq[2 * (rho * sw + sg) + 1];
                    float *sc = scr + (size_t)sg * C * maxq;
                    if (Wq == 0) continue;
                    if (p->K == 0) memset(sc, 0, sizeof(float) * (size_t)C * Hq * Wq);
                    else crmn_dk_run(p, buf, C, sc, (npy_intp)Hq * Wq, p->K / F);
                }
                /* ... then interleaved into the rows sh*q + rho of dx */
                for (int c = 0; c < C; ++c)
                    for (int q = 0; q < Hq; ++q) {
                        float *dr = dxn + ((size_t)c * H + sh * q + rho) * W;
                        int t0 = 0;
                        if (sw == 2) {
                            const int Wq0 = phq[2 * (rho * sw) + 1], Wq1 = phq[2 * (rho * sw + 1) + 1];
                            t0 = crmn_dk_interleave2(scr + ((size_t)c * Hq + q) * Wq0,
                                                     scr + (size_t)C * maxq + ((size_t)c * Hq + q) * Wq1, Wq1, dr);
                        }
                        for (int sg = 0; sg < sw; ++sg) {
                            const int Wq = phq[2 * (rho * sw + sg) + 1];
                            const float *sp = scr + (size_t)sg * C * maxq + ((size_t)c * Hq + q) * Wq;
                            for (int t = t0; t < Wq; ++t) dr[sw * t + sg] = sp[t];
                        }
                    }
            }
        }
    }
    return 1;
}

/* ---------------------------------------------------------------- grad weights */
/* dw^T is accumulated as acc[k][Fp] (Fp = F rounded up to 8): for a tile of
 * FV vectors of 8 filters x Q taps, every output pixel p adds
 * gyT[p][f..f+7] * broadcast(xpad[tap k at p]).  gy is transposed per image
 * into gt[F/16 block][P][16] (zero-padded filters), so the pixel loop reads it
 * contiguously; the x buffer has the plain (sw = 1) padded layout, and a
 * shared table gives each pixel's offset in it. */
#define CRMN_GW_QMAX 6

/* acc[k][f..f+8*FV) += sum_p gt[p][f..] * x[koff[k] + poff[p]] for the Q taps k of the tile:
 * poff[p] = offset of pixel p (of any image of the group) in the x buffer, gt
 * holds the pixels in the same order (one flat loop: no per-row overhead). */
CRMN_DK_INLINE void crmn_gw_tile(const float *xb, const int *koff, const int Q, const int FV, const float *gt,
                                      const int *poff, int npx, float *acc, int Fp)
{
    __m256 s[2][CRMN_GW_QMAX];
    const float *px[CRMN_GW_QMAX];
    for (int v = 0; v < FV; ++v)
        for (int q = 0; q < Q; ++q) s[v][q] = _mm256_setzero_ps();
    for (int q = 0; q < Q; ++q) px[q] = xb + koff[q];
    for (int p = 0; p < npx; ++p) {
        const int o = poff[p];
        const __m256 g0 = _mm256_load_ps(gt + (size_t)p * 16);
        const __m256 g1 = FV > 1 ? _mm256_load_ps(gt + (size_t)p * 16 + 8) : g0;
        for (int q = 0; q < Q; ++q) {
            const __m256 xv = _mm256_broadcast_ss(px[q] + o);
            s[0][q] = _mm256_fmadd_ps(g0, xv, s[0][q]);
            if (FV > 1) s[1][q] = _mm256_fmadd_ps(g1, xv, s[1][q]);
        }
    }
    for (int q = 0; q < Q; ++q)
        for (int v = 0; v < FV; ++v) {
            float *o = acc + (size_t)q * Fp + 8 * v;
            _mm256_storeu_ps(o, _mm256_add_ps(_mm256_loadu_ps(o), s[v][q]));
        }
}

#define CRMN_GW_QCASE(FV_)                                                                   \
    switch (Q) {                                                                                  \
    case 6: crmn_gw_tile(xb, koff + k0, 6, FV_, gtb, poff, npx, out, Fp); break;             \
    case 5: crmn_gw_tile(xb, koff + k0, 5, FV_, gtb, poff, npx, out, Fp); break;             \
    case 4: crmn_gw_tile(xb, koff + k0, 4, FV_, gtb, poff, npx, out, Fp); break;             \
    case 3: crmn_gw_tile(xb, koff + k0, 3, FV_, gtb, poff, npx, out, Fp); break;             \
    case 2: crmn_gw_tile(xb, koff + k0, 2, FV_, gtb, poff, npx, out, Fp); break;             \
    default: crmn_gw_tile(xb, koff + k0, 1, FV_, gtb, poff, npx, out, Fp); break;            \
    }

/* One group of nimg images (npx pixels in all, offsets poff); gyT blocks of 16
 * filters gtfb floats apart. */
CRMN_DK_TARGET static void crmn_gw_group(const float *xb, const int *koff, int K, const float *gt, int Fp,
                                         size_t gtfb, const int *poff, int npx, float *acc)
{
    for (int f0 = 0; f0 < Fp; f0 += 16) {
        const float *gtb = gt + (size_t)(f0 / 16) * gtfb;
        for (int k0 = 0; k0 < K; k0 += CRMN_GW_QMAX) {
            const int Q = K - k0 < CRMN_GW_QMAX ? K - k0 : CRMN_GW_QMAX;
            float *out = acc + (size_t)k0 * Fp + f0;
            if (Fp - f0 >= 16) {
                CRMN_GW_QCASE(2)
            } else {
                CRMN_GW_QCASE(1)
            }
        }
    }
}

/* 8 rows of 8 floats (src, row stride ss) -> their transpose (dst, row stride ds) */
CRMN_DK_INLINE void crmn_dk_transpose8(const float *src, size_t ss, float *dst, size_t ds)
{
    __m256 r0 = _mm256_loadu_ps(src), r1 = _mm256_loadu_ps(src + ss), r2 = _mm256_loadu_ps(src + 2 * ss);
    __m256 r3 = _mm256_loadu_ps(src + 3 * ss), r4 = _mm256_loadu_ps(src + 4 * ss), r5 = _mm256_loadu_ps(src + 5 * ss);
    __m256 r6 = _mm256_loadu_ps(src + 6 * ss), r7 = _mm256_loadu_ps(src + 7 * ss);
    __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
    __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
    __m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
    __m256 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
    r0 = _mm256_shuffle_ps(t0, t2, 0x44);
    r1 = _mm256_shuffle_ps(t0, t2, 0xEE);
    r2 = _mm256_shuffle_ps(t1, t3, 0x44);
    r3 = _mm256_shuffle_ps(t1, t3, 0xEE);
    r4 = _mm256_shuffle_ps(t4, t6, 0x44);
    r5 = _mm256_shuffle_ps(t4, t6, 0xEE);
    r6 = _mm256_shuffle_ps(t5, t7, 0x44);
    r7 = _mm256_shuffle_ps(t5, t7, 0xEE);
    _mm256_storeu_ps(dst, _mm256_permute2f128_ps(r0, r4, 0x20));
    _mm256_storeu_ps(dst + ds, _mm256_permute2f128_ps(r1, r5, 0x20));
    _mm256_storeu_ps(dst + 2 * ds, _mm256_permute2f128_ps(r2, r6, 0x20));
    _mm256_storeu_ps(dst + 3 * ds, _mm256_permute2f128_ps(r3, r7, 0x20));
    _mm256_storeu_ps(dst + 4 * ds, _mm256_permute2f128_ps(r0, r4, 0x31));
    _mm256_storeu_ps(dst + 5 * ds, _mm256_permute2f128_ps(r1, r5, 0x31));
    _mm256_storeu_ps(dst + 6 * ds, _mm256_permute2f128_ps(r2, r6, 0x31));
    _mm256_storeu_ps(dst + 7 * ds, _mm256_permute2f128_ps(r3, r7, 0x31));
}

/* gt[f/16][b][p][f%16] = gy[f][p] of image b of a group of nimg (zero for f >= F):
 * 8 x 8 blocks with AVX2, the rest element by element */
CRMN_DK_TARGET static void crmn_gw_transpose(const float *gyn, int F, int Fg, size_t P, int nimg, int b, float *gt)
{
    const size_t P8 = P / 8 * 8;
    for (int f0 = 0; f0 < Fg; f0 += 16) {
        float *gb = gt + ((size_t)(f0 / 16) * nimg + b) * P * 16;
        const int nf = F - f0 < 16 ? F - f0 : 16;
        int r = 0;
        for (; r + 8 <= nf; r += 8) {
            const float *src = gyn + (size_t)(f0 + r) * P;
            for (size_t p = 0; p < P8; p += 8) crmn_dk_transpose8(src + p, P, gb + p * 16 + r, 16);
            for (size_t p = P8; p < P; ++p)
                for (int i = 0; i < 8; ++i) gb[p * 16 + r + i] = src[(size_t)i * P + p];
        }
        for (; r < nf; ++r) {
            const float *src = gyn + (size_t)(f0 + r) * P;
            for (size_t p = 0; p < P; ++p) gb[p * 16 + r] = src[p];
        }
    }
}

/* Images go in groups of CRMN_GW_GROUP_PX / P (1 to 8), so that each tile's
 * pixel loop is long enough to pay for its start and its accumulator update. */
#define CRMN_GW_GROUP_PX 256
static int crmn_direct_gradw_float(PyArrayObject *xa, PyArrayObject *ga, PyArrayObject *dwa, int sh, int sw,
                                   int ph, int pw, crmn_workspace *ws)
{
    const npy_intp N = PyArray_DIMS(xa)[0];
    const int C = (int)PyArray_DIMS(xa)[1], H = (int)PyArray_DIMS(xa)[2], W = (int)PyArray_DIMS(xa)[3];
    const int F = (int)PyArray_DIMS(ga)[1], Ho = (int)PyArray_DIMS(ga)[2], Wo = (int)PyArray_DIMS(ga)[3];
    const int kh = (int)PyArray_DIMS(dwa)[2], kw = (int)PyArray_DIMS(dwa)[3];
    if (!crmn_direct_wanted(crmn_direct_auto_gradw(kh, kw))) return 0;
    const int K = C * kh * kw, Fp = (F + 7) / 8 * 8, Fg = (F + 15) / 16 * 16;
    const size_t P = (size_t)Ho * Wo;
    int nb = (int)(CRMN_GW_GROUP_PX / P);
    if (nb < 1) nb = 1;
    if (nb > 8) nb = 8;
    if (nb > N) nb = (int)N;
    const npy_intp ngroups = (N + nb - 1) / nb;
    const int nt = crmn_num_threads(ngroups);
    crmn_dk_pad g;
    crmn_dk_pad_init(&g, C, H, W, ph, pw, H + 2 * ph, W + 2 * pw, 1, nb);
    if (g.total > (size_t)INT_MAX) return 0;
    const size_t sz_koff = crmn_dk_round(sizeof(int) * K);
    const size_t sz_pad = crmn_dk_round(sizeof(float) * g.total), sz_acc = crmn_dk_round(sizeof(float) * (size_t)K * Fp);
    const size_t per = sz_pad + sz_acc + sizeof(float) * (size_t)Fg * P * nb;
    crmn_dk_ws d;
    if (crmn_dk_ws_get(&d, ws, sz_koff + sizeof(int) * P * nb, per, nt)) return -1;
    int *koff = (int *)d.base, *poff = (int *)(d.base + sz_koff);
    for (int b = 0, n = 0; b < nb; ++b)
        for (int i = 0; i < Ho; ++i)
            for (int j = 0; j < Wo; ++j, ++n) poff[n] = (int)(b * g.imglen + (size_t)i * sh * g.rowlen + (size_t)j * sw);
    const float *x = (const float *)PyArray_DATA(xa), *gy = (const float *)PyArray_DATA(ga);
    float *dw = (float *)PyArray_DATA(dwa);
    for (int c = 0, k = 0; c < C; ++c)
        for (int a = 0; a < kh; ++a)
            for (int b = 0; b < kw; ++b, ++k) koff[k] = (int)crmn_dk_pad_off(&g, c, a, b);
    const int wide = crmn_direct_avx512();
#pragma omp parallel num_threads(nt) if (nt > 1)
    {
        char *mine = d.base + d.shared + d.per * CRMN_THREAD_ID();
        float *buf = (float *)mine, *acc = (float *)(mine + sz_pad), *gt = (float *)(mine + sz_pad + sz_acc);
        memset(buf, 0, sizeof(float) * g.total);
        memset(acc, 0, sizeof(float) * (size_t)K * Fp);
        if (Fg != F) memset(gt, 0, sizeof(float) * (size_t)Fg * P * nb);
        /* static: each thread sums a fixed set of groups, so dw's rounding is the same on every call */
#pragma omp for schedule(static)
        for (npy_intp grp = 0; grp < ngroups; ++grp) {
            const npy_intp n0 = grp * nb;
            const int m = N - n0 < nb ? (int)(N - n0) : nb;
            for (int b = 0; b < m; ++b) {
                crmn_dk_pad_fill(&g, x + (size_t)(n0 + b) * C * H * W, buf + b * g.imglen);
                crmn_gw_transpose(gy + (size_t)(n0 + b) * F * P, F, Fg, P, nb, b, gt);
            }
            if (wide) crmn_gw5_group(buf, koff, K, gt, Fp, P * 16 * nb, poff, m * (int)P, acc);
            else crmn_gw_group(buf, koff, K, gt, Fp, P * 16 * nb, poff, m * (int)P, acc);
        }
    }
    /* dw[f][k] = sum over threads of acc[k][f], in thread order; blocks of 32 taps shared out
     * between the threads, each reading its rows of acc in memory order */
#pragma omp parallel for num_threads(nt) if (nt > 1 && (size_t)F * K >= 65536) schedule(static)
    for (int k0 = 0; k0 < K; k0 += 32) {
        const int k1 = K - k0 < 32 ? K : k0 + 32;
        for (int k = k0; k < k1; ++k)
            for (int f = 0; f < F; ++f) {
                float s = 0;
                for (int t = 0; t < nt; ++t)
                    s += ((const float *)(d.base + d.shared + d.per * t + sz_pad))[(size_t)k * Fp + f];
                dw[(size_t)f * K + k] = s;
            }
    }
    return 1;
}

#else /* not x86: the direct path is never taken */

static int crmn_direct_fwd_float(PyArrayObject *xa, PyArrayObject *wa, PyArrayObject *ya, int sh, int sw,
                                 int ph, int pw, crmn_workspace *ws)
{
    return crmn_direct_fwd_double(xa, wa, ya, sh, sw, ph, pw, ws);
}
static int crmn_direct_gradi_float(PyArrayObject *wa, PyArrayObject *ga, PyArrayObject *dxa, int sh, int sw,
                                   int ph, int pw, crmn_workspace *ws)
{
    return crmn_direct_gradi_double(wa, ga, dxa, sh, sw, ph, pw, ws);
}
static int crmn_direct_gradw_float(PyArrayObject *xa, PyArrayObject *ga, PyArrayObject *dwa, int sh, int sw,
                                   int ph, int pw, crmn_workspace *ws)
{
    return crmn_direct_gradw_double(xa, ga, dwa, sh, sw, ph, pw, ws);
}

#endif /* CRMN_DIRECT_X86 */
#endif /* CRMN_CONV2D_DIRECT_H */
