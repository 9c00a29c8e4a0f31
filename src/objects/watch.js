// The session object's side of the watches (edge/live.js): one hibernatable WebSocket
// per live connection, its attachment the session's public handle (attachments, unlike
// tags, can change: a login over a session moves its watches to the new handle). An
// idle watch costs the object nothing: it may hibernate, and wakes for a push.

/** Accepts a watch for the session `handle`: the 101 for the gate. */
export function accept(state, handle) {
  const [client, server] = Object.values(new WebSocketPair());
  state.acceptWebSocket(server);
  server.serializeAttachment(handle);
  return new Response(null, { status: 101, webSocket: client });
}

/** Sends `message` on every watch of `handle`; how many were open. */
export function push(state, handle, message) {
  let n = 0;
  for (const ws of state.getWebSockets()) {
    if (ws.deserializeAttachment() !== handle) continue;
    try {
      ws.send(message);
      n++;
    } catch {
      // Closing already: its connection is going anyway.
    }
  }
  return n;
}

/** The watches of `from` now watch `to` (a login replaced the session in this object). */
export function move(state, from, to) {
  for (const ws of state.getWebSockets()) {
    if (ws.deserializeAttachment() === from) ws.serializeAttachment(to);
  }
}

/** How many watches `handle` holds. */
export function count(state, handle) {
  let n = 0;
  for (const ws of state.getWebSockets()) if (ws.deserializeAttachment() === handle) n++;
  return n;
}
