//! The archive end to end: the real binary against the loopback site.
