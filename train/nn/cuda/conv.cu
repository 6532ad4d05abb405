/* conv.cu: 2-D convolution on cuDNN. The algorithms for a shape are chosen once (cuDNN's
 * heuristics, v7 API; deterministic ones in deterministic mode) and cached by shape; all
 * calls share one workspace, grown to the largest need. Bias on our own kernels. */
#include "nn_cuda_internal.cuh"

typedef struct conv_descs {
    cudnnTensorDescriptor_t x, y;
    cudnnFilterDescriptor_t w;
    cudnnConvolutionDescriptor_t conv;
} conv_descs;

static void descs_free(conv_descs *d) {
    if (d->x) cudnnDestroyTensorDescriptor(d->x);
    if (d->y) cudnnDestroyTensorDescriptor(d->y);
    if (d->w) cudnnDestroyFilterDescriptor(d->w);
    if (d->conv) cudnnDestroyConvolutionDescriptor(d->conv);
}

static int descs_make(const nn_tensor *x, const nn_tensor *w, const nn_tensor *y, const nn_conv2d_opts *o,
                      conv_descs *d, es_error *err) {
    memset(d, 0, sizeof *d);
    CUDNN_TRY(cudnnCreateTensorDescriptor(&d->x), err);
    CUDNN_TRY(cudnnCreateTensorDescriptor(&d->y), err);
    CUDNN_TRY(cudnnCreateFilterDescriptor(&d->w), err);
    CUDNN_TRY(cudnnCreateConvolutionDescriptor(&d->conv), err);
    CUDNN_TRY(cudnnSetTensor4dDescriptor(d->x, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, x->shape[0], x->shape[1],
                                         x->shape[2], x->shape[3]),
              err);
    CUDNN_TRY(cudnnSetTensor4dDescriptor(d->y, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, y->shape[0], y->shape[1],
                                         y->shape[2], y->shape[3]),
              err);
    CUDNN_TRY(cudnnSetFilter4dDescriptor(d->w, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, w->shape[0], w->shape[1],
                                         w->shape[2], w->shape[3]),
              err);
    CUDNN_TRY(cudnnSetConvolution2dDescriptor(d->conv, o->pad_h, o->pad_w, o->stride_h, o->stride_w, o->dil_h,
                                              o->dil_w, CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT),
              err);
    CUDNN_TRY(cudnnSetConvolutionGroupCount(d->conv, o->groups), err);
    /* fp32 math, no TF32: results track the CPU reference */
    CUDNN_TRY(cudnnSetConvolutionMathType(d->conv, CUDNN_FMA_MATH), err);
    return ES_OK;
}

static conv_algo_entry *algos_for(nn_ctx *ctx, const nn_tensor *x, const nn_tensor *w,
                                  const nn_conv2d_opts *o, conv_descs *d, es_error *err) {
    nn_cuda_state *s = cst(ctx);
    int key[13] = {x->shape[0], x->shape[1], x->shape[2], x->shape[3], w->shape[0], w->shape[2], w->shape[3],
                   o->stride_h * 64 + o->stride_w, o->pad_h * 64 + o->pad_w, o->dil_h * 64 + o->dil_w, o->groups,
                   ctx->deterministic, 1};
    for (int i = 0; i < s->n_algos; i++)
        if (!memcmp(s->algos[i].key, key, sizeof key)) return &s->algos[i];
    conv_algo_entry *e = &s->algos[s->n_algos < NN_CONV_CACHE ? s->n_algos++ : 0];
    memcpy(e->key, key, sizeof key);
    int n;
    cudnnConvolutionFwdAlgoPerf_t fp[16];
    cudnnConvolutionBwdDataAlgoPerf_t dp[16];
    cudnnConvolutionBwdFilterAlgoPerf_t wp[16];
    e->fwd = CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM;
    e->bwd_data = CUDNN_CONVOLUTION_BWD_DATA_ALGO_1;
    e->bwd_filter = CUDNN_CONVOLUTION_BWD_FILTER_ALGO_1;
    if (cudnnGetConvolutionForwardAlgorithm_v7(s->cudnn, d->x, d->w, d->conv, d->y, 16, &n, fp) ==
        CUDNN_STATUS_SUCCESS)
        for (int i = 0; i < n; i++)
            if (fp[i].status == CUDNN_STATUS_SUCCESS &&
                (!ctx->deterministic || fp[i].determinism == CUDNN_DETERMINISTIC)) {
                e->fwd = fp[i].algo;
                break;
            }
    if (cudnnGetConvolutionBackwardDataAlgorithm_v7(s->cudnn, d->w, d->y, d->conv, d->x, 16, &n, dp) ==
        CUDNN_STATUS_SUCCESS)
        for (int i = 0; i < n; i++)
            if (dp[i].status == CUDNN_STATUS_SUCCESS &&
                (!ctx->deterministic || dp[i].determinism == CUDNN_DETERMINISTIC)) {
                e->bwd_data = dp[i].algo;
                break;
            }
    if (cudnnGetConvolutionBackwardFilterAlgorithm_v7(s->cudnn, d->x, d->y, d->conv, d->w, 16, &n, wp) ==
        CUDNN_STATUS_SUCCESS)
        for (int i = 0; i < n; i++)
            if (wp[i].status == CUDNN_STATUS_SUCCESS &&
                (!ctx->deterministic || wp[i].determinism == CUDNN_DETERMINISTIC)) {
                e->bwd_filter = wp[i].algo;
                break;
            }
    (void)err;
    return e;
}

