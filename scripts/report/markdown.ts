/** GitHub-flavoured markdown building blocks: tables, code spans, images. */

/** A cell's text made safe for a GFM table row: `|` escaped (also inside code spans), no line breaks. */
function escapeCell(text: string): string {
  return text.replace(/\r?\n/g, ' ').replace(/\|/g, '\\|');
}

export type Alignment = 'left' | 'right';

/**
 * A GFM table. Every row is padded (or cut) to the header's width, so that a short row (a failed
 * run, say) still renders as a table row.
 */
export function table(header: string[], rows: string[][], alignments: Alignment[] = []): string {
  const line = (cells: string[]): string => `| ${cells.map(escapeCell).join(' | ')} |`;
  const rule = header.map((_, column) => (alignments[column] === 'right' ? '--:' : '---'));
  const fitted = rows.map((row) => header.map((_, column) => row[column] ?? ''));
  return [line(header), `| ${rule.join(' | ')} |`, ...fitted.map(line)].join('\n');
}

/** Inline code that survives any backticks in `text`. */
export function code(text: string): string {
  const longestRun = Math.max(0, ...(text.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longestRun + 1);
  const padding = text.startsWith('`') || text.endsWith('`') ? ' ' : '';
  return `${fence}${padding}${text}${padding}${fence}`;
}

export function bold(text: string): string {
  return `**${text}**`;
}

/** An embedded image; the alt text is what a reader without the image (or a screen reader) gets. */
export function image(alt: string, href: string): string {
  return `![${alt.replace(/[[\]\\]/g, '\\$&')}](${encodeURI(href)})`;
}

export function bullets(items: string[]): string {
  return items.map((item) => `- ${item}`).join('\n');
}
