//! `complaints login-link`: print a one-time sign-in URL for the web pages, for the same
//! subject, organisations and roles an API token would carry (see `ui::session`).

use crate::auth::Role;
use crate::Settings;

/// Arguments of `complaints login-link`.
#[derive(clap::Args)]
pub struct LoginLinkArgs {
    /// Organisation the session acts for (repeat or comma-separate for several).
    #[arg(long = "org", required = true, value_delimiter = ',')]
    pub organisations: Vec<String>,
    /// Role: frontline, caseworker, auditor, reporting or regulator (repeat or
    /// comma-separate for several).
    #[arg(long = "role", required = true, value_delimiter = ',')]
    pub roles: Vec<String>,
    /// Who signs in (recorded on every event and read).
    #[arg(long, default_value = "local-user")]
    pub subject: String,
    /// How long the link may wait to be used: seconds, or with a unit (30m, 1h); at most 24h.
    #[arg(long, default_value = "15m")]
    pub ttl: String,
    /// The service's address as the browser reaches it (default: http:// and the bind
    /// address).
    #[arg(long)]
    pub base_url: Option<String>,
    #[command(flatten)]
    pub settings: Settings,
}

fn parse_ttl(raw: &str) -> anyhow::Result<chrono::Duration> {
    let (number, unit) = raw.split_at(raw.find(|c: char| !c.is_ascii_digit()).unwrap_or(raw.len()));
    let n: i64 = number
        .parse()
        .map_err(|_| anyhow::anyhow!("invalid --ttl `{raw}`: expected e.g. 15m, 1h"))?;
    Ok(match unit {
        "s" | "" => chrono::Duration::seconds(n),
        "m" => chrono::Duration::minutes(n),
        "h" => chrono::Duration::hours(n),
        _ => anyhow::bail!("invalid --ttl unit `{unit}`: use s, m or h"),
    })
}

/// Prints a new sign-in URL.
pub async fn print(args: LoginLinkArgs) -> anyhow::Result<()> {
    let roles = args
        .roles
        .iter()
        .map(|r| {
            Role::parse(r).ok_or_else(|| {
                anyhow::anyhow!(
                    "unknown role `{r}`: use frontline, caseworker, auditor, reporting or regulator"
                )
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let ttl = parse_ttl(&args.ttl)?;
    // Signed with the web pages' secret, as the service reads it (generated on first use).
    let secret = args.settings.ui_key()?;
    let token = crate::ui::session::login_token_with_secret(
        &secret,
        &args.subject,
        &args.organisations,
        &roles,
        chrono::Utc::now(),
        ttl,
    )?;
    let base = args
        .base_url
        .unwrap_or_else(|| format!("http://{}", args.settings.bind));
    println!("{}/ui/login?token={token}", base.trim_end_matches('/'));
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn ttls_read_with_their_unit() {
        assert_eq!(parse_ttl("15m").unwrap(), chrono::Duration::minutes(15));
        assert_eq!(parse_ttl("90").unwrap(), chrono::Duration::seconds(90));
        assert!(parse_ttl("2d").is_err());
    }
}
