import { readFileSync } from 'node:fs';

/** One fenced code block of a markdown file. */
export interface CodeBlock {
  /** The markdown file, as given. */
  file: string;
  /** 1-based line of the block's first code line (the line after the opening fence). */
  line: number;
  /** The fence's info string: `ts`, `toml`, `bash`... */
  lang: string;
  text: string;
}

/** Every fenced (```) code block of a markdown file, with where it starts. */
export function markdownCodeBlocks(file: string): CodeBlock[] {
  const lines = readFileSync(file, 'utf8').split('\n');
  const blocks: CodeBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)/.exec(lines[i]);
    if (!open) continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && !lines[end].startsWith('```')) end++;
    if (end === lines.length) throw new Error(`${file}:${i + 1}: a code block that is never closed`);
    blocks.push({ file, line: start + 1, lang: open[1], text: lines.slice(start, end).join('\n') });
    i = end;
  }
  return blocks;
}
