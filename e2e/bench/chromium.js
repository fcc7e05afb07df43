// A headless Chromium page for the browser benchmark, driven over the DevTools protocol
// on a pipe with only the Page, Runtime and DOM domains: no Network domain.
//
// Why not Playwright's page: Playwright always enables the Network domain, and Chromium
// then sends the payload of every WebSocket frame the page receives to the test runner,
// base64-encoded, through the browser process. Measured here (2 cores), the same bare
// client's 100 MiB RETRIEVE through the bridge took 1.7-2.1 s in a Playwright page and
// 0.38-0.87 s in this one; during the first, the browser process and the runner's
// worker used as much CPU as the page's renderer, relaying and parsing those copies.
// A download measured there is mostly the cost of watching it. Uploads of Blob slices
// are not copied to the runner (the page never holds their bytes), so they were less
// affected. A user's browser has no such observer, so this is the page the figures
// come from; FERRY_BENCH_PLAYWRIGHT=1 measures in Playwright's page instead.
//
// The same few calls are offered over Playwright's page (`playwrightPage`), so the
// benchmark is written once.
const { spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const POLL_MS = 20;

/** Resolves when `check()` returns something truthy, which it returns; polls every POLL_MS. */
async function poll(check, timeout, what) {
  const until = Date.now() + timeout;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > until) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/** One DevTools protocol connection over fds 3 (to Chromium) and 4 (from it). */
class Pipe {
  constructor(proc) {
    this.proc = proc;
    this.next = 1;
    this.waiting = new Map();
    this.listeners = new Set();
    let pending = '';
    proc.stdio[4].on('data', (chunk) => {
      pending += chunk.toString('utf8');
      for (let end; (end = pending.indexOf('\0')) >= 0; ) {
        this.dispatch(JSON.parse(pending.slice(0, end)));
        pending = pending.slice(end + 1);
      }
    });
    proc.on('exit', (code, signal) => {
      for (const { reject } of this.waiting.values()) reject(new Error(`Chromium exited (${code ?? signal})`));
      this.waiting.clear();
    });
  }

  dispatch(message) {
    const call = message.id && this.waiting.get(message.id);
    if (!call) {
      for (const listener of this.listeners) listener(message);
      return;
    }
    this.waiting.delete(message.id);
    if (message.error) call.reject(new Error(`${call.method}: ${message.error.message}`));
    else call.resolve(message.result);
  }

  /** Sends `method`, to the browser or (with `sessionId`) to one attached target. */
  send(method, params = {}, sessionId = undefined) {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject, method });
      this.proc.stdio[3].write(`${JSON.stringify({ id, method, params, sessionId })}\0`);
    });
  }

  /** The next event `method` for which `match(params)` holds. */
  event(method, match = () => true) {
    return new Promise((resolve) => {
      const listener = (m) => {
        if (m.method === method && match(m.params)) {
          this.listeners.delete(listener);
          resolve(m.params);
        }
      };
      this.listeners.add(listener);
    });
  }
}

