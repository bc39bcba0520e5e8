//! Keyword rules, matching, alert mail composition and the outbox sender.
