// The scaled-out deployment of docs/DEPLOYMENT.md for a spec file (tests/cluster.spec.js):
// scripts/cluster.sh brings up a Swift all-in-one, two ferry-server on its container, two
// ferry-bridge serving the web build, and HAProxy in front, all on 127.0.0.1, on ports
// checked free here. The script is the one an operator runs, so the test exercises it too;
// it writes every PID it starts to DIR/pid/ and its stop stops exactly those (and, through
// --owner, runs by itself should this worker die before its clean-up).
const { execFile } = require('child_process');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');
const { REPO, binDir, distDir } = require('./ferry');

const SCRIPT = path.join(REPO, 'scripts', 'cluster.sh');

/** cluster.sh's ports from FERRY_INTERNAL_BASE: servers, their proxy listeners, bridges, HAProxy's relay. */
const INTERNAL = [1, 2, 9, 11, 12, 21, 22];
/** The web and native front ends, also placed in the same block. */
const WEB = 7;
const NATIVE = 8;

function run(args, env, timeout) {
  return new Promise((resolve) => {
    execFile('bash', [SCRIPT, ...args], { env: { ...process.env, ...env }, timeout }, (error, stdout, stderr) => {
      resolve({ ok: !error, error, output: `${stdout}${stderr}` });
    });
  });
}

function bindable(port) {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/**
 * A base whose block of ports is all free, below the ephemeral range (so no outgoing
 * connection is handed one of them meanwhile) and outside the FTP passive range another
 * spec uses (20000-31999).
 */
async function freeBase() {
  for (let attempt = 0; attempt < 200; attempt++) {
    const base = 10_000 + 30 * Math.floor(Math.random() * 330); // 10000 … 19870
    const ports = [...INTERNAL, WEB, NATIVE].map((p) => base + p);
    let free = true;
    for (const port of ports) {
      if (!(await bindable(port))) {
        free = false;
        break;
      }
    }
    if (free) return base;
  }
  throw new Error('no free block of ports for the cluster');
}

/** One request on HAProxy's admin socket (DIR/haproxy.sock); the reply as text. */
function haproxyCommand(socket, command) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    const conn = net.connect(socket, () => conn.end(`${command}\n`));
    conn.on('data', (d) => chunks.push(d));
    conn.on('error', reject);
    conn.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

/**
 * Starts the cluster in a fresh temporary directory (twice at most: a Swift port picked at
 * random may take one of ours in between). Resolves to its handle; `stop()` must follow.
 */
async function startCluster() {
  let lastOutput = '';
  for (let attempt = 1; attempt <= 2; attempt++) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-cluster-e2e-'));
    const base = await freeBase();
    const env = {
      FERRY_BIN_DIR: binDir,
      FERRY_DIST: distDir,
      FERRY_INTERNAL_BASE: String(base),
      FERRY_WEB_PORT: String(base + WEB),
      FERRY_PORT: String(base + NATIVE),
    };
    const started = await run(['start', dir, '--owner', String(process.pid)], env, 150_000);
    const cluster = handle(dir, base);
    // Ready once HAProxy's first health checks have passed ("UP 1/2" before: one more
    // failed check and it is down).
    if (started.ok && await allUp(cluster)) return cluster;
    const health = started.ok ? `HAProxy's back ends not all UP: ${JSON.stringify(await cluster.stats())}\n` : '';
    lastOutput = `${started.output}\n${health}${tails(dir)}`;
    await cluster.stop();
  }
  throw new Error(`scripts/cluster.sh start failed twice; the second time:\n${lastOutput}`);
}

async function allUp(cluster) {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const stats = await cluster.stats();
    if (Object.values(stats).every((s) => s.status === 'UP')) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

/** The last lines of every log in DIR/log/, for an error message. */
function tails(dir) {
  const logs = path.join(dir, 'log');
  if (!fs.existsSync(logs)) return '';
  return fs.readdirSync(logs).map((name) => {
    const lines = fs.readFileSync(path.join(logs, name), 'utf8').trim().split('\n');
    return `--- ${name}\n${lines.slice(-10).join('\n')}`;
  }).join('\n');
}

function handle(dir, base) {
  const socket = path.join(dir, 'haproxy.sock');
  const cluster = {
    dir,
    base,
    url: `http://127.0.0.1:${base + WEB}/`,
    /** The demo account's password, as cluster.sh wrote it (mode 0600). */
    password: () => fs.readFileSync(path.join(dir, 'demo.password'), 'utf8').trim(),
    /** The Swift all-in-one's DIR/swift/env as an object (storage URL, token, container). */
    swift: () => Object.fromEntries(
      fs.readFileSync(path.join(dir, 'swift', 'env'), 'utf8').split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    ),
    /** A process's log (server1, server2, bridge1, bridge2, haproxy), ANSI colours removed. */
    // eslint-disable-next-line no-control-regex
    log: (name) => fs.readFileSync(path.join(dir, 'log', `${name}.log`), 'utf8').replace(/\x1b\[[0-9;]*m/g, ''),
    /**
     * HAProxy's counters per back-end server: `{ 'bridges/bridge1': { scur, stot, bin, bout, status }, … }`
     * (`bridges`: the browsers' connections to the bridges; `proxied`: the bridges' to the servers).
     */
    async stats() {
      const csv = await haproxyCommand(socket, 'show stat');
      const lines = csv.trim().split('\n');
      const header = lines[0].replace(/^# /, '').split(',');
      const out = {};
      for (const line of lines.slice(1)) {
        const f = Object.fromEntries(line.split(',').map((v, i) => [header[i], v]));
        if (f.svname === 'FRONTEND' || f.svname === 'BACKEND') continue;
        out[`${f.pxname}/${f.svname}`] = { scur: +f.scur, stot: +f.stot, bin: +f.bin, bout: +f.bout, status: f.status };
      }
      return out;
    },
    /** `set server BACKEND/SERVER state ready|drain` (drain: no new connections, the open ones stay). */
    async setState(server, state) {
      const reply = await haproxyCommand(socket, `set server ${server} state ${state}`);
      if (reply.trim() !== '') throw new Error(`HAProxy: set server ${server} state ${state}: ${reply}`);
    },
    /** The logs of every process, for a failed test's report. */
    logs: () => (fs.existsSync(path.join(dir, 'log')) ? fs.readdirSync(path.join(dir, 'log')).map((n) => path.join(dir, 'log', n)) : []),
    /** cluster.sh stop DIR, then removes DIR. */
    async stop() {
      const stopped = await run(['stop', dir], {}, 60_000);
      if (!stopped.ok) throw new Error(`scripts/cluster.sh stop failed:\n${stopped.output}`);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  return cluster;
}

module.exports = { startCluster };
