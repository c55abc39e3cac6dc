export { serveConsole } from './console-static.js';
