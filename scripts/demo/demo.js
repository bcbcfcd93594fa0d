/* global document, window, fetch, setTimeout, performance */
// The demo page: one hidden frame per transport, each served by that transport's relay so it
// talks to its server from the same origin (no CORS), with the browser's own fetch,
// EventSource and WebSocket. This page sends the message to one frame or to all four and
// shows the answers; it polls the relays' exact byte counts, puts them side by side, and draws
// them over time (plain SVG: the page needs nothing from outside).

const LABELS = { 'short-poll': 'Short polling', 'long-poll': 'Long polling', sse: 'Server-Sent Events', websocket: 'WebSocket' };
const COUNTERS_EVERY_MS = 500;
/** The chart shows this much of the past at most. */
const CHART_WINDOW_MS = 120_000;
/** ...and at least this much time on its axis. */
const CHART_MIN_SPAN_MS = 30_000;
const REPLIES_SHOWN = 5;
const PARTS = ['payload', 'headers', 'framing', 'setup'];
const SVG = 'http://www.w3.org/2000/svg';

const config = await (await fetch('/api/config')).json();
const transports = Object.keys(config.transports);
const frames = new Map();
const ready = new Set();
const openedAt = performance.now();
/** The relays' totals (both ways) at each refresh: { at (ms since the page opened), totals: { transport: bytes } }. */
const history = [];
/** When messages were sent, in ms since the page opened. */
const sends = [];
/** Each transport's total bytes, both ways, just before its last send. */
const beforeLastSend = new Map();
/** The relays' latest counts. */
let latest = {};

function element(tag, attributes = {}, text = '') {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  node.textContent = text;
  return node;
}

function svgElement(tag, attributes = {}, text = '') {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
  node.textContent = text;
  return node;
}

function bytes(count) {
  return count.toLocaleString('en');
}

/** "1,000 ms", "30 s". */
function duration(ms) {
  return ms >= 10_000 && ms % 1000 === 0 ? `${ms / 1000} s` : `${ms.toLocaleString('en')} ms`;
}

/** How a transport waits for an answer: in a word, and in a sentence. */
function waits(transport) {
  const { shortPollIntervalMs, longPollHoldMs } = config.waits;
  switch (transport) {
    case 'short-poll':
      return {
        brief: `polls every ${duration(shortPollIntervalMs)}`,
        full:
          `Asks GET /messages every ${duration(shortPollIntervalMs)}, whether or not anything came. An answer waits on the server for the next ask: ` +
          `from 0 to ${duration(shortPollIntervalMs)}, ${duration(shortPollIntervalMs / 2)} on average.`,
      };
    case 'long-poll':
      return {
        brief: `poll held up to ${duration(longPollHoldMs)}`,
        full:
          `Each GET /messages is held by the server until there is an answer (or for ${duration(longPollHoldMs)}, then answered empty), ` +
          'and asked again at once: an answer leaves as soon as it is ready.',
      };
    case 'sse':
      return {
        brief: 'one open event stream',
        full: 'One GET /events stays open; the server writes each answer into it as an event as soon as it is ready. Messages go up as POST requests.',
      };
    default:
      return { brief: 'one open connection', full: 'One connection, upgraded from HTTP once; each message and each answer is a frame on it.' };
  }
}

function accent(transport) {
  return `--accent: var(--${transport})`;
}

function label(transport) {
  const name = element('span', {}, LABELS[transport]);
  name.prepend(element('span', { class: 'swatch', style: accent(transport) }));
  return name;
}

function total(split) {
  return split.up.total + split.down.total;
}

/** Sends `text` over each of `names`, after reading the relays' counts, so that what the send costs can be shown. */
async function send(names, text) {
  sends.push(performance.now() - openedAt);
  try {
    latest = await (await fetch('/api/bytes')).json();
  } catch {
    // the counts are shown as they were
  }
  for (const transport of names) {
    if (latest[transport] !== undefined) beforeLastSend.set(transport, total(latest[transport]));
    frames.get(transport).contentWindow.postMessage({ type: 'send', text }, config.transports[transport]);
  }
}

