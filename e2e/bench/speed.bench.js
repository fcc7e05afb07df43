// Speed of the web client in the browser (issue 10, point 8): in one headless Chromium
// page (./chromium.js, a page no DevTools observer copies the WebSocket traffic out of;
// FERRY_BENCH_PLAYWRIGHT=1 measures in Playwright's page, which has one), against one
// server and bridge, the web client's upload and download of a large random file, timed
// from the user's action (file picked, Download clicked) to its transfer row saying
// done, against a bare JavaScript WebSocket client doing the same STORE / RETRIEVE in
// that page: the in-browser ceiling. The two alternate over the rounds
// (FERRY_BENCH_ROUNDS, default 12, after an untimed one; FERRY_BENCH_MIB, default 100),
// each round and client on its own path, and every transfer is checked byte-exact by
// SHA-256. Run it with `./scripts/bench.sh web [--rounds N]`.
const fs = require('fs');
const path = require('path');
const { test, expect, sha256File, writeRandomFile } = require('../ferry');
const { BarePage, playwrightPage } = require('./chromium');

const MiB = 1024 * 1024;
const ROUNDS = Number(process.env.FERRY_BENCH_ROUNDS || 12);
const SIZE = Number(process.env.FERRY_BENCH_MIB || 100) * MiB;
const TIMEOUT = 600_000;
// Before each timed transfer the page's garbage is collected and the bench waits this
// long (FERRY_BENCH_SETTLE=MS, 0 for neither): the previous 100 MiB's buffers are then
// not freed inside the next one's timed window, whichever client that is. In runs of
// 12 rounds here, the pairs' web/bare ratios spread 0.76-1.23 with it (4 runs) and
// 0.70-1.62 without (3 runs), for about the same figures.
const SETTLE_MS = Number(process.env.FERRY_BENCH_SETTLE ?? 300);
// FERRY_BENCH_PROFILE=DIR: each timed transfer also records the page's CPU profile
// (Chrome DevTools, one .cpuprofile per transfer in DIR) and prints where its main
// thread spent its time and each WebSocket's timeline, to find what the web client
// does that the bare one does not; with FERRY_BENCH_TRACE=1 as well, a Chromium trace
// (.trace.json, for chrome://tracing or Perfetto) instead of the CPU profile, which
// shows the page's drawing, timers and message handling. Either slows the figures.
const PROFILE = process.env.FERRY_BENCH_PROFILE;

/**
 * In the page: the moment of the last user action on the transfers (a file picked, a
 * button clicked) and the moment each transfer row (by data-id) first said done, both on
 * the page's clock, so polling from here adds nothing to the figures.
 */
function watchTransfers() {
  const done = new Map();
  const waiting = new Set();
  window.benchAction = 0;
  const mark = (li) => {
    if (li.dataset.state === 'done' && !done.has(li.dataset.id)) {
      done.set(li.dataset.id, { name: li.dataset.name, t: performance.now() });
      for (const w of waiting) w();
    }
  };
  // Resolves with the milliseconds from the last action to the row of `name` that said
  // done after it: one awaited call, where polling from outside would run scripts on the
  // page's thread while the transfer it times is using it.
  window.benchTimeToDone = (name) => new Promise((resolve) => {
    const check = () => {
      for (const d of done.values()) {
        if (d.name === name && d.t > window.benchAction) {
          waiting.delete(check);
          resolve(d.t - window.benchAction);
          return;
        }
      }
    };
    waiting.add(check);
    check();
  });
  new MutationObserver((records) => {
    for (const r of records) {
      for (const node of r.type === 'attributes' ? [r.target] : r.addedNodes) {
        if (node.nodeType !== 1) continue;
        if (node.matches('li.transfer')) mark(node);
        node.querySelectorAll('li.transfer').forEach(mark);
      }
    }
  }).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-state'] });
  const acted = () => { window.benchAction = performance.now(); };
  document.addEventListener('change', (e) => { if (e.target.id === 'file-input') acted(); }, true);
  document.addEventListener('click', (e) => { if (e.target.closest('button')) acted(); }, true);
  // A second file input, outside the app, hands the bare client the same kind of
  // disk-backed File the web client gets from its picker.
  const input = document.createElement('input');
  input.type = 'file';
  input.id = 'bench-file';
  input.hidden = true;
  document.body.append(input);
}

