//! Query-string parameters of the pages, checked one by one so that a 400 page can say exactly
//! which parameter is wrong and why.

use chrono::NaiveDate;

use crate::model::{Kind, Lang};

/// A parameter that cannot be used; shown on the 400 page.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("parameter {name}: {message}")]
pub struct ParamError {
    pub name: String,
    pub message: String,
}

fn bad(name: &str, message: impl Into<String>) -> ParamError {
    ParamError {
        name: name.to_string(),
        message: message.into(),
    }
}

/// The decoded pairs of a query string, in order.
#[derive(Debug, Clone, Default)]
pub struct Params(Vec<(String, String)>);

impl Params {
    pub fn parse(raw: Option<&str>) -> Params {
        Params(
            url::form_urlencoded::parse(raw.unwrap_or("").as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// The value of `name`, blank values counting as absent (an empty `<select>` choice).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }

    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
            .collect()
    }

    /// Rejects parameters the page does not know, so a typo is not silently ignored.
    pub fn only(&self, known: &[&str]) -> Result<(), ParamError> {
        match self.0.iter().find(|(k, _)| !known.contains(&k.as_str())) {
            Some((name, _)) => Err(bad(
                name,
                format!("unknown parameter; this page takes {}", known.join(", ")),
            )),
            None => Ok(()),
        }
    }

    pub fn lang(&self) -> Result<Option<Lang>, ParamError> {
        self.get("lang")
            .map(|v| {
                Lang::parse(v).ok_or_else(|| bad("lang", format!("must be en or zh, not {v:?}")))
            })
            .transpose()
    }

    pub fn kind(&self) -> Result<Option<Kind>, ParamError> {
        self.get("kind")
            .map(|v| {
                Kind::parse(v).ok_or_else(|| {
                    bad(
                        "kind",
                        format!(
                            "must be one of press_conference, remarks, qa, statement, other, not {v:?}"
                        ),
                    )
                })
            })
            .transpose()
    }

    pub fn date(&self, name: &str) -> Result<Option<NaiveDate>, ParamError> {
        self.get(name)
            .map(|v| {
                NaiveDate::parse_from_str(v, "%Y-%m-%d")
                    .map_err(|_| bad(name, format!("must be a date like 2020-07-03, not {v:?}")))
            })
            .transpose()
    }

    /// A month `YYYY-MM`.
    pub fn month(&self, name: &str) -> Result<Option<String>, ParamError> {
        self.get(name)
            .map(|v| {
                NaiveDate::parse_from_str(&format!("{v}-01"), "%Y-%m-%d")
                    .ok()
                    .filter(|_| v.len() == 7)
                    .map(|_| v.to_string())
                    .ok_or_else(|| bad(name, format!("must be a month like 2020-07, not {v:?}")))
            })
            .transpose()
    }

    /// A positive whole number, `default` when absent.
    pub fn positive(&self, name: &str, default: i64, max: i64) -> Result<i64, ParamError> {
        match self.get(name) {
            None => Ok(default),
            Some(v) => match v.parse::<i64>() {
                Ok(n) if (1..=max).contains(&n) => Ok(n),
                _ => Err(bad(
                    name,
                    format!("must be a whole number from 1 to {max}, not {v:?}"),
                )),
            },
        }
    }

    pub fn required_positive(&self, name: &str, max: i64) -> Result<i64, ParamError> {
        if self.get(name).is_none() {
            return Err(bad(name, "is required (a revision number such as 1)"));
        }
        self.positive(name, 1, max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_checked_and_errors_name_the_parameter() {
        let p = Params::parse(Some(
            "lang=fr&from=2020-13-01&month=2020-7&page=0&kind=&q=a%20b",
        ));
        assert_eq!(p.lang().unwrap_err().name, "lang");
        assert!(
            p.lang()
                .unwrap_err()
                .to_string()
                .contains("must be en or zh")
        );
        assert!(p.date("from").unwrap_err().message.contains("2020-07-03"));
        assert_eq!(p.month("month").unwrap_err().name, "month");
        assert_eq!(p.positive("page", 1, 100).unwrap_err().name, "page");
        assert_eq!(p.kind().unwrap(), None);
        assert_eq!(p.get("q"), Some("a b"));
        assert_eq!(p.only(&["lang"]).unwrap_err().name, "from");
        let ok = Params::parse(Some("lang=zh&month=2020-07&page=3"));
        assert_eq!(ok.lang().unwrap(), Some(Lang::Zh));
        assert_eq!(ok.month("month").unwrap().as_deref(), Some("2020-07"));
        assert_eq!(ok.positive("page", 1, 100).unwrap(), 3);
    }
}
