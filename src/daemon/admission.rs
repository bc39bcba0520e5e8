//! Which items of a listing page the engine follows: links off the site are refused, known items
//! kept, and new ones admitted within the cycle's budget. Pure: no I/O.

use std::collections::HashSet;

use url::Url;

use crate::fetch::{Refusal, SiteOrigins};
use crate::model::ListingItem;

/// Which items of a listing page are followed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Admission {
    /// Items followed, in listing order: those already known, and new ones within the budget.
    pub kept: Vec<ListingItem>,
    /// Links refused by the site's fence, with why.
    pub off_site: Vec<(String, Refusal)>,
    /// New items over the budget, left for the next cycle.
    pub deferred: usize,
    /// New items admitted.
    pub admitted: usize,
}

/// Sorts a listing page's items: links off the site are dropped, known items kept, and new ones
/// admitted up to `budget`. Pure: the fence, the known URLs and the budget are passed in.
pub fn admit_items(
    items: &[ListingItem],
    origins: &SiteOrigins,
    known: &HashSet<String>,
    budget: usize,
) -> Admission {
    let mut admission = Admission::default();
    let mut seen = HashSet::new();
    for item in items {
        let checked = Url::parse(&item.url)
            .map_err(|_| Refusal::Scheme)
            .and_then(|url| origins.check(&url));
        if let Err(refusal) = checked {
            admission.off_site.push((item.url.clone(), refusal));
            continue;
        }
        if !seen.insert(item.url.as_str()) {
            continue;
        }
        if known.contains(&item.url) {
            admission.kept.push(item.clone());
        } else if admission.admitted < budget {
            admission.admitted += 1;
            admission.kept.push(item.clone());
        } else {
            admission.deferred += 1;
        }
    }
    admission
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listing_items_are_fenced_and_budgeted() {
        let site = Url::parse("http://127.0.0.1:8080/list/").unwrap();
        let origins = SiteOrigins::new([&site], &["www.site.invalid".to_string()]);
        let item = |url: &str| ListingItem {
            url: url.to_string(),
            title: String::new(),
            date: None,
        };
        let items = vec![
            item("http://127.0.0.1:8080/a.html"),
            item("http://127.0.0.1:8081/other-port.html"),
            item("http://127.0.0.2:8080/other-loopback.html"),
            item("file:///etc/passwd"),
            item("javascript:alert(1)"),
            item("data:text/html,x"),
            item("https://www.site.invalid/b.html"),
            item("http://www.site.invalid:8443/c.html"),
            item("http://127.0.0.1:8080/known.html"),
            item("http://127.0.0.1:8080/d.html"),
        ];
        let known: HashSet<String> = ["http://127.0.0.1:8080/known.html".to_string()].into();
        let admission = admit_items(&items, &origins, &known, 2);
        let kept: Vec<&str> = admission.kept.iter().map(|i| i.url.as_str()).collect();
        assert_eq!(
            kept,
            [
                "http://127.0.0.1:8080/a.html",
                "https://www.site.invalid/b.html",
                "http://127.0.0.1:8080/known.html"
            ]
        );
        assert_eq!(admission.off_site.len(), 6);
        assert_eq!(admission.deferred, 1);
        assert_eq!(admission.admitted, 2);
    }
}
