/* longconv CUDA kernels: the C ABI that Java binds through FFM.
 *
 * Rules for every entry point:
 *   - device pointers and int64_t sizes in, a cudaStream_t to run on, cudaError_t out;
 *   - the launch error is checked (cudaGetLastError) before returning;
 *   - nothing is allocated: where an entry needs scratch memory the caller passes a workspace whose
 *     size is documented here (and, where it depends on a tuning choice, returned by a *_workspace_bytes
 *     query);
 *   - the host is never synchronized: results are ready when the stream says so;
 *   - sizes are validated cheaply: a NULL pointer that is required, a negative size, a layout other than
 *     0 or 1, a shape that does not fit (N < L, W > 256, ...) or a complex pointer that is not 8-byte
 *     aligned returns cudaErrorInvalidValue and launches nothing. An empty problem (B, D or L zero)
 *     returns cudaSuccess and launches nothing.
 *   - float32 throughout.
 *
 * Sequences. Every tensor named x, y, gy, dx, pre, post is a batch of B x D sequences of length L,
 * logically x[b,d,t], stored by the `layout` argument:
 *   LONGCONV_BDL (0): x[(b*D + d)*L + t]      ([B, D, L], row-major)
 *   LONGCONV_BLD (1): x[(b*L + t)*D + d]      ([B, L, D], row-major)
 * Per-channel kernels (k, w, kr and their gradients) with n taps, logically k[d,j], follow the same
 * layout argument: BDL stores [D, n] (k[d*n + j]), BLD stores [n, D] (k[j*D + d]).
 *
 * FFT buffers. The FFT helpers work on rows of length N that cuFFT (called from Java) transforms as a
 * batch: a real buffer is [rows, N] row-major, a spectrum is [rows, N/2+1] complex, stored as
 * interleaved (re, im) float pairs exactly like cufftComplex. Input rows are ordered b-major: row b*D+d.
 * Spectra of kernels are [D, N/2+1] and shared by every b.
 *
 * How Java composes the ops (F = N/2+1; R2C/C2R are cuFFT's, unnormalised, hence scale = 1/N):
 *   causal-conv forward, N >= L + Lk - 1:
 *     (once per kernel) fft_pad_kernel(k, Lk) -> R2C -> Kf
 *     fft_pad_input(x, pre, off 0) -> R2C -> fft_mul_spectra(Kf, conj 0) -> C2R
 *     -> fft_epilogue(off 0, post, skip, x, scale 1/N) = y
 *   causal-conv backward (plain; gated: see fft_epilogue and longconv_channel_dot):
 *     dx: fft_pad_input(gy, off 0) -> R2C = Gf; fft_mul_spectra(Gf, Kf, conj 1) -> C2R
 *         -> fft_epilogue(off 0, scale 1/N) = dx
 *     dk: fft_pad_input(x, off 0) -> R2C = Xf; fft_mul_acc_batch(Xf, Gf, conj_x 1) -> C2R on [D, N]
 *         -> fft_slice_kernel(off 0, n = Lk, scale 1/N) = dk   (dk[s] = 0 for s >= L comes out exactly 0)
 *   toeplitz-conv forward, k has n = 2L-1 lags, N >= 2L-1:
 *     fft_pad_kernel(k, 2L-1) -> Kf; fft_pad_input(x, off 0) -> R2C -> fft_mul_spectra(conj 0) -> C2R
 *     -> fft_epilogue(off L-1, scale 1/N) = y
 *   toeplitz-conv backward (both are correlations with gy placed at offset L-1):
 *     fft_pad_input(gy, off L-1) -> R2C = Gf'
 *     dx: fft_mul_spectra(Gf', Kf, conj 1) -> C2R -> fft_epilogue(off 0, scale 1/N) = dx
 *     dk: fft_pad_input(x, off 0) -> R2C = Xf; fft_mul_acc_batch(Xf, Gf', conj_x 1) -> C2R on [D, N]
 *         -> fft_slice_kernel(off 0, n = 2L-1, scale 1/N) = dk
 *   gated causal-conv backward (y = post * conv(pre x) + skip x), c = conv(pre x) recomputed:
 *     gc spectrum: fft_pad_input(gy, pre = post) -> R2C; mul_spectra(Kf, conj 1) -> C2R = buffer Z
 *     dx    = fft_epilogue(Z, post = pre, skip, x = gy)   (pre dz + skip gy)
 *     dpre  = fft_epilogue(Z, post = x)                    (x dz)
 *     dpost = fft_epilogue(C, post = gy)                   (gy c, C = forward buffer without gates)
 *     dskip = longconv_channel_dot(gy, x); dk as in the plain case with pre x and post gy as inputs.
 *   fused alternative (fusedconv.cu), one launch instead of pad, R2C, product, C2R and epilogue, for the
 *   power-of-two N that longconv_fused_conv_supported accepts, with the same Kf (cuFFT R2C at that N):
 *     causal-conv forward:   longconv_fused_conv_f32(x, pre, post, skip, Kf, off 0, conj 0) = y
 *     toeplitz-conv forward: longconv_fused_conv_f32(x, Kf, off L-1, conj 0) = y
 *     causal-conv dx:        longconv_fused_conv_f32(gy, Kf, off 0, conj 1) = dx
 *   (toeplitz dx needs gy placed at L-1, which the fused entry does not do: it stays on cuFFT, as do dk.)
 *   short-conv: longconv_short_conv_f32 / _backward_dx_f32 / _backward_params_f32.
 *   ski: longconv_ski_f32 / longconv_ski_backward_f32 (workspaces documented there).
 *   causal-spectrum: C2R of (re, 0) -> longconv_causal_window_f32(scale 1/N) -> R2C.
 */
