"""Report: Plotly figure builders over run folders and corpora (data in, figure out; no Streamlit)."""
