/**
 * Whether this replica has begun shutting down. Readiness answers 503 from the
 * moment it flips, so the proxy stops sending new traffic during the drain.
 * Once the server closes, requests still arriving on open keep-alive
 * connections are refused (503 in the envelope) instead of started.
 */
export class ShutdownState {
  private draining = false;
  private closing = false;

  get isDraining(): boolean {
    return this.draining;
  }

  get isClosing(): boolean {
    return this.closing;
  }

  beginDrain(): void {
    this.draining = true;
  }

  beginClose(): void {
    this.draining = true;
    this.closing = true;
  }
}
