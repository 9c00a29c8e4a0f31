//! Step 1: read what the gate needs from the request, once.

use crate::core::client;
use crate::core::config::Config;
use crate::core::cookie::{self, SessionCookie};
use crate::core::path;
use crate::core::policy::{self, Access};
use crate::core::session::Client;
use worker::Request;

pub struct Incoming {
    pub method: String,
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

fn header(req: &Request, name: &str) -> Option<String> {
    req.headers().get(name).ok().flatten()
}

pub fn parse(req: &Request, cfg: &Config) -> Result<Incoming, ParseError> {
    let raw_url = req.inner().url();
    let url = crate::core::url::split(&raw_url).ok_or(ParseError::BadUrl)?;
    let https = url.scheme == "https";
    let host = url.host().to_string();
    let own_origin = format!("{}://{}", url.scheme, url.authority);
    let path = path::normalize(url.path).map_err(ParseError::BadPath)?;
    let readings = path::readings(url.path).map_err(ParseError::BadPath)?;
    let query = url.query.to_string();
    let cookie_header = header(req, "cookie");
    let session_cookie = match cookie_header.as_deref().map(|h| cookie::find(h, &cfg.cookie_name)) {
        None | Some(SessionCookie::Absent) => CookieValue::Absent,
        Some(SessionCookie::One(v)) => CookieValue::One(v.to_string()),
        Some(SessionCookie::Several) => CookieValue::Several,
    };
    Ok(Incoming {
        method: req.method().to_string(),
        https,
        own_origin,
        host,
        path,
        readings,
        query,
        client: Client {
            ip: header(req, "cf-connecting-ip").unwrap_or_default(),
            ua: header(req, "user-agent").unwrap_or_default(),
            https,
        },
        navigation: client::is_navigation(header(req, "sec-fetch-mode").as_deref(), header(req, "accept").as_deref()),
        cookie_header,
        session_cookie,
        sec_fetch_site: header(req, "sec-fetch-site"),
        origin_header: header(req, "origin"),
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
