"""The run that made models/longrange/longrange-2.7M-f16.gguf (kept as it ran, paths made
arguments): a d=256 model with an induction circuit built in, trained on 256-token packed
sequences (BOS once) of stories and needle documents, answer tokens weighted 4x, plus the KL to
TinyStories-656K on the other tokens; constant lr after 30 warm-up steps. Every 100 steps it
prints a teacher-forced passkey check and saves OUT.pt; the committed model is the state saved
at step 200 (200 updates), exported with --export.

  /usr/bin/python3 circuit_train.py 656K-F32.gguf STORIES.i32 OUT --lr 1e-3 --batch 8 --steps 200 \
      --eval-every 100 --seq-len 256 --kd 1

The circuit (layer 0: previous-token and token-before-previous heads; layer 1: two induction
heads) is the one tools/longrange/longrange_data/circuit.py builds, in this run's earlier form:
its weights are drawn in another order, so it is kept here for the exact reproduction.
Residual stream: [0,128) embedding, [128,159) token code, 159 constant, [160,191) previous
code, [192,223) code two back, [224,255) induction output."""
import argparse
import math
import os
import random
import sys
import time

import numpy as np
import torch

here = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.join(here, ".."), os.path.join(here, "..", "..", "beacon-train")]
from beacon_train import gguf, io  # noqa: E402
from beacon_train import init as binit  # noqa: E402
from beacon_train.model import Model  # noqa: E402
from longrange_data import docs, pack, spm  # noqa: E402

F = torch.nn.functional
EMB, CODE, CONST, PREV, PPREV, OUT = slice(0,128), slice(128,159), 159, slice(160,191), slice(192,223), slice(224,255)
def build(base_path, n_layer=3, n_ff=384, rope_base=1e6, seed=0, a=10.0, b=3.0, s=1.0, g=1.0, gamma=1.0, ind_pairs=8):
    gg=gguf.GgufFile(base_path); cfg=io.config_from_gguf(gg)
    E656=torch.from_numpy(gg.tensor('token_embd.weight').copy())
    d=256; cfg.n_embd=d; cfg.n_head=cfg.n_head_kv=8; cfg.head_dim=cfg.n_rot=32; cfg.n_layer=n_layer; cfg.n_ff=n_ff; cfg.rope_base=rope_base
    torch.manual_seed(seed); m=Model(cfg); m.set_rope(); th=m.theta
    with torch.no_grad():
        for name,p in m.named_parameters():
            if name.endswith('norm'): p.fill_(1.0)
            elif p.dim()==2: p.normal_(0, 0.02/(math.sqrt(2*n_layer) if name.endswith(('wo','w_down')) else 1))
        V=E656.shape[0]; rn=E656.norm(dim=1).mean().item()
        E656=E656/E656.norm(dim=1,keepdim=True)*rn
        gen=torch.Generator().manual_seed(seed+1)
        code=torch.randn(V,31,generator=gen); code=code/code.norm(dim=1,keepdim=True)*rn*0.5
        code[1]=0   # BOS: no code
        emb=torch.zeros(V,d); emb[:,EMB]=E656; emb[:,CODE]=code; emb[:,CONST]=rn*0.5
        m.tok_embd.copy_(emb)
        m.output=torch.nn.Parameter(torch.zeros(V,d)); m.output[:,EMB]=E656/rn; m.output[:,OUT]=gamma*code/(rn*0.5)
        m.out_norm.fill_(1.0)
        xh=emb/torch.sqrt(emb.pow(2).mean(-1,keepdim=True)+cfg.rms_eps); khat=xh[2:,CONST].mean().item()
        L=m.layers[0]
        for h,delta,dst in [(0,1,PREV),(1,2,PPREV)]:
            r=slice(h*32,(h+1)*32)
            for W in (L.wq,L.wk,L.wv): W[r].zero_()
            L.wo[:,r].zero_()
            for i in range(16):
                w=a if i<4 else (b if i<8 else 0.0)
                L.wq[h*32+2*i,CONST]=w/khat
                L.wk[h*32+2*i,CONST]=w*math.cos(delta*th[i].item())/khat
                L.wk[h*32+2*i+1,CONST]=w*math.sin(delta*th[i].item())/khat
            for j in range(31): L.wv[h*32+j,128+j]=1.0
            for j in range(31): L.wo[dst.start+j,h*32+j]=1.0
        # layer 1: induction heads on the low-frequency pairs (head dims 32-2*ind_pairs .. 31)
        L=m.layers[1]; nd=2*ind_pairs
        P=torch.linalg.qr(torch.randn(31,nd,generator=gen))[0].T    # nd x 31, orthonormal rows
        for h,(qsrc,ksrc) in enumerate([(CODE,PREV),(PREV,PPREV)]):
            r=slice(h*32,(h+1)*32); lo=h*32+32-nd
            for W in (L.wq,L.wk,L.wv): W[r].zero_()
            L.wo[:,r].zero_()
            L.wq[lo:h*32+32, qsrc]=s*P; L.wk[lo:h*32+32, ksrc]=s*P
            for j in range(31): L.wv[h*32+j,128+j]=1.0
            for j in range(31): L.wo[OUT.start+j,h*32+j]=g
    return m, gg
