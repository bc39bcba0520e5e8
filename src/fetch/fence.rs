//! The fence around the site: which schemes, hosts, ports and addresses may be asked.

use std::collections::BTreeSet;
use std::net::{IpAddr, SocketAddr};

use url::Url;

use crate::config::Config;

/// One allowed host and port: `host` alone stands for the scheme's default port (80 or 443).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Origin {
    pub host: String,
    /// `None`: the default port of http or https.
    pub port: Option<u16>,
}

impl Origin {
    /// `host` or `host:port` (a bracketed IPv6 literal for IPv6).
    pub fn parse(text: &str) -> Option<Origin> {
        let url = Url::parse(&format!("http://{}/", text.trim())).ok()?;
        if url.path() != "/" || !url.username().is_empty() || url.query().is_some() {
            return None;
        }
        Some(Origin {
            host: url.host_str()?.to_ascii_lowercase(),
            port: url.port(),
        })
    }

    fn of(url: &Url) -> Option<Origin> {
        Some(Origin {
            host: url.host_str()?.to_ascii_lowercase(),
            port: url.port(),
        })
    }
}

/// Where requests may go: `http`/`https` on a host and port of the sources or of
/// `fetch.redirect_hosts`. Addresses of the machine's own networks (loopback, private,
/// link-local) are refused unless a source's own host is one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SiteOrigins {
    origins: BTreeSet<Origin>,
    allow_local: bool,
}

/// Why a URL is not fetched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Not `http` or `https` (`file:`, `data:`, `javascript:`, `mailto:` …).
    Scheme,
    /// A host or port that is not one of the site's.
    OffSite,
    /// An address of the machine's own networks.
    LocalAddress,
}

impl Refusal {
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::Scheme => "not an http(s) URL",
            Refusal::OffSite => "not a host and port of the sources or fetch.redirect_hosts",
            Refusal::LocalAddress => "an address of the local network",
        }
    }
}

impl SiteOrigins {
    /// The hosts and ports of the configured sources and of `fetch.redirect_hosts`.
    pub fn of(config: &Config) -> SiteOrigins {
        SiteOrigins::new(
            config.sources.iter().map(|source| &source.listing_url),
            &config.fetch.redirect_hosts,
        )
    }

    pub fn new<'a>(
        sources: impl IntoIterator<Item = &'a Url>,
        redirect_hosts: &[String],
    ) -> SiteOrigins {
        let mut origins = BTreeSet::new();
        let mut allow_local = false;
        for url in sources {
            if let Some(origin) = Origin::of(url) {
                allow_local |= host_is_local(&origin.host);
                origins.insert(origin);
            }
        }
        origins.extend(redirect_hosts.iter().filter_map(|text| Origin::parse(text)));
        SiteOrigins {
            origins,
            allow_local,
        }
    }

    /// Whether the site's own fence lets this URL through; `Err` says why not.
    pub fn check(&self, url: &Url) -> Result<(), Refusal> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Refusal::Scheme);
        }
        let Some(origin) = Origin::of(url) else {
            return Err(Refusal::Scheme);
        };
        if !self.allow_local && host_is_local(&origin.host) {
            return Err(Refusal::LocalAddress);
        }
        if self.origins.contains(&origin) {
            Ok(())
        } else {
            Err(Refusal::OffSite)
        }
    }

    pub fn allows(&self, url: &str) -> bool {
        Url::parse(url).is_ok_and(|url| self.check(&url).is_ok())
    }

    /// Whether addresses of the machine's own networks may be reached (a source points there).
    pub fn allow_local(&self) -> bool {
        self.allow_local
    }
}

/// Whether a host name is an address literal of the machine's own networks, or `localhost`.
fn host_is_local(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    match bare.parse::<IpAddr>() {
        Ok(ip) => is_local_address(ip),
        Err(_) => bare == "localhost" || bare.ends_with(".localhost"),
    }
}

/// Loopback, private (RFC 1918, unique local), link-local, shared (RFC 6598), unspecified and
/// broadcast addresses: never the ministry's.
pub fn is_local_address(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || (a == 100 && (b & 0xc0) == 64)
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || v6
                    .to_ipv4_mapped()
                    .is_some_and(|v4| is_local_address(IpAddr::V4(v4)))
        }
    }
}

