// Lighthouse over the PWA's screens, signed in where a screen needs it (scripts/lighthouse.py writes the job).
//
//   node tools/lighthouse/run.mjs JOB.json
//
// JOB: {origin, out_dir, chrome_flags: [...], runs, screens: [{name, url, local_storage: {key: value}}]}.
// Each screen is measured `runs` times and its median run (by performance score) is kept, as Lighthouse
// CI does: one run on a shared 2-core machine is noisy. Writes OUT_DIR/<name>.report.json (Lighthouse's
// full report of the median run) per screen and OUT_DIR/summary.json (every run's scores too).
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
/** One cold, signed-in Lighthouse run of one screen: {row, report}. */
async function measure(screen) {
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
      benchmark_index: lhr.environment.benchmarkIndex,
      performance_losses: losses(lhr, 'performance'),
      accessibility_losses: losses(lhr, 'accessibility'),
    };
    for (const [key, id] of Object.entries(METRICS)) row[key] = lhr.audits[id].numericValue;
    return { row, report: result.report };
  } finally {
    await browser.close();
  }
}

for (const screen of job.screens) {
  const runs = [];
  for (let i = 0; i < (job.runs || 1); i += 1) {
    const run = await measure(screen);
    console.error(`lighthouse: ${screen.name} run ${i + 1}: performance ${run.row.performance} `
      + `accessibility ${run.row.accessibility}`);
    runs.push(run);
  }
  // The median by performance score (the lower middle one for an even count); a failed run sorts first.
  const sorted = [...runs].sort((a, b) => (a.row.performance ?? -1) - (b.row.performance ?? -1));
  const median = sorted[Math.floor((sorted.length - 1) / 2)];
  fs.writeFileSync(path.join(job.out_dir, `${screen.name}.report.json`), median.report);
  summary.screens.push({
    ...median.row,
    runs: runs.map(({ row }) => ({ performance: row.performance, accessibility: row.accessibility,
      landed: row.landed, runtime_error: row.runtime_error })),
  });
}
fs.writeFileSync(path.join(job.out_dir, 'summary.json'), JSON.stringify(summary, null, 2));
