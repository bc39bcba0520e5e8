//! What an answer amounted to: the outcome of a response (ok, gone, error page, challenge, …)
//! and, for a failure, its cause as an operator needs to hear it.

use reqwest::header::{self, HeaderMap};
use serde::{Deserialize, Serialize};
use url::Url;

use crate::model::Outcome;

/// Whether a body is a script-only challenge page (a JavaScript cookie challenge): a short page
/// that is all script and no visible text.
pub fn is_challenge(body: &[u8]) -> bool {
    if body.len() > 16 * 1024 {
        return false;
    }
    let text = String::from_utf8_lossy(body).to_ascii_lowercase();
    if !text.contains("<script") {
        return false;
    }
    let mut visible = String::new();
    let mut rest = text.as_str();
    while let Some(start) = rest.find("<script") {
        visible.push_str(&rest[..start]);
        rest = match rest[start..].find("</script>") {
            Some(end) => &rest[start + end + "</script>".len()..],
            None => "",
        };
    }
    visible.push_str(rest);
    let mut outside_tags = String::new();
    let mut in_tag = false;
    for c in visible.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag && !c.is_whitespace() => outside_tags.push(c),
            _ => {}
        }
    }
    outside_tags.chars().count() < 40
}

pub(super) fn location_is_error_page(location: &str) -> bool {
    let path = Url::parse(location)
        .map(|url| url.path().to_string())
        .unwrap_or_else(|_| location.split(['?', '#']).next().unwrap_or("").to_string());
    path.rsplit('/')
        .next()
        .is_some_and(|file| file.starts_with("error."))
}

/// Classifies a final response. Pure: status, headers and body in, outcome out.
pub fn classify(status: u16, headers: &HeaderMap, body: &[u8]) -> Outcome {
    match status {
        304 => Outcome::NotModified,
        200..=299 => {
            if is_challenge(body) {
                Outcome::Blocked
            } else if crate::site::is_soft_404_bytes(body) {
                Outcome::SoftGone
            } else {
                Outcome::Ok
            }
        }
        // Redirects that reach us were not followed: to the error page (a soft 404) or off the
        // configured hosts; either way the URL no longer serves the document.
        300..=399 => match headers.get(header::LOCATION).and_then(|v| v.to_str().ok()) {
            Some(_) => Outcome::SoftGone,
            None => Outcome::Transient,
        },
        404 | 410 => Outcome::Gone,
        412 | 521 => Outcome::Blocked,
        400..=499 if is_challenge(body) => Outcome::Blocked,
        _ => Outcome::Transient,
    }
}

/// Why a request failed, as an operator needs to hear it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    /// The name does not resolve (or only to the local network).
    Dns,
    /// Nothing listens on the port.
    ConnectionRefused,
    /// No route to the host or network.
    Unreachable,
    /// No connection within `fetch.connect_timeout`.
    Timeout,
    /// Connected, but the answer did not come within `fetch.timeout`.
    SlowAnswer,
    Tls,
    /// The connection dropped mid-answer.
    ConnectionReset,
    /// robots.txt disallows the page.
    RobotsDisallowed,
    /// robots.txt answered with a server error: nothing may be fetched until it is read.
    RobotsUnavailable,
    /// A redirect (or link) off the site's hosts and ports.
    OffSite,
    /// An HTTP error status.
    HttpError,
    /// A challenge page (412/521, script-only).
    Blocked,
    /// A page whose layout was not recognized.
    Unparseable,
    /// A body over `fetch.max_body_bytes`.
    TooLarge,
    /// An answer that breaks HTTP (a 304 to an unconditional request, a redirect without a target).
    BadAnswer,
    Other,
}

impl Cause {
    pub fn as_str(self) -> &'static str {
        match self {
            Cause::Dns => "dns",
            Cause::ConnectionRefused => "connection_refused",
            Cause::Unreachable => "unreachable",
            Cause::Timeout => "timeout",
            Cause::SlowAnswer => "slow_answer",
            Cause::Tls => "tls",
            Cause::ConnectionReset => "connection_reset",
            Cause::RobotsDisallowed => "robots_disallowed",
            Cause::RobotsUnavailable => "robots_unavailable",
            Cause::OffSite => "off_site",
            Cause::HttpError => "http_error",
            Cause::Blocked => "blocked",
            Cause::Unparseable => "unparseable",
            Cause::TooLarge => "too_large",
            Cause::BadAnswer => "bad_answer",
            Cause::Other => "other",
        }
    }

    /// A phrase for logs and `status`.
    pub fn describe(self) -> &'static str {
        match self {
            Cause::Dns => "the host cannot be reached: its name does not resolve (DNS)",
            Cause::ConnectionRefused => "the host cannot be reached: connection refused",
            Cause::Unreachable => "the host cannot be reached: no route to it",
            Cause::Timeout => "the host cannot be reached: timed out",
            Cause::SlowAnswer => "the server did not answer within fetch.timeout",
            Cause::Tls => "the host cannot be reached: TLS handshake or certificate failed",
            Cause::ConnectionReset => "the connection was cut",
            Cause::RobotsDisallowed => "refused by robots.txt",
            Cause::RobotsUnavailable => {
                "robots.txt unavailable (server error): nothing is fetched until it is read"
            }
            Cause::OffSite => "refused: off the site",
            Cause::HttpError => "the server answered with an error",
            Cause::Blocked => "the host answers with a challenge",
            Cause::Unparseable => "the page was not understood",
            Cause::TooLarge => "the page is larger than fetch.max_body_bytes",
            Cause::BadAnswer => "the server broke HTTP",
            Cause::Other => "failed",
        }
    }

    /// A network failure: the host was not reached at all (an outage, not an answer).
    pub fn is_unreachable(self) -> bool {
        matches!(
            self,
            Cause::Dns
                | Cause::ConnectionRefused
                | Cause::Unreachable
                | Cause::Timeout
                | Cause::Tls
        )
    }
}

