//! The probe sequence: real requests through a `Client`, turned into findings.
//!
//! 1. transport (HTTP -> HTTPS redirect, HSTS);
//! 2. anonymous page visits (base URL, the login page, `--path`s), recording every
//!    `Set-Cookie` of every redirect hop;
//! 3. `--login`: session ID before vs after login, and whether the pre-login ID (or one the
//!    scanner planted) is authenticated afterwards; a "check page" that needs login tells
//!    live sessions from dead ones;
//! 4. `--logout`: is the old ID refused afterwards;
//! 5. identity headers sent by the client: reflected, or do they open the check page;
//! 6. N fresh session IDs (anonymous visits, or logins) and their analysis;
//! 7. `--idle-probe`: a fresh session left alone for the given time must be refused;
//! 8. after the fact: cookie attributes, the session ID in URLs or bodies, gate-only
//!    headers that reached the client.

use super::cookie::{self, SetCookie};
use super::entropy;
use super::error::ScanError;
use super::finding::{redact, Check, Finding, Severity};
use super::http::{Client, Request, Response, Url};
use super::recipe::{form_encode, Recipe};
use super::report::Report;
use std::time::Duration;

/// Sent as the value of spoofed identity headers and searched for in responses.
pub const PROBE_IDENTITY: &str = "scanner-probe";
/// Identity headers an origin might trust; the scan sends each from the client.
pub const IDENTITY_HEADERS: [&str; 3] = ["X-Session-User", "X-Forwarded-User", "Remote-User"];
const GATE_ONLY_HEADERS: [&str; 2] = ["X-Session-Command", "X-Session-Assertion"];
const MAX_HOPS: usize = 5;

/// What to scan and how (the command line).
#[derive(Debug, Clone)]
pub struct Options {
    /// The site's base URL.
    pub base: String,
    /// How to log in (`--login`).
    pub login: Option<Recipe>,
    /// How to log out (`--logout`).
    pub logout: Option<Recipe>,
    /// Fresh session IDs to collect (`--samples`).
    pub samples: usize,
    /// `--idle-probe`: how long to leave a session idle.
    pub idle_probe: Option<Duration>,
    /// Name of the session cookie, when the heuristics would not find it.
    pub cookie: Option<String>,
    /// A page that needs login (tells live sessions from dead ones).
    pub check: Option<String>,
    /// More pages to visit.
    pub paths: Vec<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            base: String::new(),
            login: None,
            logout: None,
            samples: 20,
            idle_probe: None,
            cookie: None,
            check: None,
            paths: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Anonymous,
    Login,
    Other,
}

struct Observation {
    url: Url,
    seen_on: String,
    cookie: SetCookie,
    phase: Phase,
}

/// A minimal cookie jar: one value per name, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Jar(Vec<(String, String)>);

impl Jar {
    /// The cookie's value.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
    /// Sets a cookie.
    pub fn set(&mut self, name: &str, value: &str) {
        self.0.retain(|(n, _)| n != name);
        self.0.push((name.into(), value.into()));
    }
    fn apply(&mut self, c: &SetCookie) {
        self.0.retain(|(n, _)| *n != c.name);
        if !c.is_clearing() {
            self.0.push((c.name.clone(), c.value.clone()));
        }
    }
    /// The `Cookie` header, if any cookie is set.
    pub fn header(&self) -> Option<String> {
        (!self.0.is_empty()).then(|| self.0.iter().map(|(n, v)| format!("{n}={v}")).collect::<Vec<_>>().join("; "))
    }
    fn only(name: &str, value: &str) -> Jar {
        Jar(vec![(name.into(), value.into())])
    }
}

/// The HTTP side of a scan: sends requests and keeps everything it saw (every
/// `Set-Cookie` and every response) for the checks made after the fact.
struct Probe<'a> {
    client: &'a mut dyn Client,
    base: Url,
    report: Report,
    observed: Vec<Observation>,
    log: Vec<(String, Response)>,
    phase: Phase,
}

/// A request and the redirects it led to, in order.
type Chain = Vec<(Url, Response)>;

fn label(method: &str, url: &Url) -> String {
    format!("{method} {}", url.path)
}

const LOCAL_NOTE: &str = " (loopback: plain HTTP is normal for local development; scan the deployed https:// URL for a real verdict)";

