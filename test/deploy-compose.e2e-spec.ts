import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Ajv } from 'ajv';
import { envSchema } from '../src/config/env.schema.js';
import { APP_ENV, find, kustomize, readYaml, REPO, RUNTIME_ENV } from './helpers/manifests.js';

/**
 * docker/compose.yml without a Docker engine: valid against the Compose
 * Specification's JSON schema (as the dclint package ships it), and in step
 * with the app's env schema and with deploy/k8s (same env names, same modes,
 * same shutdown timing, same migration command).
 */

interface ComposeService {
  environment?: Record<string, string | number | null>;
  command?: string[];
  stop_grace_period?: string;
  depends_on?: Record<string, { condition: string }>;
}
interface Compose {
  services: Record<string, ComposeService>;
}

const COMPOSE = join(REPO, 'docker/compose.yml');
const compose = readYaml(COMPOSE) as Compose;
// dclint (a Compose linter on npm) ships the Compose Specification's JSON
// schema (compose-spec/compose-spec, Apache-2.0) as schemas/compose.schema.json.
const schemaPath = join(
  dirname(createRequire(import.meta.url).resolve('dclint/package.json')),
  'schemas/compose.schema.json',
);

function composeValidator() {
  const ajv = new Ajv({ strict: false, allErrors: true });
  // Its `$schema` spells draft-07's URL in a way Ajv does not know; Ajv's default is draft-07.
  const { $schema: _dialect, ...schema } = JSON.parse(readFileSync(schemaPath, 'utf8')) as Record<
    string,
    unknown
  >;
  return ajv.compile(schema);
}

/** A duration as compose writes it ("40s", "1m30s"), in ms. */
function durationMs(value: string): number {
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  for (const m of value.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) total += Number(m[1]) * units[m[2]];
  return total;
}

const APP_SERVICES = { migrate: undefined, app: 'http', worker: 'worker' } as const;

describe('docker/compose.yml', () => {
  const validate = composeValidator();

  it('is valid against the Compose Specification schema', () => {
    expect(validate(compose), JSON.stringify(validate.errors, null, 2)).toBe(true);
  });

  it.each([
    [
      'a misspelt service key',
      (c: Compose) => ((c.services.worker as Record<string, unknown>).enviroment = {}),
    ],
    [
      'networks as a bare string',
      (c: Compose) => ((c.services.app as Record<string, unknown>).networks = 'backend'),
    ],
    [
      'a misspelt healthcheck key',
      (c: Compose) =>
        ((c.services.app as Record<string, unknown>).healthcheck = { intervall: '5s' }),
    ],
    [
      'an unknown depends_on condition',
      (c: Compose) => (c.services.worker.depends_on = { migrate: { condition: 'service_done' } }),
    ],
  ])('the same validator rejects %s', (_label, breakIt) => {
    const broken = structuredClone(compose);
    breakIt(broken);
    expect(validate(broken)).toBe(false);
  });

  it.each(Object.keys(APP_SERVICES))('%s sets only env names the app reads', (service) => {
    const env = compose.services[service].environment ?? {};
    expect(Object.keys(env).length).toBeGreaterThan(5);
    for (const name of Object.keys(env)) {
      expect(APP_ENV.has(name) || RUNTIME_ENV.has(name), `${service}: ${name}`).toBe(true);
    }
  });

  it('runs the app as WORKER_MODE=http and the worker as WORKER_MODE=worker, like deploy/k8s', () => {
    const { objects } = kustomize('base');
    for (const [service, mode] of Object.entries(APP_SERVICES)) {
      if (mode === undefined) continue;
      expect(compose.services[service].environment?.WORKER_MODE).toBe(mode);
      const deployment = find(objects, 'Deployment', `wx-mp-backend-${mode}`) as {
        spec: {
          template: {
            spec: { containers: { name: string; env: { name: string; value: string }[] }[] };
          };
        };
      };
      const app = deployment.spec.template.spec.containers.find((c) => c.name === 'app')!;
      expect(app.env.find((e) => e.name === 'WORKER_MODE')?.value).toBe(mode);
    }
  });

  it('shares its shutdown timing, body limit and NODE_ENV with deploy/k8s, and waits long enough', () => {
    const { objects } = kustomize('base');
    const config = objects.find((o) => o.kind === 'ConfigMap') as unknown as {
      data: Record<string, string>;
    };
    for (const service of ['app', 'worker']) {
      const env = compose.services[service].environment!;
      for (const name of [
        'SHUTDOWN_DRAIN_MS',
        'SHUTDOWN_TIMEOUT_MS',
        'BODY_LIMIT_BYTES',
        'NODE_ENV',
      ]) {
        expect(String(env[name]), `${service}: ${name}`).toBe(config.data[name]);
      }
      const drain = envSchema.shape.SHUTDOWN_DRAIN_MS.parse(env.SHUTDOWN_DRAIN_MS);
      const timeout = envSchema.shape.SHUTDOWN_TIMEOUT_MS.parse(env.SHUTDOWN_TIMEOUT_MS);
      expect(durationMs(compose.services[service].stop_grace_period!)).toBeGreaterThan(
        drain + timeout,
      );
      expect(compose.services[service].depends_on?.migrate?.condition).toBe(
        'service_completed_successfully',
      );
    }
  });
});
