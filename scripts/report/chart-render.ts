/** Charts to SVG: vega-lite compiles each spec to vega, vega renders it headless (no browser, no canvas). */
import { View, parse } from 'vega';
import { compile } from 'vega-lite';
import type { ChartSpec } from './chart-specs.ts';

export interface RenderedChart {
  fileName: string;
  svg: string;
}

async function renderChartSvg(chart: ChartSpec): Promise<string> {
  const view = new View(parse(compile(chart.buildSpec()).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** One after the other, in order, so that the output does not depend on timing. */
export async function renderCharts(charts: readonly ChartSpec[]): Promise<RenderedChart[]> {
  const rendered: RenderedChart[] = [];
  for (const chart of charts) rendered.push({ fileName: chart.fileName, svg: await renderChartSvg(chart) });
  return rendered;
}