impl Probe<'_> {
    /// One request, no redirects followed; every response is kept for the leak checks.
    fn send(
        &mut self,
        method: &str,
        url: &Url,
        jar: Option<&Jar>,
        body: Option<&str>,
        extra: &[(&str, &str)],
    ) -> Result<Response, ScanError> {
        let req = self.request(method, url, jar, body, extra);
        self.report.requests += 1;
        let resp = self.client.send(&req).map_err(|detail| ScanError::Unreachable {
            request: format!("{} {}", method, url.to_url_string()),
            detail,
        })?;
        let seen_on = label(method, url);
        for raw in resp.all("set-cookie") {
            if let Some(c) = cookie::parse(raw) {
                self.observed.push(Observation {
                    url: url.clone(),
                    seen_on: seen_on.clone(),
                    cookie: c,
                    phase: self.phase,
                });
            }
        }
        self.log.push((seen_on, resp.clone()));
        Ok(resp)
    }

    /// The request a browser would send: its Accept header, the cookies, and on a form
    /// post the same-origin headers.
    fn request(&self, method: &str, url: &Url, jar: Option<&Jar>, body: Option<&str>, extra: &[(&str, &str)]) -> Request {
        let mut req = Request {
            method: method.into(),
            url: url.to_url_string(),
            headers: Vec::new(),
            body: None,
        };
        req.headers
            .push(("Accept".into(), "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8".into()));
        if let Some(c) = jar.and_then(Jar::header) {
            req.headers.push(("Cookie".into(), c));
        }
        if method != "GET" {
            // What a browser sends on a same-origin form post.
            req.headers.push(("Origin".into(), self.base.origin()));
            req.headers.push(("Sec-Fetch-Site".into(), "same-origin".into()));
        }
        if let Some(b) = body {
            req.headers
                .push(("Content-Type".into(), "application/x-www-form-urlencoded".into()));
            req.body = Some(b.into());
        }
        for (k, v) in extra {
            req.headers.push(((*k).into(), (*v).into()));
        }
        req
    }

    /// Sends and follows same-origin redirects (at most 5), updating `jar` from every hop.
    fn fetch(&mut self, method: &str, url: &Url, jar: &mut Jar, body: Option<&str>) -> Result<Chain, ScanError> {
        let mut chain = Vec::new();
        let (mut method, mut url, mut body) = (method.to_string(), url.clone(), body.map(str::to_string));
        for _ in 0..=MAX_HOPS {
            let resp = self.send(&method, &url, Some(jar), body.as_deref(), &[])?;
            for raw in resp.all("set-cookie") {
                if let Some(c) = cookie::parse(raw) {
                    jar.apply(&c);
                }
            }
            let next = if resp.is_redirect() {
                resp.header("location").and_then(|l| url.join(l).ok())
            } else {
                None
            };
            let status = resp.status;
            chain.push((url.clone(), resp));
            match next {
                Some(n) if n.same_origin(&self.base) => {
                    if !matches!(status, 307 | 308) {
                        method = "GET".into();
                        body = None;
                    }
                    url = n;
                }
                _ => break,
            }
        }
        Ok(chain)
    }

    fn finding(&mut self, f: Finding) {
        self.report.findings.push(f);
    }

    /// Phase 1: HTTP -> HTTPS redirect and HSTS, from whichever scheme the base URL has.
    fn transport(&mut self) -> Result<(), ScanError> {
        let base = self.base.clone();
        if base.scheme == "http" {
            self.transport_from_http(&base)
        } else {
            let r = self.send("GET", &base, None, None, &[])?;
            self.hsts(&base, &r);
            self.plain_http_redirects(&base);
            Ok(())
        }
    }

    /// An http:// base must redirect to https://, whose answer is then checked for HSTS.
    fn transport_from_http(&mut self, base: &Url) -> Result<(), ScanError> {
        let local = base.is_loopback();
        let note = if local { LOCAL_NOTE } else { "" };
        let r = self.send("GET", base, None, None, &[])?;
        let loc = r.header("location").unwrap_or("").to_string();
        if r.is_redirect() && loc.starts_with("https://") {
            self.report.passed.push(format!(
                "HTTP -> HTTPS: GET {} -> {} Location: {loc}",
                base.to_url_string(),
                r.status
            ));
            let secure = Url::parse(&loc)
                .map_err(ScanError::Url)
                .and_then(|u| self.send("GET", &u, None, None, &[]).map(|r| (u, r)));
            match secure {
                Ok((u, r)) => self.hsts(&u, &r),
                Err(e) => self.report.skipped.push(format!("HSTS: could not fetch the HTTPS URL: {e}")),
            }
            return Ok(());
        }
        let location = if loc.is_empty() {
            "(no redirect)".into()
        } else {
            format!("Location: {loc}")
        };
        self.finding(Finding::new(
            Check::TransportNoHttpsRedirect,
            if local { Severity::Info } else { Severity::High },
            base.origin(),
            format!("GET {} -> {} {location}{note}", base.to_url_string(), r.status),
        ));
        let hsts = match r.header("strict-transport-security") {
            Some(h) => format!("is sent ({h}) but browsers ignore it over http://"),
            None => "absent".into(),
        };
        self.finding(Finding::new(
            Check::TransportNoHsts,
            if local { Severity::Info } else { Severity::Medium },
            base.origin(),
            format!("served over plain HTTP: Strict-Transport-Security {hsts}{note}"),
        ));
        Ok(())
    }

    /// An https:// base on the default port: plain HTTP on port 80 must redirect.
    fn plain_http_redirects(&mut self, base: &Url) {
        if base.port.is_some() && base.port != Some(443) {
            self.report
                .skipped
                .push("HTTP -> HTTPS: the base URL uses a non-default port, so the plain-HTTP port is unknown".into());
            return;
        }
        let mut plain = base.clone();
        plain.scheme = "http".into();
        plain.port = None;
        match self.send("GET", &plain, None, None, &[]) {
            Ok(r) if r.is_redirect() && r.header("location").map(|l| l.starts_with("https://")).unwrap_or(false) => self
                .report
                .passed
                .push(format!("HTTP -> HTTPS: GET {} -> {}", plain.to_url_string(), r.status)),
            Ok(r) => self.finding(Finding::new(
                Check::TransportNoHttpsRedirect,
                Severity::High,
                plain.origin(),
                format!("GET {} -> {} (no redirect to https://)", plain.to_url_string(), r.status),
            )),
            Err(e) => self
                .report
                .skipped
                .push(format!("HTTP -> HTTPS: port 80 not reachable ({e}); fine if HTTP is closed")),
        }
    }

    fn hsts(&mut self, url: &Url, r: &Response) {
        match r.header("strict-transport-security") {
            None => self.finding(Finding::new(
                Check::TransportNoHsts,
                Severity::Medium,
                url.origin(),
                format!(
                    "GET {} -> {} without a Strict-Transport-Security header",
                    url.to_url_string(),
                    r.status
                ),
            )),
            Some(h) => {
                let max_age = h
                    .split(';')
                    .filter_map(|p| p.trim().split_once('='))
                    .find(|(k, _)| k.trim().eq_ignore_ascii_case("max-age"))
                    .and_then(|(_, v)| v.trim().trim_matches('"').parse::<u64>().ok())
                    .unwrap_or(0);
                if max_age < 31_536_000 {
                    self.finding(Finding::new(
                        Check::TransportHstsWeak,
                        Severity::Low,
                        url.origin(),
                        format!("Strict-Transport-Security: {h}"),
                    ));
                } else {
                    self.report.passed.push(format!("HSTS: Strict-Transport-Security: {h}"));
                }
            }
        }
    }

    fn login(&mut self, recipe: &Recipe, fields: &[(String, String)], jar: &mut Jar) -> Result<Chain, ScanError> {
        let mut url = self.base.join(&recipe.url).map_err(ScanError::Url)?;
        let body = form_encode(fields);
        let chain = if recipe.method == "GET" {
            if !body.is_empty() {
                url.path = format!("{}{}{body}", url.path, if url.path.contains('?') { '&' } else { '?' });
            }
            self.fetch("GET", &url, jar, None)?
        } else {
            self.fetch(&recipe.method, &url, jar, Some(&body))?
        };
        let status = chain.first().map(|(_, r)| r.status).unwrap_or(0);
        if status >= 400 {
            return Err(ScanError::LoginRefused {
                recipe: recipe.describe(),
                status,
            });
        }
        Ok(chain)
    }

    fn alive(&mut self, check: &Url, name: &str, id: &str) -> Result<(bool, u16), ScanError> {
        let r = self.send("GET", check, Some(&Jar::only(name, id)), None, &[])?;
        Ok((r.is_success(), r.status))
    }

    fn logout(&mut self, recipe: &Recipe, fields: &[(String, String)], jar: &mut Jar) -> Result<Chain, ScanError> {
        let url = self.base.join(&recipe.url).map_err(ScanError::Url)?;
        let body = form_encode(fields);
        self.fetch(&recipe.method, &url, jar, if recipe.method == "GET" { None } else { Some(&body) })
    }
}

