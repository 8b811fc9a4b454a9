"""The judgement model on small programs: the hazard of a write and whether its fix is safe,
unsafe (and why) or not offered at all (certainly wrong). Each row is a named fact with the case
where it holds and, next to it, a case where it must not.

The marked line (`# <-`) holds the write; `expect` is (hazard, fix) with fix one of "safe",
"unsafe", "none" (reported, no fix), or None when nothing may be reported at that line; `why` is a
substring of the finding's explanation or of one of its unsafe reasons.
"""

from __future__ import annotations

import textwrap

import pytest

from outplace.engine import check_source
from outplace.settings import Settings

EVERYTHING = Settings(unsafe_fixes=True, clone=True, hazards=("breaks", "inplace"))

# Templates of the both-ways cases below: the same program where the fact holds and where it must not.
_SCALED_BY = """
    def scaled(k, x):
        t = torch.ones(3) / k
        u = t + 1
        return x * u

    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = SCALE

        def forward(self, x):
            y = x * 2
            z = scaled(self.scale, y)
            y[0] = 0  # <-
            return z
    """
_PREDICATE = """
    def eligible(a, b):
        return a.is_contiguous() and PRED

    def fast(a, b):
        mu1 = a * 2
        mu2 = b * 2
        prod = mu1 * mu2
        mu1.pow_(2)  # <-
        return prod + mu1

    class M(nn.Module):
        def forward(self, x, y):
            if eligible(x, y):
                return fast(x, y)
            return x * y
    """
_MAYBE_NORM = """
    class MaybeBN(nn.Module):
        def __init__(self, n, use_bn):
            super().__init__()
            self.bn = nn.BatchNorm2d(n)
            self.use_bn = use_bn

        def forward(self, x):
            NORM

    class Block(nn.Module):
        def __init__(self, n):
            super().__init__()
            self.conv = nn.Conv2d(n, n, 3)
            self.norm = MaybeBN(n, USE_BN)

        def forward(self, x):
            BODY
    """
_MAYBE_NORM_CONFIGURED = _MAYBE_NORM.replace("USE_BN", "True")
_MAYBE_NORM = _MAYBE_NORM.replace("USE_BN", "n > 2")
_EARLY_RETURN = "if not self.use_bn:\n                return x\n            return self.bn(x)"
_ONE_RETURN = "if self.use_bn:\n                x = self.bn(x)\n            return x"
_UNKNOWN_TUPLE = """
    class VQ(nn.Module):
        def __init__(self, codebook_class, **kw):
            super().__init__()
            self._codebook = codebook_class(**kw)

        def forward(self, x, mask):
            quantize, embed_ind, distances = self._codebook(x)
            loss = F.mse_loss(quantize, x)
            WRITE  # <-
            return quantize, embed_ind, loss
    """
_ROUNDED = """
    def f(keypoints, offset):
        x = keypoints[..., 0]
        inside = x > 0
        x = (x - offset) * 2
        x = ROUND
        x[inside] = 5  # <-
        return x
    """
_KEPT_FUNCTION = """
    from functools import partial

    class M(nn.Module):
        def __init__(self, dim):
            super().__init__()
            self.fc = nn.Linear(dim, dim)
            self.act = ACT

        def forward(self, x):
            p = self.act(self.fc(x))
            p.clamp_(min=1e-4)  # <-
            return p
    """
_REGISTRY = """
    ACT2CLS = {"gelu": nn.GELU, ENTRIES}

    def get_activation(name):
        return ACT2CLS[name]()

    class FeedForward(nn.Module):
        def __init__(self, dim, act_fn="gelu"):
            super().__init__()
            self.proj = nn.Linear(dim, dim)
            self.act = get_activation(act_fn)

        def forward(self, hidden_states):
            hidden_states = self.act(self.proj(hidden_states))
            hidden_states.mul_(0.5)  # <-
            return hidden_states
    """
_SLICED = """
    class M(nn.Module):
        def forward(self, text, lengths, enc):
            text = text[:, : BOUND]
            lengths += 1  # <-
            return (enc * lengths[:, None]).sum() + text.sum()
    """
_COMPREHENDED = """
    class M(nn.Module):
        def __init__(self, dim):
            super().__init__()
            self.layers = nn.ModuleList([nn.Linear(dim, dim) for _ in range(3)])

        def forward(self, x):
            gates = [ELEMENT for layer in self.layers]
            for g in gates:
                g.mul_(2)  # <-
            return sum(gates)
    """
_DICT_INPUT = """
    class Pool(nn.Module):
        def METHOD(self, features: dict) -> dict:
            p = torch.softmax(features["token_embeddings"], dim=-1)
            p.mul_(2)  # <-
            features["sentence_embedding"] = p.sum(1)
            return features
    """
_ASSIGNER = """
    class Assigner(nn.Module):
        DECORATOR
        def forward(self, scores, overlaps):
            return self._forward(scores, overlaps)

        def _forward(self, scores, overlaps):
            metric = torch.sigmoid(scores * overlaps)
            metric *= 2  # <-
            return metric
    """
_PARSE_LIST = """
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.proj = nn.Linear(3, 3)

        def parse(self, outputs, mask):
            mel, gate = outputs
            gate.masked_fill_(mask, 1e3)  # <-
            return mel, gate

        def forward(self, x, mask):
            mel = self.proj(x)
            gate = GATE
            return self.parse([mel, gate], mask)
    """

# An instance's constructor arguments decide its branches (analysis/config.py).
_CONFIGURED = """
    class Net(nn.Module):
        def __init__(self, nonlinear="softmax"):
            super().__init__()
            self.conv = nn.Conv1d(4, 4, 1)
            self.nonlinear = nonlinear
    STORE
        def forward(self, x):
            score = self.conv(x)
            if self.nonlinear == "softmax":
                return torch.softmax(score, dim=1)
            elif self.nonlinear == "linear":
                return score

    class Extractor(nn.Module):
        def __init__(self, kind: str):
            super().__init__()
            self.aux = Net(BUILT)

        def forward(self, x):
            emb = self.aux(x)
            emb.masked_fill_(emb > 1, 0.0)  # <-
            return emb.mean()
    """
_CONFIGURED_ARM = """
    class Block(nn.Module):
        def __init__(self, n, relu=True):
            super().__init__()
            self.conv = nn.Conv2d(n, n, 1)
            CHOICE

        def forward(self, x):
            return self.act(x)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = nn.Conv2d(3, 3, 1)
            self.block = Block(3, relu=RELU)

        def forward(self, x):
            h = self.stem(x)
            y = self.block(h)
            y.add_(1)  # <-
            return y, h
    """

# A residual block whose loop returns its input when it never goes round; the caller writes its
# result after a save of that input (`leaky_relu` saves its input), so only the zero-trip path
# could make the write a hazard (and make the fix change what the caller's `x` holds).
_ZERO_TRIP = """
    class Res(nn.Module):
        def __init__(self, n):
            super().__init__()
            self.convs = nn.ModuleList(CONVS)

        def forward(self, x):
            for c in self.convs:
                x = c(F.leaky_relu(x, 0.1)) + x
            return x

    class Gen(nn.Module):
        def __init__(self):
            super().__init__()
            self.res = Res(3)

        def forward(self, x):
            h = torch.sigmoid(x)
            y = self.res(h)
            y += 1  # <-
            return y
    """

# An if/elif that rebinds (ARM = x) or keeps (ARM = y) the input conv2d saved, in the function and in a callee.
_THREE_WAY = """
    class M(nn.Module):
        def __init__(self, mode):
            super().__init__()
            self.w = nn.Parameter(torch.randn(4, 4, 3, 3))
            self.up, self.down = mode == "up", mode == "down"

        def forward(self, x):
            x = x * 2
            y = None
            if self.up:
                x = F.conv2d(x, self.w, padding=1)
            elif self.down:
                ARM = F.conv2d(x, self.w, stride=2, padding=1)
            return x.add_(1), y is not None  # <-
    """
_CALLEE_ELIF = """
    class Conv(nn.Module):
        def __init__(self, identity):
            super().__init__()
            self.identity = identity
            self.w = nn.Parameter(torch.randn(4, 4, 3, 3))

        def forward(self, x):
            if self.identity:
                pass
            elif self.w is not None:
                ARM = F.conv2d(x, self.w, padding=1)
                self.kept = ARM
            return x

    class Block(nn.Module):
        def __init__(self, identity):
            super().__init__()
            self.conv = Conv(identity)

        def forward(self, x):
            h = self.conv(x * 2)
            h.add_(1)  # <-
            return h
    """

# A module whose weight a constructor argument chooses (`... if kernel else None`) and whose forward
# returns its input where it has none.
_KERNEL_CONV = """
    class Conv(nn.Module):
        def __init__(self, kernel):
            super().__init__()
            self.w = nn.Parameter(torch.randn(4, 4, kernel, kernel)) if kernel else None

        def forward(self, x):
            if self.w is not None:
                x = F.conv2d(x, self.w, padding=1)
            return x

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.proj = Conv(kernel=KERNEL)

        def forward(self, x):
            return self.proj(torch.sigmoid(x)).add_(x)  # <-
    """

# A Sequential filled by add_module with computed names (SECOND: more adds after the ReLU).
_NAMED_CHAIN = """
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential()
            for i in range(2):
                self.body.add_module(f"b{i}", nn.Sigmoid())
            self.body.add_module("r", nn.ReLU(inplace=True))  # <-
SECOND
        def forward(self, x):
            return self.body(x)
    """

# A module list run member by member, whose first member is a Sequential; CHANGE: what __init__ does after.
_LIST_CHAIN = """
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.ModuleList()
            self.body.append(nn.Sequential(nn.Sigmoid(), nn.Sigmoid()))
            self.body.append(nn.ReLU(inplace=True))  # <-
            CHANGE

        def forward(self, x):
            for layer in self.body:
                x = layer(x)
            return x
    """

# A gate built from a module-level alias; LOCAL: what `__init__` binds before.
_ALIASED_GATE = """
    Act = nn.Sigmoid

    class M(nn.Module):
        def __init__(self, light=True):
            super().__init__()
            LOCAL
            self.gate = Act()
            self.act = nn.ReLU(inplace=True)  # <-

        def forward(self, x):
            return self.act(self.gate(x))
    """

# A helper returning a clone of its argument; STAR: a star import after its def.
_CLONING_HELPER = """
    def ident(t):
        return t.clone()

    STAR

    def f(x, y):
        h = torch.sigmoid(x)
        v = ident(h)
        h.mul_(2)  # <-
        return v, h
    """

# A private helper writing a saved tensor; YIELD: `return` or `yield`; CALLS: how `f` calls it.
_QUIET_HELPER = """
    def _scale(x):
        h = torch.sigmoid(x)
        h.mul_(2)  # <-
        YIELD h

    def apply(fn, t):
        return fn(t)

    def f(x, y):
        CALLS
    """

# A Sequential stored in `self.body`; CHANGE: what `__init__` does to it after.
_SEQ_CHAIN = """
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(nn.Sigmoid(), nn.ReLU(inplace=True))  # <-
            CHANGE

        def forward(self, x):
            return self.body(x)
    """

# A norm of a tensor, then a write into it; USE: how the norm is used in between.
_NORM_USE = """
    def f(x, y):
        p = x * 2
        m = y > 0
        n = torch.linalg.norm(p, dim=-1, keepdim=True)
        idx = None
        USE
        p[0] = 0  # <-
        return p, idx
    """

# A helper forwarding an optional `out=`; CALL: how the run calls it.
_OPTIONAL_OUT = """
    def chol(a, out=None):
        return torch.linalg.cholesky(a, out=out)  # <-

    def f(x, y):
        a = x.reshape(1, 1) * 2 + 1
        return CALL
    """

# A part of a saved tensor split into three, written, the base read after; SPLIT: the op.
_SPLIT_PART = """
    def f(x, y):
        h = torch.sigmoid(x.reshape(1, 3))
        v = h.SPLIT(3, dim=1)[0]
        v.mul_(2)  # <-
        return h * 1.0, v
    """

_PATCHED_DECORATOR = """
    import typing

    def final(c):
        init = c.__init__
        def wrapped(self, *a, **kk):
            init(self, *a, **kk)
            self.gate = nn.Identity()
        c.__init__ = wrapped
        return c
    PATCH

    @typing.final
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.gate = nn.Sigmoid()
            self.act = nn.ReLU(inplace=True)  # <-

        def forward(self, x):
            return self.act(self.gate(x))
    """
_RECURRENT_STATE = """
    def elu_map(x):
        return F.elu(x) + 1

    class Att(nn.Module):
        def __init__(self, fm=None):
            super().__init__()
            self.fm = fm or elu_map

        def forward(self, q, v, state=None):
            K = self.fm(q)
            if state is None:
                S = q.new_zeros(3, 3)
                Z = ZERO
            else:
                S, Z = state
            Z += K  # <-
            S += torch.einsum("i,j->ij", K, v)
            out = torch.einsum("i,i->", q, Z) + torch.einsum("ij,j->", S, v)
            return out, [S, Z]

    def f(x, y):
        a = Att()
        s = None
        outs = []
        for i in range(3):
            o, s = a(x, y, state=s)
            outs.append(o)
        return outs
    """
_PARENT_SETS_INPLACE = """
    class Child(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(4, 4)
            self.lin2 = nn.Linear(4, 4)
            self.drop = nn.Dropout(0.1)

        def forward(self, x):
            return self.drop(ACT(self.lin(x)))

    class Parent(nn.Module):
        def __init__(self):
            super().__init__()
            self.child = Child()
            for m in self.ITER():
                if isinstance(m, nn.Dropout):
                    m.inplace = True  # <-

        def forward(self, x):
            return self.child(x)
    """
_RNN_OUTPUT = """
    class Enc(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = nn.RNN(4, 3, batch_first=True)

        def forward(self, x, mask):
            o, h = self.rnn(x)
            o.masked_fill_(~mask.unsqueeze(-1), 0)  # <-
            return o
    """
_LAYER_PARAMETER = """
    class Block(nn.Module):
        def __init__(self, dim, act_layer=DEFAULT):
            super().__init__()
            self.fc = nn.Linear(dim, dim)
            self.act = act_layer()

        def forward(self, x):
            h = self.act(self.fc(x))
            h += x  # <-
            return h
    """
_OPTIONAL_PROJECTION = """
    class Dec(nn.Module):
        def __init__(self, d, proj=False):
            super().__init__()
            self.embed = nn.Embedding(10, d)
            self.project_in_dim = nn.Linear(d, d) if proj else None

        def forward(self, tokens, positions):
            x = FIRST
            if self.project_in_dim is not None:
                x = self.project_in_dim(x)
            x += positions  # <-
            return x
    """
_INDEXED_CHAIN = """
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 4, 3, padding=1)
            self.block = nn.Sequential(
                FIRST,
                nn.LeakyReLU(0.01, inplace=True),  # <-
            )

        def forward(self, x):
            out = self.conv(x)
            out = self.block[0](out)
            out = self.block[1](out)
            return out
    """
_FROZEN_PROTOTYPES = """
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.prototypes = nn.ModuleList([nn.Linear(4, 3, bias=False) for _ in range(2)])
            for proto in self.prototypes:
                FREEZE
                proto.weight.copy_(F.normalize(proto.weight.data.clone(), dim=-1))  # <-
    """
_VIRTUAL_CELL = """
    class Base(nn.Module):
        def cell(self, x):
            raise NotImplementedError()

        def forward(self, x):
            o = self.cell(x)
            o.mul_(2)  # <-
            return o

    class Impl(Base):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(4, 4)

        def cell(self, x):
            return ACT(x)
    """
_RNN_HELPER = """
    class Enc(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = nn.RNN(4, 3, batch_first=True)

        def cell(self, x):
            o, h = self.rnn(x)
            return o

        def forward(self, x):
            o = self.cell(x)
            o.mul_(2)  # <-
            return o
    """
_MLP_HEAD = """
    class MLP(nn.Module):
        def __init__(self, d, num_layers):
            super().__init__()
            self.num_layers = num_layers
            h = [d] * (num_layers - 1)
            self.layers = nn.ModuleList(LAYERS)

        def forward(self, x):
            for i, layer in enumerate(self.layers):
                x = F.relu(layer(x)) if i < self.num_layers - 1 else layer(x)
            return x

    class Head(nn.Module):
        def __init__(self, n):
            super().__init__()
            self.head = nn.Linear(4, 2)
            self.mlp = BUILT

        def forward(self, h, reference):
            cls = self.head(h)
            tmp = self.mlp(h)
            tmp += reference  # <-
            return cls, tmp.sigmoid()
    """
_INPLACE_ATTR = """
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.act = nn.ReLU(inplace=True)  # <-
            self.lin = nn.Linear(4, 4)

        def forward(self, x):
            h = torch.tanh(x)
            CALL
    """
_KEEPER = """
    class Keeper:
        def __init__(self):
            self.last = None

        def _keep(self, t):
            self.last = t
            return t * 1.0
        __rmul__ = __mul__ = _keep

        def __eq__(self, t):
            self.last = t
            return False

    def f(x, y):
        h = torch.sigmoid(x)
        k = Keeper()
        USE
        h.mul_(2)  # <-
        return h, k.last
    """
_HELPER_READS = """
    _MEMO = {}

    def look(t):
        BODY

    def f(x, y):
        h = torch.sigmoid(x)
        h.mul_(2)  # <-
        return h, look(h)
    """
_PEEK = """
    class M(nn.Module):
        def get(self, x):
            c = torch.sigmoid(x)
            KEEP
            return c

        def forward(self, x):
            h = self.get(x)
            h.mul_(2)  # <-
            return h
    """
_MIXIN = """
    SEEN = []

    class Base:
        def post(self, t):
            pass

        def run(self, x):
            h = torch.sigmoid(x)
            self.post(h)
            h.mul_(2)  # <-
            return h

    class Keep:
        def post(self, t):
            SEEN.append(t)

    class Sub(BASES):
        pass
    """
_PASSED_ACTIVATION = """
    class Conv(nn.Module):
        def __init__(self, d, activation=None):
            super().__init__()
            self.lin = nn.Linear(d, d)
            self.activation = activation

        def forward(self, x):
            h = self.lin(x)
            if self.activation is not None:
                h = self.activation(h)
            h += x  # <-
            return h

    class Net(nn.Module):
        def __init__(self, d, activation=None):
            super().__init__()
            self.conv = Conv(d, activation=activation)

        def forward(self, x):
            return self.conv(x)

    model = Net(4, activation=ACT)
    """
_ZERO_TRIP_HIFI = """
    from torch.nn.utils import remove_weight_norm, weight_norm
    from lib import prune

    def init_weights(m, mean=0.0, std=0.01):
        classname = m.__class__.__name__
        if classname.find("Conv") != -1:
            m.weight.data.normal_(mean, std)

    class Res(nn.Module):
        def __init__(self, n):
            super().__init__()
            self.convs = nn.ModuleList([weight_norm(nn.Conv1d(4, 4, 3, padding=1)),
                                        weight_norm(nn.Conv1d(4, 4, 3, padding=1))])
            self.convs.apply(init_weights)
            self.alphas = nn.ParameterList([nn.Parameter(torch.ones(1, 4, 1)) for _ in range(len(self.convs))])

        def forward(self, x):
            for c, a in zip(self.convs, self.alphas):
                x = c(USE) + x
            return x

        def remove(self):
            for c in self.convs:
                remove_weight_norm(c)

    class Gen(nn.Module):
        def __init__(self):
            super().__init__()
            self.res = Res(3)

        def forward(self, x):
            h = torch.sigmoid(x)
            y = self.res(h)
            y += 1  # <-
            return y
    """
_FUSE = """
    class Fuse(nn.Module):
        def __init__(self):
            super().__init__()
            self.convs = nn.ModuleList([nn.Conv2d(4, 4, 1), nn.Conv2d(4, 4, 1)])
            self.relu = nn.ReLU(inplace=True)

        def forward(self, x):
            out = []
            y = OUTER
            for i in range(2):
                y = START
                for j in range(2):
                    if i == j:
                        y += x[j]
                    else:
                        y += self.convs[j](x[j])  # <-
                out.append(self.relu(y))
            return out
    """
_INT_CUMSUM = """
    def f(x, y):
        m = torch.sigmoid(x)
        cu = torch.zeros(4)
        torch.mul(m.reshape(1, 3).sum(-1DT), 2, out=cu[1:2])  # <-
        return cu
    """
_RESET_LOOP = """
    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(4, 4)

        def forward(self, x):
            return torch.tanh(self.lin(x)) * 2

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Linear(3, 4)
            self.blocks = nn.ModuleList([Block() for _ in range(3)])

        def reset_parameters(self):
            for blk in self.blocks:
                blk.METHOD()

        def forward(self, z):
            x = self.embedding(z)
            for blk in self.blocks:
                x += 1  # <-
                x = blk(x)
            return x
    """
_PICK = """
    SEEN = []

    class Base(nn.Module):
        def pick(self, t):
            BASE

        def forward(self, x):
            h = torch.sigmoid(x)
            y = self.pick(h)
            h.mul_(2)  # <-
            return h, y * 1.0

    class Sub(Base):
        def pick(self, t):
            OVERRIDE
    """
_SWITCHED = """
    class M(nn.Module):
        def __init__(self, flag=True):
            super().__init__()
            self.act = nn.ELU(ARG)
            SWITCH

        def forward(self, x):
            h = torch.sigmoid(x)
            y = self.act(h)
            h.mul_(2)  # <-
            return h, y
    """
# A vocoder's output stack run by a loop (`for f in self.layers: x = f(x)`): the ReLU's input is the
# output of the module before it in the list.
_CHAIN_LOOP = """
    class Head(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = nn.ModuleList([
                FIRST,
                nn.ReLU(inplace=True),  # <-
                nn.Conv1d(4, 4, 1),
            ])

        def forward(self, x):
            x = x * 2
            for f in self.layers:
                x = f(x)
            return x
    """

# fairseq's downsampled attention: `q` is the query itself unless it is projected, and the
# projection saves the query (its input), not its output.
_ARMS = """
    class Attn(nn.Module):
        def __init__(self, project):
            super().__init__()
            self.project = project
            self.lin = nn.Linear(4, 4)

        def forward(self, query, n: int):
            q = query
            if self.project:
                q = self.lin(q)
            q *= 0.5  # <-
            return q
    """


def _configured(built: str, store: str = "") -> str:
    return _CONFIGURED.replace("BUILT", built).replace("    STORE\n", textwrap.indent(store, "        "))


def _arm(relu: str, choice: str = "self.act = nn.Sigmoid() if relu else nn.Identity()") -> str:
    return _CONFIGURED_ARM.replace("RELU", relu).replace("CHOICE", choice)


# physicsnemo's EDM Conv2d (eval28 R): it returns its input only when built with `kernel=0`.
CONV_FORWARD = """            def forward(self, x):
                w, b = self.weight, self.bias
                if w is not None:
                    x = F.conv2d(x, w, padding=w.shape[-1] // 2)
                if b is not None:
                    x = x + b.reshape(1, -1, 1, 1)
                return x
"""
_EDM_BLOCK = """
        class Conv2d(nn.Module):
            def __init__(self, cin, cout, kernel):
                super().__init__()
                self.weight = nn.Parameter(torch.randn(cout, cin, kernel, kernel)) if kernel else None
                self.bias = nn.Parameter(torch.zeros(cout)) if kernel else None

""" + CONV_FORWARD + """
        class Block(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv0 = Conv2d(4, 4, kernel=KERNEL)
                self.affine = nn.Linear(8, 4)

            def forward(self, x, emb):
                x = self.conv0(torch.sigmoid(x))
                x.add_(self.affine(emb)[:, :, None, None])  # <-
                return x
"""

# eval30 F2/F3: a torch activation built (or switched) by some spelling, its output and input both kept.
_ACT_NET = """
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.lin = nn.Linear(3, 3)
                self.act = ACT

            def forward(self, x):
                h = torch.sigmoid(self.lin(x))
                y = self.act(h)
                h.mul_(2)  # <-
                return h, y
"""
# eval30 O3: OP104 on a module the file may reach outside its class.
_OP104_NET = """
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.lin = nn.Linear(3, 3)
                self.act = nn.ReLU(inplace=True)  # <-

            def forward(self, x):
                return self.act(torch.sigmoid(self.lin(x)))

        def use(t):
            net = Net()
            m = REACH
            return m(t), t * 1.0
"""

# eval32 smee: a function under a registering decorator factory, called by its name.
_REGISTRY_ENERGY = """
        _FUNCTIONS = {}

        def handler(kind):
            def _inner(func):
                _FUNCTIONS[kind] = func
                return RESULT
            return _inner

        @handler("angles")
        def energy(conformer):
            ab = conformer[1:] - conformer[:-1]
            ab /= torch.norm(ab, dim=1, keepdim=True)  # <-
            return ab.sum()

        def run():
            c = torch.randn(3, 3, requires_grad=True)
            energy(c).backward()
"""

# physicsnemo's own spelling of the same forward (conv_layers.py).
CONV_FORWARD_PHYSICSNEMO = """            def forward(self, x):
                weight, bias = self.weight, self.bias
                if self.weight is not None and self.weight.dtype != x.dtype:
                    weight = self.weight.to(x.dtype)
                w = weight if weight is not None else None
                if w is not None:
                    x = F.conv2d(x, w, padding=w.shape[-1] // 2)
                if bias is not None:
                    x = x + bias.reshape(1, -1, 1, 1)
                return x
"""

_PASSED_CHAIN = """
        class Body(nn.Module):
            def __init__(self, arch):
                super().__init__()
                MUTATE
                self.body = nn.Sequential(*arch)

            def forward(self, x):
                y = self.body(x)
                y *= 2  # <-
                return y

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.b = Body([nn.Conv2d(3, 3, 1), LAST])

            def forward(self, x):
                return self.b(x)
        """

_FIRST_ITERATION = """
        class M(nn.Module):
            def __init__(self):
                super().__init__()
                self.layers = nn.ModuleList([nn.Linear(4, 4) for _ in range(3)])

            def forward(self, x):
                h = x * 2
                hs = []
                for layer in self.layers:
                    BODY
                return h, hs
        """

