/* sessiongate client: warns before the session expires. No dependencies.
 * <script src="/.sessiongate/client.js" data-login-url="/login" defer></script>
 * Polls /.sessiongate/status sparingly (never while the tab is hidden), shows an
 * accessible banner inside the warning window, offers "Stay signed in" when the idle
 * limit is near, and goes to the login page with the reason when the session ends. */
(function () {
  "use strict";
  var script = document.currentScript;
  // The gate fills in where its endpoints are (under COOKIE_PATH when that is set).
  var base = "/*API_BASE*/";
  // The gate fills in its LOGIN_URL when it serves this file; data-login-url overrides it.
  var loginUrl = (script && script.getAttribute("data-login-url")) || "/*LOGIN_URL*/";
  var MAX_POLL_MS = 5 * 60 * 1000;
  var state = null;      // last status body
  var skew = 0;          // server clock - local clock, seconds
  var pollTimer = null;
  var tickTimer = null;
  var banner = null;
  var announced = {};    // thresholds already read out to screen readers

  function nowS() { return Date.now() / 1000 + skew; }
  function expiresAt(s) { return Math.min(s.idle_expires_at, s.absolute_expires_at); }
  function absoluteFirst(s) { return s.absolute_expires_at <= s.idle_expires_at; }
  function windowOf(s) { return typeof s.warning_window === "number" ? s.warning_window : 120; }

  function clock(sec) {
    sec = Math.max(0, Math.floor(sec));
    var m = Math.floor(sec / 60), r = sec % 60;
    return m + ":" + (r < 10 ? "0" : "") + r;
  }

  function spoken(sec) {
    sec = Math.max(0, Math.round(sec));
    var m = Math.floor(sec / 60), r = sec % 60, parts = [];
    if (m) parts.push(m + (m === 1 ? " minute" : " minutes"));
    if (r || !m) parts.push(r + (r === 1 ? " second" : " seconds"));
    return parts.join(" ");
  }

  function goLogin(reason) {
    stop();
    var rt = location.pathname + location.search;
    var sep = loginUrl.indexOf("?") >= 0 ? "&" : "?";
    location.assign(loginUrl + sep + "return_to=" + encodeURIComponent(rt) + "&reason=" + encodeURIComponent(reason));
  }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text) e.textContent = text;
    return e;
  }

  // The visible countdown ticks every second but is not live; a separate polite live
  // region speaks only at a few thresholds, so screen readers are not flooded.
  function ensureBanner() {
    if (banner) return banner;
    banner = el("div");
    banner.id = "sessiongate-banner";
    banner.setAttribute("role", "alert");
    banner.setAttribute("aria-labelledby", "sessiongate-text");
    banner.style.cssText = "position:fixed;left:50%;bottom:1.5rem;transform:translateX(-50%);z-index:2147483647;" +
      "background:#1f2937;color:#fff;padding:.9rem 1.2rem;border-radius:.6rem;box-shadow:0 8px 24px rgba(0,0,0,.25);" +
      "font:15px/1.4 system-ui,sans-serif;display:flex;gap:1rem;align-items:center;max-width:90vw";
    var text = el("span", "sessiongate-text");
    text.id = "sessiongate-text";
    var live = el("span", "sessiongate-live");
    live.setAttribute("aria-live", "polite");
    live.style.cssText = "position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)";
    var btn = el("button", "sessiongate-stay", "Stay signed in");
    btn.type = "button";
    btn.style.cssText = "background:#10b981;color:#04241a;border:0;border-radius:.4rem;padding:.45rem .9rem;font-weight:600;cursor:pointer";
    btn.addEventListener("click", refresh);
    var again = el("a", "sessiongate-signin", "Sign in again");
    again.href = loginUrl;
    again.style.cssText = "color:#a7f3d0;font-weight:600";
    banner.appendChild(text);
    banner.appendChild(live);
    banner.appendChild(btn);
    banner.appendChild(again);
    document.body.appendChild(banner);
    // Keyboard users land on the action without hunting for it.
    setTimeout(function () { if (banner && !btn.hidden) btn.focus({ preventScroll: true }); }, 0);
    return banner;
  }

  function hideBanner() {
    if (banner) { banner.remove(); banner = null; announced = {}; }
  }

  function announce(left, message) {
    var marks = [Infinity, 60, 30, 10];
    for (var i = 0; i < marks.length; i++) {
      if (left <= marks[i] && !announced[marks[i]]) {
        for (var j = 0; j <= i; j++) announced[marks[j]] = true;
        banner.querySelector(".sessiongate-live").textContent = message;
        return;
      }
    }
  }

  function render() {
    if (!state || !state.authenticated) return;
    var left = expiresAt(state) - nowS();
    if (left <= 0) {
      // Another tab may have kept the session alive: ask the server before leaving.
      poll(true);
      return;
    }
    if (left > windowOf(state)) { hideBanner(); return; }
    var b = ensureBanner();
    var hard = absoluteFirst(state);
    b.querySelector(".sessiongate-text").textContent = hard
      ? "Your session expires in " + clock(left) + " and cannot be extended. Save your work."
      : "Your session expires in " + clock(left) + ".";
    b.querySelector(".sessiongate-stay").hidden = hard;
    b.querySelector(".sessiongate-signin").hidden = !hard;
    announce(left, "Your session expires in " + spoken(left) + (hard ? ". It cannot be extended." : ". Choose Stay signed in to continue."));
  }

  function schedule() {
    clearTimeout(pollTimer);
    clearInterval(tickTimer);
    if (document.hidden || !state || !state.authenticated) return;
    var left = expiresAt(state) - nowS();
    // Next look: when the warning window opens, at most every 5 minutes; every 30 s inside it.
    var untilWarning = (left - windowOf(state)) * 1000;
    var next = untilWarning > 0 ? Math.min(untilWarning, MAX_POLL_MS) : 30000;
    pollTimer = setTimeout(function () { poll(false); }, Math.max(1000, Math.min(next, left * 1000 + 500)));
    if (untilWarning <= 0) tickTimer = setInterval(render, 1000);
    render();
  }

  function accept(res, body, atExpiry) {
    if (res.status >= 500 || !body || typeof body.authenticated !== "boolean") {
      // The gate or its store is down: not a logout. Try again shortly.
      pollTimer = setTimeout(function () { poll(atExpiry); }, 15000);
      return;
    }
    var expIn = parseInt(res.headers.get("x-session-expires-in") || "", 10);
    if (body.authenticated && !isNaN(expIn)) skew = (expiresAt(body) - expIn) - Date.now() / 1000;
    if (!body.authenticated) {
      if ((state && state.authenticated) || atExpiry) goLogin(body.reason || "idle_timeout");
      state = body;
      return;
    }
    state = body;
    schedule();
  }

  function request(path, method, atExpiry, done) {
    fetch(base + path, { method: method, credentials: "same-origin", headers: { accept: "application/json" } })
      .then(function (res) {
        return res.json().catch(function () { return null; }).then(function (b) {
          if (done) done(res, b);
          accept(res, res.status === 401 ? { authenticated: false, reason: b && b.reason } : b, atExpiry);
        });
      })
      .catch(function () { pollTimer = setTimeout(function () { poll(atExpiry); }, 30000); });
  }

  function poll(atExpiry) { request("/status", "GET", atExpiry); }

  function refresh() {
    request("/refresh", "POST", false, function (res) {
      if (res.ok) { hideBanner(); return; }
      if (banner && res.status !== 401) {
        banner.querySelector(".sessiongate-live").textContent = "Could not extend the session. Trying again.";
      }
    });
  }

  function stop() { clearTimeout(pollTimer); clearInterval(tickTimer); }

  document.addEventListener("visibilitychange", function () {
    if (document.hidden) stop(); else poll(false);
  });
  window.sessiongate = { poll: poll, refresh: refresh, state: function () { return state; } };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", function () { poll(false); });
  else poll(false);
})();
