// Lighthouse over the PWA's screens, signed in where a screen needs it (scripts/lighthouse.py writes the job).
//
//   node tools/lighthouse/run.mjs JOB.json
//
// JOB: {origin, out_dir, chrome_flags: [...], screens: [{name, url, local_storage: {key: value}}]}.
// Writes OUT_DIR/<name>.report.json (Lighthouse's full report) per screen and OUT_DIR/summary.json.
//
// Signing in: the PWA keeps its sessions in localStorage ('baogong.session' for a resident,
// 'baogong.staff' for staff). Before each screen this page goes to a same-origin URL that is not the
// app (/api/health: no script, no service worker) and writes the screen's keys there. Lighthouse's own
// storage reset then runs as always: it clears the HTTP cache, the service workers and Cache Storage
// (its default clearStorageTypes leave localStorage alone), so every screen is a cold load of a
// signed-in phone. Default settings otherwise: mobile emulation, simulated throttling.
import fs from 'node:fs';
import path from 'node:path';
import lighthouse from 'lighthouse';
import puppeteer from 'puppeteer-core';

const [jobPath] = process.argv.slice(2);
if (!jobPath) {
  console.error('usage: node run.mjs JOB.json');
  process.exit(2);
}
const job = JSON.parse(fs.readFileSync(jobPath, 'utf8'));
const chromePath = process.env.CHROME_PATH || '/usr/bin/chromium';
fs.mkdirSync(job.out_dir, { recursive: true });

const METRICS = {
  fcp_ms: 'first-contentful-paint',
  lcp_ms: 'largest-contentful-paint',
  tbt_ms: 'total-blocking-time',
  cls: 'cumulative-layout-shift',
  si_ms: 'speed-index',
  transfer_bytes: 'total-byte-weight',
};

/** The audits that cost a category points: weight > 0 and score < 1 (or the metric's own score). */
function losses(lhr, category) {
  return lhr.categories[category].auditRefs
    .filter((ref) => ref.weight > 0)
    .map((ref) => ({ ref, audit: lhr.audits[ref.id] }))
    .filter(({ audit }) => audit.score !== null && audit.score < 1)
    .map(({ ref, audit }) => ({
      id: ref.id, weight: ref.weight, score: audit.score, display: audit.displayValue || '',
      items: ((audit.details && audit.details.items) || []).slice(0, 5).map((it) => (
        (it.node && (it.node.selector || it.node.snippet)) || it.url || '')).filter(Boolean),
    }));
}

/** A fresh Chromium (its own throwaway profile) per screen: no state leaks from one screen to the next. */
function launch() {
  return puppeteer.launch({
    executablePath: chromePath,
    headless: false, // the job's flags carry --headless=new themselves
    args: job.chrome_flags,
    defaultViewport: null, // Lighthouse sets the mobile screen itself
  });
}

const summary = { lighthouse: null, chromium: null, benchmark_index: null, screens: [] };
for (const screen of job.screens) {
  const browser = await launch();
  try {
    summary.chromium = await browser.version();
    const page = await browser.newPage();
    await page.goto(`${job.origin}/api/health`);
    await page.evaluate((items) => {
      localStorage.clear();
      sessionStorage.clear();
      for (const [k, v] of Object.entries(items)) localStorage.setItem(k, v);
    }, screen.local_storage || {});
    const result = await lighthouse(screen.url, {
      output: 'json',
      logLevel: 'error',
      onlyCategories: ['performance', 'accessibility'],
    }, undefined, page);
    const lhr = result.lhr;
    // What the app saw: the signed-in screen, not the start page it falls back to without a session.
    const landed = await page.evaluate(() => location.hash);
    fs.writeFileSync(path.join(job.out_dir, `${screen.name}.report.json`), result.report);
    summary.lighthouse = lhr.lighthouseVersion;
    summary.benchmark_index = lhr.environment.benchmarkIndex;
    const row = {
      name: screen.name,
      url: lhr.finalDisplayedUrl,
      landed,
      runtime_error: lhr.runtimeError ? lhr.runtimeError.message : null,
      warnings: lhr.runWarnings,
      performance: lhr.categories.performance.score,
      accessibility: lhr.categories.accessibility.score,
      performance_losses: losses(lhr, 'performance'),
      accessibility_losses: losses(lhr, 'accessibility'),
    };
    for (const [key, id] of Object.entries(METRICS)) row[key] = lhr.audits[id].numericValue;
    summary.screens.push(row);
    console.error(`lighthouse: ${screen.name}: performance ${row.performance} accessibility ${row.accessibility}`);
  } finally {
    await browser.close();
  }
}
fs.writeFileSync(path.join(job.out_dir, 'summary.json'), JSON.stringify(summary, null, 2));
