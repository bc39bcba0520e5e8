//! The page templates. `maud` escapes every interpolated value, so stored text (titles, questions,
//! answers, error messages) always reaches the browser as text, never as markup.

use axum::http::StatusCode;
use maud::{DOCTYPE, Markup, html};

use super::chart::trend_chart;
use super::views::{
    BriefingList, BriefingView, EventList, EventRow, ListFilter, SearchForm, StatusView,
};
use crate::diff::EventPayload;
use crate::diff::present::{
    DELISTED, Linked, UNPAIRED, blocked_sentence, kind_label, removed_sentence, restored_sentence,
    taken_down_sentence, unreadable_sentence,
};
use crate::model::{EventKind, Exchange, Kind, Lang, SPOKESPERSONS};
use crate::search::Query;
use crate::search::{Highlighted, Passage, SearchResults, TrendSeries};

/// The stylesheet, served at `/assets/briefwatch.css`.
pub const STYLESHEET: &str = include_str!("style.css");

pub(crate) fn lang_name(lang: Lang) -> &'static str {
    match lang {
        Lang::En => "English",
        Lang::Zh => "中文",
    }
}

fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::PressConference => "press conference",
        Kind::Remarks => "remarks",
        Kind::Qa => "Q&A",
        Kind::Statement => "statement",
        Kind::Other => "other",
    }
}

const KINDS: [Kind; 5] = [
    Kind::PressConference,
    Kind::Remarks,
    Kind::Qa,
    Kind::Statement,
    Kind::Other,
];

/// The feeds every page announces: `(title, href)`.
const SITE_FEEDS: &[(&str, &str)] = &[
    ("briefwatch: all briefings", "/feeds/briefings.xml"),
    (
        "briefwatch: briefings in English",
        "/feeds/briefings-en.xml",
    ),
    (
        "briefwatch: briefings in Chinese",
        "/feeds/briefings-zh.xml",
    ),
    (
        "briefwatch: revised and withdrawn transcripts",
        "/feeds/revisions.xml",
    ),
];

pub(crate) fn layout(title: &str, body: Markup) -> Markup {
    layout_with_feed(title, None, body)
}

/// [`layout`] announcing one more feed first (the feed of a search): `(title, href)`.
pub(crate) fn layout_with_feed(title: &str, feed: Option<(&str, &str)>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · briefwatch" }
                link rel="stylesheet" href="/assets/briefwatch.css";
                @if let Some((feed_title, href)) = feed {
                    link rel="alternate" type="application/rss+xml" title=(feed_title) href=(href);
                }
                @for (feed_title, href) in SITE_FEEDS {
                    link rel="alternate" type="application/rss+xml" title=(feed_title) href=(href);
                }
                link rel="alternate" type="text/x-opml" title="briefwatch: every feed (OPML)" href="/feeds.opml";
            }
            body {
                header.site {
                    nav {
                        a.brand href="/" { "briefwatch" }
                        a href="/" { "Briefings" }
                        a href="/events" { "Events" }
                        a href="/search" { "Search" }
                        a href="/trends" { "Trends" }
                        a href="/status" { "Status" }
                        form action="/search" method="get" role="search" {
                            input type="search" name="q" placeholder="Search briefings" aria-label="Search briefings";
                            button type="submit" { "Go" }
                        }
                    }
                }
                main { (body) }
            }
        }
    }
}

pub fn error(status: StatusCode, message: &str) -> Markup {
    let heading = match status {
        StatusCode::NOT_FOUND => "Not found",
        StatusCode::BAD_REQUEST => "Bad request",
        _ => "Something went wrong",
    };
    layout(
        heading,
        html! {
            h1 { (status.as_u16()) " " (heading) }
            div.error-page { p.message { (message) } }
            p { a href="/" { "Back to the briefings" } }
        },
    )
}

fn paragraphs(list: &[String]) -> Markup {
    html! { @for p in list { p { (p) } } }
}

