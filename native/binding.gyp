{
  "targets": [
    {
      "target_name": "tspod_native",
      "sources": ["src/addon.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra"]
    },
    {
      "target_name": "tspod-launch",
      "type": "executable",
      "sources": [
        "src/launch_main.c",
        "src/json.c",
        "src/rundir.c",
        "src/userns_join.c",
        "src/userns_create.c",
        "src/userns_nested.c",
        "src/util.c",
        "src/container.c",
        "src/mounts.c",
        "src/monitor.c",
        "src/exec.c",
        "src/portfwd.c",
        "src/netpool.c"
      ],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-O2"]
    },
    {
      "target_name": "tspod-init",
      "type": "executable",
      "sources": ["src/init.c"],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-O2"],
      "ldflags": ["-static"]
    }
  ]
}
