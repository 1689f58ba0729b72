// The LiveStream player page: one built page for every stream, configured by the config.json
// published next to it ({"title", "playbackUrl", and for MediaPackage v2 "lowLatencyUrl"}).
//
// DOM contract (used by the operator's integration tests through website/test/check-player.mjs):
//   body[data-state]     loading | offline | playing | error
//   body[data-protocol]  ll-hls (hls.js in low-latency mode on lowLatencyUrl) | hls
//   #status              the human-readable state; empty and hidden while playing
//   #video               the <video> element hls.js drives
//   #current-rendition   "WIDTHxHEIGHT · 3.4 Mb/s" of the level being played
//   #rendition-select    "auto" + one option per hls.js level (value = level index)
//   #latency             seconds behind the live edge (hls.latency), refreshed every second
//   window.player        { hls, video } (hls is the current instance; it is recreated on retries)
import Hls from 'hls.js/light';

const RETRY_MS = 5000;
// A live playlist that has not grown for this long (or 3 target durations, if longer) means the
// channel stopped: origins keep serving the last window of a stopped channel for a while.
const FROZEN_MIN_MS = 15000;
const MEDIA_RECOVERY_WINDOW_MS = 60000;
const MAX_MEDIA_RECOVERIES = 2;

const MESSAGES = {
  loading: 'Loading…',
  offline: 'The stream is not live right now. This page retries by itself.',
  config: 'This player is not configured: its config.json could not be loaded.',
  unsupported: 'This browser cannot play live HLS video.',
  media: 'The video could not be decoded in this browser.',
  fatal: 'Playback stopped because of an error.',
  autoplay: 'Press play to start the stream.',
};

const $ = (id) => document.getElementById(id);
const video = $('video');
const statusEl = $('status');
const retryButton = $('retry');
const playButton = $('play');
const renditionEl = $('current-rendition');
const latencyEl = $('latency');
const select = $('rendition-select');

let config = null;
let hls = null;
let retryTimer = 0;
let mediaRecoveries = [];
let native = false;
// Freshness of the live playlist: when its last segment number last changed, and the window
// ("startSN-endSN") seen when it froze, so that a retry does not play that stale window again.
let lastEndSN = -1;
let lastAdvance = 0;
let targetDuration = 0;
let windowKey = '';
let frozenWindow = '';

window.player = {
  get hls() {
    return hls;
  },
  video,
  get config() {
    return config;
  },
  retry: () => start(),
};

function setState(state, message = '') {
  document.body.dataset.state = state;
  statusEl.textContent = message;
  statusEl.hidden = message === '';
  retryButton.hidden = state !== 'error';
  playButton.hidden = message !== MESSAGES.autoplay;
}

function noteError(detail) {
  // For people and tests looking at a failing page: the last error hls.js (or the page) reported.
  document.body.dataset.lastError = detail;
  console.warn('player:', detail);
}

function formatBitrate(bitsPerSecond) {
  if (!(bitsPerSecond > 0)) return '';
  if (bitsPerSecond >= 1e6) return `${(bitsPerSecond / 1e6).toFixed(1)} Mb/s`;
  return `${Math.round(bitsPerSecond / 1e3)} kb/s`;
}

function describe(width, height, bitrate) {
  const parts = [];
  if (width > 0 && height > 0) parts.push(`${width}x${height}`);
  const rate = formatBitrate(bitrate);
  if (rate) parts.push(rate);
  return parts.join(' · ') || '–';
}

function describeLevel(level) {
  return describe(level.width, level.height, level.bitrate);
}

function resetRenditions() {
  select.replaceChildren(new Option('Auto', 'auto', true, true));
  select.disabled = true;
  renditionEl.textContent = '–';
  latencyEl.textContent = '–';
}

function fillRenditions(levels) {
  const current = select.value;
  const options = levels
    .map((level, index) => ({ level, index }))
    .sort((a, b) => b.level.height - a.level.height || b.level.bitrate - a.level.bitrate)
    .map(({ level, index }) => new Option(describeLevel(level), String(index)));
  select.replaceChildren(new Option('Auto', 'auto'), ...options);
  select.value = [...select.options].some((o) => o.value === current) ? current : 'auto';
  select.disabled = levels.length < 2;
}

