"""Evidence: items with their method, source and criteria, and the files behind them, uploaded
straight to object storage, verified, scanned in quarantine and only then visible."""
