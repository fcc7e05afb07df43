// End-to-end tests of the transfers (issue 10): each transfer on its own WebSocket, three
// at once with a queue, Cancel, resume after the bridge was killed and after a reload,
// folder upload, Verify, and large files through the bridge with the page's memory
// measured. The real server and bridge, the release web build, headless Chromium.
const fs = require('fs');
const path = require('path');
const { sha256File, writeRandomFile, throttle } = require('../ferry');
const { test, expect } = require('../transfers-kit');

const MiB = 1024 * 1024;

async function connect(page, url) {
  await page.goto(url);
  await page.getByRole('button', { name: 'Connect', exact: true }).click();
  await expect(page.locator('#connection-state')).toContainText('Connected');
}

const transfer = (page, name) => page.locator(`#transfer-list li[data-name="${name}"]`).last();
const states = (page) => page.locator('#transfer-list li').evaluateAll((rows) => rows.map((r) => r.dataset.state));

/** What the server's root shows (its staging area, a reserved name, aside). */
function visible(root) {
  return fs.readdirSync(root).filter((n) => !n.startsWith('.')).sort();
}

/** The number of bytes a row says have moved (from its progress bar). */
async function moved(page, name) {
  return Number(await transfer(page, name).locator('progress').evaluate((p) => p.value));
}

test('uploads run three at once on their own WebSockets, the rest wait in order', async ({ page, ferry }) => {
  const sockets = [];
  page.on('websocket', (ws) => sockets.push(ws.url()));
  await connect(page, ferry.url);
  await throttle(page, { uploadThroughput: 3 * MiB });
  const files = [];
  const digests = {};
  for (let i = 1; i <= 5; i++) {
    const file = path.join(ferry.tmp, `q${i}.bin`);
    digests[`q${i}.bin`] = writeRandomFile(file, 4 * MiB);
    files.push(file);
  }
  await page.locator('#file-input').setInputFiles(files);
  // Rows as state and words, read at one moment.
  const rows = () => page.locator('#transfer-list li').evaluateAll((lis) => lis.map((r) => `${r.dataset.state}: ${r.querySelector('.transfer-detail').textContent}`));
  await expect.poll(async () => (await rows()).map((r) => r.replace(/:.*/, ''))).toEqual(['running', 'running', 'running', 'queued', 'queued']);
  expect((await rows()).slice(3).join()).toContain('waiting for a free connection');
  // Speed and time left while running.
  await expect(transfer(page, 'q1.bin').locator('.transfer-detail')).toContainText(/\/s · .* left/);
  for (let i = 1; i <= 5; i++) {
    await expect(transfer(page, `q${i}.bin`)).toHaveAttribute('data-state', 'done', { timeout: 180_000 });
  }
  for (const [name, digest] of Object.entries(digests)) {
    expect(await sha256File(path.join(ferry.root, name))).toBe(digest);
  }
  // The session's socket and one per upload.
  expect(sockets.length).toBe(6);
});

test('Cancel mid-upload and mid-download leaves nothing on either side', async ({ page, ferry }) => {
  const before = visible(ferry.root);
  const local = path.join(ferry.tmp, 'cancel-up.bin');
  writeRandomFile(local, 40 * MiB);
  writeRandomFile(path.join(ferry.tmp, 'cancel-down.bin'), 1);
  await connect(page, ferry.url);
  const cdp = await throttle(page, { uploadThroughput: 4 * MiB });
  await page.locator('#file-input').setInputFiles(local);
  await expect.poll(() => moved(page, 'cancel-up.bin')).toBeGreaterThan(2 * MiB);
  await page.getByRole('button', { name: 'Cancel cancel-up.bin' }).click();
  await expect(transfer(page, 'cancel-up.bin')).toHaveAttribute('data-state', 'cancelled');
  await expect(transfer(page, 'cancel-up.bin')).toContainText('cancelled — nothing was stored');
  await page.waitForTimeout(1000);
  expect(visible(ferry.root)).toEqual(before);

  // A download cancelled part way: no file is saved.
  writeRandomFile(path.join(ferry.root, 'big-down.bin'), 30 * MiB);
  await page.getByRole('button', { name: 'Refresh' }).click();
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: 3 * MiB, uploadThroughput: -1 });
  let downloads = 0;
  page.on('download', () => downloads++);
  await page.getByRole('button', { name: 'Download big-down.bin' }).click();
  await expect.poll(() => moved(page, 'big-down.bin')).toBeGreaterThan(2 * MiB);
  await page.getByRole('button', { name: 'Cancel big-down.bin' }).click();
  await expect(transfer(page, 'big-down.bin')).toHaveAttribute('data-state', 'cancelled');
  await expect(transfer(page, 'big-down.bin')).toContainText('nothing saved');
  await page.waitForTimeout(1000);
  expect(downloads).toBe(0);
  // The session stayed connected through both.
  await expect(page.locator('#connection-state')).toContainText('Connected');
});

