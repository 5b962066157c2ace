//! Files that sources name by URL (Discord's CDN), downloaded only from the platform's own
//! hosts, without following redirects (a redirect could lead anywhere, the internal network
//! included), streamed and abandoned as soon as they pass the cap: a body is never read
//! whole before its size is known.

use relay_core::messages::SendError;
use reqwest::Url;

/// Discord's CDN hosts, where attachments live.
pub const DISCORD_CDN_HOSTS: [&str; 2] = ["cdn.discordapp.com", "media.discordapp.net"];

/// The HTTP client for downloads: redirects are not followed.
pub fn client() -> reqwest::Client {
    // Idempotent; the binary installs it too, but a worker embedded elsewhere may not.
    relay_discord::install_crypto_provider();
    reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(60))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap_or_default()
}

/// Where files may be downloaded from: Discord's CDN over HTTPS, and the origin (scheme,
/// host and port) of the configured Discord API, which serves the attachments when Relay
/// is pointed at a test platform.
#[derive(Debug, Clone)]
pub struct AllowedHosts {
    origins: Vec<(String, String, Option<u16>)>,
}

impl AllowedHosts {
    pub fn new(discord_api_url: &str) -> Self {
        let mut origins: Vec<_> = DISCORD_CDN_HOSTS
            .iter()
            .map(|h| ("https".to_owned(), (*h).to_owned(), Some(443)))
            .collect();
        if let Some(origin) = Url::parse(discord_api_url).ok().and_then(|u| origin(&u)) {
            origins.push(origin);
        }
        Self { origins }
    }

    pub fn allows(&self, url: &Url) -> bool {
        origin(url).is_some_and(|o| self.origins.contains(&o))
    }
}

fn origin(url: &Url) -> Option<(String, String, Option<u16>)> {
    if !url.username().is_empty() || url.password().is_some() {
        return None;
    }
    Some((
        url.scheme().to_owned(),
        url.host_str()?.to_ascii_lowercase(),
        url.port_or_known_default(),
    ))
}

/// What a download came to.
#[derive(Debug, PartialEq, Eq)]
pub enum Downloaded {
    Bytes(Vec<u8>),
    /// Over the cap: at least `size` bytes (what the server declared, or what was read).
    TooLarge {
        size: u64,
    },
    /// Not there, or not to be fetched (why).
    Unavailable(String),
}

/// Downloads `url` up to `cap` bytes.
pub async fn download(
    http: &reqwest::Client,
    hosts: &AllowedHosts,
    url: &str,
    cap: u64,
) -> Result<Downloaded, SendError> {
    let Ok(parsed) = Url::parse(url) else {
        return Ok(Downloaded::Unavailable("not a valid address".into()));
    };
    if !hosts.allows(&parsed) {
        return Ok(Downloaded::Unavailable(format!(
            "{} is not one of the platform's file hosts",
            parsed.host_str().unwrap_or("the host")
        )));
    }
    let mut response = http
        .get(parsed)
        .send()
        .await
        .map_err(|e| SendError::Transient(format!("fetching a file: {e}")))?;
    let status = response.status();
    if status.is_redirection() {
        return Ok(Downloaded::Unavailable(format!(
            "the file host redirected ({status}); redirects are not followed"
        )));
    }
    if matches!(status.as_u16(), 403 | 404 | 410) {
        return Ok(Downloaded::Unavailable(format!(
            "the file is gone ({status})"
        )));
    }
    if !status.is_success() {
        return Err(SendError::Transient(format!("fetching a file: {status}")));
    }
    let declared = response.content_length().unwrap_or(0);
    if declared > cap {
        return Ok(Downloaded::TooLarge { size: declared });
    }
    let mut bytes = Vec::with_capacity(declared as usize);
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| SendError::Transient(format!("fetching a file: {e}")))?
    {
        let read = (bytes.len() + chunk.len()) as u64;
        if read > cap {
            return Ok(Downloaded::TooLarge { size: read });
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(Downloaded::Bytes(bytes))
}

#[cfg(test)]
#[path = "media_http_tests.rs"]
mod tests;
