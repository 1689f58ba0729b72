#!/usr/bin/env node
// One case of hack/bench-latency.sh: plays an HLS or DASH URL in headless Chromium (Debian's
// /usr/bin/chromium through playwright-core) with hack/bench/latency.html and --player (hlsjs,
// shaka or dashjs), as --joins viewers who
// join one after another, each in a fresh page: join k starts --slot-s after join k-1 started
// (so the joins fall at different points of the segment cadence), plays --warmup-s, then takes
// --samples samples --interval-s apart, each the median latency of the frames presented in the
// second before it; a join's latency is the median of its samples, and its player latency the
// median of the player's own latency figure read at the same moments. Meanwhile the CPU time of the
// process trees rooted at --pids (utime+stime+cutime+cstime of every live process, from /proc) is
// measured.
//
//   node hack/bench/latency.mjs --url URL [--player hlsjs] [--low-latency] [--pids "1 2"] [--joins 5] [--slot-s 8]
//        [--warmup-s 4] [--samples 2] [--interval-s 1] [--timeout-s 120]
//
// Prints one JSON line: {"ok", "joins": [s...], "playerJoins": [s...], "latencies": [s...], "cpuPercent", "frames",
// "undecoded", "errors", "error"}.
import { readFile, readdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createRequire } from 'node:module';

const here = path.dirname(fileURLToPath(import.meta.url));
const website = path.join(here, '..', '..', 'website');
const require = createRequire(path.join(website, 'package.json'));
const { chromium } = require('playwright-core');

const { values: args } = parseArgs({
  options: {
    url: { type: 'string' },
    player: { type: 'string', default: 'hlsjs' },
    'low-latency': { type: 'boolean', default: false },
    pids: { type: 'string', default: '' },
    joins: { type: 'string', default: '5' },
    'slot-s': { type: 'string', default: '8' },
    'warmup-s': { type: 'string', default: '4' },
    samples: { type: 'string', default: '2' },
    'interval-s': { type: 'string', default: '1' },
    'timeout-s': { type: 'string', default: '120' },
    'clk-tck': { type: 'string', default: '100' },
  },
  strict: true,
});
if (!args.url) {
  process.stderr.write('latency.mjs: --url is required\n');
  process.exit(2);
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

// CPU ticks of the trees rooted at pids: a reaped child's time is in its parent's cutime/cstime.
async function treeTicks(roots) {
  let ticks = 0;
  const seen = new Set();
  const stack = [...roots];
  while (stack.length) {
    const pid = stack.pop();
    if (seen.has(pid)) continue;
    seen.add(pid);
    try {
      const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
      for (const tid of await readdir(`/proc/${pid}/task`)) {
        const children = await readFile(`/proc/${pid}/task/${tid}/children`, 'utf8').catch(() => '');
        stack.push(...children.split(' ').filter(Boolean));
      }
    } catch {
      // exited meanwhile
    }
  }
  return ticks;
}

const LIBRARIES = {
  hlsjs: ['hls.js', 'dist', 'hls.js'],
  shaka: ['shaka-player', 'dist', 'shaka-player.compiled.js'],
  dashjs: ['dashjs', 'dist', 'modern', 'umd', 'dash.all.min.js'],
};
if (!LIBRARIES[args.player]) {
  process.stderr.write('latency.mjs: --player is hlsjs, shaka or dashjs\n');
  process.exit(2);
}
const result = { ok: false, player: args.player, joins: [], playerJoins: [], latencies: [], cpuPercent: null, frames: 0, undecoded: 0, errors: [], error: null };
const pids = args.pids.split(/\s+/).filter(Boolean);
const origin = new URL(args.url).origin;
let context;
let userDataDir;
let exitCode = 1;
const deadline = setTimeout(() => {
  result.error = `timed out after ${args['timeout-s']} s`;
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(1);
}, Number(args['timeout-s']) * 1000);
try {
  userDataDir = await mkdtemp(path.join(tmpdir(), 'bench-latency-'));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--disable-quic', '--autoplay-policy=no-user-gesture-required'],
    viewport: { width: 800, height: 600 },
    timeout: 30000,
  });
  const page = context.pages()[0] || (await context.newPage());
  // The page and hls.js are served on the stream's own origin: no CORS in the way.
  const files = {
    'latency.html': [path.join(here, 'latency.html'), 'text/html'],
    'player-lib.js': [path.join(website, 'node_modules', ...LIBRARIES[args.player]), 'text/javascript'],
  };
  await page.route(`${origin}/__bench/*`, async (route) => {
    const name = new URL(route.request().url()).pathname.split('/').pop();
    if (!files[name]) return route.fulfill({ status: 404, body: 'no such file' });
    return route.fulfill({ status: 200, contentType: files[name][1], body: await readFile(files[name][0]) });
  });
  const joins = Number(args.joins);
  const ticks0 = await treeTicks(pids);
  const t0 = performance.now();
  for (let k = 0; k < joins; k++) {
    const wait = t0 + k * Number(args['slot-s']) * 1000 - performance.now();
    if (wait > 0) await sleep(wait);
    const url = `${origin}/__bench/latency.html?player=${args.player}&ll=${args['low-latency'] ? 1 : 0}&src=${encodeURIComponent(args.url)}`;
    await page.goto(url);
    await page.waitForFunction(() => window.bench && window.bench.playingSince, null, { timeout: 30000, polling: 200 });
    await sleep(Number(args['warmup-s']) * 1000);
    const samples = [];
    const own = [];
    for (let i = 0; i < Number(args.samples); i++) {
      await sleep(Number(args['interval-s']) * 1000);
      const [recent, figure] = await page.evaluate(() => {
        const since = Date.now() - 1000;
        return [window.bench.samples.filter(([at]) => at >= since).map(([, ms]) => ms), window.bench.playerLatency()];
      });
      if (recent.length) samples.push(median(recent) / 1000);
      if (Number.isFinite(figure)) own.push(figure);
    }
    result.latencies.push(...samples);
    if (samples.length) result.joins.push(median(samples));
    if (own.length) result.playerJoins.push(median(own));
    const seen = await page.evaluate(() => ({ frames: window.bench.samples.length, undecoded: window.bench.undecoded, errors: window.bench.errors }));
    result.frames += seen.frames;
    result.undecoded += seen.undecoded;
    result.errors.push(...seen.errors);
  }
  const ticks1 = await treeTicks(pids);
  const wall = (performance.now() - t0) / 1000;
  if (pids.length) result.cpuPercent = (100 * (ticks1 - ticks0)) / Number(args['clk-tck']) / wall;
  result.errors = [...new Set(result.errors)].slice(0, 5);
  result.ok = result.joins.length === joins;
  if (!result.ok) result.error = `only ${result.joins.length} of ${joins} joins had decodable frames`;
  exitCode = result.ok ? 0 : 1;
} catch (e) {
  result.error = e && e.message ? e.message.split('\n')[0] : String(e);
} finally {
  clearTimeout(deadline);
  if (context) await context.close().catch(() => {});
  if (userDataDir) await rm(userDataDir, { recursive: true, force: true }).catch(() => {});
}
process.stdout.write(`${JSON.stringify(result)}\n`);
process.exit(exitCode);
