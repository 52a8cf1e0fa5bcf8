// systemd's readiness protocol (sd_notify(3)): datagrams of "VAR=value" lines to the AF_UNIX socket named
// by NOTIFY_SOCKET, a path or an abstract name ('@...'). Without NOTIFY_SOCKET every call is a no-op.
import { describe } from '../errors';
import { native } from '../native';

export type Notify = (message: string) => boolean;

/** A notifier for `env`'s NOTIFY_SOCKET; failures go to `warn`, never stop the app. */
export function notifier(env: NodeJS.ProcessEnv, warn: (line: string) => void): Notify {
  return (message) => {
    const socket = env.NOTIFY_SOCKET;
    // Only AF_UNIX addresses; systemd's "vsock:" addresses are for virtual machines.
    if (!socket || (socket[0] !== '/' && socket[0] !== '@')) return false;
    try {
      native.notify(socket, message);
      return true;
    } catch (error) {
      warn(`unable to notify ${socket}: ${describe(error)}`);
      return false;
    }
  };
}

/** RELOADING=1 carries the monotonic clock, as Type=notify-reload services must send it. */
export function reloadingMessage(): string {
  return `RELOADING=1\nMONOTONIC_USEC=${process.hrtime.bigint() / 1000n}`;
}
