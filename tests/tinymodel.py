"""Build a tiny BERT-shaped ONNX text model that fastembed can load from a folder.

The graph has the inputs of a BERT encoder (``input_ids``, ``attention_mask``,
``token_type_ids``, int64 ``[batch, seq]``) and one output,
``last_hidden_state`` ``[batch, seq, dim]``: each token's row of a fixed,
seeded word-embedding table plus the row of a token-type table. There is no
attention, so every output can be recomputed with numpy from the tables the
builder returns. The tokenizer is a lower-casing, whitespace-splitting
WordLevel model whose post-processor wraps each text in ``[CLS] ... [SEP]``,
saved with the config files fastembed's ``load_tokenizer`` reads.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["SPECIALS", "WORDS", "TinyModel", "build_tiny_model"]

SPECIALS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]")
WORDS = ("red", "blue", "green", "shirt", "shoe", "hat", "cotton", "wool", "camisa", "azul", "vermelha", "sapato")
MAX_LENGTH = 32


@dataclass(frozen=True)
class TinyModel:
    """A built model folder and the ground truth needed to recompute its outputs."""

    path: Path
    vocab: dict[str, int]
    word_table: np.ndarray
    type_table: np.ndarray
    max_length: int = MAX_LENGTH

    @property
    def dim(self) -> int:
        return int(self.word_table.shape[1])


def build_tiny_model(
    folder: str | Path, *, dim: int = 8, seed: int = 1234, model_file: str = "model.onnx"
) -> TinyModel:
    """Write ``model.onnx`` and the tokenizer files into ``folder`` (created if needed)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    vocab = {token: index for index, token in enumerate((*SPECIALS, *WORDS))}
    rng = np.random.default_rng(seed)
    word_table = rng.standard_normal((len(vocab), dim)).astype(np.float32)
    type_table = rng.standard_normal((2, dim)).astype(np.float32)

    batch_seq = ["batch", "seq"]
    graph = helper.make_graph(
        nodes=[
            helper.make_node("Gather", ["word_table", "input_ids"], ["words"]),
            helper.make_node("Gather", ["type_table", "token_type_ids"], ["types"]),
            helper.make_node("Add", ["words", "types"], ["last_hidden_state"]),
        ],
        name="tiny_bert",
        inputs=[
            helper.make_tensor_value_info(name, TensorProto.INT64, batch_seq)
            for name in ("input_ids", "attention_mask", "token_type_ids")
        ],
        outputs=[helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, [*batch_seq, dim])],
        initializer=[
            numpy_helper.from_array(word_table, name="word_table"),
            numpy_helper.from_array(type_table, name="type_table"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="odoo-search-tests")
    model.ir_version = 8  # readable by every onnxruntime from 1.10 on
    onnx.checker.check_model(model)
    (folder / model_file).parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(folder / model_file))

    tokenizer = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.Lowercase()
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])],
    )
    tokenizer.add_special_tokens(list(SPECIALS))
    tokenizer.save(str(folder / "tokenizer.json"))

    specials = {"pad_token": "[PAD]", "unk_token": "[UNK]", "cls_token": "[CLS]", "sep_token": "[SEP]"}
    _write_json(folder / "special_tokens_map.json", specials)
    _write_json(folder / "tokenizer_config.json", {**specials, "model_max_length": MAX_LENGTH})
    _write_json(
        folder / "config.json",
        {"model_type": "bert", "hidden_size": dim, "vocab_size": len(vocab), "pad_token_id": vocab["[PAD]"]},
    )
    return TinyModel(path=folder, vocab=vocab, word_table=word_table, type_table=type_table)


def _write_json(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
