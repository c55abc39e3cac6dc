/**
 * Whether this replica has begun shutting down. Readiness answers 503 from the
 * moment it flips, so the proxy stops sending new traffic during the drain.
 */
export class ShutdownState {
  private draining = false;

  get isDraining(): boolean {
    return this.draining;
  }

  beginDrain(): void {
    this.draining = true;
  }
}
