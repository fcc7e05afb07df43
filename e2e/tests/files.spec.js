// End-to-end: the web client as a file manager (folders, selection, moves,
// deletes, previews, shortcuts, logins), against the real server and bridge.
const fs = require('fs');
const path = require('path');
const { test, expect } = require('../ferry');

/** Opens the page (at `hash`, if given) and connects to the bridge's default server. */
async function connect(page, ferry, hash = '') {
  await page.goto(ferry.url + hash);
  await page.getByRole('button', { name: 'Connect', exact: true }).click();
  await expect(page.locator('#connection-state')).toContainText('Connected');
}

const row = (page, name) => page.locator(`#file-table tbody tr[data-name="${name}"]`);
const names = (page) => page.locator('#file-table tbody tr').evaluateAll((rows) => rows.map((r) => r.dataset.name));
const crumbs = (page) => page.locator('.crumbs a');
const put = (ferry, rel, content = `${rel}\n`) => {
  const file = path.join(ferry.root, rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, content);
};
const exists = (ferry, rel) => fs.existsSync(path.join(ferry.root, rel));

/** A 2×1 PNG (red, blue). */
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAIAAAABCAIAAAB7QOjdAAAAEElEQVR4nGP4z8DAwMDAAAAK/gH/P3f4QQAAAABJRU5ErkJggg==',
  'base64',
);

test('folders: open by click and Enter, breadcrumbs, the fragment, Back, reload', async ({ page, ferry }) => {
  put(ferry, 'docs/sub/deep.txt');
  put(ferry, 'docs/readme.md');
  await connect(page, ferry);
  // Folders first, marked as such.
  expect((await names(page))[0]).toBe('docs');
  await expect(row(page, 'docs')).toHaveAttribute('data-kind', 'dir');

  await row(page, 'docs').getByRole('link', { name: 'docs' }).click();
  await expect(page).toHaveURL(/#\/docs$/);
  await expect(row(page, 'readme.md')).toBeVisible();
  await expect(crumbs(page)).toHaveText(['Home', 'docs']);

  await row(page, 'sub').focus();
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/#\/docs\/sub$/);
  await expect(row(page, 'deep.txt')).toBeVisible();
  await expect(crumbs(page)).toHaveText(['Home', 'docs', 'sub']);

  await page.goBack();
  await expect(row(page, 'readme.md')).toBeVisible();
  await page.goForward();
  await expect(row(page, 'deep.txt')).toBeVisible();

  // Reload: connected again by itself (the tab remembers where, not who), the same folder.
  await page.reload();
  await expect(page.locator('#connection-state')).toContainText('Connected');
  await expect(row(page, 'deep.txt')).toBeVisible();
  await expect(page.getByRole('button', { name: 'Connect', exact: true })).toHaveCount(0);
  // All the browser keeps is the bridge and the target (none: the bridge's default).
  const kept = await page.evaluate(() => ({ session: { ...sessionStorage }, local: localStorage.length }));
  expect(Object.keys(kept.session)).toEqual(['ferry.connection']);
  expect(kept.session['ferry.connection']).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/ws\n$/);
  expect(kept.local).toBe(0);

  await crumbs(page).filter({ hasText: 'Home' }).click();
  await expect(row(page, 'welcome.txt')).toBeVisible();

  // A folder that does not exist says so in words.
  await page.goto(`${ferry.url}#/nowhere`);
  await expect(page.locator('#empty-state')).toContainText('no such directory');
  await page.getByRole('link', { name: 'Go to the home folder' }).click();
  await expect(row(page, 'welcome.txt')).toBeVisible();

  // Disconnected by the user, a reload shows the connection form again.
  await page.getByRole('button', { name: 'Disconnect', exact: true }).click();
  await expect(page.locator('#connection-state')).toContainText('Disconnected');
  await page.reload();
  await expect(page.getByRole('button', { name: 'Connect', exact: true })).toBeVisible();
  await expect(page.locator('#connection-state')).toContainText('Disconnected');
});

