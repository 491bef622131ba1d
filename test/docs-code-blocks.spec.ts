import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'smol-toml';
import { resolveLockerConfig } from '../lib/config/resolve-locker-config';
import type { LockerConfig } from '../lib/interfaces/locker-config.interface';
import { CODE_BLOCK_PRELUDE } from './docs/code-block-prelude';
import { type CodeBlock, markdownCodeBlocks } from './docs/markdown-code-blocks';

// Compiled to dist/test/: the repository is two levels up.
const REPO = join(__dirname, '..', '..');
// Under the repo, so the blocks resolve @nestjs/*, ioredis and tsconfig's `nest-locker` paths (to lib/) as the
// repo's own code does; .tmp/ is ignored by git and prettier.
const WORK = join(REPO, '.tmp', 'docs-code-blocks');
const PRELUDE_LINES = CODE_BLOCK_PRELUDE.split('\n').length - 1;

function docBlocks(lang: string): CodeBlock[] {
  const docs = readdirSync(join(REPO, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => join('docs', name));
  return ['README.md', ...docs].flatMap((file) => markdownCodeBlocks(join(REPO, file))).filter((block) => block.lang === lang);
}

const where = (block: CodeBlock, line = 0): string => `${relative(REPO, block.file)}:${block.line + line}`;

/** A block with an `import` line is a whole module; any other is a fragment, checked after the prelude. */
const isFragment = (block: CodeBlock): boolean => !/^import\s/m.test(block.text);

/**
 * Typechecks the blocks with the repo's tsc in one run, each block a module (.mts: top-level await) of its own,
 * and returns the errors as `<doc>:<line>: error TS...`.
 */
function typecheck(blocks: CodeBlock[]): string[] {
  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(WORK, { recursive: true });
  blocks.forEach((block, index) => {
    const text = isFragment(block) ? CODE_BLOCK_PRELUDE + block.text : block.text;
    writeFileSync(join(WORK, `block-${index}.mts`), `${text}\n`);
  });
  const tsconfig = { extends: '../../tsconfig.json', compilerOptions: { noEmit: true }, include: ['*.mts'] };
  writeFileSync(join(WORK, 'tsconfig.json'), JSON.stringify(tsconfig));
  const tsc = spawnSync(join(REPO, 'node_modules', '.bin', 'tsc'), ['-p', WORK, '--pretty', 'false'], { encoding: 'utf8' });
  const output = `${tsc.stdout}${tsc.stderr}`;
  const errors = output
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const at = /block-(\d+)\.mts\((\d+),(\d+)\): (.*)$/.exec(line);
      if (!at) return line;
      const block = blocks[Number(at[1])];
      const lineInBlock = Number(at[2]) - 1 - (isFragment(block) ? PRELUDE_LINES : 0);
      // An error in the prelude itself (a name nest-locker no longer exports) is reported at the block that hit it.
      return lineInBlock < 0 ? `${where(block)} (the prelude): ${at[4]}` : `${where(block, lineInBlock)}: ${at[4]}`;
    });
  assert.ok(errors.length > 0 || tsc.status === 0, `tsc failed without a message (status ${tsc.status})`);
  return errors;
}

describe('code blocks of README.md and docs/', () => {
  it('every ```ts block typechecks against the library', () => {
    const blocks = docBlocks('ts');
    assert.ok(blocks.length >= 10, `found only ${blocks.length} ts blocks: is the extraction broken?`);
    const errors = typecheck(blocks);
    assert.deepEqual(errors, [], `code blocks that do not compile:\n${errors.join('\n')}`);
  });

  it('every ```toml block parses, and one with a locker section passes the config checks', () => {
    const blocks = docBlocks('toml');
    assert.ok(blocks.length > 0);
    for (const block of blocks) {
      let config: LockerConfig;
      try {
        config = parse(block.text) as LockerConfig;
      } catch (error) {
        assert.fail(`${where(block)}: ${(error as Error).message}`);
      }
      // Blocks that show one connection section (TLS files that exist only on the reader's machine) stop here.
      const lockerSections = Object.values(config).filter((section) => typeof section === 'object' && 'driver' in section);
      if (lockerSections.length === 0) continue;
      assert.doesNotThrow(() => resolveLockerConfig(config), `${where(block)}: the config is refused`);
    }
  });
});
