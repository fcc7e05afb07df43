// End-to-end: the real server and bridge, the release web build, headless Chromium.
const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');
const { test, expect, sha256File, writeRandomFile, until, throttle } = require('../ferry');

const MiB = 1024 * 1024;

/** Opens the page and connects to the bridge's default server. */
async function connect(page, ferry) {
  await page.goto(ferry.url);
  await page.getByRole('button', { name: 'Connect', exact: true }).click();
  await expect(page.locator('#connection-state')).toContainText('Connected');
}

const row = (page, name) => page.locator(`#file-table tbody tr[data-name="${name}"]`);
const transfer = (page, name) => page.locator(`#transfer-list li[data-name="${name}"]`).last();
const consoleLog = (page) => page.locator('#console-log');

/** Clicks a file's Download button and returns the saved file's path. */
async function download(page, name, dir, timeout = 60_000) {
  const saved = page.waitForEvent('download', { timeout });
  await page.getByRole('button', { name: `Download ${name}` }).click();
  const d = await saved;
  expect(d.suggestedFilename()).toBe(name);
  const file = path.join(dir, `downloaded-${name}`);
  await d.saveAs(file);
  return file;
}

test('the sample files are listed after connecting; no request leaves the bridge', async ({ page, ferry }) => {
  const origin = new URL(ferry.url).host;
  const elsewhere = [];
  page.on('request', (r) => {
    if (new URL(r.url()).host !== origin) elsewhere.push(r.url());
  });
  page.on('websocket', (ws) => {
    if (new URL(ws.url()).host !== origin) elsewhere.push(ws.url());
  });
  await connect(page, ferry);
  await expect(row(page, 'serverTestFile.txt')).toBeVisible();
  await expect(row(page, 'welcome.txt')).toBeVisible();
  const size = fs.statSync(path.join(ferry.root, 'welcome.txt')).size;
  await expect(row(page, 'welcome.txt').locator('td.size')).toHaveAttribute('data-bytes', String(size));
  await expect(consoleLog(page)).toContainText('220 ');
  expect(elsewhere).toEqual([]);
});

test('keyboard only, on a narrow screen', async ({ page, ferry }) => {
  await page.setViewportSize({ width: 360, height: 740 });
  await page.goto(ferry.url);
  await page.getByLabel('Server host').focus();
  for (let i = 0; i < 3; i++) await page.keyboard.press('Tab'); // port, bridge URL, Connect
  await expect(page.getByRole('button', { name: 'Connect', exact: true })).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(row(page, 'welcome.txt')).toBeVisible();

  const saved = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Download welcome.txt' }).focus();
  await page.keyboard.press('Enter');
  expect((await saved).suggestedFilename()).toBe('welcome.txt');

  // Nothing sticks out sideways.
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow).toBeLessThanOrEqual(0);
});

test('upload 5 MiB, download it byte-exact, sort, delete with confirmation', async ({ page, ferry }) => {
  const local = path.join(ferry.tmp, 'five.bin');
  const digest = writeRandomFile(local, 5 * MiB);
  await connect(page, ferry);

  await page.locator('#file-input').setInputFiles(local);
  await expect(transfer(page, 'five.bin')).toHaveAttribute('data-state', 'done');
  await expect(row(page, 'five.bin').locator('td.size')).toHaveAttribute('data-bytes', String(5 * MiB));
  await expect(row(page, 'five.bin').locator('td.size')).toHaveText('5.0 MiB');
  expect(await sha256File(path.join(ferry.root, 'five.bin'))).toBe(digest);

  // Sorting by size, descending: the 5 MiB file comes first.
  await page.getByRole('button', { name: 'Size' }).click();
  await page.getByRole('button', { name: 'Size' }).click();
  await expect(page.locator('#file-table tbody tr').first()).toHaveAttribute('data-name', 'five.bin');

  const saved = await download(page, 'five.bin', ferry.tmp);
  expect(await sha256File(saved)).toBe(digest);
  await expect(transfer(page, 'five.bin')).toHaveAttribute('data-state', 'done');

  await page.getByRole('button', { name: 'Delete five.bin' }).click();
  await expect(page.getByRole('group', { name: 'Confirm delete' })).toContainText('five.bin');
  await page.getByRole('button', { name: 'Yes, delete' }).click();
  await expect(row(page, 'five.bin')).toHaveCount(0);
  expect(fs.existsSync(path.join(ferry.root, 'five.bin'))).toBe(false);
  await expect(row(page, 'welcome.txt')).toBeVisible();

  await page.getByRole('button', { name: 'Disconnect' }).click();
  await expect(consoleLog(page)).toContainText('> QUIT');
  await expect(consoleLog(page)).toContainText('< 221');
  await expect(page.locator('#connection-state')).toContainText('Disconnected');
  await expect(page.locator('#notice')).toContainText('Disconnected.');
});

