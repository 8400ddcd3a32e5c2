{
  "targets": [
    {
      "target_name": "uring",
      "sources": ["native/uring.c", "native/pins.cc"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "cflags_c": ["-std=gnu11"],
      "cflags_cc": ["-fno-exceptions"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
