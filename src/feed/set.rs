//! Every feed rendered once per change, with its HTTP validators, shared between the poller and the
//! HTTP server, and written to static files when asked.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use bytes::Bytes;
use chrono::{DateTime, SubsecRound, TimeDelta, Utc};
use sha2::{Digest, Sha256};

use super::{
    BriefingEntry, EventEntry, FeedError, FeedItem, FeedSettings, KeywordEntry, check_rule_name,
    render,
};
use crate::model::Lang;

/// Everything the feeds are made of, as the store hands it over.
#[derive(Debug, Clone, Default)]
pub struct FeedInputs {
    pub briefings: Vec<BriefingEntry>,
    pub events: Vec<EventEntry>,
    /// Hits per alert rule; a rule with no hits still gets an (empty) feed.
    pub keywords: BTreeMap<String, Vec<KeywordEntry>>,
}

/// One feed document, identity and gzip-compressed, and its validators.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedFeed {
    pub body: Bytes,
    /// Strong validator: quoted hex of the body's SHA-256 prefix.
    pub etag: String,
    /// `body` compressed once here rather than per request: feeds are large and readers
    /// ask for gzip.
    pub gzip: Bytes,
    /// The gzip representation's own strong validator (`etag` with a `-gz` suffix).
    pub gzip_etag: String,
    /// When this body first appeared (whole seconds, as HTTP dates carry).
    pub last_modified: DateTime<Utc>,
}

/// All feeds of one installation, keyed by name (`briefings`, `keywords/<rule>`, …).
#[derive(Debug, Clone, Default)]
pub struct FeedSet {
    feeds: BTreeMap<String, RenderedFeed>,
    /// How long clients may cache a feed: the poll interval.
    pub max_age: Duration,
}

impl FeedSet {
    /// Renders every feed. A feed whose bytes equal its `previous` version keeps its
    /// `Last-Modified`; a changed one gets `now` (later than the previous date, so that
    /// `If-Modified-Since` never hides a change made within the same second).
    pub fn build(
        settings: &FeedSettings,
        inputs: &FeedInputs,
        previous: &FeedSet,
        now: DateTime<Utc>,
    ) -> Result<FeedSet, FeedError> {
        let mut documents: Vec<(String, Vec<FeedItem>)> = Vec::new();
        // Each briefing is written once: the feed of both languages shares its items.
        let all_briefings: Vec<(Lang, FeedItem)> = inputs
            .briefings
            .iter()
            .filter_map(|entry| Some((entry.briefing.lang, entry.to_item()?)))
            .collect();
        let briefing_items = |lang: Option<Lang>| -> Vec<FeedItem> {
            all_briefings
                .iter()
                .filter(|(item_lang, _)| lang.is_none_or(|lang| *item_lang == lang))
                .map(|(_, item)| item.clone())
                .collect()
        };
        documents.push(("briefings".to_string(), briefing_items(None)));
        documents.push(("briefings-en".to_string(), briefing_items(Some(Lang::En))));
        documents.push(("briefings-zh".to_string(), briefing_items(Some(Lang::Zh))));
        documents.push((
            "revisions".to_string(),
            inputs
                .events
                .iter()
                .map(|event| event.to_item(settings))
                .collect(),
        ));
        for (rule, hits) in &inputs.keywords {
            check_rule_name(rule)?;
            documents.push((
                format!("keywords/{rule}"),
                hits.iter().map(KeywordEntry::to_item).collect(),
            ));
        }

        let now = now.trunc_subsecs(0);
        let mut feeds = BTreeMap::new();
        for (name, items) in documents {
            let xml = render(&settings.meta(&name), items)?;
            let etag = etag_of(xml.as_bytes());
            let feed = match previous.feeds.get(&name) {
                Some(old) if old.etag == etag => old.clone(),
                old => RenderedFeed {
                    gzip: gzip(xml.as_bytes()),
                    gzip_etag: format!("{}-gz\"", etag.trim_end_matches('"')),
                    body: Bytes::from(xml),
                    etag,
                    last_modified: old.map_or(now, |old| {
                        now.max(old.last_modified + TimeDelta::seconds(1))
                    }),
                },
            };
            feeds.insert(name, feed);
        }
        Ok(FeedSet {
            feeds,
            max_age: settings.poll_interval,
        })
    }

    pub fn get(&self, name: &str) -> Option<&RenderedFeed> {
        self.feeds.get(name)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.feeds.keys().map(String::as_str)
    }

