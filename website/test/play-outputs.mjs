#!/usr/bin/env node
// Plays a live output URL with a third-party player in headless Chromium and reports whether it
// started, whether it stalled, and the player's own latency figure.
//
//   node website/test/play-outputs.mjs --player hlsjs|shaka|dashjs --url URL [--low-latency]
//        [--watch-s 15] [--max-latency-s 30] [--max-stalls 0] [--timeout-ms 45000]
//
// The video element is 640x360 and each player picks renditions that fit it (hls.js
// capLevelToPlayerSize, Shaka abr.restrictToElementSize, dash.js abr.limitBitrateByPortal), as an
// embedded player does: a headless Chromium sharing 2 cores with the encoder decodes 720p, not 1080p.
// Latency is each player's own: hls.js `hls.latency`, Shaka `player.getStats().liveLatency`,
// dash.js `player.getCurrentLiveLatency()`. A stall is a `waiting` event, or a 1.5 s stretch in
// which currentTime did not move, after playback started.
//
// Prints ONE JSON line: {"ok", "player", "url", "lowLatency", "startedMs", "watchedS", "advancedS",
// "stalls", "latency": {"last", "min", "max", "samples"}, "width", "height", "httpErrors", "error"} and exits 0
// only if it started, stalled at most --max-stalls times (0: never) and the last latency figure is
// within --max-latency-s.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';

const { values: args } = parseArgs({
  options: {
    player: { type: 'string' },
    url: { type: 'string' },
    'low-latency': { type: 'boolean', default: false },
    'watch-s': { type: 'string', default: '15' },
    'max-latency-s': { type: 'string', default: '30' },
    'max-stalls': { type: 'string', default: '0' },
    'timeout-ms': { type: 'string', default: '45000' },
  },
  strict: true,
});
const modules = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'node_modules');
const LIBRARIES = {
  hlsjs: 'hls.js/dist/hls.min.js',
  shaka: 'shaka-player/dist/shaka-player.compiled.js',
  dashjs: 'dashjs/dist/modern/umd/dash.all.min.js',
};
if (!LIBRARIES[args.player] || !args.url) {
  process.stderr.write('usage: play-outputs.mjs --player hlsjs|shaka|dashjs --url URL [--low-latency]\n');
  process.exit(2);
}
const watchS = Number(args['watch-s']);
const maxLatency = Number(args['max-latency-s']);
const timeoutMs = Number(args['timeout-ms']);
// The page is served on the stream's own origin (routed, never reaching the server): a page on
// another origin would meet CORS and Chromium's private network checks for 127.0.0.1.
const ORIGIN = `${new URL(args.url).origin}/__players`;

const result = {
  ok: false,
  player: args.player,
  url: args.url,
  lowLatency: args['low-latency'],
  startedMs: null,
  watchedS: 0,
  advancedS: 0,
  stalls: 0,
  latency: { last: null, min: null, max: null, samples: 0 },
  width: 0,
  height: 0,
  httpErrors: [],
  error: null,
};

// The page: a muted video and the player, started by start(url, lowLatency) below.
const PAGE = `<!doctype html><html><body><video id="v" muted playsinline width="640" height="360"></video>
<script src="lib.js"></script><script>
window.report = { started: 0, waiting: 0, errors: [] };
const video = document.getElementById('v');
video.addEventListener('playing', () => { if (!report.started) report.started = performance.now(); });
video.addEventListener('waiting', () => { if (report.started) report.waiting += 1; });
window.latency = () => null;
window.start = async (kind, url, lowLatency) => {
  if (kind === 'hlsjs') {
    const hls = new Hls({ lowLatencyMode: lowLatency, capLevelToPlayerSize: true });
    hls.on(Hls.Events.ERROR, (_, d) => { if (d.fatal) report.errors.push('hls.js: ' + d.details); });
    hls.on(Hls.Events.MANIFEST_PARSED, () => video.play().catch(() => {}));
    hls.loadSource(url);
    hls.attachMedia(video);
    window.latency = () => hls.latency;
  } else if (kind === 'shaka') {
    shaka.polyfill.installAll();
    const player = new shaka.Player();
    await player.attach(video);
    player.configure({ streaming: { lowLatencyMode: lowLatency }, abr: { restrictToElementSize: true } });
    player.addEventListener('error', (e) => report.errors.push('shaka: ' + e.detail.code));
    await player.load(url);
    video.play().catch(() => {});
    window.latency = () => player.getStats().liveLatency;
  } else {
    const player = dashjs.MediaPlayer().create();
    player.on(dashjs.MediaPlayer.events.ERROR, (e) => report.errors.push('dash.js: ' + JSON.stringify(e.error)));
    player.updateSettings({
      debug: { logLevel: window.debugLevel || 1 },
      streaming: { abr: { limitBitrateByPortal: true } },
    });
    // dash.js starts playback itself: a play() before it listens would leave it thinking the
    // video is paused (it then never refreshes the MPD).
    player.initialize(video, url, true);
    window.latency = () => player.getCurrentLiveLatency();
  }
};
</script></body></html>`;