/**
 * In the page, with FERRY_BENCH_PROFILE: every WebSocket's timeline (created, opened,
 * first and last message, messages and bytes received, bytes sent, closed), kept in
 * `window.benchSockets`, to tell set-up, data phase and tail apart.
 */
function traceSockets() {
  const Native = window.WebSocket;
  window.benchSockets = [];
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      const t = { created: performance.now(), messages: 0, received: 0, sent: 0, sends: 0 };
      window.benchSockets.push(t);
      this.addEventListener('open', () => { t.opened = performance.now(); });
      this.addEventListener('message', (e) => {
        const now = performance.now();
        if (!t.first) t.first = now;
        t.last = now;
        t.messages += 1;
        t.received += e.data.byteLength || 0;
      });
      this.addEventListener('close', () => { t.closed = performance.now(); });
      this.trace = t;
    }
    send(data) {
      const t = this.trace;
      if (!t.firstSend) t.firstSend = performance.now();
      t.lastSend = performance.now();
      t.sends += 1;
      t.sent += data.byteLength || data.length || 0;
      return super.send(data);
    }
  };
}

/** Milliseconds from the last user action to the row of `name` that said done after it. */
function timeToDone(page, name) {
  return page.evaluate((name) => window.benchTimeToDone(name), name);
}

/**
 * In the page: a bare client, as a good JS client would be written, storing the file of
 * #bench-file as `target` (`op` 'store') or retrieving it ('retrieve'). Returns the
 * duration, from opening the WebSocket to the 226, or for a retrieve to the file handed
 * to the browser to save.
 */
