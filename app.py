"""seqlab: the router. Each page is a thin file in pages/ that calls the seqlab package."""

import streamlit as st

st.set_page_config(page_title="seqlab", page_icon="🔁", layout="wide")
navigation = st.navigation([st.Page("pages/data.py", title="Data", icon="📚", default=True)])
navigation.run()
