"""The judgement on small statements, Fixit-style (VALID / INVALID lists): reported or not, and with
a safe fix, an unsafe one or none. Each row says why. These pin decisions the goldens do not reach
(found by mutation testing: a planted bug that flips one of them went unnoticed before).

Rows are judged through `check_source` only, so they hold for any rebuild of the analysis.
"""

from __future__ import annotations

import pytest

from outplace.engine import check_source
from outplace.findings import HAZARDS
from outplace.settings import Settings

IN_FUNCTION = ("import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n\n\n"
               "def f(x: torch.Tensor, w: torch.Tensor):\n")
AT_MODULE = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n\n"

# (where, code, expected without --clone, expected with --clone, why); the judged line is the one
# marked `# <-`, else the last one.
ROWS = [
    ("function", "y = torch.sigmoid(x)\ny *= True", "safe", "safe",
     "a bool scalar keeps a float tensor's dtype and values"),
    ("function", "y = torch.sigmoid(x)\ny *= 1j", "nofix", "nofix",
     "a complex scalar into a float tensor: in place it raises, out of place it promotes (certainly wrong)"),
    ("function", "y = x * 2\ns = y * w\ny.div_(2)", "unsafe", "unsafe",
     "`y` may be an integer tensor: div_ raises in place, div returns floats"),
    ("function", "y = torch.sigmoid(x)\nz = y.clone()\ny[0] = 1", "nofix", "safe",
     "`z` is a copy, not an alias: cloning `y` before the write is faithful"),
    ("function", "y = torch.sigmoid(x)\ny[torch.isnan(w)] = 0", "nofix", "safe",
     "a mask computed from another tensor may broadcast: no masked_fill"),
    ("function", "y = torch.sigmoid(x)\ny[w.isnan()] = 0", "nofix", "safe",
     "as above, as a method"),
    ("function", "y = torch.sigmoid(x)\ny[torch.isnan(y)] = 0", "safe", "safe",
     "a mask computed elementwise from `y` itself: masked_fill is exact"),
    ("function", "y = torch.sigmoid(x)\nm = y > 0\ny[m] = 0", "safe", "safe",
     "the mask by name, `y` unchanged since"),
    ("function", "y = torch.sigmoid(x)\nm = y > 0\ny = y.t()\ny[m] = 0", "nofix", "safe",
     "`y` was rebound after the mask was taken: its shape may differ now (no masked_fill); a clone "
     "before the write writes the same elements, or raises the same error"),
    ("function", "y = torch.sigmoid(x)\ny[y > w] = 0", "nofix", "safe",
     "the other side of the comparison is a tensor that may broadcast the mask"),
    ("function", "h = torch.sigmoid(x)\nF.relu(inplace=True, input=h)", "safe", "safe",
     "the input by keyword, after `inplace=`"),
    ("function", "u = torch.sigmoid(x)\nv = u\nu.mul_(2)  # <-\nreturn v", "nofix", "nofix",
     "`v` is an alias that saw the write, read afterwards: every rewrite certainly changes what it holds"),
    ("function", "u = torch.sigmoid(x)\nv = u\nu.mul_(2)", "safe", "safe",
     "`v` is an alias, but nothing reads it after the write"),
    ("function", "u = torch.sigmoid(x)\nu.mul_(2)", "safe", "safe", "a fresh local nothing else refers to"),
    ("function", "return x.mul_(2)", "unsafe", "unsafe", "the caller's tensor"),
    ("function", "x.mul_(2)", "nofix", "nofix", "the write is for the caller and nothing reads `x` after it"),
    ("function", "y = torch.tanh(x)\nz = y\ny = torch.sigmoid(x)\ny.mul_(2)", "safe", "safe",
     "`z` refers to the tensor `y` held before it was rebound"),
    ("function", "y = torch.sigmoid(x)\ns = w.add(y)\ny.mul_(2)", "safe", "safe",
     "a tensor method does not keep its argument"),
    ("function", "y = torch.sigmoid(x)\ns = torch.add(w, y)\ny.mul_(2)", "safe", "safe",
     "nor does a torch function that returns a new tensor"),
    ("function", "y = torch.sigmoid(x)\nprint(y)\nlen(y)\ny.mul_(2)", "safe", "safe",
     "builtins that do not store their argument"),
    ("function", "y = torch.sigmoid(x)\nkeep = [y]\ny.mul_(2)  # <-\nreturn keep", "nofix", "nofix",
     "a container keeps a reference, read afterwards: certainly wrong"),
    ("function", "y = torch.sigmoid(x)\ns = torch.squeeze(y)\ny.mul_(2)  # <-\nreturn s", "nofix", "nofix",
     "a view kept under another name, read afterwards: it sees the whole write, certainly wrong"),
    ("function", "y = torch.sigmoid(x)\ns = torch.squeeze(y)\nif w.sum() > 0:\n    s = w\ny.mul_(2)  # <-\nreturn s",
     "unsafe", "unsafe", "a view kept under another name on one path only"),
    ("function", "y = torch.sigmoid(x)\nglobal G\nG = y\ny.mul_(2)", "nofix", "nofix",
     "a global keeps a reference and `y` is not read after: the write is for what `G` sees (eval45)"),
    ("function", "y = torch.sigmoid(x)\nglobal G\nG = y\ny.mul_(2)  # <-\nreturn y", "unsafe", "unsafe",
     "a global keeps a reference, `y` read after: unsafe"),
    ("function", "y = torch.sigmoid(x)\nfor i in range(3):\n    y.mul_(2)", "safe", "safe",
     "a loop over a fresh local: rebinding each iteration is the same"),
    ("function", "for i in range(3):\n    y = torch.sigmoid(x)\n    z = y\n    y.mul_(2)  # <-\n    print(z)",
     "nofix", "nofix", "an alias inside the loop body, read afterwards: certainly wrong"),
    ("function", "y = torch.sigmoid(x)\nif w.sum() > 0:\n    y = torch.tanh(x)\ny.mul_(2)", "safe", "safe",
     "fresh on both branches"),
    ("function", "y = torch.sigmoid(x)\ny += x", "unsafe", "unsafe", "a tensor operand may broadcast or promote"),
    ("function", "y = torch.sigmoid(x)\ny += 0.5", "safe", "safe", "a float scalar on a floating tensor"),
    ("function", "y = torch.sigmoid(x) if x.sum() > 0 else x\ny.mul_(2)", "unsafe", "unsafe",
     "`y` may be the caller's `x` and nothing reads it after: on that path the write is for the caller "
     "(unsafe, not certain: on the other path it is a fresh local's)"),
    ("function", "y = torch.sigmoid(x) * 1j\ns = y * w\ny.abs_()", "unsafe", "unsafe",
     "times a complex scalar, `y` is complex: abs_ raises on it in place, abs computes"),
    ("function", "y = torch.sigmoid(x) * 2\ns = y * w\ny.abs_()", "unsafe", "unsafe",
     "times an int scalar, `y` is floating or complex (a complex `x` makes it complex, eval49 D1): abs_ raises "
     "on a complex tensor, abs computes"),
    ("function", "y = (x > 0).int() * 2\ns = y * w\ny.abs_()", "safe", "safe",
     "an integer tensor: abs_ and abs agree"),
    ("function", "m = x > 0\ns = w * m\nm |= True", "safe", "safe",
     "a comparison of a tensor is a bool tensor; `|= True` keeps its dtype"),
    ("function", "m = 0 < x\ns = w * m\nm |= True", "safe", "safe", "the tensor on the right of the comparison"),
    ("function", "flag = len(w) > 2\ns = x * flag\nflag |= True", "clean", "clean",
     "a comparison of Python numbers is no tensor"),
    ("function", "s = torch.sigmoid(x).copy_(w)", "nofix", "nofix",
     "the out-of-place form would evaluate `torch.sigmoid(x)` twice"),
    ("module", "class Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
               "        self.fc = nn.Linear(4, 4)\n        self.act = nn.ReLU(inplace=True)\n\n"
               "    def forward(self, x):\n        return self.act(self.fc(x))", "clean", "clean",
     "every use of `self.act` gets a Linear output nothing saved: harmless"),
    ("module", "class Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
               "        self.fc = nn.Linear(4, 4)\n        self.act = nn.ReLU(inplace=True)  # <-\n\n"
               "    def forward(self, x):\n        return self.act(input=self.fc(x))", "safe", "safe",
     "a use by keyword is followed like a positional one: a Linear output only the ReLU sees"),
    ("module", "class Net(nn.Module):\n    def __init__(self, other):\n        super().__init__()\n"
               "        self.fc = nn.Linear(4, 4)\n        self.act = nn.Sigmoid()\n"
               "        other.act = nn.ReLU(inplace=True)  # <-\n\n"
               "    def forward(self, x):\n        return self.act(self.fc(x))", "unsafe", "unsafe",
     "another object's attribute: the uses of `self.act` say nothing about it"),
    ("function", "y = torch.sigmoid(x)\ny.mul_(2)  # <-\ny = w\nreturn y", "safe", "safe",
     "a binding after the write does not reach it"),
    ("module", "SCALE = 2\n\n\ndef f(x: torch.Tensor):\n    global SCALE\n    s = x * SCALE\n    SCALE *= 2",
     "clean", "clean", "a global bound to a number is no tensor"),
    *[("function", f"y = torch.sigmoid(x)\nwith torch.no_grad():\n    {write}", "clean", "clean",
       f"`{write}` under no_grad is intentional")
      for write in ("y[0] = 1", "y[y > 0] = 0", "y *= 2", "y.mul_(2)", "torch.relu_(y)", "F.relu(y, inplace=True)",
                    "y.fill_(0)", "torch.mul(y, 2, out=y)")],
    *[("function", f"y = torch.sigmoid(x)\nwith torch.inference_mode():\n    {write}", "clean", "clean",
       f"`{write}` under inference_mode is intentional") for write in ("y[0] = 1", "y *= 2")],
    *[("function", f"y = torch.sigmoid(x)\n{test}\n    y.mul_(2)", "clean", "clean",
       f"`{test}`: a branch that runs only with autograd off is intentional, as a no_grad block is")
      for test in ("if not torch.is_grad_enabled():", "if not torch.is_grad_enabled() and x.is_cuda:",
                   "if not (torch.is_grad_enabled() or x.is_cuda):",
                   "if torch.is_grad_enabled():\n    pass\nelse:",
                   "if torch.is_grad_enabled() or x.is_cuda:\n    pass\nelse:")],
    *[("function", f"y = torch.sigmoid(x)\n{test}\n    y.mul_(2)", "safe", "safe",
       f"`{test}`: autograd may be on in this branch")
      for test in ("if torch.is_grad_enabled():", "if not torch.is_grad_enabled() or x.is_cuda:",
                   "if not torch.is_grad_enabled():\n    pass\nelse:",
                   "if torch.is_grad_enabled() and x.is_cuda:\n    pass\nelse:")],
    ("function", "y = F.dropout(x, 0.5, training=True)\ny.relu_()", "unsafe", "unsafe",
     "dropout's output is saved by nothing (it saves its mask): writing it is harmless (`inplace`); but "
     "called with positional arguments it may be `x` itself (a parameter): the fix is unsafe"),
    ("function", "y = torch.sigmoid(x) * 0.5\ns = y * w\ny += 1", "safe", "safe",
     "times a float scalar, `y` stays floating: an int scalar cannot promote it"),
    ("function", "y = torch.ones(3, requires_grad=True)\ns = y * w\ny.mul_(2)", "unsafe", "unsafe",
     "a leaf that requires grad: in place raises, out of place replaces the leaf"),
    ("module", "G = torch.zeros(3)\n\n\ndef f(x: torch.Tensor):\n    s = x * G\n    G.mul_(2)", "nofix", "nofix",
     "a global tensor, saved by `x * G`: the write is for other code, rebinding `G` locally would lose it"),
    ("function", "k = x.shape[0] * 2\ns = x * k\nk += 1", "clean", "clean", "a Python int is no tensor"),
    ("function", "flag = not x.is_cuda\ns = x * flag\nflag |= True", "clean", "clean", "a Python bool is no tensor"),
    ("function", "act = nn.Sigmoid()\ny = act(x)\ny.mul_(2)", "safe", "safe",
     "a torch module bound to a local name: Sigmoid returns a new tensor (and saves it)"),
    ("module", "act = nn.LeakyReLU(0.2, True)", "unsafe", "unsafe", "`inplace` by position"),
    ("module", "cfg = [0.2]\nact = nn.LeakyReLU(*cfg, True)", "clean", "clean",
     "after `*cfg` the position of `True` is unknown: not provably `inplace`"),
    ("function", "x[0].mul_(2)  # <-\nreturn x", "nofix", "nofix",
     "a write through a temporary view: `x[0].mul(2)` would drop it"),
    ("function", "y = torch.sigmoid(x)\ny[0].mul_(2)  # <-\nreturn y", "nofix", "nofix",
     "the same through a view of a fresh local"),
    ("function", "y = torch.sigmoid(x)\ntorch.sigmoid(y).mul_(2)", "nofix", "nofix",
     "a temporary nothing keeps: the write is dead either way, nothing to rebind"),
    ("function", "y = x * 2\ns = y * w\ny.abs_()", "unsafe", "unsafe",
     "`y` may be complex: abs_ raises on it in place, abs returns real values"),
    ("module", "import xtra\n\n\ndef f(x: torch.Tensor):\n    h = torch.sigmoid(x)\n    xtra.relu_(h)  # <-\n"
               "    return h", "clean", "clean", "another library's `relu_` is not torch's"),
    ("function", "y = torch.sigmoid(x)\ns = y.mul_(2).sum()", "safe", "safe",
     "an in-place call used as a value, then reduced: `y = y.mul(2)` keeps both"),
    ("function", "xs = [torch.sigmoid(x)]\nF.relu(*xs, inplace=True)", "clean", "clean",
     "the input is unpacked from a list: which tensor is written is unknown"),
    ("function", "y = torch.sigmoid(x)\nfor i in range(3):\n    y.mul_(2)  # <-\n    y = w", "unsafe", "unsafe",
     "from the second iteration on `y` is the caller's `w`, which nothing reads after the loop (unsafe, not "
     "certain: in the first it is a fresh local)"),
    ("function", "y = torch.ones(3, requires_grad=False)\ny.mul_(2)", "safe", "safe",
     "a new buffer that does not require grad, filled before any use: harmless (`nograd`)"),
    ("function", "h = torch.sigmoid(x)\nu = torch.relu_(h)\nu.mul_(2)", "safe", "safe",
     "`torch.relu_(h)` returns `h`: `u` is that fresh local, and nothing reads `h` afterwards"),
    ("function", "y = torch.sigmoid(x)\nu = y.view(-1).mul_(2)  # <-\nreturn u, y", "nofix", "nofix",
     "the write goes through a view into `y`: `u = y.view(-1).mul(2)` would leave `y` unchanged"),
    ("module", "act = nn.ReLU(inplace=True)", "unsafe", "unsafe",
     "a module whose uses are unknown: its input may be referred to elsewhere"),
    ("module", "def build(self):\n    self.act = nn.ReLU(inplace=True)", "unsafe", "unsafe",
     "an attribute set outside a class body: its uses cannot be proven harmless"),
    ("module", "net = nn.Sequential(nn.Sequential(nn.Linear(4, 4)), nn.ReLU(True))", "safe", "safe",
     "a nested Sequential is followed to its last layer: a Linear, whose new tensor only the ReLU sees"),
    ("module", "net = nn.Sequential(nn.Linear(4, 4), nn.ReLU(True))", "safe", "safe",
     "Linear returns a new tensor nothing saved: the in-place ReLU is harmless (`inplace`)"),
    ("module", "net = nn.Sequential(nn.Linear(4, 4), nn.Sigmoid(), nn.ReLU(True))", "safe", "safe",
     "Sigmoid saves its output and returns a new tensor only the ReLU sees"),
    ("module", "net = nn.Sequential(nn.Linear(4, 4), nn.Identity(), nn.ReLU(True))", "safe", "safe",
     "Identity passes the Linear's new tensor through: still only the ReLU sees it"),
    # Missed by the engine before the dataflow core:
    ("function", "n = torch.arange(3)\ny = n * w\nn += 1", "safe", "safe",
     "mul saves the integer `n` for w's gradient: torch raises at backward: reported"),
    ("function", "n = torch.arange(3)\ny = n * w\nn /= 2", "unsafe", "unsafe",
     "as above; and then `/=` raises on the integer tensor in place where `/` returns floats: unsafe"),
    ("function", "y = torch.ones(3, requires_grad=False)\ns = y * w\ny.mul_(2)", "safe", "safe",
     "mul saves the new buffer `y` for w's gradient: torch raises at backward: reported"),
    ("function", "y = F.dropout(x, training=False)\ny.mul_(2)", "nofix", "nofix",
     "F.dropout(x, training=False) returns x itself: the write is the caller's tensor's, as `x.mul_(2)`'s is "
     "(no rewrite: rebinding `y` would leave the caller's tensor unchanged)"),
]


