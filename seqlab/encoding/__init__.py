"""Encoding stage: characters and words become ids (vocabulary, vectorizer) and tf.data batches."""
