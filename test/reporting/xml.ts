/**
 * Small structural checkers for the reporting tests: XML well-formedness (tags nest and close, attributes are
 * quoted, entities are known) and GFM tables out of Markdown (cells split on unescaped pipes).
 */

/** Throws an Error naming the first problem when `xml` is not a well-formed XML fragment with one root element. */
export function checkWellFormedXml(xml: string): void {
  const stack: string[] = [];
  let roots = 0;
  const re = /<!--[\s\S]*?-->|<\?[\s\S]*?\?>|<(\/?)([A-Za-z_][\w:.-]*)((?:\s+[\w:.-]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>|<|&(?!(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)/g;
  for (const m of xml.matchAll(re)) {
    const tok = m[0];
    if (tok.startsWith('<!--') || tok.startsWith('<?')) continue;
    if (tok === '<') throw new Error(`Stray or malformed tag at offset ${m.index}: ${xml.slice(m.index, m.index + 60)}`);
    if (tok.startsWith('&')) throw new Error(`Unknown entity at offset ${m.index}: ${xml.slice(m.index, m.index + 20)}`);
    const [, close, name, , selfClose] = m;
    if (close) {
      const open = stack.pop();
      if (open !== name) throw new Error(`</${name}> at offset ${m.index} closes <${open ?? 'nothing'}>.`);
    } else {
      if (stack.length === 0) roots++;
      if (!selfClose) stack.push(name!);
    }
  }
  if (stack.length) throw new Error(`Unclosed elements: ${stack.join(' > ')}.`);
  if (roots !== 1) throw new Error(`Expected one root element, found ${roots}.`);
}

/** A GFM table: its header cells and rows of cells (unescaped). */
export interface MdTable {
  readonly header: string[];
  readonly rows: string[][];
}

function cells(line: string): string[] {
  const inner = line.trim().replace(/^\|/, '').replace(/\|$/, '');
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < inner.length; i++) {
    const c = inner[i]!;
    if (c === '\\' && i + 1 < inner.length) { cur += inner[++i]; continue; }
    if (c === '|') { out.push(cur.trim()); cur = ''; continue; }
    cur += c;
  }
  out.push(cur.trim());
  return out;
}

/** Every GFM table of a Markdown document (a header row, a delimiter row, then rows up to the first non-table line). */
export function markdownTables(md: string): MdTable[] {
  const lines = md.split('\n');
  const out: MdTable[] = [];
  for (let i = 0; i + 1 < lines.length; i++) {
    if (!lines[i]!.startsWith('|') || !/^\|(\s*:?-{3,}:?\s*\|)+$/.test(lines[i + 1]!.trim())) continue;
    const header = cells(lines[i]!);
    const delims = cells(lines[i + 1]!);
    if (delims.length !== header.length) throw new Error(`Table at line ${i + 1}: ${header.length} header cells, ${delims.length} delimiters.`);
    const rows: string[][] = [];
    let j = i + 2;
    for (; j < lines.length && lines[j]!.startsWith('|'); j++) rows.push(cells(lines[j]!));
    out.push({ header, rows });
    i = j;
  }
  return out;
}
