import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IHorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import type { IJob } from 'kubernetes-models/batch/v1/Job';
import type { IIngress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
import type { INetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import type { IPodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import type { IService } from 'kubernetes-models/v1/Service';
import { loadConfig } from '../src/config/index.js';
import { envSchema } from '../src/config/env.schema.js';
import { startTestApp, type TestApp } from './helpers/app.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';
import { baseEnv, TEST_REDIS_URL, testRedisPrefix } from './helpers/env.js';
import {
  APP_ENV,
  find,
  kustomizations,
  kustomize,
  readYaml,
  REPO,
  RUNTIME_ENV,
  validateObject,
  type K8sObject,
} from './helpers/manifests.js';

/**
 * deploy/k8s: every kustomization builds with kubectl, every object passes
 * the Kubernetes (and KEDA) schema bundled in kubernetes-models, and what the
 * manifests promise matches what the app does: modes, port, probes, drain
 * and grace, heap and memory, env names, the queues KEDA watches.
 */

const HTTP = 'wx-mp-backend-http';
const WORKER = 'wx-mp-backend-worker';
const DEPLOYMENTS = [
  { name: HTTP, mode: 'http' },
  { name: WORKER, mode: 'worker' },
] as const;

const builds = kustomizations().map((dir) => ({ dir, ...kustomize(dir) }));
const dockerfile = readFileSync(join(REPO, 'docker/Dockerfile'), 'utf8');

function deployment(objects: K8sObject[], name: string): IDeployment {
  return find<IDeployment>(objects, 'Deployment', name);
}
function podSpec(objects: K8sObject[], name: string): IPodSpec {
  return deployment(objects, name).spec!.template.spec!;
}
function appContainer(objects: K8sObject[], name: string): IContainer {
  return podSpec(objects, name).containers.find((c) => c.name === 'app')!;
}

/** A pod's environment as the kubelet builds it: envFrom ConfigMaps and Secrets, then env. */
function containerEnv(objects: K8sObject[], container: IContainer): Record<string, string> {
  const env: Record<string, string> = {};
  for (const from of container.envFrom ?? []) {
    if (from.configMapRef) {
      const cm = find(objects, 'ConfigMap', from.configMapRef.name!) as {
        data?: Record<string, string>;
      };
      Object.assign(env, cm.data);
    }
    if (from.secretRef) {
      const secret = objects.find(
        (o) => o.kind === 'Secret' && o.metadata.name === from.secretRef!.name,
      ) as { data?: Record<string, string> } | undefined;
      for (const [k, v] of Object.entries(secret?.data ?? {}))
        env[k] = Buffer.from(v, 'base64').toString('utf8');
    }
  }
  for (const e of container.env ?? []) if (e.value !== undefined) env[e.name] = e.value;
  return env;
}

/** Every env name a container is given, wherever it comes from (values may live in an absent Secret). */
function envNames(objects: K8sObject[], container: IContainer): string[] {
  return [
    ...Object.keys(containerEnv(objects, container)),
    ...(container.env ?? []).map((e) => e.name),
  ];
}

function allContainers(
  objects: K8sObject[],
): { owner: string; container: IContainer; spec: IPodSpec }[] {
  const specs: { owner: string; spec: IPodSpec }[] = [
    ...objects
      .filter((o) => o.kind === 'Deployment')
      .map((o) => ({
        owner: o.metadata.name,
        spec: (o as unknown as IDeployment).spec!.template.spec!,
      })),
    ...objects
      .filter((o) => o.kind === 'Job')
      .map((o) => ({ owner: o.metadata.name, spec: (o as unknown as IJob).spec!.template.spec! })),
  ];
  return specs.flatMap(({ owner, spec }) =>
    [...(spec.initContainers ?? []), ...spec.containers].map((container) => ({
      owner,
      container,
      spec,
    })),
  );
}

function mebibytes(quantity: string | number | undefined): number {
  const m = /^(\d+)(Mi|Gi)$/.exec(String(quantity));
  if (!m) throw new Error(`memory quantity ${quantity}: use Mi or Gi`);
  return Number(m[1]) * (m[2] === 'Gi' ? 1024 : 1);
}

function selects(
  selector: Record<string, string> | undefined,
  labels: Record<string, string> | undefined,
) {
  return Object.entries(selector ?? {}).every(([k, v]) => labels?.[k] === v);
}

describe.each(builds)('deploy/k8s/$dir', ({ objects, warnings }) => {
  it('builds, with no warning but kustomize v5 deprecating the kubectl-1.20 spellings', () => {
    expect(objects.length).toBeGreaterThan(10);
    for (const w of warnings) expect(w).toMatch(/'(bases|patchesStrategicMerge)' is deprecated/);
  });

  it('every object is valid against the schema of its kind', async () => {
    for (const obj of objects) await validateObject(obj);
  });

  it.each(DEPLOYMENTS)('$name runs WORKER_MODE=$mode, a mode the app knows', ({ name, mode }) => {
    const env = containerEnv(objects, appContainer(objects, name));
    expect(env.WORKER_MODE).toBe(mode);
    expect(envSchema.shape.WORKER_MODE.parse(env.WORKER_MODE)).toBe(mode);
  });

  it.each(DEPLOYMENTS)(
    '$name probes /health/live and /health/ready on the port the app listens on',
    ({ name }) => {
      const container = appContainer(objects, name);
      const env = containerEnv(objects, container);
      const port = container.ports!.find((p) => p.name === 'http')!;
      expect(port.containerPort).toBe(envSchema.shape.PORT.parse(env.PORT));
      expect(container.livenessProbe?.httpGet).toEqual({ path: '/health/live', port: 'http' });
      expect(container.startupProbe?.httpGet).toEqual({ path: '/health/live', port: 'http' });
      expect(container.readinessProbe?.httpGet).toEqual({ path: '/health/ready', port: 'http' });
    },
  );

  it.each(DEPLOYMENTS)(
    '$name: terminationGracePeriodSeconds > preStop + SHUTDOWN_DRAIN_MS + SHUTDOWN_TIMEOUT_MS',
    ({ name }) => {
      const container = appContainer(objects, name);
      const env = containerEnv(objects, container);
      const drainMs = envSchema.shape.SHUTDOWN_DRAIN_MS.parse(env.SHUTDOWN_DRAIN_MS);
      const timeoutMs = envSchema.shape.SHUTDOWN_TIMEOUT_MS.parse(env.SHUTDOWN_TIMEOUT_MS);
      const sleep = container.lifecycle?.preStop?.exec?.command;
      const preStopMs = sleep ? Number(sleep[1]) * 1000 : 0;
      expect(podSpec(objects, name).terminationGracePeriodSeconds! * 1000).toBeGreaterThan(
        preStopMs + drainMs + timeoutMs,
      );
    },
  );

  it('the http pods sleep SHUTDOWN_DRAIN_MS in preStop, so endpoints drop them before SIGTERM', () => {
    const container = appContainer(objects, HTTP);
    const env = containerEnv(objects, container);
    const sleep = container.lifecycle?.preStop?.exec?.command ?? [];
    expect(sleep[0]).toBe('sleep');
    expect(Number(sleep[1]) * 1000).toBe(
      envSchema.shape.SHUTDOWN_DRAIN_MS.parse(env.SHUTDOWN_DRAIN_MS),
    );
  });

  it("NODE_OPTIONS is the image's, and the memory limit holds its heap with room for the rest", () => {
    const imageOptions = /ENV NODE_OPTIONS="([^"]+)"/.exec(dockerfile)?.[1];
    expect(imageOptions).toBeDefined();
    for (const { owner, container } of allContainers(objects)) {
      const options = containerEnv(objects, container).NODE_OPTIONS;
      expect(options, `${owner}/${container.name}`).toBe(imageOptions);
      const oldSpace = Number(/--max-old-space-size=(\d+)/.exec(options)![1]);
      const semiSpace = Number(/--max-semi-space-size=(\d+)/.exec(options)![1]);
      // Old space + a young generation of 3 semi-spaces + ~128 MiB of code,
      // buffers and native memory (README "Benchmarks": RSS < 200 MB at 256).
      expect(
        mebibytes(container.resources?.limits?.memory),
        `${owner}/${container.name}`,
      ).toBeGreaterThanOrEqual(oldSpace + 3 * semiSpace + 128);
      expect(mebibytes(container.resources?.requests?.memory)).toBeLessThanOrEqual(
        mebibytes(container.resources?.limits?.memory),
      );
    }
  });

  it('every env name a container is given is one the app reads (src/config/env.schema.ts)', () => {
    for (const { owner, container } of allContainers(objects)) {
      for (const name of envNames(objects, container)) {
        expect(
          APP_ENV.has(name) || RUNTIME_ENV.has(name),
          `${owner}/${container.name}: ${name}`,
        ).toBe(true);
      }
    }
  });

  it('the migration Job runs the same command as compose, and new pods wait for it', () => {
    const job = find<IJob>(objects, 'Job', 'wx-mp-backend-migrate');
    const compose = readYaml(join(REPO, 'docker/compose.yml')) as {
      services: Record<string, { command?: string[] }>;
    };
    expect(job.spec!.template.spec!.containers[0].command).toEqual(
      compose.services.migrate.command,
    );
    for (const { name } of DEPLOYMENTS) {
      const wait = podSpec(objects, name).initContainers?.find(
        (c) => c.name === 'await-migrations',
      );
      expect(wait?.command?.slice(0, 2)).toEqual(['node', 'dist/src/cli/await-migrations.js']);
      expect(existsSync(join(REPO, wait!.command![1]))).toBe(true);
      expect(wait?.image).toBe(appContainer(objects, name).image);
      expect(wait?.envFrom).toEqual(appContainer(objects, name).envFrom);
    }
    expect(deployment(objects, HTTP).spec!.strategy?.rollingUpdate?.maxUnavailable).toBe(0);
  });

  it('*_FILE settings point into a Secret mounted in the same container', () => {
    for (const { owner, container, spec } of allContainers(objects)) {
      const env = containerEnv(objects, container);
      for (const [name, path] of Object.entries(env).filter(([n]) => /_FILES?$/.test(n))) {
        const mount = container.volumeMounts?.find((m) => path.startsWith(`${m.mountPath}/`));
        const volume = spec.volumes?.find((v) => v.name === mount?.name);
        expect(volume?.secret, `${owner}/${container.name}: ${name}=${path}`).toBeDefined();
      }
    }
  });

  it('the Service and the Ingress reach the http pods only; the Ingress routes only /api/v1 and /console', () => {
    const service = find<IService>(objects, 'Service', HTTP);
    const httpLabels = deployment(objects, HTTP).spec!.template.metadata!.labels;
    const workerLabels = deployment(objects, WORKER).spec!.template.metadata!.labels;
    expect(selects(service.spec!.selector, httpLabels)).toBe(true);
    for (const s of objects.filter((o) => o.kind === 'Service') as unknown as IService[]) {
      expect(selects(s.spec!.selector, workerLabels), `${s.metadata!.name} selects workers`).toBe(
        false,
      );
    }
    expect(service.spec!.ports![0].targetPort).toBe('http');
    const ingress = find<IIngress>(objects, 'Ingress', 'wx-mp-backend');
    const paths = ingress.spec!.rules!.flatMap((r) => r.http!.paths);
    expect(paths.length).toBeGreaterThan(0);
    expect(new Set(paths.map((p) => p.path))).toEqual(new Set(['/api/v1', '/console']));
    for (const p of paths) {
      // No rule may cover /metrics, /docs or /health/*: only the API prefix and the staff console.
      expect(['/api/v1', '/console']).toContain(p.path);
      expect(p.pathType).toBe('Prefix');
      expect(p.backend.service?.name).toBe(HTTP);
    }
  });

  it('NetworkPolicies cover every pod; workers and the Job take no connection but Prometheus', () => {
    const policies = objects.filter(
      (o) => o.kind === 'NetworkPolicy',
    ) as unknown as INetworkPolicy[];
    const pods = [
      ...DEPLOYMENTS.map(({ name }) => deployment(objects, name).spec!.template.metadata!.labels),
      find<IJob>(objects, 'Job', 'wx-mp-backend-migrate').spec!.template.metadata!.labels,
    ];
    for (const labels of pods) {
      expect(policies.some((p) => selects(p.spec?.podSelector?.matchLabels, labels))).toBe(true);
    }
    const workerPolicy = find<INetworkPolicy>(objects, 'NetworkPolicy', WORKER);
    const sources = workerPolicy.spec!.ingress!.flatMap((r) => r.from ?? []);
    expect(
      sources.map((s) => s.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name']),
    ).toEqual(['monitoring']);
  });

  it('the HPA scales the http pods on CPU; KEDA scales the workers; each has a PDB', () => {
    const hpas = objects.filter(
      (o) => o.kind === 'HorizontalPodAutoscaler',
    ) as unknown as IHorizontalPodAutoscaler[];
    expect(hpas.map((h) => h.spec!.scaleTargetRef.name)).toEqual([HTTP]);
    expect(hpas[0].spec!.minReplicas).toBeGreaterThanOrEqual(2);
    const scaled = find(objects, 'ScaledObject', WORKER) as {
      spec: { scaleTargetRef: { name: string } };
    };
    expect(scaled.spec.scaleTargetRef.name).toBe(WORKER);
    for (const { name } of DEPLOYMENTS) {
      const labels = deployment(objects, name).spec!.template.metadata!.labels;
      const pdb = find<IPodDisruptionBudget>(objects, 'PodDisruptionBudget', name);
      expect(selects(pdb.spec!.selector!.matchLabels, labels)).toBe(true);
    }
  });
});

describe('the schema check catches real mistakes', () => {
  const { objects } = builds[0];

  // Typed as what they break: a built Deployment, the same shape the schema checks.
  interface Broken {
    spec: {
      replicas?: unknown;
      selector?: unknown;
      template: { spec: { containers: IContainer[] } };
    };
  }
  const first = (d: Broken) => d.spec.template.spec.containers[0];
  it.each([
    ['replicas as a string', (d: Broken) => (d.spec.replicas = 'two')],
    ['a Deployment without its selector', (d: Broken) => delete d.spec.selector],
    [
      'a probe without a port',
      (d: Broken) => delete (first(d).readinessProbe!.httpGet as { port?: unknown }).port,
    ],
    ['a container without a name', (d: Broken) => delete (first(d) as { name?: string }).name],
    ['an env entry without a name', (d: Broken) => first(d).env!.push({ value: 'x' } as never)],
  ])('rejects %s', async (_label, breakIt) => {
    const broken = structuredClone(find(objects, 'Deployment', HTTP));
    breakIt(broken as unknown as Broken);
    await expect(validateObject(broken)).rejects.toThrow(/Deployment\/wx-mp-backend-http: /);
  });

  it('rejects a ScaledObject without a scale target, and an unknown kind', async () => {
    const scaled = structuredClone(find(objects, 'ScaledObject', WORKER));
    delete (scaled.spec as { scaleTargetRef?: unknown }).scaleTargetRef;
    await expect(validateObject(scaled)).rejects.toThrow(/ScaledObject/);
    await expect(
      validateObject({ apiVersion: 'apps/v1', kind: 'Deploymnet', metadata: { name: 'x' } }),
    ).rejects.toThrow(/no schema for apps\/v1 Deploymnet/);
  });
});

describe('deploy/k8s/overlays/example against the app itself', () => {
  const { objects } = builds.find((b) => b.dir === 'overlays/example')!;
  let db: TestDatabase;
  let worker: TestApp;
  let keys: string;
  const prefix = testRedisPrefix();

  beforeAll(async () => {
    db = await createTestDatabase();
    // Every optional consumer on (the subscribe-message queue needs a template).
    worker = await startTestApp({
      ...baseEnv(db.url, prefix),
      WORKER_MODE: 'worker',
      LOG_LEVEL: 'warn',
      WECHAT_SUBSCRIBE_TEMPLATE_ORDER_PAID: 'tpl-k8s-paid',
      WECHAT_SUBSCRIBE_FIELDS_ORDER_PAID: 'thing1=productName,amount2=total',
    });
    keys = mkdtempSync(join(tmpdir(), 'mp-k8s-keys-'));
  });
  afterAll(async () => {
    await worker?.close();
    await db?.drop();
    rmSync(keys, { recursive: true, force: true });
  });

  it.each(DEPLOYMENTS)(
    '$name: the env it is given passes loadConfig in its mode',
    ({ name, mode }) => {
      // The Secret's PEM files are placeholders: real keys at the mounted paths.
      const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const files: Record<string, string> = {
        'apiclient_key.pem': privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
        'pub_key.pem': publicKey.export({ type: 'spki', format: 'pem' }) as string,
      };
      const env = containerEnv(objects, appContainer(objects, name));
      for (const key of ['WECHAT_PAY_PRIVATE_KEY_FILE', 'WECHAT_PAY_PUBLIC_KEY_FILE']) {
        const file = env[key].split('/').pop()!;
        writeFileSync(join(keys, file), files[file]);
        env[key] = join(keys, file);
      }
      const config = loadConfig(env);
      expect(config.workerMode).toBe(mode);
      expect(config.payments.kind).toBe('wechat');
      expect(config.docs.enabled).toBe(false);
    },
  );

  it("KEDA watches the wait list of exactly the queues a worker runs, under BullMQ's key", async () => {
    const metrics = (await worker.http.get('/metrics')).text;
    const queues = [
      ...new Set([...metrics.matchAll(/^queue_jobs\{queue="([^"]+)"/gm)].map((m) => m[1])),
    ].sort();
    expect(queues.length).toBeGreaterThan(0);
    const env = containerEnv(objects, appContainer(objects, WORKER));
    const scaled = find(objects, 'ScaledObject', WORKER) as {
      spec: { triggers: { type: string; metadata: { listName: string } }[] };
    };
    expect(scaled.spec.triggers.every((t) => t.type === 'redis')).toBe(true);
    expect(scaled.spec.triggers.map((t) => t.metadata.listName).sort()).toEqual(
      queues.map((q) => `${env.REDIS_KEY_PREFIX}bull:${q}:wait`),
    );
    // The key shape is BullMQ's own (the app's prefix is REDIS_KEY_PREFIX + "bull"):
    // a job added with no worker lies in exactly that list.
    const url = new URL(TEST_REDIS_URL);
    const connection = {
      host: url.hostname,
      port: Number(url.port || 6379),
      db: Number(url.pathname.slice(1) || 0),
    };
    const queue = new Queue(queues[0], { connection, prefix: `${prefix}k8s:bull` });
    const redis = new Redis(TEST_REDIS_URL);
    try {
      await queue.add('probe', {});
      expect(await redis.llen(`${prefix}k8s:bull:${queues[0]}:wait`)).toBe(1);
    } finally {
      await queue.obliterate({ force: true });
      await queue.close();
      redis.disconnect();
    }
  });
});
