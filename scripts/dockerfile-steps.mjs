#!/usr/bin/env node
// Runs docker/Dockerfile's steps by hand, without a Docker engine:
//
//   node scripts/dockerfile-steps.mjs [--reuse-node-modules] [--reuse-build] OUT_DIR
//
// Each stage gets a folder under OUT_DIR (OUT_DIR/<stage>/ is its "/"). The
// build context is the repository filtered through docker/Dockerfile.dockerignore,
// so a file the build needs but the ignore file leaves out breaks this run as
// it would break `docker build`. COPY (from the context or --from a stage),
// WORKDIR, ENV and RUN are carried out; RUN `apt-get …` is skipped (system
// packages, already on a development machine), and with --reuse-node-modules
// `npm ci` becomes a hard-linked copy of this checkout's node_modules (the same
// lockfile, seconds instead of a minute of network). With --reuse-build,
// `npm run build` becomes a check that every relative import of the copied
// sources is itself in the context (what tsc would miss) plus the checkout's
// own dist/, which `npm test`'s pretest has just built from the same sources
// (a second full build costs ~40 s of CPU). The final stage is
// described in OUT_DIR/image.json: its root, WORKDIR, ENV, CMD and
// HEALTHCHECK, for the caller to start it.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, posix, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const DOCKERFILE = join(REPO, 'docker/Dockerfile');
const DOCKERIGNORE = join(REPO, 'docker/Dockerfile.dockerignore');

/** The Dockerfile's instructions, continuation lines joined, comments dropped. */
export function parseDockerfile(text) {
  const instructions = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (pending === '' && (line === '' || line.startsWith('#'))) continue;
    if (line.startsWith('#')) continue;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1).trim()} `;
      continue;
    }
    const full = (pending + line).trim();
    pending = '';
    const space = full.indexOf(' ');
    instructions.push({
      op: full.slice(0, space).toUpperCase(),
      args: full.slice(space + 1).trim(),
    });
  }
  return instructions;
}

/** `K=V K2="a b"` as Docker's ENV reads it. */
export function parseEnv(args) {
  const env = {};
  const re = /([A-Za-z_][A-Za-z0-9_]*)=("((?:[^"\\]|\\.)*)"|\S*)/g;
  for (const m of args.matchAll(re)) env[m[1]] = m[3] !== undefined ? m[3] : m[2];
  return env;
}

/** A JSON-array (exec form) or shell-form command, as an argv. */
function argv(args) {
  return args.startsWith('[') ? JSON.parse(args) : ['/bin/sh', '-c', args];
}

/** One .dockerignore pattern as a regular expression on a context path. */
function ignoreRegex(pattern) {
  const re = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*\*\/?/g, '\u0000')
    .replace(/\*/g, '[^/]*')
    .replace(/\?/g, '[^/]')
    .replace(/\u0000/g, '(?:.*/)?.*');
  return new RegExp(`^${re}(?:/.*)?$`);
}

/** The context's files: the checkout's (tracked or not ignored by git), filtered by .dockerignore. */
export function contextFiles() {
  const rules = readFileSync(DOCKERIGNORE, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => ({ include: l.startsWith('!'), re: ignoreRegex(l.replace(/^!/, '')) }));
  const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], {
    cwd: REPO,
    encoding: 'utf8',
  })
    .split('\n')
    .filter((f) => f !== '');
  return files.filter((file) => {
    let kept = true;
    for (const rule of rules) if (rule.re.test(file)) kept = rule.include;
    return kept;
  });
}

/**
 * Relative imports (`from './x.js'`, `import('../y.js')`) of the TypeScript
 * files under `root` that name no file there: what `tsc` would miss in the
 * build stage. Package imports come from node_modules, which `npm ci` fills.
 */
export function missingImports(root) {
  const files = execFileSync(
    'find',
    ['.', '-path', './node_modules', '-prune', '-o', '-name', '*.ts', '-print'],
    {
      cwd: root,
      encoding: 'utf8',
    },
  )
    .split('\n')
    .filter((f) => f !== '');
  const missing = new Set();
  const re = /(?:\bfrom\s+|\bimport\s*\(\s*|^\s*import\s+)['"](\.{1,2}\/[^'"]+)['"]/gm;
  for (const file of files) {
    for (const m of readFileSync(join(root, file), 'utf8').matchAll(re)) {
      const target = posix.join(posix.dirname(file), m[1]);
      const candidates = [
        target,
        target.replace(/\.js$/, '.ts'),
        `${target}.ts`,
        `${target}/index.ts`,
      ];
      if (!candidates.some((c) => existsSync(join(root, c)))) missing.add(posix.normalize(target));
    }
  }
  return [...missing].sort();
}

function copy({ args, stages, context, stageRoot, workdir }) {
  const parts = args.split(/\s+/);
  const from = parts[0].startsWith('--from=') ? parts.shift().slice('--from='.length) : undefined;
  const dest = parts.pop();
  const destPath = join(stageRoot, posix.isAbsolute(dest) ? dest : posix.join(workdir, dest));
  for (const source of parts) {
    if (from !== undefined) {
      const root = stages.get(from);
      if (!root) throw new Error(`COPY --from=${from}: no such stage`);
      const path = join(root, source);
      if (statSync(path).isDirectory()) {
        // Hard links: node_modules is large, and neither side is written after this.
        execFileSync('cp', ['-al', path, destPath]);
      } else {
        mkdirSync(destPath, { recursive: true });
        cpSync(path, dest.endsWith('/') ? join(destPath, posix.basename(source)) : destPath);
      }
      continue;
    }
    const clean = source.replace(/\/+$/, '');
    // `.`: the whole (filtered) context.
    const matched =
      clean === '.' ? context : context.filter((f) => f === clean || f.startsWith(`${clean}/`));
    if (matched.length === 0) throw new Error(`COPY ${source}: not in the build context`);
    for (const file of matched) {
      const rel =
        clean === '.' ? file : file === clean ? posix.basename(file) : file.slice(clean.length + 1);
      const target =
        file === clean && !dest.endsWith('/') && parts.length === 1
          ? destPath
          : join(destPath, rel);
      mkdirSync(dirname(target), { recursive: true });
      cpSync(join(REPO, file), target);
    }
  }
}

function run({ args, env, stageRoot, workdir, reuseNodeModules, reuseBuild, log }) {
  const cwd = join(stageRoot, workdir);
  if (/^apt-get\b/.test(args)) {
    log(`skip RUN ${args.slice(0, 60)}… (system packages)`);
    return;
  }
  for (const step of args.split(/\s*&&\s*/)) {
    if (reuseBuild && /^npm run build$/.test(step)) {
      const missing = missingImports(cwd);
      if (missing.length > 0) throw new Error(`not in the build context: ${missing.join(', ')}`);
      log(`RUN ${step} -> imports closed; the checkout's dist/ (same sources)`);
      execFileSync('cp', ['-al', join(REPO, 'dist'), join(cwd, 'dist')]);
      continue;
    }
    if (reuseNodeModules && /^npm ci\b/.test(step)) {
      log(`RUN ${step} -> hard-linked copy of node_modules`);
      execFileSync('cp', ['-al', join(REPO, 'node_modules'), join(cwd, 'node_modules')]);
      continue;
    }
    log(`RUN ${step}`);
    execFileSync('/bin/sh', ['-c', step], {
      cwd,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  }
}

