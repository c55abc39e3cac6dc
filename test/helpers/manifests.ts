import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CORE_SCHEMA, load, loadAll, mergeTag } from 'js-yaml';
import { envSchema } from '../../src/config/env.schema.js';

// Reading the deployment files (deploy/k8s, docker/) the way their tools do,
// for the specs that keep them in step with the app.

export const REPO = new URL('../..', import.meta.url).pathname;
export const K8S_DIR = join(REPO, 'deploy/k8s');

/** Env names the manifests may set that are not the app's: Node reads NODE_OPTIONS itself. */
export const RUNTIME_ENV = new Set(['NODE_OPTIONS']);

/** Every env name the app reads (src/config/env.schema.ts). */
export const APP_ENV = new Set(Object.keys(envSchema.shape));

/** YAML with `<<` merge keys (compose's x-app-env anchors). */
export function readYaml(path: string): unknown {
  return load(readFileSync(path, 'utf8'), { schema: CORE_SCHEMA.withTags(mergeTag) });
}

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [field: string]: unknown;
}

/** kubectl from PATH (or KUBECTL): .ci/run installs it when missing. */
export function kubectl(): string {
  const configured = process.env.KUBECTL;
  if (configured) return configured;
  for (const path of ['/usr/bin/kubectl', '/usr/local/bin/kubectl'])
    if (existsSync(path)) return path;
  return 'kubectl';
}

/** The base and every overlay: a folder with a kustomization.yaml. */
export function kustomizations(): string[] {
  const overlays = join(K8S_DIR, 'overlays');
  return [
    'base',
    ...readdirSync(overlays)
      .filter((d) => existsSync(join(overlays, d, 'kustomization.yaml')))
      .map((d) => `overlays/${d}`),
  ];
}

/**
 * `kubectl kustomize` of one folder. Its stderr may carry only kustomize v5's
 * deprecation notes for `bases`/`patchesStrategicMerge` (kept so kubectl 1.20
 * builds the same files).
 */
export function kustomize(dir: string): { objects: K8sObject[]; warnings: string[] } {
  const run = spawnSync(kubectl(), ['kustomize', join(K8S_DIR, dir)], { encoding: 'utf8' });
  if (run.status !== 0)
    throw new Error(`kubectl kustomize ${dir} failed: ${run.stderr || run.error}`);
  const objects = loadAll(run.stdout).filter((o) => o !== null) as K8sObject[];
  // kustomize v5 wraps long base64 values; the API server's decoder (Go's
  // encoding/base64) skips line breaks, the bundled schema's "byte" does not.
  for (const obj of objects) {
    const data =
      obj.kind === 'Secret' ? (obj.data as Record<string, string> | undefined) : undefined;
    for (const key of Object.keys(data ?? {})) data![key] = data![key].replace(/\s+/g, '');
  }
  const warnings = run.stderr.split('\n').filter((l) => l.trim() !== '');
  return { objects, warnings };
}

/** The JS model class of an object's apiVersion/kind, with its bundled JSON schema. */
async function modelOf(obj: K8sObject): Promise<new (data: unknown) => { validate(): void }> {
  const pkg = obj.apiVersion.split('/')[0].endsWith('keda.sh')
    ? '@kubernetes-models/keda'
    : 'kubernetes-models';
  const path = `${pkg}/${obj.apiVersion}/${obj.kind}`;
  let module: Record<string, unknown>;
  try {
    module = (await import(path)) as Record<string, unknown>;
  } catch {
    throw new Error(`no schema for ${obj.apiVersion} ${obj.kind} (${path})`);
  }
  return module[obj.kind] as new (data: unknown) => { validate(): void };
}

/** Throws with the schema's message when the object is not a valid one of its kind. */
export async function validateObject(obj: K8sObject): Promise<void> {
  const Model = await modelOf(obj);
  try {
    new Model(obj).validate();
  } catch (err) {
    throw new Error(`${obj.kind}/${obj.metadata?.name}: ${(err as Error).message}`);
  }
}

export function find<T = K8sObject>(objects: K8sObject[], kind: string, name: string): T {
  const obj = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!obj) throw new Error(`no ${kind} named ${name}`);
  return obj as T;
}
