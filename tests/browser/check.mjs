// What the Rust tests ask a real browser and Mermaid itself. Prints one JSON object.
//
//   node check.mjs html REPORT.html   open the report in headless Chromium: the page's text,
//                                     its findings, every script error and console error, and
//                                     how many findings stay shown when errors are filtered out
//   node check.mjs mermaid FILE.mmd   parse and render the Mermaid text with Mermaid's own
//                                     bundle, in the same browser
//
// Chromium is Debian's (/usr/bin/chromium, or CHROMIUM), started with the flags this machine
// needs (no sandbox as root, no background networking).

import { chromium } from 'playwright-core';
import { readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const [mode, file] = process.argv.slice(2);

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
  ],
});
const page = await browser.newPage();
const errors = [];
page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
page.on('console', (m) => {
  if (m.type() === 'error') errors.push(`console: ${m.text()}`);
});
// The report must not fetch anything: every request but the file itself is an error.
const requests = [];
page.on('request', (r) => {
  if (!r.url().startsWith('file:') && !r.url().startsWith('data:')) requests.push(r.url());
});

let result;
if (mode === 'html') {
  await page.goto(pathToFileURL(path.resolve(file)).href);
  const findings = await page.$$eval('article.finding', (all) =>
    all.map((a) => ({
      code: a.dataset.code,
      severity: a.dataset.severity,
      place: a.querySelector('.place')?.textContent ?? '',
      text: a.innerText,
    })));
  const text = await page.evaluate(() => document.body.innerText);
  const svg = await page.$$eval('svg.graph', (s) => s.length);
  let shownWithoutErrors = null;
  const box = await page.$('.filters input[value=error]');
  if (box) {
    await box.uncheck();
    shownWithoutErrors = await page.$$eval('article.finding', (all) => all.filter((a) => !a.hidden).length);
  }
  result = { findings, text, svg, shownWithoutErrors, errors, requests };
} else if (mode === 'mermaid') {
  const source = readFileSync(file, 'utf8');
  await page.setContent('<!DOCTYPE html><html><body><div id="out"></div></body></html>');
  await page.addScriptTag({ path: path.join(here, 'node_modules/mermaid/dist/mermaid.min.js') });
  const verdict = await page.evaluate(async (text) => {
    try {
      window.mermaid.initialize({ startOnLoad: false, securityLevel: 'strict' });
      await window.mermaid.parse(text);
      const { svg } = await window.mermaid.render('graph', text);
      return { ok: true, svgBytes: svg.length };
    } catch (e) {
      return { ok: false, message: String(e && e.message ? e.message : e) };
    }
  }, source);
  result = { ...verdict, errors };
} else {
  result = { error: `unknown mode ${mode}` };
}
await browser.close();
console.log(JSON.stringify(result));
