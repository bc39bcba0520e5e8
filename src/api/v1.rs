//! The endpoints of `/api/v1/`: briefings, their revisions and changes, events, search and the
//! pairing of a day's two languages. Each checks its parameters, rejecting unknown ones.

use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{MethodRouter, get};
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use serde::Serialize;

use super::{ApiError, ApiState, json, read, validated};
use crate::diff::{self, Change, Pairing};
use crate::model::{EventKind, Exchange, Kind, Lang};
use crate::search::{self, SearchHit};
use crate::store::{BriefingQuery, BriefingSummary, DocumentKey, Event, EventDocumentRef, Store};
use crate::web::params::Params;

/// Items per page unless `limit` says otherwise, and the most it may say.
const DEFAULT_LIMIT: i64 = 50;
const MAX_LIMIT: i64 = 500;

/// The handler of one path of [`super::PATHS`].
pub(super) fn handler(path: &str) -> MethodRouter<ApiState> {
    match path {
        "/briefings" => get(briefings),
        "/briefings/{id}" => get(briefing),
        "/briefings/{id}/revisions" => get(revisions),
        "/briefings/{id}/diff" => get(diff),
        "/events" => get(events),
        "/search" => get(search_hits),
        "/pairs/{date}" => get(pairs),
        "/openapi.json" => get(openapi),
        other => unreachable!("no handler for API path {other}"),
    }
}

pub(super) async fn unknown(headers: HeaderMap) -> Response {
    json::<()>(
        Err(ApiError::not_found(
            "no such API endpoint; /api/v1/openapi.json lists them",
        )),
        &headers,
    )
}

async fn openapi(RawQuery(raw): RawQuery, headers: HeaderMap) -> Response {
    if let Err(error) = Params::parse(raw.as_deref()).only(&[]) {
        return json::<()>(Err(error.into()), &headers);
    }
    validated(
        axum::http::StatusCode::OK,
        "application/json",
        super::OPENAPI.as_bytes().to_vec(),
        &headers,
    )
}

/// An opaque position in a listing: hex of `<kind>:<position>`.
fn cursor(kind: &str, position: &str) -> String {
    hex::encode(format!("{kind}:{position}"))
}

fn decode_cursor(params: &Params, kind: &str) -> Result<Option<String>, ApiError> {
    let Some(value) = params.get("cursor") else {
        return Ok(None);
    };
    hex::decode(value)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| {
            text.strip_prefix(kind)
                .and_then(|rest| rest.strip_prefix(':'))
                .map(str::to_string)
        })
        .map(Some)
        .ok_or_else(|| {
            ApiError::bad_request(
                "parameter cursor: not a cursor of this listing; use the `next` of a previous page",
            )
        })
}

fn limit(params: &Params) -> Result<u32, ApiError> {
    let limit = params.positive("limit", DEFAULT_LIMIT, MAX_LIMIT)?;
    Ok(u32::try_from(limit).unwrap_or(50))
}

fn document_id(id: &str) -> Result<i64, ApiError> {
    id.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| ApiError::not_found(format!("there is no briefing {id:?}")))
}

/// A date `YYYY-MM-DD` or a time RFC 3339, as the start of a range.
fn since(params: &Params) -> Result<Option<DateTime<Utc>>, ApiError> {
    let Some(value) = params.get("since") else {
        return Ok(None);
    };
    if let Ok(date) = NaiveDate::parse_from_str(value, "%Y-%m-%d") {
        return Ok(Some(date.and_time(NaiveTime::MIN).and_utc()));
    }
    DateTime::parse_from_rfc3339(value)
        .map(|time| Some(time.with_timezone(&Utc)))
        .map_err(|_| {
            ApiError::bad_request(format!(
                "parameter since: must be a date like 2020-07-03 or a time like 2020-07-03T08:00:00Z, not {value:?}"
            ))
        })
}

