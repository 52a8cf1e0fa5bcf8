{
  "targets": [
    {
      # The code that runs between a fork or clone and the exec, in children that share the launcher's
      # memory until their exec (spawn.cc's CLONE_VM children): compiled without the PLT, every function it
      # calls is bound when the addon loads, so a child never runs the lazy binder (its shared state) beside
      # Node's threads. The rest of the addon binds lazily: binding all of it at load (-z now) looked up
      # 277 symbols in Node's table, most for calls a command never makes; 98 now (its dlopen 1.0 -> 0.77 ms).
      # test/native-fork.test.js checks that nothing these children run calls through the PLT. Checked on
      # x86-64 only (where -fno-plt is known to take effect): elsewhere the whole addon is bound at load.
      "target_name": "fork_to_exec",
      "type": "static_library",
      "sources": ["native/spawn.cc", "native/child.cc", "native/exec.cc", "native/fds.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS", "_GNU_SOURCE"],
      "cflags": ["-Wall", "-Wextra", "-Wno-unused-parameter", "-fvisibility=hidden", "-fPIC", "-fno-plt"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "conditions": [
        ["OS=='win'", { "sources!": ["native/spawn.cc", "native/child.cc", "native/exec.cc", "native/fds.cc"] }]
      ]
    },
    {
      "target_name": "daemonize",
      "sources": [
        "native/addon.cc",
        "native/errors.cc",
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
      "cflags": ["-Wall", "-Wextra", "-Wno-unused-parameter", "-fvisibility=hidden"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "dependencies": ["fork_to_exec"],
      "conditions": [
        ["target_arch!='x64'", { "ldflags": ["-Wl,-z,now"] }],
        ["OS=='win'", { "sources!": ["native/flock.cc", "native/users.cc", "native/process.cc", "native/library.cc", "native/notify.cc", "native/readable-watch.cc", "native/sockets.cc", "native/pty.cc", "native/proc-table.cc", "native/lock-holder.cc", "native/file-copy.cc", "native/file-status.cc", "native/file-calls.cc"] }]
      ]
    }
  ]
}