/// Picks the session cookie among what was set: a session-like name first, then the
/// longest value.
fn pick_session(cookies: &[&SetCookie]) -> Option<String> {
    let live: Vec<&&SetCookie> = cookies.iter().filter(|c| !c.is_clearing()).collect();
    live.iter()
        .filter(|c| cookie::looks_like_session(&c.name))
        .max_by_key(|c| c.value.len())
        .or_else(|| live.iter().max_by_key(|c| c.value.len()))
        .map(|c| c.name.clone())
}

fn random_hex() -> String {
    let mut b = [0u8; 16];
    if getrandom::getrandom(&mut b).is_err() {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        b = t.to_le_bytes();
    }
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Where in the body the ID sits: inside a URL (link, form action, query) or as text.
fn in_url_context(body: &str, at: usize) -> bool {
    let before = &body[..at];
    let token_start = before
        .rfind(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | '('))
        .map(|i| i + 1)
        .unwrap_or(0);
    let token = &before[token_start..];
    token.contains('/') || token.contains('?') || token.contains(';') || token.ends_with('=')
}

/// Replaces every occurrence of `id` in `s` by its redacted form.
fn scrub(s: &str, id: &str) -> String {
    s.replace(id, &format!("<{}>", redact(id)))
}

fn excerpt(body: &str, at: usize, id: &str) -> String {
    let start = body[..at].char_indices().rev().nth(40).map(|(i, _)| i).unwrap_or(0);
    let end_from = at + id.len();
    let end = body[end_from..]
        .char_indices()
        .nth(40)
        .map(|(i, _)| end_from + i)
        .unwrap_or(body.len());
    scrub(&body[start..end], id).replace(['\n', '\r'], " ")
}

/// The first response of a recipe, as findings quote it.
fn describe_first(recipe: &Recipe, chain: &Chain) -> String {
    let first = &chain[0].1;
    format!(
        "{} -> {}{}",
        recipe.describe(),
        first.status,
        first.header("location").map(|l| format!(" Location: {l}")).unwrap_or_default()
    )
}

/// A recipe with its field values resolved from the environment.
type Resolved<'a> = Option<(&'a Recipe, Vec<(String, String)>)>;

fn resolve<'a>(recipe: Option<&'a Recipe>, env: &dyn Fn(&str) -> Option<String>) -> Result<Resolved<'a>, ScanError> {
    recipe
        .map(|r| r.resolve(env).map(|fields| (r, fields)))
        .transpose()
        .map_err(ScanError::Recipe)
}

/// A scan in progress: the HTTP side, the options, and what each phase learns for the
/// phases after it. One method per phase, in the order `run` calls them.
struct Scan<'a, 'c> {
    p: Probe<'c>,
    opts: &'a Options,
    login: Resolved<'a>,
    logout: Resolved<'a>,
    /// Pages visited anonymously: the base URL, the login page, the `--path`s.
    pages: Vec<Url>,
    /// The session cookie's name, once known.
    name: Option<String>,
    /// The first login's session: its jar and ID.
    session: Option<(Jar, String)>,
    /// A page that needs login.
    check: Option<Url>,
    /// The check page tells live sessions from dead ones.
    oracle: bool,
}