CASES = {
    # ---- hazards ------------------------------------------------------------------------------
    "sigmoid saves its result": ("""
        def f(x):
            y = torch.sigmoid(x)
            y *= 2  # <-
            return y
        """, ("breaks", "safe"), "saved by `torch.sigmoid`"),
    "mul by a number saves nothing: writing its result is harmless": ("""
        def f(x: torch.Tensor):
            y = torch.exp(x) * 2
            y *= 3  # <-
            return y
        """, ("inplace", "safe"), "nothing saved it"),
    "a shape element is a Python int: multiplying by it saves nothing (diffusers' blend_h)": ("""
        def f(a, b):
            extent = min(a.shape[3], b.shape[3], 4)
            for i in range(extent):
                b[:, :, :, i] = a[:, :, :, -extent + i] * (1 - i / extent) + b[:, :, :, i] * (i / extent)  # <-
            return b
        """, ("inplace", "unsafe"), "nothing saved it"),
    "a shape element against a tensor of the same name is still a tensor operand": ("""
        def f(a, b):
            extent = min(a.shape[3], b.shape[3], 4) + a.sum()
            for i in range(4):
                b[:, :, :, i] = b[:, :, :, i] * (i / extent)  # <-
            return b
        """, ("breaks", "unsafe"), "saved by"),
    "... where the saver is in the write's own statement, the clone goes between the value and the store (a clone before the statement would be what it saves)": ("""
        def f(x, y):
            b = x * 2
            b[:, 1] = torch.sin(b[:, 0])  # <-
            return b
        """, ("breaks", "unsafe"), "saved by `torch.sin`"),
    "... nor where it only builds the index (`t[t.abs() < eps] = eps`): the temporary `abs` result, and its save, are gone before the write": ("""
        def f(x, y):
            t = (x * 2).reshape(-1)
            t[t.abs() < 0.01] = 0.01  # <-
            return x.reshape(-1) / t
        """, ("inplace", "safe"), "nothing saved it"),
    "... where the `abs` result is kept, its save is still there (a fix)": ("""
        def f(x, y):
            t = (x * 2).reshape(-1)
            a = t.abs()
            t[a < 0.01] = 0.01  # <-
            return x.reshape(-1) / t + a
        """, ("breaks", "safe"), "saved by `abs`"),
    "... but where it is an earlier statement, the clone is what the write changes: a fix": ("""
        def f(x, y):
            b = x * 2
            s = torch.sin(b)
            b[:, 1] = 0  # <-
            return b, s
        """, ("breaks", "unsafe"), "saved by `torch.sin`"),
    "an attribute holding plain numbers is no tensor operand: multiplying by it saves nothing": ("""
        class M(nn.Module):
            def __init__(self, dim: int, size=320):
                super().__init__()
                frames = 24
                self.scale = dim ** -0.5
                self.kernel = (frames, size, size)

            def forward(self, q):
                b = q * 2
                c = b * self.scale * self.kernel[1]
                b[0] = 0  # <-
                return c
        """, ("inplace", "safe"), "nothing saved it"),
    "an attribute that may hold a tensor is a tensor operand: multiplying by it saves the other side": ("""
        class M(nn.Module):
            def __init__(self, dim):
                super().__init__()
                self.scale = dim ** -0.5

            def forward(self, q):
                b = q * 2
                c = b * self.scale
                b[0] = 0  # <-
                return c
        """, ("inplace", "safe"), "saved by `*`"),
    "a save by an op whose input does not require grad on this branch never happened (LoFTR's fast path)": ("""
        def f(x, w):
            sim = x @ w
            conf = F.softmax(sim, 2)
            if sim.requires_grad:
                conf = conf * 2
            else:
                conf.mul_(2)  # <-
            return conf
        """, ("inplace", "unsafe"), "nothing saved it"),
    "the same write on the branch where the input requires grad breaks backward": ("""
        def f(x, w):
            sim = x @ w
            conf = F.softmax(sim, 2)
            if sim.requires_grad:
                conf.mul_(2)  # <-
            return conf
        """, ("breaks", "unsafe"), "saved by `F.softmax`"),
    "a module with parameters builds a graph whatever its input: the test on the input proves nothing": ("""
        class M(nn.Module):
            def __init__(self):
                super().__init__()
                self.lin = nn.Linear(3, 3)

            def forward(self, x):
                h = torch.sigmoid(self.lin(x))
                if not x.requires_grad:
                    h.mul_(2)  # <-
                return h
        """, ("breaks", "safe"), "saved by `torch.sigmoid`"),
    "`@=` has no in-place method on tensors: it rebinds, nothing is written": ("""
        def f(x, w):
            y = torch.sigmoid(x)
            y @= w  # <-
            return y
        """, None, None),
    "register_parameter(name, None) registers no tensor: the buffer registered otherwise decides": ("""
        class Norm(nn.Module):
            def __init__(self, n, track=True):
                super().__init__()
                if track:
                    self.register_buffer("running_mean", torch.zeros(n))
                else:
                    self.register_parameter("running_mean", None)

            def forward(self, x):
                self.running_mean.mul_(0.9)  # <-
                return x - x.mean(0)
        """, None, None),
    "einsum saves its tensor operands (they come after the equation)": ("""
        def f(x, w):
            q = x * 2
            s = torch.einsum("bd,cd->bc", q, w)
            q.mul_(3)  # <-
            return s
        """, ("breaks", "unsafe"), "saved by `torch.einsum`"),
    "a buffer saved and then replaced on the same path: the saved one is gone (diffusers' tiled encode)": ("""
        class M(nn.Module):
            def __init__(self):
                super().__init__()
                self.enc = nn.Conv2d(3, 4, 3)

            def forward(self, x):
                buf = x.new_zeros((2, 3, 8, 8))
                outs = []
                for k in range(4):
                    buf[k % 2] = x[k]  # <-
                    if k % 2 == 1:
                        outs.append(self.enc(buf))
                        buf = x.new_zeros((2, 3, 8, 8))
                return torch.stack(outs)
        """, ("inplace", "safe"), "nothing saved it"),
    "a buffer saved and kept: the next iteration writes into what the conv saved": ("""
        class M(nn.Module):
            def __init__(self):
                super().__init__()
                self.enc = nn.Conv2d(3, 4, 3)

            def forward(self, x):
                buf = x.new_zeros((2, 3, 8, 8))
                outs = []
                for k in range(4):
                    buf[k % 2] = x[k]  # <-
                    if k % 2 == 1:
                        outs.append(self.enc(buf))
                return torch.stack(outs)
        """, ("breaks", "safe"), "saved by `nn.Conv2d`"),
    "a factory buffer is outside the graph": ("""
        def f(x):
            buf = torch.zeros(3)
            buf[0] = 1  # <-
            return buf + x
        """, None, None),
    "a leaf that requires grad raises at once": ("""
        w = torch.randn(3, requires_grad=True)
        w += 1  # <-
        """, ("breaks", "unsafe"), "leaf"),
    "a write in a later loop iteration into a tensor the loop saved": ("""
        def f(x, w):
            h = torch.tanh(x)
            for _ in range(2):
                y = h * w
                h.add_(1)  # <-
            return y
        """, ("breaks", "safe"), "saved by"),
    "a module attribute that saves its result (nn.Sigmoid)": ("""
        class M(nn.Module):
            def __init__(self):
                super().__init__()
                self.gate = nn.Sigmoid()

            def forward(self, x):
                y = self.gate(x)
                y[y < 0.5] = 0  # <-
                return y
        """, ("breaks", "safe"), "saved by `nn.Sigmoid`"),
    "a project module's forward: its summary says what it returns": ("""
        class Inner(nn.Module):
            def forward(self, x):
                return torch.exp(x)

        class Outer(nn.Module):
            def __init__(self):
                super().__init__()
                self.inner = Inner()

            def forward(self, x):
                h = self.inner(x)
                h += 1  # <-
                return h
        """, ("breaks", "safe"), "inside `Inner.forward`"),
    "a helper's parameter is what its callers pass": ("""
        def encode(x):
            x += 1  # <-
            return x

        def f(z, w):
            return encode(torch.sigmoid(z))
        """, ("breaks", "unsafe"), "before `encode` was called"),
    "one of several views chunk returned": ("""
        def f(z: torch.Tensor, s: torch.Tensor):
            h = z * s
            a, b = h.chunk(2)
            b += 1  # <-
            return a, b
        """, ("breaks", "unsafe"), "several views"),
    "`.data` is deliberate": ("""
        def f(p: torch.Tensor):
            y = torch.sigmoid(p)
            y.data.mul_(2)  # <-
            return y
        """, None, None),
    "under no_grad the write is intentional": ("""
        def f(w: torch.Tensor, g: torch.Tensor):
            with torch.no_grad():
                w.sub_(0.1 * g)  # <-
        """, None, None),

    # ---- safety: aliases, escapes, same-statement reads -----------------------------------------
    "a chained assignment is an alias": ("""
        def f(x):
            q = k = torch.sigmoid(x)
            q *= 2  # <-
            return q, k
        """, ("breaks", "none"), "`k` holds this very tensor"),
    "the alias is dead after the write: safe": ("""
        def f(x):
            q = k = torch.sigmoid(x)
            q *= 2  # <-
            return q
        """, ("breaks", "safe"), None),
    "`or` may be either operand": ("""
        def f(y, w):
            y = torch.sigmoid(y)
            z = y or w
            y *= 2  # <-
            return z
        """, ("breaks", "unsafe"), "`z` refers to the same tensor"),
    "a closure may read the old tensor": ("""
        def f(x):
            s = torch.sigmoid(x)
            g = lambda: s
            s *= 2  # <-
            return g()
        """, ("breaks", "unsafe"), "nested function"),
    "a default argument keeps the old tensor": ("""
        def f(x):
            y = torch.sigmoid(x)
            def g(t=y):
                return t
            y *= 2  # <-
            return g()
        """, ("breaks", "unsafe"), "default argument"),
    "max() may return its argument": ("""
        def f(x, t):
            s = torch.sigmoid(x)
            m = max(s, t)
            s *= 2  # <-
            return m
        """, ("breaks", "unsafe"), "`m` refers to the same tensor"),
    "an unknown call may keep its argument": ("""
        def f(x):
            y = torch.sigmoid(x)
            z = torch.jit.annotate(torch.Tensor, y)
            y *= 2  # <-
            return z
        """, ("breaks", "unsafe"), "passed to `torch.jit.annotate`"),
    ".numpy() shares memory": ("""
        def f(x):
            p = torch.sigmoid(x)
            a = p.cpu().numpy()
            p *= 2  # <-
            return a, p + 0
        """, ("breaks", "unsafe"), "`a` refers to the same tensor"),
    "nn.Parameter(w) shares w's memory": ("""
        def f(x):
            w = torch.sigmoid(x)
            P = nn.Parameter(w)
            w *= 2  # <-
            return P
        """, ("breaks", "unsafe"), "nn.Parameter"),
    "dropout with training=False returns its input": ("""
        def f(x):
            h = torch.sigmoid(x)
            d = F.dropout(h, 0.5, training=False)
            h *= 2  # <-
            return d
        """, ("breaks", "none"), "`d` holds a view of this very tensor"),
    "dropout may return its input (eval, p=0, positional training): an alias when used after": ("""
        def f(x):
            h = torch.sigmoid(x)
            d = F.dropout(h, 0.5)
            h *= 2  # <-
            return d, h
        """, ("breaks", "unsafe"), "`d` refers to the same tensor"),
    "a conv output is a new tensor: no alias": ("""
        def f(x, w):
            h = torch.sigmoid(x)
            d = F.conv1d(h, w)
            h *= 2  # <-
            return d, h
        """, ("breaks", "safe"), None),
    "a read of the tensor in the same statement": ("""
        def f(x):
            x = torch.sigmoid(x)
            z = x.mul_(2) + x  # <-
            return z
        """, ("breaks", "none"), "read again in the same statement"),
    "... but the right side of an index store is computed before the store: it reads the old values either way": ("""
        def f(x):
            x = torch.sigmoid(x)
            x[0] = x[1] * 2  # <-
            return x
        """, ("breaks", "safe"), None),
    "stored in an attribute": ("""
        class M(nn.Module):
            def forward(self, x):
                h = torch.sigmoid(x)
                self.cache = h
                h *= 2  # <-
                return h
        """, ("breaks", "unsafe"), "stored in `self.cache`"),
    "a list holds it": ("""
        def f(x):
            h = torch.sigmoid(x)
            out = [h]
            h *= 2  # <-
            return out
        """, ("breaks", "none"), "`out` holds this very tensor"),
    "a new tensor each iteration (recency): last iteration's list entry is another tensor": ("""
        def f(x):
            outs = []
            for i in range(3):
                h = torch.sigmoid(x * i)
                h *= 2  # <-
                outs.append(h)
            return outs
        """, ("breaks", "safe"), None),
    "a maybe-numpy value gets no tensor method": ("""
        def f(v: Union[np.ndarray, torch.Tensor]):
            v = v * 1
            v[v < 0] = 0  # <-
            return v
        """, None, None),

    # ---- saved per argument pattern (one name, several overloads) -----------------------------
    "binary torch.max saves its inputs, not its result": ("""
        def f(x, w):
            y = torch.max(x, w)
            y *= 2  # <-
            return y
        """, ("inplace", "unsafe"), "nothing saved it"),
    "unary torch.max saves its result": ("""
        def f(x, w):
            y = torch.max(x * w)
            y *= 2  # <-
            return y
        """, ("breaks", "unsafe"), "saved by `torch.max`"),
    "pow by a number saves its input, not its result": ("""
        def f(x, w):
            y = torch.pow(x * w, 2)
            y *= 3  # <-
            return y
        """, ("inplace", "unsafe"), "nothing saved it"),
    "pow by a tensor saves its result": ("""
        def f(x, w):
            y = torch.pow(x, w)
            y *= 3  # <-
            return y
        """, ("breaks", "unsafe"), "saved by `torch.pow`"),
    "pow_ by a number saves a copy of the original: a later write is harmless": ("""
        def f(x, w):
            y = x * w
            y.pow_(2)
            y *= 3  # <-
            return y
        """, ("inplace", "unsafe"), "nothing saved it"),
    "sigmoid_ saves its result, the tensor it wrote: a later write breaks backward": ("""
        def f(x, w):
            y = x * w
            y.sigmoid_()
            y *= 3  # <-
            return y
        """, ("breaks", "unsafe"), "saved by `sigmoid_`"),
    "nn.MaxPool2d without return_indices saves its input, not its output": ("""
        def f(x, w):
            pool = nn.MaxPool2d(2)
            y = pool(x * w)
            y *= 2  # <-
            return y
        """, ("inplace", "unsafe"), "nothing saved it"),

    # ---- saved only for the gradient of another input (saved_when) ----------------------------
    "a product with a random mask outside the graph saves nothing (dropout by hand)": ("""
        def f(x, w):
            y = x * torch.rand_like(x).lt(0.5).float()
            y += 1  # <-
            return y
        """, ("inplace", "unsafe"), "nothing saved it"),
    "the mask keeps the other factor out of the saved tensors too": ("""
        def f(x, w):
            h = x + w
            y = h * torch.rand_like(h).lt(0.5).float()
            h += 1  # <-
            return y
        """, ("inplace", "unsafe"), "nothing saved it"),
    "a product with a parameter saves the other factor for the parameter's gradient": ("""
        class M(nn.Module):
            def __init__(self):
                super().__init__()
                self.w = nn.Parameter(torch.ones(3))

            def forward(self, x):
                h = x + 1
                y = h * self.w
                h += 1  # <-
                return y
        """, ("breaks", "unsafe"), "saved by `*`"),
    "stochastic depth: a bernoulli mask from new_empty saves nothing": ("""
        class Block(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(3, 3)

            def forward(self, x):
                h = self.fc(x)
                keep = h.new_empty(h.shape[0], 1).bernoulli_(0.9).div_(0.9)
                y = h * keep
                h += x  # <-
                return y + h
        """, ("inplace", "unsafe"), "nothing saved it"),
    "nn.Linear saves its input for its weight's gradient": ("""
        class Block(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(3, 3)

            def forward(self, x):
                h = x * 2
                y = self.fc(h)
                h += 1  # <-
                return y
        """, ("breaks", "unsafe"), "saved by `nn.Linear`"),

    # ---- shape and dtype facts ----------------------------------------------------------------
    "a keepdim norm of the target cannot broadcast or promote it": ("""
        def f(x):
            e = torch.exp(x)
            e /= e.norm(dim=-1, keepdim=True) + 1e-6  # <-
            return e
        """, ("breaks", "safe"), None),
    "a norm without keepdim may broadcast": ("""
        def f(x):
            e = torch.exp(x)
            e /= e.norm(dim=-1) + 1e-6  # <-
            return e
        """, ("breaks", "unsafe"), "broadcast"),

    # ---- certainly wrong: no fix at all -------------------------------------------------------
    "a manual SGD step over parameters()": ("""
        def step(model, lr):
            for p in model.parameters():
                p.add_(-lr * p.grad)  # <-
        """, ("breaks", "none"), "parameter of the model"),
    "writing through views of a caller's tensor": ("""
        def unnormalize(t, mean, std):
            for c, m, s in zip(t[0], mean, std):
                c.mul_(s).add_(m)  # <-
            return t
        """, (None, "none"), "view"),
    "a helper that works by mutating its argument": ("""
        def augment(img: torch.Tensor):
            img.mul_(0.5)  # <-
        """, ("inplace", "none"), "drop the write"),
    "a helper saves its argument only when another argument requires grad: a number passed saves nothing":
        (_SCALED_BY.replace("SCALE", "4"), ("inplace", "safe"), "nothing saved it"),
    "a helper saves its argument only when another argument requires grad: a parameter passed does":
        (_SCALED_BY.replace("SCALE", "nn.Parameter(torch.ones(()))"), ("breaks", "safe"), "saved by `*` inside `scaled`"),
    "views of one tensor blended in a loop by a helper scaling by a number (diffusers' allegro)": ("""
        def blend(k, x):
            x[:, 0:2] = x[:, 0:2] * (torch.ones(2) / k)  # <-
            return x

        class M(nn.Module):
            def forward(self, x):
                out = x * 2
                for i in range(4):
                    blend(4, out[i].unsqueeze(0))
                return out
        """, ("inplace", "none"), "drops the result"),  # (the write into `out` through the view is the point: eval30 U11)
    "a helper's save that needs a module's own parameter does not wait for an argument": ("""
        class M(nn.Module):
            def __init__(self):
                super().__init__()
                self.w = nn.Parameter(torch.ones(3))

            def scaled(self, k, x):
                return x * (self.w / k)

            def forward(self, x):
                y = x * 2
                z = self.scaled(4, y)
                y[0] = 0  # <-
                return z
        """, ("breaks", "safe"), "saved by `*` inside"),
    "a project predicate proves its arguments outside any graph: the fast path's writes are harmless (kornia's ssim)":
        (_PREDICATE.replace("PRED", "not (torch.is_grad_enabled() and (a.requires_grad or b.requires_grad))"), None, None),
    "a predicate proving only one argument outside a graph leaves the other's saves":
        (_PREDICATE.replace("PRED", "not a.requires_grad"), ("breaks", "unsafe"), "saved by `*`"),
    "a predicate where either argument may be in a graph proves nothing":
        (_PREDICATE.replace("PRED", "(not a.requires_grad or not b.requires_grad)"), ("breaks", "unsafe"), "saved by `*`"),
    "a helper that saves its argument only where it returns something else: the caller's result is safe to write (pl_bolts' MaybeBatchNorm2d)":
        (_MAYBE_NORM.replace("NORM", _EARLY_RETURN).replace("BODY", "h = self.norm(self.conv(x))\n            h.relu_()  # <-\n            return h"),
         ("inplace", "safe"), "nothing saved it"),
    "... and the same argument still held by another name was saved":
        (_MAYBE_NORM.replace("NORM", _EARLY_RETURN).replace("BODY", "h = self.conv(x)\n            y = self.norm(h)\n            h.relu_()  # <-\n            return y"),
         ("breaks", "unsafe"), "inside `MaybeBN.forward`"),
    "... and on an instance built with `use_bn=True`, the argument is no longer the result: a safe fix":
        (_MAYBE_NORM_CONFIGURED.replace("NORM", _EARLY_RETURN).replace("BODY", "h = self.conv(x)\n            y = self.norm(h)\n            h.relu_()  # <-\n            return y"),
         ("breaks", "safe"), "inside `MaybeBN.forward`"),
    "... the same with one `return x` after the branch: each way into it is seen apart":
        (_MAYBE_NORM.replace("NORM", _ONE_RETURN).replace("BODY", "h = self.norm(self.conv(x))\n            h.relu_()  # <-\n            return h"),
         ("inplace", "safe"), "nothing saved it"),
    "... and passed on at once, the argument is a temporary only the result holds (pl_bolts' FakeRKHSConvNet)":
        (_MAYBE_NORM.replace("NORM", _ONE_RETURN).replace("BODY", "return torch.relu_(self.norm(self.conv(x)))  # <-"),
         ("inplace", "safe"), "nothing saved it"),
    "... and with one `return x`, the argument still held by another name was saved":
        (_MAYBE_NORM.replace("NORM", _ONE_RETURN).replace("BODY", "h = self.conv(x)\n            y = self.norm(h)\n            h.relu_()  # <-\n            return y"),
         ("breaks", "unsafe"), "inside `MaybeBN.forward`"),
    "unpacking a parameter every call passes a list: its parts are the list's tensors, not views of one call (speechbrain's Tacotron2.parse_output)":
        (_PARSE_LIST.replace("GATE", "self.proj(x * 2)"), ("inplace", "unsafe"), "nothing saved it"),
    "... and a tensor in that list that was saved is saved in the helper too":
        (_PARSE_LIST.replace("GATE", "torch.sigmoid(x)"), ("breaks", "unsafe"), "saved by `torch.sigmoid`"),
    "... each position its own: the other part saved (`mel`) does not make this one saved (speechbrain's Tacotron2.parse_output)":
        (_PARSE_LIST.replace("mel = self.proj(x)", "mel = torch.sigmoid(x)").replace("GATE", "self.proj(x * 2)"),
         ("inplace", "unsafe"), "nothing saved it"),
    "... but one tensor passed in two positions is one object: saved as `mel`, written as `gate`":
        (_PARSE_LIST.replace("GATE", "mel").replace("mel, gate = outputs", "mel, gate = outputs\n            y = mel * mel")
         .replace("return mel, gate", "return y, gate"), ("breaks", "unsafe"), "saved by `*`"),
    "the parts of an unknown call's result are objects of their own: a save of one is not a save of another (vector_quantize_pytorch)":
        (_UNKNOWN_TUPLE.replace("WRITE", "embed_ind.masked_fill_(~mask, -1)"), ("inplace", "unsafe"), "if an unknown call returned its argument"),
    "... and the part that was saved stays saved":
        (_UNKNOWN_TUPLE.replace("WRITE", "quantize.mul_(2)"), ("breaks", "unsafe"), "saved by `F.mse_loss`"),
    "an integer tensor never requires grad: writing a `.long()` result is no finding (torchvision's roi_heads)":
        (_ROUNDED.replace("ROUND", "x.floor().long()"), None, None),
    "... a float one made the same way may":
        (_ROUNDED.replace("ROUND", "x.floor()"), ("inplace", "safe"), "nothing saved it"),
    "... and an integer tensor autograd saved still breaks backward when written": ("""
        def f(w, h):
            idx = h.argmax(-1, keepdim=True)
            y = torch.gather(w, -1, idx)
            idx += 1  # <-
            return y
        """, ("breaks", "safe"), "saved by `torch.gather`"),
    "a torch function kept in an attribute is that function when called (`self.act = torch.sigmoid`)":
        (_KEPT_FUNCTION.replace("ACT", "torch.sigmoid"), ("breaks", "safe"), "saved by `torch.sigmoid` as its result"),
    "... or a partial of it with keywords (`partial(F.softmax, dim=-1)`)":
        (_KEPT_FUNCTION.replace("ACT", "partial(F.softmax, dim=-1)"), ("breaks", "safe"), "saved by `F.softmax`"),
    "... a kept function that saves only its input leaves its result writable":
        (_KEPT_FUNCTION.replace("ACT", "F.gelu"), ("inplace", "safe"), "nothing saved it"),
    "... a partial whose keywords decide whether it returns its input stays unknown (`partial(F.dropout, training=False)`)":
        (_KEPT_FUNCTION.replace("ACT", "partial(F.dropout, training=False)"), ("inplace", "unsafe"), "which may return a reference to something else"),
    "an activation registry (`ACT2CLS[name]()`) is any of its entries: one that saves its result makes the write break":
        (_REGISTRY.replace("ENTRIES", '"sigmoid": nn.Sigmoid'), ("breaks", "unsafe"), "saved by `nn.Sigmoid`"),
    "... entries that save only their input leave it writable (and other code may add entries: no safe fix)":
        (_REGISTRY.replace("ENTRIES", '"silu": nn.SiLU'), ("inplace", "unsafe"), None),
    "a nested function returning a variable it captured gives what the variable holds at the call": ("""
        def f(a, w):
            b = torch.sigmoid(a)
            h = b

            def get():
                return h

            c = get()
            h = None
            b.mul_(2)  # <-
            return c, b
        """, ("breaks", "unsafe"), "`c` refers to the same tensor"),
    "a tensor stored through an object's `__dict__` is kept by the object": ("""
        class Box:
            pass

        def f(a, w):
            b = torch.sigmoid(a)
            o = Box()
            o.__dict__["t"] = b
            b.mul_(2)  # <-
            return o, b
        """, ("breaks", "unsafe"), "stored in"),
    "an instance attribute of a method's name may be another callable: `self.prep(b)` is unknown": ("""
        class Net(nn.Module):
            def __init__(self, raw):
                super().__init__()
                if raw:
                    self.prep = self.identity

            def identity(self, x):
                return x

            def prep(self, x):
                return x * 1

            def forward(self, a):
                b = torch.tanh(a)
                c = self.prep(b)
                b.mul_(2)  # <-
                return c, b
        """, ("breaks", "unsafe"), None),
    "a tensor a slice is bounded by (or a same-dtype reduction of) is an integer: it never required grad (espnet)":
        (_SLICED.replace("BOUND", "lengths.max()"), None, None),
    "... `int(...)` of it proves nothing: `int()` of a float tensor is an integer too":
        (_SLICED.replace("BOUND", "int(lengths.max())"), ("breaks", "unsafe"), "saved by `max`"),
    "`nn.Parameter(t, requires_grad=False)` is outside any graph: filling it is no finding (tianshou)": ("""
        class Noisy(nn.Module):
            def __init__(self, n):
                super().__init__()
                self.eps = nn.Parameter(torch.zeros(n), requires_grad=False)

            def sample(self):
                self.eps.copy_(torch.randn(self.eps.size(0)))  # <-
        """, None, None),
    "... one that requires grad is a leaf: writing it raises": ("""
        class Noisy(nn.Module):
            def __init__(self, n):
                super().__init__()
                self.eps = nn.Parameter(torch.zeros(n))

            def sample(self):
                self.eps.copy_(torch.randn(self.eps.size(0)))  # <-
        """, ("breaks", "none"), "leaf"),
    "each element a comprehension made was saved as it was made: a loop writing them breaks backward":
        (_COMPREHENDED.replace("ELEMENT", "torch.sigmoid(layer(x))"), ("breaks", "none"), "saved by `torch.sigmoid`"),
    "... elements nothing saved stay harmless to write (and rebinding `g` would lose the write `sum(gates)` sees)":
        (_COMPREHENDED.replace("ELEMENT", "layer(x)"), ("inplace", "none"), "`gates` (one of them, or what holds them)"),
    "what `forward` is given in a dict is its input, in a graph like a tensor argument (sentence-transformers)":
        (_DICT_INPUT.replace("METHOD", "forward"), ("breaks", "safe"), "saved by `torch.softmax`"),
    "... a helper's dict argument says nothing either way":
        (_DICT_INPUT.replace("METHOD", "pool"), ("inplace", "safe"), "if that op's inputs required grad"),
    "interprocedural review: a `@staticmethod` called through `self` gets no `self`: what it returns is its second argument": ("""
        import torch
        import torch.nn as nn
        import torch.nn.functional as F

        class Net(nn.Module):
            @staticmethod
            def second(x, y):
                return y

            def forward(self, a, b):
                g = torch.sigmoid(b)
                r = self.second(torch.tanh(a), g)
                s = r.sin()
                r.mul_(2)  # <-
                return g * 1.0, r * 1.0, s
        """, ("breaks", "none"), "`g` holds this very tensor"),
    "interprocedural review: an `nn.ModuleList` appended to after it is built may hold what was appended (`nn.Identity()`)": ("""
        import torch
        import torch.nn as nn
        import torch.nn.functional as F


        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.blocks = nn.ModuleList([nn.Linear(4, 4)])
                self.blocks.append(nn.Identity())

            def forward(self, a, b):
                g = torch.sigmoid(b)
                r = self.blocks[-1](g)
                s = r.sin()
                r.mul_(2)  # <-
                return g * 1.0, r * 1.0, s
        """, ("breaks", "unsafe"), None),
    "interprocedural review: the list behind `nn.Sequential(*layers)` changed by `layers[0] = ...` may hold anything": ("""
        import torch
        import torch.nn as nn
        import torch.nn.functional as F

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                layers = [nn.Linear(4, 4)]
                layers[0] = nn.Identity()
                self.body = nn.Sequential(*layers)

            def forward(self, a, b):
                g = torch.sigmoid(b)
                r = self.body(g)
                s = r.sin()
                r.mul_(2)  # <-
                return g * 1.0, r * 1.0, s
        """, ("breaks", "unsafe"), None),
    "interprocedural review: two optional members in a row may both pass the input by": ("""
        class Net(nn.Module):
            def __init__(self, use_norm, use_drop):
                super().__init__()
                layers = []
                if use_norm:
                    layers.append(nn.LayerNorm(4))
                if use_drop:
                    layers.append(nn.Dropout(0.1))
                self.body = nn.Sequential(*layers)

            def forward(self, a, b):
                g = torch.sigmoid(b)
                r = self.body(g)
                s = r.sin()
                r.mul_(2)  # <-
                return g * 1.0, r * 1.0, s
        """, ("breaks", "unsafe"), None),
    "... and members added in a loop that may not run": ("""
        class Net(nn.Module):
            def __init__(self, depth):
                super().__init__()
                layers = []
                for _ in range(depth):
                    layers.append(nn.Linear(4, 4))
                self.body = nn.Sequential(*layers)

            def forward(self, a, b):
                g = torch.sigmoid(b)
                r = self.body(g)
                s = r.sin()
                r.mul_(2)  # <-
                return g * 1.0, r * 1.0, s
        """, ("breaks", "unsafe"), None),
    "... one member that is always there: a new tensor, the fix is safe": ("""
        class Net(nn.Module):
            def __init__(self, use_norm):
                super().__init__()
                layers = [nn.Linear(4, 4)]
                if use_norm:
                    layers.append(nn.LayerNorm(4))
                self.body = nn.Sequential(*layers)

            def forward(self, a, b):
                g = torch.sigmoid(b)
                r = self.body(g)
                s = r.sin()
                r.mul_(2)  # <-
                return g * 1.0, r * 1.0, s
        """, ("breaks", "safe"), None),
    "interprocedural review: a module name assigned later in a loop reaches the assignment above it": ("""
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                for i in range(2):
                    if i == 0:
                        act = nn.GELU()
                    self.body = act
                    act = nn.Identity()

            def forward(self, a, b):
                g = torch.sigmoid(b)
                r = self.body(g)
                s = r.sin()
                r.mul_(2)  # <-
                return g * 1.0, r * 1.0, s
        """, ("breaks", "unsafe"), None),
    "interprocedural review: a class's `__getattr__` may answer for its submodules": ("""
        class Net(nn.Module):
            def __init__(self, skip=True):
                super().__init__()
                self.body = nn.GELU()
                self.skip = skip

            def __getattr__(self, name):
                if name == "body" and self.__dict__.get("skip"):
                    return nn.Identity()
                return super().__getattr__(name)

            def forward(self, a, b):
                g = torch.sigmoid(b)
                r = self.body(g)
                s = r.sin()
                r.mul_(2)  # <-
                return g * 1.0, r * 1.0, s
        """, ("breaks", "unsafe"), None),
    "interprocedural review: a mixin before the class in a subclass's bases sets the module": ("""
        class IdentityMixin:
            def __init__(self):
                super().__init__()
                self.body = nn.Identity()

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.body = nn.GELU()

            def forward(self, a, b):
                g = torch.sigmoid(b)
                r = self.body(g)
                s = r.sin()
                r.mul_(2)  # <-
                return g * 1.0, r * 1.0, s
        """.replace("        class Light", "class Light") + "\n        class Light(IdentityMixin, Net):\n            pass\n", ("breaks", "unsafe"), None),
    "... the same class with no subclass: the module's own result, the fix is safe": ("""
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.body = nn.GELU()

            def forward(self, a, b):
                g = torch.sigmoid(b)
                r = self.body(g)
                s = r.sin()
                r.mul_(2)  # <-
                return g * 1.0, r * 1.0, s
        """, ("breaks", "safe"), None),
    "interprocedural review: a slice of an `nn.Sequential` may be empty: it returns its input": ("""
        import torch
        import torch.nn as nn
        import torch.nn.functional as F


        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.body = nn.Sequential(nn.Linear(4, 4), nn.GELU())

            def forward(self, a, b):
                g = torch.sigmoid(b)
                r = self.body[:0](g)
                s = r.sin()
                r.mul_(2)  # <-
                return g * 1.0, r * 1.0, s
        """, ("breaks", "unsafe"), None),
    "interprocedural review: `nn.GELU() if act is None else act()`: the unknown arm may be any module": ("""
        import torch
        import torch.nn as nn
        import torch.nn.functional as F


        class Net(nn.Module):
            def __init__(self, act_layer=None):
                super().__init__()
                self.act = nn.GELU() if act_layer is None else act_layer()

            def forward(self, a, b):
                g = torch.sigmoid(b)
                r = self.act(g)
                s = r.sin()
                r.mul_(2)  # <-
                return g * 1.0, r * 1.0, s
        """, ("breaks", "unsafe"), None),
    "interprocedural review: a helper may return a parameter left to its tensor default": ("""
        import torch
        import torch.nn as nn
        import torch.nn.functional as F

        ZERO = torch.ones(3, 4)


        def pick(x, other=ZERO):
            if bool(x.sum() > 100):
                return x
            return other


        class Net(nn.Module):
            def forward(self, a, b):
                g = torch.sigmoid(b)
                r = pick(torch.tanh(a))
                s = r.sin()
                r.mul_(2)  # <-
                return g * 1.0, r * 1.0, s, ZERO * 1.0
        """, ("breaks", "unsafe"), None),
    "interprocedural review: a helper's new result it also keeps on `self` is another reference": ("""
        import torch
        import torch.nn as nn
        import torch.nn.functional as F




        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.hist = []
                self.last = None

            def step(self, x):
                y = torch.tanh(x)
                self.last = y
                return y

            def forward(self, a, b):
                r = self.step(b)
                s = r.sin()
                r.mul_(2)  # <-
                return r * 1.0, s, self.last * 1.0
        """, ("breaks", "unsafe"), None),
    "interprocedural review: `return y, y`: both positions of the tuple are one tensor": ("""
        import torch
        import torch.nn as nn
        import torch.nn.functional as F

        def dup(x):
            y = torch.tanh(x)
            return y, y


        class Net(nn.Module):
            def forward(self, a, b):
                p, q = dup(b)
                s = p.sin()
                p.mul_(2)  # <-
                return p * 1.0, s, q * 1.0
        """, ("breaks", "unsafe"), None),
    "interprocedural review: an imported torch name bound again at module level is not the import": ("""
        import torch
        import torch.nn as nn
        import torch.nn.functional as F
        from torch.nn.functional import gelu

        FAST = True
        if FAST:
            def gelu(t):
                return t


        class Net(nn.Module):
            def forward(self, a, b):
                g = torch.sigmoid(b)
                r = gelu(g)
                s = r.sin()
                r.mul_(2)  # <-
                return g * 1.0, r * 1.0, s
        """, ("breaks", "unsafe"), None),
    "interprocedural review: a keyword argument named `self` binds a plain function's `self` parameter": ("""
        import torch
        import torch.nn as nn
        import torch.nn.functional as F

        def pick(x, self=None):
            if self is None:
                return x
            return self


        class Net(nn.Module):
            def forward(self, a, b):
                g = torch.sigmoid(b)
                r = pick(torch.tanh(a), self=g)
                s = r.sin()
                r.mul_(2)  # <-
                return g * 1.0, r * 1.0, s
        """, ("breaks", "unsafe"), None),
    "interprocedural review: a helper storing into the caller's dict: the dict may now hold what was passed": ("""
        import torch
        import torch.nn as nn
        import torch.nn.functional as F

        def put(d, v):
            d['a'] = v


        class Net(nn.Module):
            def forward(self, a, b):
                g = torch.sigmoid(b)
                d = {'a': torch.tanh(a)}
                put(d, g)
                r = d['a']
                s = r.sin()
                r.mul_(2)  # <-
                return g * 1.0, r * 1.0, s
        """, ("breaks", "unsafe"), None),
    "interprocedural review: `super().pick(...)` runs a base's method, not this class's": ("""
        import torch
        import torch.nn as nn
        import torch.nn.functional as F

        class Base(nn.Module):
            def pick(self, x):
                return x


        class Net(Base):
            def pick(self, x):
                return x * 1.0

            def forward(self, a, b):
                g = torch.sigmoid(b)
                r = super().pick(g)
                s = r.sin()
                r.mul_(2)  # <-
                return g * 1.0, r * 1.0, s
        """, ("breaks", "unsafe"), None),
    "interprocedural review: a `def` under an `if` in the class body: which method exists depends on the run": ("""
        import torch
        import torch.nn as nn
        import torch.nn.functional as F
        SAME = True

        class Net(nn.Module):
            def pick(self, x):
                return x * 1.0

            if SAME:
                def pick(self, x):
                    return x

            def forward(self, a, b):
                g = torch.sigmoid(b)
                r = self.pick(g)
                s = r.sin()
                r.mul_(2)  # <-
                return g * 1.0, r * 1.0, s
        """, ("breaks", "unsafe"), None),
    "interprocedural review: `act()` where `act` is a parameter, not the module-level factory of that name": ("""
        import torch
        import torch.nn as nn
        import torch.nn.functional as F

        def act():
            return nn.GELU()


        class Net(nn.Module):
            def __init__(self, act=nn.Identity):
                super().__init__()
                self.act = act()

            def forward(self, a, b):
                g = torch.sigmoid(b)
                r = self.act(g)
                s = r.sin()
                r.mul_(2)  # <-
                return g * 1.0, r * 1.0, s
        """, ("breaks", "unsafe"), None),
    "interprocedural review: a local module name rebound by a `for` target": ("""
        import torch
        import torch.nn as nn
        import torch.nn.functional as F


        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                act = nn.GELU()
                for act in [nn.Identity()]:
                    pass
                self.act = act

            def forward(self, a, b):
                g = torch.sigmoid(b)
                r = self.act(g)
                s = r.sin()
                r.mul_(2)  # <-
                return g * 1.0, r * 1.0, s
        """, ("breaks", "unsafe"), None),
    "interprocedural review: several bases defining a method: the method resolution order decides": ("""
        import torch
        import torch.nn as nn
        import torch.nn.functional as F

        class Base(nn.Module):
            def pick(self, x):
                return x * 1.0


        class A(Base):
            pass


        class B(Base):
            def pick(self, x):
                return x


        class Net(A, B):
            def forward(self, a, b):
                g = torch.sigmoid(b)
                r = self.pick(g)
                s = r.sin()
                r.mul_(2)  # <-
                return g * 1.0, r * 1.0, s
        """, ("breaks", "unsafe"), None),
    "interprocedural review: a method patched on the class somewhere in the file, called through an instance": ("""
        import torch
        import torch.nn as nn
        import torch.nn.functional as F

        class Ops:
            def pick(self, x):
                return x * 1.0


        Ops.pick = lambda self, x: x


        class Net(nn.Module):
            def forward(self, a, b):
                ops = Ops()
                g = torch.sigmoid(b)
                r = ops.pick(g)
                s = r.sin()
                r.mul_(2)  # <-
                return g * 1.0, r * 1.0, s
        """, ("breaks", "unsafe"), None),
    "interprocedural review: a module attribute set again through `nn.Module.__setattr__(self, \"act\", ...)`": ("""
        import torch
        import torch.nn as nn
        import torch.nn.functional as F

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.act = nn.GELU()
                nn.Module.__setattr__(self, "act", nn.Identity())

            def forward(self, a, b):
                g = torch.sigmoid(b)
                r = self.act(g)
                s = r.sin()
                r.mul_(2)  # <-
                return g * 1.0, r * 1.0, s
        """, ("breaks", "unsafe"), None),
    "interprocedural review: a class-level module attribute is what an instance that never set it reads": ("""
        import torch
        import torch.nn as nn
        import torch.nn.functional as F


        class Net(nn.Module):
            def __init__(self, use_act=False):
                super().__init__()
                if use_act:
                    self.act = nn.GELU()

            act = nn.Identity()

            def forward(self, a, b):
                g = torch.sigmoid(b)
                r = self.act(g)
                s = r.sin()
                r.mul_(2)  # <-
                return g * 1.0, r * 1.0, s
        """, ("breaks", "unsafe"), None),
    "interprocedural review: a helper handing the caller's list to code it cannot see (`xs.extend([v])`): the list may hold `v`": ("""
        import torch
        import torch.nn as nn
        import torch.nn.functional as F

        def more(xs, v):
            xs.extend([v])


        class Net(nn.Module):
            def forward(self, a, b):
                g = torch.sigmoid(b)
                xs = [torch.tanh(a)]
                more(xs, g)
                r = xs[-1]
                s = r.sin()
                r.mul_(2)  # <-
                return g * 1.0, r * 1.0, s
        """, ("breaks", "unsafe"), None),
    "interprocedural review: a helper's `xs += [x]` on the caller's list keeps `x` there": ("""
        import torch
        import torch.nn as nn
        import torch.nn.functional as F

        def stash(x, xs):
            xs += [x]


        class Net(nn.Module):
            def forward(self, a, b):
                g = torch.tanh(b)
                xs = []
                stash(g, xs)
                s = g.sin()
                g.mul_(2)  # <-
                return s, xs[0] * 1.0
        """, ("breaks", "unsafe"), None),
    "a helper called only from a `@torch.no_grad()` forward builds no graph from what it is given (ultralytics' TaskAlignedAssigner)":
        (_ASSIGNER.replace("DECORATOR", "@torch.no_grad()"), None, None),
    "... called from a forward with autograd on, the same write breaks backward":
        (_ASSIGNER.replace("DECORATOR", ""), ("breaks", "safe"), "saved by `torch.sigmoid`"),
    "unpacking a tensor gives several views of one call: writing one in place raises": ("""
        class M(nn.Module):
            def forward(self, x: torch.Tensor, mask):
                y = x * 2
                mel, gate = y
                gate.masked_fill_(mask, 1e3)  # <-
                return mel, gate
        """, ("breaks", "unsafe"), "one of several views"),
    "a local name for a tensor held in a dict of state": ("""
        class Tracker:
            def __init__(self):
                self.stats = {"mean": torch.zeros(3)}

            def update(self, x):
                running = self.stats["mean"]
                running.mul_(0.9).add_(x.mean(0))  # <-
                return running
        """, (None, "none"), "another name for"),
    "`torch.cat` of a tuple of graph tensors is in the graph: a saved result written after it breaks (vit's cls token)": ("""
        def f(x, y):
            z = torch.cat((x, y), dim=0)
            s = z.sigmoid()
            s *= 2  # <-
            return s
        """, ("breaks", "safe"), "saved by `sigmoid`"),
    "... and of a list built from them (`torch.stack([...])`)": ("""
        def f(x, y):
            parts = [x * 2, y]
            s = torch.stack(parts).softmax(-1)
            s[0] = 0  # <-
            return s
        """, ("breaks", "safe"), "saved by `softmax`"),
    "... but of tensors no graph holds, it is not": ("""
        def f(x, y):
            z = torch.cat((torch.zeros(3), torch.ones(3)), dim=0)
            s = z.sigmoid()
            s *= 2  # <-
            return s + x
        """, None, None),
    "adversarial review: a `with` whose manager may switch autograd off (a `no_grad()` kept in a variable)": ("""
        def f(x, y):
            h = torch.sigmoid(x)
            frozen = torch.no_grad()
            with frozen:
                h *= 2  # <-
            return h * x
        """, (None, "unsafe"), "may switch autograd off"),
    "... `torch.set_grad_enabled(False)` called as a statement": ("""
        def f(x, y):
            h = torch.sigmoid(x)
            torch.set_grad_enabled(False)
            h *= 2  # <-
            torch.set_grad_enabled(True)
            return h * x
        """, (None, "unsafe"), "switches autograd's mode with a call"),
    "... but `torch.autocast` leaves autograd on: the fix stays safe": ("""
        def f(x, y):
            h = torch.sigmoid(x)
            with torch.autocast("cpu"):
                h *= 2  # <-
            return h * x
        """, ("breaks", "safe"), "saved by `torch.sigmoid`"),
    "an `nn.ModuleList()` filled by `.append` in `__init__` holds what was appended (mmdet's lateral convs)": ("""
        class ConvModule(nn.Module):
            def __init__(self, c):
                super().__init__()
                self.conv = nn.Conv2d(c, c, 1)
                self.act = nn.ReLU()

            def forward(self, x):
                return self.act(self.conv(x))

        class Neck(nn.Module):
            def __init__(self, n):
                super().__init__()
                self.lateral_convs = nn.ModuleList()
                for _ in range(n):
                    self.lateral_convs.append(ConvModule(4))

            def forward(self, feats):
                x = self.lateral_convs[0](feats[0])
                x += feats[1]  # <-
                return x
        """, ("breaks", "unsafe"), "saved by `nn.ReLU` as its result inside `ConvModule.forward`"),
    "... but one appended to elsewhere may hold anything": ("""
        class ConvModule(nn.Module):
            def __init__(self, c):
                super().__init__()
                self.conv = nn.Conv2d(c, c, 1)
                self.act = nn.ReLU()

            def forward(self, x):
                return self.act(self.conv(x))

        class Neck(nn.Module):
            def __init__(self, n):
                super().__init__()
                self.lateral_convs = nn.ModuleList()
                for _ in range(n):
                    self.lateral_convs.append(ConvModule(4))

            def grow(self, m):
                self.lateral_convs.append(m)

            def forward(self, feats):
                x = self.lateral_convs[0](feats[0])
                x += feats[1]  # <-
                return x
        """, ("breaks", "unsafe"), "which may return a reference to something else"),
    "adversarial review: a read of the tensor's identity after the write (`h.data_ptr()`) sees another tensor": ("""
        def f(x, y):
            h = torch.sigmoid(x)
            before = h.data_ptr()
            h *= 2  # <-
            return h * (h.data_ptr() == before)
        """, ("breaks", "unsafe"), "observes which tensor"),
    "... `h.retain_grad()` before the write: `h.grad` is then the new tensor's": ("""
        def f(x, y):
            h = torch.sigmoid(x)
            h.retain_grad()
            h *= 2  # <-
            return h
        """, ("breaks", "unsafe"), "observes which tensor"),
    "... a hook registered before the write sees the same gradient either way: the fix stays safe": ("""
        def f(x, y):
            h = torch.sigmoid(x)
            h.register_hook(print)
            h *= 2  # <-
            return h
        """, ("breaks", "safe"), "saved by `torch.sigmoid`"),
    "... the layout of a view read after the write (`h.stride()`): out of place it is compact": ("""
        def f(x, y):
            h = torch.sigmoid(x)[:, :2]
            h *= 2  # <-
            return h, h.stride()
        """, (None, "unsafe"), "observes which tensor"),
    "... but of a tensor of its own, the layout stays": ("""
        def f(x, y):
            h = torch.sigmoid(x)
            h *= 2  # <-
            return h, h.stride()
        """, ("breaks", "safe"), "saved by `torch.sigmoid`"),
    "adversarial review: a keepdim reduction with `dtype=` may promote the target (no safe fix)": ("""
        def f(x, y):
            h = torch.sigmoid(x)
            h /= h.sum(1, keepdim=True, dtype=torch.float64)  # <-
            return h
        """, ("breaks", "unsafe"), None),
    "... and a complex number in an elementwise operand (`h.mul(1j)`)": ("""
        def f(x, y):
            h = torch.sigmoid(x)
            h *= h.mul(1j)  # <-
            return h
        """, ("breaks", "unsafe"), None),
    "... the same reduction without `dtype=`, and a real number: the target's own dtype (safe)": ("""
        def f(x, y):
            h = torch.sigmoid(x)
            h /= h.sum(1, keepdim=True).mul(2.0)  # <-
            return h
        """, ("breaks", "safe"), "saved by `torch.sigmoid`"),
    "what is computed from a `.detach()` is outside any graph: `out=` with it is harmless (e3nn's running stats)": ("""
        def f(x, y):
            w = torch.ones(3, requires_grad=True)
            out = torch.zeros(3)
            torch.cat([w.detach() * 0.1], out=out)  # <-
            return out
        """, None, None),
    "... without the detach, `out=` raises at once": ("""
        def f(x, y):
            w = torch.ones(3, requires_grad=True)
            out = torch.zeros(3)
            torch.cat([w * 0.1], out=out)  # <-
            return out
        """, ("breaks", "unsafe"), "`out=` raises at once"),
    "adversarial review: an `expand`ed view's elements share memory: in place raises, out of place computes": ("""
        def f(x, y):
            h = torch.sigmoid(x).expand(2, 3)
            h *= 2  # <-
            return h
        """, (None, "unsafe"), "share memory"),
    "... a view of it too": ("""
        def f(x, y):
            h = torch.sigmoid(x).expand(2, 3)[0]
            h *= 2  # <-
            return h
        """, (None, "unsafe"), "share memory"),
    "adversarial review: `nn.Buffer(t)` shares `t`'s memory": ("""
        def f(x, y):
            h = torch.sigmoid(x)
            b = nn.Buffer(h.detach())
            h *= 2  # <-
            return h, b
        """, ("breaks", "unsafe"), "nn.Buffer"),
    "... and so does the deprecated `h.resize(n)`": ("""
        def f(x, y):
            h = torch.sigmoid(x)
            flat = h.resize(9)
            h *= 2  # <-
            return h, flat
        """, ("breaks", "none"), "`flat` holds a view of this very tensor"),
    "... `sys._getframe().f_locals` reads the frame's variables by name": ("""
        import sys

        def f(x, y):
            h = torch.sigmoid(x)
            h *= 2  # <-
            return sys._getframe().f_locals["h"]
        """, ("breaks", "unsafe"), "reads its variables by name"),
    "adversarial review: `.to(torch.int64)` gives another dtype: `c *= 0.5` on it is no safe fix": ("""
        def f(x, y):
            c = (x * 4).to(torch.int64)
            c *= 0.5  # <-
            return c
        """, (None, "unsafe"), None),
    "... `.to(x.device)` keeps the dtype": ("""
        def f(x, y):
            c = torch.sigmoid(x).to(x.device)
            c *= 0.5  # <-
            return c
        """, ("breaks", "safe"), "saved by `torch.sigmoid`"),
    "adversarial review: a dict keeps a tensor used as its key (`names[h] = ...`)": ("""
        def f(x, y):
            h = torch.sigmoid(x)
            names = {}
            names[(h, 0)] = "gate"
            h *= 2  # <-
            return h, names
        """, ("breaks", "unsafe"), "stored in"),
    "... `slice(h, None)` keeps it": ("""
        def f(x, y):
            h = torch.sigmoid(x)
            sl = slice(h, None)
            h *= 2  # <-
            return h, sl
        """, ("breaks", "unsafe"), None),
    "... `rows += h` extends a list with views of `h`'s rows": ("""
        def f(x, y):
            h = torch.sigmoid(x)
            rows = []
            rows += h
            h *= 2  # <-
            return h, rows
        """, ("breaks", "unsafe"), "added into `rows`"),
    "... a helper of the file that switches grad off with a call": ("""
        def freeze():
            torch.set_grad_enabled(False)

        def f(x, y):
            h = torch.sigmoid(x)
            freeze()
            h *= 2  # <-
            return h * x
        """, ("breaks", "unsafe"), "switches autograd's mode with a call"),
    "a tensor anywhere in a tuple index (`y[t, ..., 0]`) is advanced indexing: no save of `e` reaches it (demucs)": ("""
        def f(x, y):
            e = x.exp()
            t = torch.arange(0, 2)
            part = e[t, ..., 0]
            part[0] = 0  # <-
            return part, e
        """, ("inplace", "unsafe"), "may share memory"),
    "... but a tuple of slices and ints is a view of what `exp` saved": ("""
        def f(x, y):
            e = x.exp()
            part = e[0:2, ..., 0]
            part[0] = 0  # <-
            return part, e
        """, ("breaks", "none"), "saved by `exp`"),
    "a view of one of `chunk`'s outputs is one of several views too: writing it raises (bottleneck transformer)": ("""
        def f(x, y):
            q, k = (x * 2).chunk(2, dim=0)
            q = q.view(-1)
            q *= 0.5  # <-
            return q, k
        """, ("breaks", "unsafe"), "one of several views"),
    "`map(f, xs)` gives what `f` returns, not slices of one chunked tensor (performer's `map(lambda t: (t[:, :g], t[:, g:]), ...)`)": ("""
        def f(x, y):
            k, v = x * 2, y * 3
            (k, lk), (v, lv) = map(lambda t: (t[:, :2], t[:, 2:]), (k, v))
            v.masked_fill_(v > 0, 0.0)  # <-
            return (k * v).sum() + (lk * lv).sum()
        """, ("inplace", "unsafe"), "nothing saved it"),
    "... and what `f` returns is in the graph where the elements are (perceiver's `map(lambda t: rearrange(t), (q, k, v))`)": ("""
        def f(x, y):
            q, k = (x * 2).chunk(2, dim=-1)
            q, k = map(lambda t: t.reshape(-1), (q, k))
            k = k.softmax(dim=-1)
            k.masked_fill_(k > 0.5, 0.0)  # <-
            return q, k
        """, ("breaks", "unsafe"), "saved by `softmax`"),
    "`x.new(3, 4)` is a new tensor (the legacy constructor), not a view of `x` (fairseq's `.new(n).zero_()`)": ("""
        def f(x, y):
            s = torch.sigmoid(x)
            z = s.new(3, 4).zero_()
            z += 1  # <-
            return s, z
        """, None, None),
    "... `x.new(t)` is on `t`'s memory: nothing known of it, no fix while `t` is read": ("""
        def f(x, y):
            t = x * 2
            z = x.new(t)
            z += 1  # <-
            return t, z
        """, None, None),
    "a parameter annotated `torch.BoolTensor` is a bool tensor: what is counted from it never requires grad (allennlp)": ("""
        def f(x, mask: torch.BoolTensor):
            n = mask.sum(-1).float()
            d = n.sqrt()
            d[d < 1] = 1  # <-
            return x / d
        """, None, None),
    "... annotated `torch.Tensor`, it may be a float one that sqrt saved": ("""
        def f(x, mask: torch.Tensor):
            n = mask.sum(-1).float()
            d = n.sqrt()
            d[d < 1] = 1  # <-
            return x / d
        """, ("breaks", "safe"), "saved by `sqrt`"),
    # ---- an instance's configuration (analysis/config.py) ----------------------------------------------
    "a constructor's constant argument decides the instance's branch (espnet's mask_nonlinear)": (
        _configured('nonlinear="linear"'), ("inplace", "unsafe"), "nothing saved it"),
    "... read through `getattr(self, \"nonlinear\", ...)` too (ultralytics' MLP)": (
        _configured('nonlinear="linear"').replace('if self.nonlinear == "softmax":', 'if getattr(self, "nonlinear", "softmax") == "softmax":'),
        ("inplace", "unsafe"), "nothing saved it"),
    "the other constant takes the saving branch": (
        _configured('nonlinear="softmax"'), ("breaks", "unsafe"), "softmax"),
    "a default no starred argument can replace is the configuration": (
        _configured(''), ("breaks", "unsafe"), "softmax"),
    "an argument not a constant configures nothing": (
        _configured('nonlinear=kind'), ("breaks", "unsafe"), "softmax"),
    "`**kwargs` may pass what the default would have said": (
        _configured('**{"nonlinear": kind}'), ("breaks", "unsafe"), "softmax"),
    "an attribute another method stores again is no constant of the instance": (
        _configured('nonlinear="linear"', "def train_mode(self):\n    self.nonlinear = 'softmax'\n"),
        ("breaks", "unsafe"), "softmax"),
    "an attribute the file stores on another object is no constant of the instance": (
        _configured('nonlinear="linear"', "def twin(self, other):\n    other.nonlinear = 'softmax'\n"),
        ("breaks", "unsafe"), "softmax"),
    "a parameter `__init__` binds again is no constant": (
        _CONFIGURED.replace("    STORE\n", "").replace("BUILT", 'nonlinear="linear"').replace(
            "self.nonlinear = nonlinear", "nonlinear = nonlinear if kind_ok() else 'softmax'\n"
            "        self.nonlinear = nonlinear"), ("breaks", "unsafe"), "softmax"),
    "the constructor's arm: `Identity` returns its input (aliased by the caller)": (
        _arm("False"), ("inplace", "unsafe"), "refers to the same tensor"),
    "the constructor's other arm: the module's saved result": (
        _arm("True"), ("breaks", "safe"), "Sigmoid"),
    "an `if` in `__init__` the configuration decides": (
        _arm("False", "if relu:\n                self.act = nn.Sigmoid()\n            else:\n"
                      "                self.act = nn.Identity()"), ("inplace", "unsafe"), "refers to the same tensor"),
    "a class with `__setattr__` gets no configuration": (
        _arm("True").replace("class Block(nn.Module):\n", "class Block(nn.Module):\n"
                             "        def __setattr__(self, k, v):\n            super().__setattr__(k, v)\n"),
        (None, "unsafe"), None),
    "a loop over a module list with elements goes round at least once: no path returns the input": (
        _ZERO_TRIP.replace("CONVS", "[nn.Conv1d(4, 4, 3, padding=1), nn.Conv1d(4, 4, 3, padding=1)]"),
        ("inplace", "unsafe"), "nothing saved it"),
    "... over a comprehension of `range(3)` too": (
        _ZERO_TRIP.replace("CONVS", "[nn.Conv1d(4, 4, 3, padding=1) for _ in range(3)]"), ("inplace", "unsafe"),
        "nothing saved it"),
    "... over a comprehension of `range(len(xs))` of a non-empty `xs` (kokoro's ParameterList per conv)": (
        _ZERO_TRIP.replace("CONVS", "[nn.Conv1d(4, 4, 3, padding=1) for _ in range(len([3, 5]))]"),
        ("inplace", "unsafe"), "nothing saved it"),
    "... but not of `range(len(xs))` of an `xs` that may be empty": (
        _ZERO_TRIP.replace("CONVS", "[nn.Conv1d(4, 4, 3, padding=1) for _ in range(len(list(range(n))))]").replace(
            "Res(3)", "Res(DEPTH)"), ("breaks", "unsafe"), "sigmoid"),
    "a module list of `range(n)` may be empty: the loop may return the saved input": (
        _ZERO_TRIP.replace("CONVS", "[nn.Conv1d(4, 4, 3, padding=1) for _ in range(n)]").replace("Res(3)", "Res(DEPTH)"),
        ("breaks", "unsafe"), "sigmoid"),
    "... but built with `n=3` (a constant the constructor is given), it has three: the loop runs": (
        _ZERO_TRIP.replace("CONVS", "[nn.Conv1d(4, 4, 3, padding=1) for _ in range(n)]"), ("inplace", "unsafe"), None),
    "a module list the file pops from may be empty": (
        _ZERO_TRIP.replace("CONVS", "[nn.Conv1d(4, 4, 3, padding=1)]") +
        "\n    def prune(block):\n        block.convs.pop()\n", ("breaks", "unsafe"), "sigmoid"),
    "a module list a subclass assigns again may be empty": (
        _ZERO_TRIP.replace("CONVS", "[nn.Conv1d(4, 4, 3, padding=1)]") +
        "\n    class Bare(Res):\n        def __init__(self, n):\n            super().__init__(n)\n"
        "            self.convs = nn.ModuleList()\n", ("breaks", "unsafe"), "sigmoid"),
    "a loop over `range(0)` never runs": (
        _ZERO_TRIP.replace("CONVS", "[nn.Conv1d(4, 4, 3, padding=1) for _ in range(0)]"), ("breaks", "unsafe"),
        "sigmoid"),
    "a `range` the file rebinds is not the builtin": (
        _ZERO_TRIP.replace("CONVS", "[nn.Conv1d(4, 4, 3, padding=1) for _ in range(3)]") +
        "\n    def range(n):\n        return []\n", ("breaks", "unsafe"), "sigmoid"),
    "the indices of a `max` whose values are dropped: no backward reads what it saved": ("""
        def f(scores, y):
            _, idx = scores.max(2)
            idx -= 1  # <-
            return idx
        """, None, None),
    "... nor of `max(...)[1]`": ("""
        def f(scores, y):
            idx = scores.max(2)[1]
            idx -= 1  # <-
            return idx
        """, None, None),
    "the indices of a `max` whose values are kept: its backward reads them": ("""
        def f(scores, y):
            vals, idx = scores.max(2)
            idx -= 1  # <-
            return vals.sum() + idx.sum()
        """, ("breaks", "unsafe"), "saved by `max`"),
    "... kept by reading `_` later": ("""
        def f(scores, y):
            _, idx = scores.max(2)
            idx -= 1  # <-
            return _.sum() + idx.sum()
        """, ("breaks", "unsafe"), "saved by `max`"),
    "... kept in the tuple": ("""
        def f(scores, y):
            both = scores.max(2)
            idx = both[1]
            idx -= 1  # <-
            return both[0].sum()
        """, ("breaks", "unsafe"), "saved by `max`"),
    "`einsum` of two operands is a new tensor, not a view of the first": ("""
        def f(q, k):
            dots = torch.einsum("bhid,bhjd->bhij", q, k) * 0.5
            dots = torch.einsum("bhij,hk->bkij", dots, k[0, :, :, 0])
            dots.masked_fill_(dots > 0, -1e9)  # <-
            return dots.softmax(dim=-1)
        """, ("inplace", "unsafe"), "nothing saved it"),
    "`weight_norm(conv)` in a chain is that conv: it saves its input, not its output": ("""
        from torch.nn.utils.parametrizations import weight_norm
        block = nn.Sequential(weight_norm(nn.Conv1d(4, 4, 3)), nn.LeakyReLU(0.2, inplace=True))  # <-
        """, ("inplace", "safe"), "nothing saved"),
    "`weight_norm` of a module outplace does not know may save its output": ("""
        from torch.nn.utils.parametrizations import weight_norm
        from blocks import make_conv
        block = nn.Sequential(weight_norm(make_conv()), nn.LeakyReLU(0.2, inplace=True))  # <-
        """, ("inplace", "unsafe"), "if it saves its output"),
    "eval19 held-out (easyocr): a module-level alias of a torch module (`BatchNorm2d = nn.BatchNorm2d`) is that module": ("""
        BatchNorm2d = nn.BatchNorm2d
        block = nn.Sequential(nn.Conv2d(3, 3, 3), BatchNorm2d(3), nn.ReLU(inplace=True))  # <-
        """, ("inplace", "safe"), "nothing saved"),
    "... and a module-level alias of a saving one still saves": ("""
        Sig = nn.Sigmoid
        block = nn.Sequential(nn.Conv2d(3, 3, 3), Sig(), nn.ReLU(inplace=True))  # <-
        """, ("breaks", "safe"), "nn.Sigmoid"),
    "`einsum` of one operand may be a view of it: no safe fix (eval9's tv_einsum_transpose)": ("""
        def f(x, y):
            h = torch.sigmoid(x)
            t = torch.einsum("ij->ji", h)
            h *= 2  # <-
            return h, t
        """, ("breaks", "unsafe"), "sigmoid"),
    "a parameter read with a string key is no tensor (a dict of features): its item store writes none": ("""
        class Layer(nn.Module):
            def __init__(self):
                super().__init__()
                self.lin = nn.Linear(4, 4)

            def forward(self, features, key):
                out = self.lin(features["0"])
                features[key] = out  # <-
                return features
        """, None, None),
    "... with a module constant for the key too": ("""
        N_ATOMS = "n_atoms"

        class Head(nn.Module):
            def forward(self, inputs, key):
                n = inputs[N_ATOMS]
                y = inputs["y"] / n
                inputs[key] = y  # <-
                return inputs
        """, None, None),
    "a string read of another parameter says nothing of this one": ("""
        class Layer(nn.Module):
            def __init__(self):
                super().__init__()
                self.lin = nn.Linear(4, 4)

            def forward(self, features, key, cfg):
                n = cfg["0"]
                out = self.lin(features)
                features[key] = out  # <-
                return features
        """, ("breaks", "unsafe"), "nn.Linear"),
    "`number / y` saves neither `y` nor its result (Python runs `y.__rtruediv__`: a reciprocal)": ("""
        def f(x, w):
            y = x * 2
            z = 5000.0 / y
            y.add_(1)  # <-
            return z
        """, ("inplace", "unsafe"), "nothing saved it"),
    "`number ** y` saves `y` (and its result)": ("""
        def f(x, w):
            y = x * 2
            z = 2.0 ** y
            y.add_(1)  # <-
            return z
        """, ("breaks", "unsafe"), "saved by `**`"),
    "`w / y` with a tensor numerator saves `y`": ("""
        def f(x, w):
            y = x * 2
            z = w / y
            y.add_(1)  # <-
            return z
        """, ("breaks", "unsafe"), "saved by `/`"),
    "adversarial review: an integer tensor index of no dimension is a view (`h[s.argmax()]`)": ("""
        def f(x, y):
            h = x * 3.0
            i = y.argmax()
            row = h[i]
            row.mul_(2)  # <-
            return h
        """, (None, "unsafe"), "`h` refers to the same tensor"),
    "... as in a tuple index (`out[b, lengths[b] - 1]`)": ("""
        def f(x, y):
            out = x * 1.0
            last = out[0, y[0] - 1]
            last.mul_(0.5)  # <-
            return out
        """, (None, "unsafe"), "`out` refers to the same tensor"),
    "a bool mask index is always a copy": ("""
        def f(x, y):
            h = x * 3.0
            row = h[y > 0]
            row.mul_(2)  # <-
            return h, row
        """, (None, "safe"), None),
    "adversarial review: one of the file's modules keeps what it is built with": ("""
        class ProtoHead(nn.Module):
            def __init__(self, protos):
                super().__init__()
                self.protos = protos

        def f(x, y):
            protos = torch.tanh(x)
            head = ProtoHead(protos)
            protos.mul_(2.0)  # <-
            return head
        """, ("breaks", "unsafe"), "kept by the `ProtoHead`"),
    "adversarial review: a torch module keeps the tensor it is built with (a loss's `weight=`)": ("""
        def f(x, y):
            h = torch.sigmoid(x)
            o = nn.CrossEntropyLoss(weight=h)
            h.mul_(2)  # <-
            return h, o
        """, ("breaks", "unsafe"), "kept by the `nn.CrossEntropyLoss`"),
    "adversarial review: a function of the file keeps an element of its `*args` (a `print` it defines)": ("""
        KEPT = []

        def print(*args):
            KEPT.append(args[0])

        def f(x, y):
            h = torch.sigmoid(x)
            print(h)
            h.mul_(2)  # <-
            return h
        """, ("breaks", "unsafe"), "kept by"),
    "... the builtin `print` keeps nothing": ("""
        def f(x, y):
            h = torch.sigmoid(x)
            print(h)
            h.mul_(2)  # <-
            return h
        """, ("breaks", "safe"), None),
    "adversarial review: a sparse tensor keeps its values' memory": ("""
        def f(x, y):
            h = torch.sigmoid(x)
            sp = torch.sparse_coo_tensor(torch.tensor([[0, 2]]), h, (4,))
            h.mul_(2)  # <-
            return h, sp
        """, ("breaks", "unsafe"), "`sp` refers to the same tensor"),
    "adversarial review: `q.put(h)` on what may be a tensor or a queue keeps `h`": ("""
        import queue

        def f(x, y):
            h = torch.sigmoid(x)
            q = queue.Queue()
            q.put(h)
            h.mul_(2)  # <-
            return h, q.get()
        """, ("breaks", "unsafe"), "stored in `q`"),
    "adversarial review: a file that reads its callers' frames gets no safe fix": ("""
        import sys

        def grab():
            return sys._getframe(1).f_locals["h"]

        def f(x, y):
            h = torch.sigmoid(x)
            a = grab()
            h.mul_(2)  # <-
            return h, a
        """, ("breaks", "unsafe"), "through their frames"),
    "adversarial review: a file that replaces a torch function gets no safe fix": ("""
        torch.sigmoid = lambda v: v

        def f(x, y):
            h = torch.sigmoid(x)
            h.mul_(2)  # <-
            return h
        """, ("breaks", "unsafe"), "replaces a torch function"),
    "adversarial review: a file with a Tensor subclass gets no safe fix": ("""
        class Lazy(torch.Tensor):
            def sigmoid(self):
                return self

        def f(x, y):
            h = torch.sigmoid(x)
            h.mul_(2)  # <-
            return h
        """, ("breaks", "unsafe"), "Tensor subclass"),
    "adversarial review: a returned tuple that holds the tensor: no fix at all (certainly wrong)": ("""
        def f(x, y):
            h = torch.sigmoid(x)
            out = (h, h.sum())
            h.mul_(2)  # <-
            return out
        """, ("breaks", "none"), "`out` holds this very tensor"),
    "adversarial review: `mask.sum()` is an integer count (an index of no dimension: a view), not a mask": ("""
        def f(x, y):
            h = x * 3.0
            i = (y > 0.25).sum()
            row = h[i]
            row.mul_(2)  # <-
            return h
        """, (None, "unsafe"), "`h` refers to the same tensor"),
    "adversarial review: a row picked from a parameter by a tensor index may be a view of it": ("""
        def scale_row(h, i, w):
            row = h[i]
            z = row * w
            row.mul_(0.5)  # <-
            return z

        def f(x, y):
            return scale_row(x * 3.0, y[0], x)
        """, ("breaks", "unsafe"), "may share memory with"),
    "adversarial review: a file that replaces builtins gets no safe fix": ("""
        import builtins
        KEPT = []

        def _keep(v):
            KEPT.append(v)
            return 0

        builtins.len = _keep

        def f(x, y):
            h = torch.sigmoid(x)
            len(h)
            h.mul_(2)  # <-
            return h
        """, ("breaks", "unsafe"), "replaces Python builtins"),
    "adversarial review: an instance of the file's class called as a function keeps its `*args`": ("""
        class Recorder:
            def __init__(self):
                self.items = []

            def __call__(self, *args):
                self.items.extend(args)

        record = Recorder()

        def f(x, y):
            h = torch.sigmoid(x)
            record(h)
            h.mul_(2)  # <-
            return h
        """, ("breaks", "unsafe"), "kept by"),
    "a loop over modules written out in order runs them as a chain: each ReLU gets a conv's output": (
        _CHAIN_LOOP.replace("FIRST", "nn.Conv1d(4, 4, 1)"), ("inplace", "safe"), "nothing saved it"),
    "... so a ReLU after a Sigmoid is written after the Sigmoid saved its output": (
        _CHAIN_LOOP.replace("FIRST", "nn.Sigmoid()"), ("breaks", "safe"), "Sigmoid"),
    "... and by index (`for i in range(len(self.layers))`)": (
        _CHAIN_LOOP.replace("FIRST", "nn.Sigmoid()").replace(
            "for f in self.layers:\n                x = f(x)", "for i in range(len(self.layers)):\n"
            "                x = self.layers[i](x)"), ("breaks", "safe"), "Sigmoid"),
    "a module list the file appends to is no chain: any member may come after any": (
        _CHAIN_LOOP.replace("FIRST", "nn.Conv1d(4, 4, 1)") + "\n    def grow(g):\n        g.layers.append(nn.Sigmoid())\n",
        ("breaks", "unsafe"), "was saved by"),
    "a helper's detached view (`t.cpu().detach().numpy()`) is outside the graph: its writes are deliberate": ("""
        def to_numpy(t):
            return t.cpu().detach().numpy()

        def f(x, y):
            std = to_numpy(x.sqrt())
            std[std == 0] = 1  # <-
            return std
        """, None, None),
    "... a helper's plain view is the saved tensor": ("""
        def flat(t):
            return t.view(-1)

        def f(x, y):
            std = flat(x.sqrt())
            std[std == 0] = 1  # <-
            return std
        """, ("breaks", "safe"), "sqrt"),
    "two arms of an `if`: `q` is the query on one, the query was saved on the other: no path breaks": (
        _ARMS, ("inplace", "unsafe"), "nothing saved it"),
    "... a save on the arm where `q` is still what was saved breaks": (
        _ARMS.replace("q = query", "q = torch.sigmoid(query)"), ("breaks", "safe"), "sigmoid"),
    "... an `if` a loop runs again is not split (another iteration takes the other arm)": (
        _ARMS.replace("            q = query\n            if self.project:\n                q = self.lin(q)\n",
                      "            q = query\n            for _ in range(n):\n                if self.project:\n"
                      "                    q = self.lin(q)\n"), ("breaks", "unsafe"), "nn.Linear"),
    "adversarial review: a module list emptied through another name (`layers = m.convs; del layers[0]`)": (
        _ZERO_TRIP.replace("CONVS", "[nn.Conv1d(4, 4, 3, padding=1)]") +
        "\n    def prune(m):\n        layers = m.convs\n        del layers[0]\n", ("breaks", "unsafe"), "sigmoid"),
    "adversarial review: another class's method may run on the object and assign the list": (
        _ZERO_TRIP.replace("CONVS", "[nn.Conv1d(4, 4, 3, padding=1)]") +
        "\n    class Other:\n        def setup(self):\n            self.convs = nn.ModuleList()\n",
        ("breaks", "unsafe"), "sigmoid"),
    "adversarial review: the method may run on another object (`forward = Res.forward`)": (
        _ZERO_TRIP.replace("CONVS", "[nn.Conv1d(4, 4, 3, padding=1)]") +
        "\n    class Twin(nn.Module):\n        forward = Res.forward\n", ("breaks", "unsafe"), "sigmoid"),
    "adversarial review: `import *` may bind `range`": (
        _ZERO_TRIP.replace("CONVS", "[nn.Conv1d(4, 4, 3, padding=1) for _ in range(3)]").replace(
            "    class Res(", "    from helpers import *\n\n    class Res(", 1),
        ("breaks", "unsafe"), "sigmoid"),
    "adversarial review: `fuse_modules` may put an `nn.Identity` in a module's place": ("""
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.lin = nn.Linear(4, 4)
                self.bn = nn.BatchNorm1d(4)

            def forward(self, x):
                h = torch.sigmoid(x)
                z = self.bn(h)
                h.mul_(2)  # <-
                return h, z

        def build():
            return torch.ao.quantization.fuse_modules(Net().eval(), [["lin", "bn"]])
        """, ("breaks", "unsafe"), "refers to the same tensor"),
    "adversarial review: a mask bound before a loop that reshapes the tensor is no elementwise mask": ("""
        def f(x, y):
            h = torch.sigmoid(x)
            m = h > 0.5
            for i in range(2):
                h[m] = 0.0  # <-
                h = torch.sigmoid(torch.stack([h, h]))
            return h
        """, ("breaks", "safe"), "sigmoid"),  # (the clone before the write: no masked fill)
    "adversarial review: a torch patched through another name makes the file opaque": ("""
        def f(x, y):
            h = torch.sigmoid(x)
            h.mul_(2)  # <-
            return h

        def patch():
            mod = torch
            mod.sigmoid = lambda t: t
        """, ("breaks", "unsafe"), "replaces a torch function"),
    "adversarial review: `torch.randn(3).requires_grad_()` is a leaf that requires grad": ("""
        def f(x, y):
            w = torch.randn(3).requires_grad_()
            w.mul_(2)  # <-
            return w
        """, ("breaks", "unsafe"), "leaf"),
    "... `requires_grad_(False)` is none": ("""
        def f(x, y):
            w = torch.randn(3).requires_grad_(False)
            w.mul_(2)  # <-
            return w
        """, None, None),
    "a module list initialised by `apply(fn)` where `fn` only sets weights still goes round": (
        _ZERO_TRIP.replace("CONVS", "[nn.Conv1d(4, 4, 3, padding=1)]").replace(
            "            self.convs = nn.ModuleList([nn.Conv1d(4, 4, 3, padding=1)])\n",
            "            self.convs = nn.ModuleList([nn.Conv1d(4, 4, 3, padding=1)])\n"
            "            self.convs.apply(init)\n") +
        "\n    def init(m):\n        if isinstance(m, nn.Conv1d):\n            nn.init.zeros_(m.bias)\n",
        ("inplace", "unsafe"), "nothing saved it"),
    "... but not where `fn` may empty it": (
        _ZERO_TRIP.replace("CONVS", "[nn.Conv1d(4, 4, 3, padding=1)]").replace(
            "            self.convs = nn.ModuleList([nn.Conv1d(4, 4, 3, padding=1)])\n",
            "            self.convs = nn.ModuleList([nn.Conv1d(4, 4, 3, padding=1)])\n"
            "            self.convs.apply(init)\n") +
        "\n    def init(m):\n        if isinstance(m, nn.ModuleList):\n            del m[0]\n",
        ("breaks", "unsafe"), "sigmoid"),
    "adversarial review: a module list handed to a helper may be emptied there": (
        _ZERO_TRIP.replace("CONVS", "[nn.Conv1d(4, 4, 3, padding=1)]") +
        "\n    def drain(blocks):\n        while len(blocks):\n            del blocks[0]\n\n"
        "    def build():\n        r = Res(3)\n        drain(r.convs)\n        return r\n",
        ("breaks", "unsafe"), "sigmoid"),
    "what a `forward` reads out of its batch dict by a string key is still its input, in a graph": ("""
        class M(nn.Module):
            def forward(self, batch):
                x = batch["x"] - batch["mean"]
                s = torch.var(x, dim=1, keepdim=True)
                x /= s  # <-
                return x
        """, ("breaks", "unsafe"), "torch.var"),
    "a numpy array on a tensor's memory is no tensor: writing it is no tensor write (mace's `_check_non_zero`)": ("""
        def nonzero(std):
            std[std == 0] = 1  # <-
            return std

        def f(x, y):
            return nonzero(torch.sqrt(x).detach().numpy())
        """, None, None),
    "... but the tensor under it sees it: no safe fix for a write into the tensor while the array is read": ("""
        def f(x, y):
            h = torch.sigmoid(x)
            a = h.detach().numpy()
            h.mul_(2)  # <-
            return h, a
        """, ("breaks", "unsafe"), "`a` refers to the same tensor"),
    "adversarial review: an arm where the sigmoid's output is still what is written breaks, with the callers' facts": ("""
        def f(x, p):
            lin = nn.Linear(4, 4)
            query = torch.sigmoid(x)
            q = query
            if p:
                q = lin(q)
            q *= 0.5  # <-
            return (q, query)
        """, ("breaks", "unsafe"), "was saved by"),
    "adversarial review: a write through `.detach()` into what autograd saved breaks backward (shared version counter)": ("""
        def f(x, y):
            h = torch.sigmoid(x)
            d = h.detach()
            d.mul_(2)  # <-
            return h
        """, ("breaks", "none"), "version counter"),
    "... through `.data` it is deliberate (no version counter shared)": ("""
        def f(x, y):
            h = torch.sigmoid(x)
            d = h.data
            d.mul_(2)  # <-
            return h
        """, None, None),
    "... and through `.detach()` of what nothing saved it is nothing": ("""
        def f(x, y):
            h = x * 2
            d = h.detach()
            d.mul_(2)  # <-
            return h
        """, None, None),
    "eval14 held-out (hrnet): a name rebound at the top of an outer iteration is not what ReLU saved last time": ("""
        def f(x, y):
            relu = nn.ReLU(inplace=True)
            outs = []
            for i in range(2):
                z = 0
                for j in range(2):
                    z += x[j]  # <-
                outs.append(relu(z))
            return outs
        """, ("inplace", "unsafe"), "nothing saved it"),
    "... but a save in an earlier iteration of the inner loop still reaches the write": ("""
        def f(x, y):
            outs = []
            for i in range(2):
                z = 0
                for j in range(2):
                    z += x[j]  # <-
                    outs.append(z * y)
            return outs
        """, ("breaks", "unsafe"), "was saved by `*`"),
    "... and so does a save of a tensor made before the inner loop": ("""
        def f(x, y):
            outs = []
            for i in range(2):
                z = torch.zeros(3) + y
                for j in range(2):
                    z += x[j]  # <-
                    outs.append(z * y)
            return outs
        """, ("breaks", "unsafe"), "was saved by `*`"),
    "... and a save made last time round the outer loop, of what the outer loop keeps": ("""
        def f(x, y):
            z = x * 1
            ws = []
            for i in range(2):
                for j in range(2):
                    w = torch.sin(z)
                    ws.append(w)
                z.mul_(2)  # <-
            return z, ws
        """, ("breaks", "unsafe"), "sin"),
    "eval14 held-out (pgd_head): each iteration's element of a `forward` argument is its own tensor": ("""
        class M(nn.Module):
            def __init__(self):
                super().__init__()
                self.lam = nn.Parameter(torch.tensor(0.1))

            def forward(self, preds):
                for pred in preds:
                    b = pred[:, 2:]
                    b /= 2.0  # <-
                    a = pred[:, :2]
                    s = torch.sigmoid(self.lam)
                    a[:, 0] = s * a[:, 0]
        """, ("inplace", "none"), "another name for"),
    "... but what it saved of this iteration's element is still saved": ("""
        class M(nn.Module):
            def __init__(self):
                super().__init__()
                self.lam = nn.Parameter(torch.tensor(0.1))

            def forward(self, preds):
                for pred in preds:
                    a = pred[:, :2]
                    s = torch.sigmoid(self.lam)
                    c = s * a
                    a /= 2.0  # <-
                    self.last = c
        """, ("breaks", "none"), "was saved by `*`"),
    "... and the rows of a tensor share one version counter: a save of one row is a save of the next": ("""
        def f(x, y):
            h = torch.sigmoid(x).view(3, 1)
            for row in h:
                row.mul_(2)  # <-
                z = row * y
            return h
        """, ("breaks", "unsafe"), "saved"),
    "eval14 held-out (deblurgan): a chain's members appended in a loop come an iteration at a time": ("""
        class D(nn.Module):
            def __init__(self, norm_layer):
                super().__init__()
                seq = []
                for n in range(2):
                    seq += [nn.Conv2d(8, 8, 3), norm_layer(8)]
                seq += [nn.LeakyReLU(0.2, True)]  # <-
                self.model = nn.Sequential(*seq)

            def forward(self, x):
                return self.model(x)
        """, ("inplace", "unsafe"), None),
    "... but the last iteration's member still feeds the in-place one": ("""
        class D(nn.Module):
            def __init__(self, n):
                super().__init__()
                seq = []
                for i in range(n):
                    seq += [nn.Linear(8, 8), nn.Sigmoid()]
                seq += [nn.LeakyReLU(0.2, True)]  # <-
                self.model = nn.Sequential(*seq)

            def forward(self, x):
                return self.model(x)
        """, ("breaks", "unsafe"), "nn.Sigmoid"),
    "eval14 held-out (SECOND): the run that skips a loop's members never met what they saved": ("""
        class B(nn.Module):
            def __init__(self, n):
                super().__init__()
                block = [build_conv(), build_norm(), nn.ReLU(inplace=True)]  # <-
                for j in range(n):
                    block.append(build_conv())
                    block.append(build_norm())
                    block.append(nn.ReLU(inplace=True))
                self.block = nn.Sequential(*block)

            def forward(self, x):
                return self.block(x)
        """, ("inplace", "unsafe"), None),
    "... but an optional member that saves its result, right before the in-place one, is met": ("""
        class B(nn.Module):
            def __init__(self, n, act):
                super().__init__()
                block = [build_conv()]
                if act:
                    block.append(nn.Sigmoid())
                block.append(nn.ReLU(inplace=True))  # <-
                self.block = nn.Sequential(*block)

            def forward(self, x):
                return self.block(x)
        """, ("breaks", "unsafe"), "nn.Sigmoid"),
    "eval14 held-out (mmagic vgg): a registry's `@MODELS.register_module()` puts no submodule in place": ("""
        @MODELS.register_module()
        class M(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv6 = nn.Conv2d(8, 8, kernel_size=1)
                self.relu = nn.ReLU(inplace=True)  # <-

            def forward(self, x):
                return self.relu(self.conv6(x))
        """, ("inplace", "unsafe"), "nothing saved it"),
    "... but `nn.Module.register_module(name, module)` does": ("""
        class M(nn.Module):
            def __init__(self, make):
                super().__init__()
                self.conv6 = nn.Conv2d(8, 8, kernel_size=1)
                self.relu = nn.ReLU(inplace=True)  # <-
                self.register_module("conv6", make())

            def forward(self, x):
                return self.relu(self.conv6(x))
        """, ("inplace", "unsafe"), "if an unknown call returned its argument"),
    "eval14 held-out (mmagic vgg): each arm of an optional norm before an in-place module is judged alone": ("""
        @MODELS.register_module()
        class M(nn.Module):
            def __init__(self, batch_norm=False):
                super().__init__()
                self.batch_norm = batch_norm
                self.conv6 = nn.Conv2d(8, 8, kernel_size=1)
                if self.batch_norm:
                    self.bn = nn.BatchNorm2d(8)
                self.relu = nn.ReLU(inplace=True)  # <-

            def forward(self, x):
                out = self.conv6(x)
                if self.batch_norm:
                    out = self.bn(out)
                out = self.relu(out)
                return out
        """, ("inplace", "unsafe"), "nothing saved it"),
    "... but an arm where what the module writes was saved still breaks": ("""
        @MODELS.register_module()
        class M(nn.Module):
            def __init__(self, act=False):
                super().__init__()
                self.act = act
                self.conv6 = nn.Conv2d(8, 8, kernel_size=1)
                self.relu = nn.ReLU(inplace=True)  # <-

            def forward(self, x):
                out = self.conv6(x)
                if self.act:
                    out = torch.sigmoid(out)
                out = self.relu(out)
                return out
        """, ("breaks", "unsafe"), "sigmoid"),
    "eval14 held-out (vote_fusion): a helper's `new_tensor` result needs no grad whatever its arguments": ("""
        def extract(meta, t):
            return t.new_tensor(meta["scale"])

        def f(x, y):
            c = x * 1.0
            s = extract({"scale": [2.0]}, x)
            d = c * s[0]
            c[0] = 0  # <-
            return d
        """, ("inplace", "unsafe"), "nothing saved it"),
    "... but a helper's result computed from its argument may require grad as the argument does": ("""
        def extract(meta, t):
            return t * meta["scale"]

        def f(x, y):
            c = x * 1.0
            s = extract({"scale": 2.0}, y)
            d = c * s[0]
            c[0] = 0  # <-
            return d
        """, ("breaks", "unsafe"), "was saved by `*`"),
    "eval16 held-out (funasr CIF): the path where `mask` is None ends at `mask.squeeze(-1)`": ("""
        class P(nn.Module):
            def __init__(self):
                super().__init__()
                self.out = nn.Linear(4, 1)

            def forward(self, hidden, mask=None, target_length=None):
                alphas = torch.relu(self.out(hidden))
                if mask is not None:
                    alphas = alphas * mask
                alphas = alphas.squeeze(-1)
                mask = mask.squeeze(-1)
                token_num = alphas.sum(-1)
                if target_length is not None:
                    alphas *= (target_length / token_num)[:, None]  # <-
                return alphas, mask
        """, ("inplace", "unsafe"), None),
    "... but where nothing touches `mask`, the path where it is None reaches the write": ("""
        class P(nn.Module):
            def __init__(self):
                super().__init__()
                self.out = nn.Linear(4, 1)

            def forward(self, hidden, mask=None, target_length=None):
                alphas = torch.relu(self.out(hidden))
                if mask is not None:
                    alphas = alphas * mask
                alphas = alphas.squeeze(-1)
                n = 0
                token_num = alphas.sum(-1)
                if target_length is not None:
                    alphas *= (target_length / token_num)[:, None]  # <-
                return alphas, mask
        """, ("breaks", "unsafe"), "torch.relu"),
    "eval16 held-out (spandrel SRVGG): a module list filled by appends in a loop, run in turn, is a chain": ("""
        class Net(nn.Module):
            def __init__(self, num_conv=4):
                super().__init__()
                self.body = nn.ModuleList()
                for _ in range(num_conv):
                    self.body.append(nn.Conv2d(8, 8, 3, 1, 1))
                    pass
                    self.body.append(nn.ReLU(inplace=True))  # <-
                self.body.append(nn.Conv2d(8, 8, 3, 1, 1))
            
            def forward(self, x):
                out = x
                for layer in self.body:
                    out = layer(out)
                return out
        """, ("inplace", "safe"), "nothing saved it"),
    "... where a member saving its result comes right before the in-place one, it breaks": ("""
        class Net(nn.Module):
            def __init__(self, num_conv=4):
                super().__init__()
                self.body = nn.ModuleList()
                for _ in range(num_conv):
                    self.body.append(nn.Conv2d(8, 8, 3, 1, 1))
                    self.body.append(nn.Sigmoid())
                    self.body.append(nn.ReLU(inplace=True))  # <-
                self.body.append(nn.Conv2d(8, 8, 3, 1, 1))
            
            def forward(self, x):
                out = x
                for layer in self.body:
                    out = layer(out)
                return out
        """, ("breaks", "safe"), "nn.Sigmoid"),
    "... and a list appended to outside `__init__` is no chain (any member may follow any)": ("""
        class Net(nn.Module):
            def __init__(self, num_conv=4):
                super().__init__()
                self.body = nn.ModuleList()
                for _ in range(num_conv):
                    self.body.append(nn.Conv2d(8, 8, 3, 1, 1))
                    pass
                    self.body.append(nn.ReLU(inplace=True))  # <-
                self.body.append(nn.Conv2d(8, 8, 3, 1, 1))
            def grow(self):
                self.body.append(nn.Conv2d(8, 8, 1))

            def forward(self, x):
                out = x
                for layer in self.body:
                    out = layer(out)
                return out
        """, ("breaks", "unsafe"), "nn.Conv2d"),
    "eval16 held-out (uni2ts): a jaxtyping `Bool[Tensor, ...]` mask needs no grad, so `t * mask` saves no `t`": ("""
        from jaxtyping import Bool, Float

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.proj = nn.Linear(4, 4)

            def forward(self, target, observed_mask: Bool[torch.Tensor, "b s d"]):
                t = self.proj(target)
                loc = (t * observed_mask).sum(-2)
                t[..., 0, :] = loc  # <-
                return t
        """, ("inplace", "safe"), "nothing saved it"),
    "... but a `Float[Tensor, ...]` one may, and then the product saved `t`": ("""
        from jaxtyping import Bool, Float

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.proj = nn.Linear(4, 4)

            def forward(self, target, observed_mask: Float[torch.Tensor, "b s d"]):
                t = self.proj(target)
                loc = (t * observed_mask).sum(-2)
                t[..., 0, :] = loc  # <-
                return t
        """, ("breaks", "safe"), "was saved by `*`"),
    "eval16 held-out (funasr ProfileAug): a save in a temporary only `torch.nonzero` consumes dies with it": ("""
        def f(x, y):
            mask = torch.ones(3, 4)
            for idx in range(3):
                valid = torch.nonzero(x[idx] * mask[idx])
                mask[idx, valid[0]] = 0  # <-
            return mask
        """, None, None),
    "... and so does one a comparison consumes": ("""
        def f(x, y):
            mask = torch.ones(3, 4)
            hit = (x * mask).abs() > 0.5
            mask[0] = 0  # <-
            return mask, hit
        """, None, None),
    "... but a product kept in a name keeps its autograd node, and what it saved": ("""
        def f(x, y):
            mask = torch.ones(3, 4)
            prod = x * mask
            valid = torch.nonzero(prod)
            mask[0] = 0  # <-
            return mask, valid, prod
        """, ("breaks", "safe"), "was saved by `*`"),
    "eval16 held-out (pytorchcv hrnet): a `forward` argument every call passes a list is no tensor by assumption": ("""
        class Block(nn.Module):
            def __init__(self):
                super().__init__()
                self.branches = nn.ModuleList([nn.Conv2d(4, 4, 3, padding=1), nn.Conv2d(4, 4, 3, padding=1)])

            def forward(self, x):
                for i in range(2):
                    x[i] = self.branches[i](x[i])  # <-
                return x

        class Stage(nn.Module):
            def __init__(self):
                super().__init__()
                self.transition = nn.Conv2d(4, 4, 3, padding=1)
                self.layers = Block()

            def forward(self, x):
                return self.layers([self.transition(x), self.transition(x)])
        """, None, None),
    "... but one the calls pass a tensor still is": ("""
        class Block(nn.Module):
            def __init__(self):
                super().__init__()
                self.branches = nn.ModuleList([nn.Conv2d(4, 4, 3, padding=1), nn.Conv2d(4, 4, 3, padding=1)])

            def forward(self, x):
                for i in range(2):
                    x[i] = self.branches[i](x[i])  # <-
                return x

        class Stage(nn.Module):
            def __init__(self):
                super().__init__()
                self.transition = nn.Conv2d(4, 4, 3, padding=1)
                self.layers = Block()

            def forward(self, x):
                return self.layers(self.transition(x))
        """, ("breaks", "unsafe"), "nn.Conv2d"),
    "eval16 held-out (pytorchcv ibnbresnet): `self.features.add_module(f\"unit{i}\", m)` into a torch container replaces no class's attribute": ("""
        class Unit(nn.Module):
            def __init__(self, use_inst_norm):
                super().__init__()
                self.use_inst_norm = use_inst_norm
                self.body = nn.Conv2d(4, 4, 3, padding=1)
                if self.use_inst_norm:
                    self.inst_norm = nn.InstanceNorm2d(4, affine=True)
                self.activ = nn.ReLU(inplace=True)  # <-

            def forward(self, x):
                x = self.body(x)
                if self.use_inst_norm:
                    x = self.inst_norm(x)
                x = self.activ(x)
                return x

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.features = nn.Sequential()
                for i in range(2):
                    self.features.add_module("unit{}".format(i), Unit(use_inst_norm=(i == 1)))

            def forward(self, x):
                return self.features(x)
        """, ("inplace", "safe"), None),
    "... but `self.add_module(computed name, m)` may replace any module attribute": ("""
        class Unit(nn.Module):
            def __init__(self, use_inst_norm):
                super().__init__()
                self.use_inst_norm = use_inst_norm
                self.body = nn.Conv2d(4, 4, 3, padding=1)
                if self.use_inst_norm:
                    self.inst_norm = nn.InstanceNorm2d(4, affine=True)
                self.activ = nn.ReLU(inplace=True)  # <-

            def forward(self, x):
                x = self.body(x)
                if self.use_inst_norm:
                    x = self.inst_norm(x)
                x = self.activ(x)
                return x

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.features = nn.Sequential()
                for i in range(2):
                    self.add_module("unit{}".format(i), Unit(use_inst_norm=(i == 1)))

            def forward(self, x):
                return self.features(x)
        """, (None, "unsafe"), None),
    "eval16 held-out (spandrel RealCUGAN): `self.se is not None` where the configuration built a module there": ("""

        class Gate(nn.Module):
            def __init__(self, c):
                super().__init__()
                self.conv = nn.Conv2d(c, c, 1)

            def forward(self, x):
                return torch.mul(x, torch.sigmoid(self.conv(x)))


        class Unit(nn.Module):
            def __init__(self, c, se):
                super().__init__()
                self.conv = nn.Sequential(nn.Conv2d(c, c, 3), nn.LeakyReLU(0.1, inplace=True))
                if se:
                    self.seblock = Gate(c)
                else:
                    self.seblock = None

            def forward(self, x):
                z = self.conv(x)
                if self.seblock is not None:
                    z = self.seblock(z)
                return z


        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.unit = Unit(8, se=True)

            def forward(self, x, alpha: float = 1):
                y = self.unit(x)
                y *= alpha  # <-
                return self.unit(y)
        """, ("inplace", "unsafe"), None),
    "... but where it stored None, the path without the gate is taken, and the in-place LeakyReLU's result is written": ("""

        class Gate(nn.Module):
            def __init__(self, c):
                super().__init__()
                self.conv = nn.Conv2d(c, c, 1)

            def forward(self, x):
                return torch.mul(x, torch.sigmoid(self.conv(x)))


        class Unit(nn.Module):
            def __init__(self, c, se):
                super().__init__()
                self.conv = nn.Sequential(nn.Conv2d(c, c, 3), nn.LeakyReLU(0.1, inplace=True))
                if se:
                    self.seblock = Gate(c)
                else:
                    self.seblock = None

            def forward(self, x):
                z = self.conv(x)
                if self.seblock is not None:
                    z = self.seblock(z)
                return z


        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.unit = Unit(8, se=False)

            def forward(self, x, alpha: float = 1):
                y = self.unit(x)
                y *= alpha  # <-
                return self.unit(y)
        """, ("breaks", "safe"), "nn.LeakyReLU"),
    "eval16 held-out (recbole autoint): a tuple-returning module's output rebinds the loop variable: the write after the loop is into the last output": ("""
        class Inter(nn.Module):
            def __init__(self):
                super().__init__()
                self.attns = nn.ModuleList([nn.MultiheadAttention(8, 2), nn.MultiheadAttention(8, 2)])
                self.res = nn.Linear(8, 8)

            def forward(self, x):
                h = x * 1
                for attn in self.attns:
                    h, _ = attn(h, h, h)
                h += self.res(x)  # <-
                return h
        """, ("inplace", "unsafe"), None),
    "... but writing what the attention was just given breaks": ("""
        class Inter(nn.Module):
            def __init__(self):
                super().__init__()
                self.attns = nn.ModuleList([nn.MultiheadAttention(8, 2), nn.MultiheadAttention(8, 2)])
                self.res = nn.Linear(8, 8)

            def forward(self, x):
                h = x * 1
                for attn in self.attns:
                    a, _ = attn(h, h, h)
                    h += a  # <-
                return h
        """, ("breaks", "unsafe"), "nn.MultiheadAttention"),
    "adversarial review (eval17 R1): a class decorator that may return a subclass makes `self`'s attributes unproven": ("""
        class Registry:
            def register(self):
                def deco(cls):
                    class Wrapped(cls):
                        def __init__(self, *a, **k):
                            super().__init__(*a, **k)
                            self.act = nn.Identity()
                    return Wrapped
                return deco

        REG = Registry()

        @REG.register()
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.act = nn.Tanh()

            def forward(self, x):
                h = torch.sigmoid(x)
                y = self.act(h)
                h.mul_(2)  # <-
                return h, y
        """, ("breaks", "unsafe"), "may put another class in its place"),
    "... but `@dataclass` returns the class itself": ("""
        import dataclasses

        @dataclasses.dataclass(eq=False)
        class Net(nn.Module):
            def __post_init__(self):
                super().__init__()
                self.act = nn.Tanh()

            def forward(self, x):
                h = torch.sigmoid(x)
                y = self.act(h)
                h.mul_(2)  # <-
                return h, y
        """, ("breaks", "safe"), None),
    "adversarial review (eval17 C2): a member popped from the list after it was built may be gone from the chain": ("""
        class B(nn.Module):
            def __init__(self, act):
                super().__init__()
                layers = []
                for _ in range(1):
                    layers.append(nn.Sigmoid())
                layers.append(nn.ReLU(inplace=True))  # <-
                if not act:
                    layers.pop(0)
                self.block = nn.Sequential(*layers)

            def forward(self, x):
                return self.block(x)
        """, ("breaks", "unsafe"), None),
    "... where nothing changes the list, the loop that certainly runs put the Sigmoid before the ReLU": ("""
        class B(nn.Module):
            def __init__(self, act):
                super().__init__()
                layers = []
                for _ in range(1):
                    layers.append(nn.Sigmoid())
                layers.append(nn.ReLU(inplace=True))  # <-
                self.block = nn.Sequential(*layers)

            def forward(self, x):
                return self.block(x)
        """, ("breaks", "safe"), "nn.Sigmoid"),
    "adversarial review (eval17 G1): `requires_grad_(flag)` in a helper may make its result require grad": ("""
        def helper(t):
            return t.new_ones(3).requires_grad_(t.requires_grad)

        def f(x, y):
            s = helper(x)
            c = torch.ones(3)
            d = c * s
            c.mul_(2)  # <-
            return d
        """, ("breaks", "safe"), "was saved by `*`"),
    "... `requires_grad_(False)` does not": ("""
        def helper(t):
            return t.new_ones(3).requires_grad_(False)

        def f(x, y):
            s = helper(x)
            c = torch.ones(3)
            d = c * s
            c.mul_(2)  # <-
            return d
        """, None, None),
    "eval16 held-out (funasr CIF): a tensor made fresh each outer iteration, kept in a list, is not last iteration's": ("""
        def f(x, y):
            outs = []
            for b in range(3):
                frames = torch.zeros(4)
                pass
                for t in range(2):
                    frames += x * y  # <-
                if b > 0:
                    outs.append(frames / y)
                else:
                    outs.append(frames)
            return outs
        """, ("inplace", "unsafe"), None),
    "... but a save of this iteration's tensor before the inner loop still reaches the write": ("""
        def f(x, y):
            outs = []
            for b in range(3):
                frames = torch.zeros(4)
                keep = frames * y
                outs.append(keep)
                for t in range(2):
                    frames += x * y  # <-
                if b > 0:
                    outs.append(frames / y)
                else:
                    outs.append(frames)
            return outs
        """, ("breaks", "unsafe"), "was saved by `*`"),
    "eval16 held-out (pfrl): `torch.broadcast_tensors(a, b)` gives a view of each, not several views of one call": ("""
        class Head(nn.Module):
            def __init__(self):
                super().__init__()
                self.a = nn.Linear(8, 4)

            def forward(self, h):
                ya = self.a(h)
                mean = ya.mean(dim=1, keepdim=True)
                ya, mean = torch.broadcast_tensors(ya, mean)
                ya -= mean  # <-
                return ya
        """, ("inplace", "unsafe"), None),
    "... but `chunk`'s parts are several views of one call": ("""
        class Head(nn.Module):
            def __init__(self):
                super().__init__()
                self.a = nn.Linear(8, 4)

            def forward(self, h):
                ya = self.a(h)
                mean = ya.mean(dim=1, keepdim=True)
                ya, yb = ya.chunk(2, dim=1)
                ya -= mean  # <-
                return ya
        """, ("breaks", "unsafe"), "several views"),
    "reports (fairseq-gec): a helper returning `.chunk(3)` of a tensor it made returns several views of one call": ("""
        def qkv(x, w):
            return F.linear(x, w).chunk(3, dim=-1)

        def f(x, y):
            q, k, v = qkv(x, y)
            q *= 0.5  # <-
            return q, k, v
        """, ("breaks", "unsafe"), "several views"),
    "... a helper returning three new tensors does not": ("""
        def qkv(x, w):
            return (F.linear(x, w), F.linear(x, w), F.linear(x, w))

        def f(x, y):
            q, k, v = qkv(x, y)
            q *= 0.5  # <-
            return q, k, v
        """, ("inplace", "unsafe"), None),
    "reports (nn.RNN docstring): `params = dict(model.named_parameters())` holds parameters, which require grad": ("""
        rnn = nn.RNN(3, 4, 1)
        params = dict(rnn.named_parameters())
        

        def step(x, y):
            h = torch.zeros(2, 4)
            h[0] = torch.tanh(x @ params["weight_ih_l0"].T)
            h[1] = torch.tanh(h[0] @ params["weight_hh_l0"].T)  # <-
            return h
        """, ("breaks", "safe"), "saved by `@`"),
    "... not where the file stores other tensors into it": ("""
        rnn = nn.RNN(3, 4, 1)
        params = dict(rnn.named_parameters())
        params["weight_hh_l0"] = torch.zeros(4, 4)

        def step(x, y):
            h = torch.zeros(2, 4)
            h[0] = torch.tanh(x @ params["weight_ih_l0"].T)
            h[1] = torch.tanh(h[0] @ params["weight_hh_l0"].T)  # <-
            return h
        """, ("inplace", "safe"), None),
    "reports (SparseLLM): `requires_grad_(True)` on (a view of) a tensor outside any graph makes a leaf": ("""
        def solve(s):
            s_batch = s[:, 0:3].to(dtype=torch.float32).requires_grad_(True)
            loss = (s_batch * 2).sum()
            loss.backward()
            s_batch -= 0.1 * s_batch.grad  # <-
            return s_batch

        def run():
            return solve(torch.randn(4, 6, dtype=torch.float16))
        """, ("breaks", "unsafe"), "leaf"),
    "... not on one already in a graph (a no-op there: no leaf)": ("""
        def solve(s):
            s_batch = s[:, 0:3].to(dtype=torch.float32).requires_grad_(True)
            loss = (s_batch * 2).sum()
            loss.backward()
            s_batch -= 0.1 * s_batch.grad  # <-
            return s_batch

        def run():
            return solve(torch.randn(4, 6, dtype=torch.float16, requires_grad=True).mul(2))
        """, ("inplace", "unsafe"), None),
    "eval16 held-out (recbole autoint): a loop that may not go round: each way is judged alone (none leaves `h` saved)": ("""
        class AutoInt(nn.Module):
            def __init__(self, n):
                super().__init__()
                self.att = nn.Linear(8, 8)
                self.attns = nn.ModuleList([nn.MultiheadAttention(8, 2) for _ in range(n)])
                self.res = nn.Linear(8, 8)

            def forward(self, x):
                h = self.att(x).transpose(0, 1)
                for attn in self.attns:
                    h, _ = attn(h, h, h)
                h = h.transpose(0, 1)
                h += self.res(x)  # <-
                return h
        """, ("inplace", "unsafe"), None),
    "... but a loop whose rounds save the very tensor written after it still breaks": ("""
        class AutoInt(nn.Module):
            def __init__(self, n):
                super().__init__()
                self.att = nn.Linear(8, 8)
                self.attns = nn.ModuleList([nn.MultiheadAttention(8, 2) for _ in range(n)])
                self.res = nn.Linear(8, 8)

            def forward(self, x):
                outs = []
                h = self.att(x).transpose(0, 1)
                for attn in self.attns:
                    a, _ = attn(h, h, h)
                    outs.append(a)
                h = h.transpose(0, 1)
                h += self.res(x)  # <-
                return h, outs
        """, ("breaks", "unsafe"), "nn.MultiheadAttention"),
    "eval16 held-out (pytorchcv ibnbresnet, real): `stage.add_module(f\"unit{j}\", m)` into a local torch container replaces no class's attribute": ("""
        class Unit(nn.Module):
            def __init__(self, use_inst_norm):
                super().__init__()
                self.use_inst_norm = use_inst_norm
                self.body = nn.Conv2d(4, 4, 3, padding=1)
                if self.use_inst_norm:
                    self.inst_norm = nn.InstanceNorm2d(4, affine=True)
                self.activ = nn.ReLU(inplace=True)  # <-

            def forward(self, x):
                x = self.body(x)
                if self.use_inst_norm:
                    x = self.inst_norm(x)
                x = self.activ(x)
                return x

        class Net(nn.Module):
            def __init__(self, stages):
                super().__init__()
                self.features = nn.Sequential()
                for i in range(2):
                    stage = nn.Sequential()
                    for j in range(2):
                        stage.add_module("unit{}".format(j), Unit(use_inst_norm=(j == 1)))
                    self.features.add_module("stage{}".format(i), stage)
                pass

            def forward(self, x):
                return self.features(x)
        """, ("inplace", "safe"), None),
    "... but a name bound to anything else too may be any module": ("""
        class Unit(nn.Module):
            def __init__(self, use_inst_norm):
                super().__init__()
                self.use_inst_norm = use_inst_norm
                self.body = nn.Conv2d(4, 4, 3, padding=1)
                if self.use_inst_norm:
                    self.inst_norm = nn.InstanceNorm2d(4, affine=True)
                self.activ = nn.ReLU(inplace=True)  # <-

            def forward(self, x):
                x = self.body(x)
                if self.use_inst_norm:
                    x = self.inst_norm(x)
                x = self.activ(x)
                return x

        class Net(nn.Module):
            def __init__(self, stages):
                super().__init__()
                self.features = nn.Sequential()
                for i in range(2):
                    stage = nn.Sequential()
                    for j in range(2):
                        stage.add_module("unit{}".format(j), Unit(use_inst_norm=(j == 1)))
                    self.features.add_module("stage{}".format(i), stage)
                for stage in stages:
                    stage.add_module("unit{}".format(9), nn.Identity())

            def forward(self, x):
                return self.features(x)
        """, (None, "unsafe"), None),
    "eval16 held-out (funasr CIF, real): the arm split looks first at the ifs that rebind the written name": ("""
        class P(nn.Module):
            def __init__(self):
                super().__init__()
                self.out = nn.Linear(4, 1)

            def forward(self, hidden, mask=None, mcp=None, tl=None, lab=None):
                alphas = torch.relu(self.out(hidden))
                if mask is not None:
                    alphas = alphas * mask
                if mcp is not None:
                    alphas = alphas * mcp
                alphas = alphas.squeeze(-1)
                mask = mask.squeeze(-1)
                if tl is not None:
                    t = tl
                elif lab is not None:
                    t = lab.sum(-1)
                else:
                    t = None
                if t is not None:
                    alphas *= t  # <-
                return alphas, mask
        """, ("inplace", "unsafe"), None),
    "... and where the path without `mask` lives on, it breaks": ("""
        class P(nn.Module):
            def __init__(self):
                super().__init__()
                self.out = nn.Linear(4, 1)

            def forward(self, hidden, mask=None, mcp=None, tl=None, lab=None):
                alphas = torch.relu(self.out(hidden))
                if mask is not None:
                    alphas = alphas * mask
                if mcp is not None:
                    alphas = alphas * mcp
                alphas = alphas.squeeze(-1)
                n = 0
                if tl is not None:
                    t = tl
                elif lab is not None:
                    t = lab.sum(-1)
                else:
                    t = None
                if t is not None:
                    alphas *= t  # <-
                return alphas, mask
        """, ("breaks", "unsafe"), "torch.relu"),
    "eval19 held-out (flash_adamw, nequip ema): a helper every call of which is under no_grad runs without grad": ("""
        class Opt:
            @staticmethod
            def set_param(p, value):
                p.copy_(value)  # <-

            @torch.no_grad()
            def load(self, model, sd):
                for name, param in model.named_parameters():
                    self.set_param(param, sd[name])
            
        """, None, None),
    "... not where one call of it is made with grad on": ("""
        class Opt:
            @staticmethod
            def set_param(p, value):
                p.copy_(value)  # <-

            @torch.no_grad()
            def load(self, model, sd):
                for name, param in model.named_parameters():
                    self.set_param(param, sd[name])
            def reset(self, model):
                for p in model.parameters():
                    self.set_param(p, torch.zeros_like(p))
        """, ("breaks", "none"), "leaf"),
    "adversarial review (eval20): a module list handed to a helper may lose a member before it runs": ("""
        def drop_first(seq):
            del seq[0]

        class M(nn.Module):
            def __init__(self):
                super().__init__()
                self.body = nn.Sequential()
                self.body.append(nn.Sigmoid())
                self.body.append(nn.ReLU(inplace=True))  # <-
                drop_first(self.body)

            def forward(self, x):
                return self.body(x)
        """, ("breaks", "unsafe"), None),
    "... where nothing but its own appends touches it, the Sigmoid is always before the ReLU": ("""
        def drop_first(seq):
            del seq[0]

        class M(nn.Module):
            def __init__(self):
                super().__init__()
                self.body = nn.Sequential()
                self.body.append(nn.Sigmoid())
                self.body.append(nn.ReLU(inplace=True))  # <-

            def forward(self, x):
                return self.body(x)
        """, ("breaks", "safe"), "nn.Sigmoid"),
    "graph lifetime: a `backward()` through the graph that saved a tensor frees the save: a later write breaks nothing (torchattacks' EAD)": ("""
        def f(x, y):
            const = torch.ones(3)
            for _ in range(2):
                cost = torch.sum(const * x)
                cost.backward()
            const[0] = 2.0  # <-
            return const
        """, None, None),
    "... the same save through a helper that returns the loss, on either of its branches": ("""
        def loss_of(out, const, l1):
            if l1 is None:
                loss = torch.sum(const * out) + 1.0
            else:
                loss = torch.sum(const * out) + torch.sum(l1)
            return loss

        def f(x, y):
            const = torch.ones(3)
            cost = loss_of(x * 2, const, None)
            cost.backward()
            const[0] = 2.0  # <-
            return const
        """, None, None),
    "... but the backward of another graph frees nothing of this one": ("""
        def f(x, y):
            const = torch.ones(3)
            cost = torch.sum(const * x)
            other = (y * 3).sum()
            other.backward()
            const[0] = 2.0  # <-
            cost.backward()
        """, ("breaks", "safe"), "saved by `*`"),
    "... nor one that keeps the graph (`retain_graph=True`)": ("""
        def f(x, y):
            const = torch.ones(3)
            cost = torch.sum(const * x)
            cost.backward(retain_graph=True)
            const[0] = 2.0  # <-
            cost.backward()
        """, ("breaks", "safe"), "saved by `*`"),
    "... nor one from a detached copy of the loss (its graph is not the loss's)": ("""
        def f(x, y):
            const = torch.ones(3)
            cost = torch.sum(const * x)
            (cost.detach() * y).sum().backward()
            const[0] = 2.0  # <-
            cost.backward()
        """, ("breaks", "safe"), "saved by `*`"),
    "... nor `autograd.grad`, which runs only the nodes between the loss and its inputs": ("""
        def f(x, y):
            const = torch.ones(3)
            cost = torch.sum(const * x) + (y * y).sum()
            torch.autograd.grad(cost, y)
            const[0] = 2.0  # <-
            cost.backward()
        """, ("breaks", "safe"), "saved by `*`"),
    "... nor a backward on one branch only": ("""
        def f(x, y):
            const = torch.ones(3)
            cost = torch.sum(const * x)
            if y.sum() > 0:
                cost.backward()
            const[0] = 2.0  # <-
            return cost
        """, ("breaks", "safe"), "saved by `*`"),
    "... nor a helper whose result is not computed from the save on every way out": ("""
        def loss_of(out, const, plain):
            if plain:
                return out.sum()
            return torch.sum(const * out)

        def f(x, y):
            const = torch.ones(3)
            cost = loss_of(x * 2, const, y.sum() > 0)
            cost.backward()
            const[0] = 2.0  # <-
            return cost
        """, ("breaks", "safe"), "saved by `*`"),
    "... nor the backward of what an earlier iteration made: this iteration's save is another one": ("""
        def f(x, y):
            c = torch.ones(3)
            prev = None
            for t in range(3):
                h = c * x
                if prev is not None:
                    prev.backward()
                c[0] = 0  # <-
                prev = h.sum()
        """, ("breaks", "safe"), "saved by `*`"),
    "correlated tests: the save runs under `if self.gate:`, the write under `if not self.gate:`, one value of an attribute only `__init__` stores": ("""
        class Head(nn.Module):
            def __init__(self, gate):
                super().__init__()
                self.lin = nn.Linear(4, 4)
                self.gate = gate

            def forward(self, x):
                h = self.lin(x)
                g = None
                if self.gate:
                    g = h * h
                if not self.gate:
                    h[:, 0] = 0  # <-
                return h if g is None else g
        """, ("inplace", "safe"), "nothing saved it"),
    "... not where a method in between may change the attribute": ("""
        class Head(nn.Module):
            def __init__(self, gate):
                super().__init__()
                self.lin = nn.Linear(4, 4)
                self.gate = gate

            def flip(self):
                self.gate = not self.gate

            def forward(self, x):
                h = self.lin(x)
                g = None
                if self.gate:
                    g = h * h
                    self.flip()
                if not self.gate:
                    h[:, 0] = 0  # <-
                return h if g is None else g
        """, ("breaks", "safe"), "saved by `*`"),
    "... a parameter the function never binds again is one value too": ("""
        def f(x, y, gate=True):
            h = x * 2
            g = None
            if gate:
                g = h * h
            if not gate:
                h[0] = 0  # <-
            return h if g is None else g
        """, ("inplace", "unsafe"), "nothing saved it"),
    "... nor for a local flag the function binds again": ("""
        def f(x, y, gate=True):
            h = x * 2
            g = None
            if gate:
                g = h * h
                gate = False
            if not gate:
                h[0] = 0  # <-
            return h if g is None else g
        """, ("breaks", "unsafe"), "saved by `*`"),
    "a name `torch.nn` does not have (`nn.Conv2DBatchNorm`, torchxrayvision) is a call of something unknown, not a module that saves its result": ("""
        class B(nn.Module):
            def __init__(self):
                super().__init__()
                self.cb = nn.Conv2DBatchNorm(4, 4, 3)

            def forward(self, x):
                out = self.cb(x)
                out += x  # <-
                return out
        """, ("inplace", "unsafe"), "passed to `nn.Conv2DBatchNorm`, which may save it"),
    "... a measured one that saves its result is `breaks`": ("""
        class B(nn.Module):
            def __init__(self):
                super().__init__()
                self.cb = nn.Sigmoid()

            def forward(self, x):
                out = self.cb(x)
                out += x  # <-
                return out
        """, ("breaks", "unsafe"), "nn.Sigmoid"),
    "a three-way join (`if up: x = conv(x) elif down: x = conv(x)`): on no path is the saved input the one written (deepinv)": (
        _THREE_WAY.replace("ARM", "x"), ("inplace", "unsafe"), None),
    "... but where one arm saves the input and keeps it, the write breaks": (
        _THREE_WAY.replace("ARM", "y"), ("breaks", "unsafe"), "saved by `F.conv2d`"),
    "... and through a callee whose `if`/`elif` returns its argument only where nothing saved it": (
        _CALLEE_ELIF.replace("ARM", "x"), ("inplace", "unsafe"), None),
    "... a callee that returns its saved argument on one of three ways out breaks": (
        _CALLEE_ELIF.replace("ARM", "y"), ("breaks", "unsafe"), "saved by `F.conv2d`"),
    "a helper that returns nothing and only writes its parameter again: its point is the caller's tensor (torchvision make_grid's norm_ip)": ("""
        def norm_ip(img, lo, hi):
            img.clamp_(min=lo, max=hi)  # <-
            img.add_(-lo).div_(hi - lo + 1e-5)

        def f(x, y):
            t = x * 2
            for row in t:
                norm_ip(row, 0.0, 1.0)
            return t
        """, (None, "none"), "would make it do nothing"),
    "... one that returns the parameter after the writes is only unsafe (a caller may use the result)": ("""
        def norm_ip(img, lo, hi):
            img.clamp_(min=lo, max=hi)  # <-
            img.add_(-lo).div_(hi - lo + 1e-5)
            return img

        def f(x, y):
            t = x * 2
            return norm_ip(t, 0.0, 1.0)
        """, (None, "unsafe"), "parameter"),
    "... and one that reads it for something else afterwards too": ("""
        def norm_ip(img, lo, hi, out):
            img.clamp_(min=lo, max=hi)  # <-
            out.copy_(img * 2)

        def f(x, y):
            t = x * 2
            o = torch.zeros(3)
            norm_ip(t, 0.0, 1.0, o)
            return t, o
        """, (None, "unsafe"), "parameter"),
    "another name read afterwards only for its shape sees nothing of the write (TSAN's `out = x`, then `x.size(2)`)": ("""
        def f(x, y):
            h = torch.sigmoid(x)
            out = h
            out[0] = 0  # <-
            return out, h.size(0), h.shape
        """, ("breaks", "safe"), "saved by `torch.sigmoid`"),
    "... read for its values, it holds this very tensor: no rewrite": ("""
        def f(x, y):
            h = torch.sigmoid(x)
            out = h
            out[0] = 0  # <-
            return out, h.sum()
        """, ("breaks", "none"), "holds this very tensor"),
    "an instance built with `kernel=3` has `self.w = nn.Parameter(...) if kernel else None` set: its `forward` never returns its input (deepinv)": (
        _KERNEL_CONV.replace("KERNEL", "3"), ("inplace", "unsafe"), None),
    "... built with `kernel=0` it returns its input, which `sigmoid` saved": (
        _KERNEL_CONV.replace("KERNEL", "0"), ("breaks", "unsafe"), "torch.sigmoid"),
    "a method called with more arguments than `Tensor`'s takes is no tensor op: `semiring.dot(a, b, 1)` saves nothing (supar)": ("""
        def forward(semiring, scores, trans):
            alpha = scores * 2
            beta = semiring.dot(alpha, trans, 1)
            alpha[0] = 0  # <-
            return alpha, beta

        def _run(x):
            return forward(x, x * 2, x * 3)
        """, ("inplace", "unsafe"), None),
    "... `t.dot(u)`, with the one argument `Tensor.dot` takes, saves both": ("""
        def forward(semiring, scores, trans):
            alpha = scores * 2
            beta = semiring.dot(alpha)
            alpha[0] = 0  # <-
            return alpha, beta

        def _run(x):
            return forward(x, x * 2, x * 3)
        """, ("breaks", "safe"), "saved by `dot`"),
    "`torch.linalg.inv` saves its result (the facts measure torch's linalg, fft and special namespaces)": ("""
        def f(x, y):
            a = x.reshape(1, 1) * 2
            c = torch.linalg.inv(a)
            c[0] = 0  # <-
            return c
        """, ("breaks", "safe"), "saved by `torch.linalg.inv` as its result"),
    "... `torch.fft.rfft` saves its input, not its result": ("""
        def f(x, y):
            s = torch.fft.rfft(x * 2)
            s[0] = 0  # <-
            return s
        """, ("inplace", "safe"), "nothing saved it"),
    "a Sequential filled by `add_module(f\"b{i}\", m)` in one counted loop is followed: the ReLU's input is the sigmoid's saved output": (
        _NAMED_CHAIN.replace("SECOND", ""), ("breaks", "safe"), "nn.Sigmoid"),
    "... a second loop making the same names replaces those members (adversarial review N1)": (
        _NAMED_CHAIN.replace("SECOND", "            for i in range(2):\n                self.body.add_module(f\"b{i}\", nn.Identity())\n"),
        (None, "unsafe"), None),
    "... an `add_module` in another method runs if and when it is called: not followed (adversarial review M4)": (
        _NAMED_CHAIN.replace("SECOND", "").replace("    def forward(self, x):",
                                                   "    def grow(self):\n            self.body.add_module(\"g\", nn.Identity())\n\n"
                                                   "        def forward(self, x):"),
        (None, "unsafe"), None),
    "a module list whose members are only run (`for layer in self.body: x = layer(x)`) is followed: ReLU's input is the sigmoid's saved output": (
        _LIST_CHAIN.replace("CHANGE", "self.body.train()"), ("breaks", "safe"), "nn.Sigmoid"),
    "... a member's own member replaced through an index (`self.body[0][0] = m`, fine-tuning) changes the chain (NS1)": (
        _LIST_CHAIN.replace("CHANGE", "self.body[0][0] = nn.Identity()"), (None, "unsafe"), None),
    "... so does a member taken out through a method that returns the module (`self.body.train().pop(0)`, R2)": (
        _LIST_CHAIN.replace("CHANGE", "self.body.train().pop(0)"), (None, "unsafe"), None),
    "... or through a torch module built around it (`wrap = nn.Sequential(self.body); del wrap[0][0]`, R2)": (
        _LIST_CHAIN.replace("CHANGE", "wrap = nn.Sequential(self.body)\n            del wrap[0][0]"), (None, "unsafe"), None),
    "... or through the loop variable (`for blk in self.body: del blk[0]`)": (
        _LIST_CHAIN.replace("CHANGE", "for blk in self.body:\n                if len(blk) > 1:\n                    del blk[0]"),
        (None, "unsafe"), None),
    "a module-level alias `Act = nn.Sigmoid` names torch's Sigmoid where nothing shadows it": (
        _ALIASED_GATE.replace("LOCAL", ""), ("breaks", "safe"), "nn.Sigmoid"),
    "... not where `__init__` binds `Act` itself (adversarial review X3)": (
        _ALIASED_GATE.replace("LOCAL", "Act = nn.Identity if light else nn.Tanh"), (None, "unsafe"), None),
    "a helper that returns a clone keeps nothing of its argument: the write is a safe fix": (
        _CLONING_HELPER.replace("STAR", ""), ("breaks", "safe"), None),
    "... a helper whose `def` a later `from m import *` may replace has no summary (adversarial review X1)": (
        _CLONING_HELPER.replace("STAR", "from os.path import *"), ("breaks", "unsafe"), None),
    "a helper called under `no_grad` but inside `with torch.enable_grad():` runs with autograd on (adversarial review LH1)": (
        _QUIET_HELPER.replace("YIELD", "return").replace("CALLS", "with torch.no_grad():\n"
                                                         "            with torch.enable_grad():\n"
                                                         "                return _scale(x)"),
        ("breaks", "safe"), "saved by `torch.sigmoid`"),
    "... a generator made under `no_grad` runs its body when iterated, maybe with autograd on (LH3)": (
        _QUIET_HELPER.replace("YIELD", "yield").replace("CALLS", "with torch.no_grad():\n"
                                                        "            g = _scale(x)\n        return next(g)"),
        ("breaks", "safe"), "saved by `torch.sigmoid`"),
    "... a helper also handed on as a value (`apply(_scale, x)`) may be called anywhere (LH2)": (
        _QUIET_HELPER.replace("YIELD", "return").replace("CALLS", "with torch.no_grad():\n"
                                                         "            _scale(x)\n        return apply(_scale, x)"),
        ("inplace", "safe"), None),
    "... a private helper every call of which is under `no_grad` runs without grad": (
        _QUIET_HELPER.replace("YIELD", "return").replace("CALLS", "with torch.no_grad():\n"
                                                         "            return _scale(x)"),
        None, None),
    "a Sequential run as written: ReLU's input is the sigmoid's saved output (safe to drop `inplace=True`)": (
        _SEQ_CHAIN.replace("CHANGE", "pass"), ("breaks", "safe"), "nn.Sigmoid"),
    "... not once the attribute is bound to a slice of it (`self.body = self.body[1:]`, adversarial review S1)": (
        _SEQ_CHAIN.replace("CHANGE", "self.body = self.body[1:]"), ("breaks", "unsafe"), None),
    "... nor where a member is set on a container reached through `getattr` (G1)": (
        _SEQ_CHAIN.replace("CHANGE", "setattr(getattr(self, 'body'), '0', nn.Identity())"), ("breaks", "unsafe"), None),
    "... nor where a forward hook is registered through an alias (H1)": (
        _SEQ_CHAIN.replace("CHANGE", "reg = self.body[0].register_forward_hook\n            reg(lambda m, i, o: i[0])"),
        ("breaks", "unsafe"), None),
    "a tensor put in a list only by `map(box.append, [h])` may be kept there (adversarial review K2)": ("""
        def f(x, y):
            h = torch.sigmoid(x)
            box = []
            list(map(box.append, [h]))
            h.mul_(2)  # <-
            return box[0], h
        """, ("breaks", "unsafe"), "map"),
    "... and a helper whose lambda reads its parameter may keep it (`(lambda b: b.append(t))(box)`)": ("""
        def put(box, t):
            (lambda b: b.append(t))(box)

        def f(x, y):
            h = torch.sigmoid(x)
            box = []
            put(box, h)
            h.mul_(2)  # <-
            return box, h
        """, ("breaks", "unsafe"), "put"),
    "... a submodule dict stored into by its name in a string (`vars(m)['_modules'][k] = ...`) may replace any member": (
        _SEQ_CHAIN.replace("CHANGE", "vars(self.body)['_modules']['0'] = nn.Identity()"), ("breaks", "unsafe"), None),
    "a local list of modules rotated inside its own append (`layers.append(layers.pop(0))`) is not followed (L1)": ("""
        class M(nn.Module):
            def __init__(self):
                super().__init__()
                layers = [nn.Sigmoid(), nn.ReLU(inplace=True)]  # <-
                layers.append(layers.pop(0))
                self.body = nn.Sequential(*layers)

            def forward(self, x):
                return self.body(x)
        """, (None, "unsafe"), None),
    "a helper returning `list(ts) * 2` of its `*ts` hands them back: an element read after the write is the tensor (eval17 P2)": (
        _CLONING_HELPER.replace("STAR", "").replace("def ident(t):\n        return t.clone()",
                                                     "def ident(*ts):\n        return list(ts) * 2").replace(
            "v = ident(h)", "v = ident(h)[0]"), ("breaks", "unsafe"), None),
    "a result only read through ops whose result needs no grad (`torch.nonzero(n[i] * m[i])`) holds its saves where no backward runs (funasr)": (
        _NORM_USE.replace("USE", "idx = torch.nonzero(n[0] * m[0])"), ("inplace", "unsafe"), None),
    "... nor one never read": (
        _NORM_USE.replace("USE", "pass"), ("inplace", "unsafe"), None),
    "... but one returned is in the graph: the write breaks its backward": (
        _NORM_USE.replace("USE", "idx = n * 2"), ("breaks", "unsafe"), "saved by `torch.linalg.norm`"),
    "`out=out` of a parameter defaulting to None that no call passes writes nothing (asteroid's `_stable_cholesky`)": (
        _OPTIONAL_OUT.replace("CALL", "chol(a)"), ("inplace", "unsafe"), "defaults to None"),
    "... nor where the only call passes down its own optional `out` that no call passes (asteroid's stable_cholesky)": (
        _OPTIONAL_OUT.replace("CALL", "outer(a)").replace("    def f(x, y):",
                                                       "    def outer(a, out=None):\n        return chol(a * 1, out=out)\n\n"
                                                       "    def f(x, y):"), ("inplace", "unsafe"), "defaults to None"),
    "... but where the outer one is given a tensor, the chain passes it: `out=` raises at once": (
        _OPTIONAL_OUT.replace("CALL", "outer(a, out=torch.empty(1, 1))").replace(
            "    def f(x, y):", "    def outer(a, out=None):\n        return chol(a * 1, out=out)\n\n    def f(x, y):"),
        ("breaks", "unsafe"), "raises at once"),
    "... where a call passes a tensor, `out=` raises at once": (
        _OPTIONAL_OUT.replace("CALL", "chol(a, out=torch.empty(1, 1))"), ("breaks", "unsafe"), "raises at once"),
    "a write through a view whose base is read afterwards gets no rewrite, even where the view is read too (adversarial review U1)": ("""
        def f(x, y):
            z = torch.sigmoid(x.reshape(1, 3))
            row = z[0]
            row.mul_(2)  # <-
            return z * 1.0, row
        """, ("breaks", "none"), "view of `z`"),
    "... where the base is not read afterwards, the view's rewrite is offered": ("""
        def f(x, y):
            z = torch.sigmoid(x.reshape(1, 3))
            row = z[0]
            row.mul_(2)  # <-
            return row
        """, ("breaks", "safe"), None),
    "`tensor_split` returns plain views: writing one is a write into the base, not a raise (unlike `chunk`)": (
        _SPLIT_PART.replace("SPLIT", "tensor_split"), ("breaks", "none"), "view of"),
    "... `chunk`'s part is one of several views of one call: the write raises at once": (
        _SPLIT_PART.replace("SPLIT", "chunk"), ("breaks", "unsafe"), None),
    "a standard decorator the file patches (`typing.final = final`) may replace the class's members: `self.gate` is unknown (eval18 O5)": (
        _PATCHED_DECORATOR.replace("PATCH", "typing.final = final"), (None, "unsafe"), None),
    "... unpatched, `@typing.final` leaves the class as written: `ReLU(inplace=True)` after `Sigmoid` is safe to rewrite": (
        _PATCHED_DECORATOR.replace("PATCH", "pass"), (None, "safe"), None),
    "... so does a torch function the file patches (`setattr(torch, \"sigmoid\", ...)`): its saves are the file's, unknown": ("""
        setattr(torch, "sigmoid", lambda t: t * 1)

        def f(x, y):
            y = torch.sigmoid(x)
            y *= 2  # <-
            return y
        """, (None, "unsafe"), None),
    "a name made a tensor here on one path (`q.new_zeros`) is a tensor write whatever the operand (fast-transformers' recurrent state, eval23)": (
        _RECURRENT_STATE.replace("ZERO", "q.new_zeros(3)"), ("breaks", "unsafe"), "saved by `torch.einsum`"),
    "... but where no path makes it a tensor (`[0.0] * 3` or the caller's state), `Z += K` of an unknown `K` may extend a list": (
        _RECURRENT_STATE.replace("ZERO", "[0.0] * 3"), None, None),
    "`m.inplace = True` over `self.modules()` reaches a submodule's `Dropout` after `F.relu` (mvanet, eval23)": (
        _PARENT_SETS_INPLACE.replace("ACT", "F.relu").replace("ITER", "modules"), ("breaks", "unsafe"), "`Child`'s `self.drop`"),
    "... not where the submodule's `Dropout` follows a `Linear` (nothing saved its output)": (
        _PARENT_SETS_INPLACE.replace("ACT", "self.lin2").replace("ITER", "modules"), ("inplace", "unsafe"), "runs out of place instead"),
    "... nor over `self.children()`: the submodule itself is switched, not its `Dropout`": (
        _PARENT_SETS_INPLACE.replace("ACT", "F.relu").replace("ITER", "children"), ("inplace", "unsafe"), None),
    'a number computed to be complex (`2 + 0j`) promotes the target out of place, where in place it raises (adversarial review D1)': ("""
        def f(x, y):
            h = torch.sigmoid(x)
            h *= 2 + 0j  # <-
            return h
        """, ("breaks", 'none'), 'operand is complex and the tensor is not'),
    '... so does one bound to a name first (`c = 1j * 1j`)': ("""
        def f(x, y):
            h = torch.sigmoid(x)
            c = 1j * 1j
            h *= c  # <-
            return h
        """, ("breaks", 'none'), 'operand is complex and the tensor is not'),
    '... and a literal power that is complex (`(-1) ** 0.5`)': ("""
        def f(x, y):
            h = torch.sigmoid(x)
            h *= (-1) ** 0.5  # <-
            return h
        """, ("breaks", 'none'), 'operand is complex and the tensor is not'),
    '... and a power of unknown numbers (`d ** -0.5`): it may be complex': ("""
        def f(x, y):
            h = torch.sigmoid(x)
            d = len(y) - 5
            h *= d ** -0.5  # <-
            return h
        """, ("breaks", 'unsafe'), 'unknown kind'),
    '... and a sum of complex numbers (`sum([1j, -1j])`)': ("""
        def f(x, y):
            h = torch.sigmoid(x)
            h += sum([1j, -1j])  # <-
            return h
        """, ("breaks", 'none'), 'operand is complex and the tensor is not'),
    '... but a real one computed from literals is safe (`2 ** 0.5`, `abs(3 + 4j)`, `1 / 3 + 1`)': ("""
        def f(x, y):
            h = torch.sigmoid(x)
            h *= 2 ** 0.5 + abs(3 + 4j) + 1 / 3 + 1  # <-
            return h
        """, ("breaks", 'safe'), None),
    'an int or a float (`max(1, 2.5)`) is a real number: safe into a float tensor': ("""
        def f(x, y):
            h = torch.sigmoid(x)
            h += max(1, 2.5)  # <-
            return h
        """, ('breaks', 'safe'), None),
    '... and `sum` of them too (`sum([1, 2.5])`)': ("""
        def f(x, y):
            h = torch.sigmoid(x)
            h += sum([1, 2.5]) * 2  # <-
            return h
        """, ('breaks', 'safe'), None),
    '... but into an integer tensor it may be a float: no safe fix': ("""
        def f(x, y):
            h = torch.sigmoid(x)
            h = h.long()
            h += max(1, 2.5)  # <-
            return h
        """, (None, 'unsafe'), 'not known to be floating'),
    "an `nn.LSTM` saves its output on CPU in float32 (the mkldnn kernel): writing it breaks backward (torchmodels, eval27)": (
        _RNN_OUTPUT.replace("RNN", "LSTM"), ("breaks", "unsafe"), "saved by `nn.LSTM`"),
    "... an `nn.GRU` does not: its output is written harmlessly": (
        _RNN_OUTPUT.replace("RNN", "GRU"), ("inplace", "unsafe"), None),
    "`act_layer(...)` of a parameter defaulting to `nn.ReLU` builds a ReLU (or what a caller passes): its output is saved (maedfer, eval27)": (
        _LAYER_PARAMETER.replace("DEFAULT", "nn.ReLU"), ("breaks", "unsafe"), "saved by `nn.ReLU`"),
    "... defaulting to `nn.GELU`, which saves its input, not its output: harmless": (
        _LAYER_PARAMETER.replace("DEFAULT", "nn.GELU"), ("inplace", "unsafe"), None),
    "... with no default to go by (`None`), nothing is known of the module: not `breaks`": (
        _LAYER_PARAMETER.replace("DEFAULT", "None"), ("inplace", "unsafe"), None),
    "a module attribute that is `nn.Linear(...) if c else None` runs the Linear where it is called: its output is fresh, nothing saved it (fairseq's `project_in_dim`)": (
        _OPTIONAL_PROJECTION.replace("FIRST", "self.embed(tokens) * 2"), ("inplace", "unsafe"), None),
    "... but on the path where it is None, a `sigmoid` output is written: that breaks": (
        _OPTIONAL_PROJECTION.replace("FIRST", "torch.sigmoid(self.embed(tokens))"), ("breaks", "unsafe"), "saved by `torch.sigmoid`"),
    "`self.block[0]` of an `nn.Sequential` is its first module, `self.block[1]` its second: a BatchNorm before an in-place LeakyReLU saves nothing it writes (styletts2, eval25)": (
        _INDEXED_CHAIN.replace("FIRST", "nn.BatchNorm2d(4)"), ("inplace", "safe"), None),
    "... a Sigmoid there saves its output, which the LeakyReLU writes: that breaks": (
        _INDEXED_CHAIN.replace("FIRST", "nn.Sigmoid()"), ("breaks", "safe"), None),
    "a parameter frozen just before (`for p in proto.parameters(): p.requires_grad = False`) is a leaf that needs no grad: the write does not raise (solo-learn, eval25)": (
        _FROZEN_PROTOTYPES.replace("FREEZE", "for p in proto.parameters():\n                    p.requires_grad = False"),
        ("inplace", "none"), None),
    "... nor after `proto.requires_grad_(False)`": (
        _FROZEN_PROTOTYPES.replace("FREEZE", "proto.requires_grad_(False)"), ("inplace", "none"), None),
    "... but left trainable, or turned on again, it raises at once": (
        _FROZEN_PROTOTYPES.replace("FREEZE", "proto.requires_grad_(False)\n                proto.weight.requires_grad = True"),
        ("breaks", "none"), "leaf that requires grad"),
    "`self.cell(x)` in a base class runs the override of a subclass in the file (a `Sigmoid` output): writing it breaks (torchmodels, eval27)": (
        _VIRTUAL_CELL.replace("ACT", "torch.sigmoid"), ("breaks", "unsafe"), "saved by `torch.sigmoid`"),
    "... where the override returns a `Linear` output, nothing saved it": (
        _VIRTUAL_CELL.replace("ACT", "self.lin"), ("inplace", "unsafe"), "an abstract method that other classes may override"),
    "... and where the base's own is no abstract one, the file shows every method that may run: safe": (
        _VIRTUAL_CELL.replace("ACT", "torch.sigmoid").replace("raise NotImplementedError()", "return torch.tanh(x)"),
        ("breaks", "safe"), "saved by `torch.sigmoid`"),
    "a helper method's `nn.LSTM` output may be saved (CPU float32): the caller writing it may break backward": (
        _RNN_HELPER.replace("RNN", "LSTM"), ("breaks", "unsafe"), "may be saved by `nn.LSTM`"),
    "... an `nn.GRU`'s is not saved": (
        _RNN_HELPER.replace("RNN", "GRU"), ("inplace", "unsafe"), None),
    "`torch.diagonal(z)` is a view of `z` (its argument), not of `torch` (gpytorch, eval27: the message named `torch`)": ("""
        def f(x, y):
            z = torch.sigmoid(x.reshape(3, 1) * y.reshape(1, 3))
            d = torch.diagonal(z)
            d[d < 0.5] = 0.5  # <-
            return z
        """, ("breaks", "none"), "a view of `z`"),
    "an MLP built with `num_layers=3` goes round its layers at least once: it never returns its input, so what the head saved is not written (terratorch, eval25)": (
        _MLP_HEAD.replace("LAYERS", "nn.Linear(d, d) for _ in range(num_layers)").replace("BUILT", "MLP(4, 3)"),
        ("inplace", "unsafe"), None),
    "... where the number of layers is not known, the MLP may return its input, which the head saved": (
        _MLP_HEAD.replace("LAYERS", "nn.Linear(d, d) for _ in range(num_layers)").replace("BUILT", "MLP(4, n)"),
        ("breaks", "unsafe"), "saved by `nn.Linear`"),
    "... and one built over `zip([d] + h, h + [d])` has a layer whatever `h` is": (
        _MLP_HEAD.replace("LAYERS", "nn.Linear(a, b) for a, b in zip([d] + h, h + [d], strict=False)").replace("BUILT", "MLP(4, n)"),
        ("inplace", "unsafe"), None),
    "... but not over `zip([d] + h, ...)` where `h` may be an array: `+` broadcasts, and may give nothing": (
        _MLP_HEAD.replace("LAYERS", "nn.Linear(4, 4) for a, b in zip([d] + h, h + [d], strict=False)").replace(
            "BUILT", "MLP(4, n)").replace("h = [d] * (num_layers - 1)", "h = np.zeros(num_layers - 1)"),
        ("breaks", "unsafe"), "saved by `nn.Linear`"),
    "dropping `inplace=True` where the module's input is read after the call (`self.act(h)` for its effect) changes `h`: unsafe (adversarial review eval26 S5)": (
        _INPLACE_ATTR.replace("CALL", "self.act(h)\n            return self.lin(h)"), ("breaks", "unsafe"), "is read after"),
    "... as where `y = self.act(h)` keeps both": (
        _INPLACE_ATTR.replace("CALL", "y = self.act(h)\n            return y + h"), ("breaks", "unsafe"), "is read after"),
    "... but `h = self.act(h)` rebinds the input: safe": (
        _INPLACE_ATTR.replace("CALL", "h = self.act(h)\n            return self.lin(h)"), ("breaks", "safe"), None),
    "... nor where the module is also called from outside its class (`m.act(t)`, eval26 S2)": (
        _INPLACE_ATTR.replace("CALL", "h = self.act(h)\n            return self.lin(h)")
        + "\n    def g(m, t):\n        return m.act(t * 1)\n", ("breaks", "unsafe"), "does not follow its input"),
    "... while an init loop over `self.modules()` that only looks at each module leaves it alone: safe": (
        _INPLACE_ATTR.replace("CALL", "h = self.act(h)\n            return self.lin(h)").replace(
            "self.lin = nn.Linear(4, 4)", "self.lin = nn.Linear(4, 4)\n            for m in self.modules():\n"
            "                if isinstance(m, nn.Linear):\n                    nn.init.zeros_(m.bias)"), ("breaks", "safe"), None),
    "... nor where a nested function of a method calls it (its input is not judged there, eval26 S2)": (
        _INPLACE_ATTR.replace("CALL", "h = self.act(h)\n            def side(t):\n                self.act(t)\n"
                              "            return self.lin(h)"), ("breaks", "unsafe"), "does not follow its input"),
    "... nor where a subclass's method calls it": (
        _INPLACE_ATTR.replace("CALL", "h = self.act(h)\n            return self.lin(h)")
        + "\n    class Sub(M):\n        def both(self, t):\n            self.act(t)\n            return t\n",
        ("breaks", "unsafe"), "does not follow its input"),
    "a forward hook the file registers is given a module's input and may keep it: no safe fix for a later write into it (eval26 H2)": ("""
        SEEN = []

        def f(x, y):
            h = torch.sigmoid(x)
            lin = nn.Linear(3, 3)
            lin.register_forward_hook(lambda m, inp, out: SEEN.append(inp[0]))
            z = lin(h)
            h.mul_(2)  # <-
            return h, z
        """, ("breaks", "unsafe"), "forward hooks this file registers"),
    "... without a hook, the Linear keeps nothing the program can read: safe": ("""
        def f(x, y):
            h = torch.sigmoid(x)
            lin = nn.Linear(3, 3)
            z = lin(h)
            h.mul_(2)  # <-
            return h, z
        """, ("breaks", "safe"), None),
    "an operator whose other operand is of a class of the run hands the tensor to its method, which may keep it (`__rmul__ = _keep`, eval26 O1)": (
        _KEEPER.replace("USE", "y = h * k"), ("breaks", "unsafe"), "operator method of a class of the run"),
    "... so does a comparison (`h == k`) and a builtin given both (`divmod(h, k)`)": (
        _KEEPER.replace("USE", "y = (h == k, divmod(h, k))"), ("breaks", "unsafe"), "class of the run"),
    "... but an object of the run not given the tensor keeps nothing: safe": (
        _KEEPER.replace("USE", "y = h * 2\n        k.last = None"), ("breaks", "safe"), None),
    "a helper called after the write that reads its argument's identity (`id(t)` in a memo) sees another tensor out of place (eval26 I1)": (
        _HELPER_READS.replace("BODY", "return _MEMO.setdefault(id(t), t * 1.0)"), ("breaks", "unsafe"), "in `look`"),
    "... or its version counter (`t._version`)": (
        _HELPER_READS.replace("BODY", "return t * t._version"), ("breaks", "unsafe"), "`t._version` in `look`"),
    "... a helper that only computes with it sees the same values: safe": (
        _HELPER_READS.replace("BODY", "return t * 2"), ("breaks", "safe"), None),
    "a module whose class the file swaps at run time (`lin.__class__ = Spy`) is no longer an `nn.Linear`: its call may keep its input (eval26 P1)": ("""
        class Spy(nn.Linear):
            pass

        def f(x, y):
            h = torch.sigmoid(x)
            lin = nn.Linear(3, 3)
            lin.__class__ = Spy
            z = lin(h)
            h.mul_(2)  # <-
            return h, z
        """, ("breaks", "unsafe"), None),
    "a script that imports `__main__` reaches its own globals by name: no safe fix (eval26 G2)": ("""
        import __main__

        def f(x, y):
            h = torch.sigmoid(x)
            h.mul_(2)  # <-
            return h
        """, ("breaks", "unsafe"), "own globals by name"),
    "a view of the written tensor taken before and read after (`v = h[0]`) certainly sees the write: no rewrite, not even unsafe (eval26 U2)": ("""
        def f(x, y):
            h = torch.sigmoid(x.reshape(1, 3))
            v = h[0]
            h.mul_(2)  # <-
            return h * 1.0, v * 1.0
        """, ("breaks", "none"), "`v` holds a view of this very tensor"),
    "... a view not read afterwards does not matter: safe": ("""
        def f(x, y):
            h = torch.sigmoid(x.reshape(1, 3))
            v = h[0]
            h.mul_(2)  # <-
            return h * 1.0
        """, ("breaks", "safe"), None),
    "... into a tensor of unknown dtype (maybe complex itself) it is a change that may not be: unsafe, not refused": ("""
        def g(x, dt):
            h = torch.sigmoid(x).to(dt)
            h *= 2 + 0j  # <-
            return h
        """, (None, "unsafe"), "a complex operand"),
    "`self.apply(self.init_weights)` with a method that only initialises (`nn.init`, a loop over `m.parameters()`) leaves the chain as built (styletts2, eval25)": (
        _INDEXED_CHAIN.replace("FIRST", "nn.BatchNorm2d(4)").replace(
            "            )\n", "            )\n            self.apply(self.init_weights)\n\n"
            "        @staticmethod\n        def init_weights(m):\n            if isinstance(m, nn.Conv2d):\n"
            "                for p in m.parameters():\n                    nn.init.normal_(p.data)\n", 1),
        ("inplace", "safe"), None),
    "... but with one that deletes members, the chain may have changed: no telling what feeds the LeakyReLU": (
        _INDEXED_CHAIN.replace("FIRST", "nn.BatchNorm2d(4)").replace(
            "            )\n", "            )\n            self.apply(self.prune)\n\n"
            "        @staticmethod\n        def prune(m):\n            if isinstance(m, nn.Sequential):\n"
            "                del m[0]\n", 1),
        (None, "unsafe"), None),
    "an operand that is a number on one path and a tensor on another (`s = 2.0`, then maybe `s = t`) may broadcast: unsafe (eval26 D2)": ("""
        def f(x, y):
            h = torch.sigmoid(x)
            s = 2.0
            if y.sum() > 0:
                s = torch.ones(3, 3)
            h *= s  # <-
            return h
        """, ("breaks", "unsafe"), "broadcast `h` to a larger shape"),
    "... a number on every path is safe": ("""
        def f(x, y):
            h = torch.sigmoid(x)
            s = 2.0
            if y.sum() > 0:
                s = 3.0
            h *= s  # <-
            return h
        """, ("breaks", "safe"), None),
    "a helper's result that a lambda it stored captures (`self.peek = lambda: c`) is kept: no safe fix for a write into it (eval26 K3)": (
        _PEEK.replace("KEEP", "self.peek = lambda: c"), ("breaks", "unsafe"), None),
    "... without the lambda, the result is the caller's alone: safe": (
        _PEEK.replace("KEEP", "self.peek = None"), ("breaks", "safe"), None),
    "a value stored under a string key of what was indexed by a tensor (`opt.state[p]['buf'] = h`) is kept by a mapping (eval26 Q1)": ("""
        def f(x, y):
            h = torch.sigmoid(x)
            p = nn.Parameter(torch.zeros(3))
            opt = torch.optim.SGD([p], lr=0.1)
            opt.state[p]['buf'] = h
            h.mul_(2)  # <-
            return h
        """, ("breaks", "unsafe"), "stored in"),
    "`self.post(h)` in a base class, where a mixin listed before it in a subclass's bases defines `post`: that one may run, and keep `h` (eval26 M1)": (
        _MIXIN.replace("BASES", "Keep, Base"), (None, "unsafe"), None),
    "... listed after it, the base's own `post` runs: safe": (
        _MIXIN.replace("BASES", "Base, Keep"), (None, "safe"), None),
    "a module class that binds `__call__` in its body (`__call__ = _call_impl`) runs that, not `forward` (eval26 C2)": ("""
        SEEN = []

        class M(nn.Module):
            def _call_impl(self, *a, **k):
                SEEN.append(a[0])
                return super()._call_impl(*a, **k)

            __call__ = _call_impl

            def forward(self, t):
                return t * 1.0

        def f(x, y):
            h = torch.sigmoid(x)
            z = M()(h)
            h.mul_(2)  # <-
            return h, z
        """, ("breaks", "unsafe"), None),
    "grad mode switched through a name bound to the switch (`sge = torch.set_grad_enabled; sge(False)`) is switched: no safe fix (eval26 GM1)": ("""
        def f(x, y):
            h = torch.sigmoid(x)
            sge = torch.set_grad_enabled
            sge(False)
            h.mul_(2)  # <-
            sge(True)
            return h
        """, (None, "unsafe"), None),
    "an activation passed to the constructor (`Conv(activation=F.relu)`) and kept in `self.activation` is that function, or what other callers pass (dgl's ARMA, eval27)": (
        _PASSED_ACTIVATION.replace("ACT", "F.relu"), ("breaks", "unsafe"), "saved by `F.relu`"),
    "... one that saves nothing it returns (`F.gelu` saves its input) leaves the write harmless": (
        _PASSED_ACTIVATION.replace("ACT", "F.gelu"), ("inplace", "unsafe"), None),
    "a module list initialised by `apply(init_weights)` (a class-name test), its members given to `remove_weight_norm`, scaled by a ParameterList's members: still the list as built (fairseq's HiFi-GAN, kokoro)": (
        _ZERO_TRIP_HIFI.replace("USE", "(1 / a) * F.leaky_relu(x, 0.1)"), ("inplace", "unsafe"), None),
    "... but a member handed to an unknown function may be changed there: the loop may not run": (
        _ZERO_TRIP_HIFI.replace("USE", "(1 / a) * F.leaky_relu(x, 0.1)").replace("remove_weight_norm(c)", "prune(c)"),
        ("breaks", "unsafe"), "sigmoid"),
    "an inner loop's accumulator restarted each outer iteration (`y = 0; for j: y += ...`) is new each time: what the in-place ReLU saved last time is another tensor (mmpose's HRNet fuse)": (
        _FUSE.replace("START", "0").replace("OUTER", "0"), ("inplace", "unsafe"), None),
    "... but one kept across the outer loop is the tensor the ReLU saved: writing it again breaks": (
        _FUSE.replace("y = START", "pass").replace("OUTER", "0"), ("breaks", "unsafe"), "saved by `nn.ReLU`"),
    "a result asked for in an integer dtype (`m.sum(-1, dtype=torch.int32)`) never requires grad: `out=` into an int buffer does not raise (nanotron, eval28)": (
        _INT_CUMSUM.replace("DT", ", dtype=torch.int32"), None, None),
    "... in its input's floating dtype it may: `out=` raises at once": (
        _INT_CUMSUM.replace("DT", ""), ("breaks", "none"), "out="),
    "in an `autograd.Function`'s `forward` autograd is off: writing a leaf that requires grad raises nothing (nanotron, eval28)": ("""
        class Gather(torch.autograd.Function):
            @staticmethod
            def forward(ctx, t):
                out = torch.empty(3, requires_grad=t.requires_grad)
                torch.mul(t, 2, out=out)  # <-
                return out

            @staticmethod
            def backward(ctx, g):
                return g * 2
        """, None, None),
    "a loop over the same module list calling each member's `reset_parameters()` leaves the list as built: the blocks run (DIG's ProNet, eval28)": (
        _RESET_LOOP.replace("METHOD", "reset_parameters"), ("inplace", "safe"), None),
    "... another method of each member may change the list: a block may be any module, which may return the input its Linear saved": (
        _RESET_LOOP.replace("METHOD", "detach_from"), ("breaks", "unsafe"), None),
    "a call of one of several modules (`(lin if c else nn.Identity())(h)`) may return `h` itself: no safe fix, whatever the hash seed (eval29 R2)": ("""
        def f(x, c):
            h = torch.sigmoid(x)
            lin = nn.Linear(3, 3)
            y = (lin if c else nn.Identity())(h)
            h.mul_(2)  # <-
            return h, y
        """, ("breaks", "unsafe"), None),
    "... one module known, its result is its own: safe": ("""
        def f(x, c):
            h = torch.sigmoid(x)
            lin = nn.Linear(3, 3)
            y = lin(h)
            h.mul_(2)  # <-
            return h, y
        """, ("breaks", "safe"), None),
    "a base's method returning a view of its argument, overridden by a subclass returning a new tensor: the view may come back (eval29 R1c)": (
        _PICK.replace("BASE", "return t.view(-1)").replace("OVERRIDE", "return t + 1"), ("breaks", "unsafe"), None),
    "... an override that is a `@staticmethod` is not given `self`: unknown, not followed (eval29 R1)": (
        _PICK.replace("BASE", "return t * 2").replace("    def pick(self, t):\n            OVERRIDE",
                      "    @staticmethod\n        def pick(t):\n            SEEN.append(t)\n            return t * 2"),
        ("breaks", "unsafe"), None),
    "... where both return new tensors, the result is the caller's own: safe": (
        _PICK.replace("BASE", "return t * 2").replace("OVERRIDE", "return t + 1"), ("breaks", "safe"), None),
    "a module the file switches to in place after building it (`self.act.inplace = True`) may return its input: no safe fix (eval29 F1)": (
        _SWITCHED.replace("SWITCH", "self.act.inplace = True").replace("ARG", ""), ("breaks", "unsafe"), None),
    "... nor one given `inplace=` a value that is not a literal (`nn.ELU(inplace=flag)`)": (
        _SWITCHED.replace("SWITCH", "pass").replace("ARG", "inplace=flag"), ("breaks", "unsafe"), None),
    "... a module's own `self.inplace = inplace` flag switches no torch module: safe": (
        _SWITCHED.replace("SWITCH", "self.inplace = flag").replace("ARG", ""), ("breaks", "safe"), None),
    "... or through `builtins.id(t)` and `getattr(t, '_version')` (eval29 I2)": (
        _HELPER_READS.replace("    _MEMO = {}", "    import builtins\n    _MEMO = {}").replace(
            "BODY", "return (builtins.id(t), getattr(t, '_version'))"), ("breaks", "unsafe"), "in `look`"),
    "... through a helper method that calls it (`obj.run(h)` -> `self.pick(t)`), or in a tuple it returns, the view may come back (eval29)": ("""
        class Base:
            def pick(self, t):
                return (t[0], 1)

            def run(self, t):
                return self.pick(t)[0]

        class Sub(Base):
            def pick(self, t):
                return (t + 1, 1)

        def f(x, y):
            h = torch.sigmoid(x.reshape(1, 3))
            z = Base().run(h)
            h.mul_(2)  # <-
            return h, z
        """, ("breaks", "unsafe"), None),
    "a number a nested function binds again (`nonlocal s`) may be a tensor when the write runs: no safe fix (eval29 N1)": ("""
        def f(x, y):
            h = torch.sigmoid(x)
            s = 2.0
            def setit():
                nonlocal s
                s = torch.ones(3, dtype=torch.float64)
            setit()
            h.mul_(s)  # <-
            return h
        """, ("breaks", "unsafe"), "`s` is a tensor"),
    "... a nested function that only reads it leaves it a number: safe": ("""
        def f(x, y):
            h = torch.sigmoid(x)
            s = 2.0
            def show():
                return s + 1
            show()
            h.mul_(s)  # <-
            return h
        """, ("breaks", "safe"), None),
    "a global pre-hook registered through an imported alias (`register_module_forward_pre_hook as rp`) keeps a module's input: no safe fix (eval29 H3)": ("""
        SEEN = []

        def f(x, y):
            h = torch.sigmoid(x)
            lin = nn.Linear(3, 3)
            from torch.nn.modules.module import register_module_forward_pre_hook as rp
            rp(lambda m, i: SEEN.append(i[0]))
            z = lin(h)
            h.mul_(2)  # <-
            return h, z
        """, ("breaks", "unsafe"), None),
    "... and a hook method named in a string (`getattr(lin, 'register_forward_' + 'hook')`)": ("""
        SEEN = []

        def f(x, y):
            h = torch.sigmoid(x)
            lin = nn.Linear(3, 3)
            getattr(lin, 'register_forward_' + 'pre_hook')(lambda m, i: SEEN.append(i[0]))
            z = lin(h)
            h.mul_(2)  # <-
            return h, z
        """, ("breaks", "unsafe"), None),
    "... without a hook, the module's input is not kept: safe": ("""
        def f(x, y):
            h = torch.sigmoid(x)
            lin = nn.Linear(3, 3)
            z = lin(h)
            h.mul_(2)  # <-
            return h, z
        """, ("breaks", "safe"), None),
    "`del k[h]` hands `h` to `__delitem__` of an object of the run, which may keep it: no safe fix (eval29 O2)": ("""
        SEEN = []

        class K:
            def __delitem__(self, key):
                SEEN.append(key)

        def f(x, y):
            h = torch.sigmoid(x)
            k = K()
            del k[h]
            h.mul_(2)  # <-
            return h
        """, ("breaks", "unsafe"), "__delitem__"),
    "... `del d[0]` on a local dict hands it nothing: safe": ("""
        def f(x, y):
            h = torch.sigmoid(x)
            d = {0: 1}
            del d[0]
            h.mul_(2)  # <-
            return h
        """, ("breaks", "safe"), None),
    "`st |= {'buf': h}` into a global dict (through a local name) keeps `h`: no safe fix (eval29 Q2)": ("""
        STATE = {}

        def f(x, y):
            h = torch.sigmoid(x)
            st = STATE
            st |= {'buf': h}
            h.mul_(2)  # <-
            return h
        """, ("breaks", "unsafe"), "merged into `st`"),
    "... `n += h.sum().item()` into a number keeps nothing: safe": ("""
        def f(x, y):
            h = torch.sigmoid(x)
            n = 0.0
            n += h.sum().item()
            h.mul_(2)  # <-
            return h, n
        """, ("breaks", "safe"), None),
    "a mixin named by an alias before the base (`K = Keep; class Sub(K, Base)`) may bind the method the base calls: no safe fix (eval29 M2)": ("""
        SEEN = []

        class Base(nn.Module):
            def post(self, t):
                pass

            def forward(self, x):
                h = torch.sigmoid(x)
                self.post(h)
                h.mul_(2)  # <-
                return h

        class Keep:
            def post(self, t):
                SEEN.append(t)

        K = Keep

        class Sub(K, Base):
            pass
        """, ("breaks", "unsafe"), None),
    "... `Keep[int]` or a metaclass of the run's likewise": ("""
        SEEN = []

        class Meta(type):
            def __new__(mcs, name, bases, ns):
                ns['post'] = lambda self, t: SEEN.append(t)
                return super().__new__(mcs, name, bases, ns)

        class Base(nn.Module):
            def post(self, t):
                pass

            def forward(self, x):
                h = torch.sigmoid(x)
                self.post(h)
                h.mul_(2)  # <-
                return h

        class Sub(Base, metaclass=Meta):
            pass
        """, ("breaks", "unsafe"), None),
    "... a base the file names, or `Generic[T]`, listed first binds nothing new: safe": ("""
        from typing import Generic, TypeVar
        T = TypeVar("T")

        class Base(nn.Module):
            def post(self, t):
                pass

            def forward(self, x):
                h = torch.sigmoid(x)
                self.post(h)
                h.mul_(2)  # <-
                return h

        class Sub(Generic[T], Base):
            pass
        """, ("breaks", "safe"), None),
    "what is made from `max(dim)`'s indices (`F.one_hot(idx, n).float()`) never requires grad: a write into it breaks nothing (eval31 W)": ("""
        def f(x, y):
            gates = (x @ x.T).softmax(dim=-1)
            g, idx = gates.max(dim=-1)
            mask = F.one_hot(idx, 3).float()
            pos = mask.cumsum(dim=-2) * mask
            mask *= (pos < 3.0).float()  # <-
            return g[..., None] * mask
        """, None, None),
    "... but the indices themselves are saved by `max` for its backward: writing them breaks it": ("""
        def f(x, y):
            v, i = x.max(1)
            i.add_(1)  # <-
            return v.sum(), i
        """, ("breaks", "unsafe"), "saved by `max`"),
    "a module attribute that is an `nn.Linear` or a module of another library (`MuReadout(...)`) runs the Linear on one path: its save counts (eval31 graphium)": ("""
        from mup import MuReadout

        class FC(nn.Module):
            def __init__(self, d, readout=False):
                super().__init__()
                if not readout:
                    self.linear = nn.Linear(d, d)
                else:
                    self.linear = MuReadout(d, d)

            def forward(self, h):
                return self.linear(h)

        class Enc(nn.Module):
            def __init__(self, d, flag):
                super().__init__()
                self.scale = nn.Parameter(torch.ones(d))
                self.proj = FC(d, readout=flag)

            def forward(self, x):
                feat = x + self.scale
                out = self.proj(feat)
                feat.masked_fill_(feat > 1, 0.0)  # <-
                return out
        """, ("breaks", "unsafe"), "saved by `nn.Linear`"),
    "... an attribute only ever built by an unknown call stays unknown: no claim that it saves": ("""
        from mup import MuReadout

        class Enc(nn.Module):
            def __init__(self, d):
                super().__init__()
                self.scale = nn.Parameter(torch.ones(d))
                self.proj = MuReadout(d, d)

            def forward(self, x):
                feat = x + self.scale
                out = self.proj(feat)
                feat.masked_fill_(feat > 1, 0.0)  # <-
                return out
        """, ("inplace", "unsafe"), "cannot see into"),
    "`w, b = self.weight, self.bias; if w is not None:` on an instance whose constructor made the weight: the identity path never runs, the write is into a fresh conv output (eval28 R, physicsnemo)": (
        _EDM_BLOCK.replace("KERNEL", "3"), ("inplace", "unsafe"), None),
    "... built with `kernel=0` the same call returns its input, which sigmoid saved: breaks": (
        _EDM_BLOCK.replace("KERNEL", "0"), ("breaks", "unsafe"), "saved by `torch.sigmoid`"),
    "a module whose members the file does not know (`nn.Sequential(layers)` of an OrderedDict) may have parameters: its output may require grad though its input does not (eval32 neuralclbf)": ("""
        from collections import OrderedDict

        class Controller(nn.Module):
            def __init__(self):
                super().__init__()
                layers = OrderedDict()
                layers["lin"] = nn.Linear(2, 4)
                self.V_nn = nn.Sequential(layers)

            def loss(self, x):
                V = x.detach()
                for layer in self.V_nn:
                    V = layer(V)
                violation = F.relu(1.0 + V)
                violation *= 2  # <-
                return violation.mean()
        """, ("breaks", "safe"), "saved by `F.relu`"),
    "... under `torch.no_grad()` nothing it returns requires grad": ("""
        from collections import OrderedDict

        class Controller(nn.Module):
            def __init__(self):
                super().__init__()
                layers = OrderedDict()
                layers["lin"] = nn.Linear(2, 4)
                self.V_nn = nn.Sequential(layers)

            @torch.no_grad()
            def loss(self, x):
                V = x.detach()
                for layer in self.V_nn:
                    V = layer(V)
                violation = F.relu(1.0 + V)
                violation *= 2  # <-
                return violation.mean()
        """, None, None),
    "... a callable the constructor is given (`self.point = point`) may be any function: its result requires grad only as its input does (torchphysics' bounding box)": ("""
        class Point:
            def __init__(self, point):
                self.point = point

            def bounds(self, params):
                pts = self.point(params)
                lo = torch.min(pts)
                lo -= 0.1  # <-
                return lo.item()
        """, None, None),
    "`Variable(t, requires_grad=False)` is `t.detach()` by another name: saved by a product, then `t` written (eval32 dplc)": ("""
        from torch.autograd import Variable

        def f(x, y):
            levels = torch.tensor([-1.0, 0.0, 1.0])
            level_var = Variable(levels, requires_grad=False)
            out = torch.sum(level_var * torch.softmax(x, dim=-1), dim=-1)
            levels.mul_(2)  # <-
            return out
        """, ("breaks", "safe"), "saved by `*`"),
    "... a tensor no saved one shares memory with: writing it outside the graph is harmless": ("""
        def f(x, y):
            levels = torch.tensor([-1.0, 0.0, 1.0])
            out = torch.sum(levels.clone() * torch.softmax(x, dim=-1), dim=-1)
            levels.mul_(2)  # <-
            return out
        """, None, None),
    "`nn.ELU(inplace=1)`: torch tests the flag's truth, so any true constant writes in place; `y` is `h` itself: no fix (eval30 F3)": (
        "\n" + _ACT_NET.replace("ACT", "nn.ELU(inplace=1)"), ("breaks", "none"), None),
    "... `nn.ELU(inplace=0)` returns a new tensor: safe": (
        "\n" + _ACT_NET.replace("ACT", "nn.ELU(inplace=0)"), ("breaks", "safe"), None),
    "`nn.ELU(*ARGS)` may pass `inplace` by position: no safe fix (eval30 F2c)": (
        """
        ARGS = (1.0, True)

""" + _ACT_NET.replace("ACT", "nn.ELU(*ARGS)"), ("breaks", "unsafe"), None),
    "`m.inplace: bool = True` on another object switches a module to in place: no safe fix (eval30 F2a)": (
        "\n" + _ACT_NET.replace("ACT", "nn.ELU()") + """
        def build():
            m = Net()
            m.act.inplace: bool = True
            return m
""", ("breaks", "unsafe"), None),
    "... so does running its constructor again (`m.act.__init__(inplace=True)`, eval30 F2b)": (
        "\n" + _ACT_NET.replace("ACT", "nn.ELU()") + """
        def build():
            m = Net()
            m.act.__init__(inplace=True)
            return m
""", ("breaks", "unsafe"), None),
    "... a `self.inplace = flag` of a class's own, and `super().__init__(inplace=...)`, switch nothing else: safe": (
        "\n" + _ACT_NET.replace("ACT", "nn.ELU()") + """
        class Own(nn.Module):
            def __init__(self, inplace=False):
                super().__init__()
                self.inplace = inplace
""", ("breaks", "safe"), None),
    "`F.relu(h, inplace=flag)` may return `h` itself: no safe fix for the write after (eval30 F4)": ("""
        def f(x, flag):
            h = torch.sigmoid(x)
            y = F.relu(h, inplace=flag)
            h.mul_(2)  # <-
            return h, y
        """, ("breaks", "unsafe"), None),
    "... `F.relu(h, inplace=False)` never does: safe": ("""
        def f(x, flag):
            h = torch.sigmoid(x)
            y = F.relu(h, inplace=False)
            h.mul_(2)  # <-
            return h, y
        """, ("breaks", "safe"), None),
    "`myid = id`: an identity read through another name (eval30 I3)": ("""
        def f(x, y):
            h = torch.sigmoid(x)
            myid = id
            a = myid(h)
            h.mul_(2)  # <-
            return h, myid(h) - a
        """, ("breaks", "unsafe"), "another name for `id`"),
    "OP104: a module reached outside its class through `list(net.children())[1]` may be given a tensor read afterwards: the fix is unsafe (eval30 O3, E1)": (
        "\n" + _OP104_NET.replace("REACH", 'list(net.children())[1]'), (None, "unsafe"), "reached where outplace does not follow"),
    "... and through a comprehension over `net.children()` (which crashed the engine)": (
        "\n" + _OP104_NET.replace("REACH", '[c for c in net.children()][1]'), (None, "unsafe"), "reached where outplace does not follow"),
    "... reached only as `net.act.weight`-free `net(t)`: the fix is safe": (
        "\n" + _OP104_NET.replace("REACH", 'net'), (None, "safe"), None),
    "... `nn.SiLU(inplace=True)` instead: no dtype is known to be real, and on a complex tensor requiring grad `F.silu` raises where the in-place form runs (eval49 D2)": (
        "\n" + _OP104_NET.replace("REACH", 'net').replace("nn.ReLU(inplace=True)", "nn.SiLU(inplace=True)"),
        (None, "unsafe"), "not known to be a real tensor"),
    "eval49 D1: `abs_` of a float-only op's result, which is complex for a complex input": ("""
        def f(x, y):
            h = torch.sigmoid(x)
            h.abs_()  # <-
            return h
        """, (None, "unsafe"), "not known to be a real tensor"),
    "a helper returning a list that holds a view of its argument: the element may be that view (eval30 C1)": ("""
        def helper(t):
            return [t * 2, t.view(-1)]

        def f(x, y):
            h = torch.sigmoid(x)
            z = helper(h)[1]
            h.mul_(2)  # <-
            return h, z * 1.0
        """, ("breaks", "unsafe"), None),
    "... and `return t.view(-1) if c else t * 2`: a view on one path, a new tensor on the other": ("""
        def helper(t, c):
            return t.view(-1) if c else t * 2

        def f(x, y):
            h = torch.sigmoid(x)
            z = helper(h, x.sum() > 0)
            h.mul_(2)  # <-
            return h, z * 1.0
        """, ("breaks", "unsafe"), None),
    "... a helper returning only new tensors: safe": ("""
        def helper(t):
            return [t * 2, t + 1]

        def f(x, y):
            h = torch.sigmoid(x)
            z = helper(h)[1]
            h.mul_(2)  # <-
            return h, z * 1.0
        """, ("breaks", "safe"), None),
    "`min([h], key=keep)` gives `h` to `keep`, which keeps it (eval30 K1)": ("""
        KEEP = []

        def keep(v):
            KEEP.append(v)
            return 0

        def f(x, y):
            h = torch.sigmoid(x)
            min([h], key=keep)
            h.mul_(2)  # <-
            return h
        """, ("breaks", "unsafe"), "the function `min` calls"),
    "`C[h]` hands `h` to `C.__class_getitem__` (eval30 O4)": ("""
        KEEP = []

        class C:
            def __class_getitem__(cls, item):
                KEEP.append(item)
                return cls

        def f(x, y):
            h = torch.sigmoid(x)
            C[h]
            h.mul_(2)  # <-
            return h
        """, ("breaks", "unsafe"), "__class_getitem__"),
    "`sum(xs, start=0j)` folds its keyword start: complex (eval30 N2)": ("""
        def f(x, y):
            h = torch.sigmoid(x)
            s = sum([1, 2], start=0j)
            h.mul_(s)  # <-
            return h
        """, ("breaks", "none"), None),
    "... `sum(lst)` of a list a helper may have changed is a number of unknown kind (eval30 N4)": ("""
        def add(lst):
            lst.append(1j)

        def f(x, y):
            h = torch.sigmoid(x)
            lst = [1, 2]
            add(lst)
            s = sum(lst)
            h.mul_(s)  # <-
            return h
        """, ("breaks", "unsafe"), None),
    "... `sum([1, 0.5])` of a display is a float: safe": ("""
        def f(x, y):
            h = torch.sigmoid(x)
            s = sum([1, 0.5])
            h.mul_(s)  # <-
            return h
        """, ("breaks", "safe"), None),
    "a class decorator of the file that returns another class (`type(name, (Keep, cls), {})`) may put a method before the base's (eval30 M2)": ("""
        class Base:
            def pick(self, t):
                return t * 2

            def run(self, x):
                h = torch.sigmoid(x)
                y = self.pick(h)
                h.mul_(2)  # <-
                return h, y

        class Keep:
            def pick(self, t):
                return t

        def with_keep(cls):
            return type(cls.__name__, (Keep, cls), {})

        @with_keep
        class Sub(Base):
            pass
        """, (None, "unsafe"), None),
    "... one that returns the class it is given adds nothing: safe": ("""
        class Base:
            def pick(self, t):
                return t * 2

            def run(self, x):
                h = torch.sigmoid(x)
                y = self.pick(h)
                h.mul_(2)  # <-
                return h, y

        def register(cls):
            return cls

        @register
        class Sub(Base):
            pass
        """, (None, "safe"), None),
    "an element of a list a nested function changes (`box[0] = 1j` in `g`) may be anything: no safe fix (eval30 numscope)": ("""
        def f(x, y):
            h = torch.sigmoid(x)
            box = [0.5]
            def g():
                box[0] = 1j
            g()
            s = box[0]
            h.mul_(s)  # <-
            return h
        """, ("breaks", "unsafe"), None),
    "OP104: the loop variable of `for m in net.children(): pass` read after the loop is the module: unsafe (eval30 reach30)": (
        "\n" + _OP104_NET.replace("m = REACH", "for m in net.children():\n                pass"), (None, "unsafe"),
        "reached where outplace does not follow"),
    "`for i, conv in enumerate(self.convs)` over an `nn.ModuleList([])` filled by `append`: each is one of the members, whose ReLU saved its result (eval32 ZeroRestore)": ("""
        class InConv(nn.Module):
            def __init__(self):
                super().__init__()
                self.convf = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU())

            def forward(self, x):
                return self.convf(x)

        class SKConv(nn.Module):
            def __init__(self):
                super().__init__()
                self.convs = nn.ModuleList([])
                for i in range(2):
                    self.convs.append(InConv())

            def forward(self, x):
                for i, conv in enumerate(self.convs):
                    fea = conv(x).unsqueeze_(dim=1)  # <-
                return fea
        """, ("breaks", "unsafe"), "may return a tensor that something else holds"),
    "... members that save nothing of their output: not breaks": ("""
        class SKConv(nn.Module):
            def __init__(self):
                super().__init__()
                self.convs = nn.ModuleList([])
                for i in range(2):
                    self.convs.append(nn.Conv2d(3, 4, 3, padding=1))

            def forward(self, x):
                for i, conv in enumerate(self.convs):
                    fea = conv(x).unsqueeze_(dim=1)  # <-
                return fea
        """, ("inplace", "unsafe"), None),
    "`def scale(t): t.mul_(2); return t` called as the statement `scale(h)`: the change to the caller's tensor is the point, no fix even unsafe (eval30 U11)": ("""
        def scale(t):
            t.mul_(2)  # <-
            return t

        def f(x, y):
            h = torch.sigmoid(x)
            scale(h)
            return h
        """, ("breaks", "none"), "drops the result"),
    "... every call uses the result (`h = scale(h)`): the rewrite may be offered (unsafe)": ("""
        def scale(t):
            t.mul_(2)  # <-
            return t

        def f(x, y):
            h = torch.sigmoid(x)
            h = scale(h)
            return h
        """, ("breaks", "unsafe"), None),
    "OP104: a subclass reaching the module by `super().__getattr__('act')(h)` calls it where outplace does not follow: unsafe (eval29 op104x29)": ("""
        class M(nn.Module):
            def __init__(self):
                super().__init__()
                self.act = nn.ReLU(inplace=True)  # <-
                self.lin = nn.Linear(4, 4)

            def forward(self, x):
                return self.act(torch.tanh(self.lin(x))) * 2

        class Sub(M):
            def forward(self, x):
                h = self.lin(x)
                super().__getattr__('act')(h)
                return h * 2
        """, (None, "unsafe"), "reached where outplace does not follow"),
    "a function under a registering decorator factory of the file that returns it unchanged is called by its name: its caller's grad reaches it (eval32 smee)": (
        "\n" + _REGISTRY_ENERGY.replace("RESULT", 'func'), ("breaks", "unsafe"), "saved by `torch.norm`"),
    "... a decorator that returns a wrapper: what runs is not the body as written": (
        "\n" + _REGISTRY_ENERGY.replace("RESULT", 'lambda *a: func(*a)'), ("inplace", "unsafe"), None),
    "`[h] == [NS.K]`: an object the flow cannot name (a class attribute) may be an instance of the file's class whose `__eq__` keeps the tensor (eval26 O1)": ("""
        class Keeper:
            last = None

            def __eq__(self, t):
                Keeper.last = t
                return False

        class NS:
            K = Keeper()

        def f(x, y):
            h = torch.sigmoid(x)
            z = [h] == [NS.K]
            h.mul_(2)  # <-
            return h, z
        """, ("breaks", "unsafe"), None),
    "... a file whose classes define only `__getitem__` (a dataset): comparing with an unknown object keeps nothing: safe": ("""
        class Data:
            def __getitem__(self, i):
                return i

        class NS:
            K = 3

        def f(x, y):
            h = torch.sigmoid(x)
            z = [h] == [NS.K]
            h.mul_(2)  # <-
            return h, z
        """, ("breaks", "safe"), None),
    "... a class of the file whose own `__setattr__` hands on to `super().__setattr__(name, value)` sets nothing on other objects: the configured instance stays configured (physicsnemo's UNetBlock)": (
        _EDM_BLOCK.replace("KERNEL", "3") + """
        class Guarded(nn.Module):
            def __setattr__(self, name, value):
                super().__setattr__(name, value)
        """, ("inplace", "unsafe"), None),
    "... `setattr(obj, name, value)` on another object may set any attribute: the configuration is not trusted": (
        _EDM_BLOCK.replace("KERNEL", "3") + """
        def tweak(obj, name, value):
            setattr(obj, name, value)
        """, ("breaks", "unsafe"), None),
    "`__torch_function__` set under a computed name (`setattr(K, '__torch_' + 'function__', ...)`): torch calls may keep their arguments (eval26)": ("""
        SEEN = []

        def _tf(cls, func, types, args=(), kwargs=None):
            SEEN.append(args[0])
            return func(*args, **(kwargs or {}))

        class K:
            pass

        setattr(K, "__torch_" + "function__", classmethod(_tf))

        def f(x, y):
            h = torch.sigmoid(x)
            z = torch.mul(h, 2)
            h.mul_(2)  # <-
            return h, z
        """, ("breaks", "unsafe"), None),
    "`Sub = type('Sub', (Keep, Base), {})`: a class made at run time puts `Keep`'s methods before `Base`'s (eval26 mixin)": ("""
        SEEN = []

        class Base(nn.Module):
            def post(self, t):
                pass

            def forward(self, x):
                h = torch.sigmoid(x)
                self.post(h)
                h.mul_(2)  # <-
                return h

        class Keep:
            def post(self, t):
                SEEN.append(t)

        Sub = type('Sub', (Keep, Base), {})
        """, (None, "unsafe"), None),
    "`getattr(ng, '__enter__')()` enters a no-grad block by the method's name: the grad mode is not what the text shows (eval26 gradmode)": ("""
        def f(x, y):
            h = torch.sigmoid(x)
            ng = torch.no_grad()
            getattr(ng, '__enter__')()
            h.mul_(2)  # <-
            getattr(ng, '__exit__')(None, None, None)
            return h
        """, (None, "unsafe"), None),
    "... a call that drops the result but passes a temporary (`scale(h.exp())`) sees nothing of the write: the fix may be offered (unsafe)": ("""
        def scale(t):
            t.mul_(2)  # <-
            return t

        def f(x, y):
            h = torch.sigmoid(x)
            scale(h.exp())
            return h
        """, ("breaks", "unsafe"), None),
    "... through `weight = self.weight.to(x.dtype)` and `w = weight if weight is not None else None`, as physicsnemo writes it": (
        _EDM_BLOCK.replace("KERNEL", "3").replace(CONV_FORWARD, CONV_FORWARD_PHYSICSNEMO), ("inplace", "unsafe"), None),
    "... and built with `kernel=0`, that forward returns its input: breaks": (
        _EDM_BLOCK.replace("KERNEL", "0").replace(CONV_FORWARD, CONV_FORWARD_PHYSICSNEMO), ("breaks", "unsafe"),
        "saved by `torch.sigmoid`"),
    "a strided slice's layout read after the write through numpy (`h.detach().numpy().strides`): out of place it is contiguous (eval30 L1)": ("""
        def f(x, y):
            h = torch.sigmoid(x)[:, ::2]
            h.mul_(2)  # <-
            b = h.detach().numpy().strides
            return h, b
        """, ("breaks", "unsafe"), "strides"),
    "... its values read through numpy see nothing of the layout: safe": ("""
        def f(x, y):
            h = torch.sigmoid(x)[:, ::2]
            h.mul_(2)  # <-
            b = h.detach().numpy().sum()
            return h, b
        """, ("breaks", "safe"), None),
    "... a second `for m in net.modules():` loop binds `m` again: its reads are not of the first loop's last module (torchvision's video resnet): safe": (
        "\n" + _OP104_NET.replace("m = REACH", "for m in net.children():\n                pass\n"
                                   "            for m in net.modules():\n                isinstance(m, nn.ReLU)\n"
                                   "            pass").replace("return m(t)", "return net(t)"),
        (None, "safe"), None),
    "... but a read of `m` after them that no loop rebinds first (`if False: m = ...` binds nothing) is the first loop's module: unsafe (eval34 L2)": (
        "\n" + _OP104_NET.replace("m = REACH", "for m in net.children():\n                pass\n"
                                   "            if False:\n                m = net"),
        (None, "unsafe"), "reached where outplace does not follow"),
    "... and so is one in a lambda (eval34 L3)": (
        "\n" + _OP104_NET.replace("m = REACH", "for m in net.children():\n                pass\n"
                                   "            call = lambda u: m(u)").replace("return m(t)", "return call(t)"),
        (None, "unsafe"), "reached where outplace does not follow"),
    "OP104: the module reached by `operator.attrgetter('act')` or `getattr(net, '_modules')` is called where outplace does not follow (eval34 O6)": (
        "\n        import operator\n" + _OP104_NET.replace("m = REACH", "m = operator.attrgetter('act')(net)"),
        (None, "unsafe"), "reached where outplace does not follow"),
    "... `net.__getattribute__('_modules')['act']`": (
        "\n" + _OP104_NET.replace("m = REACH", "m = net.__getattribute__('_modules')['act']"),
        (None, "unsafe"), "reached where outplace does not follow"),
    "a decorator that replaces the function's `__code__` makes its text not what runs: no safe fix (eval34 D1)": ("""
        def ident(t):
            return t

        def d(fn):
            fn.__code__ = ident.__code__
            return fn

        @d
        def scale(t):
            return t * 1.0

        def f(x, y):
            h = torch.sigmoid(x)
            v = scale(h)
            h.mul_(2)  # <-
            return h, v
        """, ("breaks", "unsafe"), None),
    "a loop variable over a tuple of tensors is each of them in turn: what was saved of them counts (`for v in (q, k)`)": ("""
        class M(nn.Module):
            def forward(self, x):
                a = torch.sigmoid(x)
                b = torch.tanh(x)
                for v in (a, b):
                    v += 1  # <-
                return a * b
        """, ("breaks", "none"), "in turn each tensor it goes over"),
    "... where neither was saved it is only in place, and rebinding still loses the write to `a` and `b`": ("""
        class M(nn.Module):
            def forward(self, x):
                a = x * 2
                b = x + 1
                for v in (a, b):
                    v += 1  # <-
                return a * b
        """, ("inplace", "none"), "rebinding `v` would leave them unchanged"),
    "... a list the loop appended to, returned: the write is meant for what it holds": ("""
        class M(nn.Module):
            def forward(self, x):
                outs = []
                for i in range(3):
                    outs.append(torch.exp(x * i))
                for o in outs:
                    o.clamp_(max=3)  # <-
                return outs
        """, ("breaks", "none"), "`outs` (one of them, or what holds them) is read afterwards"),
    "... members nothing reads after the loop: rebinding changes nothing they show": ("""
        class M(nn.Module):
            def forward(self, x):
                a = x * 2
                b = x + 1
                for v in (a, b):
                    v.add_(1)  # <-
                    y = v * x
                return y
        """, ("inplace", "unsafe"), None),
    "... a save of one member on an earlier iteration is not a save of the next (`v.add_(1)` before `v * x`)": ("""
        class M(nn.Module):
            def forward(self, x):
                a = x * 2
                b = x + 1
                ys = []
                for v in (a, b):
                    v.add_(1)  # <-
                    ys.append(v * x)
                return ys
        """, ("inplace", "unsafe"), None),
    "... but one saved earlier in the same iteration is": ("""
        class M(nn.Module):
            def forward(self, x):
                a = x * 2
                b = x + 1
                ys = []
                for v in (a, b):
                    ys.append(v * x)
                    v.add_(1)  # <-
                return ys
        """, ("breaks", "unsafe"), "was saved by `*`"),
    "... a member that is the caller's tensor: the write is meant for it": ("""
        def scale_both(q, k, s):
            for t in (q, k):
                t.mul_(s)  # <-

        class M(nn.Module):
            def forward(self, x):
                q = x * 2
                k = x * 3
                scale_both(q, k, 0.5)
                return q + k
        """, (None, "none"), "outlives this scope"),
    "`case v:` binds the subject itself: rebinding `v` after the write loses it for `h` (eval30 U9)": ("""
        def f(x, y):
            h = x * y
            match h:
                case v:
                    v.mul_(2)  # <-
            return h
        """, ("inplace", "none"), "`h` holds this very tensor"),
    "... `case [v]` binds a part: unsafe, not certainly wrong": ("""
        def f(x, y):
            h = [x * y]
            match h:
                case [v]:
                    v.mul_(2)  # <-
            return x
        """, (None, "unsafe"), None),
    "`with nullcontext(h) as v` binds `h` itself (eval30 U9)": ("""
        from contextlib import nullcontext

        def f(x, y):
            h = x * y
            with nullcontext(h) as v:
                v.mul_(2)  # <-
            return h
        """, (None, "none"), "`h` holds this very tensor"),
    "... another context manager's target is whatever its `__enter__` returns: unsafe": ("""
        from contextlib import closing

        def f(x, y):
            h = x * y
            with closing(h) as v:
                v.mul_(2)  # <-
            return h
        """, (None, "unsafe"), None),
    "a module built at module level (a script's `act = nn.Sigmoid()`) is that module where it is called: its output was saved": ("""
        act = nn.Sigmoid()

        def f(x, w):
            h = act(x * w)
            h *= 2  # <-
            return h
        """, ("breaks", "safe"), "saved by `nn.Sigmoid`"),
    "... one whose output nothing saves (`nn.Linear`)": ("""
        act = nn.Linear(3, 3)

        def f(x, w):
            h = act(x * w)
            h *= 2  # <-
            return h
        """, ("inplace", "safe"), None),
    "... but not one a function rebinds (`global act`): unknown, no finding": ("""
        act = nn.Sigmoid()

        def swap():
            global act
            act = nn.Identity()

        def f(x, w):
            h = act(x * w)
            h *= 2  # <-
            return h
        """, None, None),
    "a module-level `nn.Identity()` returns its argument: rebinding the name it went to is certainly wrong (eval30 U13)": ("""
        ident = nn.Identity()

        def f(x, y):
            h = x * y
            v = ident(h)
            v.mul_(2)  # <-
            return h
        """, (None, "none"), "`v` is a view of `h`"),
    "a module-level `nn.ReLU(inplace=True)`: judged where the file's functions call it, and never safe to switch off (other files may import it)": ("""
        relu = nn.ReLU(inplace=True)  # <-

        def f(x, y):
            h = torch.sigmoid(x * y)
            return relu(h)
        """, ("breaks", "unsafe"), "a module-level name"),
    "`getattr(nn, activation)()` with `activation='ReLU'` builds the ReLU in an instance built with the default (fepegar/unet, eval42)": ("""
        class Block(nn.Module):
            def __init__(self, cin, cout, activation='ReLU'):
                super().__init__()
                self.block = nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), getattr(nn, activation)())

            def forward(self, x):
                return self.block(x)

        class Enc(nn.Module):
            def __init__(self, cin, cout):
                super().__init__()
                self.conv1 = Block(cin, cout)
                self.res = nn.Conv2d(cin, cout, 1)

            def forward(self, x):
                connection = self.res(x)
                x = self.conv1(x)
                x += connection  # <-
                return x
        """, ("breaks", "unsafe"), "saved by `nn.ReLU`"),
    "... built with another name, it is that class (`nn.Tanh`, which saves its output too; `nn.BatchNorm2d` does not)": ("""
        class Block(nn.Module):
            def __init__(self, cin, cout, activation='ReLU'):
                super().__init__()
                self.block = nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), getattr(nn, activation)(cout))

            def forward(self, x):
                return self.block(x)

        class Enc(nn.Module):
            def __init__(self, cin, cout):
                super().__init__()
                self.conv1 = Block(cin, cout, activation='BatchNorm2d')
                self.res = nn.Conv2d(cin, cout, 1)

            def forward(self, x):
                connection = self.res(x)
                x = self.conv1(x)
                x += connection  # <-
                return x
        """, ("inplace", "unsafe"), None),
    "... a name nothing fixes is some torch.nn class: its result is unknown, no finding": ("""
        class Block(nn.Module):
            def __init__(self, cin, cout, activation):
                super().__init__()
                self.block = nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), getattr(nn, activation)())

            def forward(self, x):
                y = self.block(x)
                y += 1  # <-
                return y
        """, None, None),
    "a chain built by `nn.ModuleList()` and appends, `None` where a layer is switched off (fepegar/unet, eval42)": ("""
        class Block(nn.Module):
            def __init__(self, cin, cout, normalization=None, activation=True):
                super().__init__()
                block = nn.ModuleList()
                block.append(nn.Conv2d(cin, cout, 3, padding=1))
                norm_layer = None
                if normalization is not None:
                    norm_layer = nn.BatchNorm2d(cout)
                act = None
                if activation:
                    act = nn.ReLU()
                if norm_layer is not None:
                    block.append(norm_layer)
                if act is not None:
                    block.append(act)
                self.block = nn.Sequential(*block)

            def forward(self, x):
                y = self.block(x)
                y += 1  # <-
                return y
        """, ("breaks", "safe"), "saved by `nn.ReLU`"),
    "a `forward` argument named as data (`targets`, labels, ids, indices, masks) is no evidence of a graph (eval40 super-gradients SSD loss)": ("""
        class MatchLoss(nn.Module):
            def match(self, ious):
                best_iou, best_idx = ious.max(0)
                best_idx[0] = 0  # <-
                return best_idx[best_iou > 0.5]

            def forward(self, predictions, targets):
                return predictions[self.match(targets)].sum()
        """, ("inplace", "safe"), "if that op's inputs required grad"),
    "... an activation argument is (the same code given `predictions`)": ("""
        class MatchLoss(nn.Module):
            def match(self, ious):
                best_iou, best_idx = ious.max(0)
                best_idx[0] = 0  # <-
                return best_idx[best_iou > 0.5]

            def forward(self, predictions, targets):
                return targets[self.match(predictions)].sum()
        """, ("breaks", "safe"), "saved by `max`"),
    "... and a caller in the run that passes a tensor in a graph decides": ("""
        class MatchLoss(nn.Module):
            def match(self, ious):
                best_iou, best_idx = ious.max(0)
                best_idx[0] = 0  # <-
                return best_idx[best_iou > 0.5]

            def forward(self, predictions, targets):
                return predictions[self.match(targets)].sum()

        def run():
            crit = MatchLoss()
            w = torch.randn(3, 5, requires_grad=True)
            return crit(torch.randn(5), torch.sigmoid(w))
        """, ("breaks", "safe"), "saved by `max`"),
    "a view of a `.detach()`ed tensor is outside the graph too: `norm / d.detach().flatten(1).norm()` saves no `norm` (eval40 advertorch)": ("""
        def f(x, y):
            norm = torch.full((x.shape[0],), 1.0)
            y = norm / x.detach().flatten(1).norm(p=2, dim=1)
            norm.mul_(0.5)  # <-
            return y
        """, None, None),
    "... without the `.detach()` the division saved `norm`": ("""
        def f(x, y):
            norm = torch.full((x.shape[0],), 1.0)
            y = norm / x.flatten(1).norm(p=2, dim=1)
            norm.mul_(0.5)  # <-
            return y
        """, ("breaks", "safe"), "saved by `/`"),
    "`nn.Sequential(*arch)` of an `__init__` parameter: the modules the file's instantiations pass (cgnet, eval32)":
        (_PASSED_CHAIN.replace("MUTATE", "pass").replace("LAST", "nn.Sigmoid()"), ("breaks", "unsafe"), "saved by `nn.Sigmoid`"),
    "... whose last module saves nothing of its output":
        (_PASSED_CHAIN.replace("MUTATE", "pass").replace("LAST", "nn.BatchNorm2d(3)"), ("inplace", "unsafe"), None),
    "... not where `__init__` changes the list first (`arch.append(...)`)":
        (_PASSED_CHAIN.replace("MUTATE", "arch.append(nn.Identity())").replace("LAST", "nn.Sigmoid()"), None, None),
    "a file's own `getattr` is not the builtin: `getattr(nn, 'Sigmoid')()` there builds what it returns (eval44 B1)": ("""
        import builtins

        def getattr(obj, name, *default):
            return nn.Identity if name == "Sigmoid" else builtins.getattr(obj, name, *default)

        class Block(nn.Module):
            def __init__(self):
                super().__init__()
                self.act = getattr(nn, "Sigmoid")()

            def forward(self, x):
                y = x * 2
                h = self.act(y)
                h.mul_(3)  # <-
                return y, h
        """, (None, "unsafe"), None),
    "... the builtin's `nn.Sigmoid` saves its output": ("""
        class Block(nn.Module):
            def __init__(self):
                super().__init__()
                self.act = getattr(nn, "Sigmoid")()

            def forward(self, x):
                y = x * 2
                h = self.act(y)
                h.mul_(3)  # <-
                return y, h
        """, ("breaks", "safe"), "saved by `nn.Sigmoid`"),
    "a loop over a view of one tensor and another: each member is the loop variable in turn (eval44 B5)": ("""
        def f(x, y):
            a = x.sigmoid()
            b = x.tanh()
            for v in (a.view(-1), b):
                v.mul_(2)  # <-
            return b
        """, ("breaks", "none"), "rebinding `v` would leave them unchanged"),
    "a loop over the same tensor twice: a later iteration reads the write (eval44 B6)": ("""
        def f(x, y):
            a = x * y
            out = []
            for v in [a, a]:
                v.add_(1)  # <-
                out.append(v * 1)
            return out[0], out[1]
        """, ("inplace", "none"), "two of them share memory"),
    "... two tensors apart: rebinding loses nothing the loop reads again": ("""
        def f(x, y):
            a = x * y
            b = x + y
            out = []
            for v in [a, b]:
                v.add_(1)  # <-
                out.append(v * 1)
            return out[0], out[1]
        """, ("inplace", "unsafe"), None),
    "a binding inside the value of an index store (`(prev := hs)[:, t]`) holds the old buffer: no hoisted clone (eval44 B4)": ("""
        def f(x, w):
            hs = torch.zeros(2, 5, 3)
            prev = None
            for t in range(3):
                hs[:, t + 1] = torch.tanh(x[:, t] + (prev := hs)[:, t] * w)  # <-
            return prev, hs
        """, ("breaks", "none"), None),
    "a bare `dir()` lists the function's names: no new name for a hoisted value (eval44 B3)": ("""
        def f(x, w):
            hs = torch.zeros(2, 5, 3)
            for t in range(3):
                hs[:, t + 1] = torch.tanh(x[:, t] + hs[:, t] * w)  # <-
            return hs, len(dir())
        """, ("breaks", "none"), None),
    "Python state set on the tensor object (`h.sequence_parallel = True`) is lost by rebinding: no safe fix (eval41)": ("""
        def f(x, y):
            h = torch.sigmoid(x * y)
            h.sequence_parallel = True
            h *= 2  # <-
            return h, getattr(h, "sequence_parallel", False)
        """, ("breaks", "unsafe"), "Python attribute `.sequence_parallel`"),
    "... also `.grad` set on a non-leaf, `h.__dict__[k] = v`, and a helper that sets one": ("""
        def mark(t):
            t.tag = "x"

        def f(x, y):
            h = torch.sigmoid(x * y)
            mark(h)
            h *= 2  # <-
            return h, h.tag
        """, ("breaks", "unsafe"), None),
    "... `h.data = t` changes the tensor itself, not Python state on it": ("""
        def f(x, y):
            h = torch.sigmoid(x * y)
            h.data = h.data * 1
            h *= 2  # <-
            return h
        """, ("breaks", "safe"), None),
    "an identity read in a helper given the tensor by keyword (`version(t=h)`) sees another tensor after a rewrite (eval41)": ("""
        def version(*, t):
            return t._version

        def f(x, y):
            h = torch.sigmoid(x * y)
            h *= 2  # <-
            return h, version(t=h)
        """, ("breaks", "unsafe"), "in `version`"),
    "... or through `*[h]`": ("""
        def ident(t):
            return id(t)

        def f(x, y):
            h = torch.sigmoid(x * y)
            i0 = ident(*[h])
            h *= 2  # <-
            return h, ident(*[h]) == i0
        """, ("breaks", "unsafe"), "in `ident`"),
    "a helper returning a generator expression over its parameter reads it when iterated, after the write (eval41)": ("""
        def lazy(t):
            return (t[i].sum() for i in range(4))

        def f(x, y):
            h = torch.sigmoid(x * y)
            g = lazy(h)
            h *= 2  # <-
            return h, list(g)
        """, ("breaks", "unsafe"), "was kept by `lazy`"),
    "... a generator `sum()` consumes at once keeps nothing": ("""
        def total(t):
            return sum(t[i].sum() for i in range(4))

        def f(x, y):
            h = torch.sigmoid(x * y)
            g = total(h)
            h *= 2  # <-
            return h, g
        """, ("breaks", "safe"), None),
    "a tensor made before a loop that the written name holds only on the first iteration: what the loop saved of it after the write does not count (transfo-xl, eval43)":
        (_FIRST_ITERATION.replace("BODY", "hs.append(h)\n                    h += 1  # <-\n                    h = layer(h)"),
         ("inplace", "unsafe"), None),
    "... what it saved of it before the write, on the first iteration, does":
        (_FIRST_ITERATION.replace("BODY", "y = layer(h)\n                    hs.append(h)\n                    h += 1  # <-\n                    h = y"),
         ("breaks", "unsafe"), "saved by `nn.Linear`"),
    "... and where a `continue` can skip the new binding, the name may hold it again":
        (_FIRST_ITERATION.replace("BODY", "hs.append(h)\n                    h += 1  # <-\n                    y = layer(h)\n                    if len(hs) < 3:\n                        continue\n                    h = y"),
         ("breaks", "unsafe"), "saved by `nn.Linear`"),
    "... or a local lambda (`ver = lambda t: t._version`) called with a keyword": ("""
        def f(x, y):
            ver = lambda t: t._version
            h = torch.exp(x * y)
            h.mul_(3)  # <-
            return h, ver(t=h)
        """, ("breaks", "unsafe"), "in `a lambda`"),
    "... or through `**dict(t=h)`": ("""
        def ident(t=None, *rest):
            return id(t)

        def f(x, y):
            h = torch.sigmoid(x * y)
            h *= 2  # <-
            return h, ident(**dict(t=h))
        """, ("breaks", "unsafe"), "in `ident`"),
    "a helper that calls `retain_grad()` on the tensor before the write: `.grad` afterwards is the old tensor's (eval41)": ("""
        def keep(t=None):
            t.retain_grad()

        def f(x, y):
            h = torch.sigmoid(x * y)
            keep(t=h)
            h *= 2  # <-
            return h
        """, ("breaks", "unsafe"), "retain_grad"),
    "a result whose every later use drops its grad (`_, idx = d.topk(k)` after an in-place fill) is never reached by backward: what saved it never runs (point_transformer, eval43)": ("""
        def f(x, y):
            rel = x[:, None, :] - y[None, :, :]
            d = rel.norm(dim=-1)
            d.masked_fill_(d > 3, 1e4)  # <-
            dist, idx = d.topk(2, largest=False)
            return idx
        """, None, None),
    "... where the values are read, backward reaches `norm`, which saved `d`": ("""
        def f(x, y):
            rel = x[:, None, :] - y[None, :, :]
            d = rel.norm(dim=-1)
            d.masked_fill_(d > 3, 1e4)  # <-
            dist, idx = d.topk(2, largest=False)
            return dist, idx
        """, ("breaks", "unsafe"), "saved by `norm`"),
    "... also where a helper of the file reads only its dtype (`max_value(d)` = `torch.finfo(d.dtype).max`)": ("""
        def max_value(t):
            return torch.finfo(t.dtype).max

        def f(x, y):
            rel = x[:, None, :] - y[None, :, :]
            d = rel.norm(dim=-1)
            d.masked_fill_(d > 3, max_value(d))  # <-
            dist, idx = d.topk(2, largest=False)
            return idx
        """, None, None),
    "... not a helper that returns something computed from it": ("""
        def scaled(t):
            return t * 2

        def f(x, y):
            rel = x[:, None, :] - y[None, :, :]
            d = rel.norm(dim=-1)
            d.masked_fill_(d > 3, 1e4)  # <-
            dist, idx = d.topk(2, largest=False)
            return idx, scaled(d)
        """, ("breaks", "unsafe"), "saved by `norm`"),
    "... not where an inner loop around the write writes it again after the inner body saved it (review)":
        (_FIRST_ITERATION.replace("BODY", "hs.append(h)\n                    for j in range(2):\n                        h += 1  # <-\n"
                                          "                        y = layer(h)\n                    h = y"),
         ("breaks", "unsafe"), "saved by `nn.Linear`"),
    "eval41 certain: `t = next(iter(ts))` is one of the list's tensors, whichever it is; the list is read after: no fix": ("""
        def f(x, y):
            ts = [torch.exp(x @ y), torch.exp(x)]
            t = next(iter(ts))
            t += 1  # <-
            return torch.stack(ts)
        """, ("breaks", "none"), "`ts` holds this very tensor"),
    "... `first, *rest = ts` and `max(ts, key=...)` too": ("""
        def f(x, y):
            ts = [torch.exp(x @ y), torch.exp(x)]
            first, *rest = ts
            best = max(ts, key=lambda v: v.sum().item())
            first.mul_(0.5)  # <-
            return torch.stack(ts), best
        """, ("breaks", "none"), "`ts` holds this very tensor"),
    "... but the list rebound before it is read: unsafe, not certainly wrong": ("""
        def f(x, y):
            ts = [torch.exp(x @ y), torch.exp(x)]
            t = max(ts, key=lambda v: v.sum().item())
            t.mul_(0.5)  # <-
            ts = []
            return t
        """, ("breaks", "unsafe"), None),
    "... and where only one of the members is read after (`a`, not `b`): unsafe, not certainly wrong": ("""
        def f(x, y):
            a = torch.exp(x @ y)
            b = torch.exp(x)
            t = next(iter([a, b]))
            t += 1  # <-
            return a, t
        """, ("breaks", "unsafe"), None),
    "eval41 certain: `self.buf = h`, `t = self.buf` written, `self.buf` read after: the write is meant for it, no fix": ("""
        class M(nn.Module):
            def forward(self, x):
                self.buf = torch.exp(x)
                t = self.buf
                t += 1  # <-
                return self.buf
        """, ("breaks", "none"), "`self.buf`"),
    "... the attribute stored again before it is read: unsafe, not certainly wrong": ("""
        class M(nn.Module):
            def forward(self, x):
                self.buf = torch.exp(x)
                t = self.buf
                t += 1  # <-
                self.buf = t
                return self.buf
        """, ("breaks", "unsafe"), None),
    "... never read again here (a cache the caller may or may not read): unsafe, not certainly wrong": ("""
        class M(nn.Module):
            def forward(self, x):
                self.buf = torch.exp(x)
                t = self.buf
                t += 1  # <-
                return t
        """, ("breaks", "unsafe"), None),
    "... in a loop (a later line is not a later step): unsafe, not certainly wrong": ("""
        class M(nn.Module):
            def forward(self, x):
                for i in range(2):
                    self.buf = torch.exp(x)
                    t = self.buf
                    t += 1  # <-
                    x = self.buf * x
                return x
        """, ("breaks", "unsafe"), None),
    "eval43 equiformer: where `torch.is_tensor(inputs)` failed, `inputs` is no tensor; made a dict where it held: a dict store, no write": ("""
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.emb = nn.Embedding(10, 4)

            def forward(self, inputs):
                if torch.is_tensor(inputs):
                    inputs = {0: inputs}
                feats = self.emb(inputs[0])
                feats = feats + feats
                inputs[0] = feats  # <-
                return inputs
        """, None, None),
    "... without the test, the same store may write into a tensor argument": ("""
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.emb = nn.Embedding(10, 4)

            def forward(self, inputs):
                feats = self.emb(inputs[0])
                feats = feats + feats
                inputs[0] = feats  # <-
                return inputs
        """, ("breaks", "unsafe"), None),
    "... `isinstance(x, torch.Tensor)` failed: no tensor there either (`[x]` where it held)": ("""
        class Net(nn.Module):
            def forward(self, xs):
                if isinstance(xs, torch.Tensor):
                    xs = [xs]
                h = torch.sigmoid(xs[0])
                xs[0] = h * 2  # <-
                return xs, h
        """, None, None),
    "... but where the test held, nothing changes it: the tensor made out of a non-tensor is still written": ("""
        def f(x, y):
            if not torch.is_tensor(x):
                x = torch.as_tensor(x)
            x = x * y
            h = torch.sigmoid(x)
            h.mul_(2)  # <-
            return h
        """, ("breaks", "safe"), None),
    "... and `isinstance(x, (torch.Tensor, np.ndarray))` held: `x` may be an array, nothing is dropped": ("""
        import numpy as np

        class Net(nn.Module):
            def forward(self, xs):
                if isinstance(xs, (torch.Tensor, np.ndarray)):
                    h = torch.sigmoid(torch.as_tensor(xs))
                    xs[0] = h.sum()  # <-
                    return h
                return xs
        """, ("inplace", "none"), None),
    "... a tensor made here is one whatever the test says: its other name is not narrowed away": ("""
        def f(x, y):
            h = torch.sigmoid(x * y)
            a = h
            if not torch.is_tensor(a):
                a = {0: a}
            a[0] = y  # <-
            return h
        """, ("breaks", "none"), "`h` holds this very tensor"),
    "an integer tensor never requires grad: `labels: torch.LongTensor`, cloned and written after `gather` saved it (transformers' shift_tokens_right)": ("""
        def shift_tokens_right(input_ids, pad_token_id: int):
            prev = input_ids.clone()
            start = prev.gather(1, (prev.ne(pad_token_id).sum(dim=1) - 1).unsqueeze(-1)).squeeze()
            prev[:, 0] = start  # <-
            return prev

        class M(nn.Module):
            def forward(self, x, labels: torch.LongTensor | None = None):
                return shift_tokens_right(labels, 1)
        """, None, None),
    "... annotated a float tensor, the same code breaks": ("""
        def shift_tokens_right(input_ids, pad_token_id: int):
            prev = input_ids.clone()
            start = prev.gather(1, (prev.ne(pad_token_id).sum(dim=1) - 1).unsqueeze(-1)).squeeze()
            prev[:, 0] = start  # <-
            return prev

        class M(nn.Module):
            def forward(self, x, labels: torch.FloatTensor | None = None):
                return shift_tokens_right(labels, 1)
        """, ("breaks", "safe"), "saved by `gather`"),
    "a data name annotated no more than a tensor (`labels: torch.Tensor | None`, `Optional[Tensor]`) is still data": ("""
        def shift(ids, pad: int):
            prev = ids.clone()
            start = prev.gather(1, (prev.ne(pad).sum(dim=1) - 1).unsqueeze(-1)).squeeze()
            prev[:, 0] = start  # <-
            return prev

        class M(nn.Module):
            def forward(self, x, labels: torch.Tensor | None = None, target_mask: Optional[torch.Tensor] = None):
                return shift(labels, 1), shift(target_mask, 1)
        """, ("inplace", "safe"), "if that op's inputs required grad"),
    "... a name that is not data, annotated so, may be in a graph": ("""
        def shift(ids, pad: int):
            prev = ids.clone()
            start = prev.gather(1, (prev.ne(pad).sum(dim=1) - 1).unsqueeze(-1)).squeeze()
            prev[:, 0] = start  # <-
            return prev

        class M(nn.Module):
            def forward(self, x, logits: torch.Tensor | None = None):
                return shift(logits, 1)
        """, ("breaks", "safe"), "saved by `gather`"),
    "a `forward` argument named a shape (`input_shape`) is data: dividing by it is no evidence of a saved input (transformers' SAM)": ("""
        class PosEmb(nn.Module):
            def forward(self, input_coords, input_shape=None):
                coordinates = input_coords.clone()
                if input_shape is not None:
                    coordinates[:, 0] = coordinates[:, 0] / input_shape[1]  # <-
                return coordinates
        """, ("inplace", "safe"), None),
    "... divided by another argument, it may be": ("""
        class PosEmb(nn.Module):
            def forward(self, input_coords, scale=None):
                coordinates = input_coords.clone()
                if scale is not None:
                    coordinates[:, 0] = coordinates[:, 0] / scale[1]  # <-
                return coordinates
        """, ("breaks", "safe"), None),
    "a helper given `x.detach()` is given no graph: the caller's detached copy shares the storage of `x`, not its grad (torch's model-report observer)": ("""
        class Obs(nn.Module):
            def __init__(self):
                super().__init__()
                self.register_buffer("lo", torch.tensor(float("inf")))

            def forward(self, x):
                x_copy = x.detach()
                x_copy = x_copy.to(self.lo.dtype)
                self._stats(x_copy)
                return x

            def _stats(self, x_copy):
                cur, _ = torch.aminmax(x_copy)
                new = torch.min(self.lo, cur)
                self.lo.copy_(new)  # <-
                return x_copy
        """, None, None),
    "... given `x` itself, `torch.min` saved the buffer for `x`'s gradient: the write breaks backward": ("""
        class Obs(nn.Module):
            def __init__(self):
                super().__init__()
                self.register_buffer("lo", torch.tensor(float("inf")))

            def forward(self, x):
                return self._stats(x * 2)

            def _stats(self, x_copy):
                cur, _ = torch.aminmax(x_copy)
                new = torch.min(self.lo, cur)
                self.lo.copy_(new)  # <-
                return new
        """, ("breaks", "unsafe"), "saved by `torch.min`"),
    "a factory's `requires_grad=x.requires_grad` makes a leaf that may require grad: the message says where (torch's empty_strided copies)": ("""
        def f(x, y):
            out = torch.empty_strided(x.size(), x.stride(), requires_grad=x.requires_grad)
            out.copy_(x)  # <-
            return out
        """, ("breaks", "unsafe"), "where it requires grad, the write raises"),
    "... `requires_grad=True`: it does": ("""
        def f(x, y):
            out = torch.empty_strided(x.size(), x.stride(), requires_grad=True)
            out.copy_(x)  # <-
            return out
        """, ("breaks", "unsafe"), "is a leaf that requires grad"),
    "another class's `self.layers` is another object (transformers' depth_pro: `layers` in three classes): the chain through this class's list stays in order": ("""
    class Head(nn.Module):
        def __init__(self, c):
            super().__init__()
            self.layers = nn.ModuleList([
                nn.Conv2d(c, c, 3),
                nn.ReLU(True),  # <-
                nn.Conv2d(c, 1, 1),
            ])

        def forward(self, hidden_states):
            for layer in self.layers:
                hidden_states = layer(hidden_states)
            return hidden_states

    class Other(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = nn.ModuleList()
            for i in range(3):
                self.layers.append(nn.Linear(2, 2))

        def forward(self, x):
            for layer in self.layers:
                x = layer(x)
            return x

    def build(c):
        return Head(c), Other()
    """, ("inplace", "unsafe"), None),
    "... unless that class's methods may run on this class's instances (a subclass of both): then the list may be another": ("""
    class Head(nn.Module):
        def __init__(self, c):
            super().__init__()
            self.layers = nn.ModuleList([
                nn.Conv2d(c, c, 3),
                nn.ReLU(True),  # <-
                nn.Conv2d(c, 1, 1),
            ])

        def forward(self, hidden_states):
            for layer in self.layers:
                hidden_states = layer(hidden_states)
            return hidden_states

    class Other(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = nn.ModuleList()
            for i in range(3):
                self.layers.append(nn.Linear(2, 2))

        def forward(self, x):
            for layer in self.layers:
                x = layer(x)
            return x
    
    class Both(Head, Other):
        pass

    def build(c):
        return Head(c), Other()
    """, ("breaks", "unsafe"), "saved by `nn.Conv2d`"),
    "... or `Other.__init__(self)` is run on it": ("""
    class Head(nn.Module):
        def __init__(self, c):
            super().__init__()
            self.layers = nn.ModuleList([
                nn.Conv2d(c, c, 3),
                nn.ReLU(True),  # <-
                nn.Conv2d(c, 1, 1),
            ])

        def forward(self, hidden_states):
            Other.__init__(self)
            for layer in self.layers:
                hidden_states = layer(hidden_states)
            return hidden_states

    class Other(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = nn.ModuleList()
            for i in range(3):
                self.layers.append(nn.Linear(2, 2))

        def forward(self, x):
            for layer in self.layers:
                x = layer(x)
            return x
    
    def build(c):
        return Head(c), Other()
    """, ("breaks", "unsafe"), None),
    "an `__init__` calls what its instantiations pass (`Block(act_layer=nn.Sigmoid)`): the module it builds saved its output": ("""
        class Block(nn.Module):
            def __init__(self, act_layer=nn.GELU):
                super().__init__()
                self.fc = nn.Linear(4, 4)
                self.act = act_layer()

            def forward(self, x):
                h = self.act(self.fc(x))
                h *= 2  # <-
                return h

        def build():
            return Block(act_layer=nn.Sigmoid)
        """, ("breaks", "unsafe"), "saved by `nn.Sigmoid`"),
    "... where they pass a class that saves no output (`nn.GELU`), nothing did": ("""
        class Block(nn.Module):
            def __init__(self, act_layer=nn.GELU):
                super().__init__()
                self.fc = nn.Linear(4, 4)
                self.act = act_layer()

            def forward(self, x):
                h = self.act(self.fc(x))
                h *= 2  # <-
                return h

        def build():
            return Block(act_layer=nn.GELU)
        """, ("inplace", "unsafe"), None),
    "FrEIA's AllInOneBlock: the subnet is built by the function its instantiation passes (`subnet_constructor=subnet_fc`), which ends in `nn.Tanh`; the helper's parameter holds that saved output": ("""
        def subnet_fc(c_in, c_out):
            return nn.Sequential(nn.Linear(c_in, 16), nn.ReLU(), nn.Linear(16, c_out), nn.Tanh())

        class Block(nn.Module):
            def __init__(self, subnet_constructor=None):
                super().__init__()
                self.subnet = subnet_constructor(4, 4)

            def _affine(self, x, a):
                a *= 0.1  # <-
                return x * torch.exp(a)

            def forward(self, x):
                return self._affine(x, self.subnet(x))

        flow = nn.ModuleList([Block(subnet_constructor=subnet_fc) for _ in range(2)])
        """, ("breaks", "unsafe"), "saved by `nn.Tanh`"),
    "... a subnet ending in `nn.Linear` saved nothing of its output: `a` may be a number, nothing says otherwise": ("""
        def subnet_fc(c_in, c_out):
            return nn.Sequential(nn.Linear(c_in, 16), nn.ReLU(), nn.Linear(16, c_out))

        class Block(nn.Module):
            def __init__(self, subnet_constructor=None):
                super().__init__()
                self.subnet = subnet_constructor(4, 4)

            def _affine(self, x, a):
                a *= 0.1  # <-
                return x * torch.exp(a)

            def forward(self, x):
                return self._affine(x, self.subnet(x))

        flow = nn.ModuleList([Block(subnet_constructor=subnet_fc) for _ in range(2)])
        """, None, None),
    "`einops.rearrange` of a tensor is a reshape: a view of it, which `nn.LayerNorm` saved before the base is written (MAE-DFER, eval47)": ("""
        from einops import rearrange

        class LG(nn.Module):
            def __init__(self):
                super().__init__()
                self.norm = nn.LayerNorm(4)

            def forward(self, x, b):
                tokens = rearrange(x[:, 0], "(b n) c -> b n c", b=b)
                tokens = tokens + self.norm(tokens)
                x[:, 0] = rearrange(tokens, "b n c -> (b n) c")  # <-
                return x
        """, ("breaks", "unsafe"), "saved by `nn.LayerNorm`"),
    "... of a clone, it is a view of the clone: the base is not what was saved": ("""
        from einops import rearrange

        class LG(nn.Module):
            def __init__(self):
                super().__init__()
                self.norm = nn.LayerNorm(4)

            def forward(self, x, b):
                tokens = rearrange(x[:, 0].clone(), "(b n) c -> b n c", b=b)
                tokens = tokens + self.norm(tokens)
                x[:, 0] = rearrange(tokens, "b n c -> (b n) c")  # <-
                return x
        """, ("inplace", "unsafe"), None),
    "eval45 m01: what the callers the run shows pass (floats) is not all a helper may be given: `h.mul_(2.5)` raises in place on an integer tensor another caller may pass": ("""
        def g(x):
            h = torch.relu(x)
            h.mul_(2.5)  # <-
            return h

        def use():
            return g(torch.randn(3, requires_grad=True))
        """, ("breaks", "unsafe"), "is not known to be floating"),
    "... the function's own facts still prove it: a float tensor made here": ("""
        def g(x):
            h = torch.relu(x.float())
            h.mul_(2.5)  # <-
            return h

        def use():
            return g(torch.randn(3, requires_grad=True))
        """, ("breaks", "safe"), None),
    "eval45 d23: an annotation's dtype is no proof (`attention_mask: Optional[torch.FloatTensor]` is given long tensors)": ("""
        class M(nn.Module):
            def forward(self, attention_mask: Optional[torch.FloatTensor] = None):
                h = torch.relu(attention_mask)
                h.mul_(2.5)  # <-
                return h
        """, ("breaks", "unsafe"), "is not known to be floating"),
    "... an integer annotation still says it requires no grad (`torch.LongTensor`)": ("""
        class M(nn.Module):
            def forward(self, ids: Optional[torch.LongTensor] = None):
                h = torch.relu(ids)
                h.mul_(2)  # <-
                return h
        """, None, None),
    "eval45: `self.k = h`, then `h.mul_(2)` and `h` never read again: the write is for what `self.k` sees; rebinding `h` is a dead store": ("""
        class M(nn.Module):
            def forward(self, x):
                h = torch.exp(x)
                self.k = h
                h.mul_(2)  # <-
                return x
        """, ("breaks", "none"), "would drop it"),
    "... `self.k` stored again after the write: no reference sees it, unsafe only": ("""
        class M(nn.Module):
            def forward(self, x):
                h = torch.exp(x)
                self.k = h
                h.mul_(2)  # <-
                self.k = None
                return x
        """, ("breaks", "unsafe"), None),
    "... `h` read after the write: the rebinding keeps it (unsafe, for `self.k`)": ("""
        class M(nn.Module):
            def forward(self, x):
                h = torch.exp(x)
                self.k = h
                h.mul_(2)  # <-
                return h
        """, ("breaks", "unsafe"), "stored in `self.k`"),
    "eval45 g12: a module-level `match ... case act:` binds `act` again: what `act(x)` returns is unknown": ("""
        act = nn.Sigmoid()
        match nn.Identity():
            case act:
                pass

        def f(x, y):
            h = act(x * y)
            h.mul_(2.5)  # <-
            return h, x
        """, ("inplace", "unsafe"), "if an unknown call returned its argument"),
    "eval45 p: `case {**ys}` binds a dict holding the subject's values: `ys` reads the tensor after the write": ("""
        def f(x, y):
            h = torch.exp(x)
            match {"k": h}:
                case {**ys}:
                    pass
            h.mul_(2)  # <-
            return h, ys["k"]
        """, ("breaks", "unsafe"), "`ys`"),
    "... appended to a global list (`G.append(h)`), written, never read again: the list sees the write": ("""
        G = []

        def f(x, y):
            h = torch.exp(x)
            G.append(h)
            h.mul_(2)  # <-
            return x
        """, ("breaks", "none"), "stored in `G`"),
    "... appended to a local list nothing reads: a dead store either way, unsafe only": ("""
        def f(x, y):
            h = torch.exp(x)
            keep = []
            keep.append(h)
            h.mul_(2)  # <-
            return x
        """, ("breaks", "unsafe"), None),
    "eval46 demucs: a clone-when-grad guard in a loop: the argument is written only where it requires no grad": ("""
        def em(y: torch.Tensor, x):
            for it in range(3):
                v = torch.mean(torch.abs(y[..., 0, :]) ** 2, dim=-2)
                if y.requires_grad:
                    y = y.clone()
                y[0, ...] = x  # <-
            return y, v
        """, ("inplace", "unsafe"), None),
    "... the guard's arm binds another name: the saved argument is written": ("""
        def em(y: torch.Tensor, x):
            for it in range(3):
                v = torch.mean(torch.abs(y[..., 0, :]) ** 2, dim=-2)
                if y.requires_grad:
                    x = y.clone()
                y[0, ...] = x  # <-
            return y, v
        """, ("breaks", "unsafe"), "saved by `torch.abs`"),
    "... the guard inverted (`if not y.requires_grad`): the saved argument is written": ("""
        def em(y: torch.Tensor, x):
            for it in range(3):
                v = torch.mean(torch.abs(y[..., 0, :]) ** 2, dim=-2)
                if not y.requires_grad:
                    y = y.clone()
                y[0, ...] = x  # <-
            return y, v
        """, ("breaks", "unsafe"), "saved by `torch.abs`"),
    "... another name keeps the argument past the guard: it is written through that name": ("""
        def em(y: torch.Tensor, x):
            for it in range(3):
                z = y
                v = torch.mean(torch.abs(y[..., 0, :]) ** 2, dim=-2)
                if y.requires_grad:
                    y = y.clone()
                z[0, ...] = x  # <-
            return y, v
        """, ("breaks", "unsafe"), "saved by `torch.abs`"),
    "... the guard, where the argument was saved by an op whose other input requires grad (`y * w`)": ("""
        def em(y: torch.Tensor, x):
            for it in range(3):
                v = y * torch.ones(3, requires_grad=True)
                if y.requires_grad:
                    y = y.clone()
                y[0, ...] = 0.0  # <-
            return y, v
        """, ("breaks", "unsafe"), "saved by `*`"),
    "eval46 visnet: a comparison's result indexes by copy, whatever it compared: what `/` saved is the copy": ("""
        from torch_cluster import radius_graph

        def f(x, y):
            h = x * y
            ei = radius_graph(x.detach(), r=5.0)
            mask = ei[0] != ei[1]
            h[mask] = h[mask] / torch.norm(h[mask], dim=-1, keepdim=True)  # <-
            return h
        """, ("inplace", "unsafe"), "nothing saved it"),
    "... an index from the same call, not a comparison, may index like an int: a view, saved": ("""
        from torch_cluster import radius_graph

        def f(x, y):
            h = x * y
            ei = radius_graph(x.detach(), r=5.0)
            i = ei[0]
            h[i] = h[i] / torch.norm(h[i], dim=-1, keepdim=True)  # <-
            return h
        """, ("breaks", "unsafe"), "saved by"),
    "eval46 avalanche: a `forward` argument the function joins with `torch.cat` is a list: `xs[i] = ...` replaces an item": ("""
        class Adapter(nn.Module):
            def __init__(self, d, n):
                super().__init__()
                self.alphas = nn.Parameter(torch.randn(n))
                self.V = nn.Linear(d * n, d)

            def forward(self, xs):
                for i, el in enumerate(xs):
                    xs[i] = self.alphas[i] * el  # <-
                return self.V(torch.cat(xs, dim=1))
        """, None, None),
    "... joined only where a test says it is a list: elsewhere it may be the tensor, saved": ("""
        class Adapter(nn.Module):
            def __init__(self, d):
                super().__init__()
                self.V = nn.Linear(d, d)

            def forward(self, xs):
                h = self.V(xs)
                if isinstance(xs, list):
                    return torch.cat(xs, dim=1)
                xs[0] = 0.0  # <-
                return h
        """, ("breaks", "none"), "saved by"),
    "... joined after it is rebound: the argument itself may be the tensor, saved": ("""
        class Adapter(nn.Module):
            def __init__(self, d):
                super().__init__()
                self.V = nn.Linear(d, d)

            def forward(self, xs):
                h = self.V(xs)
                xs[0] = 0.0  # <-
                xs = [xs, h]
                return torch.cat(xs, dim=1)
        """, ("breaks", "unsafe"), "saved by"),
    "eval46 stable_audio_tools: a helper reached only through a method every call of which runs under no_grad": ("""
        def sample_top_k(probs, k):
            top, _ = torch.topk(probs, k, dim=-1)
            probs *= (probs >= top[..., [-1]]).float()  # <-
            return torch.multinomial(probs, 1)

        class LM(nn.Module):
            def __init__(self):
                super().__init__()
                self.lm = nn.Linear(8, 16)

            def _next_token(self, x):
                probs = torch.softmax(self.lm(x), dim=-1)
                return sample_top_k(probs, 4)

            @torch.no_grad()
            def generate(self, x):
                return self._next_token(x)
        """, None, None),
    "... the method is also called with autograd on: the softmax result is saved, then written": ("""
        def sample_top_k(probs, k):
            top, _ = torch.topk(probs, k, dim=-1)
            probs *= (probs >= top[..., [-1]]).float()  # <-
            return torch.multinomial(probs, 1)

        class LM(nn.Module):
            def __init__(self):
                super().__init__()
                self.lm = nn.Linear(8, 16)

            def _next_token(self, x):
                probs = torch.softmax(self.lm(x), dim=-1)
                return sample_top_k(probs, 4)

            @torch.no_grad()
            def generate(self, x):
                return self._next_token(x)

            def forward(self, x):
                return self._next_token(x)
        """, ("breaks", "unsafe"), "saved by `torch.softmax`"),
    "eval50 mmdetection HTC: mmcv's ConvModule ends in a ReLU by default, which saved its result": ("""
        from mmcv.cnn import ConvModule

        class Head(nn.Module):
            def __init__(self, c, norm_cfg=None):
                super().__init__()
                self.lateral = ConvModule(c, c, 1, norm_cfg=norm_cfg, inplace=False)
                self.other = ConvModule(c, c, 1, norm_cfg=norm_cfg, inplace=False)

            def forward(self, a, b):
                x = self.lateral(a)
                x += self.other(b)  # <-
                return x
        """, ("breaks", "unsafe"), "saved by `nn.ReLU` as its result"),
    "... `act_cfg=None`: it ends in the conv (or norm), which saved nothing of its output": ("""
        from mmcv.cnn import ConvModule

        class Head(nn.Module):
            def __init__(self, c):
                super().__init__()
                self.lateral = ConvModule(c, c, 1, norm_cfg=dict(type='BN'), act_cfg=None)
                self.other = ConvModule(c, c, 1, act_cfg=None)

            def forward(self, a, b):
                x = self.lateral(a)
                x += self.other(b)  # <-
                return x
        """, ("inplace", "unsafe"), "nothing saved it"),
    "... `act_cfg` a local bound once to a literal `dict(type='Sigmoid')`: the sigmoid saved its result": ("""
        from mmcv.cnn import ConvModule

        class Head(nn.Module):
            def __init__(self, c):
                super().__init__()
                act_cfg = dict(type='Sigmoid')
                self.gate = ConvModule(c, c, 1, act_cfg=act_cfg)

            def forward(self, a):
                g = self.gate(a)
                g[g < 0.5] = 0.0  # <-
                return g
        """, ("breaks", "safe"), "saved by `nn.Sigmoid` as its result"),
    "... `order=` given: the model gives up (what ends the chain is unknown)": ("""
        from mmcv.cnn import ConvModule

        class Head(nn.Module):
            def __init__(self, c):
                super().__init__()
                self.lateral = ConvModule(c, c, 1, order=('act', 'conv', 'norm'))
                self.other = ConvModule(c, c, 1)

            def forward(self, a, b):
                x = self.lateral(a)
                x += self.other(b)  # <-
                return x
        """, ("inplace", "unsafe"), None),
    "eval46 pypots totem: `x = self._layers[i](x)` in a loop: a block's in-place ReLU writes the previous block's result, not what the previous conv saved": ("""
        class Residual(nn.Module):
            def __init__(self, c):
                super().__init__()
                self._block = nn.Sequential(nn.ReLU(True), nn.Conv1d(c, c, 3, padding=1))  # <-

            def forward(self, x):
                return x + self._block(x)

        class Stack(nn.Module):
            def __init__(self, c, n):
                super().__init__()
                self._n = n
                self._layers = nn.ModuleList([Residual(c) for _ in range(n)])

            def forward(self, x):
                for i in range(self._n):
                    x = self._layers[i](x)
                return F.relu(x)
        """, ("inplace", "unsafe"), None),
    "... what the stack is given was saved before the loop (a sigmoid's result): the first block writes it": ("""
        class Residual(nn.Module):
            def __init__(self, c):
                super().__init__()
                self._block = nn.Sequential(nn.ReLU(True), nn.Conv1d(c, c, 3, padding=1))  # <-

            def forward(self, x):
                return x + self._block(x)

        class Stack(nn.Module):
            def __init__(self, c, n):
                super().__init__()
                self._n = n
                self._layers = nn.ModuleList([Residual(c) for _ in range(n)])

            def forward(self, inp):
                x = torch.sigmoid(inp)
                for i in range(self._n):
                    x = self._layers[i](x)
                return F.relu(x)
        """, ("breaks", "unsafe"), "saved by `torch.sigmoid`"),
    "... the loop may bind the name back to what it was given: later blocks write it after it was saved": ("""
        class Residual(nn.Module):
            def __init__(self, c):
                super().__init__()
                self._block = nn.Sequential(nn.ReLU(True), nn.Conv1d(c, c, 3, padding=1))  # <-

            def forward(self, x):
                return x + self._block(x)

        class Stack(nn.Module):
            def __init__(self, c, n):
                super().__init__()
                self._n = n
                self._layers = nn.ModuleList([Residual(c) for _ in range(n)])

            def forward(self, x0, reset: bool):
                x = x0
                for i in range(self._n):
                    x = self._layers[i](x)
                    if reset:
                        x = x0
                return F.relu(x)
        """, ("breaks", "unsafe"), "saved by `nn.Conv1d`"),
    "... stored under a key of a global dict, written, never read again: the dict sees the write": ("""
        CACHE = {}

        def f(x, y):
            h = torch.exp(x)
            CACHE["k"] = h
            h.mul_(2)  # <-
            return x
        """, ("breaks", "none"), "stored in `CACHE[...]`"),
    "... stored in an item of a parameter's dict attribute, never read again: certainly kept": ("""
        def f(x, y, obj=None):
            h = torch.exp(x)
            obj.cache["k"] = h
            h.mul_(2)  # <-
            return x
        """, ("breaks", "none"), "stored in `obj.cache[...]`"),
    "... the item replaced after the write: nothing may read the written tensor through it, unsafe only": ("""
        CACHE = {}

        def f(x, y):
            h = torch.exp(x)
            CACHE["k"] = h
            h.mul_(2)  # <-
            CACHE["k"] = None
            return x
        """, ("breaks", "unsafe"), None),
    "... stored into what may be a tensor (`t[0] = h` copies the values): unsafe only": ("""
        def f(x, t):
            h = torch.exp(x)
            t[0] = h
            h.mul_(2)  # <-
            return x
        """, ("breaks", "unsafe"), None),
    "eval49 D3: `tril_` of a new tensor with a transposed layout, then `.view(-1)`: `tril` returns a contiguous tensor": ("""
        def f(x, y):
            h = torch.sigmoid(x.transpose(0, 1))
            h.tril_()  # <-
            return h.view(-1)
        """, (None, "unsafe"), "reads the memory layout"),
    "... an elementwise op keeps the layout out of place too: `.view(-1)` after `mul_` sees the same": ("""
        def f(x, y):
            h = torch.sigmoid(x.transpose(0, 1))
            h.mul_(2)  # <-
            return h.view(-1)
        """, (None, "safe"), None),
    "a `with` that may swallow what its body raises: where the body's first step raises, `keep` is still `h`, read after": ("""
        import contextlib

        def f(x, y):
            h = torch.exp(x)
            keep = h
            with contextlib.suppress(ValueError):
                keep = torch.sin(y)
            h.mul_(2)  # <-
            return keep
        """, (None, "unsafe"), "`keep` refers to the same tensor"),
    "eval51 funasr: a step that certainly raises (`mask.squeeze` of a None `mask`) inside an unknown `with` leaves the block: the write after it never runs on that path": ("""
        from funasr.utils.amp import autocast

        class Predictor(nn.Module):
            def __init__(self):
                super().__init__()
                self.lin = nn.Linear(4, 1)

            def forward(self, hidden, mask=None, target_length=None):
                with autocast(False):
                    alphas = torch.sigmoid(self.lin(hidden))
                    alphas = F.relu(alphas - 0.1)
                    if mask is not None:
                        alphas = alphas * mask.transpose(-1, -2).float()
                    alphas = alphas.squeeze(-1)
                    mask = mask.squeeze(-1)
                    token_num = alphas.sum(-1)
                    if target_length is not None:
                        alphas *= (target_length / token_num)[:, None]  # <-
                return alphas
        """, ("inplace", "unsafe"), None),
    "... the same without the `if`: the relu result is written on every path": ("""
        from funasr.utils.amp import autocast

        class Predictor(nn.Module):
            def __init__(self):
                super().__init__()
                self.lin = nn.Linear(4, 1)

            def forward(self, hidden, mask=None, target_length=None):
                with autocast(False):
                    alphas = torch.sigmoid(self.lin(hidden))
                    alphas = F.relu(alphas - 0.1)
                    alphas = alphas.squeeze(-1)
                    token_num = alphas.sum(-1)
                    if target_length is not None:
                        alphas *= (target_length / token_num)[:, None]  # <-
                return alphas
        """, ("breaks", "unsafe"), "saved by `F.relu`"),
    "eval51 funasr time_warp: called per item on views of one tensor; the writes are in the `else:` of `if x.requires_grad:`, where what the earlier calls saved of it built no graph": ("""
        def time_warp(x, window=2, mode="bicubic"):
            org_size = x.size()
            if x.dim() == 3:
                x = x[:, None]
            t = x.shape[2]
            center = torch.randint(window + 1, t - window, (1,))[0]
            warped = torch.randint(center - window, center + window, (1,))[0] + 1
            left = F.interpolate(x[:, :, :center], (warped, x.shape[3]), mode=mode, align_corners=False)
            right = F.interpolate(x[:, :, center:], (t - warped, x.shape[3]), mode=mode, align_corners=False)
            if x.requires_grad:
                x = torch.cat([left, right], dim=-2)
            else:
                x[:, :, :warped] = left  # <-
                x[:, :, warped:] = right
            return x.view(*org_size)

        class TimeWarp(nn.Module):
            def forward(self, x, x_lengths):
                ys = []
                for i in range(x.size(0)):
                    ys.append(time_warp(x[i][None, : x_lengths[i]])[0])
                return torch.stack(ys)
        """, None, None),
    "... the earlier call's op had another input that requires grad (`w * x`): it saved the tensor whatever `x` is": ("""
        def scale(x: torch.Tensor, w: torch.Tensor):
            y = w * x
            if x.requires_grad:
                x = x.clone()
            else:
                x[0] = 0.0  # <-
            return x, y

        class M(nn.Module):
            def __init__(self):
                super().__init__()
                self.w = nn.Parameter(torch.ones(3))

            def forward(self, x):
                out = []
                for i in range(x.size(0)):
                    out.append(scale(x[i], self.w)[1])
                return torch.stack(out)
        """, ("breaks", "unsafe"), "saved by `*`"),
    "eval51 nflows: a helper returns its argument only where its loop never went round, where nothing saved it (`x = f(x)`)": ("""
        def refine(inputs, qs):
            outputs = inputs
            for q in qs:
                t = outputs @ q
                outputs = outputs - t
            return outputs

        class M(nn.Module):
            def __init__(self):
                super().__init__()
                self.lin = nn.Linear(4, 4)
                self.q = nn.Parameter(torch.randn(2, 4, 4))
                self.d = nn.Parameter(torch.rand(4))

            def forward(self, x):
                h = self.lin(x)
                h = refine(h, self.q)
                h *= self.d  # <-
                return h
        """, ("inplace", "unsafe"), None),
    "... a loop that may keep the argument after saving it (`if t.sum() > 0: outputs = ...`) returns it saved": ("""
        def refine(inputs, qs):
            outputs = inputs
            for q in qs:
                t = outputs @ q
                if t.sum() > 0:
                    outputs = outputs - t
            return outputs

        class M(nn.Module):
            def __init__(self):
                super().__init__()
                self.lin = nn.Linear(4, 4)
                self.q = nn.Parameter(torch.randn(2, 4, 4))
                self.d = nn.Parameter(torch.rand(4))

            def forward(self, x):
                h = self.lin(x)
                h = refine(h, self.q)
                h *= self.d  # <-
                return h
        """, ("breaks", "unsafe"), "saved by `@`"),
    "eval51 topomodelx: an unannotated `forward` argument named `x_list` is a list: `x_list[i] = ...` replaces an item": ("""
        class Layer(nn.Module):
            def __init__(self):
                super().__init__()
                self.lin = nn.Linear(4, 4)

            def forward(self, x_list):
                for i in range(1, 3):
                    h = self.lin(x_list[i])
                    x_list[i] = torch.relu(h + self.lin(x_list[i - 1]))  # <-
                return x_list
        """, None, None),
    "... the same name annotated as a tensor is one: written after the Linear saved it": ("""
        class Layer(nn.Module):
            def __init__(self):
                super().__init__()
                self.lin = nn.Linear(4, 4)

            def forward(self, x_list: torch.Tensor):
                h = self.lin(x_list[1])
                x_list[1] = torch.relu(h)  # <-
                return x_list
        """, ("breaks", "unsafe"), "saved by `nn.Linear`"),
    "a parameter saved on one path and rebound there, in a loop: where the loop writes it, nothing saved it": ("""
        def g(x: torch.Tensor, y):
            for i in range(3):
                if y.sum() > 0:
                    x = torch.nan_to_num(x, 0.0)
                x[0] = 0.0  # <-
            return x
        """, ("inplace", "unsafe"), "nothing saved it"),
    "... a caller passing the argument after the function saved it (on the path that rebound its own name) sees the save": ("""
        def clean(x, y):
            for i in range(3):
                if y.sum() > 0:
                    x = torch.nan_to_num(x, 0.0)
            return y

        def f(x, y):
            h = x * 2
            clean(h, y)
            h[0] = 0.0  # <-
            return h
        """, ("breaks", "unsafe"), "saved by `torch.nan_to_num`"),
    "eval51 nflows: the caller keeps the argument under its own name: the result may share it, the call's save is the argument's, not the result's": ("""
        def refine(inputs, qs):
            outputs = inputs
            for q in qs:
                t = outputs @ q
                outputs = outputs - t
            return outputs

        class M(nn.Module):
            def __init__(self):
                super().__init__()
                self.lin = nn.Linear(4, 4)
                self.q = nn.Parameter(torch.randn(2, 4, 4))
                self.d = nn.Parameter(torch.rand(4))

            def forward(self, x):
                h = self.lin(x)
                out = refine(h, self.q)
                out *= self.d  # <-
                return out, h
        """, ("inplace", "unsafe"), "may share memory"),
    "... a write into the kept argument itself after the call is into the tensor the call saved": ("""
        def refine(inputs, qs):
            outputs = inputs
            for q in qs:
                t = outputs @ q
                outputs = outputs - t
            return outputs

        class M(nn.Module):
            def __init__(self):
                super().__init__()
                self.lin = nn.Linear(4, 4)
                self.q = nn.Parameter(torch.randn(2, 4, 4))
                self.d = nn.Parameter(torch.rand(4))

            def forward(self, x):
                h = self.lin(x)
                out = refine(h, self.q)
                h *= self.d  # <-
                return out, h
        """, ("breaks", "unsafe"), "saved by `@`"),
    "... what was saved of the argument before the call holds for the result where it is the argument": ("""
        def refine(inputs, qs):
            outputs = inputs
            for q in qs:
                t = outputs @ q
                outputs = outputs - t
            return outputs

        class M(nn.Module):
            def __init__(self):
                super().__init__()
                self.lin = nn.Linear(4, 4)
                self.q = nn.Parameter(torch.randn(2, 4, 4))
                self.d = nn.Parameter(torch.rand(4))

            def forward(self, x):
                h = torch.sigmoid(self.lin(x))
                out = refine(h, self.q)
                out *= self.d  # <-
                return out, h
        """, ("breaks", "unsafe"), "saved by `torch.sigmoid`"),
    "a chain that reads what it wrote": ("""
        def f(inp, w):
            x = F.linear(inp, w)
            x.mul_(2.0).add_(x)  # <-
            return x
        """, (None, "none"), "earlier part of the chain"),
}

