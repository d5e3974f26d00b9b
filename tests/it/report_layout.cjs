// Opens an audit report in headless Chromium (Playwright) at each width a
// reader uses (a laptop, a large screen, a phone) and says, as one JSON
// line, what overflows: the page's sideways scroll, and every box whose
// content is wider than the box (scrollWidth against clientWidth), with
// the tallest row of findings. Keeps a full-page screenshot of each width.
// Run by tests/it/audit_report.rs:
// node report_layout.cjs PLAYWRIGHT_DIR CHROMIUM REPORT SCREENSHOT_DIR
"use strict";
const path = require("path");
const { launch } = require("./browser.cjs");
const [playwrightDir, chromium, report, screenshots] = process.argv.slice(2);

const WIDTHS = [
  { name: "laptop", width: 1280, height: 900 },
  { name: "desktop", width: 1920, height: 1080 },
  { name: "phone", width: 390, height: 844 },
];

(async () => {
  const browser = await launch(playwrightDir, chromium);
  const results = [];
  for (const size of WIDTHS) {
    const page = await browser.newPage({ viewport: { width: size.width, height: size.height } });
    await page.goto("file://" + path.resolve(report), { waitUntil: "load" });
    await page.waitForFunction(() => document.documentElement.classList.contains("scripted"));
    const measured = await page.evaluate(() => {
      const root = document.documentElement;
      const overflowing = [];
      // Form controls clip their own text by design; every other box that
      // is shown is held to its width.
      for (const element of document.body.querySelectorAll("*")) {
        if (["SELECT", "OPTION", "INPUT", "BUTTON", "SCRIPT", "STYLE"].includes(element.tagName)) continue;
        if (element.closest("details:not([open])") && element.tagName !== "SUMMARY" && element.tagName !== "DETAILS") continue;
        if (element.clientWidth === 0) continue;
        if (element.scrollWidth > element.clientWidth + 1) {
          overflowing.push({
            element: element.tagName.toLowerCase() + (element.id ? "#" + element.id : "") +
              (element.className ? "." + String(element.className).split(" ").join(".") : ""),
            text: (element.textContent || "").slice(0, 80),
            scroll_width: element.scrollWidth,
            client_width: element.clientWidth,
          });
        }
      }
      const rows = Array.from(document.querySelectorAll("#findings-table tbody tr"));
      return {
        page: { scroll_width: root.scrollWidth, client_width: root.clientWidth },
        cards: document.querySelectorAll("#summary .card").length,
        cells: document.querySelectorAll("#findings-table td, #findings-table th, #accounts-table td").length,
        rows: rows.length,
        tallest_row: Math.max(0, ...rows.map((tr) => tr.getBoundingClientRect().height)),
        account_rows: document.querySelectorAll("#accounts-table tbody tr").length,
        deliverability: document.querySelector("#deliverability").innerText,
        overflowing,
      };
    });
    const screenshot = path.join(screenshots, `audit-report-${size.width}.png`);
    await page.screenshot({ path: screenshot, fullPage: true });
    results.push({ name: size.name, width: size.width, screenshot, ...measured });
    await page.close();
  }
  await browser.close();
  process.stdout.write(JSON.stringify(results) + "\n");
})().catch((error) => {
  process.stderr.write(String(error && error.stack || error) + "\n");
  process.exit(1);
});