    pub fn len(&self) -> usize {
        self.feeds.len()
    }

    pub fn is_empty(&self) -> bool {
        self.feeds.is_empty()
    }

    /// Writes `<dir>/<name>.xml` for every feed whose file content differs, each through a temporary
    /// file in the same directory and a rename, so a reader never sees half a feed.
    pub fn write_dir(&self, dir: &Path) -> Result<WriteReport, FeedError> {
        let mut report = WriteReport::default();
        for (name, feed) in &self.feeds {
            let path = dir.join(format!("{name}.xml"));
            let unchanged = match fs::read(&path) {
                Ok(existing) => existing == feed.body.as_ref(),
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => false,
                Err(source) => return Err(FeedError::Io { path, source }),
            };
            if unchanged {
                report.unchanged.push(name.clone());
                continue;
            }
            write_atomically(&path, &feed.body)?;
            report.written.push(name.clone());
        }
        Ok(report)
    }
}

/// Which feed files [`FeedSet::write_dir`] rewrote and which it left alone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WriteReport {
    pub written: Vec<String>,
    pub unchanged: Vec<String>,
}

impl RenderedFeed {
    /// A feed document rendered on request (the feed of a search), with its validators.
    pub fn from_body(xml: String, last_modified: DateTime<Utc>) -> RenderedFeed {
        let etag = etag_of(xml.as_bytes());
        RenderedFeed {
            gzip: gzip(xml.as_bytes()),
            gzip_etag: format!("{}-gz\"", etag.trim_end_matches('"')),
            body: Bytes::from(xml),
            etag,
            last_modified: last_modified.trunc_subsecs(0),
        }
    }
}

/// The fastest level: on a twenty-year archive the default level took longer than reading and
/// rendering every feed together (a tenth of a second per change), for bodies only a fifth smaller.
fn gzip(body: &[u8]) -> Bytes {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    // Writing into a Vec cannot fail.
    let _ = encoder.write_all(body);
    Bytes::from(encoder.finish().unwrap_or_default())
}

fn etag_of(body: &[u8]) -> String {
    let digest = Sha256::digest(body);
    format!("\"{}\"", hex::encode(&digest[..16]))
}

fn write_atomically(path: &Path, body: &[u8]) -> Result<(), FeedError> {
    let io_error = |path: &Path| {
        let path = path.to_path_buf();
        move |source| FeedError::Io { path, source }
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(io_error(dir))?;
    let file_name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp: PathBuf = dir.join(format!(".{file_name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut file = fs::File::create(&temp)?;
        file.write_all(body)?;
        file.sync_all()?;
        fs::rename(&temp, path)
    })();
    if let Err(source) = result {
        let _ = fs::remove_file(&temp);
        return Err(FeedError::Io {
            path: path.to_path_buf(),
            source,
        });
    }
    Ok(())
}

/// The current [`FeedSet`], swapped whole after each change: readers clone an `Arc` and never wait
/// on rendering, which happens before the swap.
#[derive(Debug, Clone, Default)]
pub struct SharedFeeds {
    current: Arc<RwLock<Arc<FeedSet>>>,
}

impl SharedFeeds {
    pub fn new(set: FeedSet) -> SharedFeeds {
        SharedFeeds {
            current: Arc::new(RwLock::new(Arc::new(set))),
        }
    }

    pub fn load(&self) -> Arc<FeedSet> {
        // A poisoned lock only means a writer panicked between two whole swaps: the value is intact.
        match self.current.read() {
            Ok(guard) => Arc::clone(&guard),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    pub fn store(&self, set: FeedSet) {
        let set = Arc::new(set);
        match self.current.write() {
            Ok(mut guard) => *guard = set,
            Err(poisoned) => *poisoned.into_inner() = set,
        }
    }

    /// Re-renders from `inputs` and swaps the result in; returns the names of feeds whose bytes
    /// changed.
    pub fn refresh(
        &self,
        settings: &FeedSettings,
        inputs: &FeedInputs,
        now: DateTime<Utc>,
    ) -> Result<Vec<String>, FeedError> {
        let previous = self.load();
        let next = FeedSet::build(settings, inputs, &previous, now)?;
        let changed = next
            .feeds
            .iter()
            .filter(|(name, feed)| previous.get(name).is_none_or(|old| old.etag != feed.etag))
            .map(|(name, _)| name.clone())
            .collect();
        self.store(next);
        Ok(changed)
    }
}
