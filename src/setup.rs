//! A configuration made ready for use: read by [`crate::config`], then checked by the stages it
//! configures (alert terms compile, site profiles exist and their selectors parse, the limits of
//! the mail sender, diff, feeds and server hold, redirect hosts parse).
//!
//! `config` holds plain data and knows none of the stages; this module sits above both, so that
//! every error still names the key it is about.

use std::path::Path;

use crate::config::{Config, ConfigError};

/// Reads, parses and checks a configuration file: the data's own rules, then every stage's.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let config = Config::read(path)?;
    check_stages(&config, &path.display().to_string())?;
    Ok(config)
}

/// Every rule a configuration must satisfy: [`Config::validate`], then what the stages check.
pub fn validate(config: &Config, origin: &str) -> Result<(), ConfigError> {
    config.validate(origin)?;
    check_stages(config, origin)
}

/// What only the stages can tell about a configuration whose own rules hold.
fn check_stages(config: &Config, origin: &str) -> Result<(), ConfigError> {
    let invalid = |key: String, message: String| ConfigError::Invalid {
        origin: origin.to_string(),
        key,
        message,
    };
    for (index, entry) in config.fetch.redirect_hosts.iter().enumerate() {
        if crate::fetch::Origin::parse(entry).is_none() {
            return Err(invalid(
                format!("fetch.redirect_hosts[{index}]"),
                format!("{entry:?} is not a host name or `host:port`"),
            ));
        }
    }
    if let Err(error) = crate::alert::RuleSet::compile(&config.alerts) {
        return Err(invalid("alert".into(), error.to_string()));
    }
    // Rules without [smtp] are valid: `alerts test` and the keyword feeds use them; only mail
    // needs the section.
    if let Some(smtp) = &config.smtp {
        if let Err(error) = smtp.validate() {
            return Err(invalid("smtp".into(), error.to_string()));
        }
    }
    if let Err(error) = config.diff.validate() {
        let crate::diff::DiffError::OutOfRange { field, .. } = &error;
        return Err(invalid(format!("diff.{field}"), error.to_string()));
    }
    config
        .feeds
        .validate()
        .map_err(|error| invalid("feeds.items".into(), error.to_string()))?;
    config.http.validate().map_err(|error| {
        let key = match &error {
            crate::serve::ServeError::ZeroLimit(field) => format!("http.{field}"),
            _ => "http.public_url".into(),
        };
        invalid(key, error.to_string())
    })?;
    for (index, source) in config.sources.iter().enumerate() {
        if let Err(error) = crate::site::Profile::builtin(&source.profile) {
            return Err(invalid(
                format!("source[{index}].profile"),
                error.to_string(),
            ));
        }
    }
    for (name, overrides) in &config.sites {
        if let Err(error) = crate::site::Profile::builtin(name)
            .and_then(|profile| profile.with_overrides(overrides))
        {
            return Err(invalid(format!("sites.{name}"), error.to_string()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
[fetch]
contact = "ops@example.org"

[[source]]
name = "en"
profile = "mfa-en"
listing_url = "https://www.fmprc.gov.cn/eng/xw/fyrbt/lxjzh/"
lang = "en"
"#;

    #[test]
    fn selector_overrides_are_checked() {
        let text = format!("{MINIMAL}\n[sites.mfa-en]\nbody = [\".article-body\"]\n");
        let config = Config::from_toml_str(&text, "x").unwrap();
        validate(&config, "x").unwrap();
        assert_eq!(
            config.sites["mfa-en"].body.as_deref(),
            Some(&[".article-body".to_string()][..])
        );

        let bad = format!("{MINIMAL}\n[sites.mfa-en]\nbody = [\"<<<\"]\n");
        let error = validate(&Config::from_toml_str(&bad, "x").unwrap(), "x").unwrap_err();
        assert!(
            matches!(&error, ConfigError::Invalid { key, .. } if key == "sites.mfa-en"),
            "{error}"
        );

        let unknown = format!("{MINIMAL}\n[sites.mfa-en]\nbodies = [\"p\"]\n");
        let error = Config::from_toml_str(&unknown, "x").unwrap_err();
        assert!(
            matches!(
                &error,
                ConfigError::Parse {
                    line: 12,
                    column: 1,
                    ..
                }
            ),
            "{error}"
        );
    }

    #[test]
    fn stage_checks_name_their_keys() {
        let unknown_profile = MINIMAL.replace("mfa-en", "mfa-fr");
        let config = Config::from_toml_str(&unknown_profile, "x").unwrap();
        config.validate("x").unwrap();
        let error = validate(&config, "x").unwrap_err();
        assert!(
            matches!(&error, ConfigError::Invalid { key, .. } if key == "source[0].profile"),
            "{error}"
        );

        let bad_term = format!(
            "{MINIMAL}\n[[alert]]\nname = \"t\"\nterms = [\"\\\"open\"]\nrecipients = [\"a@example.org\"]\n"
        );
        let error = validate(&Config::from_toml_str(&bad_term, "x").unwrap(), "x").unwrap_err();
        assert!(
            matches!(&error, ConfigError::Invalid { key, .. } if key == "alert"),
            "{error}"
        );
        assert!(error.to_string().contains("quote is not closed"), "{error}");
    }

    #[test]
    fn shipped_config_is_valid_and_round_trips() {
        let text = include_str!("../config/briefwatch.toml");
        let config = Config::from_toml_str(text, "config/briefwatch.toml").unwrap();
        validate(&config, "config/briefwatch.toml").unwrap();
        assert_eq!(config.sources.len(), 2);
        let again = Config::from_toml_str(&config.to_toml_string(), "rendered").unwrap();
        assert_eq!(again.to_toml_string(), config.to_toml_string());
    }
}
