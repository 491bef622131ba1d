import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, it } from 'node:test';

// Compiled to dist/test/: the repository is two levels up.
const REPO = join(__dirname, '..', '..');

const docFiles = (): string[] => [
  join(REPO, 'README.md'),
  ...readdirSync(join(REPO, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => join(REPO, 'docs', name)),
];

/** The anchors GitHub gives a file's headings: lower case, punctuation dropped, spaces as hyphens. */
function anchors(file: string): Set<string> {
  const text = readFileSync(file, 'utf8').replace(/^```[\s\S]*?^```/gm, '');
  const headings = [...text.matchAll(/^#+ (.+)$/gm)].map((match) => match[1]);
  return new Set(
    headings.map((heading) =>
      heading
        .toLowerCase()
        .replace(/[^\p{L}\p{N}\s_-]/gu, '')
        .replace(/\s/g, '-'),
    ),
  );
}

describe('links of README.md and docs/', () => {
  it('every relative link reaches a file of the package, and every #anchor a heading', () => {
    const broken: string[] = [];
    for (const file of docFiles()) {
      const lines = readFileSync(file, 'utf8').split('\n');
      lines.forEach((line, index) => {
        for (const [, target] of line.matchAll(/\]\(([^)\s]+)\)/g)) {
          if (/^[a-z]+:/.test(target)) continue; // https:, mailto:
          const [path, anchor] = target.split('#');
          const linked = path === '' ? file : join(dirname(file), path);
          const at = `${relative(REPO, file)}:${index + 1}: ${target}`;
          if (relative(REPO, linked).startsWith('..')) broken.push(`${at} (outside the package)`);
          else if (!existsSync(linked)) broken.push(`${at} (no such file)`);
          else if (anchor !== undefined && !anchors(linked).has(anchor)) broken.push(`${at} (no such heading)`);
        }
      });
    }
    assert.deepEqual(broken, [], `broken links:\n${broken.join('\n')}`);
  });
});
