"""Engine: how a recurrent layer runs on this machine (fused CPU loop, compiled ops, precision, threads)."""