test('a file changed on disk while it uploads fails in plain words and stores nothing', async ({ page, ferry }) => {
  const before = visible(ferry.root);
  const local = path.join(ferry.tmp, 'changing.bin');
  writeRandomFile(local, 40 * MiB);
  await connect(page, ferry.url);
  await throttle(page, { uploadThroughput: 4 * MiB });
  await page.locator('#file-input').setInputFiles(local);
  await expect.poll(() => moved(page, 'changing.bin')).toBeGreaterThan(2 * MiB);
  // The browser may no longer read a picked file that changed: the socket drops, and
  // the upload must fail for good (not retry) and say why.
  fs.appendFileSync(local, 'changed');
  await expect(transfer(page, 'changing.bin')).toHaveAttribute('data-state', 'failed', { timeout: 60_000 });
  await expect(transfer(page, 'changing.bin')).toContainText('could not be read');
  await page.waitForTimeout(1000);
  expect(visible(ferry.root)).toEqual(before);
  await expect(page.locator('#connection-state')).toContainText('Connected');
});

test.describe('a bridge that takes smaller messages', () => {
  test.use({ bridgeArgs: ['--max-message-size', String(256 * 1024)] });

  test('an upload closed with 1009 goes on in smaller slices and is stored byte-exact', async ({ page, ferry }) => {
    const local = path.join(ferry.tmp, 'sliced.bin');
    const digest = writeRandomFile(local, 3 * MiB);
    await connect(page, ferry.url);
    await page.locator('#file-input').setInputFiles(local);
    await expect(transfer(page, 'sliced.bin')).toHaveAttribute('data-state', 'done', { timeout: 60_000 });
    expect(await sha256File(path.join(ferry.root, 'sliced.bin'))).toBe(digest);
  });
});

test('the bridge killed mid-upload: the upload resumes by itself and sends only what was missing', async ({ page, relay, ferry }) => {
  test.setTimeout(300_000);
  const size = 48 * MiB;
  const local = path.join(ferry.tmp, 'resumed.bin');
  const digest = writeRandomFile(local, size);
  await connect(page, relay.url);
  await throttle(page, { uploadThroughput: 8 * MiB });
  await page.locator('#file-input').setInputFiles(local);
  await expect.poll(() => moved(page, 'resumed.bin'), { timeout: 90_000 }).toBeGreaterThan(size / 3);
  const cutAt = relay.proxy.total();
  await relay.kill();
  await expect(transfer(page, 'resumed.bin')).toHaveAttribute('data-state', 'retrying');
  await page.waitForTimeout(1500);
  await relay.start();
  await expect(transfer(page, 'resumed.bin')).toHaveAttribute('data-state', 'done', { timeout: 180_000 });
  await expect(transfer(page, 'resumed.bin')).toContainText('resumed');
  expect(await sha256File(path.join(ferry.root, 'resumed.bin'))).toBe(digest);
  // Everything the browser's connections sent the server, commands included, against the file:
  // the bytes before the cut plus the RESUME's rest come to the file's size plus at most the
  // 1 MiB tail a server may drop (§3.3) — not the file and a half a restart would send.
  const total = relay.proxy.total();
  const extra = total - size;
  console.log(`resume: ${(cutAt / MiB).toFixed(1)} MiB before the kill; ${(total / MiB).toFixed(2)} MiB sent to the server in all for a ${size / MiB} MiB file (${extra} bytes more), over ${relay.proxy.counts.length} connections`);
  expect(cutAt).toBeGreaterThan(size / 4);
  expect(total).toBeGreaterThanOrEqual(size);
  expect(extra).toBeLessThanOrEqual(1 * MiB + 64 * 1024);
});

