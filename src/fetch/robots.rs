//! What robots.txt says, following RFC 9309.

/// What robots.txt says about a host.
#[derive(Debug)]
pub enum RobotsRules {
    /// No usable robots.txt (4xx, or an HTML page instead of rules): everything allowed.
    AllowAll,
    /// robots.txt unreachable (5xx, network failure): nothing may be fetched until it is read.
    Unreachable,
    Rules(Box<texting_robots::Robot>),
}

impl RobotsRules {
    /// Rules from a robots.txt answer, as RFC 9309 asks: 2xx rules apply, 4xx allows everything,
    /// 5xx or no answer disallows everything. The ministry answers with a redirect to an HTML error
    /// page; that is no rules at all.
    pub fn from_response(status: Option<u16>, body: &[u8], agent: &str) -> RobotsRules {
        match status {
            Some(200..=299) => {
                let head =
                    String::from_utf8_lossy(&body[..body.len().min(512)]).to_ascii_lowercase();
                if head.contains("<html") || head.contains("<!doctype") {
                    return RobotsRules::AllowAll;
                }
                match texting_robots::Robot::new(agent, body) {
                    Ok(robot) => RobotsRules::Rules(Box::new(robot)),
                    Err(_) => RobotsRules::AllowAll,
                }
            }
            Some(300..=499) => RobotsRules::AllowAll,
            _ => RobotsRules::Unreachable,
        }
    }

    pub fn allows(&self, url: &str) -> bool {
        match self {
            RobotsRules::AllowAll => true,
            RobotsRules::Unreachable => false,
            RobotsRules::Rules(robot) => robot.allowed(url),
        }
    }
}

/// What robots.txt says about one URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RobotsVerdict {
    Allowed,
    /// The rules forbid it.
    Disallowed,
    /// robots.txt could not be read (a server error): nothing may be fetched meanwhile.
    Unavailable,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn robots_follow_rfc_9309() {
        let rules = "User-agent: *\nDisallow: /private/\n";
        let robots = RobotsRules::from_response(Some(200), rules.as_bytes(), "briefwatch");
        assert!(robots.allows("https://h/public/a.html"));
        assert!(!robots.allows("https://h/private/a.html"));
        assert!(
            RobotsRules::from_response(Some(404), b"", "briefwatch").allows("https://h/private/")
        );
        // The ministry: a redirect to the error page, or that page itself.
        assert!(RobotsRules::from_response(Some(302), b"", "briefwatch").allows("https://h/x"));
        let html = b"<!DOCTYPE HTML PUBLIC><html><title>302 Found</title></html>";
        assert!(RobotsRules::from_response(Some(200), html, "briefwatch").allows("https://h/x"));
        assert!(!RobotsRules::from_response(Some(503), b"", "briefwatch").allows("https://h/x"));
        assert!(!RobotsRules::from_response(None, b"", "briefwatch").allows("https://h/x"));
    }
}
