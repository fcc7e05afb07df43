// End-to-end through the scaled-out deployment (issue 13, docs/DEPLOYMENT.md): the browser
// → HAProxy → two ferry-bridge → HAProxy → two ferry-server → one Swift container, brought
// up once for this file by scripts/cluster.sh (see cluster-kit.js). The page's main flows
// with the account cluster.sh made, the traffic seen on both bridges and both servers, and a
// write through one bridge and server listed at once through the other.
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const { test, expect } = require('@playwright/test');
const { sha256File, writeRandomFile } = require('../ferry');
const { startCluster } = require('../cluster-kit');

const MiB = 1024 * 1024;

test.describe.configure({ mode: 'serial' });

/** @type {Awaited<ReturnType<typeof startCluster>>} */
let cluster;

test.beforeAll(async () => {
  test.setTimeout(180_000);
  cluster = await startCluster();
});

test.afterAll(async () => {
  if (cluster) await cluster.stop();
});

test.afterEach(async ({}, testInfo) => {
  if (cluster && testInfo.status !== testInfo.expectedStatus) {
    for (const log of cluster.logs()) await testInfo.attach(path.basename(log), { path: log, contentType: 'text/plain' });
  }
});

const row = (page, name) => page.locator(`#file-table tbody tr[data-name="${name}"]`);
const transfer = (page, name) => page.locator(`#transfer-list li[data-name="${name}"]`).last();
const crumbs = (page) => page.locator('.crumbs a');

/** Opens the page through HAProxy's web front end, connects, and logs in as demo. */
async function login(page) {
  await page.goto(cluster.url);
  await page.getByRole('button', { name: 'Connect', exact: true }).click();
  await expect(page.locator('#connection-state')).toContainText('Connected');
  await page.getByLabel('Account').fill('demo');
  await page.getByLabel('Password').fill(cluster.password());
  await page.getByLabel('Password').press('Enter');
  await expect(page.locator('#account')).toHaveText('demo');
}

/** Clicks Refresh once: whatever shows next came from that one LIST. */
async function refresh(page) {
  await page.getByRole('button', { name: 'Refresh' }).click();
}

/** Clicks a file's Download button; the saved copy's SHA-256. */
async function download(page, name, dir) {
  const saved = page.waitForEvent('download', { timeout: 60_000 });
  await page.getByRole('button', { name: `Download ${name}` }).click();
  const d = await saved;
  const file = path.join(dir, `copy-${crypto.randomUUID()}`);
  await d.saveAs(file);
  return sha256File(file);
}

/** The Swift objects under the servers' prefix whose names end in `/suffix`. */
async function swiftObjects(suffix) {
  const env = cluster.swift();
  const url = `${env.SWIFT_STORAGE_URL}/${env.SWIFT_CONTAINER}?prefix=files/&format=json`;
  const reply = await fetch(url, { headers: { 'X-Auth-Token': env.SWIFT_TOKEN } });
  expect(reply.ok).toBe(true);
  return (await reply.json()).map((o) => o.name).filter((n) => n.endsWith(`/${suffix}`));
}

/** The SHA-256 of a Swift object, fetched with the store's own token. */
async function swiftSha256(name) {
  const env = cluster.swift();
  const url = `${env.SWIFT_STORAGE_URL}/${env.SWIFT_CONTAINER}/${name.split('/').map(encodeURIComponent).join('/')}`;
  const reply = await fetch(url, { headers: { 'X-Auth-Token': env.SWIFT_TOKEN } });
  expect(reply.status).toBe(200);
  return crypto.createHash('sha256').update(Buffer.from(await reply.arrayBuffer())).digest('hex');
}

/** How much each back-end server's counters grew from `before` to `after`. */
function grown(before, after) {
  const out = {};
  for (const [key, now] of Object.entries(after)) {
    const was = before[key];
    out[key] = { conns: now.stot - was.stot, in: now.bin - was.bin, out: now.bout - was.bout };
  }
  return out;
}

const BACKENDS = ['bridges/bridge1', 'bridges/bridge2', 'proxied/server1', 'proxied/server2'];