#ifndef LONGCONV_CUDA_H
#define LONGCONV_CUDA_H

#include <cuda_runtime_api.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define LONGCONV_CUDA_ABI_VERSION 3

/* Values of every `layout` argument. */
#define LONGCONV_BDL 0
#define LONGCONV_BLD 1

/* Values of the short-conv `mode` argument. */
#define LONGCONV_SHORT_CAUSAL 0
#define LONGCONV_SHORT_SAME 1

/* The widest short-conv kernel. */
#define LONGCONV_SHORT_MAX_WIDTH 256

/* The largest ski rank r (kr has 2r-1 lags); v = T u keeps a row of u and of kr in shared memory. */
#define LONGCONV_SKI_MAX_RANK 4096

#if defined(__GNUC__)
#define LONGCONV_API __attribute__((visibility("default")))
#else
#define LONGCONV_API
#endif

/* The largest FFT length longconv_fused_conv_f32 takes: one row of it (N floats and 1/16 padding, 68 KB)
 * in shared memory still leaves room for 2 blocks per SM on sm_80. */
#define LONGCONV_FUSED_MAX_N 16384

/* The ABI version this library was built with; Java refuses a library whose version differs. */
LONGCONV_API int longconv_abi_version(void);

/* y[i] = alpha * x[i] for i < n (float32). Exists so the build and the bindings have a trivial kernel
 * to probe with. */
LONGCONV_API cudaError_t longconv_scale_f32(const float* x, float* y, int64_t n, float alpha,
                                            cudaStream_t stream);

/* ------------------------------------------------------------------------------------------------
 * FFT-convolution helpers (fftconv.cu). cuFFT runs between them, from Java.
 * ------------------------------------------------------------------------------------------------ */

/* Gather and zero-pad sequences into FFT rows:
 *   buf[(b*D + d)*N + j] = x[b,d,j-off] * (pre ? pre[b,d,j-off] : 1)   for off <= j < off + L,
 *   buf[(b*D + d)*N + j] = 0                                           otherwise (j < N).
 * x, pre: [B, D, L] logical in `layout` (pre may be NULL); buf: [B*D, N] real, every element written.
 * Requires off >= 0 and off + L <= N. buf must not overlap x or pre. */
LONGCONV_API cudaError_t longconv_fft_pad_input_f32(const float* x, const float* pre, float* buf,
                                                    int64_t B, int64_t D, int64_t L, int64_t N,
                                                    int64_t off, int layout, cudaStream_t stream);

