//! What the gate reads from a request, once: `Incoming`.

use super::io::{self, RawRequest};
use crate::core::client;
use crate::core::config::Config;
use crate::core::cookie::{self, SessionCookie};
use crate::core::method::{self, Methods};
use crate::core::path;
use crate::core::policy::{self, Access};
use crate::core::session::Client;
use worker::web_sys;

pub struct Incoming {
    /// The method as sent, then every method an override claims (see `core::method`).
    pub methods: Methods,
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
    /// Readings without a format suffix: may only make the path sensitive.
    pub format_stripped: Vec<String>,
    /// `?query` or empty.
    pub query: String,
    pub client: Client,
    pub navigation: bool,
    pub cookie_header: Option<String>,
    /// The gate's cookie: absent, one value, or several (ambiguous).
    pub session_cookie: SessionCookie,
    pub sec_fetch_site: Option<String>,
    pub origin_header: Option<String>,
    pub content_type: Option<String>,
    /// A WebSocket handshake (`Upgrade: websocket`).
    pub websocket: bool,
}

pub enum ParseError {
    BadPath(path::PathError),
    BadUrl,
}

/// The request headers the gate reads, by name; `READ` lists them in this order.
#[derive(Clone, Copy)]
enum Header {
    Cookie,
    ConnectingIp,
    UserAgent,
    SecFetchMode,
    Accept,
    SecFetchSite,
    Origin,
    ContentType,
    Upgrade,
    Override0,
    Override1,
    Override2,
}

const READ: [&str; 12] = [
    "cookie",
    "cf-connecting-ip",
    "user-agent",
    "sec-fetch-mode",
    "accept",
    "sec-fetch-site",
    "origin",
    "content-type",
    "upgrade",
    method::OVERRIDE_HEADERS[0],
    method::OVERRIDE_HEADERS[1],
    method::OVERRIDE_HEADERS[2],
];

thread_local! {
    static READER: io::RequestReader = io::RequestReader::new(&READ);
}

/// The values `io::read_request` returned, taken by name.
struct Values(Vec<Option<String>>);

impl Values {
    fn take(&mut self, h: Header) -> Option<String> {
        self.0.get_mut(h as usize).and_then(Option::take)
    }
}

/// Reads the request's URL, method and the headers in `READ`, in one boundary crossing.
pub fn read(req: &web_sys::Request) -> RawRequest {
    READER.with(|reader| io::read_request(req, reader))
}

pub fn parse(raw: RawRequest, cfg: &Config) -> Result<Incoming, ParseError> {
    let url = crate::core::url::split(&raw.url).ok_or(ParseError::BadUrl)?;
    let https = url.scheme == "https";
    let readings = path::readings(url.path).map_err(ParseError::BadPath)?;
    let mut v = Values(raw.values);
    let cookie_header = v.take(Header::Cookie);
    let mut methods = Methods::new(&raw.method);
    for h in [Header::Override0, Header::Override1, Header::Override2] {
        if let Some(o) = v.take(h) {
            methods.add_override(&o);
        }
    }
    methods.add_params(url.query.strip_prefix('?').unwrap_or(url.query));
    let mode = v.take(Header::SecFetchMode);
    let accept = v.take(Header::Accept);
    Ok(Incoming {
        methods,
        header_names: raw.droppable,
        https,
        own_origin: format!("{}://{}", url.scheme, url.authority),
        host: url.host().to_string(),
        // The first reading is the normalised path (`path::readings`): not computed twice.
        path: match readings.first() {
            Some(p) => p.clone(),
            None => path::normalize(url.path).map_err(ParseError::BadPath)?,
        },
        format_stripped: path::format_stripped(&readings),
        readings,
        query: url.query.to_string(),
        client: Client {
            ip: v.take(Header::ConnectingIp).unwrap_or_default(),
            ua: v.take(Header::UserAgent).unwrap_or_default(),
            https,
        },
        navigation: client::is_navigation(mode.as_deref(), accept.as_deref()),
        session_cookie: session_cookie(cookie_header.as_deref(), &cfg.cookie_name),
        cookie_header,
        sec_fetch_site: v.take(Header::SecFetchSite),
        origin_header: v.take(Header::Origin),
        content_type: v.take(Header::ContentType),
        websocket: v.take(Header::Upgrade).is_some_and(|u| u.trim().eq_ignore_ascii_case("websocket")),
    })
}

fn session_cookie(header: Option<&str>, name: &str) -> SessionCookie {
    header.map_or(SessionCookie::Absent, |h| cookie::find(h, name))
}

impl Incoming {
    /// The method as sent.
    pub fn method(&self) -> &str {
        self.methods.sent()
    }

    pub fn access(&self, cfg: &Config) -> Access {
        policy::classify_strictest(
            cfg,
            &policy::Target {
                methods: &self.methods,
                readings: &self.readings,
                format_stripped: &self.format_stripped,
            },
        )
    }

    /// Whether a `_method` in the body could change the verdict: a `POST` (what
    /// frameworks override) to a path some method-scoped sensitive pattern matches,
    /// not already sensitive by what the request's line and headers claim. Only then is
    /// the body read (`proxy::read_body_methods`), whatever its `Content-Type` says.
    pub fn body_may_matter(&self, cfg: &Config, access: Access) -> bool {
        access != Access::Sensitive
            && method::body_may_override(self.method())
            && self
                .readings
                .iter()
                .chain(&self.format_stripped)
                .any(|p| cfg.sensitive_paths.method_scoped_matches(p))
    }

    pub fn path_and_query(&self) -> String {
        format!("{}{}", self.path, self.query)
    }

    /// Cross-site, cookie or not (see `client::is_cross_site_request`); a WebSocket
    /// handshake is judged like an unsafe request (`client::is_cross_site_handshake`).
    pub fn is_cross_site_request(&self, cfg: &Config) -> bool {
        if self.websocket {
            return client::is_cross_site_handshake(
                self.sec_fetch_site.as_deref(),
                self.origin_header.as_deref(),
                &self.own_origin,
                &cfg.allowed_origins,
            );
        }
        client::is_cross_site_request(
            self.method(),
            self.sec_fetch_site.as_deref(),
            self.origin_header.as_deref(),
            &self.own_origin,
            &cfg.allowed_origins,
        )
    }

    /// Cross-site and carrying the gate's cookie: refused before anything else.
    pub fn is_cross_site(&self, cfg: &Config) -> bool {
        self.session_cookie.is_present() && self.is_cross_site_request(cfg)
    }
}
