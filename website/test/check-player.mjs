#!/usr/bin/env node
// Drives the player page in a real (headless) Chromium, as a viewer would, and reports what it saw.
//
//   node website/test/check-player.mjs --url URL --expect playing|offline
//        [--switch-rendition] [--screenshot PATH] [--timeout-ms 60000] [--switch-timeout-ms 30000]
//
// Prints ONE JSON line on stdout:
//   {"ok", "expect", "state", "protocol", "currentTimeAdvanced", "videoWidth", "videoHeight", "levels": [{"width",
//    "height", "bitrate"}], "currentRendition", "latency", "switchedTo": {...}|null, "statusText",
//    "lastError", "error"}
// and exits 0 only if every expectation held (1 otherwise, 2 on bad usage). Chromium is Debian's
// /usr/bin/chromium (override with CHROMIUM); playwright-core never downloads a browser.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';

const USAGE =
  'usage: check-player.mjs --url URL --expect playing|offline [--switch-rendition] [--screenshot PATH] [--timeout-ms 60000]';

function usage(message) {
  process.stderr.write(`check-player: ${message}\n${USAGE}\n`);
  process.exit(2);
}

let args;
try {
  ({ values: args } = parseArgs({
    options: {
      url: { type: 'string' },
      expect: { type: 'string' },
      'switch-rendition': { type: 'boolean', default: false },
      screenshot: { type: 'string' },
      'timeout-ms': { type: 'string', default: '60000' },
      'switch-timeout-ms': { type: 'string', default: '30000' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  }));
} catch (e) {
  usage(e.message);
}
if (args.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
if (!args.url) usage('--url is required');
if (args.expect !== 'playing' && args.expect !== 'offline') usage('--expect must be playing or offline');
const timeoutMs = Number(args['timeout-ms']);
const switchTimeoutMs = Number(args['switch-timeout-ms']);
if (!(timeoutMs > 0) || !(switchTimeoutMs > 0)) usage('timeouts must be positive numbers of milliseconds');
if (args['switch-rendition'] && args.expect !== 'playing') usage('--switch-rendition needs --expect playing');

const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
const ADVANCE_WINDOW_MS = 2000;
const MIN_ADVANCE_S = 0.5;

const result = {
  ok: false,
  expect: args.expect,
  state: null,
  protocol: null,
  currentTimeAdvanced: 0,
  videoWidth: 0,
  videoHeight: 0,
  levels: [],
  currentRendition: null,
  latency: null,
  switchedTo: null,
  statusText: null,
  lastError: null,
  error: null,
};
const pageErrors = [];

/** Everything the page shows, read in one go. */
async function observe(page) {
  return page.evaluate(() => {
    const p = window.player || {};
    const hls = p.hls || null;
    const video = document.getElementById('video');
    const text = (id) => {
      const el = document.getElementById(id);
      return el ? el.textContent.trim() : null;
    };
    return {
      state: document.body.dataset.state || null,
      protocol: document.body.dataset.protocol || null,
      lastError: document.body.dataset.lastError || null,
      statusText: text('status'),
      currentRendition: text('current-rendition'),
      latency: text('latency'),
      currentTime: video ? video.currentTime : 0,
      videoWidth: video ? video.videoWidth : 0,
      videoHeight: video ? video.videoHeight : 0,
      currentLevel: hls ? hls.currentLevel : null,
      levels: hls && hls.levels ? hls.levels.map((l) => ({ width: l.width, height: l.height, bitrate: l.bitrate })) : [],
    };
  });
}

function record(seen) {
  for (const key of ['state', 'protocol', 'statusText', 'currentRendition', 'latency', 'lastError', 'videoWidth', 'videoHeight']) {
    result[key] = seen[key];
  }
  if (seen.levels.length) result.levels = seen.levels;
}

/** Waits until body[data-state] is `want` (and `extra` holds); fails early on the `error` state. */
async function waitForState(page, want, timeout) {
  try {
    await page.waitForFunction(
      (want) => {
        const state = document.body.dataset.state;
        if (state === 'error') return true;
        if (state !== want) return false;
        if (want === 'offline') {
          const status = document.getElementById('status');
          return !!status && status.textContent.includes('not live');
        }
        return true;
      },
      want,
      { timeout, polling: 250 },
    );
  } catch (e) {
    if (e.name !== 'TimeoutError') throw e;
    throw new Error(`page did not reach state "${want}" within ${timeout} ms`);
  }
  const state = await page.evaluate(() => document.body.dataset.state);
  if (state !== want) throw new Error(`page reached state "${state}" while waiting for "${want}"`);
}

async function checkPlaying(page) {
  await waitForState(page, 'playing', timeoutMs);
  const before = await observe(page);
  await page.waitForTimeout(ADVANCE_WINDOW_MS);
  const after = await observe(page);
  record(after);
  result.currentTimeAdvanced = Number((after.currentTime - before.currentTime).toFixed(3));
  if (!(result.currentTimeAdvanced >= MIN_ADVANCE_S)) {
    throw new Error(`video.currentTime advanced ${result.currentTimeAdvanced} s in ${ADVANCE_WINDOW_MS} ms`);
  }
  if (!(after.videoWidth > 0)) throw new Error('video.videoWidth is 0: no decoded picture');

  if (!args['switch-rendition']) return;
  const levels = after.levels;
  if (levels.length < 2) throw new Error(`cannot switch renditions: the stream has ${levels.length} level(s)`);
  const current = after.currentLevel;
  const currentWidth = levels[current] ? levels[current].width : after.videoWidth;
  // Prefer a level of another width, so that the decoded picture proves the switch.
  let target = levels.findIndex((l, i) => i !== current && l.width !== currentWidth);
  if (target < 0) target = levels.findIndex((_, i) => i !== current);
  const level = levels[target];
  result.switchedTo = { index: target, from: current, ...level, reached: false };

  await page.selectOption('#rendition-select', String(target));
  try {
    await page.waitForFunction(
      ({ target, width }) => {
        const { hls, video } = window.player;
        return !!hls && hls.currentLevel === target && video.videoWidth === width;
      },
      { target, width: level.width },
      { timeout: switchTimeoutMs, polling: 250 },
    );
  } catch (e) {
    if (e.name !== 'TimeoutError') throw e;
    const seen = await observe(page);
    record(seen);
    throw new Error(
      `switch to level ${target} (${level.width}x${level.height}) not seen within ${switchTimeoutMs} ms: ` +
        `currentLevel=${seen.currentLevel}, videoWidth=${seen.videoWidth}`,
    );
  }
  result.switchedTo.reached = true;
  // The label follows on the next LEVEL_SWITCHED; give it a moment, then check the page says so.
  const label = `${level.width}x${level.height}`;
  await page
    .waitForFunction((label) => document.getElementById('current-rendition').textContent.includes(label), label, {
      timeout: 5000,
      polling: 250,
    })
    .catch(() => {});
  const seen = await observe(page);
  record(seen);
  if (!seen.currentRendition || !seen.currentRendition.includes(label)) {
    throw new Error(`#current-rendition shows "${seen.currentRendition}", expected ${label}`);
  }
  if (seen.state !== 'playing') throw new Error(`state is "${seen.state}" after the switch`);
}

async function checkOffline(page) {
  await waitForState(page, 'offline', timeoutMs);
  record(await observe(page));
}

let context = null;
let userDataDir = null;
let exitCode = 1;

async function cleanup() {
  const closing = context;
  context = null;
  if (closing) await closing.close().catch(() => {});
  if (userDataDir) await rm(userDataDir, { recursive: true, force: true }).catch(() => {});
  userDataDir = null;
}

// A last resort: whatever hangs, the browser is closed and the process ends.
const watchdog = setTimeout(
  async () => {
    result.error = result.error || 'watchdog: the check took too long';
    await cleanup();
    process.stdout.write(`${JSON.stringify(result)}\n`);
    process.exit(1);
  },
  timeoutMs + switchTimeoutMs + 60000,
);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, async () => {
    await cleanup();
    process.exit(130);
  });
}

try {
  userDataDir = await mkdtemp(path.join(tmpdir(), 'check-player-'));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
    viewport: { width: 1280, height: 800 },
    timeout: 30000,
  });
  const page = context.pages()[0] || (await context.newPage());
  page.on('pageerror', (e) => pageErrors.push(String(e && e.message ? e.message : e)));
  page.on('console', (m) => {
    if (m.type() === 'error') pageErrors.push(m.text());
  });
  const response = await page.goto(args.url, { waitUntil: 'domcontentloaded', timeout: 30000 });
  if (!response || !response.ok()) {
    throw new Error(`GET ${args.url}: HTTP ${response ? response.status() : 'no response'}`);
  }
  if (args.expect === 'playing') await checkPlaying(page);
  else await checkOffline(page);
  result.ok = true;
  exitCode = 0;
} catch (e) {
  result.error = e && e.message ? e.message.split('\n')[0] : String(e);
  if (pageErrors.length) result.error += ` | page errors: ${pageErrors.slice(-3).join(' ; ')}`;
} finally {
  if (context) {
    const page = context.pages()[0];
    if (page) {
      try {
        if (!result.state) record(await observe(page));
        if (args.screenshot) await page.screenshot({ path: args.screenshot, fullPage: true });
      } catch (e) {
        if (!result.error) result.error = `screenshot: ${e.message}`;
        result.ok = false;
        exitCode = 1;
      }
    }
  }
  await cleanup();
  clearTimeout(watchdog);
}
process.stdout.write(`${JSON.stringify(result)}\n`);
process.exitCode = exitCode;