test('the bridge killed mid-download: the download continues with READ by itself, saved byte-exact', async ({ page, relay, ferry }) => {
  test.setTimeout(300_000);
  const size = 40 * MiB;
  const digest = writeRandomFile(path.join(ferry.root, 'cut-down.bin'), size);
  await connect(page, relay.url);
  await throttle(page, { downloadThroughput: 8 * MiB });
  const saved = page.waitForEvent('download', { timeout: 90_000 });
  await page.getByRole('button', { name: 'Download cut-down.bin' }).click();
  await expect.poll(() => moved(page, 'cut-down.bin'), { timeout: 90_000 }).toBeGreaterThan(size / 3);
  const gotAt = await moved(page, 'cut-down.bin');
  const cutAt = relay.proxy.totalDown();
  await relay.kill();
  await expect(transfer(page, 'cut-down.bin')).toHaveAttribute('data-state', 'retrying');
  await page.waitForTimeout(1000);
  await relay.start();
  const d = await saved;
  const file = path.join(ferry.tmp, 'cut-down-copy.bin');
  await d.saveAs(file);
  expect(await sha256File(file)).toBe(digest);
  await expect(transfer(page, 'cut-down.bin')).toContainText('continued with READ');
  // What was on its way (in the bridge, the sockets and the throttled browser) comes again;
  // what the page had is not fetched twice (a restart would fetch all of `cutAt` again).
  const extra = relay.proxy.totalDown() - size;
  console.log(`download cut: the page had ${(gotAt / MiB).toFixed(1)} MiB, ${(cutAt / MiB).toFixed(1)} MiB had left the server; ${(extra / MiB).toFixed(2)} MiB more than the file came from the server in all`);
  expect(gotAt).toBeGreaterThan(size / 3);
  expect(extra).toBeLessThanOrEqual(cutAt - gotAt + 1 * MiB);
});

test('after a reload, the same file picked again for the same path resumes instead of starting over', async ({ page, relay, ferry }) => {
  test.setTimeout(300_000);
  const size = 40 * MiB;
  const local = path.join(ferry.tmp, 'reload.bin');
  const digest = writeRandomFile(local, size);
  await connect(page, relay.url);
  await throttle(page, { uploadThroughput: 8 * MiB });
  await page.locator('#file-input').setInputFiles(local);
  await expect.poll(() => moved(page, 'reload.bin'), { timeout: 90_000 }).toBeGreaterThan(size / 2);
  await page.reload();
  const cutAt = relay.proxy.total();
  // The tab connects again by itself.
  await expect(page.locator('#connection-state')).toContainText('Connected');
  await page.locator('#file-input').setInputFiles(local);
  await expect(transfer(page, 'reload.bin')).toHaveAttribute('data-state', 'done', { timeout: 180_000 });
  await expect(transfer(page, 'reload.bin')).toContainText('resumed');
  // Bytes kept from before this page are checked: RESUME matches them by path and size only.
  await expect(transfer(page, 'reload.bin').locator('.transfer-verify')).toHaveAttribute('data-verify', 'match');
  expect(await sha256File(path.join(ferry.root, 'reload.bin'))).toBe(digest);
  const extra = relay.proxy.total() - size;
  console.log(`reload: ${(cutAt / MiB).toFixed(1)} MiB before the reload, ${extra} bytes more than the file in all`);
  expect(cutAt).toBeGreaterThan(size / 3);
  expect(extra).toBeLessThanOrEqual(1 * MiB + 64 * 1024);
});

test('another file of the same name and size after a cancel is stored whole, never mixed with the kept bytes', async ({ page, ferry }) => {
  fs.mkdirSync(path.join(ferry.tmp, 'a'));
  fs.mkdirSync(path.join(ferry.tmp, 'b'));
  const first = path.join(ferry.tmp, 'a', 'same.bin');
  const second = path.join(ferry.tmp, 'b', 'same.bin');
  writeRandomFile(first, 24 * MiB);
  const digest = writeRandomFile(second, 24 * MiB);
  await connect(page, ferry.url);
  const cdp = await throttle(page, { uploadThroughput: 4 * MiB });
  await page.locator('#file-input').setInputFiles(first);
  await expect.poll(() => moved(page, 'same.bin')).toBeGreaterThan(4 * MiB);
  await page.getByRole('button', { name: 'Cancel same.bin' }).click();
  await expect(transfer(page, 'same.bin')).toHaveAttribute('data-state', 'cancelled');
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
  // RESUME matches kept bytes by path and size only: the page checks the result and sends it again.
  await page.locator('#file-input').setInputFiles(second);
  await expect(transfer(page, 'same.bin')).toHaveAttribute('data-state', 'done', { timeout: 180_000 });
  await expect(transfer(page, 'same.bin')).toContainText('sent again in full');
  expect(await sha256File(path.join(ferry.root, 'same.bin'))).toBe(digest);
});