fn highlighted(list: &[Highlighted]) -> Markup {
    html! {
        @for paragraph in list {
            p { @for segment in paragraph {
                @if segment.marked { mark { (segment.text) } } @else { (segment.text) }
            } }
        }
    }
}

fn select_option(value: &str, label: &str, selected: bool) -> Markup {
    html! { option value=(value) selected[selected] { (label) } }
}

pub fn index(filter: &ListFilter, list: &BriefingList) -> Markup {
    layout(
        "Briefings",
        html! {
            h1 { "Press briefings" }
            form.filters method="get" action="/" {
                label { "Language"
                    select name="lang" {
                        (select_option("", "all", filter.lang.is_none()))
                        @for lang in [Lang::En, Lang::Zh] {
                            (select_option(lang.as_str(), lang_name(lang), filter.lang == Some(lang)))
                        }
                    }
                }
                label { "Kind"
                    select name="kind" {
                        (select_option("", "all", filter.kind.is_none()))
                        @for kind in KINDS {
                            (select_option(kind.as_str(), kind_name(kind), filter.kind == Some(kind)))
                        }
                    }
                }
                label { "Spokesperson"
                    select name="spokesperson" {
                        (select_option("", "all", filter.spokesperson.is_none()))
                        @for (en, zh) in SPOKESPERSONS {
                            (select_option(en, &format!("{en} {zh}"),
                                filter.spokesperson.as_deref().is_some_and(|s| s.eq_ignore_ascii_case(en) || s == *zh)))
                        }
                    }
                }
                label { "Month"
                    select name="month" {
                        (select_option("", "all", filter.month.is_none()))
                        @for month in &list.months {
                            (select_option(month, month, filter.month.as_deref() == Some(month.as_str())))
                        }
                    }
                }
                button type="submit" { "Filter" }
            }
            p.muted { (list.total) @if list.total == 1 { " briefing" } @else { " briefings" } @if list.pages > 1 { ", page " (filter.page) " of " (list.pages) } }
            ul.briefings {
                @for row in &list.rows {
                    li.briefing data-id=(row.id) lang=(row.lang.as_str()) {
                        a.title href=(format!("/b/{}", row.id)) {
                            (row.title.as_deref().unwrap_or("(untitled)"))
                        }
                        div.meta {
                            (row.date.map(|d| d.to_string()).unwrap_or_else(|| "undated".into()))
                            " · " (lang_name(row.lang))
                            @if let Some(kind) = row.kind { " · " (kind_name(kind)) }
                            @if let Some(name) = &row.spokesperson { " · " (name) }
                            " · " (row.exchanges) @if row.exchanges == 1 { " exchange · " } @else { " exchanges · " }
                            span.revisions { (row.revisions) @if row.revisions == 1 { " revision" } @else { " revisions" } }
                            @if row.revisions > 1 { " " span.badge.edited { "edited" } }
                            @if row.state == "gone" { " " span.badge.gone { (kind_label(EventKind::Gone)) } }
                        }
                    }
                }
            }
            @if list.rows.is_empty() { p { "No briefing matches these filters." } }
            div.pager {
                @if filter.page > 1 { a rel="prev" href=(format!("/?{}", filter.with_page(filter.page - 1))) { "← newer" } }
                @if filter.page < list.pages { a rel="next" href=(format!("/?{}", filter.with_page(filter.page + 1))) { "older →" } }
            }
        },
    )
}

pub(crate) fn exchange_block(exchange: &Exchange, lang: Lang) -> Markup {
    let anchor = format!("q{}", exchange.ordinal);
    html! {
        article.exchange id=(anchor) lang=(lang.as_str()) {
            header {
                a.anchor href=(format!("#{anchor}")) { "#" (exchange.ordinal) }
                span.asker { (exchange.asker) }
                @if exchange.after_conference {
                    span.badge { @if lang == Lang::Zh { "会后提问" } @else { "after the briefing" } }
                }
            }
            div.question { (paragraphs(&exchange.question)) }
            div.answer { (paragraphs(&exchange.answer)) }
        }
    }
}

