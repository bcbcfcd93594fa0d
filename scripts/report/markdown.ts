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

/** A heading of a markdown document and the anchor GitHub gives it. */
export interface Heading {
  level: number;
  text: string;
  anchor: string;
}

/**
 * The headings of `markdown` (ATX, outside code fences) with their anchors as GitHub makes them:
 * lower case, punctuation dropped, each space a hyphen; a repeated anchor gets -1, -2, … in order.
 */
export function headings(markdown: string): Heading[] {
  const seen = new Map<string, number>();
  const found: Heading[] = [];
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    const match = fenced ? null : /^(#{1,6}) (.+?)\s*$/.exec(line);
    if (match === null) continue;
    const text = match[2]!;
    const slug = text
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
      .replace(/ /g, '-');
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    found.push({ level: match[1]!.length, text, anchor: count === 0 ? slug : `${slug}-${count}` });
  }
  return found;
}

/** A link within the document. */
export function link(text: string, anchor: string): string {
  return `[${text.replace(/[[\]\\]/g, '\\$&')}](#${anchor})`;
}
