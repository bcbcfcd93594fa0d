/* global document, window, fetch, setTimeout */
// The demo page: one hidden frame per transport, each served by that transport's relay so it
// talks to its server from the same origin (no CORS), with the browser's own fetch,
// EventSource and WebSocket. This page sends the message to a frame and shows the answer, and
// polls the relays' exact byte counts.

const LABELS = { 'short-poll': 'Short polling', 'long-poll': 'Long polling', sse: 'Server-Sent Events', websocket: 'WebSocket' };
const COUNTERS_EVERY_MS = 500;

const config = await (await fetch('/api/config')).json();
const frames = new Map();

function element(tag, attributes = {}, text = '') {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  node.textContent = text;
  return node;
}

function panel(transport, origin) {
  const box = element('section', { class: 'panel', id: `panel-${transport}` });
  box.append(element('h2', {}, LABELS[transport]));
  const button = element('button', { 'data-transport': transport, disabled: '' }, `Send over ${LABELS[transport]}`);
  button.addEventListener('click', () => {
    const text = document.getElementById('message').value;
    frames.get(transport).contentWindow.postMessage({ type: 'send', text }, origin);
  });
  box.append(button, element('p', { class: 'status', id: `status-${transport}` }, 'connecting…'));
  box.append(element('table', { class: 'counters', id: `counters-${transport}` }), element('ol', { id: `replies-${transport}` }));
  const frame = element('iframe', { src: `${origin}/echo.html` });
  frames.set(transport, frame);
  box.append(frame);
  return box;
}

const panels = document.getElementById('panels');
for (const [transport, origin] of Object.entries(config.transports)) panels.append(panel(transport, origin));

window.addEventListener('message', (event) => {
  const transport = Object.keys(config.transports).find((name) => config.transports[name] === event.origin);
  if (transport === undefined) return;
  const message = event.data;
  const status = document.getElementById(`status-${transport}`);
  if (message.type === 'ready') {
    status.textContent = 'connected';
    document.querySelector(`button[data-transport="${transport}"]`).removeAttribute('disabled');
  } else if (message.type === 'reply') {
    const item = element('li');
    item.append(element('code', { class: 'reply' }, message.text), ` ${message.latencyMs === null ? '' : `${message.latencyMs.toFixed(1)} ms`}`);
    document.getElementById(`replies-${transport}`).prepend(item);
  } else if (message.type === 'error') {
    status.textContent = `error: ${message.message}`;
  }
});

function countersRows(bytes) {
  const row = (label, split) =>
    `<tr><th>${label}</th><td>${split.total}</td><td>${split.payload}</td><td>${split.headers}</td><td>${split.framing}</td><td>${split.setup}</td></tr>`;
  return `<tr><th>bytes</th><th>total</th><th>payload</th><th>headers</th><th>framing</th><th>setup</th></tr>${row('sent', bytes.up)}${row('received', bytes.down)}`;
}

async function refreshCounters() {
  try {
    const counts = await (await fetch('/api/bytes')).json();
    for (const [transport, bytes] of Object.entries(counts)) document.getElementById(`counters-${transport}`).innerHTML = countersRows(bytes);
  } finally {
    setTimeout(refreshCounters, COUNTERS_EVERY_MS);
  }
}
refreshCounters();
