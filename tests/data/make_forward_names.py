"""Write tests/data/torch_forward_names.json: the parameter names of ``forward`` of every
module class in ``torch.nn`` (after ``self``), the oracle of
tests/test_parity.py::test_forward_takes_pytorchs_keyword_names (which needs no torch).

Regenerate (needs torch; written with torch 2.13, CPU) from the repository root:

    python tests/data/make_forward_names.py
"""
from __future__ import annotations

import inspect
import json
from pathlib import Path

import torch.nn as nn

OUT = Path(__file__).with_name("torch_forward_names.json")


def main() -> None:
    names = {name: list(inspect.signature(cls.forward).parameters)[1:]
             for name, cls in sorted(vars(nn).items())
             if isinstance(cls, type) and issubclass(cls, nn.Module) and cls is not nn.Module}
    OUT.write_text(json.dumps(names, indent=1) + "\n")
    print(f"wrote the forward names of {len(names)} modules to {OUT}")


if __name__ == "__main__":
    main()