function panel(transport, origin) {
  const box = element('section', { class: 'card panel', id: `panel-${transport}`, style: accent(transport) });
  box.append(element('h2', {}, LABELS[transport]), element('p', { class: 'waits', id: `waits-${transport}` }, waits(transport).full));
  const button = element('button', { 'data-transport': transport, disabled: '' }, `Send over ${LABELS[transport]}`);
  button.addEventListener('click', () => send([transport], document.getElementById('message').value));
  box.append(button, element('p', { class: 'status', id: `status-${transport}` }, 'connecting…'));
  const counters = element('table', { class: 'counters', id: `counters-${transport}` });
  counters.append(countersHead());
  box.append(counters, element('ol', { class: 'replies', id: `replies-${transport}` }));
  const frame = element('iframe', { src: `${origin}/echo.html`, title: `${LABELS[transport]} client` });
  frames.set(transport, frame);
  box.append(frame);
  return box;
}

function countersHead() {
  const head = element('thead');
  const row = element('tr');
  row.append(element('th', {}, 'bytes'), element('th', { class: 'number' }, 'sent'), element('th', { class: 'number' }, 'received'));
  head.append(row);
  return head;
}

function countersBody(split) {
  const body = element('tbody');
  for (const part of [...PARTS, 'total']) {
    const row = element('tr', part === 'total' ? { class: 'total' } : {});
    row.append(element('th', {}, part), element('td', { class: 'number' }, bytes(split.up[part])), element('td', { class: 'number' }, bytes(split.down[part])));
    body.append(row);
  }
  return body;
}

function compareTable() {
  const table = document.getElementById('compare');
  const head = element('thead');
  const titles = element('tr');
  titles.append(
    element('th', {}, 'transport'),
    element('th', {}, 'how it waits for an answer'),
    element('th', { class: 'number' }, 'last answer after'),
    element('th', { class: 'number' }, 'bytes sent'),
    element('th', { class: 'number' }, 'bytes received'),
    element('th', { class: 'number' }, 'total'),
    element('th', { class: 'number' }, 'since the last send'),
  );
  head.append(titles);
  const body = element('tbody');
  for (const transport of transports) {
    const row = element('tr', { id: `compare-${transport}` });
    const name = element('th');
    name.append(label(transport));
    row.append(
      name,
      element('td', { class: 'waits' }, waits(transport).brief),
      element('td', { class: 'number', id: `latency-${transport}` }, '–'),
      element('td', { class: 'number', id: `sent-${transport}` }, '–'),
      element('td', { class: 'number', id: `received-${transport}` }, '–'),
      element('td', { class: 'number', id: `total-${transport}` }, '–'),
      element('td', { class: 'number', id: `since-${transport}` }, '–'),
    );
    body.append(row);
  }
  table.append(head, body);
}

document.getElementById('compare-note').textContent =
  `An answer over short polling waits on the server for the client's next poll: from 0 to ${duration(config.waits.shortPollIntervalMs)} after the message, ` +
  `${duration(config.waits.shortPollIntervalMs / 2)} on average. The others send it as soon as it is ready. "Since the last send" counts every byte since ` +
  'then, the polls that went on meanwhile included; the chart marks each send with a dashed line.';

const panels = document.getElementById('panels');
for (const [transport, origin] of Object.entries(config.transports)) panels.append(panel(transport, origin));
compareTable();
for (const transport of transports) {
  const item = element('li');
  item.append(label(transport), ' ', element('span', { id: `legend-${transport}` }, ''));
  document.getElementById('legend').append(item);
}

const sendAll = document.getElementById('send-all');
sendAll.addEventListener('click', () => send(transports, document.getElementById('message').value));

window.addEventListener('message', (event) => {
  const transport = transports.find((name) => config.transports[name] === event.origin);
  if (transport === undefined) return;
  const message = event.data;
  const status = document.getElementById(`status-${transport}`);
  if (message.type === 'ready') {
    status.textContent = 'connected';
    document.querySelector(`button[data-transport="${transport}"]`).removeAttribute('disabled');
    ready.add(transport);
    if (ready.size === transports.length) sendAll.removeAttribute('disabled');
  } else if (message.type === 'reply') {
    const latency = message.latencyMs === null ? '' : `${message.latencyMs.toFixed(1)} ms`;
    const item = element('li');
    item.append(element('code', { class: 'reply' }, message.text), ` ${latency}`);
    const replies = document.getElementById(`replies-${transport}`);
    replies.prepend(item);
    while (replies.children.length > REPLIES_SHOWN) replies.lastElementChild.remove();
    if (latency !== '') document.getElementById(`latency-${transport}`).textContent = latency;
  } else if (message.type === 'error') {
    status.textContent = `error: ${message.message}`;
  }
});

