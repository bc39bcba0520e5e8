//! The `raw_blobs` and `zstd_dictionaries` tables: every page a revision was extracted from,
//! kept as evidence (zstd against a per-source dictionary).

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension, params};

use super::{Result, StoreError, Tx, execute_cached, query_row_cached, sha256_hex, sql};

/// zstd level of raw pages. The per-source dictionary already removes the chrome every page
/// repeats; on the 2020 capture level 9 made pages 10 % smaller than level 3 for 4× the CPU.
const RAW_LEVEL: i32 = 3;

/// A compression dictionary: its row id and a compression context with it loaded. Loading it
/// (hash tables for the level) costs more than compressing one page with it, so it is done once
/// per name and the context is reused.
#[derive(Clone)]
pub(super) struct Dictionary {
    id: i64,
    compressor: std::sync::Arc<std::sync::Mutex<zstd::bulk::Compressor<'static>>>,
}

fn compress_with(data: &[u8], dictionary: &Dictionary) -> std::io::Result<Vec<u8>> {
    dictionary
        .compressor
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .compress(data)
}

pub(super) fn decompress(
    data: &[u8],
    dictionary: Option<&zstd::dict::DecoderDictionary<'static>>,
    what: &'static str,
) -> Result<Vec<u8>> {
    let error = |source| StoreError::Compression { what, source };
    let mut decoder = match dictionary {
        Some(dictionary) => zstd::stream::read::Decoder::with_prepared_dictionary(data, dictionary),
        None => zstd::stream::read::Decoder::with_buffer(data),
    }
    .map_err(error)?;
    let mut out = Vec::with_capacity(data.len() * 4);
    std::io::Read::read_to_end(&mut decoder, &mut out).map_err(error)?;
    Ok(out)
}

impl Tx<'_> {
    /// A compression dictionary by name (`raw:<source>`); the first sample stored under a name
    /// becomes its dictionary: most of the next page is the same chrome. A dictionary created
    /// here is known to the store once the transaction commits.
    pub(super) fn dictionary_for(&mut self, name: &str, sample: &[u8]) -> Result<Dictionary> {
        if let Some(found) = self
            .dictionaries
            .get(name)
            .or_else(|| self.new_dictionaries.get(name))
        {
            return Ok(found.clone());
        }
        let stored: Option<(i64, Vec<u8>)> = query_row_cached(
            &self.tx,
            "SELECT id, content FROM zstd_dictionaries WHERE name = ?1",
            [name],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()
        .map_err(sql("reading a dictionary"))?;
        let (id, content, created) = match stored {
            Some((id, compressed)) => (id, decompress(&compressed, None, "dictionary")?, false),
            None => {
                let compressed = zstd::bulk::compress(sample, RAW_LEVEL).map_err(|source| {
                    StoreError::Compression {
                        what: "dictionary",
                        source,
                    }
                })?;
                execute_cached(
                    &self.tx,
                    "INSERT INTO zstd_dictionaries (name, content) VALUES (?1, ?2)",
                    params![name, compressed],
                )
                .map_err(sql("storing a dictionary"))?;
                (self.tx.last_insert_rowid(), sample.to_vec(), true)
            }
        };
        let compressor =
            zstd::bulk::Compressor::with_dictionary(RAW_LEVEL, &content).map_err(|source| {
                StoreError::Compression {
                    what: "dictionary",
                    source,
                }
            })?;
        let dictionary = Dictionary {
            id,
            compressor: std::sync::Arc::new(std::sync::Mutex::new(compressor)),
        };
        // A dictionary read from the table is right whatever becomes of this transaction.
        if created {
            self.created.ids.push(id);
        }
        let known = if created {
            &mut self.new_dictionaries
        } else {
            &mut *self.dictionaries
        };
        known.insert(name.to_string(), dictionary.clone());
        Ok(dictionary)
    }
}

