/* global document, window, fetch, performance, setTimeout, EventSource, WebSocket, location, URL */
// One transport, run from the origin of its server (this frame is served by the relay in front
// of it, as /echo.html with the transport's name and, for short polling, its interval filled in). It takes messages from the demo
// page, sends them, and reports each answer with the milliseconds since the message it quotes
// was sent. Nothing in its URL but the path: the browser repeats it in every Referer header,
// and the bytes measured should be an ordinary page's.

const ECHO_PREFIX = 'Received:  ';
const RETRY_AFTER_ERROR_MS = 1000;

const transport = document.documentElement.dataset.transport;
/** How long short polling waits between polls (site.ts sets it). */
const pollIntervalMs = Number(document.documentElement.dataset.pollIntervalMs);
// A cross-origin parent is named by its origin in the referrer (the default referrer policy).
const parentOrigin = new URL(document.referrer).origin;
/** Messages sent and not yet answered, oldest first. */
const pending = [];

function tell(message) {
  window.parent.postMessage({ ...message, transport }, parentOrigin);
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function answered(text) {
  const index = pending.findIndex((sent) => ECHO_PREFIX + sent.text === text);
  const latencyMs = index === -1 ? null : performance.now() - pending.splice(index, 1)[0].sentAt;
  tell({ type: 'reply', text, latencyMs });
}

async function register() {
  const response = await fetch('/clients', { method: 'POST' });
  if (!response.ok) throw new Error(`POST /clients: ${response.status}`);
  return (await response.json()).clientId;
}

/** Polls for ever: at once again for long polling, after a pause for short polling. */
async function pollForever(clientId, pauseMs) {
  let after = 0;
  for (;;) {
    try {
      const response = await fetch(`/messages?client=${clientId}&after=${after}`);
      if (!response.ok) throw new Error(`GET /messages: ${response.status}`);
      for (const message of (await response.json()).messages) {
        after = Math.max(after, message.id);
        answered(message.data);
      }
      if (pauseMs > 0) await sleep(pauseMs);
    } catch (error) {
      tell({ type: 'error', message: String(error) });
      await sleep(RETRY_AFTER_ERROR_MS);
    }
  }
}

/** The HTTP transports send a message as the body of POST /messages. */
function httpSender(clientId) {
  return async (text) => {
    const response = await fetch(`/messages?client=${clientId}`, { method: 'POST', body: text });
    if (!response.ok) throw new Error(`POST /messages: ${response.status}`);
  };
}

async function connect() {
  if (transport === 'websocket') {
    const socket = new WebSocket(`ws://${location.host}/ws`);
    socket.onmessage = (event) => answered(event.data);
    socket.onclose = () => tell({ type: 'error', message: 'the WebSocket closed' });
    await new Promise((resolve, reject) => {
      socket.onopen = resolve;
      socket.onerror = () => reject(new Error('the WebSocket did not open'));
    });
    return async (text) => socket.send(text);
  }
  const clientId = await register();
  if (transport === 'sse') {
    const events = new EventSource(`/events?client=${clientId}`);
    events.onmessage = (event) => answered(event.data);
    await new Promise((resolve) => (events.onopen = resolve));
  } else {
    pollForever(clientId, transport === 'short-poll' ? pollIntervalMs : 0);
  }
  return httpSender(clientId);
}

let send;
try {
  send = await connect();
} catch (error) {
  tell({ type: 'error', message: String(error) });
  throw error;
}
window.addEventListener('message', async (event) => {
  if (event.origin !== parentOrigin || event.data.type !== 'send') return;
  pending.push({ text: event.data.text, sentAt: performance.now() });
  try {
    await send(event.data.text);
  } catch (error) {
    tell({ type: 'error', message: String(error) });
  }
});
tell({ type: 'ready' });
