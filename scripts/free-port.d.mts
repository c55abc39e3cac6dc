/** A TCP port on 127.0.0.1 that is free now, outside the ephemeral range. */
export function freePort(): Promise<number>;
