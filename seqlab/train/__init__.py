"""Train stage: the trainer (Keras fit) and its callbacks, each with one job; it knows no particular model."""