HEADER = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\nimport numpy as np\nfrom typing import Optional, Union\n"
# Functions named `f` get a caller that passes graph tensors: without one, a helper's parameter
# may or may not require grad (the "unknown" grad level), and saved writes into it are only `inplace`.
CALLER = "\n\ndef _train():\n    x = torch.randn(3, requires_grad=True)\n    return f(x, x * 2)\n"


def _at_marker(code: str):
    source = HEADER + textwrap.dedent(code)
    if "def f(" in source:
        source += CALLER
    line = next(i for i, text in enumerate(source.splitlines(), 1) if "# <-" in text)
    return source, line, [f for f in check_source(source, EVERYTHING) if f.line == line]


@pytest.mark.parametrize("name", list(CASES))
def test_judgement(name: str) -> None:
    code, expect, why = CASES[name]
    source, line, found = _at_marker(code)
    if expect is None:
        assert found == [], f"{name}: expected no finding at line {line}, got {found}"
        return
    assert found, f"{name}: expected a finding at line {line}"
    f = found[0]
    hazard, fix = expect
    if hazard is not None:
        assert f.hazard == hazard, (name, f.hazard, f.why)
    got = "none" if f.fix is None else f.fix.applicability.value
    assert got == fix, (name, got, f.why, f.fix)
    if why is not None:
        text = " ".join([f.why, *(f.fix.reasons if f.fix else ())])
        assert why in text, (name, text)


def test_messages_do_not_depend_on_hash_seeds() -> None:
    """Sets of objects iterate in an order that changes with PYTHONHASHSEED: the explanations
    chosen from them must not."""
    import os
    import subprocess
    import sys

    program = ("import sys, textwrap\nfrom tests.test_judgement import CASES, HEADER, EVERYTHING\n"
               "from outplace.engine import check_source\n"
               "for code, _, _ in CASES.values():\n"
               "    for f in check_source(HEADER + textwrap.dedent(code), EVERYTHING):\n"
               "        print(f.line, f.code, f.hazard, f.why, f.fix and f.fix.reasons)\n")
    outs = []
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        outs.append(subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, env=env,
                                   check=True, cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__)))).stdout)
    assert outs[0] == outs[1] and outs[0].count("\n") > 20
