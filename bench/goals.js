'use strict';
// daemonize's own targets, in one place: each row that has one is judged against it (lib/format.js's verdict).
// A relative goal ({ max }) judges the ratio to the row's baseline; an absolute one the median itself.
module.exports = {
  /** `daemonize --pidfile P -- sleep ...` against `node -e 0`. */
  start: { max: 1.10 },
  /** `--stop` of an idle `daemonize -r` daemon, until it and its child are gone, against `node -e 0`. */
  stop: { max: 1.15 },
  /** `--status` and `--running` of a running daemon, against `node -e 0`. */
  status: { max: 1.10 },
  /** daemonize() at the top of an app, against the app in the foreground plus `node -e 0`. */
  library: { max: 1.10 },
  /** A program writing its log through daemonize, against a shell redirect. */
  stdout: { max: 1.00 },
  respawn: { max: 5, unit: 'ms', absolute: true },
  uss: { max: 8, unit: 'MiB', absolute: true },
  cpu: { max: 1, unit: '%', absolute: true },
  /**
   * Interleaved pairs for a start-up ratio judged against its goal (start, the verbs, the library), and for
   * every other row. The median of 21 per-pair ratios moved three to four points between runs of one build
   * minutes apart on these machines, as much as the goals' margins: judged rows take twice the pairs.
   */
  pairs: { judged: 41, other: 21, quick: 5 },
};