async function bareClient({ url, target, op }) {
  // The file goes out as Blob slices handed to ws.send, which the browser reads
  // itself: 75-115 MB/s here, where reading the slices into ArrayBuffers and
  // sending those reached 33-44 MB/s (256 KiB slices, 1 MiB queued, the best of
  // that kind). Of Blob slices of 256 KiB to 1 MiB (the bridge's largest message)
  // with 1 to 8 MiB queued, 1 MiB with 4 MiB queued was fastest; busy polling
  // with setTimeout(0) takes the thread from the socket and was the slowest.
  const SLICE = 1 << 20;
  const HIGH_WATER = 4 << 20;
  const POLL_MS = 4;
  const file = document.getElementById('bench-file').files[0];

  // One connection, its replies parsed as a byte stream (§1: boundaries mean nothing).
  function connect() {
    const ws = new WebSocket(url);
    ws.binaryType = 'arraybuffer';
    const queue = [];
    let wake = null;
    let closed = null;
    const poke = () => { if (wake) { const w = wake; wake = null; w(); } };
    ws.onmessage = (e) => { queue.push(new Uint8Array(e.data)); poke(); };
    ws.onclose = (e) => { closed = e; poke(); };
    let pending = new Uint8Array(0);
    async function message() {
      while (queue.length === 0) {
        if (closed) throw new Error(`connection closed (${closed.code} ${closed.reason})`);
        await new Promise((r) => { wake = r; });
      }
      return queue.shift();
    }
    async function line() {
      for (;;) {
        const lf = pending.indexOf(10);
        if (lf >= 0) {
          const text = new TextDecoder().decode(pending.subarray(0, lf)).replace(/\r$/, '');
          pending = pending.subarray(lf + 1);
          return text;
        }
        const m = await message();
        const joined = new Uint8Array(pending.length + m.length);
        joined.set(pending);
        joined.set(m, pending.length);
        pending = joined;
      }
    }
    async function expectLine(code) {
      const l = await line();
      if (!l.startsWith(`${code} `)) throw new Error(`expected ${code}, got: ${l}`);
      return l;
    }
    /** The next `n` bytes, as views of the received messages. */
    async function data(n, sink) {
      let left = n;
      if (pending.length > 0) {
        const take = Math.min(left, pending.length);
        sink(pending.subarray(0, take));
        pending = pending.subarray(take);
        left -= take;
      }
      while (left > 0) {
        const m = await message();
        if (m.length <= left) {
          sink(m);
          left -= m.length;
        } else {
          sink(m.subarray(0, left));
          pending = m.subarray(left);
          left = 0;
        }
      }
    }
    const send = (text) => ws.send(new TextEncoder().encode(text));
    return { ws, expectLine, data, send };
  }

  // STORE: slices of the File, never more than HIGH_WATER bytes waiting in the
  // browser.
  const t0 = performance.now();
  const c = connect();
  await c.expectLine(220);
  if (op === 'retrieve') return retrieve();
  c.send(`STORE ${file.size} ${target}\r\n`);
  await c.expectLine(150);
  for (let at = 0; at < file.size;) {
    const end = Math.min(at + SLICE, file.size);
    while (c.ws.bufferedAmount > HIGH_WATER) {
      if (c.ws.readyState !== WebSocket.OPEN) throw new Error('connection closed while uploading');
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
    c.ws.send(file.slice(at, end));
    at = end;
  }
  await c.expectLine(226);
  const ms = performance.now() - t0;
  c.ws.close(1000, 'done');
  return { ms };

  // RETRIEVE: the bytes kept as the messages' views, one Blob at the end, handed to the
  // browser to save as every page must (an object URL and a click on a download link),
  // as the web client does before its row says done. `blobMs` is the time to the Blob.
  async function retrieve() {
    c.send(`RETRIEVE ${target}\r\n`);
    const n = Number((await c.expectLine(150)).split(' ')[1]);
    const parts = [];
    await c.data(n, (bytes) => parts.push(bytes));
    await c.expectLine(226);
    const blob = new Blob(parts, { type: 'application/octet-stream' });
    const blobMs = performance.now() - t0;
    const link = document.createElement('a');
    link.href = URL.createObjectURL(blob);
    link.download = target;
    link.click();
    const ms = performance.now() - t0;
    setTimeout(() => URL.revokeObjectURL(link.href), 5_000); // as the web client does
    c.ws.close(1000, 'done');
    return { ms, blobMs };
  }
}

/** The functions with the most self time in a CPU profile, as lines. */
function hottest(profile, count = 14) {
  const byNode = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  profile.samples.forEach((id, i) => {
    const f = byNode.get(id).callFrame;
    const key = `${f.functionName || '(anonymous)'} ${path.basename(f.url || '')}`.trim();
    self.set(key, (self.get(key) || 0) + (profile.timeDeltas[i] || 0));
  });
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  return [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([k, us]) => `    ${(us / 1000).toFixed(0).padStart(6)} ms ${((100 * us) / total).toFixed(1).padStart(5)}%  ${k}`);
}

const mbps = (bytes, ms) => bytes / 1e6 / (ms / 1000);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const withPlaywrightPage = Boolean(process.env.FERRY_BENCH_PLAYWRIGHT);

// The test asks for no `page` or `browser`, so Playwright starts a browser only for
// FERRY_BENCH_PLAYWRIGHT, here, with the project's launch options.
test('the web client against a bare WebSocket client, up and down', async ({ ferry, playwright }, testInfo) => {
  const browser = withPlaywrightPage ? await playwright.chromium.launch(testInfo.project.use.launchOptions) : null;
  const page = browser
    ? playwrightPage(await (await browser.newContext({ acceptDownloads: true })).newPage())
    : await BarePage.launch();
  try {
    await race(page, ferry, browser);
  } finally {
    await page.close();
    if (browser) await browser.close();
  }
});

/** The rounds, in `page`. */
async function race(page, ferry, browser) {
  const source = path.join(ferry.tmp, 'source.bin');
  const digest = writeRandomFile(source, SIZE);
  await page.goto(ferry.url);
  await page.click('.panel.connect form button[type=submit]');
  await page.waitForFunction(() => document.querySelector('#connection-state')?.textContent.includes('Connected'));
  await page.evaluate(watchTransfers);
  if (PROFILE) await page.evaluate(traceSockets);
  const bridge = `ws://127.0.0.1:${ferry.bridgePort}/ws`;

  /** A name of its own for the source's bytes (a hard link: no copy). */
  const named = (name) => {
    const file = path.join(ferry.tmp, 'local', name);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.linkSync(source, file);
    return file;
  };
  const onServer = async (name) => {
    const file = path.join(ferry.root, name);
    expect(fs.statSync(file).size).toBe(SIZE);
    expect(await sha256File(file)).toBe(digest);
  };

  const webUp = async (round) => {
    const name = `web-${round}.bin`;
    await page.setInputFiles('#file-input', named(name));
    const ms = await timeToDone(page, name);
    // The file table lists it with its size.
    await page.waitForFunction(
      ([name, size]) => document.querySelector(`#file-table tbody tr[data-name="${name}"] td.size`)?.dataset.bytes === size,
      [name, String(SIZE)],
    );
    await onServer(name);
    return ms;
  };
  /** Checks the copy a download saved (`saved`: its path, once written), then removes it. */
  const savedExact = async (saved) => {
    const file = await saved;
    expect(await sha256File(file)).toBe(digest);
    fs.rmSync(file);
  };
  const webDown = async (round) => {
    const name = `web-${round}.bin`;
    const saved = page.nextDownload(TIMEOUT);
    await page.click(`button[aria-label="Download ${name}"]`);
    const ms = await timeToDone(page, name);
    await savedExact(saved);
    fs.rmSync(path.join(ferry.root, name)); // only the disk's room
    return ms;
  };
  const bareUp = async (round) => {
    const name = `bare-${round}.bin`;
    await page.setInputFiles('#bench-file', named(name));
    const { ms } = await page.evaluate(bareClient, { url: bridge, target: name, op: 'store' });
    await onServer(name);
    return ms;
  };
  /** The bare client's downloads timed to its Blob, before the save: the figure the
   * bench reported before it timed the save too, printed beside. */
  const toBlob = [];
  const bareDown = async (round) => {
    const name = `bare-${round}.bin`;
    const saved = page.nextDownload(TIMEOUT);
    const r = await page.evaluate(bareClient, { url: bridge, target: name, op: 'retrieve' });
    await savedExact(saved);
    fs.rmSync(path.join(ferry.root, name));
    toBlob.push(r.blobMs);
    return r.ms;
  };

  /** `run` timed as it is, and with FERRY_BENCH_PROFILE also profiled. */
  const profiled = (label, run) => async (round) => {
    if (!PROFILE) return run(round);
    if (process.env.FERRY_BENCH_TRACE) {
      if (!page.playwright) throw new Error('FERRY_BENCH_TRACE records through Playwright: set FERRY_BENCH_PLAYWRIGHT=1 too');
      const file = path.join(PROFILE, `${label}-${round}.trace.json`);
      fs.mkdirSync(PROFILE, { recursive: true });
      await browser.startTracing(page.playwright, { path: file, categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'v8', 'blink'] });
      const ms = await run(round);
      await browser.stopTracing();
      console.log(`  ${label} (round ${round}, ${ms.toFixed(0)} ms) traced`);
      return ms;
    }
    await page.cdp('Profiler.enable');
    await page.cdp('Profiler.setSamplingInterval', { interval: 250 });
    await page.cdp('Profiler.start');
    const before = await page.evaluate(() => window.benchSockets.length);
    const action = await page.evaluate(() => performance.now());
    const ms = await run(round);
    const { profile } = await page.cdp('Profiler.stop');
    const sockets = await page.evaluate((n) => window.benchSockets.slice(n), before);
    for (const t of sockets) {
      const r = (x) => (x === undefined ? '-' : (x - t.created).toFixed(0));
      console.log(
        `  ${label} socket: created +${(t.created - action).toFixed(0)} ms; then opened ${r(t.opened)}, ` +
          `first msg ${r(t.first)}, last msg ${r(t.last)}, first send ${r(t.firstSend)}, last send ${r(t.lastSend)}, ` +
          `closed ${r(t.closed)} ms; ${t.messages} msgs ${t.received} B in, ${t.sends} sends ${t.sent} B out`,
      );
    }
    fs.mkdirSync(PROFILE, { recursive: true });
    fs.writeFileSync(path.join(PROFILE, `${label}-${round}.cpuprofile`), JSON.stringify(profile));
    console.log(`  ${label} (round ${round}, ${ms.toFixed(0)} ms), self time:\n${hottest(profile).join('\n')}`);
    return ms;
  };

  /** `run(round)` after a full garbage collection in the page and SETTLE_MS. */
  const settled = async (run, round) => {
    if (SETTLE_MS > 0) {
      await page.cdp('HeapProfiler.collectGarbage');
      await new Promise((r) => setTimeout(r, SETTLE_MS));
    }
    return run(round);
  };

  // Round 0 is not timed: the first large transfers in a new browser run slower (its
  // memory and blob store grow), whichever client goes first; seen here 2-4x slower.
  for (const run of [webUp, bareUp, webDown, bareDown]) await run(0);
  const rows = [];
  for (let round = 1; round <= ROUNDS; round++) {
    // Each pair back to back, so both see the same load on the machine; which goes
    // first alternates, since the order matters: with the bare client in both places,
    // the first download after the uploads ran 0.3-0.8x as fast as the second.
    const pair = async (web, bare) => {
      if (round % 2) {
        const w = await settled(web, round);
        return [w, await settled(bare, round)];
      }
      const b = await settled(bare, round);
      return [await settled(web, round), b];
    };
    const [wUp, bUp] = await pair(profiled('web-up', webUp), profiled('bare-up', bareUp));
    const [wDown, bDown] = await pair(profiled('web-down', webDown), profiled('bare-down', bareDown));
    const row = {
      webUp: mbps(SIZE, wUp),
      bareUp: mbps(SIZE, bUp),
      webDown: mbps(SIZE, wDown),
      bareDown: mbps(SIZE, bDown),
    };
    row.up = row.webUp / row.bareUp;
    row.down = row.webDown / row.bareDown;
    row.bareToBlob = mbps(SIZE, toBlob.at(-1));
    row.downToBlob = row.webDown / row.bareToBlob;
    rows.push(row);
    console.log(
      `round ${round}: up web ${row.webUp.toFixed(1)} MB/s, bare ${row.bareUp.toFixed(1)} MB/s, ${row.up.toFixed(2)}x | ` +
        `down web ${row.webDown.toFixed(1)} MB/s, bare ${row.bareDown.toFixed(1)} MB/s, ${row.down.toFixed(2)}x ` +
        `(bare to its Blob ${row.bareToBlob.toFixed(1)} MB/s, ${row.downToBlob.toFixed(2)}x)`,
    );
  }
  const col = (k) => rows.map((r) => r[k]);
  const fmt = (k, unit) => {
    const f = (x) => (unit ? `${x.toFixed(1)} MB/s` : `${x.toFixed(2)}x`);
    return `${f(Math.max(...col(k)))} / ${f(median(col(k)))} / ${f(Math.min(...col(k)))}`;
  };
  // The run's figure in each direction: each two rounds have each client first once,
  // and the geometric mean of their two ratios cancels the order's share (a ratio of
  // t*p with one order and t/p with the other); the figure is the median of those.
  const byPairs = (k) => {
    const means = [];
    for (let i = 0; i + 1 < rows.length; i += 2) means.push(Math.sqrt(rows[i][k] * rows[i + 1][k]));
    return means;
  };
  console.log(`${(SIZE / MiB).toFixed(0)} MiB, ${ROUNDS} round(s) after one untimed; best / median / worst:`);
  console.log(`  up:   web ${fmt('webUp', true)}; bare ${fmt('bareUp', true)}; web/bare ${fmt('up')}`);
  console.log(`  down: web ${fmt('webDown', true)}; bare ${fmt('bareDown', true)}; web/bare ${fmt('down')}`);
  console.log(`        bare to its Blob, not saved: ${fmt('bareToBlob', true)}; web/that ${fmt('downToBlob')}`);
  const pairs = (k) => byPairs(k).map((x) => `${x.toFixed(2)}x`).join(', ');
  console.log(`web/bare by pairs of rounds (geometric means): up ${pairs('up')}; down ${pairs('down')}`);
  console.log(`the run's figures: up ${median(byPairs('up')).toFixed(2)}x, down ${median(byPairs('down')).toFixed(2)}x of the bare client`);
}
