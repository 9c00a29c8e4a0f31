// Live connections (WebSockets, event streams) held open through the gate. Every decision
// (validation, policy, headers) was made in Rust before these run; they only move frames
// and bytes, in JS, so a relayed message costs no Wasm crossing.
//
// A live connection of a session holds one "watch": a WebSocket to the session's Durable
// Object, accepted there with the hibernation API. The object pushes `ended:<reason>`
// on it the moment the session ends (objects/watch.js), so an open connection costs no
// object request per message and none per second. Client messages are reported to the
// object as activity (a `touch` request), at most once per slide interval.

const ENDED = "ended:";
// The rejection when the session already holds MAX_CONNECTIONS_PER_SESSION watches.
const LIMIT = "limit";
// Close codes: the session ended (toward the client), going away (toward the origin),
// and the watch lost (the object restarted): the client should reconnect, and is then
// validated again.
const SESSION_ENDED = 4401;
const GOING_AWAY = 1001;
const WATCH_LOST = 1012;

/**
 * Closes `ws` with `code` and `reason`. A close that carried no code (1005, 1006, 1015:
 * codes that exist only to say so, and cannot be sent) passes as a close without one,
 * and so does a code this runtime refuses to send; a socket already closed is left alone.
 */
function closeLike(ws, code, reason) {
  if (code !== 1005 && code !== 1006 && code !== 1015) {
    try {
      ws.close(code, reason);
      return;
    } catch {
      // Refused (or already closed): close without a code below.
    }
  }
  try {
    ws.close();
  } catch {
    // Already closed: nothing to pass on.
  }
}

/** A rejection as the text Rust reads (`ended:<reason>`, or what went wrong). */
function why(e) {
  return typeof e === "string" ? e : String(e && e.message ? e.message : e);
}

/**
 * Opens the watch on the session's object: the socket, or rejects with `ended:<reason>`
 * when the session is no longer live (it ended between validation and now), with
 * `limit` when the session holds as many watches as it may.
 */
