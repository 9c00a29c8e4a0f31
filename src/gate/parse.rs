//! Step 1: read what the gate needs from the request, once.

use super::io::RawRequest;
use crate::core::client;
use crate::core::config::Config;
use crate::core::cookie::{self, SessionCookie};
use crate::core::path;
use crate::core::policy::{self, Access};
use crate::core::session::Client;

pub struct Incoming {
    pub method: String,
    /// The names of the headers sent that the forwarding filter may drop (lowercase).
    pub header_names: Vec<String>,
    pub https: bool,
    /// `scheme://host[:port]` as the client addressed us.
    pub own_origin: String,
    pub host: String,
    /// Normalised path; what is matched and what is forwarded.
    pub path: String,
    /// Every reading an origin might act on (see `path::readings`); matched strictest.
    pub readings: Vec<String>,
    /// `?query` or empty.
    pub query: String,
    pub client: Client,
    pub navigation: bool,
    pub cookie_header: Option<String>,
    /// The gate's cookie: absent, one value, or several (ambiguous).
    pub session_cookie: CookieValue,
    pub sec_fetch_site: Option<String>,
    pub origin_header: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CookieValue {
    Absent,
    One(String),
    Several,
}

impl CookieValue {
    pub fn is_present(&self) -> bool {
        *self != CookieValue::Absent
    }
}

pub enum ParseError {
    BadPath(path::PathError),
    BadUrl,
}

/// The request headers the gate reads, in the order `parse` takes them.
pub const READ: &str = "cookie,cf-connecting-ip,user-agent,sec-fetch-mode,accept,sec-fetch-site,origin";

pub fn parse(raw: RawRequest, cfg: &Config) -> Result<Incoming, ParseError> {
    let url = crate::core::url::split(&raw.url).ok_or(ParseError::BadUrl)?;
    let https = url.scheme == "https";
    let host = url.host().to_string();
    let own_origin = format!("{}://{}", url.scheme, url.authority);
    let path = path::normalize(url.path).map_err(ParseError::BadPath)?;
    let readings = path::readings(url.path).map_err(ParseError::BadPath)?;
    let query = url.query.to_string();
    let mut values = raw.values.into_iter();
    let mut next = || values.next().flatten();
    let (cookie_header, ip, ua, mode, accept, site, origin) = (next(), next(), next(), next(), next(), next(), next());
    let session_cookie = match cookie_header.as_deref().map(|h| cookie::find(h, &cfg.cookie_name)) {
        None | Some(SessionCookie::Absent) => CookieValue::Absent,
        Some(SessionCookie::One(v)) => CookieValue::One(v.to_string()),
        Some(SessionCookie::Several) => CookieValue::Several,
    };
    Ok(Incoming {
        method: raw.method,
        header_names: raw.droppable,
        https,
        own_origin,
        host,
        path,
        readings,
        query,
        client: Client {
            ip: ip.unwrap_or_default(),
            ua: ua.unwrap_or_default(),
            https,
        },
        navigation: client::is_navigation(mode.as_deref(), accept.as_deref()),
        cookie_header,
        session_cookie,
        sec_fetch_site: site,
        origin_header: origin,
    })
}

impl Incoming {
    pub fn access(&self, cfg: &Config) -> Access {
        let readings: Vec<&str> = self.readings.iter().map(String::as_str).collect();
        policy::classify_strictest(cfg, &self.method, &readings)
    }

    pub fn path_and_query(&self) -> String {
        format!("{}{}", self.path, self.query)
    }

    pub fn is_cross_site(&self, cfg: &Config) -> bool {
        client::is_cross_site(
            &self.method,
            self.session_cookie.is_present(),
            self.sec_fetch_site.as_deref(),
            self.origin_header.as_deref(),
            &self.own_origin,
            &cfg.allowed_origins,
        )
    }
}