/// A compression dictionary's bytes.
pub(super) fn read_dictionary(conn: &Connection, id: i64) -> Result<Vec<u8>> {
    let compressed: Vec<u8> = conn
        .query_row(
            "SELECT content FROM zstd_dictionaries WHERE id = ?1",
            [id],
            |row| row.get(0),
        )
        .map_err(sql("reading a dictionary"))?;
    decompress(&compressed, None, "dictionary")
}

/// Decompression dictionaries by id, each read, decompressed and prepared once: reading a raw
/// page needs its source's dictionary, and preparing that cost more than the page itself.
/// Dictionaries are never rewritten, so an entry stays right for the database it was read from;
/// each cache belongs to one connection's owner.
#[derive(Default)]
pub struct DictionaryCache(
    std::cell::RefCell<HashMap<i64, std::sync::Arc<zstd::dict::DecoderDictionary<'static>>>>,
);

impl DictionaryCache {
    pub(super) fn get(
        &self,
        conn: &Connection,
        id: i64,
    ) -> Result<std::sync::Arc<zstd::dict::DecoderDictionary<'static>>> {
        if let Some(found) = self.0.borrow().get(&id) {
            return Ok(found.clone());
        }
        let prepared = std::sync::Arc::new(zstd::dict::DecoderDictionary::copy(&read_dictionary(
            conn, id,
        )?));
        self.0.borrow_mut().insert(id, prepared.clone());
        Ok(prepared)
    }

    /// Forgets dictionaries by id: those of a transaction rolled back, whose ids a later
    /// dictionary may take.
    pub(super) fn forget(&self, ids: &[i64]) {
        let mut cache = self.0.borrow_mut();
        for id in ids {
            cache.remove(id);
        }
    }
}

/// The dictionaries a transaction created: forgotten by the read cache unless it commits.
pub(super) struct CreatedDictionaries<'s> {
    pub(super) cache: &'s DictionaryCache,
    pub(super) ids: Vec<i64>,
    pub(super) committed: bool,
}

impl Drop for CreatedDictionaries<'_> {
    fn drop(&mut self) {
        if !self.committed {
            self.cache.forget(&self.ids);
        }
    }
}

/// A raw page's bytes by its SHA-256.
pub(super) fn raw_bytes_in(
    conn: &Connection,
    raw_hash: &str,
    dictionaries: &DictionaryCache,
) -> Result<Option<Vec<u8>>> {
    let found: Option<(Vec<u8>, Option<i64>)> = query_row_cached(
        conn,
        "SELECT data, dictionary_id FROM raw_blobs WHERE sha256 = ?1",
        [raw_hash],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )
    .optional()
    .map_err(sql("reading a raw page"))?;
    let Some((data, dictionary_id)) = found else {
        return Ok(None);
    };
    let dictionary = dictionary_id
        .map(|id| dictionaries.get(conn, id))
        .transpose()?;
    decompress(&data, dictionary.as_deref(), "raw page").map(Some)
}

pub(super) fn store_raw(tx: &Connection, raw: &[u8], dictionary: &Dictionary) -> Result<String> {
    let hash = sha256_hex(raw);
    let exists: bool = query_row_cached(
        tx,
        "SELECT EXISTS (SELECT 1 FROM raw_blobs WHERE sha256 = ?1)",
        [&hash],
        |row| row.get(0),
    )
    .map_err(sql("finding a raw page"))?;
    if exists {
        return Ok(hash);
    }
    let error = |source| StoreError::Compression {
        what: "raw page",
        source,
    };
    let data = compress_with(raw, dictionary).map_err(error)?;
    execute_cached(
        tx,
        "INSERT INTO raw_blobs (sha256, size, dictionary_id, data) VALUES (?1, ?2, ?3, ?4)",
        params![hash, raw.len() as i64, dictionary.id, data],
    )
    .map_err(sql("writing a raw page"))?;
    Ok(hash)
}
