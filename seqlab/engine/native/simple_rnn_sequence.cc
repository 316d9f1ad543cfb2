// SimpleRNN's whole-sequence ops in float32 and bfloat16 (h_t = tanh(x_t @ W + b + h_{t-1} @ U)); see sequence_kernels.h.
#include "sequence_kernels.h"
#if defined(__AVX512BF16__)

namespace seqlab {

REGISTER_OP("SeqlabSimpleRnnForwardSequence")
    .Input("projected: T")  // (T, B, U): x_t @ W + b for every step
    .Input("kernel: T")  // (U, U): the recurrent kernel
    .Input("h_first: T")  // (B, U): h before step 0
    .Output("outputs: T")  // (T, B, U): h after every step
    .Attr("T: {float, bfloat16}")
    .SetShapeFn([](shape_inference::InferenceContext* c) {
      c->set_output(0, c->input(0));
      return OkStatus();
    });

template <typename T> class SimpleRnnForwardSequence : public OpKernel {
 public:
  explicit SimpleRnnForwardSequence(OpKernelConstruction* context) : OpKernel(context) {}
  void Compute(OpKernelContext* context) override {
    using E = Elements<T>;
    using S = typename E::Stored;
    const Tensor &projected = context->input(0), &kernel = context->input(1), &h_first = context->input(2);
    OP_REQUIRES(context, sequence_shape_ok(projected, kernel, 1) &&
                             h_first.shape() == state_shape(projected, kernel),
                errors::InvalidArgument("SeqlabSimpleRnnForwardSequence: shapes ", projected.shape().DebugString(),
                                        ", ", kernel.shape().DebugString(), ", ", h_first.shape().DebugString()));
    Tensor* outputs = nullptr;
    OP_REQUIRES_OK(context, context->allocate_output(0, projected.shape(), &outputs));
    const int64_t steps = projected.dim_size(0), rows = projected.dim_size(1), units = kernel.dim_size(0);
    const int64_t size = rows * units;
    const S *p = values<T>(projected), *h0 = values<T>(h_first);
    S* h = values<T>(outputs);
    const int threads = team_size(context, rows, units, 1);
    PackedKernel<T> packed(kernel, false);
    std::vector<float> z(size);
    run_team(threads, [&](int thread, int team, SpinBarrier& barrier) {
      packed.pack(thread, team);
      barrier.wait();
      const auto share = unit_share(units, thread, team);
      for (int64_t t = 0; t < steps; ++t) {
        packed.gate_products(t > 0 ? h + (t - 1) * size : h0, rows, 1, units, share, z.data());
        const S* pt = p + t * size;
        S* ht = h + t * size;
        for (int64_t row = 0; row < rows; ++row) {
#pragma GCC ivdep
          for (int64_t k = row * units + share.first; k < row * units + share.second; ++k) {
            ht[k] = E::from_float(fast_tanh(E::load(pt, k) + E::rounded(z[k])));
          }
        }
        barrier.wait();
      }
    });
  }
};

REGISTER_OP("SeqlabSimpleRnnBackwardSequence")
    .Input("outputs: T")  // (T, B, U): h after every step
    .Input("kernel: T")  // (U, U)
    .Input("d_outputs: T")  // (T, B, U): gradient reaching each h_t from above
    .Input("dh_last: T")  // (B, U): gradient reaching h_T from after the sequence
    .Output("d_projected: T")  // (T, B, U): gradient of every step's pre-activation
    .Output("dh_first: T")  // (B, U): gradient reaching h before step 0
    .Attr("T: {float, bfloat16}")
    .SetShapeFn([](shape_inference::InferenceContext* c) {
      c->set_output(0, c->input(0));
      c->set_output(1, c->input(3));
      return OkStatus();
    });

template <typename T> class SimpleRnnBackwardSequence : public OpKernel {
 public:
  explicit SimpleRnnBackwardSequence(OpKernelConstruction* context) : OpKernel(context) {}
  void Compute(OpKernelContext* context) override {
    using E = Elements<T>;
    using S = typename E::Stored;
    const Tensor &outputs = context->input(0), &kernel = context->input(1);
    const Tensor &d_outputs = context->input(2), &dh_last = context->input(3);
    OP_REQUIRES(context, sequence_shape_ok(outputs, kernel, 1) && d_outputs.shape() == outputs.shape() &&
                             dh_last.shape() == state_shape(outputs, kernel),
                errors::InvalidArgument("SeqlabSimpleRnnBackwardSequence: shapes ", outputs.shape().DebugString(),
                                        ", ", kernel.shape().DebugString(), ", ", d_outputs.shape().DebugString(),
                                        ", ", dh_last.shape().DebugString()));
    Tensor *d_projected = nullptr, *dh_first = nullptr;
    OP_REQUIRES_OK(context, context->allocate_output(0, outputs.shape(), &d_projected));
    OP_REQUIRES_OK(context, context->allocate_output(1, dh_last.shape(), &dh_first));
    const int64_t steps = outputs.dim_size(0), rows = outputs.dim_size(1), units = kernel.dim_size(0);
    const int64_t size = rows * units;
    const S *h = values<T>(outputs), *d_h = values<T>(d_outputs), *dh_end = values<T>(dh_last);
    S *da = values<T>(d_projected), *dh0 = values<T>(dh_first);
    const int threads = team_size(context, rows, units, 1);
    PackedKernel<T> packed(kernel, true);
    std::vector<float> dh(size);  // gradient reaching h_t through U, float32 between steps
    for (int64_t k = 0; k < size; ++k) dh[k] = E::load(dh_end, k);
    run_team(threads, [&](int thread, int team, SpinBarrier& barrier) {
      packed.pack(thread, team);
      const auto share = unit_share(units, thread, team);
      for (int64_t t = steps - 1; t >= 0; --t) {
        const S *ht = h + t * size, *d_ht = d_h + t * size;
        S* da_t = da + t * size;
        for (int64_t row = 0; row < rows; ++row) {
#pragma GCC ivdep
          for (int64_t k = row * units + share.first; k < row * units + share.second; ++k) {
            const float value = E::load(ht, k);
            da_t[k] = E::from_float((E::load(d_ht, k) + E::rounded(dh[k])) * (1.0f - value * value));
          }
        }
        barrier.wait();  // every thread's part of da_t (and the packing, at the first step) is written
        packed.gate_products(da_t, rows, 1, units, share, dh.data());
      }
      for (int64_t row = 0; row < rows; ++row) {
        for (int64_t k = row * units + share.first; k < row * units + share.second; ++k) {
          dh0[k] = E::from_float(dh[k]);
        }
      }
    });
  }
};

SEQLAB_REGISTER_STEPS("SeqlabSimpleRnnForwardSequence", SimpleRnnForwardSequence)
SEQLAB_REGISTER_STEPS("SeqlabSimpleRnnBackwardSequence", SimpleRnnBackwardSequence)
}  // namespace seqlab
#endif  // __AVX512BF16__