pub fn briefing(view: &BriefingView) -> Markup {
    let document = &view.document;
    let briefing = &view.revision.briefing;
    let latest = view.latest_seq();
    let lang = briefing.lang;
    layout(
        &briefing.title,
        html! {
            h1 lang=(lang.as_str()) { (briefing.title) }
            p.meta {
                (briefing.date.map(|d| d.to_string()).unwrap_or_else(|| "undated".into()))
                " · " (lang_name(lang)) " · " (kind_name(briefing.kind))
                @if let Some(name) = &briefing.spokesperson { " · " (name) }
                " · " span.revisions { (view.revisions.len()) @if view.revisions.len() == 1 { " revision" } @else { " revisions" } }
                @if view.revisions.len() > 1 { " " span.badge.edited { "edited" } }
                @if document.state == "gone" { " " span.badge.gone { (kind_label(EventKind::Gone)) } }
            }
            p.links {
                a.source href=(document.url) rel="noreferrer" { "Ministry page" }
                @if let Some(other) = &view.counterpart {
                    " · " a.counterpart href=(format!("/b/{}", other.id)) lang=(other.lang.as_str()) {
                        @if other.lang == Lang::Zh { "同日中文版" } @else { "Same day in English" }
                    }
                }
            }
            @if view.revision.meta.seq != latest {
                p.notice {
                    "You are reading revision " (view.revision.meta.seq) " of " (latest) ". "
                    a href=(format!("/b/{}", document.id)) { "Read the latest" } " · "
                    a href=(format!("/b/{}/diff?from={}&to={}", document.id, view.revision.meta.seq, latest)) { "what changed since" }
                }
            }
            @if !briefing.opening.is_empty() {
                section.opening id="opening" lang=(lang.as_str()) {
                    h2 { (briefing.kind.text_label(lang)) }
                    (paragraphs(&briefing.opening))
                }
            }
            section.exchanges {
                @for exchange in &briefing.exchanges { (exchange_block(exchange, lang)) }
                @if briefing.exchanges.is_empty() { p.muted { "No questions were taken." } }
            }
            section.revisions {
                h2 { "Revisions" }
                div.table-wrap { table {
                    thead { tr { th { "#" } th { "Fetched" } th { "Content" } th { "" } } }
                    tbody {
                        @for revision in &view.revisions {
                            tr {
                                td { (revision.seq) }
                                td { (revision.fetched_at) }
                                td { code { (revision.content_hash.get(..12).unwrap_or(&revision.content_hash)) } }
                                td {
                                    @if revision.seq == view.revision.meta.seq { "shown" }
                                    @else { a href=(format!("/b/{}?rev={}", document.id, revision.seq)) { "read" } }
                                    @if revision.seq > 1 {
                                        " · " a href=(format!("/b/{}/diff?from={}&to={}", document.id, revision.seq - 1, revision.seq)) { "changes" }
                                    }
                                }
                            }
                        }
                    }
                } }
            }
        },
    )
}

/// The exchange an event carries, as a reader would name it: number, asker and question.
fn event_exchange(row: &EventRow, exchange: &Exchange) -> Markup {
    html! {
        div lang=(row.document.as_ref().map_or("en", |d| d.lang.as_str())) {
            strong { (exchange.asker) } " "
            (exchange.question.first().map(String::as_str).unwrap_or_default())
        }
    }
}

/// A presenter's sentence with its phrase linked to `href` (plain when there is no address).
fn linked(sentence: Linked, href: &str) -> Markup {
    html! {
        (sentence.before)
        @if href.is_empty() { (sentence.phrase) }
        @else { a href=(href) rel="noreferrer" { (sentence.phrase) } }
        (sentence.after)
    }
}

