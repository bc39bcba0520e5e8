//! HTTP server: feeds with conditional GET, health, the web view.
