{
  "targets": [
    {
      "target_name": "udp_batch",
      "sources": ["native/udp_batch.c", "native/uring.c", "native/pilot.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "conditions": [["OS!='linux'", {"type": "none"}]]
    }
  ]
}
