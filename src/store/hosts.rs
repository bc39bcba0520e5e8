//! The `hosts` table: each host's robots.txt answer and whether it blocks us, until when.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

use super::events::insert_event;
use super::{
    Result, Store, execute_cached, format_time, parse_time, query_all, query_row_cached, sql,
};
use crate::model::EventKind;

/// Per-host robots.txt and block state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostState {
    pub robots_status: Option<u16>,
    pub robots_body: Option<Vec<u8>>,
    pub robots_fetched_at: Option<DateTime<Utc>>,
    pub blocked_until: Option<DateTime<Utc>>,
}

impl Store {
    /// Sets or lifts a host's block. Returns true when the host was not blocked before, so the
    /// caller reports a block once.
    pub fn set_host_blocked(
        &mut self,
        host: &str,
        until: Option<DateTime<Utc>>,
        url: &str,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let tx = self.begin()?;
        let previous: Option<Option<String>> = query_row_cached(
            &tx,
            "SELECT blocked_until FROM hosts WHERE host = ?1",
            [host],
            |row| row.get(0),
        )
        .optional()
        .map_err(sql("reading a host"))?;
        let was_blocked = previous
            .flatten()
            .and_then(|text| parse_time(&text))
            .is_some_and(|until| until > now);
        execute_cached(
            &tx,
            "INSERT INTO hosts (host, blocked_until, blocked_url) VALUES (?1, ?2, ?3)
             ON CONFLICT(host) DO UPDATE SET blocked_until = ?2, blocked_url = ?3",
            params![host, until.map(format_time), url],
        )
        .map_err(sql("writing a host"))?;
        let newly = until.is_some() && !was_blocked;
        if newly {
            let payload =
                serde_json::json!({ "host": host, "url": url, "until": until.map(format_time) });
            insert_event(&tx, None, None, EventKind::Blocked, now, &payload)?;
        }
        tx.commit().map_err(sql("committing a host"))?;
        Ok(newly)
    }

    /// Stores a host's robots.txt answer.
    pub fn set_robots(
        &mut self,
        host: &str,
        status: Option<u16>,
        body: Option<&[u8]>,
        fetched_at: DateTime<Utc>,
    ) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO hosts (host, robots_status, robots_body, robots_fetched_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT(host) DO UPDATE SET robots_status = ?2, robots_body = ?3, robots_fetched_at = ?4",
                params![host, status, body, format_time(fetched_at)],
            )
            .map_err(sql("writing robots.txt"))?;
        Ok(())
    }

    pub fn host_state(&self, host: &str) -> Result<HostState> {
        let state = query_row_cached(
            &self.conn,
            "SELECT robots_status, robots_body, robots_fetched_at, blocked_until FROM hosts WHERE host = ?1",
            [host],
            |row| {
                Ok(HostState {
                    robots_status: row.get(0)?,
                    robots_body: row.get(1)?,
                    robots_fetched_at: row.get::<_, Option<String>>(2)?.and_then(|t| parse_time(&t)),
                    blocked_until: row.get::<_, Option<String>>(3)?.and_then(|t| parse_time(&t)),
                })
            },
        )
        .optional()
        .map_err(sql("reading a host"))?;
        Ok(state.unwrap_or_default())
    }

    /// Blocked hosts and until when, for `status`.
    pub fn blocked_hosts(&self, now: DateTime<Utc>) -> Result<Vec<(String, String)>> {
        query_all(
            &self.conn,
            "SELECT host, blocked_until FROM hosts WHERE blocked_until > ?1 ORDER BY host",
            [format_time(now)],
            |row| Ok((row.get(0)?, row.get(1)?)),
            "reading blocked hosts",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(hour: u32) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(&format!("2020-07-04T{hour:02}:00:00Z"))
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn blocked_host_is_reported_once() {
        let mut store = Store::open_in_memory().unwrap();
        let until = at(9);
        assert!(
            store
                .set_host_blocked("h", Some(until), "http://h/a", at(1))
                .unwrap()
        );
        assert!(
            !store
                .set_host_blocked("h", Some(until), "http://h/b", at(2))
                .unwrap()
        );
        let kinds: Vec<String> = store
            .events(&crate::store::EventQuery {
                limit: 10,
                ..Default::default()
            })
            .unwrap()
            .into_iter()
            .map(|event| event.kind.as_str().to_string())
            .collect();
        assert_eq!(kinds, ["blocked"]);
        assert_eq!(store.host_state("h").unwrap().blocked_until, Some(until));
        assert_eq!(store.blocked_hosts(at(2)).unwrap().len(), 1);
        assert!(store.blocked_hosts(at(10)).unwrap().is_empty());
    }
}
