"""The demo and the report subcommands: examples, bench, sizes, quant-error, tables."""
from .common import add_port, command, heap_bytes


def add_demo(sub):
    p = command(sub, "demo", "train on a (virtual) board, check the mirror bit for bit",
                "Start the virtual board (or use --port), deploy the library as .mpy, train a GRU on the board\n"
                "(examples/demo_train.py via `mpremote run`), pull its weights back with `mpremote cp`, and\n"
                "check the NumPy mirror reproduces the board's outputs bit for bit. `make demo` runs this.")
    add_port(p)
    p.add_argument("--heap", type=heap_bytes, metavar="BYTES",
                   help="virtual board heap (default 131072; qemu: the firmware's, 65536 as on a stock board)")
    p.add_argument("--runtime", choices=("wasm", "qemu"), default="wasm",
                   help="without --port: the virtual board (wasm: the WebAssembly build under Node.js; qemu: the "
                        "Cortex-M3 firmware under qemu-system-arm), default %(default)s")
    p.set_defaults(run=demo)


def add(sub):
    p = command(sub, "examples", "run the examples as board programs (unix port, VM)",
                "Run each example as the plain program a board runs (lib as .mpy): on the MicroPython unix\n"
                "port under its hard heap cap (real GC, viper), then once on the WebAssembly VM (its heap\n"
                "grows: the high-water mark and whether it stayed within the cap are reported).")
    p.add_argument("names", nargs="*", metavar="EXAMPLE",
                   help="an example's name (gru_xor, lstm_sine, digits) or path (default: all of them)")
    p.add_argument("--heap", type=heap_bytes, metavar="BYTES", help="heap cap (default: the example's)")
    p.add_argument("--source", action="store_true", help="load lib as .py, not .mpy")
    p.add_argument("--min-heap", action="store_true", help="also find the smallest cap it runs under (unix port)")
    only = p.add_mutually_exclusive_group()
    only.add_argument("--unix-only", action="store_true", help="only the unix port")
    only.add_argument("--vm-only", action="store_true", help="only the WebAssembly VM")
    p.set_defaults(run=examples)

    p = command(sub, "bench", "speed per runtime: viper vs bytecode kernels, float GRU, bare MAC loops",
                "Microseconds per inference step and per training update on each MicroPython runtime (the unix\n"
                "port with viper and bytecode kernels, the WebAssembly VM with bytecode), beside the naive float\n"
                "GRU of the same size and bare multiply-accumulate loops over the same MACs: read the ratios.")
    p.add_argument("--runtime", choices=["all", "both", "unix", "wasm", "qemu", "qemu-m0", "qemu-m7", "mirror"],
                   default="all",
                   help="which runtime: unix, wasm, both of them, qemu (the Cortex-M3 under QEMU: instruction "
                        "counts), qemu-m0, qemu-m7 (the Cortex-M0 and M7: instruction counts per kernel set, "
                        "not in all), mirror (the host mirror against PyTorch), or all (default)")
    p.set_defaults(run=bench)

    p = command(sub, "sizes", "parameters, heap and .mpy bytes of models on MicroPython",
                "The size report; with --model, the heap a Trainer will take on a board (32- and 64-bit),\n"
                "the figure the board's Trainer checks before it allocates (reports/budget.py).")
    p.add_argument("--board", action="store_true",
                   help="the memory tables on the Cortex-M3 firmware under QEMU (lib as .mpy, ROMFS, frozen) and "
                        "the unix port: imports, inference, training, the largest models that train in 64 KB")
    p.add_argument("--model", metavar="DESC", help="a model description (JSON): print its Trainer's heap estimate")
    p.add_argument("--optimizer", choices=["sgd", "momentum", "rmsprop", "adam"], default="adam",
                   help="with --model (default adam)")
    p.add_argument("--max-steps", type=int, default=32, help="with --model: the longest sequence (default 32)")
    p.add_argument("--window", type=int, help="with --model: truncated BPTT window (the cache then holds this many)")
    p.set_defaults(run=sizes)

    p = command(sub, "programs", "three natural training programs on a stock 64 KB board, each kernel set",
                "examples/readme_train.py (the README's training example), dataset_train.py (a dataset object)\n"
                "and classify_train.py (everything imported at the top, a recordings file, weights saved) on the\n"
                "Cortex-M3 board under QEMU, library as .mpy in /lib as tinyrnn deploy leaves it, with the c, viper\n"
                "and bytecode kernels: in its 64 KB heap and in a heap 8 KB smaller (reports/programs.py).")
    p.set_defaults(run=programs)

    p = command(sub, "quant-error", "Q8.8 vs float64 outputs on the same weights, in LSB")
    p.add_argument("--plot", metavar="PNG", help="also write the error histogram there")
    p.set_defaults(run=quant_error)

    p = command(sub, "tables", "check (or --write) lib/tinyrnn's activation tables",
                "Generate the activation tables of lib/tinyrnn/_tables.py and _tables_train.py from float math\n"
                "(docs/arithmetic.md); without --write, check lib/ has exactly them; print each table's error.")
    p.add_argument("--write", action="store_true", help="rewrite lib/tinyrnn/_tables.py and _tables_train.py")
    p.set_defaults(run=tables)


def demo(a):
    from ..reports import demo
    return demo.main(a.port, a.heap, a.runtime)


def examples(a):
    from ..reports import run_example
    return run_example.main(a.names, a.heap, a.source, vm=not a.unix_only, unix=not a.vm_only,
                            find_min=a.min_heap)


def bench(a):
    from ..reports import bench
    return bench.main(a.runtime)


def sizes(a):
    if a.board:
        from ..reports import memory
        memory.report()
        print()
        memory.figures()
        return 0
    if a.model is not None:
        from ..reports import budget
        try:
            budget.report(a.model, a.optimizer, a.max_steps, a.window)
        except ValueError as e:          # a bad description or option: one clear line
            raise SystemExit("tinyrnn sizes: --model: %s" % e)
        return 0
    from ..reports import sizes
    return sizes.main()


def programs(a):
    from ..reports import programs
    programs.main()
    return 0


def quant_error(a):
    from ..reports import quant_error
    return quant_error.main(a.plot)


def tables(a):
    from ..reports import gen_tables
    return gen_tables.main(a.write)
