// Opens an audit report in headless Chromium (Playwright) and says, as one
// JSON line, what a reader would see: the summary's counts, the rows a
// severity filter leaves, what was requested, what the console said, and
// how long opening and filtering took. Run by tests/it/audit_report.rs and
// the report benchmark: node report_in_browser.cjs PLAYWRIGHT_DIR CHROMIUM REPORT SEVERITY
"use strict";
const path = require("path");
const { launch } = require("./browser.cjs");
const [playwrightDir, chromium, report, severity] = process.argv.slice(2);

(async () => {
  const browser = await launch(playwrightDir, chromium);
  const page = await browser.newPage();
  const console_messages = [];
  const dialogs = [];
  const requests = [];
  page.on("console", (m) => console_messages.push({ type: m.type(), text: m.text() }));
  page.on("pageerror", (e) => console_messages.push({ type: "pageerror", text: String(e) }));
  page.on("dialog", async (d) => { dialogs.push(d.message()); await d.dismiss(); });
  page.on("request", (r) => requests.push(r.url()));
  const url = "file://" + path.resolve(report);
  const opening = Date.now();
  await page.goto(url, { waitUntil: "load" });
  await page.waitForFunction(() => document.documentElement.classList.contains("scripted"));
  const opened_ms = Date.now() - opening;
  const summary = await page.$$eval("#by-severity dd", (dds) =>
    Object.fromEntries(dds.map((dd) => [dd.dataset.count, Number(dd.textContent)])));
  const before = await page.$$eval("#findings-table tbody tr", (rows) => rows.length);
  const filtering = Date.now();
  await page.selectOption("#filter-severity", severity);
  await page.waitForFunction((s) => Array.from(document.querySelectorAll("#findings-table tbody tr"))
    .every((tr) => tr.dataset.severity === s), severity);
  const filtered_ms = Date.now() - filtering;
  const shown = await page.$$eval("#findings-table tbody tr", (rows) => rows.map((tr) => tr.dataset.severity));
  const shown_text = await page.textContent("#shown");
  // Sorting by account puts the rows in account order.
  await page.click("#findings-table th[data-sort=account]");
  const accounts = await page.$$eval("#findings-table tbody td.account .id", (ids) => ids.map((e) => e.textContent));
  const text = await page.evaluate(() => document.body.innerText);
  const images = await page.$$eval("img", (imgs) => imgs.length);
  const dark = await (async () => {
    await page.emulateMedia({ colorScheme: "dark" });
    const d = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    await page.emulateMedia({ colorScheme: "light" });
    const l = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    return { dark: d, light: l };
  })();
  await page.emulateMedia({ media: "print" });
  const printed_rows = await page.evaluate(() => {
    window.dispatchEvent(new Event("beforeprint"));
    return document.querySelectorAll("#findings-table tbody tr").length;
  });
  const filters_printed = await page.evaluate(() => getComputedStyle(document.querySelector(".filters")).display);
  await browser.close();
  process.stdout.write(JSON.stringify({
    opened_ms, filtered_ms, summary, before, shown, shown_text, accounts, text, images,
    console: console_messages, dialogs, requests, colors: dark, printed_rows, filters_printed,
  }) + "\n");
})().catch((error) => {
  process.stderr.write(String(error && error.stack || error) + "\n");
  process.exit(1);
});