/// Runs every probe. `env` resolves recipe variables; `now_unix` is for the time-based
/// ID check. Errors: bad options, unreachable site, failed login.
pub fn run(client: &mut dyn Client, opts: &Options, env: &dyn Fn(&str) -> Option<String>, now_unix: u64) -> Result<Report, ScanError> {
    let mut scan = Scan::new(client, opts, env)?;
    scan.p.transport()?;
    let anonymous = scan.visit_anonymously()?;
    scan.login_and_fixation(anonymous)?;
    scan.logout()?;
    let paths = scan.identity_headers();
    scan.session_ids(now_unix, &paths)?;
    scan.idle_timeout()?;
    scan.after_the_fact();
    Ok(scan.finish())
}

impl<'a, 'c> Scan<'a, 'c> {
    fn new(client: &'c mut dyn Client, opts: &'a Options, env: &dyn Fn(&str) -> Option<String>) -> Result<Self, ScanError> {
        let base = Url::parse(&opts.base).map_err(ScanError::Url)?;
        let login = resolve(opts.login.as_ref(), env)?;
        let logout = resolve(opts.logout.as_ref(), env)?;
        let p = Probe {
            client,
            base: base.clone(),
            report: Report {
                target: base.to_url_string(),
                ..Default::default()
            },
            observed: Vec::new(),
            log: Vec::new(),
            phase: Phase::Anonymous,
        };
        Ok(Scan {
            p,
            opts,
            login,
            logout,
            pages: Vec::new(),
            name: opts.cookie.clone(),
            session: None,
            check: None,
            oracle: false,
        })
    }

    fn finish(mut self) -> Report {
        self.p.report.session_cookie = self.name;
        self.p.report.finish();
        self.p.report
    }

    /// Phase 2: the base URL, the login page and the `--path`s without a session,
    /// following redirects. Returns the anonymous visitor's cookies.
    fn visit_anonymously(&mut self) -> Result<Jar, ScanError> {
        let base = &self.p.base;
        let mut pages = vec![base.clone()];
        if let Some(l) = &self.opts.login {
            pages.push(base.join(&l.url).map_err(ScanError::Url)?);
        }
        for path in &self.opts.paths {
            pages.push(base.join(path).map_err(ScanError::Url)?);
        }
        pages.dedup_by(|a, b| a.to_url_string() == b.to_url_string());
        let mut jar = Jar::default();
        for page in &pages {
            if let Err(e) = self.p.fetch("GET", page, &mut jar, None) {
                self.p.report.skipped.push(format!("visit: {e}"));
            }
        }
        self.pages = pages;
        Ok(jar)
    }

    /// Phase 3: log in with the anonymous visitor's cookies; find the session cookie and
    /// a check page; then test for session fixation.
    fn login_and_fixation(&mut self, anonymous: Jar) -> Result<(), ScanError> {
        let Some((recipe, fields)) = self.login.clone() else {
            self.p.phase = Phase::Other;
            if self.name.is_none() {
                let anon: Vec<&SetCookie> = self.p.observed.iter().map(|o| &o.cookie).collect();
                self.name = pick_session(&anon);
            }
            self.p.report.skipped.push("fixation, logout and idle timeout: need --login".into());
            return Ok(());
        };
        self.p.phase = Phase::Login;
        let mut jar = anonymous.clone();
        let chain = self.p.login(recipe, &fields, &mut jar)?;
        self.p.phase = Phase::Other;
        if self.name.is_none() {
            self.name = self.cookie_set_at_login();
        }
        let first_desc = describe_first(recipe, &chain);
        let found = self.name.clone().and_then(|n| jar.get(&n).map(|v| (n, v.to_string())));
        let Some((n, post_id)) = found else {
            self.p.finding(Finding::new(
                Check::SessionCookieNotFound,
                Severity::Info,
                "login",
                format!("{first_desc}; no cookie was set on any hop, so ID quality, fixation, logout and idle checks could not run"),
            ));
            self.name = None;
            return Ok(());
        };
        self.find_check_page(recipe, &chain, &jar)?;
        self.fixation(&n, &anonymous, &post_id, &first_desc)?;
        self.session = Some((jar, post_id));
        Ok(())
    }

    /// The session cookie's likely name: among those set during the login, else among
    /// those set to the anonymous visitor.
    fn cookie_set_at_login(&self) -> Option<String> {
        let set_in = |phase| -> Vec<&SetCookie> { self.p.observed.iter().filter(|o| o.phase == phase).map(|o| &o.cookie).collect() };
        pick_session(&set_in(Phase::Login)).or_else(|| pick_session(&set_in(Phase::Anonymous)))
    }

    /// The check page: `--check`, else where the login redirected to (without its
    /// query). It can tell live sessions from dead ones (`oracle`) when it answers with
    /// the new session and refuses without one.
    fn find_check_page(&mut self, recipe: &Recipe, chain: &Chain, jar: &Jar) -> Result<(), ScanError> {
        self.check = match &self.opts.check {
            Some(c) => Some(self.p.base.join(c).map_err(ScanError::Url)?),
            None => chain.last().filter(|_| chain.len() > 1).map(|(u, _)| {
                let mut u = u.clone();
                u.path = u.path.split('?').next().unwrap_or("/").to_string();
                u
            }),
        };
        let login_path = self.p.base.join(&recipe.url).map_err(ScanError::Url)?.path;
        let Some(c) = self.check.clone().filter(|c| c.path != login_path) else {
            self.p
                .report
                .skipped
                .push("session liveness: the login did not redirect to a page that needs login; pass --check <path>".into());
            return Ok(());
        };
        let with = self.p.send("GET", &c, Some(jar), None, &[])?;
        let without = self.p.send("GET", &c, None, None, &[])?;
        self.oracle = with.is_success() && !without.is_success();
        if !self.oracle {
            self.p.report.skipped.push(format!(
                "session liveness: GET {} answers {} with the new session and {} without it; pass --check <path> of a page that needs login",
                c.path, with.status, without.status
            ));
        }
        Ok(())
    }

