//! The fetch client against the loopback site: outcomes, retries, validators, redirects, robots.

use std::time::Duration;

use briefwatch::config::FetchConfig;
use briefwatch::fetch::{Fetcher, Outcome, SiteOrigins, Validators};

use crate::support::{EN_ARTICLE, Fault, SiteServer, fixture_site};

fn fetcher(site: &SiteServer) -> Fetcher {
    let config = FetchConfig {
        contact: "mailto:tests@example.org".into(),
        min_request_interval: Duration::ZERO,
        connect_timeout: Duration::from_secs(2),
        timeout: Duration::from_millis(800),
        max_attempts: 3,
        backoff_base: Duration::from_millis(10),
        backoff_max: Duration::from_millis(200),
        ..FetchConfig::default()
    };
    Fetcher::new(&config, origins(site)).unwrap()
}

/// The loopback site's host and port: the only place the fetcher may go.
fn origins(site: &SiteServer) -> SiteOrigins {
    SiteOrigins::new([&url::Url::parse(&site.url("/")).unwrap()], &[])
}

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}

#[test]
fn ok_then_not_modified_with_validators() {
    let site = SiteServer::start(fixture_site());
    let fetcher = fetcher(&site);
    let url = site.url(EN_ARTICLE);
    let first = block_on(fetcher.get(&url, &Validators::default()));
    assert_eq!(first.outcome, Outcome::Ok, "{first:?}");
    assert_eq!(first.body, site.page(EN_ARTICLE));
    assert!(first.text().contains("Zhao Lijian"));
    assert!(first.validators.etag.is_some() && first.validators.last_modified.is_some());
    let second = block_on(fetcher.get(&url, &first.validators));
    assert_eq!(second.outcome, Outcome::NotModified);
    let seen = site.seen();
    assert!(seen[1].conditional);
    let agent = seen[0].user_agent.as_deref().unwrap();
    assert!(
        agent.starts_with("briefwatch/") && agent.ends_with("(+mailto:tests@example.org)"),
        "{agent}"
    );
}

#[test]
fn transient_faults_are_retried_within_the_cycle() {
    let site = SiteServer::start(fixture_site());
    let fetcher = fetcher(&site);
    let url = site.url(EN_ARTICLE);
    for fault in [
        Fault::Status(500),
        Fault::Reset,
        Fault::Truncate,
        Fault::Hang(Duration::from_secs(2)),
    ] {
        site.clear_seen();
        site.fault(EN_ARTICLE, fault.clone(), 1);
        let fetched = block_on(fetcher.get(&url, &Validators::default()));
        assert_eq!(fetched.outcome, Outcome::Ok, "after {fault:?}: {fetched:?}");
        assert_eq!(fetched.attempts, 2, "after {fault:?}");
        assert_eq!(fetched.body, site.page(EN_ARTICLE), "after {fault:?}");
    }
}

#[test]
fn persistent_failure_is_transient_with_its_error() {
    let site = SiteServer::start(fixture_site());
    let fetcher = fetcher(&site);
    site.fault(EN_ARTICLE, Fault::Truncate, 3);
    let fetched = block_on(fetcher.get(&site.url(EN_ARTICLE), &Validators::default()));
    assert_eq!((fetched.outcome, fetched.attempts), (Outcome::Transient, 3));
    assert!(fetched.body.is_empty());
    assert!(
        fetched.error.as_deref().unwrap().contains("cut short"),
        "{:?}",
        fetched.error
    );
}

#[test]
fn long_retry_after_ends_the_attempts_and_is_reported() {
    let site = SiteServer::start(fixture_site());
    let fetcher = fetcher(&site);
    site.fault(EN_ARTICLE, Fault::RetryAfter(3600), 1);
    let fetched = block_on(fetcher.get(&site.url(EN_ARTICLE), &Validators::default()));
    assert_eq!((fetched.outcome, fetched.attempts), (Outcome::Transient, 1));
    assert_eq!(fetched.retry_after, Some(Duration::from_secs(3600)));
    // A short one is simply waited out.
    site.fault(EN_ARTICLE, Fault::RetryAfter(0), 1);
    let fetched = block_on(fetcher.get(&site.url(EN_ARTICLE), &Validators::default()));
    assert_eq!((fetched.outcome, fetched.attempts), (Outcome::Ok, 2));
}

#[test]
fn soft_404_challenge_and_gone_are_told_apart() {
    let site = SiteServer::start(fixture_site());
    let fetcher = fetcher(&site);
    let url = site.url(EN_ARTICLE);
    site.fault(EN_ARTICLE, Fault::RedirectToErrorPage, 1);
    let redirected = block_on(fetcher.get(&url, &Validators::default()));
    assert_eq!(
        (redirected.outcome, redirected.status),
        (Outcome::SoftGone, Some(302))
    );
    site.fault(EN_ARTICLE, Fault::ErrorPage, 1);
    assert_eq!(
        block_on(fetcher.get(&url, &Validators::default())).outcome,
        Outcome::SoftGone
    );
    site.fault(EN_ARTICLE, Fault::Challenge, 1);
    let blocked = block_on(fetcher.get(&url, &Validators::default()));
    assert_eq!((blocked.outcome, blocked.attempts), (Outcome::Blocked, 1));
    site.remove_page(EN_ARTICLE);
    assert_eq!(
        block_on(fetcher.get(&url, &Validators::default())).outcome,
        Outcome::Gone
    );
    // The error page itself was never requested: the redirect was not followed.
    assert!(site.seen().iter().all(|seen| seen.path != "/error.htm"));
}

#[test]
fn robots_redirect_to_the_error_page_allows_everything() {
    let site = SiteServer::start(fixture_site());
    let fetcher = fetcher(&site);
    let base = url::Url::parse(&site.url("/")).unwrap();
    let robots = block_on(fetcher.fetch_robots(&base));
    assert_eq!(robots.status, Some(302));
    let host = base.host_str().unwrap();
    fetcher.set_robots(host, robots.status, &robots.body);
    assert_eq!(fetcher.robots_allows(&site.url(EN_ARTICLE)), Some(true));
    fetcher.set_robots(host, Some(200), b"User-agent: *\nDisallow: /mfa_eng/\n");
    assert_eq!(fetcher.robots_allows(&site.url(EN_ARTICLE)), Some(false));
    fetcher.set_robots(host, Some(503), b"");
    assert_eq!(fetcher.robots_allows(&site.url(EN_ARTICLE)), Some(false));
}

#[test]
fn pacing_spaces_requests_to_one_host() {
    let site = SiteServer::start(fixture_site());
    let config = FetchConfig {
        contact: "mailto:tests@example.org".into(),
        min_request_interval: Duration::from_millis(150),
        ..FetchConfig::default()
    };
    let fetcher = Fetcher::new(&config, origins(&site)).unwrap();
    let url = site.url(EN_ARTICLE);
    let started = std::time::Instant::now();
    block_on(async {
        for _ in 0..3 {
            fetcher.get(&url, &Validators::default()).await;
        }
    });
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "{:?}",
        started.elapsed()
    );
}
