"""See inside a trained generation model: what its units hold, what they follow, how far back it looks.

hidden_states traces a text through the NumPy cells (states, gates, what the model expected next);
unit_features correlates units with simple text features (quotes, brackets, vowels, line position);
influence measures, with TensorFlow gradients, which earlier characters a prediction depends on;
summary puts the three together for the CLI (`python -m seqlab inspect-run`) and the app.
Nothing here imports Streamlit: the page draws what these modules return (plain NumPy arrays and dicts).
"""
