// An audience for hack/bench-viewers.sh: N lightweight HLS "players" in one Node process, each
// following a live stream as hls.js does in live mode, without decoding anything:
//
//   - fetch the multivariant (master) playlist, pick a rendition (viewer i takes variant i mod the
//     number of variants, so the audience is spread evenly over the ladder);
//   - load the media playlist, start 3 segments from the live edge (hls.js' liveSyncDurationCount),
//     then reload it every target duration / 2 and download each segment it has not had yet,
//     one at a time, in order, each exactly once;
//   - viewers arrive spread over the first target duration (random phases, not one herd).
//
// Each viewer keeps its own keep-alive connections (an http.Agent with 2 sockets: a playlist
// reload and a segment download may overlap, as in a browser). Time to first byte is from the
// request to the response's headers. Bodies are counted and dropped.
//
//   node hack/bench/viewers.mjs --url http://127.0.0.1:PORT/out/v1/hls/index.m3u8 --viewers 100 --duration-s 40
//
// Prints one JSON line: per request kind (master, playlist, segment) the count, errors, TTFB
// p50/p99 in ms, bytes and (segments) how many took longer than the target duration to download; per rendition the viewers, segment requests, distinct segments and
// playlist requests; the process' own CPU (% of one core) over the run and its event loop's delay
// p99 (how late the viewers themselves were: a starved client inflates its own TTFB).
import http from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    url: { type: 'string' },
    viewers: { type: 'string', default: '100' },
    'duration-s': { type: 'string', default: '40' },
    'timeout-ms': { type: 'string', default: '10000' },
  },
});
if (!args.url) {
  console.error('usage: viewers.mjs --url MASTER --viewers N --duration-s S');
  process.exit(2);
}
const VIEWERS = Number(args.viewers);
const DURATION_MS = Number(args['duration-s']) * 1000;
const TIMEOUT_MS = Number(args['timeout-ms']);

const kinds = {};
for (const k of ['master', 'playlist', 'segment']) kinds[k] = { count: 0, errors: 0, ttfb: [], bytes: 0, why: {}, slow: 0 };
// A segment whose download (request to last byte) takes longer than this is slower than real time.
let targetMs = 2000;
const renditions = new Map(); // uri -> {viewers, segmentRequests, segments:Set, playlistRequests}

function rendition(uri) {
  if (!renditions.has(uri)) renditions.set(uri, { viewers: 0, segmentRequests: 0, segments: new Set(), playlistRequests: 0 });
  return renditions.get(uri);
}

let stopping = false;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// get(agent, url, kind): the body (a string for playlists) or null; counts and times it.
function get(agent, url, kind, text) {
  const stat = kinds[kind];
  stat.count++;
  const started = performance.now();
  return new Promise((resolve) => {
    const fail = (why) => {
      stat.errors++;
      stat.why[why] = (stat.why[why] || 0) + 1;
      resolve(null);
    };
    const req = http.get(url, { agent }, (res) => {
      stat.ttfb.push(performance.now() - started);
      const chunks = [];
      let length = 0;
      res.on('data', (c) => {
        length += c.length;
        if (text) chunks.push(c);
      });
      res.on('end', () => {
        stat.bytes += length;
        if (performance.now() - started > targetMs) stat.slow++;
        if (res.statusCode !== 200) return fail(`HTTP ${res.statusCode}`);
        resolve(text ? Buffer.concat(chunks).toString('utf8') : length);
      });
      res.on('error', (e) => fail(e.code || e.message));
    });
    req.setTimeout(TIMEOUT_MS, () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
    req.on('error', (e) => fail(e.code || e.message));
  });
}

function variants(master, base) {
  const lines = master.split('\n').map((l) => l.trim());
  const out = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].startsWith('#EXT-X-STREAM-INF')) {
      const uri = lines.slice(i + 1).find((l) => l && !l.startsWith('#'));
      if (uri) out.push(new URL(uri, base).href);
    }
  }
  return out;
}

// The media playlist's target duration and its segments as [sequence, absolute URL].
function media(text, base) {
  const lines = text.split('\n').map((l) => l.trim());
  let sequence = 0;
  let target = 2;
  const segments = [];
  for (const l of lines) {
    if (l.startsWith('#EXT-X-MEDIA-SEQUENCE:')) sequence = Number(l.split(':')[1]);
    else if (l.startsWith('#EXT-X-TARGETDURATION:')) target = Number(l.split(':')[1]);
    else if (l && !l.startsWith('#')) segments.push([sequence++, new URL(l, base).href]);
  }
  return { target, segments };
}

async function viewer(i) {
  await sleep(Math.random() * 2000);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 2 });
  try {
    let master = null;
    while (!stopping && master === null) {
      master = await get(agent, args.url, 'master', true);
      if (master === null) await sleep(1000);
    }
    if (stopping) return;
    const list = variants(master, args.url);
    const uri = list.length ? list[i % list.length] : args.url;
    const r = rendition(uri);
    r.viewers++;
    const queue = [];
    let next = null; // the next sequence to download
    let wake = null;
    const downloader = (async () => {
      while (!stopping) {
        if (!queue.length) {
          await new Promise((res) => (wake = res));
          continue;
        }
        const [, url] = queue.shift();
        r.segmentRequests++;
        r.segments.add(url);
        await get(agent, url, 'segment', false);
      }
    })();
    let target = 2;
    while (!stopping) {
      const loaded = performance.now();
      r.playlistRequests++;
      const text = await get(agent, uri, 'playlist', true);
      if (text !== null) {
        const m = media(text, uri);
        target = m.target || target;
        targetMs = target * 1000;
        if (next === null && m.segments.length) next = m.segments[Math.max(0, m.segments.length - 3)][0];
        for (const s of m.segments) {
          if (next !== null && s[0] >= next) {
            queue.push(s);
            next = s[0] + 1;
          }
        }
        if (wake) {
          wake();
          wake = null;
        }
      }
      const wait = (target * 1000) / 2 - (performance.now() - loaded);
      if (wait > 0) await sleep(wait);
    }
    if (wake) wake();
    await downloader;
  } finally {
    agent.destroy();
  }
}

function quantile(sorted, q) {
  if (!sorted.length) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

const loop = monitorEventLoopDelay({ resolution: 10 });
loop.enable();
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const all = Array.from({ length: VIEWERS }, (_, i) => viewer(i));
await sleep(DURATION_MS);
stopping = true;
const cpu = process.cpuUsage(cpu0);
loop.disable();
const wall = performance.now() - t0;
// In-flight requests end by themselves (timeout) — do not wait for them.
setTimeout(() => process.exit(0), 200).unref();
const out = { viewers: VIEWERS, durationS: wall / 1000, cpuPercent: ((cpu.user + cpu.system) / 1000 / wall) * 100,
  loopDelayP99Ms: loop.percentile(99) / 1e6, kinds: {}, renditions: {} };
for (const [k, s] of Object.entries(kinds)) {
  const t = s.ttfb.sort((a, b) => a - b);
  out.kinds[k] = { count: s.count, errors: s.errors, why: s.why, bytes: s.bytes, slow: s.slow, ttfbP50: quantile(t, 0.5), ttfbP99: quantile(t, 0.99) };
}
for (const [uri, r] of renditions) {
  out.renditions[new URL(uri).pathname] = {
    viewers: r.viewers,
    segmentRequests: r.segmentRequests,
    distinctSegments: r.segments.size,
    playlistRequests: r.playlistRequests,
  };
}
console.log(JSON.stringify(out));
void all;
process.exit(0);