#[derive(Serialize)]
struct BriefingPage {
    briefings: Vec<BriefingSummary>,
    /// The cursor of the next page; `None` on the last.
    next: Option<String>,
}

async fn briefings(
    State(state): State<ApiState>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    let result = read(&state, move |store| {
        let params = Params::parse(raw.as_deref());
        params.only(&[
            "lang",
            "kind",
            "since",
            "until",
            "spokesperson",
            "limit",
            "cursor",
        ])?;
        let after = decode_cursor(&params, "b")?
            .map(|position| {
                let (date, id) = position.split_once('/')?;
                let date = match date {
                    "" => None,
                    date => Some(date.parse::<NaiveDate>().ok()?),
                };
                Some((date, id.parse::<i64>().ok()?))
            })
            .map(|after| {
                after.ok_or_else(|| ApiError::bad_request("parameter cursor: cannot be read"))
            })
            .transpose()?;
        let (since, until) = (params.date("since")?, params.date("until")?);
        if let (Some(since), Some(until)) = (since, until)
            && since > until
        {
            return Err(ApiError::bad_request(format!(
                "parameters since and until: since ({since}) is after until ({until})"
            )));
        }
        let limit = limit(&params)?;
        let mut briefings = store.briefing_summaries(&BriefingQuery {
            lang: params.lang()?,
            kind: params.kind()?,
            since,
            until,
            spokesperson_names: params
                .get("spokesperson")
                .map(search::spokesperson_names)
                .unwrap_or_default(),
            after,
            offset: 0,
            limit: limit + 1,
        })?;
        let next = if briefings.len() > limit as usize {
            briefings.truncate(limit as usize);
            briefings.last().map(|last| {
                let date = last.date.map(|d| d.to_string()).unwrap_or_default();
                cursor("b", &format!("{date}/{}", last.id))
            })
        } else {
            None
        };
        Ok(BriefingPage { briefings, next })
    })
    .await;
    json(result, &headers)
}

/// One revision of a briefing, with its text.
#[derive(Serialize)]
struct BriefingRecord {
    id: i64,
    url: String,
    lang: Lang,
    kind: Option<Kind>,
    date: Option<NaiveDate>,
    title: String,
    spokesperson: Option<String>,
    state: String,
    /// How many revisions the archive holds.
    revisions: i64,
    /// Which one this is (1 is the first).
    revision: i64,
    fetched_at: String,
    content_hash: String,
    published_at: Option<String>,
    opening: Vec<String>,
    exchanges: Vec<Exchange>,
}

fn archived(store: &Store, id: i64) -> Result<crate::store::Document, ApiError> {
    store
        .document(DocumentKey::Id(id))?
        .filter(|document| document.revisions > 0)
        .ok_or_else(|| ApiError::not_found(format!("there is no briefing {id}")))
}

fn revision(
    store: &Store,
    document: &crate::store::Document,
    seq: i64,
) -> Result<crate::store::Revision, ApiError> {
    store.revision(document.id, seq)?.ok_or_else(|| {
        ApiError::not_found(format!(
            "briefing {} has no revision {seq} (it has {})",
            document.id, document.revisions
        ))
    })
}

async fn briefing(
    State(state): State<ApiState>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    let result = read(&state, move |store| {
        let params = Params::parse(raw.as_deref());
        params.only(&["revision"])?;
        let id = document_id(&id)?;
        let document = archived(store, id)?;
        let seq = params.positive("revision", document.revisions, i64::MAX)?;
        let revision = revision(store, &document, seq)?;
        let briefing = revision.briefing;
        Ok(BriefingRecord {
            id,
            url: document.url,
            lang: document.lang,
            kind: document.kind,
            date: briefing.date.or(document.briefing_date),
            title: briefing.title,
            spokesperson: briefing.spokesperson,
            state: document.state,
            revisions: document.revisions,
            revision: seq,
            fetched_at: revision.meta.fetched_at,
            content_hash: revision.meta.content_hash,
            published_at: briefing.published_at.map(|at| at.to_rfc3339()),
            opening: briefing.opening,
            exchanges: briefing.exchanges,
        })
    })
    .await;
    json(result, &headers)
}

