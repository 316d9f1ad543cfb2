// The GRU's step ops (reset after the recurrent product, Keras' default; gates z, r, h); see step_kernels.h.
#include "step_kernels.h"

namespace seqlab {

REGISTER_OP("SeqlabGruForwardStep")
    .Input("projected: T")  // (T, B, 3U): x_t @ W + b_x for every step, gates (z, r, h)
    .Input("step: int32")  // t
    .Input("recurrent: T")  // (B, 3U): h_{t-1} @ U
    .Input("recurrent_bias: T")  // (3U)
    .Input("h_previous: T")  // (B, U)
    .Output("h: T")
    .Output("saved: T")  // (B, 4U): z, r, candidate, h_{t-1} @ U_h + b_h (what the backward step needs)
    .Attr("T: {float, bfloat16}")
    .SetShapeFn([](shape_inference::InferenceContext* c) {
      auto width = c->Dim(c->input(4), 1);
      auto saved_width = c->ValueKnown(width) ? c->MakeDim(4 * c->Value(width)) : c->UnknownDim();
      c->set_output(0, c->input(4));
      c->set_output(1, c->Matrix(c->Dim(c->input(4), 0), saved_width));
      return OkStatus();
    });

template <typename T> class GruForwardStep : public OpKernel {
 public:
  explicit GruForwardStep(OpKernelConstruction* context) : OpKernel(context) {}
  void Compute(OpKernelContext* context) override {
    const Tensor& projected = context->input(0);
    const Tensor& recurrent = context->input(2);
    const Tensor& bias = context->input(3);
    const Tensor& h_previous = context->input(4);
    int64_t step = 0;
    read_step(context, projected, &step);
    if (!context->status().ok()) return;
    const TensorShape narrow = step_shape(projected, 3);
    OP_REQUIRES(context, projected.dim_size(2) % 3 == 0 && h_previous.shape() == narrow &&
                             recurrent.shape() == TensorShape({narrow.dim_size(0), projected.dim_size(2)}) &&
                             bias.shape() == TensorShape({projected.dim_size(2)}),
                errors::InvalidArgument("SeqlabGruForwardStep: shapes ", projected.shape().DebugString(), ", ",
                                        recurrent.shape().DebugString(), ", ", bias.shape().DebugString(), ", ",
                                        h_previous.shape().DebugString()));
    const int64_t rows = narrow.dim_size(0), units = narrow.dim_size(1);
    Tensor *h = nullptr, *saved = nullptr;
    OP_REQUIRES_OK(context, context->allocate_output(0, narrow, &h));
    OP_REQUIRES_OK(context, context->allocate_output(1, TensorShape({rows, 4 * units}), &saved));
    using E = Elements<T>;
    using S = typename E::Stored;
    const S* p = reinterpret_cast<const S*>(projected.flat<T>().data()) + step * rows * 3 * units;
    const S* r = reinterpret_cast<const S*>(recurrent.flat<T>().data());
    const S* b = reinterpret_cast<const S*>(bias.flat<T>().data());
    const S* hp = reinterpret_cast<const S*>(h_previous.flat<T>().data());
    S* h_out = reinterpret_cast<S*>(h->flat<T>().data());
    S* s_out = reinterpret_cast<S*>(saved->flat<T>().data());
    over_rows(context, rows, units, [&](int64_t first, int64_t end) {
      for (int64_t row = first; row < end; ++row) {
        const S *pr = p + row * 3 * units, *rr = r + row * 3 * units, *hpr = hp + row * units;
        S *hr = h_out + row * units, *sr = s_out + row * 4 * units;
#pragma GCC ivdep
        for (int64_t j = 0; j < units; ++j) {
          const float z = fast_sigmoid(E::load(pr, j) + E::load(rr, j) + E::load(b, j));
          const float reset = fast_sigmoid(E::load(pr, units + j) + E::load(rr, units + j) + E::load(b, units + j));
          const float r_h = E::rounded(E::load(rr, 2 * units + j) + E::load(b, 2 * units + j));
          const float candidate = E::rounded(fast_tanh(E::load(pr, 2 * units + j) + reset * r_h));
          hr[j] = E::from_float(candidate + z * (E::load(hpr, j) - candidate));
          sr[j] = E::from_float(z);
          sr[units + j] = E::from_float(reset);
          sr[2 * units + j] = E::from_float(candidate);
          sr[3 * units + j] = E::from_float(r_h);
        }
      }
    });
  }
};

REGISTER_OP("SeqlabGruBackwardStep")
    .Input("saved: T")  // (T, B, 4U): every step's z, r, candidate, h_{t-1} @ U_h + b_h
    .Input("step: int32")  // t
    .Input("outputs: T")  // (T, B, U): h after every step
    .Input("h_first: T")  // (B, U): h before step 0
    .Input("d_outputs: T")  // (T, B, U): gradient reaching each h_t from above
    .Input("dh_next: T")  // (B, U): gradient reaching h_t from step t+1
    .Output("d_projected: T")  // (B, 3U): gradient of x_t @ W + b_x
    .Output("d_recurrent: T")  // (B, 3U): gradient of h_{t-1} @ U + b_h
    .Output("dh_direct: T")  // (B, U): the part of h_{t-1}'s gradient that skips U (dh * z)
    .Attr("T: {float, bfloat16}")
    .SetShapeFn([](shape_inference::InferenceContext* c) {
      auto width = c->Dim(c->input(3), 1);
      auto three = c->Matrix(c->Dim(c->input(3), 0),
                             c->ValueKnown(width) ? c->MakeDim(3 * c->Value(width)) : c->UnknownDim());
      c->set_output(0, three);
      c->set_output(1, three);
      c->set_output(2, c->input(3));
      return OkStatus();
    });

template <typename T> class GruBackwardStep : public OpKernel {
 public:
  explicit GruBackwardStep(OpKernelConstruction* context) : OpKernel(context) {}
  void Compute(OpKernelContext* context) override {
    const Tensor& saved = context->input(0);
    int64_t step = 0;
    read_step(context, saved, &step);
    if (!context->status().ok()) return;
    const TensorShape narrow = step_shape(saved, 4);
    const TensorShape sequence = with_steps(narrow, saved.dim_size(0));
    OP_REQUIRES(context, saved.dim_size(2) % 4 == 0 && context->input(2).shape() == sequence &&
                             context->input(3).shape() == narrow && context->input(4).shape() == sequence &&
                             context->input(5).shape() == narrow,
                errors::InvalidArgument("SeqlabGruBackwardStep: shapes ", saved.shape().DebugString(), ", ",
                                        context->input(2).shape().DebugString(), ", ",
                                        context->input(3).shape().DebugString(), ", ",
                                        context->input(4).shape().DebugString(), ", ",
                                        context->input(5).shape().DebugString()));
    const int64_t rows = narrow.dim_size(0), units = narrow.dim_size(1);
    Tensor *d_projected = nullptr, *d_recurrent = nullptr, *dh_direct = nullptr;
    OP_REQUIRES_OK(context, context->allocate_output(0, TensorShape({rows, 3 * units}), &d_projected));
    OP_REQUIRES_OK(context, context->allocate_output(1, TensorShape({rows, 3 * units}), &d_recurrent));
    OP_REQUIRES_OK(context, context->allocate_output(2, narrow, &dh_direct));
    using E = Elements<T>;
    using S = typename E::Stored;
    auto data = [&](int k) { return reinterpret_cast<const S*>(context->input(k).flat<T>().data()); };
    const int64_t narrow_offset = step * rows * units;
    const S* saved_t = data(0) + step * rows * 4 * units;
    const S* previous = step > 0 ? data(2) + narrow_offset - rows * units : data(3);
    const S* d_output = data(4) + narrow_offset;
    const S* dh_next = data(5);
    S* dp_out = reinterpret_cast<S*>(d_projected->flat<T>().data());
    S* dr_out = reinterpret_cast<S*>(d_recurrent->flat<T>().data());
    S* dd_out = reinterpret_cast<S*>(dh_direct->flat<T>().data());
    over_rows(context, rows, units, [&](int64_t first, int64_t end) {
      for (int64_t row = first; row < end; ++row) {
        const S* sr = saved_t + row * 4 * units;
        const int64_t n = row * units, w = row * 3 * units;
#pragma GCC ivdep
        for (int64_t j = 0; j < units; ++j) {
          const float z = E::load(sr, j), reset = E::load(sr, units + j);
          const float candidate = E::load(sr, 2 * units + j), r_h = E::load(sr, 3 * units + j);
          const float dh = E::load(d_output + n, j) + E::load(dh_next + n, j);
          const float d_candidate = dh * (1.0f - z) * (1.0f - candidate * candidate);
          const float d_z = dh * (E::load(previous + n, j) - candidate) * z * (1.0f - z);
          const float d_reset = d_candidate * r_h * reset * (1.0f - reset);
          dp_out[w + j] = E::from_float(d_z);
          dp_out[w + units + j] = E::from_float(d_reset);
          dp_out[w + 2 * units + j] = E::from_float(d_candidate);
          dr_out[w + j] = E::from_float(d_z);
          dr_out[w + units + j] = E::from_float(d_reset);
          dr_out[w + 2 * units + j] = E::from_float(d_candidate * reset);
          dd_out[n + j] = E::from_float(dh * z);
        }
      }
    });
  }
};

SEQLAB_REGISTER_STEPS("SeqlabGruForwardStep", GruForwardStep)
SEQLAB_REGISTER_STEPS("SeqlabGruBackwardStep", GruBackwardStep)
}  // namespace seqlab
