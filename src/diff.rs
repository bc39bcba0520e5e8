//! What changed between two revisions of a briefing, exchange by exchange.
