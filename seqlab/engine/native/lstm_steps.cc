// The LSTM's step ops (gates i, f, c, o as Keras orders them); see step_kernels.h for why.
#include "step_kernels.h"

namespace seqlab {

REGISTER_OP("SeqlabLstmForwardStep")
    .Input("projected: T")  // (T, B, 4U): x_t @ W + b for every step, gates (i, f, c, o)
    .Input("step: int32")  // t
    .Input("recurrent: T")  // (B, 4U): h_{t-1} @ U
    .Input("c_previous: T")  // (B, U)
    .Output("h: T")
    .Output("c: T")
    .Output("gates: T")  // (B, 4U) activated: sigmoid(i), sigmoid(f), tanh(c~), sigmoid(o)
    .Attr("T: {float, bfloat16}")
    .SetShapeFn([](shape_inference::InferenceContext* c) {
      c->set_output(0, c->input(3));
      c->set_output(1, c->input(3));
      c->set_output(2, c->input(2));
      return OkStatus();
    });

template <typename T> class LstmForwardStep : public OpKernel {
 public:
  explicit LstmForwardStep(OpKernelConstruction* context) : OpKernel(context) {}
  void Compute(OpKernelContext* context) override {
    const Tensor& projected = context->input(0);
    const Tensor& recurrent = context->input(2);
    const Tensor& c_previous = context->input(3);
    int64_t step = 0;
    read_step(context, projected, &step);
    if (!context->status().ok()) return;
    OP_REQUIRES(context, recurrent.dims() == 2 && c_previous.dims() == 2 &&
                             projected.dim_size(1) == recurrent.dim_size(0) &&
                             projected.dim_size(2) == recurrent.dim_size(1) &&
                             recurrent.dim_size(1) == 4 * c_previous.dim_size(1) &&
                             recurrent.dim_size(0) == c_previous.dim_size(0),
                errors::InvalidArgument("SeqlabLstmForwardStep: shapes ", projected.shape().DebugString(), ", ",
                                        recurrent.shape().DebugString(), ", ", c_previous.shape().DebugString()));
    const int64_t rows = c_previous.dim_size(0), units = c_previous.dim_size(1);
    Tensor *h = nullptr, *c = nullptr, *gates = nullptr;
    OP_REQUIRES_OK(context, context->allocate_output(0, c_previous.shape(), &h));
    OP_REQUIRES_OK(context, context->allocate_output(1, c_previous.shape(), &c));
    OP_REQUIRES_OK(context, context->allocate_output(2, recurrent.shape(), &gates));
    using E = Elements<T>;
    using S = typename E::Stored;
    const S* p = reinterpret_cast<const S*>(projected.flat<T>().data()) + step * rows * 4 * units;
    const S* r = reinterpret_cast<const S*>(recurrent.flat<T>().data());
    const S* cp = reinterpret_cast<const S*>(c_previous.flat<T>().data());
    S* h_out = reinterpret_cast<S*>(h->flat<T>().data());
    S* c_out = reinterpret_cast<S*>(c->flat<T>().data());
    S* g_out = reinterpret_cast<S*>(gates->flat<T>().data());
    over_rows(context, rows, units, [&](int64_t first, int64_t end) {
      for (int64_t row = first; row < end; ++row) {
        const int64_t wide = row * 4 * units, narrow = row * units;
        const S *pr = p + wide, *rr = r + wide, *cpr = cp + narrow;
        S *gr = g_out + wide, *hr = h_out + narrow, *cr = c_out + narrow;
#pragma GCC ivdep
        for (int64_t j = 0; j < units; ++j) {
          const float i = fast_sigmoid(E::load(pr, j) + E::load(rr, j));
          const float f = fast_sigmoid(E::load(pr, units + j) + E::load(rr, units + j));
          const float g = fast_tanh(E::load(pr, 2 * units + j) + E::load(rr, 2 * units + j));
          const float o = fast_sigmoid(E::load(pr, 3 * units + j) + E::load(rr, 3 * units + j));
          const float cell = E::rounded(f * E::load(cpr, j) + i * g);  // as stored, as the backward step sees it
          cr[j] = E::from_float(cell);
          hr[j] = E::from_float(o * fast_tanh(cell));
          gr[j] = E::from_float(i);
          gr[units + j] = E::from_float(f);
          gr[2 * units + j] = E::from_float(g);
          gr[3 * units + j] = E::from_float(o);
        }
      }
    });
  }
};

REGISTER_OP("SeqlabLstmBackwardStep")
    .Input("gates: T")  // (T, B, 4U) activated gates of every step
    .Input("step: int32")  // t
    .Input("cells: T")  // (T, B, U) cell after every step
    .Input("c_first: T")  // (B, U) cell before step 0
    .Input("d_outputs: T")  // (T, B, U) gradient reaching each h_t from above
    .Input("dh_next: T")  // (B, U) gradient reaching h_t from step t+1
    .Input("dc_next: T")  // (B, U) gradient reaching c_t from step t+1
    .Output("dz: T")  // (B, 4U) gradient of step t's gate pre-activations
    .Output("dc_previous: T")  // (B, U)
    .Attr("T: {float, bfloat16}")
    .SetShapeFn([](shape_inference::InferenceContext* c) {
      shape_inference::ShapeHandle wide;
      TF_RETURN_IF_ERROR(c->Subshape(c->input(0), 1, &wide));
      c->set_output(0, wide);
      c->set_output(1, c->input(5));
      return OkStatus();
    });

template <typename T> class LstmBackwardStep : public OpKernel {
 public:
  explicit LstmBackwardStep(OpKernelConstruction* context) : OpKernel(context) {}
  void Compute(OpKernelContext* context) override {
    const Tensor& gates = context->input(0);
    const Tensor& cells = context->input(2);
    int64_t step = 0;
    read_step(context, gates, &step);
    if (!context->status().ok()) return;
    const TensorShape narrow_shape({gates.dim_size(1), gates.dim_size(2) / 4});
    TensorShape narrow_sequence = narrow_shape;
    narrow_sequence.InsertDim(0, gates.dim_size(0));
    OP_REQUIRES(context, gates.dim_size(2) % 4 == 0 && cells.shape() == narrow_sequence &&
                             context->input(4).shape() == narrow_sequence &&
                             context->input(3).shape() == narrow_shape &&
                             context->input(5).shape() == narrow_shape && context->input(6).shape() == narrow_shape,
                errors::InvalidArgument("SeqlabLstmBackwardStep: shapes ", gates.shape().DebugString(), ", ",
                                        cells.shape().DebugString(), ", ", context->input(3).shape().DebugString(),
                                        ", ", context->input(4).shape().DebugString(), ", ",
                                        context->input(5).shape().DebugString(), ", ",
                                        context->input(6).shape().DebugString()));
    const int64_t rows = narrow_shape.dim_size(0), units = narrow_shape.dim_size(1);
    Tensor *dz = nullptr, *dc_previous = nullptr;
    OP_REQUIRES_OK(context, context->allocate_output(0, TensorShape({rows, 4 * units}), &dz));
    OP_REQUIRES_OK(context, context->allocate_output(1, narrow_shape, &dc_previous));
    using E = Elements<T>;
    using S = typename E::Stored;
    auto data = [&](int k) { return reinterpret_cast<const S*>(context->input(k).flat<T>().data()); };
    const int64_t wide_offset = step * rows * 4 * units, narrow_offset = step * rows * units;
    const S* inputs[6] = {data(0) + wide_offset, data(2) + narrow_offset,
                          step > 0 ? data(2) + narrow_offset - rows * units : data(3),
                          data(4) + narrow_offset, data(5), data(6)};
    S* dz_out = reinterpret_cast<S*>(dz->flat<T>().data());
    S* dc_out = reinterpret_cast<S*>(dc_previous->flat<T>().data());
    over_rows(context, rows, units, [&](int64_t first, int64_t end) {
      for (int64_t row = first; row < end; ++row) {
        const int64_t wide = row * 4 * units, narrow = row * units;
        const S *gate = inputs[0] + wide, *c = inputs[1] + narrow, *cp = inputs[2] + narrow;
        const S *d_output = inputs[3] + narrow, *dh_next = inputs[4] + narrow, *dc_next = inputs[5] + narrow;
        S *dzr = dz_out + wide, *dcr = dc_out + narrow;
#pragma GCC ivdep
        for (int64_t j = 0; j < units; ++j) {
          const float i = E::load(gate, j), f = E::load(gate, units + j);
          const float g = E::load(gate, 2 * units + j), o = E::load(gate, 3 * units + j);
          const float tanh_c = fast_tanh(E::load(c, j));
          const float dh = E::load(d_output, j) + E::load(dh_next, j);
          const float dc = E::load(dc_next, j) + dh * o * (1.0f - tanh_c * tanh_c);
          dzr[j] = E::from_float(dc * g * i * (1.0f - i));
          dzr[units + j] = E::from_float(dc * E::load(cp, j) * f * (1.0f - f));
          dzr[2 * units + j] = E::from_float(dc * i * (1.0f - g * g));
          dzr[3 * units + j] = E::from_float(dh * tanh_c * o * (1.0f - o));
          dcr[j] = E::from_float(dc * f);
        }
      }
    });
  }
};

SEQLAB_REGISTER_STEPS("SeqlabLstmForwardStep", LstmForwardStep)
SEQLAB_REGISTER_STEPS("SeqlabLstmBackwardStep", LstmBackwardStep)
}  // namespace seqlab
