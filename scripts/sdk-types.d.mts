// Types of scripts/sdk-types.mjs, for the e2e suite (the script stays plain
// JavaScript so `npm run sdk:types` runs on the compiled app without a compile step of its own).

export const ROOT: string;
export const API_TYPES_FILE: string;
export const DOCUMENT_ENV: Record<string, string>;
export function renderTypes(document: unknown): Promise<string>;
export function buildDocument(): Promise<unknown>;