static void *conv_workspace(nn_ctx *ctx, size_t bytes, es_error *err) {
    nn_cuda_state *s = cst(ctx);
    if (bytes > s->conv_ws_bytes) {
        cudaStreamSynchronize(s->stream);
        cudaFree(s->conv_ws);
        s->conv_ws = NULL;
        s->conv_ws_bytes = 0;
        if (cudaMalloc(&s->conv_ws, bytes) != cudaSuccess) {
            s->conv_ws = NULL;
            es_error_set(err, ES_ERR_NOMEM, "cuDNN workspace: cannot allocate %zu bytes", bytes);
            return NULL;
        }
        s->conv_ws_bytes = bytes;
    }
    return s->conv_ws ? s->conv_ws : (void *)s->reduce; /* non-NULL even for 0 bytes */
}

extern "C" int nn_cuda_conv2d_forward(nn_ctx *ctx, const nn_tensor *x, const nn_tensor *w,
                                      const nn_tensor *b, nn_tensor *y, const nn_conv2d_opts *o,
                                      es_error *err) {
    nn_cuda_state *s = cst(ctx);
    conv_descs d;
    int rc = descs_make(x, w, y, o, &d, err);
    conv_algo_entry *e = rc ? NULL : algos_for(ctx, x, w, o, &d, err);
    size_t bytes = 0;
    void *ws = NULL;
    float one = 1.0f, zero = 0.0f;
    if (!rc && cudnnGetConvolutionForwardWorkspaceSize(s->cudnn, d.x, d.w, d.conv, d.y, e->fwd, &bytes) !=
                   CUDNN_STATUS_SUCCESS)
        rc = es_error_set(err, ES_ERR_INTERNAL, "cuDNN: forward workspace size failed");
    if (!rc && !(ws = conv_workspace(ctx, bytes, err))) rc = ES_ERR_NOMEM;
    if (!rc) {
        cudnnStatus_t st = cudnnConvolutionForward(s->cudnn, &one, d.x, x->data, d.w, w->data, d.conv, e->fwd, ws,
                                                   bytes, &zero, d.y, y->data);
        if (st != CUDNN_STATUS_SUCCESS)
            rc = es_error_set(err, ES_ERR_INTERNAL, "cuDNN: convolution forward: %s", cudnnGetErrorString(st));
    }
    descs_free(&d);
    if (!rc && b)
        rc = nn_cuda_bias_channels(ctx, y->data, b->data, y->shape[0], y->shape[1],
                                   (int64_t)y->shape[2] * y->shape[3], 0, err);
    return rc;
}

extern "C" int nn_cuda_conv2d_backward(nn_ctx *ctx, const nn_tensor *x, const nn_tensor *w,
                                       const nn_tensor *b, const nn_tensor *y, const nn_conv2d_opts *o,
                                       es_error *err) {
    nn_cuda_state *s = cst(ctx);
    int rc = ES_OK;
    if (b && b->grad)
        rc = nn_cuda_bias_channels_backward(ctx, y->grad, b->grad, y->shape[0], y->shape[1],
                                            (int64_t)y->shape[2] * y->shape[3], 0, err);
    if (rc || (!x->grad && !w->grad)) return rc;
    conv_descs d;
    rc = descs_make(x, w, y, o, &d, err);
    conv_algo_entry *e = rc ? NULL : algos_for(ctx, x, w, o, &d, err);
    float one = 1.0f;
    if (!rc && w->grad) {
        size_t bytes = 0;
        void *ws = NULL;
        if (cudnnGetConvolutionBackwardFilterWorkspaceSize(s->cudnn, d.x, d.y, d.conv, d.w, e->bwd_filter, &bytes) !=
            CUDNN_STATUS_SUCCESS)
            rc = es_error_set(err, ES_ERR_INTERNAL, "cuDNN: backward filter workspace size failed");
        if (!rc && !(ws = conv_workspace(ctx, bytes, err))) rc = ES_ERR_NOMEM;
        if (!rc) {
            cudnnStatus_t st = cudnnConvolutionBackwardFilter(s->cudnn, &one, d.x, x->data, d.y, y->grad, d.conv,
                                                              e->bwd_filter, ws, bytes, &one, d.w, w->grad);
            if (st != CUDNN_STATUS_SUCCESS)
                rc = es_error_set(err, ES_ERR_INTERNAL, "cuDNN: backward filter: %s", cudnnGetErrorString(st));
        }
    }
    if (!rc && x->grad) {
        size_t bytes = 0;
        void *ws = NULL;
        if (cudnnGetConvolutionBackwardDataWorkspaceSize(s->cudnn, d.w, d.y, d.conv, d.x, e->bwd_data, &bytes) !=
            CUDNN_STATUS_SUCCESS)
            rc = es_error_set(err, ES_ERR_INTERNAL, "cuDNN: backward data workspace size failed");
        if (!rc && !(ws = conv_workspace(ctx, bytes, err))) rc = ES_ERR_NOMEM;
        if (!rc) {
            cudnnStatus_t st = cudnnConvolutionBackwardData(s->cudnn, &one, d.w, w->data, d.y, y->grad, d.conv,
                                                            e->bwd_data, ws, bytes, &one, d.x, x->grad);
            if (st != CUDNN_STATUS_SUCCESS)
                rc = es_error_set(err, ES_ERR_INTERNAL, "cuDNN: backward data: %s", cudnnGetErrorString(st));
        }
    }
    descs_free(&d);
    return rc;
}