/* The kernel variant, used once per kernel to prepare its spectra:
 *   buf[d*N + j] = k[d,j] for j < n, 0 for n <= j < N.
 * k: [D, n] (BDL) or [n, D] (BLD); buf: [D, N]. Requires n <= N. */
LONGCONV_API cudaError_t longconv_fft_pad_kernel_f32(const float* k, float* buf, int64_t D, int64_t n,
                                                     int64_t N, int layout, cudaStream_t stream);

/* Pointwise spectrum product, kernel spectra broadcast over the batch:
 *   Y[b*D + d, f] = X[b*D + d, f] * (conj_k ? conj(K[d, f]) : K[d, f])    for f < F.
 * X, Y: [B*D, F] complex; K: [D, F] complex (all interleaved float pairs, 8-byte aligned).
 * Y == X (in place) is allowed; other overlaps are not. conj_k = 1 gives the correlation used for
 * backward dx. */
LONGCONV_API cudaError_t longconv_fft_mul_spectra_f32(const float* X, const float* K, float* Y,
                                                      int64_t B, int64_t D, int64_t F, int conj_k,
                                                      cudaStream_t stream);

/* Batch-reduced spectrum product for kernel gradients, without atomics (one thread per (d, f)):
 *   dK[d, f] = sum_{b<B} (conj_x ? conj(X[b*D+d, f]) : X[b*D+d, f]) * G[b*D+d, f].
 * X, G: [B*D, F] complex; dK: [D, F] complex, overwritten, must not overlap X or G. */
LONGCONV_API cudaError_t longconv_fft_mul_acc_batch_f32(const float* X, const float* G, float* dK,
                                                        int64_t B, int64_t D, int64_t F, int conj_x,
                                                        cudaStream_t stream);

/* Slice, scale, gate and skip, written in `layout`:
 *   y[b,d,t] = (post ? post[b,d,t] : 1) * scale * buf[(b*D + d)*N + off + t]
 *              + (skip ? skip[d] * x[b,d,t] : 0)                                     for t < L.
 * buf: [B*D, N] real; post, x, y: [B, D, L] logical in `layout`; skip: [D]. post and skip may be NULL;
 * x is read only when skip is given (then it is required). Requires off >= 0 and off + L <= N.
 * y must not overlap buf, x or post. */
LONGCONV_API cudaError_t longconv_fft_epilogue_f32(const float* buf, const float* x, const float* post,
                                                   const float* skip, float* y, int64_t B, int64_t D,
                                                   int64_t L, int64_t N, int64_t off, float scale,
                                                   int layout, cudaStream_t stream);

/* Slice a kernel gradient out of FFT rows: k[d,j] = scale * buf[d*N + off + j] for j < n.
 * buf: [D, N]; k: [D, n] (BDL) or [n, D] (BLD), must not overlap buf. Requires off >= 0 and
 * off + n <= N. */
LONGCONV_API cudaError_t longconv_fft_slice_kernel_f32(const float* buf, float* k, int64_t D, int64_t n,
                                                       int64_t N, int64_t off, float scale, int layout,
                                                       cudaStream_t stream);

/* Per-channel dot product over batch and time (dskip of the gated conv; with bb = NULL a plain sum):
 *   out[d] = sum_{b,t} a[b,d,t] * (bb ? bb[b,d,t] : 1).
 * a, bb: [B, D, L] logical in `layout`; out: [D]. One block per channel (BDL) or per 32 channels (BLD),
 * a fixed-order tree reduction, so the result is deterministic. */
LONGCONV_API cudaError_t longconv_channel_dot_f32(const float* a, const float* bb, float* out, int64_t B,
                                                  int64_t D, int64_t L, int layout, cudaStream_t stream);

/* ------------------------------------------------------------------------------------------------
 * Fused FFT convolution (fusedconv.cu): everything between x and y in one kernel.
 * ------------------------------------------------------------------------------------------------ */

/* Whether longconv_fused_conv_f32 takes FFT length N in `layout`: 1 for N a power of two with
 * 2 <= N <= LONGCONV_FUSED_MAX_N and layout 0 or 1, else 0. Host code only; needs no GPU. */
