"""One time step's element-wise maths for each cell, forward and backward, in plain TensorFlow ops.

The fused loops (fused_layers.py) run these where no compiled kernels load (Engine.TF_OPS in choice.py); the
compiled step ops of native/ take the same arguments and compute the same (Engine.STEP_OPS).
Both take whole sequences and the step index t and read step t themselves: the kernels read it in place, which
saves a slicing copy per input per step. The tests hold the kernels to these functions.
"""

from __future__ import annotations

import tensorflow as tf


def _previous(sequence, t, first):
    """sequence[t - 1], or `first` (the state before the sequence) at t = 0."""
    return tf.where(t > 0, sequence[tf.maximum(t - 1, 0)], first)


def lstm_forward(projected, t, recurrent, c):
    """Step t's gates from x_t @ W + b (projected[t]) and h_{t-1} @ U -> (h_t, c_t, activated gates (i, f, c, o))."""
    i, f, g, o = tf.split(projected[t] + recurrent, 4, axis=1)
    i, f, g, o = tf.sigmoid(i), tf.sigmoid(f), tf.tanh(g), tf.sigmoid(o)
    c = f * c + i * g
    return o * tf.tanh(c), c, tf.concat([i, f, g, o], axis=1)


def lstm_backward(gates, t, cells, c0, d_outputs, dh_next, dc_next):
    """Step t back -> (gradient of its gates' pre-activations, gradient reaching c_{t-1})."""
    i, f, g, o = tf.split(gates[t], 4, axis=1)
    tanh_c = tf.tanh(cells[t])
    dh = d_outputs[t] + dh_next
    dc = dc_next + dh * o * (1 - tanh_c * tanh_c)
    dz = tf.concat([dc * g * i * (1 - i), dc * _previous(cells, t, c0) * f * (1 - f), dc * i * (1 - g * g),
                    dh * tanh_c * o * (1 - o)], axis=1)
    return dz, dc * f


def gru_forward(projected, t, recurrent, recurrent_bias, h):
    """Step t (reset after the recurrent product) -> (h_t, saved = [z, r, candidate, h_{t-1} @ U_h + b_h])."""
    x_z, x_r, x_h = tf.split(projected[t], 3, axis=1)
    r_z, r_r, r_h = tf.split(recurrent + recurrent_bias, 3, axis=1)
    z, r = tf.sigmoid(x_z + r_z), tf.sigmoid(x_r + r_r)
    candidate = tf.tanh(x_h + r * r_h)
    return candidate + z * (h - candidate), tf.concat([z, r, candidate, r_h], axis=1)


def gru_backward(saved, t, outputs, h0, d_outputs, dh_next):
    """Step t back -> (gradient of x_t @ W + b_x, of h_{t-1} @ U + b_h, and the part of h_{t-1}'s that skips U)."""
    z, r, candidate, r_h = tf.split(saved[t], 4, axis=1)
    dh = d_outputs[t] + dh_next
    d_candidate = dh * (1 - z) * (1 - candidate * candidate)
    d_z = dh * (_previous(outputs, t, h0) - candidate) * z * (1 - z)
    d_r = d_candidate * r_h * r * (1 - r)
    return tf.concat([d_z, d_r, d_candidate], axis=1), tf.concat([d_z, d_r, d_candidate * r], axis=1), dh * z


def simple_rnn_forward(projected, t, recurrent):
    """h_t = tanh(x_t @ W + b + h_{t-1} @ U)."""
    return tf.tanh(projected[t] + recurrent)


def simple_rnn_backward(outputs, t, d_outputs, dh_next):
    """Step t back -> gradient of its pre-activation."""
    h = outputs[t]
    return (d_outputs[t] + dh_next) * (1 - h * h)


PLAIN = {"lstm": (lstm_forward, lstm_backward), "gru": (gru_forward, gru_backward),
         "simple_rnn": (simple_rnn_forward, simple_rnn_backward)}