/// What an event says, in the presenter's sentences rather than its stored field names.
fn event_detail(row: &EventRow) -> Markup {
    let kind = row.event.kind;
    let payload = match EventPayload::decode(kind, &row.event.payload) {
        Ok(payload) => payload,
        // A payload this version cannot read: the badge alone says what happened.
        Err(_) => return html! {},
    };
    match &payload {
        EventPayload::Revised(revised) => {
            let summary = revised.summary();
            html! {
                @if let (Some((from, to)), Some(doc)) = (payload.revisions(), &row.document) {
                    "revision " (from) " → " (to) " · "
                    a.diff-link href=(format!("/b/{}/diff?from={from}&to={to}", doc.id)) { "see what changed" }
                }
                @if !summary.is_empty() { div { (summary) } }
            }
        }
        EventPayload::Blocked(blocked) => html! { (blocked_sentence(blocked)) },
        EventPayload::ExchangeRemoved(removed) => html! {
            (removed_sentence(Some(removed.old_ordinal))) ":"
            (event_exchange(row, &removed.exchange))
        },
        EventPayload::TakenDown(page) => html! { (taken_down_sentence(kind, Some(page))) },
        EventPayload::Restored(_) => html! { (restored_sentence()) },
        EventPayload::Delisted(page) => linked(DELISTED, &page.detail),
        EventPayload::ExtractorFailed(failed) => html! { (unreadable_sentence(failed)) },
        EventPayload::Unpaired(unpaired) => html! {
            div { (linked(UNPAIRED, &unpaired.other_url)) }
            (event_exchange(row, &unpaired.exchange))
        },
        EventPayload::New(_) => html! {},
    }
}

pub fn events(list: &EventList) -> Markup {
    layout(
        "Events",
        html! {
            h1 { "What changed" }
            p.muted { "Revisions, removals, take-downs and unpaired exchanges, newest first." }
            @for row in &list.rows {
                div.event data-type=(row.event.kind.as_str()) {
                    div.meta { (row.event.created_at) }
                    div {
                        span class=(format!("badge {}", row.event.kind)) { (kind_label(row.event.kind)) } " "
                        @if let Some(doc) = &row.document {
                            a href=(format!("/b/{}", doc.id)) lang=(doc.lang.as_str()) {
                                (doc.title.as_deref().unwrap_or(&doc.url))
                            }
                            @if let Some(date) = doc.date { span.meta { " · " (date) } }
                        }
                        div.detail { (event_detail(row)) }
                    }
                }
            }
            @if list.rows.is_empty() { p { "Nothing has changed yet." } }
            @if let Some(older) = list.older { div.pager { a rel="next" href=(format!("/events?before={older}")) { "older →" } } }
        },
    )
}

fn search_form(form: &SearchForm) -> Markup {
    html! {
        form.filters method="get" action="/search" {
            label { "Words" input type="search" name="q" value=(form.q) size="32"; }
            label { "Language"
                select name="lang" {
                    (select_option("", "both", form.filter.lang.is_none()))
                    @for lang in [Lang::En, Lang::Zh] {
                        (select_option(lang.as_str(), lang_name(lang), form.filter.lang == Some(lang)))
                    }
                }
            }
            label { "From" input type="date" name="from" value=[form.filter.from.map(|d| d.to_string())]; }
            label { "To" input type="date" name="to" value=[form.filter.to.map(|d| d.to_string())]; }
            label { "Spokesperson"
                select name="spokesperson" {
                    (select_option("", "all", form.filter.spokesperson.is_none()))
                    @for (en, zh) in SPOKESPERSONS {
                        (select_option(en, &format!("{en} {zh}"),
                            form.filter.spokesperson.as_deref().is_some_and(|s| s.eq_ignore_ascii_case(en) || s == *zh)))
                    }
                }
            }
            button type="submit" { "Search" }
        }
    }
}

