/** Bytes shown to a reader: HTTP heads line by line with their CRLFs visible, sizes in bytes. */

/** Each line of an HTTP head, prefixed ("> " for what the client sent, "< " for the answer), CRLF shown as \r\n. */
export function showHead(head: string, prefix: string): string {
  const lines = head.split('\r\n');
  // A head ends with an empty line: its CRLF is the last line shown.
  if (lines.at(-1) === '') lines.pop();
  return lines.map((line) => `${prefix}${line}\\r\\n`).join('\n');
}

export function bytesOf(text: string): number {
  return Buffer.byteLength(text, 'latin1');
}
