import type { Command } from 'commander';
import { approveCommand } from './commands/approve';
import { chatCommand } from './commands/chat';
import { modelsCommand } from './commands/models';
import { prepareDataCommand } from './commands/prepare-data';
import { rejectCommand } from './commands/reject';
import { runCommandDefinition } from './commands/run';
import { stageModelCommand } from './commands/stage-model';
import { watchCommand } from './commands/watch';
import type { CliEnvironment } from './context';

export type { CliEnvironment } from './context';

/**
 * Adds the operator commands (stage-model, prepare-data, run, watch, models, approve, reject, chat) to the CLI. Each
 * command reports errors as one `error:` line and records its exit code through `environment.setExitCode`.
 */
export function registerOperatorCommands(program: Command, environment: CliEnvironment): Command {
  for (const factory of [
    stageModelCommand,
    prepareDataCommand,
    runCommandDefinition,
    watchCommand,
    modelsCommand,
    approveCommand,
    rejectCommand,
    chatCommand,
  ]) {
    program.addCommand(factory(environment));
  }
  return program;
}
