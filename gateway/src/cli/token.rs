//! `complaints token`: mint a bearer token with the embedded default's HS256 secret.

use crate::auth::Role;
use crate::Settings;

/// Arguments of `complaints token`.
#[derive(clap::Args)]
pub struct TokenArgs {
    /// Organisation the token acts for (repeat or comma-separate for several).
    #[arg(long = "org", required = true, value_delimiter = ',')]
    pub organisations: Vec<String>,
    /// Role: frontline, caseworker, auditor, reporting or regulator (repeat or
    /// comma-separate for several).
    #[arg(long = "role", required = true, value_delimiter = ',')]
    pub roles: Vec<String>,
    /// Token subject (who is acting).
    #[arg(long, default_value = "local-user")]
    pub subject: String,
    /// Lifetime: seconds, or with a unit, e.g. 30m, 8h, 7d.
    #[arg(long, default_value = "8h")]
    pub ttl: String,
    #[command(flatten)]
    pub settings: Settings,
}

fn parse_ttl(raw: &str) -> anyhow::Result<chrono::Duration> {
    let (number, unit) = raw.split_at(raw.find(|c: char| !c.is_ascii_digit()).unwrap_or(raw.len()));
    let n: i64 = number
        .parse()
        .map_err(|_| anyhow::anyhow!("invalid --ttl `{raw}`: expected e.g. 30m, 8h, 7d"))?;
    Ok(match unit {
        "s" | "" => chrono::Duration::seconds(n),
        "m" => chrono::Duration::minutes(n),
        "h" => chrono::Duration::hours(n),
        "d" => chrono::Duration::days(n),
        _ => anyhow::bail!("invalid --ttl unit `{unit}`: use s, m, h or d"),
    })
}

/// Prints a new token.
pub fn mint(args: TokenArgs) -> anyhow::Result<()> {
    let roles = args
        .roles
        .iter()
        .map(|r| Role::parse(r).ok_or_else(|| anyhow::anyhow!("unknown role `{r}`: use frontline, caseworker, auditor, reporting or regulator")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let ttl = parse_ttl(&args.ttl)?;
    let token = args.settings.authenticator()?.mint(
        &args.subject,
        &args.organisations,
        &roles,
        chrono::Utc::now(),
        ttl,
    )?;
    println!("{token}");
    Ok(())
}
