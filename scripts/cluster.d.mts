// Types of scripts/cluster.mjs, for the e2e suite (the module itself stays
// plain JavaScript so `npm run cluster:local` needs no compile step).

export const ROOT: string;
export const NGINX_TEMPLATE: string;

export function freePort(): Promise<number>;
export function failTimeoutSeconds(drainMs: number): number;
export function renderNginxConf(template: string, vars: Record<string, string>): string;
export function upstreamServers(ports: number[], drainMs: number): string;
export function ensureNginx(): string;
export function createDatabase(mysqlUrl: string, name: string): Promise<string>;
export function dropDatabase(mysqlUrl: string, name: string): Promise<void>;
export function migrate(env: Record<string, string>): void;

export interface ClusterReplica {
  readonly index: number;
  readonly port: number;
  readonly name: string;
  readonly url: string;
  readonly pid: number | undefined;
  readonly running: boolean;
}

export interface Cluster {
  url: string;
  nginxPort: number;
  workDir: string;
  accessLog: string;
  replicas: ClusterReplica[];
  /** WORKER_MODE=worker processes (not behind nginx), when `workers` was given. */
  workers: ClusterReplica[];
  restartReplica(i: number): Promise<void>;
  killReplica(i: number, signal?: NodeJS.Signals): Promise<void>;
  startReplica(i: number): Promise<void>;
  accessLogLines(): string[];
  stop(): Promise<void>;
}

export interface ClusterOptions {
  /** Environment of every app replica (PORT, HOST and TRUST_PROXY are set per replica). */
  env: Record<string, string>;
  replicas?: number;
  /** WORKER_MODE=worker processes beside the replicas, which then run WORKER_MODE=http [0]. */
  workers?: number;
  nginxPort?: number;
  /** nginx binary; installed with apt-get when omitted and missing. */
  nginx?: string;
  workDir?: string;
  keepWorkDir?: boolean;
  /** taskset CPU lists, per replica and for nginx (benchmarks). */
  cpus?: string[];
  nginxCpus?: string;
  /** Receives every chunk a replica writes to stdout/stderr. */
  output?: (replica: string, text: string) => void;
}

export function startCluster(options: ClusterOptions): Promise<Cluster>;