#[derive(Serialize)]
struct RevisionEntry {
    revision: i64,
    fetched_at: String,
    content_hash: String,
}

#[derive(Serialize)]
struct RevisionList {
    id: i64,
    revisions: Vec<RevisionEntry>,
}

async fn revisions(
    State(state): State<ApiState>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    let result = read(&state, move |store| {
        Params::parse(raw.as_deref()).only(&[])?;
        let id = document_id(&id)?;
        archived(store, id)?;
        let revisions = store
            .revisions(id)?
            .into_iter()
            .map(|meta| RevisionEntry {
                revision: meta.seq,
                fetched_at: meta.fetched_at,
                content_hash: meta.content_hash,
            })
            .collect();
        Ok(RevisionList { id, revisions })
    })
    .await;
    json(result, &headers)
}

#[derive(Serialize)]
struct DiffAnswer {
    id: i64,
    from: i64,
    to: i64,
    from_fetched_at: String,
    to_fetched_at: String,
    change: Change,
}

async fn diff(
    State(state): State<ApiState>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    let config = state.diff.clone();
    let result = read(&state, move |store| {
        let params = Params::parse(raw.as_deref());
        params.only(&["from", "to"])?;
        let id = document_id(&id)?;
        let document = archived(store, id)?;
        let to = params.positive("to", document.revisions, i64::MAX)?;
        let from = match params.get("from") {
            Some(_) => params.positive("from", 1, i64::MAX)?,
            None if to > 1 => to - 1,
            None => {
                return Err(ApiError::not_found(format!(
                    "briefing {id} has only {} revision(s): nothing to compare before revision {to}",
                    document.revisions
                )));
            }
        };
        let (old, new) = (
            revision(store, &document, from)?,
            revision(store, &document, to)?,
        );
        let change = diff::diff(&old.briefing, &new.briefing, &config);
        Ok(DiffAnswer {
            id,
            from,
            to,
            from_fetched_at: old.meta.fetched_at,
            to_fetched_at: new.meta.fetched_at,
            change,
        })
    })
    .await;
    json(result, &headers)
}

#[derive(Serialize)]
struct EventEntry {
    #[serde(flatten)]
    event: Event,
    document: Option<EventDocumentRef>,
}

#[derive(Serialize)]
struct EventPage {
    events: Vec<EventEntry>,
    next: Option<String>,
}

/// The kinds of event about a document, which the `type` filter names.
const EVENT_TYPES: [EventKind; 8] = [
    EventKind::New,
    EventKind::Revised,
    EventKind::ExchangeRemoved,
    EventKind::Gone,
    EventKind::SoftGone,
    EventKind::Delisted,
    EventKind::Restored,
    EventKind::Unpaired,
];

async fn events(
    State(state): State<ApiState>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    let result = read(&state, move |store| {
        let params = Params::parse(raw.as_deref());
        params.only(&["type", "since", "limit", "cursor"])?;
        let stored = store.event_types()?;
        let mut types = Vec::new();
        for value in params.all("type") {
            for name in value.split(',').map(str::trim).filter(|t| !t.is_empty()) {
                let known = EventKind::parse(name).is_some_and(|kind| EVENT_TYPES.contains(&kind));
                if !known && !stored.iter().any(|t| t == name) {
                    let names: Vec<&str> = EVENT_TYPES.iter().map(|kind| kind.as_str()).collect();
                    return Err(ApiError::bad_request(format!(
                        "parameter type: {name:?} is not an event type; the types are {}",
                        names.join(", ")
                    )));
                }
                types.push(name.to_string());
            }
        }
        let before = decode_cursor(&params, "e")?
            .map(|position| {
                position
                    .parse::<i64>()
                    .map_err(|_| ApiError::bad_request("parameter cursor: cannot be read"))
            })
            .transpose()?;
        let limit = limit(&params)?;
        let mut rows = store.events_page(&types, since(&params)?, before, limit + 1)?;
        let next = if rows.len() > limit as usize {
            rows.truncate(limit as usize);
            rows.last()
                .map(|(event, _)| cursor("e", &event.id.to_string()))
        } else {
            None
        };
        Ok(EventPage {
            events: rows
                .into_iter()
                .map(|(event, document)| EventEntry { event, document })
                .collect(),
            next,
        })
    })
    .await;
    json(result, &headers)
}

