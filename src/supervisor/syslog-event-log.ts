// The supervisor's event log in the syslog (--errlog syslog[:FACILITY.LEVEL]): each event one message
// under the supervisor's pid. Its own trouble (no syslog socket) goes, once, to the supervisor's stderr.
import { INFO, SyslogSender, type SyslogTarget } from '../syslog';
import { EventLog } from './event-log';

export class SyslogEventLog extends EventLog {
  private readonly sender: SyslogSender;

  constructor(tag: string, private readonly target: SyslogTarget) {
    super(undefined);
    this.sender = new SyslogSender(tag, (message) => super.write(message));
  }

  override write(message: string): void {
    this.sender.send(this.target.facility, this.target.level ?? INFO, process.pid, message);
  }
}
