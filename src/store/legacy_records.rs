//! The records earlier versions stored beside the text rows (`revisions.record`: each revision's
//! briefing as JSON, zstd-compressed against its raw page or with a per-source record
//! dictionary), read only by the migrations that turn them into rows and then drop them.

use rusqlite::Connection;

use super::raw_pages::{decompress, raw_bytes_in};
use super::revisions::{briefing_in, write_extraction};
use super::{DictionaryCache, Result, StoreError, query_all, query_row_cached, sql};
use crate::model::Briefing;

/// A record as stored: its compressed bytes and what they were compressed against.
struct StoredRecord {
    data: Vec<u8>,
    dictionary_id: Option<i64>,
    against_raw: bool,
    raw_hash: String,
}

/// The stored record of a revision.
pub(super) fn record_in(
    conn: &Connection,
    dictionaries: &DictionaryCache,
    revision_id: i64,
) -> Result<Briefing> {
    let stored = query_row_cached(
        conn,
        "SELECT record, record_dictionary_id, record_against_raw, raw_hash FROM revisions
         WHERE id = ?1",
        [revision_id],
        |row| {
            Ok(StoredRecord {
                data: row.get(0)?,
                dictionary_id: row.get(1)?,
                against_raw: row.get(2)?,
                raw_hash: row.get(3)?,
            })
        },
    )
    .map_err(sql("reading a revision's record"))?;
    let json = decode_record(conn, &stored, dictionaries)?;
    serde_json::from_slice(&json).map_err(|source| StoreError::Record {
        revision_id,
        source,
    })
}

/// A record's JSON: decompressed against its raw page, or with its per-source record dictionary.
fn decode_record(
    conn: &Connection,
    stored: &StoredRecord,
    dictionaries: &DictionaryCache,
) -> Result<Vec<u8>> {
    let error = |source| StoreError::Compression {
        what: "record",
        source,
    };
    if stored.against_raw {
        let raw = raw_bytes_in(conn, &stored.raw_hash, dictionaries)?.ok_or_else(|| {
            StoreError::NotFound {
                what: "raw page",
                key: stored.raw_hash.clone(),
            }
        })?;
        return decompress_against(&stored.data, &raw).map_err(error);
    }
    let record_dictionary = stored
        .dictionary_id
        .map(|id| dictionaries.get(conn, id))
        .transpose()?;
    decompress(&stored.data, record_dictionary.as_deref(), "record")
}

/// A zstd frame compressed with `raw` as its prefix.
fn decompress_against(data: &[u8], raw: &[u8]) -> std::io::Result<Vec<u8>> {
    let zstd_error = |code| std::io::Error::other(zstd::zstd_safe::get_error_name(code));
    let size = zstd::zstd_safe::get_frame_content_size(data)
        .ok()
        .flatten()
        .ok_or_else(|| std::io::Error::other("zstd frame without a content size"))?;
    let mut context = zstd::zstd_safe::DCtx::create();
    context.ref_prefix(raw).map_err(zstd_error)?;
    let mut out = Vec::with_capacity(usize::try_from(size).map_err(std::io::Error::other)?);
    context.decompress(&mut out, data).map_err(zstd_error)?;
    Ok(out)
}

/// Makes the text rows the only copy of every revision: writes what only the record held into
/// `revision_texts`, checks that the briefing read back from the rows equals the record in every
/// field (and that its content hash, computed again, is the stored one), then drops the records
/// and their dictionaries. A revision that differs stops it with an error naming the revision,
/// before anything is dropped; the migration's transaction then keeps the archive as it was.
pub(super) fn records_to_rows(tx: &Connection) -> Result<()> {
    let revisions: Vec<(i64, String, i64, String)> = query_all(
        tx,
        "SELECT r.id, d.url, r.seq, r.content_hash FROM revisions r
         JOIN documents d ON d.id = r.document_id ORDER BY r.id",
        [],
        |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)),
        "reading revisions to check against their records",
    )?;
    let dictionaries = DictionaryCache::default();
    for (revision_id, url, seq, stored_hash) in revisions {
        let record = record_in(tx, &dictionaries, revision_id)?;
        write_extraction(tx, revision_id, &record)?;
        let rebuilt = briefing_in(tx, revision_id)?;
        let recomputed = crate::extract::content_hash(&rebuilt);
        let mut differs = differing_fields(&rebuilt, &record);
        if recomputed != stored_hash {
            differs.push("content hash computed again");
        }
        if !differs.is_empty() {
            return Err(StoreError::RowsDifferFromRecord {
                revision_id,
                revision: format!("{url} revision {seq}"),
                fields: differs.join(", "),
            });
        }
    }
    tx.execute_batch(
        "ALTER TABLE revisions DROP COLUMN record;
         ALTER TABLE revisions DROP COLUMN record_against_raw;
         ALTER TABLE revisions DROP COLUMN record_dictionary_id;
         DELETE FROM zstd_dictionaries WHERE name LIKE 'record:%';",
    )
    .map_err(sql("dropping the records"))
}

/// The fields in which two briefings differ, by name.
fn differing_fields(rows: &Briefing, record: &Briefing) -> Vec<&'static str> {
    let Briefing {
        url,
        lang,
        kind,
        title,
        date,
        published_at,
        spokesperson,
        opening,
        exchanges,
        content_hash,
        found_by,
        selector,
        date_from,
    } = record;
    [
        ("url", rows.url == *url),
        ("lang", rows.lang == *lang),
        ("kind", rows.kind == *kind),
        ("title", rows.title == *title),
        ("date", rows.date == *date),
        (
            "published_at",
            rows.published_at == *published_at
                && rows.published_at.map(|time| *time.offset())
                    == published_at.map(|time| *time.offset()),
        ),
        ("spokesperson", rows.spokesperson == *spokesperson),
        ("opening", rows.opening == *opening),
        ("exchanges", rows.exchanges == *exchanges),
        ("content_hash", rows.content_hash == *content_hash),
        ("found_by", rows.found_by == *found_by),
        ("selector", rows.selector == *selector),
        ("date_from", rows.date_from == *date_from),
    ]
    .into_iter()
    .filter(|(_, same)| !same)
    .map(|(name, _)| name)
    .collect()
}
