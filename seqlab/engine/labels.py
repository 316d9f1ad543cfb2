"""The engine of a run in words, as status.json's `engine` holds them and the Train page and the CLI show them
(choice.engine_in_words decides which). Apart from choice.py so that the app reads them without TensorFlow."""

GPU = "GPU"
COMPILED = "compiled CPU kernels"
STANDARD = "standard TensorFlow"
PREPARING = "preparing fast kernels (once, ~20 s)"  # while the worker builds the kernels (native_kernels.py)
