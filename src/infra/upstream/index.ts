export {
  createUpstreamHttp,
  upstreamBreaker,
  type UpstreamHttp,
  type UpstreamHttpOptions,
} from './upstream-http.js';