test('new folder, rename in place (button and F2), an empty folder says so', async ({ page, ferry }) => {
  await connect(page, ferry);
  await page.getByRole('button', { name: 'New folder' }).click();
  await page.getByLabel('New folder', { exact: true }).fill('Photos 2026');
  await page.getByRole('button', { name: 'Create' }).click();
  await expect(row(page, 'Photos 2026')).toHaveAttribute('data-kind', 'dir');
  expect(fs.statSync(path.join(ferry.root, 'Photos 2026')).isDirectory()).toBe(true);

  await page.getByRole('button', { name: 'Rename welcome.txt' }).click();
  const field = page.getByLabel('New name for welcome.txt');
  await expect(field).toBeFocused();
  await field.fill('hello.txt');
  await field.press('Enter');
  await expect(row(page, 'hello.txt')).toBeVisible();
  await expect(row(page, 'welcome.txt')).toHaveCount(0);
  expect(exists(ferry, 'hello.txt')).toBe(true);

  await row(page, 'hello.txt').click();
  await page.keyboard.press('F2');
  await page.getByLabel('New name for hello.txt').fill('again.txt');
  await page.keyboard.press('Enter');
  await expect(row(page, 'again.txt')).toBeVisible();

  // Escape leaves the name as it was.
  await row(page, 'again.txt').click();
  await page.keyboard.press('F2');
  await page.getByLabel('New name for again.txt').fill('nope.txt');
  await page.keyboard.press('Escape');
  await expect(row(page, 'again.txt')).toBeVisible();
  expect(exists(ferry, 'nope.txt')).toBe(false);

  await row(page, 'Photos 2026').getByRole('link').click();
  await expect(page.locator('#empty-state')).toContainText('This folder is empty');
});

test('move by dragging onto a folder and onto a breadcrumb, and with the Move to… dialog', async ({ page, ferry }) => {
  put(ferry, 'archive/old/keep.txt');
  put(ferry, 'a.txt');
  put(ferry, 'b.txt');
  await connect(page, ferry);

  await row(page, 'a.txt').dragTo(row(page, 'archive'));
  await expect(row(page, 'a.txt')).toHaveCount(0);
  expect(exists(ferry, 'archive/a.txt')).toBe(true);

  // Drag the selection (two files) onto the folder.
  await row(page, 'b.txt').getByLabel('Select b.txt').check();
  await row(page, 'welcome.txt').getByLabel('Select welcome.txt').check();
  await row(page, 'b.txt').dragTo(row(page, 'archive'));
  await expect(row(page, 'b.txt')).toHaveCount(0);
  await expect(row(page, 'welcome.txt')).toHaveCount(0);
  expect(exists(ferry, 'archive/b.txt') && exists(ferry, 'archive/welcome.txt')).toBe(true);

  // From archive/old back to Home by dropping on the breadcrumb.
  await page.goto(`${ferry.url}#/archive/old`);
  await expect(row(page, 'keep.txt')).toBeVisible();
  await row(page, 'keep.txt').dragTo(crumbs(page).filter({ hasText: 'Home' }));
  await expect(row(page, 'keep.txt')).toHaveCount(0);
  expect(exists(ferry, 'keep.txt')).toBe(true);

  // The dialog: archive → old.
  await crumbs(page).filter({ hasText: 'archive' }).click();
  await row(page, 'a.txt').click();
  await page.getByRole('button', { name: 'Move to…' }).click();
  const dialog = page.getByRole('dialog', { name: 'Move “a.txt” to…' });
  await expect(dialog.getByRole('button', { name: 'old', exact: true })).toBeVisible();
  await dialog.getByRole('button', { name: 'old', exact: true }).click();
  await expect(dialog.locator('#move-target')).toHaveText('“archive/old”');
  await dialog.getByRole('button', { name: 'Move here' }).click();
  await expect(dialog).toHaveCount(0);
  await expect(row(page, 'a.txt')).toHaveCount(0);
  expect(exists(ferry, 'archive/old/a.txt')).toBe(true);
});

test('delete a non-empty folder: the count, then everything in it', async ({ page, ferry }) => {
  put(ferry, 'tree/one.txt');
  put(ferry, 'tree/two.txt');
  put(ferry, 'tree/inner/three.txt');
  fs.mkdirSync(path.join(ferry.root, 'tree/inner/empty'));
  await connect(page, ferry);
  await page.getByRole('button', { name: 'Delete tree' }).click();
  const confirm = page.getByRole('group', { name: 'Confirm delete' });
  await expect(confirm).toContainText('Delete “tree” and everything in it: 3 files and 2 folders?');
  // Cancel changes nothing.
  await confirm.getByRole('button', { name: 'Cancel' }).click();
  await expect(confirm).toHaveCount(0);
  expect(exists(ferry, 'tree/inner/three.txt')).toBe(true);

  await page.getByRole('button', { name: 'Delete tree' }).click();
  await page.getByRole('button', { name: 'Yes, delete' }).click();
  await expect(row(page, 'tree')).toHaveCount(0);
  expect(exists(ferry, 'tree')).toBe(false);
  await expect(page.locator('#notice')).toContainText('Deleted “tree”.');
  await expect(row(page, 'welcome.txt')).toBeVisible();
});

