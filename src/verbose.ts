// -v, --verbose: the launcher says each step it takes, one line each on stderr
// ("daemonize: pidfile /run/web.pid locked"). Off unless the command line turns it on.
import { writeTo } from './std-streams';

let enabled = false;

export function setVerbose(on: boolean): void {
  enabled = on;
}

export function verbose(step: string): void {
  if (enabled) writeTo(2, `daemonize: ${step}\n`);
}