def judge(where: str, code: str, clone: bool) -> str:
    body = "".join(f"    {line}\n" for line in code.splitlines()) if where == "function" else code + "\n"
    source = (IN_FUNCTION if where == "function" else AT_MODULE) + body
    lines = source.rstrip("\n").splitlines()
    marked = [i + 1 for i, line in enumerate(lines) if line.endswith("# <-")]
    judged = marked[0] if marked else len(lines)  # the line marked `# <-`, else the last one
    at = [f for f in check_source(source, Settings(hazards=HAZARDS, unsafe_fixes=True, clone=clone)) if f.line == judged]
    if not at:
        return "clean"
    assert len(at) == 1, at
    fix = at[0].fix
    return "nofix" if fix is None else ("safe" if fix.is_safe else "unsafe")


@pytest.mark.parametrize("where,code,plain,clone,why", ROWS, ids=[r[4] for r in ROWS])
def test_judgement(where: str, code: str, plain: str, clone: str, why: str) -> None:
    assert (judge(where, code, False), judge(where, code, True)) == (plain, clone), why


def test_an_attribute_holding_a_view_is_called_an_attribute() -> None:
    source = ("import torch\n\n\nclass M(torch.nn.Module):\n    def __init__(self, x: torch.Tensor):\n"
              "        super().__init__()\n        self.buf = x.view(-1)\n\n    def forward(self, w):\n"
              "        y = self.buf * w\n        self.buf.mul_(2)\n        return y\n")
    [finding] = check_source(source, Settings(hazards=HAZARDS, unsafe_fixes=True))
    assert "`self.buf` is an attribute" in " ".join(finding.fix.reasons)
    assert "nn.Parameter" not in " ".join(finding.fix.reasons)


def test_a_view_names_the_tensor_it_shares_storage_with() -> None:
    source = IN_FUNCTION + "    y = torch.sigmoid(x)\n    row = y[0]\n    row += 1\n    return y\n"
    [finding] = check_source(source, Settings(hazards=HAZARDS, unsafe_fixes=True))
    assert finding.fix is None  # rebinding `row` would lose the write into `y`: no fix at all
    assert "`row` is a view of `y`: the write is meant to change `y`" in finding.why


def test_the_keyword_input_is_the_one_named() -> None:
    source = IN_FUNCTION + "    h = torch.sigmoid(x)\n    F.relu(inplace=True, input=h)\n"
    [finding] = check_source(source, Settings(hazards=HAZARDS))
    assert "tensor `h`" in finding.message
