"""Write tests/data/nngaps_module_vectors.npz: make_module_vectors.py's samples (PyTorch's
own module inputs, its ModuleInfo database) for the modules that came with the nn gaps
(the padding Modules, Bilinear, LPPool1d/2d, TransformerDecoderLayer, Transformer), in a
file of their own; tests/test_nngaps_torch.py replays them as tests/test_module_torch.py
replays module_vectors.npz.

Regenerate (needs torch 2.13, CPU, and expecttest) from the repository root:

    python tests/data/make_nngaps_module_vectors.py
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import make_module_vectors  # noqa: E402

make_module_vectors.OUT = Path(__file__).with_name("nngaps_module_vectors.npz")
make_module_vectors.NAMES = {
    "Bilinear", "CircularPad1d", "CircularPad2d", "ConstantPad1d", "ConstantPad2d",
    "LPPool1d", "LPPool2d", "ReflectionPad1d", "ReflectionPad2d", "ReplicationPad1d",
    "ReplicationPad2d", "Transformer", "TransformerDecoderLayer", "ZeroPad1d", "ZeroPad2d"}

if __name__ == "__main__":
    make_module_vectors.main()
