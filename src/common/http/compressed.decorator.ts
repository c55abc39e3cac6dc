import { routeConfig } from './route-config.js';

/** Route config flag read by the app factory: this route's responses may be compressed. */
export const COMPRESSED_ROUTE = 'compressResponse';

/**
 * Opts a route into response compression (gzip/deflate above a size
 * threshold). Only routes whose answers can be large pay for it: for a small
 * JSON answer the compression hook costs more than the bytes it could save.
 */
export const Compressed = (): MethodDecorator => routeConfig({ [COMPRESSED_ROUTE]: true });