test('several files dropped at once upload with a progress bar each', async ({ page, ferry }) => {
  await connect(page, ferry);
  const files = [
    { name: 'one.txt', mimeType: 'text/plain', buffer: Buffer.from('first file\n') },
    { name: 'two.bin', mimeType: 'application/octet-stream', buffer: Buffer.alloc(300_000, 7) },
    { name: 'empty', mimeType: 'application/octet-stream', buffer: Buffer.alloc(0) },
  ];
  const dataTransfer = await page.evaluateHandle((files) => {
    const dt = new DataTransfer();
    for (const f of files) dt.items.add(new File([new Uint8Array(f.bytes)], f.name, { type: f.mimeType }));
    return dt;
  }, files.map((f) => ({ name: f.name, mimeType: f.mimeType, bytes: [...f.buffer] })));
  await page.locator('#drop-zone').dispatchEvent('drop', { dataTransfer });
  for (const f of files) {
    await expect(transfer(page, f.name)).toHaveAttribute('data-state', 'done');
    await expect(transfer(page, f.name).locator('progress')).toBeVisible();
    await expect(row(page, f.name).locator('td.size')).toHaveAttribute('data-bytes', String(f.buffer.length));
    expect(fs.readFileSync(path.join(ferry.root, f.name)).equals(f.buffer)).toBe(true);
  }
});

test('console: CONNECT, LIST, RETRIEVE, STORE, a bad command, QUIT', async ({ page, ferry }) => {
  await page.goto(ferry.url);
  const line = page.getByLabel('ferry>');
  await line.fill(`CONNECT 127.0.0.1 ${ferry.serverPort}`);
  await line.press('Enter');
  // The bridge allows only its upstream; CONNECT to that address by name works.
  await expect(page.locator('#connection-state')).toContainText('Connected');

  await line.fill('LIST');
  await line.press('Enter');
  await expect(consoleLog(page)).toContainText('> LIST');
  await expect(consoleLog(page)).toContainText(/< 226 2 entries/);
  await expect(consoleLog(page).locator('.line.data')).toHaveCount(2);

  const saved = page.waitForEvent('download');
  await line.fill('retrieve welcome.txt');
  await line.press('Enter');
  const d = await saved;
  expect(d.suggestedFilename()).toBe('welcome.txt');
  const file = path.join(ferry.tmp, 'welcome-copy.txt');
  await d.saveAs(file);
  expect(fs.readFileSync(file).equals(fs.readFileSync(path.join(ferry.root, 'welcome.txt')))).toBe(true);
  await expect(transfer(page, 'welcome.txt')).toHaveAttribute('data-state', 'done');

  const chooser = page.waitForEvent('filechooser');
  await line.fill('STORE');
  await line.press('Enter');
  await (await chooser).setFiles({ name: 'typed.txt', mimeType: 'text/plain', buffer: Buffer.from('from the console\n') });
  // The upload runs on its own connection (issue 10), so the console shows its row, not its lines.
  await expect(transfer(page, 'typed.txt')).toHaveAttribute('data-state', 'done');
  await expect(row(page, 'typed.txt')).toBeVisible();
  expect(fs.readFileSync(path.join(ferry.root, 'typed.txt'), 'utf8')).toBe('from the console\n');

  await line.fill('RETRIEVE missing.txt');
  await line.press('Enter');
  await expect(page.locator('#notice')).toContainText('no such file');
  await expect(transfer(page, 'missing.txt')).toHaveAttribute('data-state', 'failed');

  await line.fill('FROB');
  await line.press('Enter');
  await expect(consoleLog(page).locator('.line.error').last()).toContainText('unknown command');

  await line.fill('QUIT');
  await line.press('Enter');
  await expect(consoleLog(page)).toContainText('< 221');
  await expect(page.locator('#connection-state')).toContainText('Disconnected');
  await expect(page.locator('#notice')).toContainText('Disconnected.');
});

