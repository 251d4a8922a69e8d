"""The pictures the examples write (PNG, matplotlib with the Agg backend: no display needed).

    plots.training_curves("bm_train.png", "BasicMotions on the board", {"board": losses, "mirror": losses})
    plots.confusion("jv_confusion.png", "JapaneseVowels, Q8.8 on the board", matrix, classes)
    plots.forecast("sine.png", truth, {"float64": yf, "Q8.8": yq})
    plots.histogram("quant_error.png", "title", {"gru": {"hidden 16": errors_lsb, ...}, ...})
    plots.bars("loso.png", "title", ["1", "2", "mean"], {"before": [...], "after": [...]})

Each function writes one file and returns its path. matplotlib is a host-only dependency
(requirements-dev.txt; the `plots` extra of the host package): imported here, when a
picture is drawn, never by the board library.
"""
import pathlib


def _plt():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _save(fig, path):
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    # no timestamp or version in the file: the same figures give the same bytes
    fig.savefig(path, dpi=100, metadata={"Software": None})
    _plt().close(fig)
    return path


def training_curves(path, title, curves, ylabel="training loss", xlabel="epoch", logy=True):
    """curves: {name: [value per epoch]}; later curves are drawn dashed over earlier ones
    (board and mirror that agree bit for bit lie on top of each other)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 3.6))
    styles = [dict(lw=3, alpha=0.5), dict(lw=1.2, ls="--"), dict(lw=1.2, ls=":")]
    for i, (name, ys) in enumerate(curves.items()):
        ax.plot(range(1, len(ys) + 1), ys, label=name, **styles[i % len(styles)])
    if logy:
        ax.set_yscale("log")
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    return _save(fig, path)


def confusion(path, title, matrix, classes):
    """A confusion matrix (rows: true class, columns: predicted), counts in the cells."""
    plt = _plt()
    k = len(classes)
    fig, ax = plt.subplots(figsize=(1.2 + 0.55 * k + 1.5, 1.0 + 0.55 * k + 0.8))
    ax.imshow(matrix, cmap="Blues")
    for i in range(k):
        for j in range(k):
            if matrix[i][j]:
                ax.text(j, i, str(matrix[i][j]), ha="center", va="center",
                        color="white" if matrix[i][j] > max(map(max, matrix)) / 2 else "black", fontsize=9)
    ax.set_xticks(range(k), classes, rotation=45 if max(len(c) for c in classes) > 3 else 0, ha="right")
    ax.set_yticks(range(k), classes)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title, fontsize=10)
    return _save(fig, path)


def forecast(path, title, truth, forecasts, warmup=0):
    """One sequence: the truth and each model's next-step forecast, step by step."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 3.4))
    ax.plot(truth, color="black", lw=2.5, alpha=0.35, label="truth")
    for (name, ys), st in zip(forecasts.items(), ("-", "--", ":")):
        ax.plot(ys, ls=st, lw=1.3, label=name)
    if warmup:
        ax.axvspan(0, warmup, color="grey", alpha=0.12, label="warm-up (not scored)")
    ax.set_title(title)
    ax.set_xlabel("step")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return _save(fig, path)


def histogram(path, title, panels, xlabel="|Q8.8 - float64| (LSB)"):
    """panels: {panel title: {name: array of errors}}; one panel each, step histograms, log counts."""
    import numpy as np
    plt = _plt()
    fig, axes = plt.subplots(1, len(panels), figsize=(3.2 * len(panels) + 0.6, 3.4), sharey=True, squeeze=False)
    top = max(float(np.max(e)) for group in panels.values() for e in group.values())
    bins = np.linspace(0, max(top, 1e-9), 33)
    for ax, (name, group) in zip(axes[0], panels.items()):
        for label, e in group.items():
            ax.hist(np.ravel(e), bins=bins, histtype="step", lw=1.4, label=label)
        ax.set_yscale("log")
        ax.set_title(name, fontsize=10)
        ax.set_xlabel(xlabel)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    axes[0][0].set_ylabel("outputs")
    fig.suptitle(title, fontsize=11)
    return _save(fig, path)


def bars(path, title, groups, series, ylabel="accuracy", xlabel=None, ylim=None):
    """Grouped bars: groups (the x labels), series {name: [value per group]}, one colour each;
    the legend in a row below the axes, clear of the bars."""
    import numpy as np
    plt = _plt()
    fig, ax = plt.subplots(figsize=(1.0 + 0.75 * len(groups), 4.0))
    x = np.arange(len(groups))
    width = 0.8 / len(series)
    for i, (name, ys) in enumerate(series.items()):
        ax.bar(x + (i - (len(series) - 1) / 2) * width, ys, width, label=name)
    ax.set_xticks(x, groups)
    if ylim is not None:
        ax.set_ylim(*ylim)
    ax.set_ylabel(ylabel)
    if xlabel:
        ax.set_xlabel(xlabel)
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3, axis="y")
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.16 if xlabel else -0.08), ncol=len(series))
    return _save(fig, path)