test('multi-select: checkboxes, Shift-click, Ctrl-click, Ctrl+A; download and delete the selection', async ({ page, ferry }, testInfo) => {
  for (const n of ['f1.txt', 'f2.txt', 'f3.txt', 'f4.txt']) put(ferry, n);
  await connect(page, ferry);
  // Name order: f1 f2 f3 f4 serverTestFile.txt welcome.txt
  await row(page, 'f1.txt').locator('td.size').click();
  await row(page, 'f3.txt').locator('td.size').click({ modifiers: ['Shift'] });
  await expect(page.locator('#selection-count')).toHaveText('3 selected');
  await row(page, 'f2.txt').locator('td.size').click({ modifiers: ['Control'] });
  await expect(page.locator('#selection-count')).toHaveText('2 selected');
  await expect(row(page, 'f2.txt')).toHaveAttribute('aria-selected', 'false');

  // Download both.
  const saved = [];
  page.on('download', (d) => saved.push(d.suggestedFilename()));
  await page.getByRole('toolbar', { name: 'Selection' }).getByRole('button', { name: 'Download' }).click();
  await expect.poll(() => saved.sort()).toEqual(['f1.txt', 'f3.txt']);

  await row(page, 'f4.txt').getByLabel('Select f4.txt').check();
  await expect(page.locator('#selection-count')).toHaveText('3 selected');
  await page.getByRole('toolbar', { name: 'Selection' }).getByRole('button', { name: 'Delete' }).click();
  await expect(page.getByRole('group', { name: 'Confirm delete' })).toContainText('Delete 3 items?');
  await page.getByRole('button', { name: 'Yes, delete' }).click();
  await expect(row(page, 'f1.txt')).toHaveCount(0);
  await expect(row(page, 'f3.txt')).toHaveCount(0);
  await expect(row(page, 'f4.txt')).toHaveCount(0);
  expect(['f1.txt', 'f3.txt', 'f4.txt'].some((n) => exists(ferry, n))).toBe(false);
  await expect(row(page, 'f2.txt')).toBeVisible();

  await row(page, 'f2.txt').locator('td.size').click();
  await page.keyboard.press('Control+a');
  await expect(page.locator('#selection-count')).toHaveText('3 selected');
  await page.getByLabel('Select all').uncheck();
  await expect(page.locator('#selection-count')).toHaveCount(0);
  testInfo.annotations.push({ type: 'downloads', description: saved.join(' ') });
});

test('filter and sort by every column', async ({ page, ferry }) => {
  put(ferry, 'zeta.log', 'x'.repeat(100_000));
  put(ferry, 'Alpha.LOG', 'x');
  put(ferry, 'ÄRGER.md', 'x');
  fs.mkdirSync(path.join(ferry.root, 'logs'));
  const old = new Date('2020-01-02T03:04:05Z');
  fs.utimesSync(path.join(ferry.root, 'zeta.log'), old, old);
  await connect(page, ferry);

  await page.getByLabel('Filter this folder').fill('log');
  await expect.poll(() => names(page)).toEqual(['logs', 'Alpha.LOG', 'zeta.log']);
  // Case is folded by Unicode's rules, not only ASCII's.
  await page.getByLabel('Filter this folder').fill('ärger');
  await expect.poll(() => names(page)).toEqual(['ÄRGER.md']);
  await page.getByLabel('Filter this folder').fill('nothing-like-this');
  await expect(page.locator('#empty-state')).toContainText('Nothing here matches “nothing-like-this”.');
  await page.getByLabel('Filter this folder').fill('');

  await page.getByRole('button', { name: 'Size', exact: true }).click();
  await page.getByRole('button', { name: 'Size', exact: true }).click();
  expect((await names(page)).slice(0, 2)).toEqual(['logs', 'zeta.log']);
  await expect(page.locator('th.size')).toHaveAttribute('aria-sort', 'descending');

  await page.getByRole('button', { name: 'Modified', exact: true }).click();
  expect((await names(page))[1]).toBe('zeta.log');
  await expect(row(page, 'zeta.log').locator('td.modified')).toHaveText('2020-01-02');
  await expect(row(page, 'zeta.log').locator('td.modified')).toHaveAttribute('title', '2020-01-02 03:04:05 UTC');

  await page.getByRole('button', { name: 'Name', exact: true }).click();
  await page.getByRole('button', { name: 'Name', exact: true }).click();
  expect(await names(page)).toEqual(['logs', 'ÄRGER.md', 'zeta.log', 'welcome.txt', 'serverTestFile.txt', 'Alpha.LOG']);
  await expect(row(page, 'Alpha.LOG').locator('td.modified')).toHaveText(/just now|min ago/);
});