fn describe(query: &Query) -> String {
    query
        .positive_terms()
        .iter()
        .map(|t| {
            if t.phrase {
                format!("\"{}\"", t.text)
            } else if t.prefix {
                format!("{}*", t.text)
            } else {
                t.text.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn search(form: &SearchForm, results: Option<&SearchResults>) -> Markup {
    let feed_href = form
        .query
        .as_ref()
        .map(|_| format!("/feeds/search.xml?{}", form.feed_query()));
    let feed_title = format!("briefwatch: search “{}”", form.q);
    layout_with_feed(
        if form.q.is_empty() { "Search" } else { &form.q },
        feed_href.as_deref().map(|href| (feed_title.as_str(), href)),
        html! {
            h1 { "Search the briefings" }
            @if let Some(error) = &form.error {
                p.notice.error role="alert" { "This query cannot be searched: " (error) ". Correct it below." }
            }
            (search_form(form))
            @match (results, &form.query) {
                (Some(results), Some(query)) => {
                    p.count {
                        (results.total) @if results.total == 1 { " passage" } @else { " passages" }
                        " match " span.terms { (describe(query)) }
                    }
                    @if let Some(href) = &feed_href {
                        p.subscribe { a.feed rel="alternate" type="application/rss+xml" href=(href) { "Subscribe to this search" } " (RSS: the newest matching passages, quoted in full)" }
                    }
                    @for hit in &results.hits {
                        article.exchange.hit lang=(hit.lang.as_str()) {
                            header {
                                a.anchor href=(hit.view) {
                                    (hit.date.map(|d| d.to_string()).unwrap_or_else(|| "undated".into()))
                                    @if hit.passage == Passage::Exchange { " #" (hit.ordinal) }
                                }
                                @match hit.passage {
                                    Passage::Exchange => span.asker { (hit.asker) },
                                    Passage::Text => span.asker { (hit.kind.text_label(hit.lang)) },
                                }
                                span.meta { (hit.title.as_deref().unwrap_or("")) }
                                @if !hit.in_latest { span.badge.edited { "changed or removed in a later revision" } }
                            }
                            @if !hit.question.is_empty() { div.question { (highlighted(&hit.question)) } }
                            div.answer { (highlighted(&hit.answer)) }
                        }
                    }
                    div.pager {
                        @if form.page > 1 { a rel="prev" href=(format!("/search?{}", form.with_page(form.page - 1))) { "← previous" } }
                        @if (form.page as usize) * super::views::RESULTS_PER_PAGE < results.total {
                            a rel="next" href=(format!("/search?{}", form.with_page(form.page + 1))) { "next →" }
                        }
                    }
                }
                _ => {
                    div.help {
                        p { "Every text of every revision, in English and Chinese: exchanges, titles, opening remarks, statements. Words must all appear; "
                            code { "\"South China Sea\"" } " finds a phrase, " code { "Hong OR Kong" } " either, "
                            code { "trade NOT war" } " or " code { "trade -war" } " excludes, " code { "sanction*" }
                            " a prefix, parentheses group. Chinese words of any length work: " code { "台湾" } ", " code { "一带一路" } ". A word in capitals is an acronym and matches only in capitals: " code { "WHO" } " does not find “who”." }
                    }
                }
            }
        },
    )
}

pub fn trends(terms: &[(String, Query)], series: &[TrendSeries]) -> Markup {
    let shared_max = series
        .iter()
        .flat_map(|s| s.months.iter().map(|m| m.1.max(m.2)))
        .max()
        .unwrap_or(0);
    let value = terms
        .iter()
        .map(|(t, _)| t.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    layout(
        "Trends",
        html! {
            h1 { "Trends" }
            form.filters method="get" action="/trends" {
                label { "Terms, separated by commas" input type="search" name="q" value=(value) size="40"; }
                button type="submit" { "Draw" }
            }
            @if series.is_empty() {
                p { "How often a term comes up per month, in questions and in answers. Compare an English and a Chinese term side by side, e.g. "
                    a href="/trends?q=Taiwan%2C%20%E5%8F%B0%E6%B9%BE" { "Taiwan, 台湾" } " or "
                    a href="/trends?q=Hong%20Kong%2C%20%E9%A6%99%E6%B8%AF" { "Hong Kong, 香港" } "." }
            } @else {
                p.legend { span.questions { "— questions" } span.answers { "— answers" } span.muted { "exchanges per month, latest revision of each briefing" } }
                div.charts {
                    @for s in series {
                        figure.trend {
                            figcaption {
                                strong { (s.term) } " "
                                span.meta { (s.total_questions) " in questions, " (s.total_answers) " in answers · "
                                    a href=(format!("/search?q={}", url::form_urlencoded::byte_serialize(s.term.as_bytes()).collect::<String>())) { "search" } }
                            }
                            (trend_chart(s, shared_max))
                        }
                    }
                }
            }
        },
    )
}

pub fn status(view: &StatusView) -> Markup {
    layout(
        "Status",
        html! {
            h1 { "Status" }
            p.meta { "As of " (view.now.format("%Y-%m-%d %H:%M:%S UTC")) }
            h2 { "Sources" }
            div.table-wrap { table.sources {
                thead { tr { th { "Source" } th { "Briefings" } th { "Archived" } th { "Pending" } th { "Gone" } th { "Revisions" } th { "Last success" } th { "Last error" } } }
                tbody { @for (s, failing) in view.sources.iter().zip(&view.failing) {
                    tr {
                        td { (s.source) }
                        td { (s.documents) } td { (s.archived) } td { (s.pending) } td { (s.gone) } td { (s.revisions) }
                        td { @if let Some(ok) = &s.last_success { (ok.at) } @else { "never" } }
                        td { @if let Some(failure) = failing {
                            strong.failing { (failure.description) }
                            div { "since " (crate::store::format_time(failure.since)) " (for " (failure.lasting(view.now)) ", " (failure.failures) " failed requests)" }
                        }
                        @if let Some(error) = &s.last_error {
                            (error.at) " " (error.outcome)
                            @if let Some(status) = error.status { " HTTP " (status) }
                            @if let Some(message) = &error.error { div.muted { (message) } }
                            div.muted { (error.url) }
                        } @else { "none" } }
                    }
                } }
            } }
            @if view.sources.is_empty() { p { "No source has been polled yet." } }
            h2 { "Listing pages" }
            div.table-wrap { table {
                thead { tr { th { "Source" } th { "Page" } th { "Last poll" } th { "Last success" } th { "Next" } } }
                tbody { @for l in &view.listing_pages {
                    tr {
                        td { (l.source) } td { a href=(l.url) { (l.page) } }
                        td { (l.last_checked.as_deref().unwrap_or("never")) }
                        td { (l.last_success.as_deref().unwrap_or("never"))
                            @if l.last_success.is_none() || l.last_checked > l.last_success { " " span.badge.gone { "failing" } } }
                        td { (l.next_check) @if let Some(why) = &l.overdue { div.muted { "overdue: " (why) } } }
                    }
                } }
            } }
            h2 { "Blocked hosts" }
            @if view.blocked_hosts.is_empty() { p { "None." } } @else {
                ul { @for (host, until) in &view.blocked_hosts { li.blocked { (host) " until " (until) } } }
            }
            h2 { "Taken down" }
            @if view.gone.is_empty() { p { "None." } } @else {
                ul { @for doc in &view.gone { li { a href=(format!("/b/{}", doc.id)) lang=(doc.lang.as_str()) { (doc.title.as_deref().unwrap_or(&doc.url)) } } } }
            }
            h2 { "Extraction failures" }
            @if view.extractor_failures.is_empty() { p { "None." } } @else {
                ul { @for (at, url, error) in &view.extractor_failures { li { (at) " " a href=(url) { (url) } div.muted { (error) } } } }
            }
            h2 { "Outbox" }
            @match &view.outbox {
                None => p { "Alerts are not set up in this archive." },
                Some(rows) if rows.is_empty() => p { "Empty." },
                Some(rows) => {
                    table.outbox {
                        thead { tr { th { "State" } th { "Messages" } th { "Next due" } } }
                        tbody { @for row in rows { tr { td { (row.state) } td { (row.count) } td { (row.next_due.as_deref().unwrap_or("")) } } } }
                    }
                    @if !view.outbox_errors.is_empty() {
                        ul { @for (recipient, attempts, error) in &view.outbox_errors { li { (recipient) " after " (attempts) " attempts: " (error) } } }
                    }
                }
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::{Change, Counts, Significance};
    use crate::store::Event;
    use crate::web::views::{EventDocument, EventList, EventRow};

    #[test]
    fn the_index_counts_one_exchange_in_the_singular() {
        use crate::store::BriefingSummary;
        use crate::web::views::{BriefingList, ListFilter};
        let row = |id, exchanges| BriefingSummary {
            id,
            url: format!("https://www.fmprc.gov.cn/t{id}.shtml"),
            lang: Lang::En,
            kind: Some(Kind::Remarks),
            date: None,
            title: Some("Remarks".into()),
            spokesperson: None,
            state: "live".into(),
            revisions: 1,
            exchanges,
            fetched_at: "2020-07-03T08:00:00Z".into(),
        };
        let list = BriefingList {
            rows: vec![row(1, 1), row(2, 2)],
            total: 2,
            pages: 1,
            months: vec![],
        };
        let filter = ListFilter {
            lang: None,
            kind: None,
            spokesperson: None,
            month: None,
            page: 1,
        };
        let html = index(&filter, &list).into_string();
        assert!(html.contains(" · 1 exchange · "), "{html}");
        assert!(html.contains(" · 2 exchanges · "), "{html}");
        let one = BriefingList {
            rows: vec![row(1, 1)],
            total: 1,
            ..list.clone()
        };
        let html = index(&filter, &one).into_string();
        assert!(html.contains(">1 briefing<"), "{html}");
        assert!(!html.contains("1 exchanges"), "{html}");
    }

    #[test]
    fn events_of_later_stages_render_their_exchange_as_text() {
        let row = |kind: EventKind, payload: serde_json::Value| EventRow {
            event: Event {
                id: 1,
                document_id: Some(3),
                revision_id: None,
                kind,
                created_at: "2020-07-04T00:00:00Z".into(),
                payload,
            },
            document: Some(EventDocument {
                id: 3,
                lang: Lang::Zh,
                date: None,
                title: Some("<i>title</i>".into()),
                url: "https://example.org/t1.shtml".into(),
            }),
        };
        let exchange = serde_json::json!({
            "ordinal": 4, "asker": "<b>RIA</b>", "question": ["<script>q</script>"],
            "answer": ["a"], "after_conference": false
        });
        let list = EventList {
            rows: vec![
                row(
                    EventKind::Unpaired,
                    serde_json::json!({ "lang": "zh", "url": "u", "other_url": "o", "exchange": exchange }),
                ),
                row(
                    EventKind::ExchangeRemoved,
                    serde_json::json!({
                        "url": "u", "lang": "zh", "title": "t", "date": null,
                        "old_ordinal": 4, "exchange": exchange
                    }),
                ),
                // As the oldest archives store it: the summary only inside the change.
                row(
                    EventKind::Revised,
                    serde_json::json!({
                        "url": "u", "lang": "zh", "title": "t", "date": null,
                        "old_hash": "a", "new_hash": "b",
                        "change": Change {
                            significance: Significance::Substantive,
                            summary: "substantive: 1 exchange removed".into(),
                            lang: Lang::Zh,
                            title: None,
                            date: None,
                            spokesperson: None,
                            opening: None,
                            counts: Counts::default(),
                            exchanges: vec![],
                        },
                    }),
                ),
            ],
            older: None,
        };
        let html = events(&list).into_string();
        assert!(html.contains("unpaired exchange") && html.contains("exchange removed"));
        assert!(
            html.contains("&lt;b&gt;RIA&lt;/b&gt;")
                && html.contains("&lt;script&gt;q&lt;/script&gt;")
        );
        assert!(html.contains("&lt;i&gt;title&lt;/i&gt;"));
        assert!(!html.contains("<script>") && !html.contains("<b>RIA"));
        assert!(
            html.contains("Exchange 4 was removed from the transcript:"),
            "{html}"
        );
        assert!(!html.contains("old_ordinal"), "{html}");
        assert!(html.contains("Not in the other language's <a href=\"o\""));
        assert!(html.contains("substantive: 1 exchange removed"));
    }
}