LONGCONV_API int longconv_fused_conv_supported(int64_t N, int layout);

/* The cuFFT composition above in one launch (the same arithmetic up to float32 rounding):
 *   y[b,d,t] = (post ? post[b,d,t] : 1) * c[b,d,off + t] + (skip ? skip[d] * x[b,d,t] : 0)   for t < L,
 *   c[b,d,.] = irfft_N(rfft_N(a) * (conj_k ? conj(K[d]) : K[d])),  a[j] = x[b,d,j] * (pre ? pre[b,d,j] : 1)
 *              for j < L and 0 for L <= j < N,
 * i.e. the circular convolution (conj_k 0) or correlation (conj_k 1) of the padded row with the kernel
 * whose unnormalised spectrum is K (the 1/N of the inverse is applied here). Only the real parts of
 * the products at bins 0 and N/2 count, as in cuFFT's C2R.
 * x, pre, post, y: [B, D, L] logical in `layout`; skip: [D]; K: [D, N/2+1] complex (interleaved, 8-byte
 * aligned), as R2C of fft_pad_kernel's rows. pre, post and skip may be NULL. Requires
 * longconv_fused_conv_supported(N, layout) and off >= 0, off + L <= N. y must not overlap x, pre, post
 * or K. Grid: blocks of `rows = min(16, 16384 / N)` rows (BDL: consecutive rows b*D+d; BLD: consecutive
 * channels of one b), 512 threads, rows * 8 * ((N/2 + N/32) | 1) bytes of dynamic shared memory (the entry raises the
 * kernel's limit with cudaFuncSetAttribute above 48 KB; that can fail with the error it returns). */
LONGCONV_API cudaError_t longconv_fused_conv_f32(const float* x, const float* pre, const float* post,
                                                 const float* skip, const float* K, float* y, int64_t B,
                                                 int64_t D, int64_t L, int64_t N, int64_t off, int conj_k,
                                                 int layout, cudaStream_t stream);

/* ------------------------------------------------------------------------------------------------
 * short-conv (shortconv.cu), W <= 256 taps. shift = W-1 (causal, mode 0) or (W-1)/2 (same, mode 1;
 * W must be odd).
 * ------------------------------------------------------------------------------------------------ */

/* y[b,d,t] = (bias ? bias[d] : 0) + sum_{j<W} w[d,j] x[b,d,t-shift+j], x outside [0, L) reading 0.
 * x, y: [B, D, L] logical in `layout`; w: [D, W] (BDL) or [W, D] (BLD); bias: [D] or NULL.
 * y must not overlap x. */
LONGCONV_API cudaError_t longconv_short_conv_f32(const float* x, const float* w, const float* bias,
                                                 float* y, int64_t B, int64_t D, int64_t L, int64_t W,
                                                 int mode, int layout, cudaStream_t stream);

/* dx[b,d,u] = sum_{j<W} w[d,j] gy[b,d,u+shift-j] (gy outside [0, L) reading 0): the forward kernel
 * with flipped taps and shift W-1-shift. Shapes as in the forward; dx must not overlap gy. */
LONGCONV_API cudaError_t longconv_short_conv_backward_dx_f32(const float* gy, const float* w, float* dx,
                                                             int64_t B, int64_t D, int64_t L, int64_t W,
                                                             int mode, int layout, cudaStream_t stream);

/* Bytes of workspace longconv_short_conv_backward_params_f32 needs for these sizes:
 *   chunks * (W+1) * D * sizeof(float), where tiles = B * ceil(L/32), dtiles = ceil(D/32) and
 *   chunks = min(tiles, 64, max(1, ceil(1024 / dtiles))).
 * Returns -1 for sizes the entry would reject (negative, W < 1 or W > 256), 0 for an empty problem. */
LONGCONV_API int64_t longconv_short_conv_backward_workspace_bytes(int64_t B, int64_t D, int64_t L,
                                                                  int64_t W);

