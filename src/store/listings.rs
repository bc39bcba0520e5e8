//! The `listing_pages` table: each listing page's validators, items and schedule.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

use super::{
    Result, Store, Tx, execute_cached, format_time, parse_time, query_all, query_row_cached, sql,
};
use crate::model::Validators;

/// Stored state of one listing page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListingState {
    pub url: String,
    pub source: String,
    pub page: u32,
    pub validators: Validators,
    pub item_urls: Vec<String>,
    pub page_count: Option<u32>,
    pub last_success: Option<String>,
    pub next_check: DateTime<Utc>,
}

/// A listing page as the operator's page shows it: its times as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListingPageStatus {
    pub source: String,
    pub url: String,
    pub page: i64,
    pub last_checked: Option<String>,
    pub last_success: Option<String>,
    pub next_check: String,
}

impl Store {
    /// The first page of every listing, and the later pages never read or failing since their
    /// last success, by source and page.
    pub fn listing_pages_to_watch(&self) -> Result<Vec<ListingPageStatus>> {
        query_all(
            self.connection(),
            "SELECT source, url, page, last_checked, last_success, next_check FROM listing_pages
             WHERE page = 0 OR last_success IS NULL OR last_checked > last_success
             ORDER BY source, page",
            [],
            |row| {
                Ok(ListingPageStatus {
                    source: row.get(0)?,
                    url: row.get(1)?,
                    page: row.get(2)?,
                    last_checked: row.get(3)?,
                    last_success: row.get(4)?,
                    next_check: row.get(5)?,
                })
            },
            "reading listing pages",
        )
    }

    /// The stored state of a listing page.
    pub fn listing_state(&self, url: &str) -> Result<Option<ListingState>> {
        self.conn
            .query_row(
                "SELECT url, source, page, etag, last_modified, item_urls, page_count, last_success, next_check
                 FROM listing_pages WHERE url = ?1",
                [url],
                |row| {
                    let items: String = row.get(5)?;
                    Ok(ListingState {
                        url: row.get(0)?,
                        source: row.get(1)?,
                        page: row.get(2)?,
                        validators: Validators {
                            etag: row.get(3)?,
                            last_modified: row.get(4)?,
                        },
                        item_urls: serde_json::from_str(&items).unwrap_or_default(),
                        page_count: row.get(6)?,
                        last_success: row.get(7)?,
                        next_check: parse_time(&row.get::<_, String>(8)?).unwrap_or_default(),
                    })
                },
            )
            .optional()
            .map_err(sql("reading a listing page"))
    }
}

/// What a listing page's successful fetch leaves stored.
#[derive(Debug, Clone)]
pub struct ListingPageUpdate<'a> {
    pub url: &'a str,
    pub validators: &'a Validators,
    pub item_urls: &'a [String],
    pub page_count: Option<u32>,
    pub at: DateTime<Utc>,
}

impl Tx<'_> {
    /// The items a listing page had when last fetched.
    pub fn listing_page_items(&self, url: &str) -> Result<Option<Vec<String>>> {
        let items: Option<String> = query_row_cached(
            &self.tx,
            "SELECT item_urls FROM listing_pages WHERE url = ?1",
            [url],
            |row| row.get(0),
        )
        .optional()
        .map_err(sql("reading a listing page"))?;
        Ok(items.map(|text| serde_json::from_str(&text).unwrap_or_default()))
    }

    /// Every item of a source's listing pages, in listing order (newest first).
    pub fn source_listing_items(&self, source: &str) -> Result<Vec<String>> {
        let mut statement = self
            .tx
            .prepare_cached("SELECT item_urls FROM listing_pages WHERE source = ?1 ORDER BY page")
            .map_err(sql("reading listing pages"))?;
        let pages = statement
            .query_map([source], |row| row.get::<_, String>(0))
            .map_err(sql("reading listing pages"))?;
        let mut items: Vec<String> = Vec::new();
        for page in pages {
            let page = page.map_err(sql("reading listing pages"))?;
            items.extend(serde_json::from_str::<Vec<String>>(&page).unwrap_or_default());
        }
        Ok(items)
    }

    /// A listing page was asked for: when, and when it is asked again.
    pub fn schedule_listing_page(
        &self,
        url: &str,
        source: &str,
        page: u32,
        checked: DateTime<Utc>,
        next_check: DateTime<Utc>,
    ) -> Result<()> {
        execute_cached(
            &self.tx,
            "INSERT INTO listing_pages (url, source, page, last_checked, next_check) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT(url) DO UPDATE SET last_checked = ?4, next_check = ?5",
            params![url, source, page, format_time(checked), format_time(next_check)],
        )
        .map_err(sql("writing a listing page"))?;
        Ok(())
    }

    /// A listing page answered 304: its stored items still hold.
    pub fn confirm_listing_page(&self, url: &str, at: DateTime<Utc>) -> Result<()> {
        execute_cached(
            &self.tx,
            "UPDATE listing_pages SET last_success = ?2 WHERE url = ?1",
            params![url, format_time(at)],
        )
        .map_err(sql("writing a listing page"))?;
        Ok(())
    }

    /// A listing page answered with its items.
    pub fn update_listing_page(&self, update: &ListingPageUpdate<'_>) -> Result<()> {
        execute_cached(
            &self.tx,
            "UPDATE listing_pages SET etag = ?2, last_modified = ?3, item_urls = ?4, page_count = ?5, last_success = ?6
             WHERE url = ?1",
            params![
                update.url,
                update.validators.etag,
                update.validators.last_modified,
                serde_json::to_string(update.item_urls).unwrap_or_else(|_| "[]".into()),
                update.page_count,
                format_time(update.at)
            ],
        )
        .map_err(sql("writing a listing page"))?;
        Ok(())
    }
}
