// Checks that what the tests start exists: the release web build and the native binaries.
const fs = require('fs');
const { binDir, distDir, REPO } = require('./ferry');

module.exports = async () => {
  const missing = [];
  for (const bin of ['ferry-server', 'ferry-bridge']) {
    if (!fs.existsSync(`${binDir}/${bin}`)) missing.push(`${binDir}/${bin}`);
  }
  if (!fs.existsSync(`${distDir}/index.html`)) missing.push(`${distDir}/index.html`);
  if (missing.length > 0) {
    throw new Error(
      `missing ${missing.join(', ')}.\nBuild first (from ${REPO}): ` +
        'cargo build --release -p ferry-server -p ferry-bridge && trunk build --release ' +
        '(scripts/test.sh does both), or set FERRY_BIN_DIR / FERRY_DIST.',
    );
  }
};