test('through HAProxy: log in, a folder, an upload stored in Swift, downloaded byte-exact, renamed, deleted; both bridges and both servers carry it', async ({ browser }, testInfo) => {
  const before = await cluster.stats();
  for (const key of BACKENDS) expect(before[key].status, key).toBe('UP');
  const tmp = testInfo.outputPath('files');
  fs.mkdirSync(tmp, { recursive: true });
  const size = 6 * MiB + 123;
  const local = path.join(tmp, 'cluster.bin');
  const digest = writeRandomFile(local, size);

  const context = await browser.newContext();
  const page = await context.newPage();
  await login(page);
  // The home of a fresh store: an empty listing, said so.
  await expect(page.locator('#empty-state')).toContainText('This folder is empty');

  await page.getByRole('button', { name: 'New folder' }).click();
  await page.getByLabel('New folder', { exact: true }).fill('Cluster folder');
  await page.getByRole('button', { name: 'Create' }).click();
  await expect(row(page, 'Cluster folder')).toHaveAttribute('data-kind', 'dir');
  await row(page, 'Cluster folder').getByRole('link', { name: 'Cluster folder' }).click();
  await expect(crumbs(page)).toHaveText(['Home', 'Cluster folder']);
  await expect(page.locator('#empty-state')).toContainText('This folder is empty');

  await page.locator('#file-input').setInputFiles(local);
  await expect(transfer(page, 'cluster.bin')).toHaveAttribute('data-state', 'done', { timeout: 60_000 });
  await expect(row(page, 'cluster.bin').locator('td.size')).toHaveAttribute('data-bytes', String(size));
  // In the container itself, byte-exact.
  const stored = await swiftObjects('Cluster folder/cluster.bin');
  expect(stored).toHaveLength(1);
  expect(await swiftSha256(stored[0])).toBe(digest);

  expect(await download(page, 'cluster.bin', tmp)).toBe(digest);

  await page.getByRole('button', { name: 'Rename cluster.bin' }).click();
  await page.getByLabel('New name for cluster.bin').fill('renamed.bin');
  await page.getByLabel('New name for cluster.bin').press('Enter');
  await expect(row(page, 'renamed.bin').locator('td.size')).toHaveAttribute('data-bytes', String(size));
  await expect(row(page, 'cluster.bin')).toHaveCount(0);
  expect(await swiftObjects('Cluster folder/cluster.bin')).toEqual([]);
  const renamed = await swiftObjects('Cluster folder/renamed.bin');
  expect(renamed).toHaveLength(1);
  expect(await swiftSha256(renamed[0])).toBe(digest);

  await page.getByRole('button', { name: 'Delete renamed.bin' }).click();
  await page.getByRole('button', { name: 'Yes, delete' }).click();
  await expect(row(page, 'renamed.bin')).toHaveCount(0);
  await expect(page.locator('#empty-state')).toContainText('This folder is empty');
  expect(await swiftObjects('Cluster folder/renamed.bin')).toEqual([]);

  await crumbs(page).filter({ hasText: 'Home' }).click();
  await page.getByRole('button', { name: 'Delete Cluster folder' }).click();
  await page.getByRole('button', { name: 'Yes, delete' }).click();
  await expect(row(page, 'Cluster folder')).toHaveCount(0);
  await expect(page.locator('#empty-state')).toContainText('This folder is empty');

  // The page load, the session and each transfer are connections of their own, which
  // HAProxy (leastconn) spread over both bridges, and the bridges' over both servers.
  const traffic = grown(before, await cluster.stats());
  console.log(`cluster traffic: ${BACKENDS.map((k) => `${k} ${traffic[k].conns} conns, ${(traffic[k].in / MiB).toFixed(1)} MiB in, ${(traffic[k].out / MiB).toFixed(1)} MiB out`).join('; ')}`);
  for (const key of BACKENDS) expect(traffic[key].conns, `${key}'s new connections`).toBeGreaterThan(0);
  // The upload went in and the download came out through the servers.
  expect(traffic['proxied/server1'].in + traffic['proxied/server2'].in).toBeGreaterThan(size);
  expect(traffic['proxied/server1'].out + traffic['proxied/server2'].out).toBeGreaterThan(size);
  await context.close();

  // Each server logs every connection as it ends, with the browser's address (the PROXY
  // header the bridges send, passed through HAProxy) and what it carried.
  const carried = (name) => [...cluster.log(name).matchAll(/connection peer=127\.0\.0\.1:\d+ .*bytes_in=(\d+) bytes_out=(\d+)/g)]
    .map((m) => ({ in: +m[1], out: +m[2] }))
    .filter((c) => c.in > 0);
  await expect.poll(() => carried('server1').length + carried('server2').length).toBeGreaterThanOrEqual(3);
  for (const server of ['server1', 'server2']) expect(carried(server).length, `${server}'s logged sessions`).toBeGreaterThan(0);
  const biggest = Math.max(...[...carried('server1'), ...carried('server2')].map((c) => c.in));
  expect(biggest).toBeGreaterThanOrEqual(size);
});

