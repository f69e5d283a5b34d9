/**
 * Well-known locations of the local stack. The project root is derived from this file's location
 * (src/stack/paths.ts → two levels up), so it does not depend on the caller's working directory.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Absolute path of the project root (no trailing separator). */
export const projectRoot: string = path.resolve(fileURLToPath(new URL('../..', import.meta.url)));

/** Git-ignored folder where locally built Go tools (temporal, ferretdb) are installed. */
export const toolsBin: string = path.join(projectRoot, '.tools', 'bin');

/** Local state (server data, logs, pid files): `$CONCLAVE_HOME` or `<project>/.conclave`. */
export const stateDir: string = process.env.CONCLAVE_HOME
  ? path.resolve(process.env.CONCLAVE_HOME)
  : path.join(projectRoot, '.conclave');
