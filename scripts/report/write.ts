/** Writing reports to disk: the only module of the report that does I/O. */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Results } from '../../bench/result.ts';
import { renderCompare, type CompareLabels } from './compare.ts';
import { DEFAULT_CHARTS_DIR, renderReport } from './render.ts';

const REPORT_FILE = 'report.md';
const COMPARE_FILE = 'compare.md';

/** Writes `outDir/report.md` and its charts under `outDir/charts/`; returns the report's path. */
export async function writeReport(results: Results, outDir: string): Promise<string> {
  const { markdown, charts } = await renderReport(results, { chartsDir: DEFAULT_CHARTS_DIR });
  const chartsPath = path.join(outDir, DEFAULT_CHARTS_DIR);
  await mkdir(chartsPath, { recursive: true });
  await Promise.all(charts.map((chart) => writeFile(path.join(chartsPath, chart.fileName), chart.svg)));
  const reportPath = path.join(outDir, REPORT_FILE);
  await writeFile(reportPath, markdown);
  return reportPath;
}

/** Writes `outDir/compare.md`; returns its path. */
export async function writeCompareReport(before: Results, after: Results, labels: CompareLabels, outDir: string): Promise<string> {
  await mkdir(outDir, { recursive: true });
  const comparePath = path.join(outDir, COMPARE_FILE);
  await writeFile(comparePath, renderCompare(before, after, labels));
  return comparePath;
}
