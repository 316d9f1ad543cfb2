"""seqlab: a playground for recurrent sequence models (char generation, review sentiment).

Pipeline: corpus -> vocabulary/vectorizer -> model builder -> trainer -> job runner
-> run folder on disk -> sampler / scorer. Importing this package is cheap: the
TensorFlow-heavy modules (text, datasets, models, training) import TensorFlow
only when they are imported themselves.
"""

from seqlab.errors import SeqlabError

__all__ = ["SeqlabError"]
__version__ = "0.3.0"  # as in pyproject.toml
