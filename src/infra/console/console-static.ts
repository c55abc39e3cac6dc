import { stat } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../common/errors/index.js';
import { toErrorResponse } from '../../common/http/index.js';

/** Vite's hashed output: a name never changes content, so browsers keep it a year. */
const ASSETS = 'assets/';
const IMMUTABLE = 'public, max-age=31536000, immutable';
// index.html names the current hashed files: always revalidated.
const REVALIDATE = 'no-cache';

/**
 * The staff console's built files (docs/console.md) at /console/: a file
 * that exists is served, any other path that does not look like a file is
 * the app's own route and gets index.html. Missing files under assets/
 * stay 404s, so a stale page never runs HTML as script. The security
 * headers (a strict CSP, frame-ancestors 'none') are set for every
 * /console answer by the onRequest hook of app.factory.ts. When the console
 * is not built the server still boots, and /console/ says how to build it.
 */
export async function serveConsole(app: NestFastifyApplication, root: string): Promise<void> {
  // In a plugin of its own: the reply decoration stays out of Swagger's way.
  await app.register(async (instance: FastifyInstance) => {
    // Our own line rather than the plugin's warning: a server without its
    // console (a development checkout) is normal, and says what to do.
    await instance.register(fastifyStatic, { root, serve: false, suppressWarning: true });
    if ((await fileIn(root, 'index.html')) === undefined) {
      instance.log.info(
        `staff console not built (${root}): /console/ answers 404 until \`npm run build\``,
      );
    }
    instance.get('/console', (_request, reply) => reply.redirect('/console/', 308));
    instance.get('/console/*', (request, reply) => serveFile(request, reply, root));
  });
}

async function serveFile(
  request: FastifyRequest,
  reply: FastifyReply,
  root: string,
): Promise<FastifyReply> {
  const path = (request.params as { '*': string })['*'];
  const file = path === '' ? undefined : await fileIn(root, path);
  if (file !== undefined) {
    void reply.header('cache-control', file.startsWith(ASSETS) ? IMMUTABLE : REVALIDATE);
    return reply.sendFile(file, { cacheControl: false, dotfiles: 'deny' });
  }
  if (path.startsWith(ASSETS) || extname(path) !== '') {
    return notFound(request, reply, 'no such file of the console');
  }
  if ((await fileIn(root, 'index.html')) === undefined) {
    return notFound(request, reply, 'the console is not built: run `npm run build`');
  }
  void reply.header('cache-control', REVALIDATE);
  return reply.sendFile('index.html', { cacheControl: false });
}

/** `path` relative to `root` when it names a regular file inside it (no dot segment, no escape). */
async function fileIn(root: string, path: string): Promise<string | undefined> {
  const relative = normalize(path);
  if (relative.includes('\0') || relative.split(sep).some((segment) => segment.startsWith('.'))) {
    return undefined;
  }
  try {
    return (await stat(join(root, relative))).isFile() ? relative : undefined;
  } catch {
    return undefined;
  }
}

function notFound(request: FastifyRequest, reply: FastifyReply, message: string): FastifyReply {
  const answer = toErrorResponse(new AppError('NOT_FOUND', message));
  return reply
    .code(answer.status)
    .header('cache-control', 'no-store')
    .send({ code: answer.code, message: answer.message, data: null, requestId: request.id });
}