    /// Session fixation: the ID the client had before the login (or one it planted)
    /// must not be the session afterwards.
    fn fixation(&mut self, n: &str, before: &Jar, post_id: &str, first_desc: &str) -> Result<(), ScanError> {
        match before.get(n) {
            Some(pre) if pre == post_id => {
                self.p.finding(Finding::new(
                    Check::LoginIdNotRegenerated,
                    Severity::High,
                    n,
                    format!("{n}={} before {first_desc}, and the same value after it", redact(pre)),
                ));
                Ok(())
            }
            Some(pre) => self.pre_login_id_refused(n, pre, first_desc),
            None => self.planted_id(n, before),
        }
    }

    /// A new ID was issued at login: with a check page, the old one must be refused.
    fn pre_login_id_refused(&mut self, n: &str, pre: &str, first_desc: &str) -> Result<(), ScanError> {
        let (true, Some(c)) = (self.oracle, self.check.clone()) else {
            self.p
                .report
                .passed
                .push("fixation: a new session ID was issued at login (pre-login ID not verifiable without a check page)".into());
            return Ok(());
        };
        let (alive, status) = self.p.alive(&c, n, pre)?;
        if alive {
            self.p.finding(Finding::new(
                Check::LoginOldIdAlive,
                Severity::High,
                n,
                format!(
                    "after {first_desc}: GET {} with the pre-login {n}={} -> {status}",
                    c.path,
                    redact(pre)
                ),
            ));
        } else {
            self.p.report.passed.push(format!(
                "fixation: new ID at login; the pre-login ID is refused (GET {} -> {status})",
                c.path
            ));
        }
        Ok(())
    }

    /// No ID before the login: plant one of our own, log in with it, and see whether it
    /// became the session. The planted session is logged out again (best effort).
    fn planted_id(&mut self, n: &str, before: &Jar) -> Result<(), ScanError> {
        let Some((recipe, fields)) = self.login.clone() else {
            return Ok(());
        };
        let planted = format!("scanprobe{}", random_hex());
        let mut pj = before.clone();
        pj.set(n, &planted);
        self.p.phase = Phase::Login;
        let planted_chain = self.p.login(recipe, &fields, &mut pj);
        self.p.phase = Phase::Other;
        planted_chain?;
        let kept = pj.get(n) == Some(planted.as_str());
        let verdict = match (self.oracle, self.check.clone()) {
            (true, Some(c)) if kept => Some(self.p.alive(&c, n, &planted)?),
            _ => None,
        };
        match verdict {
            Some((true, status)) => self.p.finding(Finding::new(
                Check::LoginIdNotRegenerated,
                Severity::High,
                n,
                format!(
                    "logged in with a client-chosen {n}={}: no new ID was set and GET {} with it -> {status}",
                    redact(&planted),
                    self.check.as_ref().map(|c| c.path.as_str()).unwrap_or("")
                ),
            )),
            _ if !kept => self
                .p
                .report
                .passed
                .push(format!("fixation: logging in with a planted {n} cookie issued a fresh ID")),
            _ => self
                .p
                .report
                .skipped
                .push("fixation: a planted ID survived login, but without a check page its state is unknown".into()),
        }
        if let Some((lr, lf)) = &self.logout {
            let _ = self.p.logout(lr, lf, &mut pj);
        }
        Ok(())
    }

    /// Phase 4: after the logout recipe, the session's old ID must be refused.
    fn logout(&mut self) -> Result<(), ScanError> {
        let (Some((recipe, fields)), Some((mut jar, id)), Some(n)) = (self.logout.clone(), self.session.clone(), self.name.clone()) else {
            if self.opts.logout.is_none() && self.session.is_some() {
                self.p.report.skipped.push("logout: needs --logout".into());
            }
            return Ok(());
        };
        let chain = self.p.logout(recipe, &fields, &mut jar)?;
        let status = chain.first().map(|(_, r)| r.status).unwrap_or(0);
        let (Some(c), true) = (self.check.clone(), self.oracle) else {
            self.p
                .report
                .skipped
                .push("logout: no check page to test the old ID against".into());
            return Ok(());
        };
        let (alive, st) = self.p.alive(&c, &n, &id)?;
        if alive {
            self.p.finding(Finding::new(
                Check::LogoutSessionAlive,
                Severity::High,
                n.clone(),
                format!(
                    "{} -> {status}; then GET {} with the old {n}={} -> {st}",
                    recipe.describe(),
                    c.path,
                    redact(&id)
                ),
            ));
        } else {
            self.p
                .report
                .passed
                .push(format!("logout: the old ID is refused afterwards (GET {} -> {st})", c.path));
        }
        Ok(())
    }

