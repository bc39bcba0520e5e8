//! `import`: saved pages listed in a corpus manifest go through the ingest pipeline as fetches
//! made at their original time, exactly as polled pages do; only where the page comes from differs.

use std::path::Path;
use std::time::Duration;

use super::{
    Clock, DaemonError, Engine, Report, document_age, manifest, next_check, published_instant,
};
use crate::fetch::{Fetched, Outcome, Validators};
use crate::ingest::{self, ArticleFetch, ListingFetch};
use crate::site::Profile;
use crate::store::PageKind;

impl Engine {
    /// Imports saved pages listed in a corpus manifest (`url status location file bytes sha256
    /// content_type fetched_date`) as fetches made at their original time. Every row is checked
    /// first ([`manifest::read_manifest`]): a manifest with one bad row imports nothing.
    pub fn import_manifest(
        &mut self,
        manifest: &Path,
        clock: &dyn Clock,
    ) -> Result<Report, DaemonError> {
        let path_text = manifest.display().to_string();
        let rows = manifest::read_manifest(manifest)?;
        // Saved pages are not fetched again, so no version can wait for a second look.
        let settings = ingest::Settings {
            suspect_recheck: None,
            ..self.settings.clone()
        };
        let mut report = Report::default();
        let pages = rows.len() as u64;
        for row in rows {
            self.step(&row.url, Some(pages));
            let (url, content_type, fetched_at) =
                (row.url.as_str(), row.content_type.as_str(), row.fetched_at);
            let Some(file) = row.file.as_ref().filter(|_| row.status == "200") else {
                report.skipped += 1;
                continue;
            };
            let body = std::fs::read(file).map_err(|error| DaemonError::ManifestRow {
                path: path_text.clone(),
                line: row.line,
                message: format!("cannot read {}: {error}", file.display()),
            })?;
            let html = crate::charset::decode_html(&body, Some(content_type));
            let Some((source_name, lang, profile)) = self.import_source(url, &html) else {
                report.skipped += 1;
                continue;
            };
            let mut fetched = Fetched {
                url: url.to_string(),
                final_url: url.to_string(),
                status: Some(200),
                outcome: Outcome::Ok,
                body,
                content_type: Some(content_type.to_string()),
                validators: Validators::default(),
                retry_after: None,
                attempts: 1,
                elapsed: Duration::ZERO,
                error: None,
                final_failure: false,
            };
            let stored = if crate::site::is_listing_url(url) {
                let page = url
                    .rsplit_once('_')
                    .and_then(|(_, tail)| tail.split('.').next()?.parse().ok())
                    .unwrap_or(0);
                let extracted = ingest::extract_listing(&profile, url, Outcome::Ok, &html);
                fetched.error = extracted.error;
                report.listings += 1;
                report.count(extracted.outcome);
                let record = self.fetch_record(
                    Some(&source_name),
                    &fetched,
                    PageKind::Listing,
                    fetched_at,
                    extracted.outcome,
                );
                ingest::listing(
                    &mut self.store,
                    &ListingFetch {
                        source: &source_name,
                        lang,
                        page,
                        log: record,
                        validators: Validators::default(),
                        listing: extracted.value.as_ref(),
                        next_check: clock.now(),
                    },
                )
                .map(|result| report.new_documents += result.new_documents.len() as u64)
            } else {
                let extracted = ingest::extract_article(&profile, url, Outcome::Ok, &html);
                fetched.error = extracted.error;
                let (outcome, briefing) = (extracted.outcome, extracted.value);
                report.articles += 1;
                report.count(outcome);
                let now = clock.now();
                let published = briefing.as_ref().and_then(|b| {
                    published_instant(b.date, b.published_at, self.config.schedule.utc_offset)
                });
                let age = document_age(now, published, fetched_at);
                let record = self.fetch_record(
                    Some(&source_name),
                    &fetched,
                    PageKind::Article,
                    fetched_at,
                    outcome,
                );
                ingest::article(
                    &mut self.store,
                    &ArticleFetch {
                        source: &source_name,
                        lang,
                        log: record,
                        raw: briefing.as_ref().map(|_| fetched.body.as_slice()),
                        validators: Validators::default(),
                        briefing: briefing.as_ref(),
                        next_check: next_check(
                            age,
                            now,
                            &self.config.schedule,
                            url,
                            Self::random(),
                        ),
                    },
                    &settings,
                )
                .map(|result| {
                    report.events += result.events.len() as u64;
                    if result.new_revision.is_some() {
                        report.new_revisions += 1;
                        // The first revision of a document is a new document.
                        if result.previous_revision.is_none() {
                            report.new_documents += 1;
                        }
                    } else if outcome == Outcome::Ok {
                        report.unchanged += 1;
                    }
                })
            };
            if let Err(error) = stored {
                tracing::error!(url, %error, "cannot import a page");
                report.errors += 1;
            }
        }
        Ok(report)
    }

    /// The source an imported page belongs to: a configured source whose listing directory holds
    /// the URL, else one with the page's profile, else the profile's name.
    fn import_source(
        &self,
        url: &str,
        html: &str,
    ) -> Option<(String, crate::model::Lang, Profile)> {
        for source in &self.config.sources {
            let listing = source.listing_url.as_str();
            let directory = &listing[..listing.rfind('/').map_or(listing.len(), |i| i + 1)];
            if url.starts_with(directory) {
                return Some((
                    source.name.clone(),
                    source.lang,
                    self.profiles[&source.name].clone(),
                ));
            }
        }
        let detected = Profile::detect(url, html).ok()?;
        let configured = self
            .config
            .sources
            .iter()
            .find(|source| source.profile == detected.name);
        match configured {
            Some(source) => Some((
                source.name.clone(),
                source.lang,
                self.profiles[&source.name].clone(),
            )),
            None => Some((detected.name.clone(), detected.lang, detected)),
        }
    }
}
