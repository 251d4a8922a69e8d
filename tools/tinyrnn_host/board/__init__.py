"""The board side: MicroPython runners (mpvm: the WebAssembly VM under a heap cap; vboard:
a virtual board on a pty for mpremote), deploy with mpremote, device tests, the mip manifest."""