test('a folder picked with the folder picker is recreated with MKDIR, files byte-exact; Verify matches', async ({ page, ferry }) => {
  const tree = path.join(ferry.tmp, 'album');
  fs.mkdirSync(path.join(tree, 'raw', 'deep'), { recursive: true });
  const digests = {
    'album/cover.jpg': writeRandomFile(path.join(tree, 'cover.jpg'), 300 * 1024),
    'album/raw/one.bin': writeRandomFile(path.join(tree, 'raw', 'one.bin'), 2 * MiB + 7),
    'album/raw/deep/two.bin': writeRandomFile(path.join(tree, 'raw', 'deep', 'two.bin'), 1),
  };
  // One folder exists already: MKDIR's 550 is fine for a directory.
  fs.mkdirSync(path.join(ferry.root, 'album'));
  await connect(page, ferry.url);
  await page.locator('#verify-uploads').check();
  await page.locator('#folder-input').setInputFiles(tree);
  for (const name of Object.keys(digests)) {
    await expect(transfer(page, name)).toHaveAttribute('data-state', 'done');
    await expect(transfer(page, name).locator('.transfer-verify')).toHaveAttribute('data-verify', 'match');
  }
  for (const [name, digest] of Object.entries(digests)) {
    expect(await sha256File(path.join(ferry.root, name))).toBe(digest);
  }
  await expect(transfer(page, 'album/raw/one.bin').locator('.transfer-verify')).toContainText(digests['album/raw/one.bin']);

  // Changed on the server afterwards: Verify on demand says so.
  fs.writeFileSync(path.join(ferry.root, 'album', 'cover.jpg'), 'not the same');
  await page.getByRole('button', { name: 'Verify album/cover.jpg' }).click();
  await expect(transfer(page, 'album/cover.jpg').locator('.transfer-verify')).toHaveAttribute('data-verify', 'mismatch');
});

test('a folder dropped on the page is uploaded with its tree (webkitGetAsEntry)', async ({ page, ferry }) => {
  const tree = path.join(ferry.tmp, 'dropped');
  fs.mkdirSync(path.join(tree, 'sub', 'empty'), { recursive: true });
  const digests = {
    'dropped/top.txt': writeRandomFile(path.join(tree, 'top.txt'), 1000),
    'dropped/sub/inner.bin': writeRandomFile(path.join(tree, 'sub', 'inner.bin'), 3 * MiB),
  };
  await connect(page, ferry.url);
  // A drop as the OS makes it (Chromium's DevTools protocol, with a real directory's path).
  const cdp = await page.context().newCDPSession(page);
  const box = await page.locator('#drop-zone').boundingBox();
  const at = { x: box.x + box.width / 2, y: box.y + box.height / 2 };
  const data = { items: [], files: [tree], dragOperationsMask: 1 };
  for (const type of ['dragEnter', 'dragOver', 'drop']) {
    await cdp.send('Input.dispatchDragEvent', { type, ...at, data });
  }
  for (const name of Object.keys(digests)) {
    await expect(transfer(page, name)).toHaveAttribute('data-state', 'done');
  }
  for (const [name, digest] of Object.entries(digests)) {
    expect(await sha256File(path.join(ferry.root, name))).toBe(digest);
  }
  // An empty folder is recreated too.
  expect(fs.statSync(path.join(ferry.root, 'dropped', 'sub', 'empty')).isDirectory()).toBe(true);
});

test('a file in the way of a folder stops the folder upload in plain words', async ({ page, ferry }) => {
  const tree = path.join(ferry.tmp, 'docs');
  fs.mkdirSync(tree);
  writeRandomFile(path.join(tree, 'a.txt'), 10);
  fs.writeFileSync(path.join(ferry.root, 'docs'), 'a file, not a folder');
  await connect(page, ferry.url);
  await page.locator('#folder-input').setInputFiles(tree);
  await expect(page.locator('#notice')).toContainText('Folder upload stopped');
  await expect(page.locator('#notice')).toContainText('docs');
  expect(fs.readFileSync(path.join(ferry.root, 'docs'), 'utf8')).toBe('a file, not a folder');
});