def synth_eval(m, B=8, T=24, reps=3, seed=0):
    gen=torch.Generator().manual_seed(seed)
    r=torch.randint(3,2048,(B,T),generator=gen); x=torch.cat([torch.ones(B,1,dtype=torch.long)]+[r]*reps,1)
    with torch.no_grad(): lg=m.forward_causal(x)[:,:-1]
    ce=torch.nn.functional.cross_entropy(lg.reshape(-1,lg.shape[-1]),x[:,1:].reshape(-1),reduction='none').view(B,-1)
    acc=(lg.argmax(-1)==x[:,1:]).float()
    return [round(float(ce[:,i*T:(i+1)*T].mean()),2) for i in range(reps)], [round(float(acc[:,i*T:(i+1)*T].mean()),2) for i in range(reps)]
def tf_eval(m, rng, lengths=(128,256,500), depths=(0,0.5,1), trials=4, kind='key'):
    res={}
    for L in lengths:
        xs=[];meta=[]
        for d in depths:
            for _ in range(trials):
                doc=docs.needle_doc(rng, corpus, tok, L-1, kind, 'repeated', depth=d)
                ids=[tok.bos]+doc.tokens; xs.append(ids); meta.append((d,1+doc.answer_start,len(doc.tokens)-doc.answer_start-1))  # skip final '.'
        T=max(len(x) for x in xs); X=torch.tensor([x+[0]*(T-len(x)) for x in xs])
        with torch.no_grad(): lg=m.forward_causal(X).argmax(-1)
        for d in depths: res[(L,d)]=0
        for i,(d,p,a) in enumerate(meta): res[(L,d)]+=bool((lg[i,p-1:p+a-1]==X[i,p:p+a]).all())/trials
    return res
if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('base', help='TinyStories-656K as an F32 GGUF (vocabulary, embedding, teacher)')
    ap.add_argument('stories', help='int32 token file of its own stories (beacon-train sample)')
    ap.add_argument('out', help='OUT.pt is saved at every evaluation')
    ap.add_argument('--lr', type=float, default=1e-3)
    ap.add_argument('--batch', type=int, default=8)
    ap.add_argument('--steps', type=int, default=200)
    ap.add_argument('--eval-every', type=int, default=100)
    ap.add_argument('--seq-len', type=int, default=256)
    ap.add_argument('--kd', type=float, default=1.0)
    ap.add_argument('--export', help='write OUT.pt as this F32 GGUF and stop')
    a = ap.parse_args()
    lr, B, steps, ev, T, kd = a.lr, a.batch, a.steps, a.eval_every, a.seq_len, a.kd
    tok = spm.from_gguf(gguf.GgufFile(a.base))
    corpus = docs.Corpus(tok, np.fromfile(a.stories, dtype='<i4').tolist())
    m, base = build(a.base, s=3, g=1, gamma=2)
    if a.export:
        m.load_state_dict(torch.load(a.out + '.pt'))
        binit.write(m, base, a.export, 'tern-longrange-2.7M')
        sys.exit(0)
    teacher = io.load_gguf(a.base)[0].eval()
    packer = pack.Packer(tok, corpus, T, 1)
    opt = torch.optim.AdamW(m.parameters(), lr=lr, weight_decay=0.0); t0 = time.time()
    print(sum(p.numel() for p in m.parameters()), 'params', flush=True)
    for step in range(steps + 1):
        if step % ev == 0:
            r = tf_eval(m, random.Random(123)); rw = tf_eval(m, random.Random(5), kind='word', lengths=(256,), trials=3)
            print(step, '%.0fs' % (time.time() - t0), ' '.join('%d/%.1f:%.2f' % (k[0], k[1], v) for k, v in r.items()),
                  'mean %.2f' % (sum(r.values()) / len(r)), 'word', ' '.join('%.2f' % v for v in rw.values()),
                  'synth', synth_eval(m), flush=True)
            torch.save(m.state_dict(), a.out + '.pt')
        if step == steps:
            break
        for gp in opt.param_groups: gp['lr']=lr*min(1,(step+1)/30)
        seqs=[packer.sequence() for _ in range(B)]
        x=torch.tensor([s[0] for s in seqs]); mk=torch.tensor([s[1] for s in seqs])
        lg=m.forward_causal(x)
        ce=F.cross_entropy(lg[:,:-1].reshape(-1,lg.shape[-1]),x[:,1:].reshape(-1),reduction='none').view(B,-1)
        w=1+3*mk[:,1:].float(); loss=(ce*w).sum()/w.sum(); ans=(ce*mk[:,1:]).sum()/mk[:,1:].sum().clamp(min=1)
        if kd>0:
            with torch.no_grad(): tl=teacher.forward_causal(x)[:,:-1].log_softmax(-1)
            kl=(tl.exp()*(tl-lg[:,:-1].log_softmax(-1))).sum(-1); keep=(mk[:,1:]==0).float()
            loss=loss+kd*(kl*keep).sum()/keep.sum()
        opt.zero_grad(); loss.backward(); torch.nn.utils.clip_grad_norm_(m.parameters(),1.0); opt.step()
        if step%10==0: print(step,'loss %.3f ce %.3f ans %.3f'%(loss.item(),ce.mean().item(),ans.item()),'%.0fs'%(time.time()-t0),flush=True)
