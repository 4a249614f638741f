// Browser tests against the real binary: a fresh data directory and a free port per run, the
// demo county loaded, Debian's Chromium (never a downloaded browser).
const { defineConfig } = require('@playwright/test');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execSync } = require('child_process');

function freePort() {
  // Ask the OS for a free port in a child process (the config must be synchronous).
  const out = execSync(
    `node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"`,
  );
  return Number(String(out).trim());
}

const root = path.resolve(__dirname, '..');
const targetDir = process.env.CARGO_TARGET_DIR || path.join(root, 'target');
const bin = process.env.ZHONGSHU_BIN || path.join(targetDir, 'debug', 'zhongshu');
const port = process.env.E2E_PORT || String(freePort());
process.env.E2E_PORT = port;
const dataDir = process.env.E2E_DATA_DIR || fs.mkdtempSync(path.join(os.tmpdir(), 'zhongshu-e2e-'));
process.env.E2E_DATA_DIR = dataDir;
const shots = path.join(root, 'target', 'e2e');
fs.mkdirSync(shots, { recursive: true });
process.env.E2E_SHOTS = shots;

module.exports = defineConfig({
  testDir: './tests',
  workers: 1,
  timeout: 60_000,
  reporter: 'list',
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    locale: 'zh-CN',
    launchOptions: {
      executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
      args: [
        '--headless', '--no-sandbox', '--lang=zh-CN', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync',
      ],
    },
  },
  webServer: {
    command: `"${bin}" serve --demo --listen 127.0.0.1:${port} --data-dir "${dataDir}"`,
    url: `http://127.0.0.1:${port}/healthz`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: 'ignore',
    env: {
      ZHONGSHU_DEMO_PASSWORD: 'E2e#2026-demo',
      ZHONGSHU_SECURITY__ARGON2_MEMORY_KIB: '1024',
      ZHONGSHU_SECURITY__ARGON2_ITERATIONS: '1',
    },
  },
});