function scheduleRetry() {
  clearTimeout(retryTimer);
  retryTimer = setTimeout(start, RETRY_MS);
}

function stopPlayback() {
  clearTimeout(retryTimer);
  if (hls) {
    hls.destroy();
    hls = null;
  }
  if (native || video.hasAttribute('src')) {
    native = false;
    video.removeAttribute('src');
    video.load();
  }
}

function resetFreshness() {
  lastEndSN = -1;
  lastAdvance = 0;
  targetDuration = 0;
  windowKey = '';
}

function goOffline(detail) {
  noteError(detail);
  stopPlayback();
  resetRenditions();
  setState('offline', MESSAGES.offline);
  scheduleRetry();
}

function fail(message, detail) {
  // Fatal and not worth retrying by itself: stop, say so, and let the person try again.
  noteError(detail);
  stopPlayback();
  resetRenditions();
  setState('error', message);
}

function play() {
  const attempt = video.play();
  if (attempt && typeof attempt.catch === 'function') {
    attempt.catch((e) => {
      if (e && e.name === 'NotAllowedError' && document.body.dataset.state !== 'playing') {
        setState('loading', MESSAGES.autoplay);
      }
    });
  }
}

function recoverMediaError(detail) {
  const now = performance.now();
  mediaRecoveries = mediaRecoveries.filter((t) => now - t < MEDIA_RECOVERY_WINDOW_MS);
  if (mediaRecoveries.length >= MAX_MEDIA_RECOVERIES) {
    fail(MESSAGES.media, detail);
    return;
  }
  noteError(`${detail} (recovering)`);
  if (mediaRecoveries.length === 1) hls.swapAudioCodec();
  mediaRecoveries.push(now);
  hls.recoverMediaError();
}

function startHls(url, lowLatency) {
  const instance = new Hls({
    liveDurationInfinity: true,
    backBufferLength: 30,
    // Parts, preload hints and blocking playlist reload: a few seconds behind live, not 3 segments.
    lowLatencyMode: lowLatency,
  });
  hls = instance;

  instance.on(Hls.Events.MANIFEST_PARSED, (_event, data) => {
    fillRenditions(data.levels);
    play();
  });
  instance.on(Hls.Events.LEVEL_LOADED, (_event, data) => {
    const details = data.details;
    const later = (detail) => setTimeout(() => instance === hls && goOffline(detail), 0);
    if (!details.live) {
      // EXT-X-ENDLIST: the event is over; this page only shows live streams.
      later('the playlist has ended (EXT-X-ENDLIST)');
      return;
    }
    windowKey = `${details.startSN}-${details.endSN}`;
    targetDuration = details.targetduration;
    if (lastEndSN < 0 && windowKey === frozenWindow) {
      later(`the live playlist is still frozen at segments ${windowKey}`);
      return;
    }
    frozenWindow = '';
    if (details.endSN !== lastEndSN) {
      lastEndSN = details.endSN;
      lastAdvance = performance.now();
    }
  });
  instance.on(Hls.Events.LEVELS_UPDATED, (_event, data) => fillRenditions(data.levels));
  instance.on(Hls.Events.LEVEL_SWITCHED, (_event, data) => {
    const level = instance.levels[data.level];
    if (level) renditionEl.textContent = describeLevel(level);
  });
  instance.on(Hls.Events.ERROR, (_event, data) => {
    if (instance !== hls) return;
    const code = data.response && data.response.code;
    const detail = `${data.type}/${data.details}${code !== undefined ? ` (HTTP ${code})` : ''}`;
    if (!data.fatal) return;
    switch (data.type) {
      case Hls.ErrorTypes.NETWORK_ERROR:
        // The origin answers 404 while the channel is stopped or has no segment yet, and playlists
        // vanish when a running channel stops: either way, wait and load the stream afresh.
        goOffline(detail);
        break;
      case Hls.ErrorTypes.MEDIA_ERROR:
        recoverMediaError(detail);
        break;
      default:
        if (data.details === Hls.ErrorDetails.MANIFEST_PARSING_ERROR || data.details === Hls.ErrorDetails.LEVEL_EMPTY_ERROR) {
          goOffline(detail);
        } else {
          fail(MESSAGES.fatal, detail);
        }
    }
  });

  instance.attachMedia(video);
  instance.loadSource(url);
}

