/* sessiongate client: warns before the session expires. No dependencies.
 * <script src="/.sessiongate/client.js" data-login-url="/login" defer></script>
 * Polls /.sessiongate/status sparingly (never while the tab is hidden), shows an
 * accessible banner inside the warning window, offers "Stay signed in" when the idle
 * limit is near, and goes to the login page with the reason when the session ends. */
(function () {
  "use strict";
  var script = document.currentScript;
  var base = "/.sessiongate";
  var loginUrl = (script && script.getAttribute("data-login-url")) || "/login";
  var MAX_POLL_MS = 5 * 60 * 1000;
  var state = null;      // last status body
  var skew = 0;          // server clock - local clock, seconds
  var pollTimer = null;
  var tickTimer = null;
  var banner = null;

  function nowS() { return Date.now() / 1000 + skew; }

  function expiresAt(s) { return Math.min(s.idle_expires_at, s.absolute_expires_at); }

  function fmt(sec) {
    sec = Math.max(0, Math.floor(sec));
    var m = Math.floor(sec / 60), r = sec % 60;
    return m + ":" + (r < 10 ? "0" : "") + r;
  }

  function goLogin(reason) {
    stop();
    var rt = location.pathname + location.search;
    var sep = loginUrl.indexOf("?") >= 0 ? "&" : "?";
    location.assign(loginUrl + sep + "return_to=" + encodeURIComponent(rt) + "&reason=" + encodeURIComponent(reason));
  }

  function ensureBanner() {
    if (banner) return banner;
    banner = document.createElement("div");
    banner.id = "sessiongate-banner";
    banner.setAttribute("role", "alert");
    banner.setAttribute("aria-live", "assertive");
    banner.style.cssText = "position:fixed;left:50%;bottom:1.5rem;transform:translateX(-50%);z-index:2147483647;" +
      "background:#1f2937;color:#fff;padding:.9rem 1.2rem;border-radius:.6rem;box-shadow:0 8px 24px rgba(0,0,0,.25);" +
      "font:15px/1.4 system-ui,sans-serif;display:flex;gap:1rem;align-items:center;max-width:90vw";
    var text = document.createElement("span");
    text.className = "sessiongate-text";
    var btn = document.createElement("button");
    btn.type = "button";
    btn.className = "sessiongate-stay";
    btn.textContent = "Stay signed in";
    btn.style.cssText = "background:#10b981;color:#04241a;border:0;border-radius:.4rem;padding:.45rem .9rem;font-weight:600;cursor:pointer";
    btn.addEventListener("click", refresh);
    banner.appendChild(text);
    banner.appendChild(btn);
    document.body.appendChild(banner);
    return banner;
  }

  function hideBanner() {
    if (banner) { banner.remove(); banner = null; }
  }

  function render() {
    if (!state || !state.authenticated) return;
    var left = expiresAt(state) - nowS();
    if (left <= 0) {
      goLogin(state.absolute_expires_at <= state.idle_expires_at ? "absolute_timeout" : "idle_timeout");
      return;
    }
    var absoluteFirst = state.absolute_expires_at <= state.idle_expires_at;
    if (!state.warning && left > (state.window || 120)) { hideBanner(); return; }
    var b = ensureBanner();
    b.querySelector(".sessiongate-text").textContent = absoluteFirst
      ? "Your session ends in " + fmt(left) + ". Save your work: you will need to sign in again."
      : "Your session expires in " + fmt(left) + ".";
    b.querySelector(".sessiongate-stay").hidden = absoluteFirst;
  }

  function schedule() {
    clearTimeout(pollTimer);
    clearInterval(tickTimer);
    if (document.hidden || !state || !state.authenticated) return;
    var left = expiresAt(state) - nowS();
    var window_ = state.window || 120;
    // Next look: when the warning window opens, at most every 5 minutes, every 30 s inside it.
    var untilWarning = (left - window_) * 1000;
    var next = untilWarning > 0 ? Math.min(untilWarning, MAX_POLL_MS) : 30000;
    pollTimer = setTimeout(poll, Math.max(1000, next));
    if (untilWarning <= 0) tickTimer = setInterval(render, 1000);
    render();
  }

  function accept(res, body) {
    var date = Date.parse(res.headers.get("date") || "");
    if (!isNaN(date)) skew = date / 1000 - Date.now() / 1000;
    var expIn = parseInt(res.headers.get("x-session-expires-in") || "", 10);
    if (body.authenticated && !isNaN(expIn)) skew = (expiresAt(body) - expIn) - Date.now() / 1000;
    if (!body.authenticated) {
      if (state && state.authenticated) goLogin(body.reason || "idle_timeout");
      state = body;
      return;
    }
    body.window = state && state.window || 120;
    if (body.warning) body.window = Math.max(body.window, Math.ceil(expiresAt(body) - nowS()));
    state = body;
    schedule();
  }

  function poll() {
    fetch(base + "/status", { credentials: "same-origin", headers: { accept: "application/json" } })
      .then(function (res) { return res.json().then(function (b) { accept(res, b); }); })
      .catch(function () { pollTimer = setTimeout(poll, 30000); });
  }

  function refresh() {
    fetch(base + "/refresh", { method: "POST", credentials: "same-origin", headers: { accept: "application/json" } })
      .then(function (res) { return res.json().then(function (b) { hideBanner(); accept(res, b); }); })
      .catch(function () {});
  }

  function stop() { clearTimeout(pollTimer); clearInterval(tickTimer); }

  document.addEventListener("visibilitychange", function () {
    if (document.hidden) stop(); else poll();
  });
  window.sessiongate = { poll: poll, refresh: refresh, state: function () { return state; } };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", poll); else poll();
})();