    /// Phase 5: identity headers sent by the client must neither open a page that needs
    /// login nor show up in a response. Returns the paths tried.
    fn identity_headers(&mut self) -> Vec<String> {
        let mut pages: Vec<Url> = self.check.iter().cloned().collect();
        pages.extend(self.pages.iter().cloned());
        pages.dedup_by(|a, b| a.to_url_string() == b.to_url_string());
        let mut baselines: Vec<Option<Response>> = Vec::new();
        for page in &pages {
            baselines.push(self.p.send("GET", page, None, None, &[]).ok());
        }
        let mut accepted = false;
        for header in IDENTITY_HEADERS {
            for (page, baseline) in pages.iter().zip(&baselines) {
                let Some(baseline) = baseline else { continue };
                if self.p.spoof(header, page, baseline) {
                    accepted = true;
                    break;
                }
            }
        }
        let paths: Vec<String> = pages.iter().map(|u| u.path.clone()).collect();
        if !accepted {
            self.p.report.passed.push(format!(
                "identity headers ({}) from the client: not reflected, open nothing ({})",
                IDENTITY_HEADERS.join(", "),
                paths.join(", ")
            ));
        }
        paths
    }

    /// Phase 6: the quality of fresh session IDs. `paths`: the pages visited, named when
    /// none of them set a session cookie.
    fn session_ids(&mut self, now_unix: u64, paths: &[String]) -> Result<(), ScanError> {
        let Some(n) = self.name.clone() else {
            if self.opts.login.is_none() {
                self.p.finding(Finding::new(
                    Check::SessionCookieNotFound,
                    Severity::Info,
                    "site",
                    format!(
                        "GET {} set no session cookie; pass --login to test the authenticated session",
                        paths.join(", GET ")
                    ),
                ));
            }
            return Ok(());
        };
        let samples = self.fresh_ids(&n)?;
        if samples.len() < 2 {
            self.p
                .report
                .skipped
                .push(format!("session ID quality: only {} fresh ID(s) collected", samples.len()));
            return Ok(());
        }
        let a = entropy::analyze(&samples, now_unix);
        let fs = entropy::findings(&a, &n, &samples);
        if fs.is_empty() {
            self.p.report.passed.push(format!(
                "session IDs: {} fresh samples, ~{} bits estimated, no pattern",
                a.samples, a.estimated_bits
            ));
        }
        for f in fs {
            self.p.finding(f);
        }
        self.p.report.id_analysis = Some(a);
        Ok(())
    }

    /// `--samples` fresh IDs of cookie `n`: from anonymous visits of the page that set
    /// one, else from as many logins (each logged out again).
    fn fresh_ids(&mut self, n: &str) -> Result<Vec<String>, ScanError> {
        let mut samples: Vec<String> = Vec::new();
        let anon_page = self
            .p
            .observed
            .iter()
            .find(|o| o.phase == Phase::Anonymous && o.cookie.name == n && !o.cookie.is_clearing())
            .map(|o| o.url.clone());
        if let Some(page) = anon_page {
            for _ in 0..self.opts.samples {
                let r = self.p.send("GET", &page, None, None, &[])?;
                if let Some(v) = r
                    .all("set-cookie")
                    .into_iter()
                    .filter_map(cookie::parse)
                    .find(|c| c.name == n && !c.is_clearing())
                {
                    samples.push(v.value);
                }
            }
        } else if let (Some((recipe, fields)), Some((_, first))) = (&self.login, &self.session) {
            samples.push(first.clone());
            for _ in 1..self.opts.samples {
                let mut jar = Jar::default();
                self.p.login(recipe, fields, &mut jar)?;
                match jar.get(n) {
                    Some(v) => samples.push(v.to_string()),
                    None => break,
                }
                if let Some((lr, lf)) = &self.logout {
                    let _ = self.p.logout(lr, lf, &mut jar);
                }
            }
        }
        Ok(samples)
    }

    /// Phase 7 (`--idle-probe`): a fresh session left alone for the given time must be
    /// refused.
    fn idle_timeout(&mut self) -> Result<(), ScanError> {
        let Some(wait) = self.opts.idle_probe else {
            return Ok(());
        };
        let (Some((recipe, fields)), Some(n), Some(c), true) = (&self.login, &self.name, &self.check, self.oracle) else {
            self.p
                .report
                .skipped
                .push("idle timeout: needs --login and a check page that needs login".into());
            return Ok(());
        };
        let mut jar = Jar::default();
        self.p.login(recipe, fields, &mut jar)?;
        let Some(id) = jar.get(n).map(str::to_string) else {
            return Ok(());
        };
        self.p.client.sleep(wait);
        let (alive, st) = self.p.alive(c, n, &id)?;
        if alive {
            self.p.finding(Finding::new(
                Check::IdleTimeoutNotEnforced,
                Severity::Medium,
                n.clone(),
                format!("a fresh session left idle for {}s: GET {} -> {st}", wait.as_secs(), c.path),
            ));
            if let Some((lr, lf)) = &self.logout {
                let _ = self.p.logout(lr, lf, &mut jar);
            }
        } else {
            self.p.report.passed.push(format!(
                "idle timeout: refused after {}s idle (GET {} -> {st})",
                wait.as_secs(),
                c.path
            ));
        }
        Ok(())
    }

    /// Phase 8, on everything seen: cookie attributes, the session ID in URLs or bodies,
    /// gate-only headers that reached the client.
    fn after_the_fact(&mut self) {
        let mut cookie_findings = Vec::new();
        for o in &self.p.observed {
            let is_session = Some(&o.cookie.name) == self.name.as_ref();
            cookie_findings.extend(cookie::check(&o.cookie, is_session, &o.seen_on));
        }
        self.p.report.findings.extend(cookie_findings);
        if let Some(n) = &self.name {
            self.p.id_leaks(n);
        }
        self.p.gate_only_headers();
    }
}

