// Fixtures for the transfer tests (tests/transfers.spec.js), on top of ferry.js's
// server and bridge: `relay` is a second bridge of our own, in front of a byte-counting
// TCP proxy to the same server, that a test can kill (SIGKILL, by its PID) and start
// again on the same port. The proxy counts what the browser's connections send the
// server, so a resumed upload can be checked to send only what was missing.
const { spawn } = require('child_process');
const fs = require('fs');
const net = require('net');
const path = require('path');
const { test: base, expect, binDir, distDir, freePort, until } = require('./ferry');

async function healthy(url) {
  try {
    return (await fetch(url)).ok;
  } catch {
    return false;
  }
}

/** A TCP proxy to `upstream` counting the bytes each connection sends either way. */
function countingProxy(upstream) {
  const counts = [];
  const sockets = new Set();
  const server = net.createServer((client) => {
    const entry = { up: 0, down: 0 };
    counts.push(entry);
    const target = net.connect(upstream, '127.0.0.1');
    sockets.add(client);
    sockets.add(target);
    client.on('data', (d) => { entry.up += d.length; });
    target.on('data', (d) => { entry.down += d.length; });
    client.pipe(target);
    target.pipe(client);
    const end = () => { client.destroy(); target.destroy(); sockets.delete(client); sockets.delete(target); };
    client.on('error', end).on('close', end);
    target.on('error', end).on('close', end);
  });
  return {
    counts,
    /** Bytes sent upstream by every connection so far. */
    total: () => counts.reduce((sum, c) => sum + c.up, 0),
    /** Bytes the server sent back, every connection so far. */
    totalDown: () => counts.reduce((sum, c) => sum + c.down, 0),
    listen: (port) => new Promise((resolve) => server.listen(port, '127.0.0.1', resolve)),
    close: () => new Promise((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}

const test = base.extend({
  relay: async ({ ferry }, use) => {
    const proxyPort = await freePort();
    const port = await freePort();
    const proxy = countingProxy(ferry.serverPort);
    await proxy.listen(proxyPort);
    const log = path.join(ferry.tmp, 'relay-bridge.log');
    const relay = {
      port,
      proxy,
      url: `http://127.0.0.1:${port}/`,
      bridge: null,
      /** Starts the bridge on `port` (again), upstream the counting proxy. */
      async start() {
        const out = fs.openSync(log, 'a');
        relay.bridge = spawn(
          path.join(binDir, 'ferry-bridge'),
          ['--listen', `127.0.0.1:${port}`, '--upstream', `127.0.0.1:${proxyPort}`, '--static', distDir],
          { stdio: ['ignore', out, out], env: { ...process.env, RUST_LOG: process.env.RUST_LOG || 'info' } },
        );
        relay.bridge.on('exit', () => fs.closeSync(out));
        await until('the relay bridge /healthz', () => healthy(`${relay.url}healthz`));
      },
      /** Kills the bridge (SIGKILL: its connections drop without a close frame). */
      async kill() {
        const child = relay.bridge;
        if (!child || child.exitCode !== null || child.signalCode !== null) return;
        const gone = new Promise((resolve) => child.once('exit', resolve));
        process.kill(child.pid, 'SIGKILL');
        await gone;
      },
    };
    await relay.start();
    try {
      await use(relay);
    } finally {
      await relay.kill();
      await proxy.close();
    }
  },
});

module.exports = { test, expect };
