import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

// The README and docs/ link only to files of this repository, and every link
// lands: on an existing file and, with a #fragment, on a heading of it.
const root = resolve(new URL('..', import.meta.url).pathname);

// Pages other branches of issue 19 write; the lead deletes this list when
// merging them, and from then on their links are checked like any other.
const pages = [
  'README.md',
  ...readdirSync(join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

/** The text outside fenced code blocks and inline code, where links are links. */
function prose(markdown: string): string {
  return markdown.replace(/^```[\s\S]*?^```/gm, '').replace(/`[^`\n]*`/g, '');
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to dashes, -1/-2 for repeats. */
function anchorsOf(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const line of markdown.replace(/^```[\s\S]*?^```/gm, '').split('\n')) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!heading) continue;
    const base = heading[1]
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

interface Link {
  page: string;
  target: string;
}

function linksOf(page: string): Link[] {
  const text = prose(readFileSync(join(root, page), 'utf8'));
  return [...text.matchAll(/!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map((m) => ({
    page,
    target: m[1],
  }));
}

/** What is wrong with one link, or undefined when it lands. */
function problemOf({ page, target }: Link): string | undefined {
  if (/^(https?:|mailto:)/.test(target)) return undefined;
  const [path, fragment] = target.split('#', 2);
  const file = path === '' ? join(root, page) : resolve(root, dirname(page), path);
  const name = relative(root, file);
  if (name.startsWith('..')) return 'points outside the repository';
  if (!existsSync(file)) return `${name} does not exist`;
  if (fragment === undefined) return undefined;
  if (statSync(file).isDirectory() || !file.endsWith('.md')) return 'has a fragment on a non-page';
  return anchorsOf(readFileSync(file, 'utf8')).has(fragment)
    ? undefined
    : `${name} has no heading #${fragment}`;
}

describe('documentation links', () => {
  const links = pages.flatMap(linksOf);

  it('finds the links it checks', () => {
    expect(pages.length).toBeGreaterThan(10);
    expect(links.length).toBeGreaterThan(50);
  });

  it('every relative link lands on a file of the repository and on a heading of it', () => {
    const broken = links.flatMap((link) => {
      const problem = problemOf(link);
      return problem ? [`${link.page}: (${link.target}) ${problem}`] : [];
    });
    expect(broken).toEqual([]);
  });

  it('every page of docs/ is reachable from the README', () => {
    const reached = new Set<string>(['README.md']);
    const queue = ['README.md'];
    while (queue.length > 0) {
      const page = queue.shift() as string;
      for (const { target } of linksOf(page)) {
        const path = target.split('#')[0];
        if (path === '' || /^(https?:|mailto:)/.test(path)) continue;
        const name = relative(root, resolve(root, dirname(page), path));
        if (pages.includes(name) && !reached.has(name)) {
          reached.add(name);
          queue.push(name);
        }
      }
    }
    expect(pages.filter((p) => !reached.has(p))).toEqual([]);
  });

  it('computes anchors as GitHub does', () => {
    const anchors = anchorsOf(
      '# Payments (WeChat Pay API v3)\n## Read/write routing\n## Endpoints (prefix `/api/v1`)\n## Notes\n## Notes\n```\n# not a heading\n```\n',
    );
    expect([...anchors]).toEqual([
      'payments-wechat-pay-api-v3',
      'readwrite-routing',
      'endpoints-prefix-apiv1',
      'notes',
      'notes-1',
    ]);
  });
});
