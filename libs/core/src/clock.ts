import { Injectable } from '@nestjs/common';

/** The one source of "now". Tests replace it (see test/support) to move time without sleeping. */
@Injectable()
export class Clock {
  now(): Date {
    return new Date();
  }
  nowMs(): number {
    return Date.now();
  }
}

/** A clock whose time only moves when told to; for tests. */
export class ManualClock extends Clock {
  constructor(private current = Date.now()) {
    super();
  }
  override now(): Date {
    return new Date(this.current);
  }
  override nowMs(): number {
    return this.current;
  }
  advance(ms: number): void {
    this.current += ms;
  }
  set(ms: number): void {
    this.current = ms;
  }
}
