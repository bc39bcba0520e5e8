//! TOML file to typed, validated configuration.
