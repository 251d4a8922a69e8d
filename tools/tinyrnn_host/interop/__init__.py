"""Weights files on the host (weights_io), PyTorch state_dicts to and from them
(torch_import, needs torch), and float64 training on the host (host_train)."""
