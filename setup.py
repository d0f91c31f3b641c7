"""Install crmn_legacy: ``pip install -e .`` (extras: ``[jax]``, ``[cluster]``, ``[plot]``, ``[dev]``)."""

from setuptools import find_packages, setup

setup(
    name="crmn_legacy",
    version="0.1.0",
    description="Convolutional Residual Memory Networks (Moniz & Pal, 2016) on PyTensor, Lasagne-style",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    packages=find_packages(include=["crmn_legacy", "crmn_legacy.*"]),
    package_data={"crmn_legacy": ["ops/c/src/*.c", "ops/c/src/*.h"]},
    python_requires=">=3.11,<3.15",
    install_requires=[
        "pytensor>=3.0,<4",
        "numpy>=1.26,<3",
        "scipy>=1.11,<2",
        "h5py>=3.9,<4",
        # OpenBLAS with a header and scipy_-prefixed symbols, linked by our C code.
        "scipy-openblas32>=0.3.27",
    ],
    extras_require={
        # --backend jax; jax brings a CPU jaxlib, a GPU adds a CUDA one (pip install "jax[cuda12]")
        "jax": ["jax>=0.4.30"],
        # repro scripts' --scheduler: rows x seeds as Dask tasks (LocalCluster or a running scheduler)
        "cluster": ["dask[distributed]>=2023.1"],
        "plot": ["matplotlib>=3.7"],
        # the test suite runs the JAX and Dask paths too
        "dev": ["pytest>=7.4", "jax>=0.4.30", "dask[distributed]>=2023.1"],
    },
    entry_points={"console_scripts": ["crmn=crmn_legacy.__main__:main"]},
)