export function runDockerfile(
  outDir,
  { reuseNodeModules = false, reuseBuild = false, log = () => {} } = {},
) {
  const instructions = parseDockerfile(readFileSync(DOCKERFILE, 'utf8'));
  const context = contextFiles();
  const stages = new Map();
  let stage;
  for (const { op, args } of instructions) {
    if (op === 'FROM') {
      const name = /\sAS\s+(\S+)$/i.exec(args)?.[1] ?? `stage${stages.size}`;
      const root = join(outDir, name);
      mkdirSync(root, { recursive: true });
      stages.set(name, root);
      stage = { name, root, workdir: '/', env: {}, cmd: undefined, healthcheck: undefined };
      continue;
    }
    if (!stage) throw new Error(`${op} before FROM`);
    const step = {
      args,
      stages,
      context,
      stageRoot: stage.root,
      workdir: stage.workdir,
      env: stage.env,
      reuseNodeModules,
      reuseBuild,
      log,
    };
    switch (op) {
      case 'WORKDIR':
        stage.workdir = posix.resolve(stage.workdir, args);
        mkdirSync(join(stage.root, stage.workdir), { recursive: true });
        break;
      case 'ENV':
        Object.assign(stage.env, parseEnv(args));
        break;
      case 'COPY':
        copy(step);
        break;
      case 'RUN':
        run(step);
        break;
      case 'CMD':
        stage.cmd = argv(args);
        break;
      case 'HEALTHCHECK':
        stage.healthcheck = argv(args.replace(/^(--\S+\s+)*CMD\s+/, ''));
        break;
      case 'USER':
      case 'EXPOSE':
      case 'STOPSIGNAL':
        break;
      default:
        throw new Error(`dockerfile-steps: ${op} is not handled; teach this script or drop it`);
    }
  }
  const image = {
    root: stage.root,
    workdir: join(stage.root, stage.workdir),
    env: stage.env,
    cmd: stage.cmd,
    healthcheck: stage.healthcheck,
  };
  writeFileSync(join(outDir, 'image.json'), `${JSON.stringify(image, null, 2)}\n`);
  return image;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const outDir = args.find((a) => !a.startsWith('--'));
  if (!outDir) {
    process.stderr.write(
      'usage: node scripts/dockerfile-steps.mjs [--reuse-node-modules] [--reuse-build] OUT_DIR\n',
    );
    process.exit(2);
  }
  const image = runDockerfile(resolve(outDir), {
    reuseNodeModules: args.includes('--reuse-node-modules'),
    reuseBuild: args.includes('--reuse-build'),
    log: (line) => process.stderr.write(`${line}\n`),
  });
  process.stdout.write(`${JSON.stringify(image, null, 2)}\n`);
}
