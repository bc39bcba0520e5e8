//! Polite HTTP: robots.txt, per-host pacing, conditional GET, retries, charset, outcome classification.
