"""python repro/table3.py [--budget cpu] [--only ROW] ...

Table 3 of the paper: CIFAR-10 accuracies.  Our rows: CRMN of 56 layers and
48 maps (n=9, k=3) and of "28 layers; 160 maps" (WRN-28-10 reading: n=4,
k=10; batch 50, schedule [0.1, 0.01, 0.005, 0.001]).  The other rows are the
literature's figures the paper cites.
"""

import sys

from _accuracy import OurRow, run_accuracy_table

LITERATURE = [
    (92.40, "Highway Network [25]"),
    (93.45, "ELU Network [4] (18 layers)"),
    (93.03, "ResNet (56 layers) [11]"),
    (93.57, "ResNet (110 layers) [11]"),
    (94.16, "LSUV Initialization Method [18]"),
    (95.59, "All Convolutional Network [23]"),
]
OURS = [
    OurRow("crmn-56-k3", "Our CRMN (56 layers; 48 fm)", "crmn", 56, 3, "he", 94.60, "", 1),
    OurRow("crmn-28-k10", "Our CRMN (28 layers; 160 fm)", "crmn", 28, 10, "wrn", 95.33, "", 1),
]


def main(argv=None):
    """main(argv=None) -> int"""
    return run_accuracy_table("table3", "Table 3: CIFAR-10 accuracies", "cifar10", 10, OURS, LITERATURE, argv,
                              notes=["The CIFAR-10 copy here is real CIFAR-10 rebuilt from public copies "
                                     "(exact labels, most images JPEG q75): expect accuracy a little below."])


if __name__ == "__main__":
    sys.exit(main())
