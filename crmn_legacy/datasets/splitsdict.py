"""DatasetSplits(splits, name, ...) -- the dict of splits a loader returns, with the dataset's metadata."""

__all__ = ["DatasetSplits"]


class DatasetSplits(dict):
    """DatasetSplits(splits, name, label_names=None, coarse=None, coarse_label_names=None, source=None, official=None)

    A plain ``dict`` ``{split: (X, y)}`` (``X`` uint8 (N, 3, 32, 32), ``y`` int64
    (N,)) so ``data["train"]`` works as the architecture contract says, plus
    attributes that are not splits.

    Attributes
    ----------
    name : str
        ``"cifar10"``, ``"cifar100"`` or ``"svhn"``.
    num_classes : int
        Number of classes of ``y``.
    label_names : list of str or None
        Class names (CIFAR ``label_names`` / ``fine_label_names``; SVHN digits).
    coarse : dict or None
        CIFAR-100 only: ``{split: y_coarse int64 (N,)}``, the 20 superclasses.
    coarse_label_names : list of str or None
        CIFAR-100 only.
    source : str or None
        The file or folder the data came from.
    official : bool or None
        True when every MD5 matched the official one, False when one differed
        (``verify="warn"``), None when not checked (``verify="off"``).
    """

    def __init__(self, splits, name, num_classes, label_names=None, coarse=None, coarse_label_names=None,
                 source=None, official=None):
        super().__init__(splits)
        self.name = name
        self.num_classes = num_classes
        self.label_names = label_names
        self.coarse = coarse
        self.coarse_label_names = coarse_label_names
        self.source = None if source is None else str(source)
        self.official = official

    def __repr__(self):
        sizes = ", ".join(f"{k}: {len(v[1])}" for k, v in self.items())
        return f"DatasetSplits({self.name}; {sizes}; official={self.official}; source={self.source})"