async function openWatch(stub, url, header, message, policy, timeoutMs) {
  let timer;
  const late = new Promise((_, reject) => {
    timer = setTimeout(() => reject(`no answer within ${timeoutMs} ms`), timeoutMs);
  });
  try {
    const r = await Promise.race([stub.fetch(url, { headers: { ...policy, upgrade: "websocket", [header]: message } }), late]);
    if (!r.webSocket) {
      // The object's answer instead: `{"rejected":{"reason":...}}` when the session ended.
      const text = await r.text();
      let reason;
      try {
        reason = JSON.parse(text).rejected?.reason;
      } catch {
        // Not JSON: an error of the object.
      }
      if (r.status === 429) throw LIMIT;
      throw reason ? ENDED + reason : `watch refused: ${r.status} ${text.slice(0, 200)}`;
    }
    r.webSocket.accept();
    return r.webSocket;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Calls `onEnded(reason)` when the watch says the session ended, `onLost()` when it
 * closes without saying so; the returned `stop()` closes it.
 */
function follow(watch, onEnded, onLost) {
  let done = false;
  watch.addEventListener("message", (e) => {
    if (typeof e.data === "string" && e.data.startsWith(ENDED)) {
      done = true;
      closeLike(watch, 1000, "");
      onEnded(e.data.slice(ENDED.length));
    }
  });
  const lost = () => {
    if (done) return;
    done = true;
    onLost();
  };
  watch.addEventListener("close", lost);
  watch.addEventListener("error", lost);
  return () => {
    if (done) return;
    done = true;
    closeLike(watch, 1000, "");
  };
}

/**
 * Client activity: a `touch` (the object slides the idle timer) at most once per
 * `slideMs`, however many messages (`Infinity` on IDLE_EXEMPT_PATHS: never); the
 * handshake itself was the last activity.
 */
function reporter(stub, url, header, touch, policy, slideMs) {
  let last = Date.now();
  return () => {
    const now = Date.now();
    if (now - last < slideMs) return;
    last = now;
    // Best effort: a touch that fails leaves the timer where it was (the session may then
    // end on time, never later), and a session that ended is pushed on the watch anyway.
    stub
      .fetch(url, { headers: { ...policy, [header]: touch } })
      .then((r) => r.text())
      .catch(() => {});
  };
}

/**
 * The client's side of a WebSocket the origin accepted (`originResp`: its 101): frames
 * pass both ways unchanged, a close passes with its code and reason. With a watch
 * (`stub` set: the session's object), the session's end closes the client's socket with
 * 4401 `session_ended:<reason>` and the origin's with 1001. Resolves with the 101 for
 * the client, carrying the origin's subprotocol and the gate's header edits (`set`,
 * `append`); rejects with `ended:<reason>` if the session already ended.
 */
export async function relayWebSocket(originResp, stub, url, header, message, touch, policy, timeoutMs, slideMs, set, append) {
  const origin = originResp.webSocket;
  if (!origin) throw "the origin answered 101 without a WebSocket";
  let watch = null;
  if (stub) {
    try {
      watch = await openWatch(stub, url, header, message, policy, timeoutMs);
    } catch (e) {
      origin.accept();
      closeLike(origin, GOING_AWAY, "session ended");
      throw why(e);
    }
  }
  const [client, server] = Object.values(new WebSocketPair());
  // Binary frames as bytes: with the standard default ("blob") they would be sent on
  // as the text "[object Blob]".
  origin.binaryType = "arraybuffer";
  server.binaryType = "arraybuffer";
  origin.accept();
  server.accept();
  const stop = watch
    ? follow(
        watch,
        (reason) => {
          closeLike(server, SESSION_ENDED, "session_ended:" + reason);
          closeLike(origin, GOING_AWAY, "session ended");
        },
        () => {
          closeLike(server, WATCH_LOST, "session_watch_lost");
          closeLike(origin, GOING_AWAY, "session watch lost");
        },
      )
    : () => {};
  const active = watch ? reporter(stub, url, header, touch, policy, slideMs) : () => {};
  server.addEventListener("message", (e) => {
    active();
    try {
      origin.send(e.data);
    } catch {
      // The origin's side is closing; its close event ends the client's.
    }
  });
  origin.addEventListener("message", (e) => {
    try {
      server.send(e.data);
    } catch {
      // The client's side is closing.
    }
  });
  server.addEventListener("close", (e) => {
    stop();
    closeLike(origin, e.code, e.reason);
  });
  origin.addEventListener("close", (e) => {
    stop();
    closeLike(server, e.code, e.reason);
  });
  const errored = () => {
    stop();
    closeLike(server, 1011, "");
    closeLike(origin, GOING_AWAY, "");
  };
  server.addEventListener("error", errored);
  origin.addEventListener("error", errored);
  const headers = new Headers();
  const protocol = originResp.headers.get("sec-websocket-protocol");
  if (protocol) headers.set("sec-websocket-protocol", protocol);
  // The gate's own edits (`name\nvalue\n...`): the cookie change, the expiry header.
  const kv = (list, add) => {
    const p = list ? list.split("\n") : [];
    for (let i = 0; i + 1 < p.length; i += 2) add(p[i], p[i + 1]);
  };
  kv(set, (n, v) => headers.set(n, v));
  kv(append, (n, v) => headers.append(n, v));
  return new Response(null, { status: 101, webSocket: client, headers });
}

/**
 * The origin's event stream, cut when the session ends: the watch is opened first
 * (rejects with `ended:<reason>` if the session already ended), then the body passes
 * chunk by chunk. The session's end cancels the origin's stream and ends the client's
 * with a last event, `event: session_ended` with the reason as its data (the leading
 * newline ends any partial line; an empty event dispatches nothing). Client activity
 * cannot be seen on a stream: none is reported.
 */
export async function watchStream(resp, stub, url, header, message, policy, timeoutMs) {
  let watch;
  try {
    watch = await openWatch(stub, url, header, message, policy, timeoutMs);
  } catch (e) {
    throw why(e);
  }
  const reader = resp.body.getReader();
  let stop;
  let over = false;
  const body = new ReadableStream({
    start(ctl) {
      const cut = (last) => {
        if (over) return;
        over = true;
        reader.cancel(last).catch(() => {});
        ctl.enqueue(new TextEncoder().encode(last));
        ctl.close();
      };
      stop = follow(
        watch,
        (reason) => cut(`\nevent: session_ended\ndata: ${reason}\n\n`),
        () => cut("\nevent: session_ended\ndata: session_watch_lost\n\n"),
      );
    },
    async pull(ctl) {
      try {
        const { done, value } = await reader.read();
        if (over) return;
        if (done) {
          over = true;
          stop();
          ctl.close();
        } else ctl.enqueue(value);
      } catch (e) {
        if (over) return;
        over = true;
        stop();
        ctl.error(e);
      }
    },
    cancel(why) {
      over = true;
      stop();
      return reader.cancel(why);
    },
  });
  return new Response(body, { status: resp.status, statusText: resp.statusText, headers: resp.headers });
}
