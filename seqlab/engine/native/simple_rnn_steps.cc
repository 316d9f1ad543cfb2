// SimpleRNN's step ops (h_t = tanh(x_t @ W + b + h_{t-1} @ U)); see step_kernels.h for why.
#include "step_kernels.h"

namespace seqlab {

REGISTER_OP("SeqlabSimpleRnnForwardStep")
    .Input("projected: T")  // (T, B, U): x_t @ W + b for every step
    .Input("step: int32")  // t
    .Input("recurrent: T")  // (B, U): h_{t-1} @ U
    .Output("h: T")
    .Attr("T: {float, bfloat16}")
    .SetShapeFn([](shape_inference::InferenceContext* c) {
      c->set_output(0, c->input(2));
      return OkStatus();
    });

template <typename T> class SimpleRnnForwardStep : public OpKernel {
 public:
  explicit SimpleRnnForwardStep(OpKernelConstruction* context) : OpKernel(context) {}
  void Compute(OpKernelContext* context) override {
    const Tensor& projected = context->input(0);
    const Tensor& recurrent = context->input(2);
    int64_t step = 0;
    read_step(context, projected, &step);
    if (!context->status().ok()) return;
    OP_REQUIRES(context, recurrent.shape() == step_shape(projected, 1),
                errors::InvalidArgument("SeqlabSimpleRnnForwardStep: shapes ", projected.shape().DebugString(),
                                        ", ", recurrent.shape().DebugString()));
    const int64_t rows = recurrent.dim_size(0), units = recurrent.dim_size(1);
    Tensor* h = nullptr;
    OP_REQUIRES_OK(context, context->allocate_output(0, recurrent.shape(), &h));
    using E = Elements<T>;
    using S = typename E::Stored;
    const S* p = reinterpret_cast<const S*>(projected.flat<T>().data()) + step * rows * units;
    const S* r = reinterpret_cast<const S*>(recurrent.flat<T>().data());
    S* h_out = reinterpret_cast<S*>(h->flat<T>().data());
    over_rows(context, rows, units, [&](int64_t first, int64_t end) {
#pragma GCC ivdep
      for (int64_t k = first * units; k < end * units; ++k) {
        h_out[k] = E::from_float(fast_tanh(E::load(p, k) + E::load(r, k)));
      }
    });
  }
};

REGISTER_OP("SeqlabSimpleRnnBackwardStep")
    .Input("outputs: T")  // (T, B, U): h after every step
    .Input("step: int32")  // t
    .Input("d_outputs: T")  // (T, B, U): gradient reaching each h_t from above
    .Input("dh_next: T")  // (B, U): gradient reaching h_t from step t+1
    .Output("d_projected: T")  // (B, U): gradient of step t's pre-activation
    .Attr("T: {float, bfloat16}")
    .SetShapeFn([](shape_inference::InferenceContext* c) {
      c->set_output(0, c->input(3));
      return OkStatus();
    });

template <typename T> class SimpleRnnBackwardStep : public OpKernel {
 public:
  explicit SimpleRnnBackwardStep(OpKernelConstruction* context) : OpKernel(context) {}
  void Compute(OpKernelContext* context) override {
    const Tensor& outputs = context->input(0);
    const Tensor& dh_next = context->input(3);
    int64_t step = 0;
    read_step(context, outputs, &step);
    if (!context->status().ok()) return;
    OP_REQUIRES(context, context->input(2).shape() == outputs.shape() && dh_next.shape() == step_shape(outputs, 1),
                errors::InvalidArgument("SeqlabSimpleRnnBackwardStep: shapes ", outputs.shape().DebugString(), ", ",
                                        context->input(2).shape().DebugString(), ", ",
                                        dh_next.shape().DebugString()));
    const int64_t rows = dh_next.dim_size(0), units = dh_next.dim_size(1);
    Tensor* d_projected = nullptr;
    OP_REQUIRES_OK(context, context->allocate_output(0, dh_next.shape(), &d_projected));
    using E = Elements<T>;
    using S = typename E::Stored;
    const int64_t offset = step * rows * units;
    const S* h = reinterpret_cast<const S*>(outputs.flat<T>().data()) + offset;
    const S* d_output = reinterpret_cast<const S*>(context->input(2).flat<T>().data()) + offset;
    const S* dh = reinterpret_cast<const S*>(dh_next.flat<T>().data());
    S* out = reinterpret_cast<S*>(d_projected->flat<T>().data());
    over_rows(context, rows, units, [&](int64_t first, int64_t end) {
#pragma GCC ivdep
      for (int64_t k = first * units; k < end * units; ++k) {
        const float value = E::load(h, k);
        out[k] = E::from_float((E::load(d_output, k) + E::load(dh, k)) * (1.0f - value * value));
      }
    });
  }
};

SEQLAB_REGISTER_STEPS("SeqlabSimpleRnnForwardStep", SimpleRnnForwardStep)
SEQLAB_REGISTER_STEPS("SeqlabSimpleRnnBackwardStep", SimpleRnnBackwardStep)
}  // namespace seqlab