/// Resolves names as the system does, then drops addresses of the machine's own networks unless
/// a source points there, so that a name of the site cannot lead a request inside.
pub(super) struct SiteResolver {
    pub(super) allow_local: bool,
}

impl reqwest::dns::Resolve for SiteResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow_local = self.allow_local;
        let host = name.as_str().to_string();
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await
                .map_err(|error| format!("dns error: cannot resolve {host}: {error}"))?
                .collect();
            let kept: Vec<SocketAddr> = found
                .iter()
                .copied()
                .filter(|addr| allow_local || !is_local_address(addr.ip()))
                .collect();
            if kept.is_empty() {
                let message = if found.is_empty() {
                    format!("dns error: {host} has no address")
                } else {
                    format!(
                        "dns error: {host} resolves only to addresses of the local network; refused"
                    )
                };
                return Err(message.into());
            }
            Ok(Box::new(kept.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fetch::{Cause, failure_cause};

    #[test]
    fn the_fence_admits_only_the_sites_hosts_and_ports() {
        let source = Url::parse("http://127.0.0.1:8080/list/").unwrap();
        let origins = SiteOrigins::new([&source], &["www.site.invalid".to_string()]);
        let check = |url: &str| origins.check(&Url::parse(url).unwrap());
        assert_eq!(check("http://127.0.0.1:8080/a"), Ok(()));
        assert_eq!(check("http://127.0.0.1:8081/a"), Err(Refusal::OffSite));
        assert_eq!(check("http://127.0.0.2:8080/a"), Err(Refusal::OffSite));
        assert_eq!(check("http://[::1]:8080/a"), Err(Refusal::OffSite));
        assert_eq!(check("https://www.site.invalid/a"), Ok(()));
        assert_eq!(check("http://www.site.invalid/a"), Ok(()));
        assert_eq!(check("http://www.site.invalid:81/a"), Err(Refusal::OffSite));
        assert_eq!(check("ftp://www.site.invalid/a"), Err(Refusal::Scheme));
        assert_eq!(check("file:///etc/passwd"), Err(Refusal::Scheme));
        // A site on the internet never reaches loopback, even when configured to redirect there.
        let public = Url::parse("https://www.site.invalid/list/").unwrap();
        let fenced = SiteOrigins::new(
            [&public],
            &["127.0.0.1:8080".to_string(), "localhost".to_string()],
        );
        assert!(!fenced.allow_local());
        assert_eq!(
            fenced.check(&Url::parse("http://127.0.0.1:8080/a").unwrap()),
            Err(Refusal::LocalAddress)
        );
        assert_eq!(
            fenced.check(&Url::parse("http://localhost/a").unwrap()),
            Err(Refusal::LocalAddress)
        );
        assert!(origins.allow_local());
        assert!(is_local_address("127.0.0.2".parse().unwrap()));
        assert!(is_local_address("::1".parse().unwrap()));
        assert!(is_local_address("::ffff:127.0.0.1".parse().unwrap()));
        assert_eq!(Origin::parse("host.invalid:8443").unwrap().port, Some(8443));
        assert_eq!(Origin::parse("host.invalid/path"), None);
    }

    #[tokio::test]
    async fn names_that_resolve_inside_are_refused_unless_a_source_is_inside() {
        use reqwest::dns::Resolve;
        let fenced = SiteResolver { allow_local: false };
        let error = fenced
            .resolve("localhost".parse().unwrap())
            .await
            .err()
            .expect("localhost refused");
        assert!(error.to_string().contains("local network"), "{error}");
        let open = SiteResolver { allow_local: true };
        let addrs: Vec<SocketAddr> = open
            .resolve("localhost".parse().unwrap())
            .await
            .expect("localhost allowed")
            .collect();
        assert!(addrs.iter().all(|a| a.ip().is_loopback()));
        let missing = fenced.resolve("nowhere.invalid".parse().unwrap()).await;
        let error = missing.err().expect(".invalid never resolves").to_string();
        assert_eq!(
            failure_cause("transient", None, Some(&error)),
            Cause::Dns,
            "{error}"
        );
    }
}
