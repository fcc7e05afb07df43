// Playwright configuration of the browser benchmark (bench/speed.bench.js): not a test
// suite, so one worker (the numbers need the CPU to themselves), a long timeout, and no
// report or artifacts beyond the console. Started by `./scripts/bench.sh web`.
const { defineConfig } = require('@playwright/test');
const os = require('os');
const path = require('path');
const base = require('./playwright.config.js');

module.exports = defineConfig({
  ...base,
  testDir: './bench',
  testMatch: '**/*.bench.js',
  workers: 1,
  fullyParallel: false,
  timeout: 60 * 60_000,
  reporter: [['line']],
  // Nothing is written in the tree: Playwright's own files go to a temporary directory.
  outputDir: path.join(os.tmpdir(), 'ferry-bench-results'),
  use: { ...base.use, screenshot: 'off', trace: 'off' },
});
