"""Write tests/data/sequence_errors.json: the exception class PyTorch raises for each
bad-input case of sequence_error_cases.py (recurrent layers and their cells,
pack_padded_sequence, attention, the Transformer encoder, RMSNorm, LayerNorm and
GroupNorm), with the first line of its message; null where PyTorch answers. The
oracle of tests/test_sequence_errors.py, which then needs no torch.

Regenerate (needs torch 2.13, CPU) from the repository root:

    python tests/data/make_sequence_errors.py
"""
from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import torch
from sequence_error_cases import CASES, Case

OUT = Path(__file__).with_name("sequence_errors.json")


def refusal(lib: Any, case: Case) -> dict[str, str] | None:
    """{"error": the class name, "message": its first line} of ``case`` run on ``lib``,
    or None where it answers."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            case.call(lib, None if case.build is None else case.build(lib))
    except Exception as error:  # noqa: BLE001  (the refusal is the oracle)
        return {"error": type(error).__name__, "message": str(error).split("\n")[0]}
    return None


def main() -> None:
    torch.manual_seed(0)
    found = {case.name: refusal(torch, case) for case in CASES}
    OUT.write_text(json.dumps({"torch": torch.__version__, "cases": found}, indent=1) + "\n")
    print(f"wrote {OUT}: {sum(v is not None for v in found.values())} of {len(found)} refused")


if __name__ == "__main__":
    main()
