import { matchesEventPattern } from './events';
import type { LocalRunResult } from './state-machine';

/**
 * The default event bus of the local run: an event put on it starts every state machine that a synthesized
 * EventBridge rule with a matching pattern targets, as EventBridge does; the executions run in the background and
 * `drain` waits for them (and for those their own events start).
 */

type Obj = Record<string, unknown>;

/** An EventBridge rule of the synthesized templates, intrinsics resolved. */
export interface LocalRule {
  readonly logicalId: string;
  readonly pattern: Obj;
  /** Logical ids of the state machines it starts. */
  readonly targets: readonly string[];
}

export interface StartedExecution {
  readonly rule: string;
  readonly machine: string;
  readonly event: Obj;
  readonly result: Promise<LocalRunResult>;
}

export class LocalEventBus {
  private pending: StartedExecution[] = [];

  constructor(
    private readonly rules: readonly LocalRule[],
    private readonly start: (machine: string, event: Obj) => Promise<LocalRunResult>,
  ) {}

  /** Starts the targets of every matching rule; returns what it started (nothing: no rule matched). */
  public put(event: Obj): StartedExecution[] {
    const started: StartedExecution[] = [];
    for (const rule of this.rules) {
      if (!matchesEventPattern(rule.pattern, event, `${rule.logicalId}.EventPattern`)) continue;
      for (const machine of rule.targets) {
        started.push({ rule: rule.logicalId, machine, event, result: this.start(machine, event) });
      }
    }
    this.pending.push(...started);
    return started;
  }

  /** Waits until no started execution is running; returns those that ended, in the order they started. */
  public async drain(): Promise<{ execution: StartedExecution; result: LocalRunResult }[]> {
    const ended: { execution: StartedExecution; result: LocalRunResult }[] = [];
    while (this.pending.length > 0) {
      const batch = this.pending;
      this.pending = [];
      for (const execution of batch) ended.push({ execution, result: await execution.result });
    }
    return ended;
  }
}
