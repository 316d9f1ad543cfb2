"""`python -m seqlab ...`: every command, one module per group of commands."""