test('a target the bridge does not allow gets a clear message', async ({ page, ferry }) => {
  await page.goto(ferry.url);
  await page.getByLabel('Server host').fill('127.0.0.1');
  await page.getByLabel('Port').fill('1');
  await page.getByRole('button', { name: 'Connect', exact: true }).click();
  await expect(page.locator('#notice')).toContainText('Not allowed');
  await expect(page.locator('#notice')).toHaveAttribute('role', 'alert');
  await expect(page.locator('#connection-state')).toContainText('Disconnected');
});

test('a stopped server gets a clear message', async ({ page, ferry }) => {
  await page.goto(ferry.url);
  await ferry.stopServer();
  await page.getByRole('button', { name: 'Connect', exact: true }).click();
  await expect(page.locator('#notice')).toContainText('Server unreachable');
  await expect(page.locator('#connection-state')).toContainText('Disconnected');
});

test('the server going away while connected is reported', async ({ page, ferry }) => {
  await connect(page, ferry);
  await ferry.stopServer();
  await expect(page.locator('#notice')).toContainText(/server (closed|is closing) the connection/);
  await expect(page.locator('#connection-state')).toContainText('Disconnected');
});

test('100 MiB goes up and comes back byte-exact, never held in WASM memory', async ({ page, ferry }) => {
  test.setTimeout(300_000);
  const size = 100 * MiB;
  const local = path.join(ferry.tmp, 'big.bin');
  const digest = writeRandomFile(local, size);
  await connect(page, ferry);

  await page.locator('#file-input').setInputFiles(local);
  await expect(transfer(page, 'big.bin')).toHaveAttribute('data-state', 'done', { timeout: 240_000 });
  await expect(row(page, 'big.bin').locator('td.size')).toHaveAttribute('data-bytes', String(size));
  expect(await sha256File(path.join(ferry.root, 'big.bin'))).toBe(digest);

  const saved = await download(page, 'big.bin', ferry.tmp, 240_000);
  expect(fs.statSync(saved).size).toBe(size);
  expect(await sha256File(saved)).toBe(digest);

  // Uploads go Blob.slice → WebSocket and downloads WebSocket → JS Blob parts,
  // so the module's linear memory stays far below the file's size.
  const wasmBytes = await page.evaluate(() => window.wasmBindings.wasm_memory_bytes());
  console.log(`WASM linear memory after 100 MiB up and down: ${(wasmBytes / MiB).toFixed(1)} MiB`);
  expect(wasmBytes).toBeLessThan(32 * MiB);
});

test.describe('a read-only server', () => {
  test.use({ serverArgs: ['--read-only'] });

  test('hides the change controls, and refuses forced uploads and deletes in plain words', async ({ page, ferry }) => {
    await connect(page, ferry);
    await expect(page.locator('#account')).toHaveText('anonymous · read-only');
    await expect(page.getByRole('button', { name: 'Delete welcome.txt' })).toHaveCount(0);
    await expect(page.locator('#drop-zone')).toBeHidden();
    // The hidden file input still takes files, as a forced attempt would.
    await page.locator('#file-input').setInputFiles({ name: 'new.txt', mimeType: 'text/plain', buffer: Buffer.from('x') });
    await expect(transfer(page, 'new.txt')).toHaveAttribute('data-state', 'failed');
    await expect(page.locator('#notice')).toContainText('read-only');
    const line = page.getByLabel('ferry>');
    await line.fill('DELETE welcome.txt');
    await line.press('Enter');
    await expect(page.locator('#notice')).toContainText('read-only access');
    await expect(row(page, 'welcome.txt')).toBeVisible();
    expect(fs.existsSync(path.join(ferry.root, 'new.txt'))).toBe(false);
  });
});

test.describe('a server with a 1 KiB file size limit', () => {
  test.use({ serverArgs: ['--max-file-size', '1024'] });

  test('refuses a larger upload as too large and stays usable', async ({ page, ferry }) => {
    await connect(page, ferry);
    await page.locator('#file-input').setInputFiles([
      { name: 'big.txt', mimeType: 'text/plain', buffer: Buffer.alloc(5000, 0x61) },
      { name: 'small.txt', mimeType: 'text/plain', buffer: Buffer.alloc(1000, 0x62) },
    ]);
    await expect(transfer(page, 'big.txt')).toHaveAttribute('data-state', 'failed');
    await expect(transfer(page, 'big.txt')).toContainText('too large');
    await expect(transfer(page, 'small.txt')).toHaveAttribute('data-state', 'done');
    await expect(row(page, 'small.txt')).toBeVisible();
    await expect(row(page, 'big.txt')).toHaveCount(0);
  });
});