/* Parameter gradients, deterministic two-pass reduction through the caller's workspace:
 *   dw[d,j]  = sum_{b,t} gy[b,d,t] x[b,d,t-shift+j]   (x outside [0, L) reading 0)
 *   dbias[d] = sum_{b,t} gy[b,d,t]                     (skipped when dbias is NULL)
 * dw in w's layout ([D, W] or [W, D]), overwritten; workspace: at least
 * longconv_short_conv_backward_workspace_bytes(B, D, L, W) bytes, 4-byte aligned. */
LONGCONV_API cudaError_t longconv_short_conv_backward_params_f32(const float* x, const float* gy,
                                                                 float* dw, float* dbias, float* workspace,
                                                                 int64_t B, int64_t D, int64_t L,
                                                                 int64_t W, int mode, int layout,
                                                                 cudaStream_t stream);

/* ------------------------------------------------------------------------------------------------
 * ski (ski.cu): y = W T W^T x per (b, d). W is the L x r linear-interpolation matrix onto inducing
 * points p_i = i (L-1)/(r-1): row t has weight 1-f on seg(t) and f on seg(t)+1, where
 * seg(t) = min(floor(t (r-1)/(L-1)), r-2) and f = (t (r-1) - seg(t) (L-1)) / (L-1); with L = 1, row 0 is
 * e_0. T[i,j] = kr[d, i-j+r-1]. kr has nk = 2r-1 lags (odd, >= 3, r <= LONGCONV_SKI_MAX_RANK), in the
 * kernel layout ([D, nk] or [nk, D]).
 * ------------------------------------------------------------------------------------------------ */

/* y = W T W^T x. workspace: 2 * B * D * r floats (u = W^T x, then v = T u, each [B*D, r]).
 * x, y: [B, D, L] logical in `layout`. y may not overlap x or the workspace. */
LONGCONV_API cudaError_t longconv_ski_f32(const float* x, const float* kr, float* y, float* workspace,
                                          int64_t B, int64_t D, int64_t L, int64_t nk, int layout,
                                          cudaStream_t stream);

/* Backward of ski for upstream gradient gy:
 *   u = W^T x, gv = W^T gy, gu = T^T gv, dx = W gu,
 *   dkr[d, m] = sum_b sum_j gv_b[j + m - (r-1)] u_b[j]   (terms with the index outside [0, r) dropped).
 * workspace: 3 * B * D * r floats (u, gv, gu, each [B*D, r]). dx: x's shape and layout; dkr: kr's. */
LONGCONV_API cudaError_t longconv_ski_backward_f32(const float* x, const float* kr, const float* gy,
                                                   float* dx, float* dkr, float* workspace, int64_t B,
                                                   int64_t D, int64_t L, int64_t nk, int layout,
                                                   cudaStream_t stream);

/* ------------------------------------------------------------------------------------------------
 * causal-spectrum window (spectrum.cu) and layout conversion (transpose.cu).
 * ------------------------------------------------------------------------------------------------ */

/* The causal (Hilbert) window of rows e = irfft(re) [D, N], N even >= 2:
 *   h[d,0] = s e[d,0], h[d,t] = 2 s e[d,t] (0 < t < N/2), h[d,N/2] = s e[d,N/2], h[d,t] = 0 (t > N/2),
 * with s = scale (1/N after cuFFT's unnormalised C2R). h == e (in place) is allowed. */
LONGCONV_API cudaError_t longconv_causal_window_f32(const float* e, float* h, int64_t D, int64_t N,
                                                    float scale, cudaStream_t stream);

/* Rewrite a sequence tensor from one layout to the other: out[b,d,t] = in[b,d,t] with `in` in
 * from_layout and `out` in to_layout. Equal layouts copy (cudaMemcpyAsync). in and out must not
 * overlap. 32x32 tiles through shared memory, so both the read and the write are coalesced. */
LONGCONV_API cudaError_t longconv_convert_layout_f32(const float* in, float* out, int64_t B, int64_t D,
                                                     int64_t L, int from_layout, int to_layout,
                                                     cudaStream_t stream);

#ifdef __cplusplus
}
#endif

#endif
