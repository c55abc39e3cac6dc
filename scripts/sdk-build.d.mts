// Types of scripts/sdk-build.mjs, for the e2e suite.

export function bundleSdk(): Promise<string>;
export function sizeOf(code: string): { raw: number; gzip: number };