function startNative(url) {
  // Safari on iOS has no MediaSource in some versions but plays HLS itself.
  native = true;
  document.body.dataset.protocol = 'hls';
  video.src = url;
  play();
}

function start() {
  stopPlayback();
  resetRenditions();
  resetFreshness();
  mediaRecoveries = [];
  if (document.body.dataset.state !== 'offline') setState('loading', MESSAGES.loading);
  const url = new URL(config.playbackUrl, document.baseURI).href;
  if (Hls.isSupported()) {
    const lowLatency = config.lowLatencyUrl !== '';
    document.body.dataset.protocol = lowLatency ? 'll-hls' : 'hls';
    startHls(lowLatency ? new URL(config.lowLatencyUrl, document.baseURI).href : url, lowLatency);
  } else if (video.canPlayType('application/vnd.apple.mpegurl')) {
    startNative(url);
  } else {
    fail(MESSAGES.unsupported, 'neither MediaSource nor native HLS');
  }
}

async function loadConfig() {
  const response = await fetch('config.json', { cache: 'no-store' });
  if (!response.ok) throw new Error(`config.json: HTTP ${response.status}`);
  const value = await response.json();
  if (!value || typeof value.playbackUrl !== 'string' || value.playbackUrl === '') {
    throw new Error('config.json: playbackUrl is missing');
  }
  return {
    title: typeof value.title === 'string' ? value.title : '',
    playbackUrl: value.playbackUrl,
    lowLatencyUrl: typeof value.lowLatencyUrl === 'string' ? value.lowLatencyUrl : '',
  };
}

function showConfig() {
  const title = config.title || 'Live stream';
  $('title').textContent = title;
  document.title = title;
}

async function init() {
  setState('loading', MESSAGES.loading);
  try {
    config = await loadConfig();
  } catch (e) {
    fail(MESSAGES.config, String(e && e.message ? e.message : e));
    return;
  }
  showConfig();
  start();
}

video.addEventListener('playing', () => setState('playing'));
video.addEventListener('resize', () => {
  // Native HLS has no level list: show what the decoder reports.
  if (native && video.videoWidth > 0) renditionEl.textContent = describe(video.videoWidth, video.videoHeight, 0);
});
video.addEventListener('error', () => {
  if (!native) return;
  const error = video.error;
  goOffline(`native/${error ? error.code : '?'}${error && error.message ? ` ${error.message}` : ''}`);
});

select.addEventListener('change', () => {
  if (!hls) return;
  hls.currentLevel = select.value === 'auto' ? -1 : Number(select.value);
});

retryButton.addEventListener('click', () => (config ? start() : init()));
playButton.addEventListener('click', () => play());

function checkFreshness() {
  // Background tabs throttle timers (and so playlist reloads): judge only what a person sees.
  if (!hls || !lastAdvance || document.hidden) return;
  const limit = Math.max(FROZEN_MIN_MS, 3000 * targetDuration);
  if (performance.now() - lastAdvance > limit) {
    frozenWindow = windowKey;
    goOffline(`the live playlist stopped advancing (segments ${windowKey})`);
  }
}

document.addEventListener('visibilitychange', () => {
  if (!document.hidden && lastAdvance) lastAdvance = performance.now();
});

video.addEventListener('ended', () => {
  if (hls || native) goOffline('the video ended');
});

setInterval(() => {
  const latency = hls ? hls.latency : 0;
  latencyEl.textContent = latency > 0 && Number.isFinite(latency) ? `${latency.toFixed(1)} s` : '–';
  checkFreshness();
}, 1000);

init();
