//! RSS documents rendered from stored briefings and events.