/// The cause of a logged failure, from its outcome, status and error text.
pub fn failure_cause(outcome: &str, status: Option<u16>, error: Option<&str>) -> Cause {
    let text = error.unwrap_or("").to_ascii_lowercase();
    let has = |needles: &[&str]| needles.iter().any(|needle| text.contains(needle));
    if outcome == Outcome::Disallowed.as_str() || has(&["robots.txt disallows"]) {
        Cause::RobotsDisallowed
    } else if has(&["robots.txt unavailable"]) {
        Cause::RobotsUnavailable
    } else if outcome == Outcome::Blocked.as_str() {
        Cause::Blocked
    } else if outcome == Outcome::Unparseable.as_str() {
        Cause::Unparseable
    } else if has(&["off the site"]) {
        Cause::OffSite
    } else if has(&[
        "dns error",
        "failed to lookup address",
        "name or service not known",
        "no address associated",
        "name resolution",
    ]) {
        Cause::Dns
    } else if has(&["connection refused"]) {
        Cause::ConnectionRefused
    } else if has(&[
        "no route to host",
        "network is unreachable",
        "host is unreachable",
    ]) {
        Cause::Unreachable
    } else if has(&["timed out", "timeout", "deadline has elapsed"]) {
        if has(&["connect", "cannot be reached"]) {
            Cause::Timeout
        } else {
            Cause::SlowAnswer
        }
    } else if has(&["certificate", "tls", "handshake"]) {
        Cause::Tls
    } else if has(&["exceeds the cap"]) {
        Cause::TooLarge
    } else if has(&["without validators", "redirect without"]) {
        Cause::BadAnswer
    } else if has(&[
        "connection reset",
        "connection closed",
        "broken pipe",
        "cut short",
        "unexpected eof",
        "incomplete",
    ]) {
        Cause::ConnectionReset
    } else if status.is_some() {
        Cause::HttpError
    } else {
        Cause::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{self, HeaderValue};

    const ARTICLE: &[u8] = b"<html><body><div class=content><p>CCTV: A question?</p><p>Zhao Lijian: An answer that is long enough to be visible text.</p></div></body></html>";
    const CHALLENGE: &[u8] = b"<html><script>var x={};document.cookie='__jsl_clearance=1';location.href=location.href</script></html>";

    #[test]
    fn classify_covers_every_outcome() {
        let none = HeaderMap::new();
        assert_eq!(classify(200, &none, ARTICLE), Outcome::Ok);
        assert_eq!(classify(304, &none, b""), Outcome::NotModified);
        assert_eq!(classify(404, &none, b"not found"), Outcome::Gone);
        assert_eq!(classify(410, &none, b""), Outcome::Gone);
        let mut to_error = HeaderMap::new();
        to_error.insert(
            header::LOCATION,
            HeaderValue::from_static("https://www.fmprc.gov.cn/error.htm"),
        );
        assert_eq!(classify(302, &to_error, b""), Outcome::SoftGone);
        let error_page = "<html><body>对不起，我们没有找到您要的网页</body></html>";
        assert_eq!(
            classify(200, &none, error_page.as_bytes()),
            Outcome::SoftGone
        );
        assert_eq!(classify(412, &none, CHALLENGE), Outcome::Blocked);
        assert_eq!(classify(521, &none, b""), Outcome::Blocked);
        assert_eq!(classify(200, &none, CHALLENGE), Outcome::Blocked);
        assert_eq!(classify(403, &none, CHALLENGE), Outcome::Blocked);
        assert_eq!(classify(500, &none, b"oops"), Outcome::Transient);
        assert_eq!(classify(503, &none, b""), Outcome::Transient);
        assert_eq!(classify(429, &none, b""), Outcome::Transient);
    }

    #[test]
    fn a_real_page_with_scripts_is_not_a_challenge() {
        let page = [
            b"<html><script>var countPage = 13;</script>".as_slice(),
            ARTICLE,
        ]
        .concat();
        assert!(!is_challenge(&page));
        assert!(!is_challenge(b"plain text"));
    }

    #[test]
    fn failures_are_told_by_their_cause() {
        let cause = |outcome, status, error: &str| failure_cause(outcome, status, Some(error));
        assert_eq!(
            cause(
                "transient",
                None,
                "error sending request for url (http://127.0.0.1:9/): client error (Connect): tcp connect error: Connection refused (os error 111)"
            ),
            Cause::ConnectionRefused
        );
        assert_eq!(
            cause(
                "transient",
                None,
                "client error (Connect): dns error: failed to lookup address information: Name or service not known"
            ),
            Cause::Dns
        );
        assert_eq!(
            cause(
                "transient",
                None,
                "client error (Connect): operation timed out"
            ),
            Cause::Timeout
        );
        assert_eq!(
            cause("transient", None, "operation timed out"),
            Cause::SlowAnswer
        );
        assert!(!Cause::SlowAnswer.is_unreachable());
        assert_eq!(
            cause("transient", None, "invalid peer certificate: UnknownIssuer"),
            Cause::Tls
        );
        assert_eq!(
            cause("transient", Some(503), "HTTP 503 Service Unavailable"),
            Cause::HttpError
        );
        assert_eq!(
            cause("disallowed", None, "robots.txt disallows this page"),
            Cause::RobotsDisallowed
        );
        assert_eq!(
            cause("blocked", Some(412), "challenge (412)"),
            Cause::Blocked
        );
        assert!(
            Cause::ConnectionRefused
                .describe()
                .contains("cannot be reached")
        );
        assert!(!Cause::RobotsDisallowed.describe().contains("reached"));
    }
}