/** The page of a Chromium this module started, and the calls the benchmark makes on it. */
class BarePage {
  /** Starts Chromium, its profile and downloads in a new temporary directory. */
  static async launch() {
    const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-bench-chromium-'));
    const downloads = path.join(profile, 'downloads');
    fs.mkdirSync(downloads);
    const args = [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--no-default-browser-check', `--user-data-dir=${profile}`, '--remote-debugging-pipe', 'about:blank',
    ];
    const proc = spawn(CHROMIUM, args, { stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe'] });
    const pipe = new Pipe(proc);
    // A context of its own, as Playwright makes one: off the record, so the page's blobs
    // stay in memory (in the default profile, downloads failed after about ten 100 MiB
    // ones, their blobs paged to the profile's disk store).
    const { browserContextId } = await pipe.send('Target.createBrowserContext', { disposeOnDetach: true });
    const { targetId } = await pipe.send('Target.createTarget', { url: 'about:blank', browserContextId });
    const { sessionId } = await pipe.send('Target.attachToTarget', { targetId, flatten: true });
    const page = new BarePage(pipe, sessionId, downloads, profile);
    await page.cdp('Page.enable');
    await pipe.send('Browser.setDownloadBehavior', { behavior: 'allowAndName', downloadPath: downloads, browserContextId, eventsEnabled: true });
    return page;
  }

  constructor(pipe, sessionId, downloads, profile) {
    this.profile = profile;
    this.pipe = pipe;
    this.sessionId = sessionId;
    this.downloads = downloads;
  }

  /** A DevTools protocol call on the page (Profiler.*, for FERRY_BENCH_PROFILE). */
  cdp(method, params) {
    return this.pipe.send(method, params, this.sessionId);
  }

  async goto(url) {
    const loaded = this.pipe.event('Page.loadEventFired');
    await this.cdp('Page.navigate', { url });
    await loaded;
  }

  /** `fn(arg)` in the page, awaited, its result by value. */
  async evaluate(fn, arg) {
    const expression = `(${fn})(${arg === undefined ? '' : JSON.stringify(arg)})`;
    const r = await this.cdp('Runtime.evaluate', { expression, awaitPromise: true, returnByValue: true });
    if (r.exceptionDetails) {
      const e = r.exceptionDetails;
      throw new Error(`in the page: ${e.exception ? e.exception.description : e.text}`);
    }
    return r.result.value;
  }

  /** Resolves with `fn(arg)`'s value once it is truthy. */
  waitForFunction(fn, arg, { timeout = 30_000 } = {}) {
    return poll(() => this.evaluate(fn, arg), timeout, String(fn).slice(0, 80));
  }

  /** Clicks the element `selector` finds, once there is one. */
  async click(selector) {
    await this.waitForFunction((s) => !!document.querySelector(s), selector);
    await this.evaluate((s) => document.querySelector(s).click(), selector);
  }

  /** Picks `file` in the file input `selector` (as a user would: input and change fire). */
  async setInputFiles(selector, file) {
    const { root } = await this.cdp('DOM.getDocument', { depth: 0 });
    const { nodeId } = await this.cdp('DOM.querySelector', { nodeId: root.nodeId, selector });
    if (!nodeId) throw new Error(`no ${selector} in the page`);
    await this.cdp('DOM.setFileInputFiles', { nodeId, files: [file] });
  }

  /** The path of the next download, once the browser has written all of it. */
  nextDownload(timeout) {
    // Both listeners from the start: one chunk from the pipe may carry both events.
    const begun = this.pipe.event('Browser.downloadWillBegin');
    const ended = [];
    const listener = (m) => {
      if (m.method === 'Browser.downloadProgress' && m.params.state !== 'inProgress') ended.push(m.params);
    };
    this.pipe.listeners.add(listener);
    return (async () => {
      try {
        const { guid, suggestedFilename } = await begun;
        const end = await poll(() => ended.find((p) => p.guid === guid), timeout, `the download of ${suggestedFilename}`);
        if (end.state !== 'completed') throw new Error(`the download of ${suggestedFilename} was ${end.state}`);
        return path.join(this.downloads, guid);
      } finally {
        this.pipe.listeners.delete(listener);
      }
    })();
  }

  /** Stops the Chromium this page belongs to, waits until it is gone, removes its directory. */
  async close() {
    const { proc } = this.pipe;
    if (proc.exitCode === null && proc.signalCode === null) {
      const gone = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await gone;
    }
    // Its last child processes may still be writing there for a moment.
    fs.rmSync(this.profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  }
}

/** The same calls over a Playwright page (`playwright`: the page itself, for tracing). */
function playwrightPage(page) {
  let session = null;
  return {
    playwright: page,
    goto: (url) => page.goto(url),
    evaluate: (fn, arg) => page.evaluate(fn, arg),
    waitForFunction: async (fn, arg, options) => (await page.waitForFunction(fn, arg, { ...options, polling: POLL_MS })).jsonValue(),
    click: (selector) => page.locator(selector).click(),
    setInputFiles: (selector, file) => page.locator(selector).setInputFiles(file),
    async nextDownload(timeout) {
      const download = await page.waitForEvent('download', { timeout });
      return download.path();
    },
    async cdp(method, params) {
      session = session || (await page.context().newCDPSession(page));
      return session.send(method, params);
    },
    close: async () => {},
  };
}

module.exports = { BarePage, playwrightPage };
