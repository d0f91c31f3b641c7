"""The restricted unpickler admits numpy arrays and nothing that can run code."""

import os
import pickle

import numpy as np
import pytest

from crmn_legacy.datasets.errors import DatasetError
from crmn_legacy.datasets.safe_pickle import load_pickle
from official_formats import image_data, pickle_bytes


class _RunsShell:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


class _Evaluates:
    def __reduce__(self):
        return (eval, ("1 + 1",))


@pytest.mark.parametrize("protocol", [2, pickle.HIGHEST_PROTOCOL])
def test_os_system_pickle_is_refused_and_not_run(tmp_path, protocol):
    marker = tmp_path / "pwned"
    evil = tmp_path / "data_batch_1"
    evil.write_bytes(pickle.dumps({b"data": _RunsShell(marker)}, protocol=protocol))
    with pytest.raises(DatasetError) as info:
        load_pickle(evil)
    assert not marker.exists()
    msg = str(info.value)
    assert str(evil) in msg and "system" in msg and "forbidden" in msg


def test_builtins_eval_is_refused():
    with pytest.raises(DatasetError, match="eval. is forbidden"):
        load_pickle(pickle.dumps(_Evaluates(), protocol=2), name="evil.pkl")


def test_codecs_encode_is_limited_to_latin1():
    payload = pickle.dumps(b"x", protocol=2)
    assert b"_codecs" in payload and b"latin1" in payload
    assert load_pickle(payload) == b"x"
    evil = payload.replace(b"latin1", b"rot_13")
    with pytest.raises(DatasetError, match="not allowed"):
        load_pickle(evil, name="rot.pkl")


def test_python2_style_batch_round_trips():
    data = image_data(3)
    obj = load_pickle(pickle_bytes({b"data": data, b"labels": [1, 2, 3], b"batch_label": b"x"}, py2=True))
    assert set(obj) == {b"data", b"labels", b"batch_label"}
    np.testing.assert_array_equal(obj[b"data"], data)
    assert obj[b"data"].dtype == np.uint8 and obj[b"labels"] == [1, 2, 3]


def test_python3_protocol2_batch_round_trips():
    data = image_data(2)
    obj = load_pickle(pickle_bytes({b"data": data}, py2=False))
    np.testing.assert_array_equal(obj[b"data"], data)


def test_truncated_and_garbage_and_missing(tmp_path):
    good = pickle_bytes({b"data": image_data(2)})
    cut = tmp_path / "cut"
    cut.write_bytes(good[: len(good) // 2])
    with pytest.raises(DatasetError, match=f"{cut}.*truncated"):
        load_pickle(cut)
    junk = tmp_path / "junk"
    junk.write_bytes(b"this is not a pickle at all")
    with pytest.raises(DatasetError, match=f"{junk}.*corrupt"):
        load_pickle(junk)
    with pytest.raises(DatasetError, match="nowhere.*not found"):
        load_pickle(tmp_path / "nowhere")