test('previews: text (marked when truncated) and an image, with Download, by keyboard', async ({ page, ferry }) => {
  put(ferry, 'short.txt', 'first line\nsecond line\n');
  put(ferry, 'long.txt', 'abcdefghij\n'.repeat(30_000));
  fs.writeFileSync(path.join(ferry.root, 'dot.png'), PNG);
  await connect(page, ferry);

  await row(page, 'short.txt').getByRole('button', { name: 'short.txt', exact: true }).click();
  const dialog = page.getByRole('dialog', { name: 'short.txt' });
  await expect(dialog.locator('#preview-text')).toHaveText('first line\nsecond line\n');
  await expect(dialog.locator('#preview-truncated')).toHaveCount(0);
  await expect(dialog.getByRole('button', { name: 'Close' })).toBeFocused();
  const saved = page.waitForEvent('download');
  await dialog.getByRole('button', { name: 'Download' }).click();
  expect((await saved).suggestedFilename()).toBe('short.txt');
  await page.keyboard.press('Escape');
  await expect(dialog).toHaveCount(0);

  await row(page, 'long.txt').focus();
  await page.keyboard.press('Enter');
  const long = page.getByRole('dialog', { name: 'long.txt' });
  await expect(long.locator('#preview-truncated')).toContainText('Showing the first 256 KiB');
  const shown = await long.locator('#preview-text').textContent();
  expect(shown.length).toBe(256 * 1024);
  await long.getByRole('button', { name: 'Close' }).press('Enter');
  await expect(long).toHaveCount(0);

  await row(page, 'dot.png').getByRole('button', { name: 'dot.png', exact: true }).click();
  const image = page.getByRole('dialog', { name: 'dot.png' }).locator('#preview-image');
  await expect(image).toHaveAttribute('src', /^blob:/);
  await expect.poll(() => image.evaluate((img) => img.naturalWidth)).toBe(2);
});

