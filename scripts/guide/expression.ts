/**
 * The placeholders of the guide's template: `{{name arg arg … key=value}}`. An argument is a word
 * (a run id, a direction, a case id, a number) or another expression in parentheses, whose value
 * it takes: `{{ratio (micro websocket/encode/1KiB/unmasked-deflate) (micro websocket/encode/1KiB/unmasked)}}`.
 * `key=value` words are options of the expression they sit in (decimals=2, significant=3, unit=ms).
 */

/** A placeholder the template cannot hold as written, or a figure the results cannot give. */
export class GuideError extends Error {}

export type Argument = { kind: 'word'; text: string } | { kind: 'expression'; expression: Expression };

export interface Expression {
  name: string;
  args: Argument[];
  options: Record<string, string>;
}

type Token = '(' | ')' | { word: string };

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  for (const match of source.matchAll(/[()]|[^\s()]+/g)) {
    const text = match[0];
    tokens.push(text === '(' || text === ')' ? text : { word: text });
  }
  return tokens;
}

const OPTION = /^([a-z]+)=(.+)$/;

/** Parses what is between `{{` and `}}`. */
export function parseExpression(source: string): Expression {
  const tokens = tokenize(source);
  let at = 0;

  function expression(): Expression {
    const head = tokens[at];
    if (head === undefined || typeof head === 'string') throw new GuideError('an expression starts with the name of a figure');
    at += 1;
    const parsed: Expression = { name: head.word, args: [], options: {} };
    for (let token = tokens[at]; token !== undefined && token !== ')'; token = tokens[at]) {
      at += 1;
      if (token === '(') {
        parsed.args.push({ kind: 'expression', expression: expression() });
        if (tokens[at] !== ')') throw new GuideError('a "(" is not closed');
        at += 1;
        continue;
      }
      const option = OPTION.exec(token.word);
      if (option !== null) parsed.options[option[1]!] = option[2]!;
      else parsed.args.push({ kind: 'word', text: token.word });
    }
    return parsed;
  }

  const parsed = expression();
  if (at < tokens.length) throw new GuideError('a ")" closes nothing');
  return parsed;
}