test.describe('a server with a 1 s idle timeout', () => {
  test.use({ serverArgs: ['--idle-timeout', '1'] });

  test('its 421 is explained when it drops the idle session', async ({ page, ferry }) => {
    await connect(page, ferry);
    await expect(consoleLog(page)).toContainText('< 421', { timeout: 10_000 });
    await expect(page.locator('#notice')).toContainText('idle too long');
    await expect(page.locator('#connection-state')).toContainText('Disconnected');
  });
});

test('Disconnect during an upload aborts it and leaves no partial file', async ({ page, ferry }) => {
  const local = path.join(ferry.tmp, 'aborted.bin');
  writeRandomFile(local, 100 * MiB);
  await connect(page, ferry);
  await throttle(page, { uploadThroughput: 4 * MiB });
  await page.locator('#file-input').setInputFiles(local);
  await expect(transfer(page, 'aborted.bin')).toHaveAttribute('data-state', 'running');
  // Disconnect cancels the transfers (each on its own connection) and ends the session.
  await page.getByRole('button', { name: 'Disconnect' }).click();
  await expect(transfer(page, 'aborted.bin')).toHaveAttribute('data-state', 'cancelled');
  await expect(page.locator('#connection-state')).toContainText('Disconnected');
  await expect(page.locator('#notice')).toContainText('Disconnected.');
  // The server drops an upload cut short: nothing under that name, now or after a moment.
  await page.waitForTimeout(500);
  expect(fs.existsSync(path.join(ferry.root, 'aborted.bin'))).toBe(false);
});

test('Disconnect during a download saves nothing', async ({ page, ferry }) => {
  writeRandomFile(path.join(ferry.root, 'large.bin'), 20 * MiB);
  await connect(page, ferry);
  await throttle(page, { downloadThroughput: 2 * MiB });
  let downloads = 0;
  page.on('download', () => downloads++);
  await page.getByRole('button', { name: 'Download large.bin' }).click();
  await expect(transfer(page, 'large.bin')).toHaveAttribute('data-state', 'running');
  await page.getByRole('button', { name: 'Disconnect' }).click();
  await expect(transfer(page, 'large.bin')).toHaveAttribute('data-state', 'cancelled');
  await expect(transfer(page, 'large.bin')).toContainText('nothing saved');
  await expect(page.locator('#connection-state')).toContainText('Disconnected');
  await page.waitForTimeout(500);
  expect(downloads).toBe(0);
});

test.describe('the FTP door of the same server', () => {
  test.use({ serverArgs: ['--ftp-listen', '127.0.0.1:0', '--ftp-passive-ports', '20000-31999'] });

  /** The FTP door's address, from the server's "FTP door listening" log line. */
  async function ftpAddr(ferry) {
    const log = path.join(ferry.tmp, 'server.log');
    let addr = null;
    await until('the FTP door to listen', () => {
      // eslint-disable-next-line no-control-regex
      const text = fs.existsSync(log) ? fs.readFileSync(log, 'utf8').replace(/\x1b\[[0-9;]*m/g, '') : '';
      const found = text.match(/ftp_addr=(127\.0\.0\.1:\d+)/);
      addr = found && found[1];
      return addr !== null;
    });
    return addr;
  }

  const curl = (...args) => execFileSync('curl', ['--silent', '--show-error', '--max-time', '60', ...args]);

  test('a file uploaded with curl downloads byte-exact in the web client, and the other way round', async ({ page, ferry }) => {
    const ftp = await ftpAddr(ferry);
    const viaFtp = path.join(ferry.tmp, 'via-ftp.bin');
    const ftpDigest = writeRandomFile(viaFtp, 3 * MiB + 7);
    curl('-T', viaFtp, `ftp://${ftp}/via-ftp.bin`);
    await connect(page, ferry);
    await expect(row(page, 'via-ftp.bin').locator('td.size')).toHaveAttribute('data-bytes', String(3 * MiB + 7));
    const saved = await download(page, 'via-ftp.bin', ferry.tmp);
    expect(await sha256File(saved)).toBe(ftpDigest);

    const viaWeb = path.join(ferry.tmp, 'via-web.bin');
    const webDigest = writeRandomFile(viaWeb, 2 * MiB + 3);
    await page.locator('#file-input').setInputFiles(viaWeb);
    await expect(transfer(page, 'via-web.bin')).toHaveAttribute('data-state', 'done');
    const back = path.join(ferry.tmp, 'back-over-ftp.bin');
    curl('-o', back, `ftp://${ftp}/via-web.bin`);
    expect(await sha256File(back)).toBe(webDigest);
  });
});