/**
 * A page whose every connection goes through bridge `n` and server `n`: the other bridge
 * and server are drained on HAProxy's admin socket (no new connections) while it loads and
 * logs in, then put back. Checked on HAProxy's counters.
 */
async function pinnedPage(browser, n) {
  const other = 3 - n;
  await cluster.setState(`bridges/bridge${other}`, 'drain');
  await cluster.setState(`proxied/server${other}`, 'drain');
  try {
    const before = await cluster.stats();
    const context = await browser.newContext();
    const page = await context.newPage();
    await login(page);
    await expect(page.locator('#empty-state, #file-table')).not.toHaveCount(0);
    const traffic = grown(before, await cluster.stats());
    expect(traffic[`bridges/bridge${n}`].conns).toBeGreaterThan(0);
    expect(traffic[`proxied/server${n}`].conns).toBeGreaterThan(0);
    expect(traffic[`bridges/bridge${other}`].conns).toBe(0);
    expect(traffic[`proxied/server${other}`].conns).toBe(0);
    return { context, page };
  } finally {
    await cluster.setState(`bridges/bridge${other}`, 'ready');
    await cluster.setState(`proxied/server${other}`, 'ready');
  }
}

test('a change through one bridge and server is listed at once through the other', async ({ browser }, testInfo) => {
  const tmp = testInfo.outputPath('files');
  fs.mkdirSync(tmp, { recursive: true });
  const a = await pinnedPage(browser, 1);
  const b = await pinnedPage(browser, 2);
  // Both sessions open, one on each bridge and each server.
  const now = await cluster.stats();
  for (const key of BACKENDS) expect(now[key].scur, `${key}'s open connections`).toBeGreaterThan(0);

  // A folder made on server 1 is in server 2's very next listing: one Refresh, no retry.
  await a.page.getByRole('button', { name: 'New folder' }).click();
  await a.page.getByLabel('New folder', { exact: true }).fill('from-a');
  await a.page.getByRole('button', { name: 'Create' }).click();
  await expect(row(a.page, 'from-a')).toBeVisible();
  await refresh(b.page);
  await expect(row(b.page, 'from-a')).toHaveAttribute('data-kind', 'dir', { timeout: 5_000 });

  // An upload from A, listed by B's next LIST and downloaded through B byte-exact.
  const size = 3 * MiB + 5;
  const local = path.join(tmp, 'shared.bin');
  const digest = writeRandomFile(local, size);
  await a.page.locator('#file-input').setInputFiles(local);
  await expect(transfer(a.page, 'shared.bin')).toHaveAttribute('data-state', 'done', { timeout: 60_000 });
  await refresh(b.page);
  await expect(row(b.page, 'shared.bin').locator('td.size')).toHaveAttribute('data-bytes', String(size), { timeout: 5_000 });
  expect(await download(b.page, 'shared.bin', tmp)).toBe(digest);

  // Renamed on server 2, seen so on server 1 at once.
  await b.page.getByRole('button', { name: 'Rename shared.bin' }).click();
  await b.page.getByLabel('New name for shared.bin').fill('renamed-by-b.bin');
  await b.page.getByLabel('New name for shared.bin').press('Enter');
  await expect(row(b.page, 'renamed-by-b.bin')).toBeVisible();
  await refresh(a.page);
  await expect(row(a.page, 'renamed-by-b.bin')).toBeVisible({ timeout: 5_000 });
  await expect(row(a.page, 'shared.bin')).toHaveCount(0);
  expect(await download(a.page, 'renamed-by-b.bin', tmp)).toBe(digest);

  // Deleted on server 1, gone from server 2's next listing.
  await a.page.getByRole('button', { name: 'Delete renamed-by-b.bin' }).click();
  await a.page.getByRole('button', { name: 'Yes, delete' }).click();
  await a.page.getByRole('button', { name: 'Delete from-a' }).click();
  await a.page.getByRole('button', { name: 'Yes, delete' }).click();
  await expect(a.page.locator('#empty-state')).toContainText('This folder is empty');
  await refresh(b.page);
  await expect(b.page.locator('#empty-state')).toContainText('This folder is empty', { timeout: 5_000 });

  // Both sessions stayed up throughout.
  for (const p of [a.page, b.page]) await expect(p.locator('#connection-state')).toContainText('Connected');
  await a.context.close();
  await b.context.close();
});