/** A round number at or above `value`: 1, 2 or 5 times a power of ten. */
function niceStep(value) {
  const power = 10 ** Math.floor(Math.log10(value));
  return [1, 2, 5, 10].map((factor) => factor * power).find((step) => step >= value);
}

/** An axis label: "0", "500 B", "20 kB", "1.5 MB" (the steps are round in thousands). */
function shortBytes(count) {
  if (count >= 1e6) return `${(count / 1e6).toLocaleString('en')} MB`;
  if (count >= 1e3) return `${(count / 1e3).toLocaleString('en')} kB`;
  return count === 0 ? '0' : `${count} B`;
}

/** Each transport's bytes, both ways, over the last CHART_WINDOW_MS; a dashed line at each send. */
function drawChart() {
  const svg = document.getElementById('chart');
  const width = Math.max(240, svg.clientWidth);
  const height = Math.max(140, svg.clientHeight);
  const box = { left: 62, right: 12, top: 10, bottom: 24 };
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  const now = performance.now() - openedAt;
  const start = Math.max(0, now - CHART_WINDOW_MS);
  const end = Math.max(now, start + CHART_MIN_SPAN_MS);
  const shown = history.filter((point) => point.at >= start);
  const highest = Math.max(1, ...shown.flatMap((point) => Object.values(point.totals)));
  const yStep = niceStep(highest / 4);
  const yMax = Math.ceil(highest / yStep) * yStep;
  const x = (at) => box.left + ((at - start) / (end - start)) * (width - box.left - box.right);
  const y = (count) => height - box.bottom - (count / yMax) * (height - box.top - box.bottom);
  const parts = [];
  for (let count = 0; count <= yMax; count += yStep) {
    parts.push(svgElement('line', { x1: box.left, x2: width - box.right, y1: y(count), y2: y(count), stroke: '#e4e4e4' }));
    parts.push(svgElement('text', { x: box.left - 6, y: y(count) + 4, 'text-anchor': 'end' }, shortBytes(count)));
  }
  const xStep = niceStep((end - start) / 1000 / 6) * 1000;
  for (let at = Math.ceil(start / xStep) * xStep; at <= end; at += xStep) {
    parts.push(svgElement('text', { x: x(at), y: height - 6, 'text-anchor': 'middle' }, `${Math.round(at / 1000)} s`));
  }
  for (const at of sends.filter((time) => time >= start)) {
    parts.push(svgElement('line', { x1: x(at), x2: x(at), y1: box.top, y2: height - box.bottom, stroke: '#999', 'stroke-dasharray': '4 3' }));
  }
  for (const transport of transports) {
    const points = shown.map((point) => `${x(point.at).toFixed(1)},${y(point.totals[transport]).toFixed(1)}`);
    if (points.length > 0) {
      parts.push(
        svgElement('polyline', {
          points: points.join(' '),
          fill: 'none',
          style: `stroke: var(--${transport})`,
          'stroke-width': 2,
          'data-transport': transport,
        }),
      );
    }
  }
  svg.replaceChildren(...parts);
}

function show(counts) {
  latest = counts;
  const totals = {};
  for (const [transport, split] of Object.entries(counts)) {
    const table = document.getElementById(`counters-${transport}`);
    table.querySelector('tbody')?.remove();
    table.append(countersBody(split));
    totals[transport] = total(split);
    document.getElementById(`sent-${transport}`).textContent = bytes(split.up.total);
    document.getElementById(`received-${transport}`).textContent = bytes(split.down.total);
    document.getElementById(`total-${transport}`).textContent = bytes(totals[transport]);
    const before = beforeLastSend.get(transport);
    if (before !== undefined) document.getElementById(`since-${transport}`).textContent = bytes(totals[transport] - before);
    document.getElementById(`legend-${transport}`).textContent = `${bytes(totals[transport])} bytes`;
  }
  const at = performance.now() - openedAt;
  history.push({ at, totals });
  while (history.length > 0 && history[0].at < at - CHART_WINDOW_MS - COUNTERS_EVERY_MS) history.shift();
  drawChart();
}

async function refreshCounters() {
  try {
    show(await (await fetch('/api/bytes')).json());
  } finally {
    setTimeout(refreshCounters, COUNTERS_EVERY_MS);
  }
}
refreshCounters();
