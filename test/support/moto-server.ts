import { LOCAL_AWS_ENV, type LocalMoto, startLocalMoto } from '../../lib/local/moto';
import { venvTool } from './python-tools';

/** A moto server on 127.0.0.1 (real HTTP), started by a test and stopped in `afterAll`. */
export type MotoServer = LocalMoto;

export interface MotoServerOptions {
  /**
   * A Python script (run with the venv's python, moto_server's arguments) that adjusts moto and then runs
   * its server, e.g. lib/local/moto_server_current_types.py.
   * @default - the plain `moto_server`
   */
  readonly serverScript?: string;
}

/**
 * Starts `moto_server` from the project's venv on a free loopback port. Also sets the dummy credentials
 * and region the AWS SDK needs, so no real account is ever reached.
 */
export async function startMotoServer(options: MotoServerOptions = {}): Promise<MotoServer> {
  const server = options.serverScript
    ? await startLocalMoto(venvTool('python'), [options.serverScript])
    : await startLocalMoto(venvTool('moto_server'));
  Object.assign(process.env, LOCAL_AWS_ENV);
  return server;
}