#[derive(Serialize)]
struct SearchAnswer {
    q: String,
    total: usize,
    offset: usize,
    limit: usize,
    hits: Vec<SearchHit>,
}

async fn search_hits(
    State(state): State<ApiState>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    let settings = state.settings.clone();
    let result = read(&state, move |store| {
        let params = Params::parse(raw.as_deref());
        params.only(&["q", "lang", "from", "to", "spokesperson", "limit", "offset"])?;
        let (q, query, filter) = super::search_request(&params)?;
        let limit = params.positive("limit", 20, 100)? as usize;
        let offset = match params.get("offset") {
            None => 0,
            Some(value) => value
                .parse::<usize>()
                .ok()
                .filter(|offset| *offset <= 1_000_000)
                .ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "parameter offset: must be a whole number from 0 to 1000000, not {value:?}"
                    ))
                })?,
        };
        let mut results = search::search(store.connection(), &query, &filter, offset, limit)
            .map_err(|error| match error {
                search::SearchError::Query(error) => {
                    ApiError::bad_request(format!("parameter q: {error}"))
                }
                other => ApiError::internal(&other),
            })?;
        for hit in &mut results.hits {
            hit.view = settings.url(hit.view.trim_start_matches('/'));
        }
        Ok(SearchAnswer {
            q,
            total: results.total,
            offset,
            limit,
            hits: results.hits,
        })
    })
    .await;
    json(result, &headers)
}

/// One language's transcript of the day, with its exchanges.
#[derive(Serialize)]
struct DayTranscript {
    id: i64,
    url: String,
    title: String,
    revision: i64,
    exchanges: Vec<Exchange>,
}

#[derive(Serialize)]
struct PairAnswer {
    date: NaiveDate,
    en: DayTranscript,
    zh: DayTranscript,
    /// The alignment, row by row, by exchange number.
    pairing: Pairing,
}

async fn pairs(
    State(state): State<ApiState>,
    Path(date): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    let result = read(&state, move |store| {
        Params::parse(raw.as_deref()).only(&[])?;
        let date = NaiveDate::parse_from_str(&date, "%Y-%m-%d").map_err(|_| {
            ApiError::bad_request(format!("the date must be like 2020-07-03, not {date:?}"))
        })?;
        let documents = store.documents_on(date)?;
        let transcript = |lang: Lang| -> Result<(DayTranscript, crate::model::Briefing), ApiError> {
            let document = documents
                .iter()
                .find(|d| d.lang == lang && d.kind == Some(Kind::PressConference))
                .ok_or_else(|| {
                    ApiError::not_found(format!(
                        "no {} press conference of {date} in the archive",
                        match lang {
                            Lang::En => "English",
                            Lang::Zh => "Chinese",
                        }
                    ))
                })?;
            let revision = revision(store, document, document.revisions)?;
            Ok((
                DayTranscript {
                    id: document.id,
                    url: document.url.clone(),
                    title: revision.briefing.title.clone(),
                    revision: revision.meta.seq,
                    exchanges: revision.briefing.exchanges.clone(),
                },
                revision.briefing,
            ))
        };
        let (en, en_briefing) = transcript(Lang::En)?;
        let (zh, zh_briefing) = transcript(Lang::Zh)?;
        Ok(PairAnswer {
            date,
            en,
            zh,
            pairing: diff::pair(&en_briefing, &zh_briefing),
        })
    })
    .await;
    json(result, &headers)
}
