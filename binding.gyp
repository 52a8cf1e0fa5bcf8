{
  "targets": [
    {
      "target_name": "daemonize",
      "sources": [
        "native/addon.cc",
        "native/errors.cc",
        "native/spawn.cc",
        "native/child.cc",
        "native/fds.cc",
        "native/exec.cc",
        "native/bytes.cc",
        "native/flock.cc",
        "native/users.cc",
        "native/process.cc",
        "native/library.cc",
        "native/notify.cc",
        "native/readable-watch.cc",
        "native/sockets.cc",
        "native/pty.cc",
        "native/proc-table.cc",
        "native/lock-holder.cc",
        "native/file-copy.cc",
        "native/file-status.cc",
        "native/file-calls.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS", "_GNU_SOURCE"],
      "cflags": ["-Wall", "-Wextra", "-Wno-unused-parameter"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      # Every symbol bound at load: the fork-to-exec children, which share the launcher's memory until
      # their exec, then never run the lazy binder (its shared state) beside Node's threads.
      "ldflags": ["-Wl,-z,now"],
      "conditions": [
        ["OS=='win'", { "sources!": ["native/spawn.cc", "native/child.cc", "native/fds.cc", "native/exec.cc", "native/flock.cc", "native/users.cc", "native/process.cc", "native/library.cc", "native/notify.cc", "native/readable-watch.cc", "native/sockets.cc", "native/pty.cc", "native/proc-table.cc", "native/lock-holder.cc", "native/file-copy.cc", "native/file-status.cc", "native/file-calls.cc"] }]
      ]
    }
  ]
}