let context = null;
let userDataDir = null;
const watchdog = setTimeout(async () => {
  result.error = result.error || 'watchdog: the check took too long';
  if (context) await context.close().catch(() => {});
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(1);
}, timeoutMs + watchS * 1000 + 30000);

try {
  const library = await readFile(path.join(modules, LIBRARIES[args.player]));
  userDataDir = await mkdtemp(path.join(tmpdir(), 'play-outputs-'));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--autoplay-policy=no-user-gesture-required', '--disable-quic'],
  });
  const page = context.pages()[0] || (await context.newPage());
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(String(e.message || e)));
  // PLAYERS_DEBUG=1: the page's console on stderr.
  if (process.env.PLAYERS_DEBUG) page.on('console', (m) => process.stderr.write(`[${m.type()}] ${m.text()}\n`));
  page.on('response', (r) => {
    if (r.status() >= 400 && result.httpErrors.length < 5) result.httpErrors.push(`${r.status()} ${r.url()}`);
  });
  await page.route(`${ORIGIN}/**`, (route) => {
    const url = new URL(route.request().url());
    if (url.pathname.endsWith('/lib.js')) return route.fulfill({ body: library, contentType: 'text/javascript' });
    return route.fulfill({ body: PAGE, contentType: 'text/html' });
  });
  await page.goto(`${ORIGIN}/page.html`, { waitUntil: 'load' });
  if (process.env.PLAYERS_DEBUG) await page.evaluate((l) => { window.debugLevel = l; }, Number(process.env.PLAYERS_DEBUG));
  await page.evaluate(([kind, url, ll]) => window.start(kind, url, ll), [args.player, args.url, args['low-latency']]);
  const loaded = Date.now();
  await page
    .waitForFunction(() => report.started > 0 || report.errors.length > 0, null, { timeout: timeoutMs, polling: 200 })
    .catch(() => {});
  let seen = await page.evaluate(() => ({ ...report, t: document.getElementById('v').currentTime }));
  if (!seen.started) throw new Error(`no playback within ${timeoutMs} ms ${seen.errors.join(' ; ')} ${pageErrors.join(' ; ')}`);
  result.startedMs = Date.now() - loaded;
  // Watch: sample currentTime and the latency figure twice a second.
  const latencies = [];
  const first = seen.t;
  let lastMove = Date.now();
  let lastT = first;
  let frozen = 0;
  const end = Date.now() + watchS * 1000;
  while (Date.now() < end) {
    await page.waitForTimeout(500);
    seen = await page.evaluate(() => {
      const v = document.getElementById('v');
      return { ...report, t: v.currentTime, w: v.videoWidth, h: v.videoHeight, latency: window.latency() };
    });
    if (seen.t > lastT) {
      lastT = seen.t;
      lastMove = Date.now();
    } else if (Date.now() - lastMove > 1500) {
      frozen += 1;
      lastMove = Date.now();
    }
    if (Number.isFinite(seen.latency) && seen.latency > 0) latencies.push(seen.latency);
  }
  result.watchedS = watchS;
  result.advancedS = Number((seen.t - first).toFixed(3));
  result.stalls = seen.waiting + frozen;
  result.width = seen.w;
  result.height = seen.h;
  const round = (x) => Number(x.toFixed(2));
  if (latencies.length) {
    result.latency = {
      last: round(latencies[latencies.length - 1]),
      min: round(Math.min(...latencies)),
      max: round(Math.max(...latencies)),
      samples: latencies.length,
    };
  }
  if (seen.errors.length) throw new Error(seen.errors.join(' ; '));
  if (result.stalls > Number(args['max-stalls'])) throw new Error(`${result.stalls} stall(s) in ${watchS} s`);
  if (!(result.latency.last > 0 && result.latency.last <= maxLatency)) {
    throw new Error(`latency ${result.latency.last} s is not within (0, ${maxLatency}] s`);
  }
  result.ok = true;
} catch (e) {
  result.error = e && e.message ? e.message.split('\n')[0] : String(e);
} finally {
  if (context) await context.close().catch(() => {});
  if (userDataDir) await rm(userDataDir, { recursive: true, force: true }).catch(() => {});
  clearTimeout(watchdog);
}
process.stdout.write(`${JSON.stringify(result)}\n`);
process.exitCode = result.ok ? 0 : 1;