test('keyboard shortcuts: ? lists them, / filters, arrows, Delete, Backspace goes up', async ({ page, ferry }) => {
  put(ferry, 'dir/inside.txt');
  await connect(page, ferry);
  await expect(row(page, 'dir')).toBeVisible();
  await page.locator('body').press('?');
  const list = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
  await expect(list).toContainText('go up one folder');
  await page.keyboard.press('Escape');
  await expect(list).toHaveCount(0);

  await page.locator('body').press('/');
  await expect(page.getByLabel('Filter this folder')).toBeFocused();
  await page.keyboard.type('welc');
  await expect.poll(() => names(page)).toEqual(['welcome.txt']);
  await page.keyboard.press('Escape');
  await expect.poll(() => names(page)).toEqual(['dir', 'serverTestFile.txt', 'welcome.txt']);

  await row(page, 'dir').focus();
  await page.keyboard.press('ArrowDown');
  await expect(row(page, 'serverTestFile.txt')).toBeFocused();
  await page.keyboard.press('Delete');
  await expect(page.getByRole('group', { name: 'Confirm delete' })).toContainText('Delete “serverTestFile.txt”?');
  await page.keyboard.press('Escape');
  await page.keyboard.press('ArrowUp');
  await page.keyboard.press('Enter');
  await expect(row(page, 'inside.txt')).toBeVisible();
  await page.keyboard.press('Backspace');
  await expect(row(page, 'welcome.txt')).toBeVisible();
  await expect(page).toHaveURL(/#\/$/);
});

test('usable at 360 px wide: folders, actions, a dialog, nothing sideways', async ({ page, ferry }) => {
  put(ferry, 'a folder with a rather long name/file with an even longer name than that.txt');
  await page.setViewportSize({ width: 360, height: 740 });
  await connect(page, ferry);
  const overflow = () => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(await overflow()).toBeLessThanOrEqual(0);
  await row(page, 'a folder with a rather long name').getByRole('link').click();
  const file = 'file with an even longer name than that.txt';
  await expect(row(page, file)).toBeVisible();
  await expect(page.getByRole('button', { name: `Delete ${file}` })).toBeVisible();
  await expect(page.getByRole('button', { name: `Download ${file}` })).toBeVisible();
  expect(await overflow()).toBeLessThanOrEqual(0);
  await page.getByRole('button', { name: `Delete ${file}` }).click();
  await expect(page.getByRole('group', { name: 'Confirm delete' })).toBeInViewport();
  expect(await overflow()).toBeLessThanOrEqual(0);
});

test.describe('a server with accounts', () => {
  test.use({
    accounts: {
      ann: { password: 'correct horse' },
      guest: { password: 'look only', readOnly: true },
    },
  });

  test('the login form appears, a wrong password is said so, Log out starts over', async ({ page, ferry }) => {
    await connect(page, ferry);
    const form = page.getByRole('region', { name: 'Log in' });
    await expect(form).toBeVisible();
    await expect(page.locator('#account')).toHaveText('not logged in');
    await expect(page.getByLabel('Account')).toBeFocused();

    await page.getByLabel('Account').fill('ann');
    await page.getByLabel('Password').fill('wrong');
    await page.getByLabel('Password').press('Enter');
    await expect(page.locator('#notice')).toContainText('Login incorrect');
    await expect(form).toBeVisible();

    await page.getByLabel('Password').fill('correct horse');
    await form.getByRole('button', { name: 'Log in' }).click();
    await expect(page.locator('#account')).toHaveText('ann');
    await expect(form).toHaveCount(0);
    await expect(row(page, 'welcome.txt')).toBeVisible();
    await expect(page.getByRole('button', { name: 'Delete welcome.txt' })).toBeVisible();
    await expect(page.locator('#console-log')).toContainText('> PASS ***');
    await expect(page.locator('#console-log')).not.toContainText('correct horse');

    // The password is in no browser storage.
    const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }) + document.cookie);
    expect(stored).not.toContain('correct horse');
    expect(stored).not.toContain('ann');

    // A reload connects again by itself, and asks for the password again: it was in memory only.
    await page.reload();
    await expect(form).toBeVisible();
    await expect(page.locator('#account')).toHaveText('not logged in');
    await page.getByLabel('Account').fill('ann');
    await page.getByLabel('Password').fill('correct horse');
    await page.getByLabel('Password').press('Enter');
    await expect(page.locator('#account')).toHaveText('ann');

    await page.getByRole('button', { name: 'Log out' }).click();
    await expect(form).toBeVisible();
    await expect(page.locator('#account')).toHaveText('not logged in');
    await expect(row(page, 'welcome.txt')).toHaveCount(0);
  });

  test('a read-only account sees no change controls, and a forced change is refused in words', async ({ page, ferry }) => {
    await connect(page, ferry);
    await page.getByLabel('Account').fill('guest');
    await page.getByLabel('Password').fill('look only');
    await page.getByLabel('Password').press('Enter');
    await expect(page.locator('#account')).toHaveText('guest · read-only');
    await expect(row(page, 'welcome.txt')).toBeVisible();
    await expect(page.getByRole('button', { name: 'Download welcome.txt' })).toBeVisible();
    await expect(page.getByRole('button', { name: 'Delete welcome.txt' })).toHaveCount(0);
    await expect(page.getByRole('button', { name: 'Rename welcome.txt' })).toHaveCount(0);
    await expect(page.getByRole('button', { name: 'New folder' })).toHaveCount(0);
    await expect(page.locator('#drop-zone')).toBeHidden();
    await row(page, 'welcome.txt').click();
    await page.keyboard.press('Delete');
    await expect(page.getByRole('group', { name: 'Confirm delete' })).toHaveCount(0);

    const line = page.getByLabel('ferry>');
    await line.fill('DELETE welcome.txt');
    await line.press('Enter');
    await expect(page.locator('#notice')).toContainText('read-only access');
    await line.fill('MKDIR new');
    await line.press('Enter');
    await expect(page.locator('#notice')).toContainText('New folder of “new” refused: read-only access');
    expect(exists(ferry, 'welcome.txt')).toBe(true);
    expect(exists(ferry, 'new')).toBe(false);
  });
});
