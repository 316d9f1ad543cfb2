// The GRU's whole-sequence ops in float32 and bfloat16 (reset after the recurrent product; gates z, r, h); see
// sequence_kernels.h. Same maths and roundings as the step ops in gru_steps.cc, which the tests hold these to.
#include "sequence_kernels.h"
#if defined(__AVX512BF16__)

namespace seqlab {

REGISTER_OP("SeqlabGruForwardSequence")
    .Input("projected: T")  // (T, B, 3U): x_t @ W + b_x for every step
    .Input("kernel: T")  // (U, 3U): the recurrent kernel
    .Input("recurrent_bias: T")  // (3U)
    .Input("h_first: T")  // (B, U)
    .Output("outputs: T")  // (T, B, U): h after every step
    .Output("saved: T")  // (T, B, 4U): every step's z, r, candidate, h_{t-1} @ U_h + b_h
    .Attr("T: {float, bfloat16}")
    .SetShapeFn([](shape_inference::InferenceContext* c) {
      shape_inference::ShapeHandle narrow;
      TF_RETURN_IF_ERROR(c->Concatenate(c->Vector(c->Dim(c->input(0), 0)), c->input(3), &narrow));
      auto width = c->Dim(c->input(3), 1);
      c->set_output(0, narrow);
      c->set_output(1, c->MakeShape({c->Dim(c->input(0), 0), c->Dim(c->input(0), 1),
                                     c->ValueKnown(width) ? c->MakeDim(4 * c->Value(width)) : c->UnknownDim()}));
      return OkStatus();
    });

template <typename T> class GruForwardSequence : public OpKernel {
 public:
  explicit GruForwardSequence(OpKernelConstruction* context) : OpKernel(context) {}
  void Compute(OpKernelContext* context) override {
    using E = Elements<T>;
    using S = typename E::Stored;
    const Tensor &projected = context->input(0), &kernel = context->input(1), &bias = context->input(2);
    const TensorShape state = state_shape(projected, kernel);
    OP_REQUIRES(context, sequence_shape_ok(projected, kernel, 3) && context->input(3).shape() == state &&
                             bias.shape() == TensorShape({kernel.dim_size(1)}),
                errors::InvalidArgument("SeqlabGruForwardSequence: shapes ", projected.shape().DebugString(), ", ",
                                        kernel.shape().DebugString(), ", ", bias.shape().DebugString(), ", ",
                                        context->input(3).shape().DebugString()));
    const int64_t steps = projected.dim_size(0), rows = projected.dim_size(1), units = kernel.dim_size(0);
    Tensor *outputs = nullptr, *saved = nullptr;
    OP_REQUIRES_OK(context, context->allocate_output(0, with_steps(state, steps), &outputs));
    OP_REQUIRES_OK(context, context->allocate_output(1, TensorShape({steps, rows, 4 * units}), &saved));
    const int64_t narrow = rows * units;
    const S *p = values<T>(projected), *b = values<T>(bias), *h0 = values<T>(context->input(3));
    S *h = values<T>(outputs), *s = values<T>(saved);
    const int threads = team_size(context, rows, units, 3);
    PackedKernel<T> packed(kernel, false);
    std::vector<float> z(3 * narrow);
    run_team(threads, [&](int thread, int team, SpinBarrier& barrier) {
      packed.pack(thread, team);
      barrier.wait();
      const auto share = unit_share(units, thread, team);
      for (int64_t t = 0; t < steps; ++t) {
        const S* previous = t > 0 ? h + (t - 1) * narrow : h0;
        packed.gate_products(previous, rows, 3, units, share, z.data());
        for (int64_t row = 0; row < rows; ++row) {
          const float* zr = z.data() + row * 3 * units;
          const S *pr = p + (t * rows + row) * 3 * units, *hpr = previous + row * units;
          S *hr = h + t * narrow + row * units, *sr = s + (t * rows + row) * 4 * units;
#pragma GCC ivdep
          for (int64_t j = share.first; j < share.second; ++j) {
            const float update = fast_sigmoid(E::load(pr, j) + E::rounded(zr[j]) + E::load(b, j));
            const float reset = fast_sigmoid(E::load(pr, units + j) + E::rounded(zr[units + j]) +
                                             E::load(b, units + j));
            const float r_h = E::rounded(E::rounded(zr[2 * units + j]) + E::load(b, 2 * units + j));
            const float candidate = E::rounded(fast_tanh(E::load(pr, 2 * units + j) + reset * r_h));
            hr[j] = E::from_float(candidate + update * (E::load(hpr, j) - candidate));
            sr[j] = E::from_float(update);
            sr[units + j] = E::from_float(reset);
            sr[2 * units + j] = E::from_float(candidate);
            sr[3 * units + j] = E::from_float(r_h);
          }
        }
        barrier.wait();
      }
    });
  }
};

REGISTER_OP("SeqlabGruBackwardSequence")
    .Input("saved: T")  // (T, B, 4U): every step's z, r, candidate, h_{t-1} @ U_h + b_h
    .Input("outputs: T")  // (T, B, U): h after every step
    .Input("h_first: T")  // (B, U): h before step 0
    .Input("kernel: T")  // (U, 3U)
    .Input("d_outputs: T")  // (T, B, U): gradient reaching each h_t from above
    .Input("dh_last: T")  // (B, U): gradient reaching h_T from after the sequence
    .Output("d_projected: T")  // (T, B, 3U): gradient of every x_t @ W + b_x
    .Output("d_recurrent: T")  // (T, B, 3U): gradient of every h_{t-1} @ U + b_h
    .Output("dh_first: T")  // (B, U)
    .Attr("T: {float, bfloat16}")
    .SetShapeFn([](shape_inference::InferenceContext* c) {
      auto width = c->Dim(c->input(2), 1);
      auto three = c->MakeShape({c->Dim(c->input(0), 0), c->Dim(c->input(0), 1),
                                 c->ValueKnown(width) ? c->MakeDim(3 * c->Value(width)) : c->UnknownDim()});
      c->set_output(0, three);
      c->set_output(1, three);
      c->set_output(2, c->input(2));
      return OkStatus();
    });

template <typename T> class GruBackwardSequence : public OpKernel {
 public:
  explicit GruBackwardSequence(OpKernelConstruction* context) : OpKernel(context) {}
  void Compute(OpKernelContext* context) override {
    using E = Elements<T>;
    using S = typename E::Stored;
    const Tensor &saved = context->input(0), &outputs = context->input(1), &kernel = context->input(3);
    const TensorShape state = state_shape(outputs, kernel);
    const int64_t steps = outputs.dims() == 3 ? outputs.dim_size(0) : 0;
    OP_REQUIRES(context, outputs.dims() == 3 &&
                             kernel.dims() == 2 && kernel.dim_size(1) == 3 * kernel.dim_size(0) &&
                             kernel.dim_size(0) % 16 == 0 && outputs.shape() == with_steps(state, steps) &&
                             saved.shape() == TensorShape({steps, state.dim_size(0), 4 * state.dim_size(1)}) &&
                             context->input(2).shape() == state && context->input(4).shape() == outputs.shape() &&
                             context->input(5).shape() == state,
                errors::InvalidArgument("SeqlabGruBackwardSequence: shapes ", saved.shape().DebugString(), ", ",
                                        outputs.shape().DebugString(), ", ", context->input(2).shape().DebugString(),
                                        ", ", kernel.shape().DebugString(), ", ",
                                        context->input(4).shape().DebugString(), ", ",
                                        context->input(5).shape().DebugString()));
    const int64_t rows = outputs.dim_size(1), units = kernel.dim_size(0);
    const TensorShape three({steps, rows, 3 * units});
    Tensor *d_projected = nullptr, *d_recurrent = nullptr, *dh_first = nullptr;
    OP_REQUIRES_OK(context, context->allocate_output(0, three, &d_projected));
    OP_REQUIRES_OK(context, context->allocate_output(1, three, &d_recurrent));
    OP_REQUIRES_OK(context, context->allocate_output(2, state, &dh_first));
    const int64_t narrow = rows * units;
    const S *s = values<T>(saved), *h = values<T>(outputs), *h0 = values<T>(context->input(2));
    const S* d_h = values<T>(context->input(4));
    S *dp = values<T>(d_projected), *dr = values<T>(d_recurrent), *dh0 = values<T>(dh_first);
    const int threads = team_size(context, rows, units, 3);
    PackedKernel<T> packed(kernel, true);
    // Between steps, h_{t-1}'s gradient in two parts as the step ops round them: through U, and dh * z.
    std::vector<float> through(narrow), direct(narrow, 0.0f);
    for (int64_t k = 0; k < narrow; ++k) through[k] = E::load(values<T>(context->input(5)), k);
    run_team(threads, [&](int thread, int team, SpinBarrier& barrier) {
      packed.pack(thread, team);
      const auto share = unit_share(units, thread, team);
      for (int64_t t = steps - 1; t >= 0; --t) {
        for (int64_t row = 0; row < rows; ++row) {
          const int64_t n = row * units, w = (t * rows + row) * 3 * units;
          const S* sr = s + (t * rows + row) * 4 * units;
          const S* previous = (t > 0 ? h + (t - 1) * narrow : h0) + n;
          const S* d_hr = d_h + t * narrow + n;
          float *through_r = through.data() + n, *direct_r = direct.data() + n;
#pragma GCC ivdep
          for (int64_t j = share.first; j < share.second; ++j) {
            const float update = E::load(sr, j), reset = E::load(sr, units + j);
            const float candidate = E::load(sr, 2 * units + j), r_h = E::load(sr, 3 * units + j);
            const float dh_next = E::rounded(direct_r[j] + E::rounded(through_r[j]));
            const float dh = E::load(d_hr, j) + dh_next;
            const float d_candidate = dh * (1.0f - update) * (1.0f - candidate * candidate);
            const float d_update = dh * (E::load(previous, j) - candidate) * update * (1.0f - update);
            const float d_reset = d_candidate * r_h * reset * (1.0f - reset);
            dp[w + j] = dr[w + j] = E::from_float(d_update);
            dp[w + units + j] = dr[w + units + j] = E::from_float(d_reset);
            dp[w + 2 * units + j] = E::from_float(d_candidate);
            dr[w + 2 * units + j] = E::from_float(d_candidate * reset);
            direct_r[j] = E::rounded(dh * update);
          }
        }
        barrier.wait();  // every thread's part of d_recurrent_t (and the packing, at the first step) is written
        packed.gate_products(dr + t * 3 * narrow, rows, 1, units, share, through.data());
      }
      for (int64_t row = 0; row < rows; ++row) {
        for (int64_t k = row * units + share.first; k < row * units + share.second; ++k) {
          dh0[k] = E::from_float(direct[k] + E::rounded(through[k]));
        }
      }
    });
  }
};

SEQLAB_REGISTER_STEPS("SeqlabGruForwardSequence", GruForwardSequence)
SEQLAB_REGISTER_STEPS("SeqlabGruBackwardSequence", GruBackwardSequence)
}  // namespace seqlab
#endif  // __AVX512BF16__
