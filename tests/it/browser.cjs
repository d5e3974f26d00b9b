// Headless Chromium as the report's tests open it (Playwright), for
// report_in_browser.cjs and report_layout.cjs alike.
"use strict";
const path = require("path");

/// The browser at CHROMIUM, through the Playwright in PLAYWRIGHT_DIR.
exports.launch = (playwrightDir, chromium) => {
  const { chromium: browserType } = require(path.join(playwrightDir, "node_modules", "playwright-core"));
  return browserType.launch({
    executablePath: chromium,
    headless: true,
    // As root, with no network but loopback: no sandbox, and none of
    // Chromium's own background connections.
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
};
