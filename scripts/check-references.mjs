// `npm run lint` step: nothing in the repository cites a file outside it (the
// copy of the HTTP contract, or the folder of notes, that sit beside the
// repository on its authors' machines). A clone has neither; the contract a
// reader can open is docs/http-api.md.
// Prints file:line for each citation and exits 1 when there is one.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

// Built from parts, so that this file does not cite what it looks for.
const OUTSIDE = [new RegExp(`(?<![\\w-])${'API'}\\.md`), new RegExp(`\\.\\./${'shared'}\\b`)];
const SKIPPED = new Set(['package-lock.json']);

// Tracked files and new ones not yet added (but not the ignored: node_modules, dist).
const files = execFileSync(
  'git',
  ['ls-files', '-z', '--cached', '--others', '--exclude-standard'],
  {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  },
)
  .split('\0')
  .filter((f) => f !== '' && !SKIPPED.has(f));

const found = [];
for (const file of files) {
  let text;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    continue; // listed but deleted in the work tree
  }
  if (text.includes('\0')) continue; // binary
  text.split('\n').forEach((line, i) => {
    if (OUTSIDE.some((re) => re.test(line))) found.push(`${file}:${i + 1}: ${line.trim()}`);
  });
}

if (found.length > 0) {
  process.stderr.write(
    `${found.join('\n')}\n\n${found.length} reference(s) to files outside the repository: cite docs/http-api.md instead.\n`,
  );
  process.exit(1);
}
