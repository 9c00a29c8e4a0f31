//! The scanner's view of HTTP: plain request/response values and a `Client` trait, so the
//! probe logic is independent of the HTTP library (the binary plugs in ureq; tests a fake).

use std::time::Duration;

/// One HTTP request as the scanner sends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// `GET`, `POST`, ...
    pub method: String,
    /// Absolute URL.
    pub url: String,
    /// Header lines, in order.
    pub headers: Vec<(String, String)>,
    /// Form body, if any.
    pub body: Option<String>,
}

impl Request {
    /// A bare GET.
    pub fn get(url: &str) -> Self {
        Request {
            method: "GET".into(),
            url: url.into(),
            headers: Vec::new(),
            body: None,
        }
    }
    /// Adds a header line.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
}

/// One HTTP response, redirects not followed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Every header line in order; names lower-cased.
    pub headers: Vec<(String, String)>,
    /// The body as text.
    pub body: String,
}

impl Response {
    /// The first header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    /// Every header with this name (`Set-Cookie`), in order.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }
    /// A 3xx with a Location.
    pub fn is_redirect(&self) -> bool {
        matches!(self.status, 301 | 302 | 303 | 307 | 308)
    }
    /// A 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// Sends one request, never following redirects; `sleep` waits (the idle probe).
pub trait Client {
    /// Sends one request; the error describes a failure to get any response.
    fn send(&mut self, req: &Request) -> Result<Response, String>;
    /// Waits (the idle probe; tests only pretend).
    fn sleep(&mut self, d: Duration);
}

/// A parsed absolute http(s) URL, just what the scanner needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url {
    /// `http` or `https`.
    pub scheme: String,
    /// Host as written, IPv6 with brackets.
    pub host: String,
    /// Port, when not the scheme's default.
    pub port: Option<u16>,
    /// Path and query, always starting with '/'.
    pub path: String,
}

impl Url {
    /// Parses an absolute http(s) URL.
    pub fn parse(s: &str) -> Result<Url, String> {
        let s = s.trim();
        let (scheme, rest) = s.split_once("://").ok_or_else(|| format!("{s:?} is not an absolute URL"))?;
        let scheme = scheme.to_ascii_lowercase();
        if scheme != "http" && scheme != "https" {
            return Err(format!("{s:?}: only http:// and https:// URLs can be scanned"));
        }
        let cut = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(cut);
        if authority.is_empty() || authority.contains('@') {
            return Err(format!("{s:?}: missing host (or userinfo, which is not supported)"));
        }
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (h, after) = v6.split_once(']').ok_or_else(|| format!("{s:?}: bad IPv6 host"))?;
            (format!("[{h}]"), after.strip_prefix(':'))
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h.to_string(), Some(p)),
                None => (authority.to_string(), None),
            }
        };
        let port = match port {
            Some(p) => Some(p.parse::<u16>().map_err(|_| format!("{s:?}: bad port"))?),
            None => None,
        };
        let tail = tail.split('#').next().unwrap_or("");
        let path = if tail.starts_with('/') {
            tail.to_string()
        } else {
            format!("/{tail}")
        };
        Ok(Url {
            scheme,
            host: host.to_ascii_lowercase(),
            port,
            path,
        })
    }

    /// The port in use.
    pub fn default_port(&self) -> u16 {
        if self.scheme == "https" {
            443
        } else {
            80
        }
    }

    /// `scheme://host[:port]`.
    pub fn origin(&self) -> String {
        match self.port {
            Some(p) if p != self.default_port() => format!("{}://{}:{p}", self.scheme, self.host),
            _ => format!("{}://{}", self.scheme, self.host),
        }
    }

    /// Same scheme, host and port.
    pub fn same_origin(&self, other: &Url) -> bool {
        self.origin() == other.origin()
    }

    /// The URL as text.
    pub fn to_url_string(&self) -> String {
        format!("{}{}", self.origin(), self.path)
    }

    /// Resolves a path, `Location` value or absolute URL against this URL.
    pub fn join(&self, reference: &str) -> Result<Url, String> {
        let r = reference.trim();
        if r.starts_with("http://") || r.starts_with("https://") {
            return Url::parse(r);
        }
        if let Some(rest) = r.strip_prefix("//") {
            return Url::parse(&format!("{}://{rest}", self.scheme));
        }
        let mut u = self.clone();
        if r.starts_with('/') {
            u.path = r.to_string();
        } else if r.starts_with('?') {
            u.path = format!("{}{r}", self.path.split('?').next().unwrap_or("/"));
        } else {
            let dir = self.path.split('?').next().unwrap_or("/");
            let dir = &dir[..dir.rfind('/').map(|i| i + 1).unwrap_or(0)];
            u.path = format!("{dir}{r}");
        }
        u.path = u.path.split('#').next().unwrap_or("/").to_string();
        if !u.path.starts_with('/') {
            u.path.insert(0, '/');
        }
        Ok(u)
    }

    /// localhost, 127.0.0.0/8, ::1: plain HTTP there is local development.
    pub fn is_loopback(&self) -> bool {
        let h = self.host.as_str();
        h == "localhost" || h.ends_with(".localhost") || h == "[::1]" || h.starts_with("127.")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_and_joins() {
        let u = Url::parse("http://127.0.0.1:8787/app?x=1#frag").unwrap();
        assert_eq!((u.host.as_str(), u.port, u.path.as_str()), ("127.0.0.1", Some(8787), "/app?x=1"));
        assert!(u.is_loopback());
        assert_eq!(u.origin(), "http://127.0.0.1:8787");
        assert_eq!(u.join("/login").unwrap().to_url_string(), "http://127.0.0.1:8787/login");
        assert_eq!(u.join("devices").unwrap().path, "/devices");
        assert_eq!(u.join("?y=2").unwrap().path, "/app?y=2");
        assert_eq!(u.join("https://example.com/a").unwrap().origin(), "https://example.com");
        assert_eq!(u.join("//evil.test/x").unwrap().origin(), "http://evil.test");
        let v = Url::parse("https://Example.COM").unwrap();
        assert_eq!((v.path.as_str(), v.origin().as_str()), ("/", "https://example.com"));
        assert!(!v.is_loopback());
        assert_eq!(Url::parse("https://example.com:443/").unwrap().origin(), "https://example.com");
        assert!(Url::parse("http://[::1]:99/").unwrap().is_loopback());
    }

    #[test]
    fn rejects_what_it_cannot_scan() {
        for bad in [
            "example.com",
            "ftp://x/",
            "http://",
            "http://u:p@host/",
            "http://h:99999/",
            "http://[::1/",
        ] {
            assert!(Url::parse(bad).is_err(), "{bad}");
        }
    }

    proptest! {
        // Parsers of untrusted input (Set-Cookie headers, URLs, recipes from the command
        // line): as many cases as the core parsers, not proptest's default 256.
        #![proptest_config(crate::proptest_cases::config(10_000))]
        #[test]
        fn never_panics(s in ".{0,80}", r in ".{0,40}") {
            if let Ok(u) = Url::parse(&s) {
                let _ = u.join(&r);
                let _ = u.to_url_string();
            }
            if let Ok(u) = Url::parse(&format!("http://h.test/{s}")) {
                prop_assert!(u.path.starts_with('/'));
            }
        }
    }
}
