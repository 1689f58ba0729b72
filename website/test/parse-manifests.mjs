// Parses every manifest of a CMAF origin endpoint with video.js's own parsers (m3u8-parser for
// HLS and low-latency HLS, mpd-parser for DASH) and asserts what players rely on.
//
//   node test/parse-manifests.mjs http://127.0.0.1:PORT/out/v1/GROUP/CHANNEL/ENDPOINT HLS LLHLS DASH
//
// HLS, LLHLS and DASH are the manifest names. Prints one summary line per manifest; exits 1 on
// the first failed assertion.
import assert from 'node:assert/strict';
import { Parser } from 'm3u8-parser';
import { parse as parseMpd } from 'mpd-parser';

const [base, hlsName, llhlsName, dashName] = process.argv.slice(2);
if (!dashName) {
  console.error('usage: parse-manifests.mjs ENDPOINT_URL HLS LLHLS DASH');
  process.exit(2);
}

async function text(url) {
  const response = await fetch(url);
  assert.equal(response.status, 200, `${url}: HTTP ${response.status}`);
  return response.text();
}

async function m3u8(url) {
  const parser = new Parser();
  parser.push(await text(url));
  parser.end();
  return parser.manifest;
}

/// The master's variants, each with the attributes a player picks a variant by.
async function variants(masterUrl) {
  const master = await m3u8(masterUrl);
  assert.ok(master.playlists?.length > 0, `${masterUrl}: no variants`);
  for (const v of master.playlists) {
    const a = v.attributes;
    assert.ok(a.BANDWIDTH > 0 && a['AVERAGE-BANDWIDTH'] > 0, `${masterUrl}: bandwidths`);
    assert.ok(a.RESOLUTION?.width > 0 && a.RESOLUTION?.height > 0, `${masterUrl}: resolution`);
    assert.match(a.CODECS, /^avc1\.[0-9a-f]{6},mp4a\.40\.2$/, `${masterUrl}: codecs`);
    assert.ok(a['FRAME-RATE'] > 0, `${masterUrl}: frame rate`);
  }
  return master.playlists.map((v) => new URL(v.uri, masterUrl).href);
}

function checkSegments(url, media) {
  assert.ok(media.segments.length > 0, `${url}: no segments`);
  for (const s of media.segments) {
    assert.ok(s.map?.uri?.endsWith('.mp4'), `${url}: segment without an init segment (EXT-X-MAP)`);
    assert.ok(s.duration > 0 && s.duration <= media.targetDuration, `${url}: EXTINF ${s.duration}`);
    assert.ok(s.programDateTime > 0, `${url}: no PROGRAM-DATE-TIME`);
  }
}

async function hls(name) {
  const masterUrl = `${base}/${name}.m3u8`;
  const summaries = [];
  for (const url of await variants(masterUrl)) {
    const media = await m3u8(url);
    checkSegments(url, media);
    assert.equal(media.partInf, undefined, `${url}: parts in a plain HLS playlist`);
    summaries.push(`${media.segments.length} segments of ${media.targetDuration} s`);
  }
  console.log(`HLS ${name}: ${summaries.join('; ')}`);
}

async function llhls(name) {
  const masterUrl = `${base}/${name}.m3u8`;
  const summaries = [];
  for (const url of await variants(masterUrl)) {
    const media = await m3u8(url);
    checkSegments(url, media);
    const target = media.partInf?.partTarget;
    assert.ok(target > 0 && target <= 1, `${url}: PART-TARGET ${target}`);
    assert.equal(media.serverControl?.canBlockReload, true, `${url}: CAN-BLOCK-RELOAD`);
    assert.ok(media.serverControl.partHoldBack >= 3 * target, `${url}: PART-HOLD-BACK`);
    const parts = [...media.segments.flatMap((s) => s.parts ?? []), ...(media.preloadSegment?.parts ?? [])];
    assert.ok(parts.length >= 3, `${url}: ${parts.length} parts`);
    for (const p of parts) {
      assert.ok(p.duration > 0 && p.duration <= target, `${url}: part of ${p.duration} s > ${target}`);
      assert.ok(p.uri.endsWith('.mp4'), `${url}: part URI ${p.uri}`);
    }
    assert.ok(parts.some((p) => p.independent), `${url}: no INDEPENDENT part`);
    const hints = media.preloadSegment?.preloadHints ?? media.preloadHints ?? [];
    assert.ok(hints.some((h) => h.type === 'PART' && h.uri), `${url}: no PRELOAD-HINT`);
    summaries.push(`${media.segments.length} segments, ${parts.length} parts of at most ${target} s, hint ${hints[0].uri}`);
  }
  console.log(`LL-HLS ${name}: ${summaries.join('; ')}`);
}

async function dash(name) {
  const url = `${base}/${name}.mpd`;
  const parsed = parseMpd(await text(url), { manifestUri: url, NOW: Date.now(), clientOffset: 0 });
  assert.ok(parsed.playlists?.length > 0, `${url}: no representations`);
  const summaries = [];
  for (const p of parsed.playlists) {
    assert.ok(p.attributes.BANDWIDTH > 0, `${url}: bandwidth`);
    assert.ok(p.attributes.RESOLUTION?.width > 0, `${url}: resolution`);
    assert.match(p.attributes.CODECS, /avc1\./, `${url}: codecs`);
    assert.ok(p.segments.length > 0, `${url}: no segments`);
    for (const s of p.segments) {
      assert.ok(s.duration > 0, `${url}: segment duration ${s.duration}`);
      assert.ok(s.resolvedUri.startsWith(`${base}/${name}/`) && s.resolvedUri.endsWith('.mp4'), s.resolvedUri);
      assert.ok(s.map?.resolvedUri?.endsWith('.mp4'), `${url}: no initialization`);
    }
    summaries.push(`${p.attributes.NAME ?? p.attributes.id}: ${p.segments.length} segments from number ${p.segments[0].number}`);
  }
  console.log(`DASH ${name}: ${summaries.join('; ')}`);
}

await hls(hlsName);
await llhls(llhlsName);
await dash(dashName);
