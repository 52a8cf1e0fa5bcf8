// Exec in place (`daemonize -f`): the plan is applied to this very process, Node, before execve. When
// execve (or any step before it) fails, Node must carry on exactly as it was, to report the failure
// and exit: the same descriptors open with the same close-on-exec flags, the same stdio, directory and
// umask. Ids cannot come back once dropped; that is the point of dropping them.
#pragma once
#include <sys/types.h>

#include <utility>
#include <vector>

#include "plan.h"

namespace daemonize {

struct InPlaceState {
  int stdio_flags[3] = {-1, -1, -1};  // F_GETFD of 0, 1, 2; -1: it was closed
  int stdio_copies[3] = {-1, -1, -1};
  std::vector<std::pair<int, int>> fd_flags;  // every other open descriptor, with its F_GETFD flags
  mode_t umask = 0;
  int cwd = -1;  // the directory to return to, when the plan changes it
};

void SaveInPlaceState(const Plan& plan, InPlaceState* state);
void RestoreInPlaceState(const Plan& plan, InPlaceState* state);

}  // namespace daemonize
