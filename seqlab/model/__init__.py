"""Model stage: one builder from ModelConfig to a Keras model, its size and its expected speed."""
