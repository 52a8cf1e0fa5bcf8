// Walking a process's open descriptors without allocating, so the fork child may use it: close_range
// when the kernel allows it, else /proc/self/fd read with getdents64 into a stack buffer, else (no /proc)
// every number up to the soft open-files limit, capped.
#pragma once
#include <vector>

namespace daemonize {

// Calls visit(fd, context) for each open descriptor >= 3. Returns 1 when it walked /proc/self/fd,
// 0 when /proc is unavailable (nothing was visited), -1 with errno set when reading it failed.
// Async-signal-safe: open, getdents64 and close only, into a stack buffer.
int ForEachOpenFd(void (*visit)(int fd, void* context), void* context);

// Marks every descriptor >= 3 close-on-exec except `keep` (sorted), and makes `keep` inheritable.
// `use_close_range` false skips close_range(2) (see Plan::use_close_range). Async-signal-safe.
bool MarkInheritedCloseOnExec(const std::vector<int>& keep, bool use_close_range);

}  // namespace daemonize
