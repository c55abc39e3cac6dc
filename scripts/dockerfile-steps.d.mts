// Types of scripts/dockerfile-steps.mjs, for the e2e suite (the script stays
// plain JavaScript so it runs with no compile step).

export const DOCKERFILE: string;

export interface DockerInstruction {
  op: string;
  args: string;
}

/** The final stage, ready to start: its "/" folder, WORKDIR, ENV, CMD and HEALTHCHECK argv. */
export interface ImageDescription {
  root: string;
  workdir: string;
  env: Record<string, string>;
  cmd: string[];
  healthcheck: string[];
}

export function parseDockerfile(text: string): DockerInstruction[];
export function parseEnv(args: string): Record<string, string>;
export function contextFiles(): string[];
export function missingImports(root: string): string[];
export function runDockerfile(
  outDir: string,
  options?: { reuseNodeModules?: boolean; reuseBuild?: boolean; log?: (line: string) => void },
): ImageDescription;
