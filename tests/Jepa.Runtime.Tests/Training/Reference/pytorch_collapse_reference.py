# An independent PyTorch reference for the collapse demonstration (CollapseDemonstrationTests): the digits example's
# vector JEPA (MLP 64-256-256-128 encoder with ReLU, EMA target 0.996 -> 1, MLP predictor 128-256-128 with ReLU,
# feature dropout 0.3 without rescaling then Gaussian noise 0.1, smooth L1 to the layer-normed target, AdamW 1e-3 with
# weight decay 0.05 on weight matrices only, constant learning rate, batch 256) for 300 steps on the digits, and the
# same model with the context encoder as a shared, trained target. It prints the std of the L2-normalised target embeddings
# (not centred) and RankMe on 1,024 fixed samples every 100 steps, as JSON.
# Run once with Debian's PyTorch 1.13 (apt-get install python3-torch); not needed by the tests:
#   OPENBLAS_NUM_THREADS=1 /usr/bin/python3 pytorch_collapse_reference.py ../../../../data/digits.csv.gz > pytorch_collapse_reference.json
import gzip, json, math, sys, numpy as np, torch
torch.set_num_threads(2)
path = sys.argv[1]
rows=[l.split(',') for l in gzip.open(path,'rt').read().strip().split('\n')]
X=torch.tensor(np.array([[float(v) for v in r[:64]] for r in rows],dtype=np.float32))/16
def metrics(z):
    z=z.double(); n=torch.nn.functional.normalize(z,dim=1)
    s=torch.linalg.svdvals(z); p=s/s.sum()+1e-7
    return n.std(0).mean().item(), torch.exp(-(p*p.log()).sum()).item()
def mlp(i,h,o):
    layers=[]; prev=i
    for w in h: layers+= [torch.nn.Linear(prev,w), torch.nn.ReLU()]; prev=w
    return torch.nn.Sequential(*layers, torch.nn.Linear(prev,o))
def run(shared, steps=300):
    torch.manual_seed(1)
    ctx=mlp(64,[256,256],128)
    tgt=mlp(64,[256,256],128); tgt.load_state_dict(ctx.state_dict())
    for p in tgt.parameters(): p.requires_grad=False
    if shared: tgt=ctx
    pred=mlp(128,[256],128)
    named=[(n,p) for n,p in list(ctx.named_parameters())+list(pred.named_parameters())]
    decay=[p for n,p in named if p.dim()>1 and not n.endswith('bias')]
    nodecay=[p for n,p in named if not (p.dim()>1 and not n.endswith('bias'))]
    opt=torch.optim.AdamW([{'params':decay},{'params':nodecay,'weight_decay':0}], lr=1e-3, weight_decay=0.05)
    T=steps
    g=torch.Generator().manual_seed(1)
    mon=X[torch.randperm(len(X),generator=torch.Generator().manual_seed(99))[:1024]]
    out=[]
    def monitor(s):
        with torch.no_grad(): out.append((s,)+metrics(tgt(mon)))
    monitor(0)
    step=0; epoch=0
    while step<T:
        perm=torch.randperm(len(X),generator=torch.Generator().manual_seed(1000+epoch))
        for b in range(len(X)//256):
            if step>=T: break
            x=X[perm[b*256:(b+1)*256]]
            if shared: t=torch.nn.functional.layer_norm(tgt(x),[128])
            else:
                with torch.no_grad(): t=torch.nn.functional.layer_norm(tgt(x),[128])
            keep=(torch.rand(x.shape,generator=g)>=0.3).float()
            noisy=x*keep+torch.randn(x.shape,generator=g)*0.1
            loss=torch.nn.functional.smooth_l1_loss(pred(ctx(noisy)),t,beta=1.0)
            opt.zero_grad(); loss.backward(); opt.step()
            if not shared:
                m=0.996+step*(0.004)/T
                with torch.no_grad():
                    for a,o in zip(tgt.parameters(),ctx.parameters()): a.mul_(m).add_(o,alpha=1-m)
            step+=1
            if step%25==0: monitor(step)
        epoch+=1
    return [{"step": s, "std": a, "rankme": r} for s, a, r in out if s % 100 == 0]

print(json.dumps({"torch": torch.__version__, "ema": run(False), "shared": run(True)}, indent=1))