test('two uploads and a download at once while the file list stays usable', async ({ page, ferry }) => {
  const up = ['both-1.bin', 'both-2.bin'].map((n) => {
    const file = path.join(ferry.tmp, n);
    return { file, name: n, digest: writeRandomFile(file, 12 * MiB) };
  });
  const downDigest = writeRandomFile(path.join(ferry.root, 'down.bin'), 12 * MiB);
  await connect(page, ferry.url);
  await throttle(page, { uploadThroughput: 4 * MiB, downloadThroughput: 4 * MiB });
  await page.locator('#file-input').setInputFiles(up.map((u) => u.file));
  const saved = page.waitForEvent('download', { timeout: 60_000 });
  await page.getByRole('button', { name: 'Download down.bin' }).click();
  await expect.poll(() => states(page)).toEqual(['running', 'running', 'running']);
  // The session's own connection answers while the three run.
  fs.writeFileSync(path.join(ferry.root, 'appeared.txt'), 'hello');
  await page.getByRole('button', { name: 'Refresh' }).click();
  await expect(page.locator('#file-table tbody tr[data-name="appeared.txt"]')).toBeVisible();
  expect(await states(page)).toEqual(['running', 'running', 'running']);
  const d = await saved;
  const file = path.join(ferry.tmp, 'down-copy.bin');
  await d.saveAs(file);
  expect(await sha256File(file)).toBe(downDigest);
  for (const u of up) {
    await expect(transfer(page, u.name)).toHaveAttribute('data-state', 'done', { timeout: 180_000 });
    expect(await sha256File(path.join(ferry.root, u.name))).toBe(u.digest);
  }
});

// 256 MiB always; 1 GiB with FERRY_E2E_BIG=1 (several minutes on two cores).
const BIG = process.env.FERRY_E2E_BIG === '1' ? 1024 * MiB : 256 * MiB;

test(`${BIG / MiB} MiB up and down through the bridge, byte-exact, the page's memory bounded`, async ({ page, ferry }) => {
  test.setTimeout(BIG > 256 * MiB ? 1_800_000 : 600_000);
  const local = path.join(ferry.tmp, 'huge.bin');
  const digest = writeRandomFile(local, BIG);
  await connect(page, ferry.url);
  const cdp = await page.context().newCDPSession(page);
  // Samples the page's JS heap (V8's, ArrayBuffer backing stores counted apart) and WASM memory.
  const peak = { heap: 0, buffers: 0, wasm: 0 };
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      try {
        const usage = await cdp.send('Runtime.getHeapUsage');
        peak.heap = Math.max(peak.heap, usage.usedSize);
        if (usage.backingStorageSize !== undefined) peak.buffers = Math.max(peak.buffers, usage.backingStorageSize);
        const wasm = await page.evaluate(() => window.wasmBindings.wasm_memory_bytes());
        peak.wasm = Math.max(peak.wasm, wasm);
      } catch {
        // The page may be busy navigating a download; the next sample counts.
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
  const t0 = Date.now();
  await page.locator('#file-input').setInputFiles(local);
  await expect(transfer(page, 'huge.bin')).toHaveAttribute('data-state', 'done', { timeout: 1_500_000 });
  const t1 = Date.now();
  expect(await sha256File(path.join(ferry.root, 'huge.bin'))).toBe(digest);
  await page.getByRole('button', { name: 'Refresh' }).click();
  const saved = page.waitForEvent('download', { timeout: 1_500_000 });
  const t2 = Date.now();
  await page.getByRole('button', { name: 'Download huge.bin' }).click();
  const d = await saved;
  const t3 = Date.now();
  const copy = path.join(ferry.tmp, 'huge-copy.bin');
  await d.saveAs(copy);
  sampling = false;
  await sampler;
  expect(fs.statSync(copy).size).toBe(BIG);
  expect(await sha256File(copy)).toBe(digest);
  const mb = (bytes, ms) => ((bytes / 1e6) / (ms / 1000)).toFixed(1);
  console.log(
    `${BIG / MiB} MiB: up ${((t1 - t0) / 1000).toFixed(1)} s (${mb(BIG, t1 - t0)} MB/s), down ${((t3 - t2) / 1000).toFixed(1)} s (${mb(BIG, t3 - t2)} MB/s); ` +
      `peak JS heap ${(peak.heap / MiB).toFixed(1)} MiB, peak ArrayBuffer storage ${(peak.buffers / MiB).toFixed(1)} MiB, peak WASM memory ${(peak.wasm / MiB).toFixed(1)} MiB`,
  );
  expect(peak.wasm).toBeLessThan(32 * MiB);
  expect(peak.heap).toBeLessThan(64 * MiB);
  expect(peak.buffers).toBeLessThan(128 * MiB);
});
