import { Injectable } from '@nestjs/common';

/** Set once shutdown begins: readiness turns 503 so that load balancers stop sending traffic. */
@Injectable()
export class ShutdownState {
  private shuttingDown = false;

  begin(): void {
    this.shuttingDown = true;
  }

  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }
}
