//! Flattened paragraphs to exchanges; text normalization and the content hash.