impl Probe<'_> {
    /// One identity header on one page: true (with a finding) when it opened the page
    /// or showed up in it.
    fn spoof(&mut self, header: &'static str, page: &Url, baseline: &Response) -> bool {
        let Ok(with) = self.send("GET", page, None, None, &[(header, PROBE_IDENTITY)]) else {
            return false;
        };
        let opened = !baseline.is_success() && with.is_success();
        let reflected = with.body.contains(PROBE_IDENTITY) && !baseline.body.contains(PROBE_IDENTITY);
        if !opened && !reflected {
            return false;
        }
        let what = if opened {
            format!(
                "opened a page that needs login ({} without it, {} with it)",
                baseline.status, with.status
            )
        } else {
            format!("\"{PROBE_IDENTITY}\" appears in the response body")
        };
        self.finding(Finding::new(
            Check::IdentityHeaderAccepted,
            if opened { Severity::Critical } else { Severity::High },
            header,
            format!("GET {} with {header}: {PROBE_IDENTITY} -> {}: {what}", page.path, with.status),
        ));
        true
    }

    /// Any value cookie `n` ever had, in a Location header, a URL in a body, or body text.
    fn id_leaks(&mut self, n: &str) {
        let mut ids: Vec<String> = self
            .observed
            .iter()
            .filter(|o| o.cookie.name == n && !o.cookie.is_clearing())
            .map(|o| o.cookie.value.clone())
            .collect();
        ids.sort();
        ids.dedup();
        ids.retain(|v| v.len() >= 6);
        let (mut in_url, mut in_body) = (None, None);
        for (seen_on, r) in &self.log {
            for id in &ids {
                if in_url.is_none() {
                    if let Some(l) = r.header("location").filter(|l| l.contains(id.as_str())) {
                        in_url = Some(format!("{seen_on} -> {} Location: {}", r.status, scrub(l, id)));
                    }
                }
                if let Some(at) = r.body.find(id.as_str()) {
                    if in_url_context(&r.body, at) {
                        if in_url.is_none() {
                            in_url = Some(format!(
                                "{seen_on} -> {}: a URL in the body: …{}…",
                                r.status,
                                excerpt(&r.body, at, id)
                            ));
                        }
                    } else if in_body.is_none() {
                        in_body = Some(format!("{seen_on} -> {}: …{}…", r.status, excerpt(&r.body, at, id)));
                    }
                }
            }
        }
        if let Some(o) = in_url {
            self.finding(Finding::new(Check::SessionIdInUrl, Severity::High, n, o));
        }
        if let Some(o) = in_body {
            self.finding(Finding::new(Check::SessionIdInBody, Severity::Medium, n, o));
        }
    }

    /// Headers only the gate and the origin should see (the origin's command, the
    /// gate's assertion), in any response the client got.
    fn gate_only_headers(&mut self) {
        let mut exposed = Vec::new();
        for (seen_on, r) in &self.log {
            for h in GATE_ONLY_HEADERS {
                if r.header(h).is_some() && !exposed.iter().any(|(x, _)| *x == h) {
                    exposed.push((h, format!("{seen_on} -> {} carried {h} (value not shown)", r.status)));
                }
            }
        }
        for (h, o) in exposed {
            self.finding(Finding::new(Check::OriginCommandExposed, Severity::High, h, o));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::recipe::parse_inline;
    use std::collections::HashMap;

    /// A scripted site: a weak one (sequential IDs, no regeneration) or a good one.
    struct Fake {
        weak: bool,
        next: u64,
        sessions: HashMap<String, bool>,
        slept: Duration,
    }

    impl Fake {
        fn new(weak: bool) -> Self {
            Fake {
                weak,
                next: 0,
                sessions: HashMap::new(),
                slept: Duration::ZERO,
            }
        }

        fn cookie_of(req: &Request) -> Option<String> {
            req.headers
                .iter()
                .find(|(k, _)| k == "Cookie")
                .and_then(|(_, v)| v.split("; ").find_map(|p| p.strip_prefix("sid=").map(str::to_string)))
        }
        fn new_id(&mut self) -> String {
            self.next += 1;
            if self.weak {
                format!("{}", 1000 + self.next)
            } else {
                let mut h = self.next.wrapping_mul(0x9E37_79B9_7F4A_7C15);
                (0..32)
                    .map(|_| {
                        h ^= h << 13;
                        h ^= h >> 7;
                        h ^= h << 17;
                        b"0123456789abcdef"[(h % 16) as usize] as char
                    })
                    .collect()
            }
        }
    }

    impl Client for Fake {
        fn send(&mut self, req: &Request) -> Result<Response, String> {
            let url = Url::parse(&req.url)?;
            let path = url.path.split('?').next().unwrap_or("/").to_string();
            let cookie = Fake::cookie_of(req).filter(|c| self.sessions.contains_key(c));
            let mut r = Response {
                status: 200,
                ..Default::default()
            };
            let attrs = if self.weak {
                "; Path=/"
            } else {
                "; Path=/; HttpOnly; Secure; SameSite=Lax"
            };
            match (req.method.as_str(), path.as_str()) {
                ("GET", "/") if self.weak && cookie.is_none() => {
                    let id = self.new_id();
                    self.sessions.insert(id.clone(), false);
                    r.headers.push(("set-cookie".into(), format!("sid={id}{attrs}")));
                }
                ("POST", "/login") => {
                    let ok = req.body.as_deref() == Some("user=alice&password=pw");
                    if !ok {
                        r.status = 401;
                        return Ok(r);
                    }
                    r.status = 303;
                    r.headers.push(("location".into(), "/account".into()));
                    match cookie {
                        Some(id) if self.weak => {
                            self.sessions.insert(id, true);
                        }
                        _ => {
                            let id = self.new_id();
                            self.sessions.insert(id.clone(), true);
                            r.headers.push(("set-cookie".into(), format!("sid={id}{attrs}")));
                        }
                    }
                }
                ("POST", "/logout") => {
                    if let (Some(id), false) = (cookie, self.weak) {
                        self.sessions.remove(&id);
                    }
                    r.status = 303;
                    r.headers.push(("location".into(), "/".into()));
                    r.headers.push(("set-cookie".into(), format!("sid={attrs}; Max-Age=0")));
                }
                ("GET", "/account") => {
                    let authed = cookie.map(|c| self.sessions.get(&c) == Some(&true)).unwrap_or(false);
                    let idle_dead = !self.weak && self.slept > Duration::ZERO;
                    if !authed || idle_dead {
                        r.status = 302;
                        r.headers.push(("location".into(), "/login".into()));
                    } else {
                        r.body = "<p>hello alice</p>".into();
                    }
                    if self.weak && req.headers.iter().any(|(k, _)| k == "X-Forwarded-User") {
                        r.status = 200;
                        r.body = format!("hello {PROBE_IDENTITY}");
                    }
                }
                _ => {}
            }
            Ok(r)
        }
        fn sleep(&mut self, d: Duration) {
            self.slept += d;
        }
    }

    fn env(n: &str) -> Option<String> {
        match n {
            "U" => Some("alice".into()),
            "P" => Some("pw".into()),
            _ => None,
        }
    }

    fn opts() -> Options {
        Options {
            base: "http://127.0.0.1:9/".into(),
            login: Some(parse_inline("POST /login user=$U password=$P").unwrap()),
            logout: Some(parse_inline("POST /logout").unwrap()),
            samples: 5,
            idle_probe: Some(Duration::from_secs(3)),
            ..Default::default()
        }
    }

    fn ids(r: &Report) -> Vec<(&str, &str)> {
        let mut v: Vec<_> = r.findings.iter().map(|f| (f.id, f.subject.as_str())).collect();
        v.sort();
        v
    }

    #[test]
    fn a_weak_site_fails_every_check() {
        let mut fake = Fake::new(true);
        let r = run(&mut fake, &opts(), &env, 0).unwrap();
        assert_eq!(
            ids(&r),
            [
                ("cookie-httponly-missing", "sid"),
                ("cookie-prefix-missing", "sid"),
                ("cookie-samesite-missing", "sid"),
                ("cookie-secure-missing", "sid"),
                ("identity-header-accepted", "X-Forwarded-User"),
                ("idle-timeout-not-enforced", "sid"),
                ("login-id-not-regenerated", "sid"),
                ("logout-session-alive", "sid"),
                ("session-id-low-entropy", "sid"),
                ("session-id-sequential", "sid"),
                ("transport-no-hsts", "http://127.0.0.1:9"),
                ("transport-no-https-redirect", "http://127.0.0.1:9"),
            ]
        );
        assert_eq!(r.grade(), 'F');
        assert_eq!(fake.slept, Duration::from_secs(3));
    }

    #[test]
    fn a_good_site_is_clean_but_for_loopback_transport() {
        let mut fake = Fake::new(false);
        let r = run(&mut fake, &opts(), &env, 0).unwrap();
        // The fake's cookie is `sid`, not `__Host-sid`: the only non-transport finding.
        assert_eq!(
            ids(&r),
            [
                ("cookie-prefix-missing", "sid"),
                ("transport-no-hsts", "http://127.0.0.1:9"),
                ("transport-no-https-redirect", "http://127.0.0.1:9")
            ]
        );
        assert_eq!(r.grade(), 'B');
        assert_eq!(r.session_cookie.as_deref(), Some("sid"));
        assert_eq!(r.id_analysis.as_ref().map(|a| a.samples), Some(5));
        assert!(r.passed.iter().any(|p| p.starts_with("fixation")), "{:?}", r.passed);
        assert!(r.passed.iter().any(|p| p.starts_with("logout")), "{:?}", r.passed);
        assert!(r.passed.iter().any(|p| p.starts_with("idle")), "{:?}", r.passed);
    }

    #[test]
    fn failed_login_and_missing_credentials_are_errors() {
        let mut fake = Fake::new(false);
        let e = run(&mut fake, &opts(), &|_| None, 0).unwrap_err().to_string();
        assert!(e.contains("environment variable U"), "{e}");
        let e = run(
            &mut fake,
            &opts(),
            &|n| Some(if n == "U" { "alice".into() } else { "wrong".into() }),
            0,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("answered 401") && !e.contains("wrong"), "{e}");
    }

    #[test]
    fn leak_contexts() {
        let body = r#"<a href="/account?sid=abcdef123">x</a> Session: abcdef123"#;
        assert!(in_url_context(body, body.find("abcdef123").unwrap()));
        assert!(!in_url_context(body, body.rfind("abcdef123").unwrap()));
        assert_eq!(scrub("/a?sid=abcdef123", "abcdef123"), "/a?sid=<abcdef…[9 chars]>");
        assert!(!excerpt(body, 10, "abcdef123").is_empty());
    }
}
