// Starts the real ferry-server (temporary root) and ferry-bridge (serving the release
// web build) on free loopback ports, as a Playwright fixture: `test('…', async ({ page, ferry }) => …)`.
const { test: base, expect } = require('@playwright/test');
const { execFileSync, spawn } = require('child_process');
const crypto = require('crypto');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');

const REPO = path.resolve(__dirname, '..');
const targetDir = process.env.CARGO_TARGET_DIR || path.join(REPO, 'target');
const binDir = process.env.FERRY_BIN_DIR || path.join(targetDir, 'release');
const distDir = process.env.FERRY_DIST || path.join(REPO, 'dist');

/** A free TCP port on 127.0.0.1 (the OS picks it; we release it for the child to bind). */
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Resolves once `check()` is true, polling; fails after `ms`. */
async function until(what, check, ms = 15_000) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function tcpOpen(port) {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}

async function httpOk(url) {
  try {
    return (await fetch(url)).ok;
  } catch {
    return false;
  }
}

/** Starts a child process whose output goes to a log file (shown when a test fails). */
function start(name, args, logFile) {
  const log = fs.openSync(logFile, 'a');
  const child = spawn(path.join(binDir, name), args, {
    stdio: ['ignore', log, log],
    env: { ...process.env, RUST_LOG: process.env.RUST_LOG || 'info' },
  });
  child.on('exit', () => fs.closeSync(log));
  return child;
}

function stop(child) {
  return new Promise((resolve) => {
    if (!child || child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 5_000).unref();
  });
}

/** SHA-256 of a file, hex. */
function sha256File(file) {
  return new Promise((resolve, reject) => {
    const hash = crypto.createHash('sha256');
    fs.createReadStream(file).on('error', reject).on('data', (d) => hash.update(d)).on('end', () => resolve(hash.digest('hex')));
  });
}

/** Writes `size` pseudo-random bytes to `file` in 1 MiB blocks; returns its SHA-256. */
function writeRandomFile(file, size) {
  const hash = crypto.createHash('sha256');
  const fd = fs.openSync(file, 'w');
  try {
    for (let left = size; left > 0;) {
      const block = crypto.randomBytes(Math.min(left, 1 << 20));
      fs.writeSync(fd, block);
      hash.update(block);
      left -= block.length;
    }
  } finally {
    fs.closeSync(fd);
  }
  return hash.digest('hex');
}

/**
 * Writes an accounts file with the server's own tool (`ferry-server accounts add`),
 * one account per `name: { password, readOnly, home }`.
 */
function addAccounts(file, accounts) {
  for (const [name, a] of Object.entries(accounts)) {
    const args = ['accounts', 'add', name, '--accounts', file, '--password-stdin'];
    if (a.readOnly) args.push('--read-only');
    if (a.home) args.push('--home', a.home);
    execFileSync(path.join(binDir, 'ferry-server'), args, { input: `${a.password}\n`, stdio: ['pipe', 'ignore', 'inherit'] });
  }
}

/**
 * Slows a page's network, WebSockets included, through the DevTools protocol (bytes per
 * second; -1 leaves a direction as it is), so a transfer is surely still running when a
 * test acts on it. Returns the CDP session, to change the conditions later.
 */
async function throttle(page, { downloadThroughput = -1, uploadThroughput = -1 }) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput, uploadThroughput });
  return cdp;
}

const test = base.extend({
  /** Extra ferry-server flags for a test (`test.use({ serverArgs: ['--read-only'] })`). */
  serverArgs: [[], { option: true }],
  /** Extra ferry-bridge flags for a test (`test.use({ bridgeArgs: ['--max-message-size', '65536'] })`). */
  bridgeArgs: [[], { option: true }],
  /**
   * Accounts for the server (`test.use({ accounts: { ann: { password: 'pw' } } })`; an object,
   * since test.use reads an array as [value, options]): given, the server starts with
   * `--accounts` (and no login delay), so sessions start logged out.
   */
  accounts: [{}, { option: true }],
  ferry: async ({ serverArgs, bridgeArgs, accounts }, use, testInfo) => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-e2e-'));
    const root = path.join(tmp, 'root'); // missing: the server creates it with the sample files
    const serverPort = await freePort();
    const bridgePort = await freePort();
    const serverLog = path.join(tmp, 'server.log');
    const bridgeLog = path.join(tmp, 'bridge.log');
    const ferry = {
      tmp,
      root,
      serverPort,
      bridgePort,
      url: `http://127.0.0.1:${bridgePort}/`,
      server: null,
      bridge: null,
      /** Stops the server (the bridge stays up). */
      async stopServer() {
        await stop(ferry.server);
      },
    };
    try {
      const accountArgs = [];
      if (Object.keys(accounts).length > 0) {
        const file = path.join(tmp, 'accounts.toml');
        addAccounts(file, accounts);
        accountArgs.push('--accounts', file, '--login-delay', '0');
      }
      ferry.server = start(
        'ferry-server',
        ['--root', root, '--listen', `127.0.0.1:${serverPort}`, ...accountArgs, ...serverArgs],
        serverLog,
      );
      await until('ferry-server to listen', () => tcpOpen(serverPort));
      ferry.bridge = start(
        'ferry-bridge',
        ['--listen', `127.0.0.1:${bridgePort}`, '--upstream', `127.0.0.1:${serverPort}`, '--static', distDir, ...bridgeArgs],
        bridgeLog,
      );
      await until('ferry-bridge /healthz', () => httpOk(`http://127.0.0.1:${bridgePort}/healthz`));
      await use(ferry);
    } finally {
      await stop(ferry.bridge);
      await stop(ferry.server);
      if (testInfo.status !== testInfo.expectedStatus) {
        for (const log of [serverLog, bridgeLog]) {
          if (fs.existsSync(log)) await testInfo.attach(path.basename(log), { path: log, contentType: 'text/plain' });
        }
      }
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  },
});

module.exports = { test, expect, REPO, binDir, distDir, freePort, sha256File, writeRandomFile, until, throttle };
