"""The only Streamlit code in seqlab: caching, session state, widgets and live views for the pages."""
