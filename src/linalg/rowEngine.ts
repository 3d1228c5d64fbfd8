/**
 * WebAssembly SIMD versions of the fused row passes of generalized linear models (the hot
 * loops of `problems/logistic.ts`):
 *
 *   grad-type pass:  zᵢ = xᵢᵀw,               out ← Σ cᵢ xᵢ,  cᵢ = coef(zᵢ)
 *   hvp-type pass:   zᵢ = xᵢᵀw, sᵢ = xᵢᵀu,     out ← Σ cᵢ xᵢ,  cᵢ = coef(zᵢ, sᵢ)
 *
 * over the rows of a row-major n × p matrix X (a minibatch's rows, or 0..n−1), with the block
 * axpy of the TypeScript kernels: four rows at a time, out += (c₀x₀ + c₁x₁) + (c₂x₂ + c₃x₃).
 * A pass is two WebAssembly calls: the dots of all its rows, then — once JavaScript has turned
 * them into coefficients in one loop (the coefficients need Math.exp) — the block axpys. (The
 * kernels make no calls back into JavaScript: V8 runs some callbacks from WebAssembly far
 * slower than the same code called from JavaScript.)
 *
 * Bit for bit. Every kernel performs exactly the floating-point operations of the TypeScript
 * reference kernels (`rowGradPassReference`, `rowHvpPassReference` in problems/logistic.ts), in
 * the same order, two lanes at a time: the grad-type dot keeps the reference's two
 * accumulators (even and odd columns) as the two lanes of one f64x2 register; the hvp-type dot
 * keeps the reference's single accumulators of xᵢᵀw and xᵢᵀu as the two lanes; the dots do not
 * depend on out, so computing them all first changes nothing. WebAssembly arithmetic is IEEE
 * 754 round-to-nearest without fused multiply-add, exactly as JavaScript's. A law
 * (laws/fusion.test.ts) checks the equality on random inputs, dense and sparse.
 *
 * Sparsity. For data with at most half its entries non-zero (MNIST: 19%) the kernels run on
 * compressed sparse rows and skip the zeros. A zero entry contributes only exact zeros to the
 * reference's sums: x + (±0) = x for every x ≠ −0, and the accumulators and `out` are never −0
 * (they start at +0, and a sum is −0 only when both terms are). So the sparse passes equal the
 * reference bit for bit as long as X, w, u and every coefficient are finite (the reference
 * multiplies the skipped zeros by them, and 0·∞ is NaN): a matrix with a non-finite entry keeps
 * the dense rows, and for a non-finite w, u or coefficient a sparse pass returns undefined and
 * the caller runs the reference instead. The block axpy scatters rows 0–1 and rows 2–3 of a
 * block into two zeroed scratch vectors (forming c₀x₀ + c₁x₁ and c₂x₂ + c₃x₃ column by column)
 * and adds their sum to out over the columns the block touches.
 *
 * Memory. An engine copies X into WebAssembly memory once, on first use (MNIST's 5000 × 784
 * training set: 9 MB of sparse rows, against 31 MB dense), so it assumes that X is never
 * mutated after the first call, as `squaredSpectralNorm`'s cache does. Engines are cached per
 * X array (a WeakMap); their memories are {@link ROW_ENGINE_SLOTS} instances reused in
 * least-recently-used order, so that the copies of matrices no longer in use do not pile up.
 */
import { matrix, type Matrix, type RVec, type Vec } from './types.js'
import { F64, I32, V128, WasmCode, wasmModule, type ValType, type WasmFunction } from './wasmEncoder.js'

/**
 * The coefficients of a pass, computed in one go between its two WebAssembly phases: given the
 * dots of the pass's m rows (z[k] = x_{i_k}ᵀw and, for hvp-type passes, s[k] = x_{i_k}ᵀu, where
 * i_k = batch[k], or k for a full pass), write c[k] for every k < m. All three have length m.
 */
export type RowCoef = (z: RVec, s: RVec, c: Vec) => void

/** A row engine: the two fused passes over the rows of one matrix. */
export interface RowEngine {
  readonly rows: number
  readonly cols: number
  /**
   * out ← Σ over blocks of (c₀x_{i₀} + c₁x_{i₁}) + (c₂x_{i₂} + c₃x_{i₃}), with the dots
   * z_k = x_{i_k}ᵀw (even and odd columns summed separately, then added) handed to `coef`. Rows
   * are batch[0..m) in blocks of four (a last partial block repeats its first row, with c = 0),
   * or 0..n−1 when batch is undefined. Overwrites out (length p) and returns it; returns
   * undefined (out unspecified) when a sparse pass meets a non-finite w or coefficient, where
   * it could differ from the dense arithmetic: run the reference then. Throws a RangeError on
   * a length mismatch or a batch index outside [0, n).
   */
  gradPass(w: RVec, batch: Readonly<Int32Array> | undefined, coef: RowCoef, out: Vec): Vec | undefined
  /** As gradPass, with the dots z_k = x_{i_k}ᵀw and s_k = x_{i_k}ᵀu (one accumulator each, in column order). */
  hvpPass(w: RVec, u: RVec, batch: Readonly<Int32Array> | undefined, coef: RowCoef, out: Vec): Vec | undefined
  /**
   * The layout the passes run on (decided once, on first use): compressed sparse rows for data
   * with at most half its entries non-zero (MNIST: 19%), dense rows otherwise.
   */
  layout(): 'sparseRows' | 'dense'
  /**
   * Xᵀ diag(d) X (p × p, both triangles), bit for bit as `weightedGram` computes it, over the
   * sparse rows; undefined when X has no sparse-rows layout (use `weightedGram` then). Fresh.
   */
  gram(d: RVec): Matrix | undefined
}

// ---------------------------------------------------------------------------------------------
// The kernels, as WebAssembly source. Each pass is two calls: the dots of all its rows into z
// (and s), then — once JavaScript has turned them into coefficients c — the block axpys. The
// result is the reference's: its dots do not depend on out, and the axpys run in its order.

class Locals {
  readonly types: ValType[] = []
  constructor(private readonly nParams: number) {}
  add(t: ValType): number {
    this.types.push(t)
    return this.nParams + this.types.length - 1
  }
}

const i32s = (k: number): ValType[] => new Array<ValType>(k).fill(I32)

/** for (; i < limit; i += step) body — i and limit are i32 locals. */
const forLoop = (c: WasmCode, i: number, limit: number, step: number, body: () => void): void => {
  c.block().loop().localGet(i).localGet(limit).i32GeS().brIf(1)
  body()
  c.localGet(i).i32Const(step).i32Add().localSet(i).br(0).end().end()
}

/** out[0..pb) ← 0 (pb in bytes). */
const zeroOut = (c: WasmCode, out: number, jb: number, pb: number): void => {
  c.i32Const(0).localSet(jb)
  forLoop(c, jb, pb, 8, () => c.localGet(out).localGet(jb).i32Add().f64Zero().f64Store())
}

/** pb = 8p (bytes per row) and pb2 = 8·(p rounded down to even). */
const rowBytes = (c: WasmCode, p: number, pb: number, pb2: number): void => {
  c.localGet(p).i32Const(3).i32Shl().localSet(pb)
  c.localGet(p).i32Const(-2).i32And().i32Const(3).i32Shl().localSet(pb2)
}

/** Row offsets of a dense block: o_r = x + idx[k + r]·pb, or o₀ when r ≥ left (left = m − k). */
const denseRowOffsets = (c: WasmCode, o: ReadonlyArray<number>, x: number, idx: number, k: number, m: number, pb: number): void => {
  for (let r = 0; r < 4; r++) {
    c.localGet(x).localGet(idx).localGet(k).i32Const(2).i32Shl().i32Add().i32Load(4 * r).localGet(pb).i32Mul().i32Add()
    if (r > 0) c.localGet(o[0]!).localGet(m).localGet(k).i32Sub().i32Const(r).i32GtS().select()
    c.localSet(o[r]!)
  }
}

/** Address of element k of an array of 8-byte values at base: base + 8k. */
const at8 = (c: WasmCode, base: number, k: number): WasmCode => c.localGet(base).localGet(k).i32Const(3).i32Shl().i32Add()
/** Address of element k of an array of 4-byte values at base: base + 4k. */
const at4 = (c: WasmCode, base: number, k: number): WasmCode => c.localGet(base).localGet(k).i32Const(2).i32Shl().i32Add()

/**
 * gradDotsDense(m, p, idx, w, z, x): z[k] = x_{idx[k]}ᵀw for k < m over the dense rows, four
 * rows at a time; lane 0 sums the even columns and lane 1 the odd ones (the reference's two
 * accumulators), then z = lane 0 + lane 1. Writes z[k] for k < m rounded up to a multiple of 4.
 */
const gradDotsDense = (): WasmFunction => {
  const [M, P, IDX, W, Z, X] = [0, 1, 2, 3, 4, 5]
  const L = new Locals(6)
  const K = L.add(I32), JB = L.add(I32), PB = L.add(I32), PB2 = L.add(I32)
  const O = [L.add(I32), L.add(I32), L.add(I32), L.add(I32)]
  const A = [L.add(V128), L.add(V128), L.add(V128), L.add(V128)]
  const WV = L.add(V128)
  const c = new WasmCode()
  rowBytes(c, P, PB, PB2)
  c.i32Const(0).localSet(K)
  forLoop(c, K, M, 4, () => {
    denseRowOffsets(c, O, X, IDX, K, M, PB)
    for (const a of A) c.v128Zero().localSet(a)
    c.i32Const(0).localSet(JB)
    forLoop(c, JB, PB2, 16, () => {
      c.localGet(W).localGet(JB).i32Add().v128Load().localSet(WV)
      for (let r = 0; r < 4; r++) c.localGet(A[r]!).localGet(O[r]!).localGet(JB).i32Add().v128Load().localGet(WV).f64x2Mul().f64x2Add().localSet(A[r]!)
    })
    c.localGet(PB2).localGet(PB).i32LtS().if()
    for (let r = 0; r < 4; r++)
      c.localGet(A[r]!).localGet(A[r]!).f64x2ExtractLane(0)
        .localGet(O[r]!).localGet(JB).i32Add().f64Load().localGet(W).localGet(JB).i32Add().f64Load().f64Mul().f64Add()
        .f64x2ReplaceLane(0).localSet(A[r]!)
    c.end()
    for (let r = 0; r < 4; r++) at8(c, Z, K).localGet(A[r]!).f64x2ExtractLane(0).localGet(A[r]!).f64x2ExtractLane(1).f64Add().f64Store(8 * r)
  })
  return { name: 'gradDotsDense', params: i32s(6), results: [], locals: L.types, code: c }
}

/**
 * hvpDotsDense(m, p, idx, w, u, z, s, x): z[k] = x_{idx[k]}ᵀw and s[k] = x_{idx[k]}ᵀu, column
 * by column (lane 0 and lane 1 of x_j·[w_j, u_j]), four rows at a time.
 */
const hvpDotsDense = (): WasmFunction => {
  const [M, P, IDX, W, U, Z, S, X] = [0, 1, 2, 3, 4, 5, 6, 7]
  const L = new Locals(8)
  const K = L.add(I32), JB = L.add(I32), PB = L.add(I32), PB2 = L.add(I32)
  const O = [L.add(I32), L.add(I32), L.add(I32), L.add(I32)]
  const A = [L.add(V128), L.add(V128), L.add(V128), L.add(V128)]
  const WV = L.add(V128)
  const c = new WasmCode()
  rowBytes(c, P, PB, PB2)
  c.i32Const(0).localSet(K)
  forLoop(c, K, M, 4, () => {
    denseRowOffsets(c, O, X, IDX, K, M, PB)
    for (const a of A) c.v128Zero().localSet(a)
    c.i32Const(0).localSet(JB)
    forLoop(c, JB, PB, 8, () => {
      c.localGet(W).localGet(JB).i32Add().v128Load64Splat().localGet(U).localGet(JB).i32Add().f64Load().f64x2ReplaceLane(1).localSet(WV)
      for (let r = 0; r < 4; r++) c.localGet(A[r]!).localGet(O[r]!).localGet(JB).i32Add().v128Load64Splat().localGet(WV).f64x2Mul().f64x2Add().localSet(A[r]!)
    })
    for (let r = 0; r < 4; r++) {
      at8(c, Z, K).localGet(A[r]!).f64x2ExtractLane(0).f64Store(8 * r)
      at8(c, S, K).localGet(A[r]!).f64x2ExtractLane(1).f64Store(8 * r)
    }
  })
  return { name: 'hvpDotsDense', params: i32s(8), results: [], locals: L.types, code: c }
}

/**
 * axpyDense(m, p, idx, cf, out, x): out ← Σ over blocks of (c₀x₀ + c₁x₁) + (c₂x₂ + c₃x₃), with
 * c_r = cf[k + r] (cf padded with zeros past m) and x_r the dense row idx[k + r] (row idx[k] past m).
 */
const axpyDense = (): WasmFunction => {
  const [M, P, IDX, CF, OUT, X] = [0, 1, 2, 3, 4, 5]
  const L = new Locals(6)
  const K = L.add(I32), JB = L.add(I32), PB = L.add(I32), PB2 = L.add(I32)
  const O = [L.add(I32), L.add(I32), L.add(I32), L.add(I32)]
  const CV = [L.add(V128), L.add(V128), L.add(V128), L.add(V128)]
  const c = new WasmCode()
  rowBytes(c, P, PB, PB2)
  zeroOut(c, OUT, JB, PB)
  c.i32Const(0).localSet(K)
  forLoop(c, K, M, 4, () => {
    denseRowOffsets(c, O, X, IDX, K, M, PB)
    for (let r = 0; r < 4; r++) at8(c, CF, K).v128Load64Splat(8 * r).localSet(CV[r]!)
    const term = (lane: boolean): void => {
      const load = (r: number): void => {
        c.localGet(CV[r]!)
        if (!lane) c.f64x2ExtractLane(0)
        c.localGet(O[r]!).localGet(JB).i32Add()
        if (lane) c.v128Load().f64x2Mul()
        else c.f64Load().f64Mul()
      }
      const add = (): void => {
        if (lane) c.f64x2Add()
        else c.f64Add()
      }
      load(0)
      load(1)
      add()
      load(2)
      load(3)
      add()
      add()
    }
    c.i32Const(0).localSet(JB)
    forLoop(c, JB, PB2, 16, () => {
      c.localGet(OUT).localGet(JB).i32Add()
      c.localGet(OUT).localGet(JB).i32Add().v128Load()
      term(true)
      c.f64x2Add().v128Store()
    })
    c.localGet(PB2).localGet(PB).i32LtS().if()
    c.localGet(OUT).localGet(JB).i32Add()
    c.localGet(OUT).localGet(JB).i32Add().f64Load()
    term(false)
    c.f64Add().f64Store()
    c.end()
  })
  return { name: 'axpyDense', params: i32s(6), results: [], locals: L.types, code: c }
}

/**
 * rowsDots(m, idx, rowPtr, col, val, pairs, z, s, hvp): the dots of rows idx[0..m) over the
 * compressed sparse rows (columns and values of row i at rowPtr[i]..rowPtr[i+1], in column
 * order). pairs holds [a_j, b_j] per column and each row accumulates x·[a_j, b_j] over its
 * non-zeros, in column order. Grad-type (hvp = 0): a = w on even columns and 0 on odd ones, b
 * the other way round — the reference's two accumulators (adding x·0 = ±0 changes nothing) —
 * and z = lane 0 + lane 1. Hvp-type (hvp = 1): [a, b] = [w, u], z = lane 0, s = lane 1. Four
 * rows go together over the length of the shortest, so that their four sums (each a chain of
 * dependent adds) overlap; each row then finishes alone. The order within each row is
 * unchanged.
 */
const rowsDots = (): WasmFunction => {
  const [M, IDX, RP, COL, VAL, PAIRS, Z, S, HV] = [0, 1, 2, 3, 4, 5, 6, 7, 8]
  const L = new Locals(9)
  const K = L.add(I32), ROW = L.add(I32), T = L.add(I32), MN = L.add(I32), LEFT = L.add(I32), TMP = L.add(I32)
  const Q = [L.add(I32), L.add(I32), L.add(I32), L.add(I32)]
  const QE = [L.add(I32), L.add(I32), L.add(I32), L.add(I32)]
  const ACC = [L.add(V128), L.add(V128), L.add(V128), L.add(V128)]
  const c = new WasmCode()
  /** acc_r += val[q]·pairs[col[q]] for the entry q in local QL. */
  const step = (acc: number, ql: number): void => {
    c.localGet(acc)
    at8(c, VAL, ql).v128Load64Splat()
    c.localGet(PAIRS)
    at4(c, COL, ql).i32Load().i32Const(4).i32Shl().i32Add().v128Load()
    c.f64x2Mul().f64x2Add().localSet(acc)
  }
  const store = (r: number): void => {
    c.localGet(HV).if()
    at8(c, Z, K).localGet(ACC[r]!).f64x2ExtractLane(0).f64Store(8 * r)
    at8(c, S, K).localGet(ACC[r]!).f64x2ExtractLane(1).f64Store(8 * r)
    c.else()
    at8(c, Z, K).localGet(ACC[r]!).f64x2ExtractLane(0).localGet(ACC[r]!).f64x2ExtractLane(1).f64Add().f64Store(8 * r)
    c.end()
  }
  c.i32Const(0).localSet(K)
  forLoop(c, K, M, 4, () => {
    c.localGet(M).localGet(K).i32Sub().localSet(LEFT)
    // Row r's entries [Q_r, QE_r); a row past m gets an empty range.
    for (let r = 0; r < 4; r++) {
      if (r > 0) c.localGet(LEFT).i32Const(r).i32GtS().if()
      at4(c, IDX, K).i32Load(4 * r).localSet(ROW)
      at4(c, RP, ROW).i32Load().localSet(Q[r]!)
      at4(c, RP, ROW).i32Load(4).localSet(QE[r]!)
      if (r > 0) c.else().i32Const(0).localSet(Q[r]!).i32Const(0).localSet(QE[r]!).end()
      c.v128Zero().localSet(ACC[r]!)
    }
    // MN = the shortest length among the rows present (0 when the block is partial).
    c.localGet(QE[0]!).localGet(Q[0]!).i32Sub().localSet(MN)
    for (let r = 1; r < 4; r++) {
      c.localGet(QE[r]!).localGet(Q[r]!).i32Sub().localSet(TMP)
      c.localGet(TMP).localGet(MN).localGet(TMP).localGet(MN).i32LtS().select().localSet(MN)
    }
    c.i32Const(0).localSet(T)
    forLoop(c, T, MN, 1, () => {
      for (let r = 0; r < 4; r++) {
        c.localGet(Q[r]!).localGet(T).i32Add().localSet(TMP)
        step(ACC[r]!, TMP)
      }
    })
    for (let r = 0; r < 4; r++) {
      c.localGet(Q[r]!).localGet(MN).i32Add().localSet(TMP)
      forLoop(c, TMP, QE[r]!, 1, () => step(ACC[r]!, TMP))
      if (r > 0) c.localGet(LEFT).i32Const(r).i32GtS().if()
      store(r)
      if (r > 0) c.end()
    }
  })
  return { name: 'rowsDots', params: i32s(9), results: [], locals: L.types, code: c }
}

/**
 * rowsAxpy(m, p, idx, rowPtr, col, val, cf, t01, t23, out): the block axpys over the compressed
 * sparse rows. Rows 0 and 1 of a block are scattered into the zeroed scratch t01 (the first
 * stores c₀x, the second adds c₁x: c₀x₀ + c₁x₁ column by column, exactly), rows 2 and 3 into
 * t23; then out += t01 + t23 over the columns the block's rows touch (the scratch is zero
 * elsewhere, and out + 0 = out), and t01, t23 go back to zero. Rows past m are skipped (the
 * reference adds 0·x there).
 */
const rowsAxpy = (): WasmFunction => {
  const [M, P, IDX, RP, COL, VAL, CF, T01, T23, OUT] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
  const L = new Locals(10)
  const K = L.add(I32), ROW = L.add(I32), Q = L.add(I32), QE = L.add(I32), JB = L.add(I32), PB = L.add(I32), PB2 = L.add(I32), ADDR = L.add(I32)
  const LO = L.add(I32), HI = L.add(I32), TMP = L.add(I32)
  const A = L.add(V128), B = L.add(V128)
  const CS = L.add(F64)
  const c = new WasmCode()
  rowBytes(c, P, PB, PB2)
  zeroOut(c, OUT, JB, PB)
  c.i32Const(0).localSet(K)
  forLoop(c, K, M, 4, () => {
    c.localGet(PB).localSet(LO)
    c.i32Const(0).localSet(HI)
    for (let r = 0; r < 4; r++) {
      if (r > 0) c.localGet(M).localGet(K).i32Sub().i32Const(r).i32GtS().if()
      at4(c, IDX, K).i32Load(4 * r).localSet(ROW)
      at4(c, RP, ROW).i32Load().localSet(Q)
      at4(c, RP, ROW).i32Load(4).localSet(QE)
      // The columns this row touches: [col[Q], col[QE − 1]] (entries are in column order).
      c.localGet(Q).localGet(QE).i32LtS().if()
      at4(c, COL, Q).i32Load().i32Const(3).i32Shl().localSet(TMP)
      c.localGet(TMP).localGet(LO).localGet(TMP).localGet(LO).i32LtS().select().localSet(LO)
      at4(c, COL, QE).i32Const(4).i32Sub().i32Load().i32Const(1).i32Add().i32Const(3).i32Shl().localSet(TMP)
      c.localGet(TMP).localGet(HI).localGet(TMP).localGet(HI).i32GtS().select().localSet(HI)
      c.end()
      at8(c, CF, K).f64Load(8 * r).localSet(CS)
      const t = r < 2 ? T01 : T23
      forLoop(c, Q, QE, 1, () => {
        c.localGet(t)
        at4(c, COL, Q).i32Load().i32Const(3).i32Shl().i32Add().localSet(ADDR)
        c.localGet(ADDR)
        if (r === 1 || r === 3) c.localGet(ADDR).f64Load()
        c.localGet(CS)
        at8(c, VAL, Q).f64Load().f64Mul()
        if (r === 1 || r === 3) c.f64Add()
        c.f64Store()
      })
      if (r > 0) c.end()
    }
    // out += t01 + t23 from LO rounded down to an even column, two columns at a time; scratch to 0.
    c.localGet(LO).i32Const(-16).i32And().localSet(JB)
    c.localGet(HI).localGet(PB2).localGet(HI).localGet(PB2).i32LtS().select().localSet(TMP)
    forLoop(c, JB, TMP, 16, () => {
      c.localGet(T01).localGet(JB).i32Add().v128Load().localSet(A)
      c.localGet(T23).localGet(JB).i32Add().v128Load().localSet(B)
      c.localGet(OUT).localGet(JB).i32Add()
      c.localGet(OUT).localGet(JB).i32Add().v128Load().localGet(A).localGet(B).f64x2Add().f64x2Add()
      c.v128Store()
      c.localGet(T01).localGet(JB).i32Add().v128Zero().v128Store()
      c.localGet(T23).localGet(JB).i32Add().v128Zero().v128Store()
    })
    // The last column when p is odd, if touched.
    c.localGet(PB2).localGet(HI).i32LtS().if()
    c.localGet(OUT).localGet(PB2).i32Add()
    c.localGet(OUT).localGet(PB2).i32Add().f64Load()
    c.localGet(T01).localGet(PB2).i32Add().f64Load().localGet(T23).localGet(PB2).i32Add().f64Load().f64Add().f64Add()
    c.f64Store()
    c.localGet(T01).localGet(PB2).i32Add().f64Zero().f64Store()
    c.localGet(T23).localGet(PB2).i32Add().f64Zero().f64Store()
    c.end()
  })
  return { name: 'rowsAxpy', params: i32s(10), results: [], locals: L.types, code: c }
}

/**
 * gramRows(n, p, rowPtr, col, val, d, g): the upper triangle of Xᵀ diag(d) X into the zeroed
 * p × p matrix g, from the compressed sparse rows, in the order of `weightedGram` (rows in
 * order, rows with dᵢ = 0 skipped; for each pair s ≤ u of a row's non-zeros,
 * g[a, b] += (dᵢ·x_a)·x_b): the same bits.
 */
const gramRows = (): WasmFunction => {
  const [N, P, RP, COL, VAL, D, G] = [0, 1, 2, 3, 4, 5, 6]
  const L = new Locals(7)
  const I = L.add(I32), S = L.add(I32), U = L.add(I32), QE = L.add(I32), GA = L.add(I32), ADDR = L.add(I32), PB = L.add(I32)
  const DI = L.add(F64), CS = L.add(F64)
  const c = new WasmCode()
  c.localGet(P).i32Const(3).i32Shl().localSet(PB)
  c.i32Const(0).localSet(I)
  forLoop(c, I, N, 1, () => {
    c.localGet(D).localGet(I).i32Const(3).i32Shl().i32Add().f64Load().localSet(DI)
    c.localGet(DI).f64Zero().f64Ne().if()
    c.localGet(RP).localGet(I).i32Const(2).i32Shl().i32Add().i32Load().localSet(S)
    c.localGet(RP).localGet(I).i32Const(2).i32Shl().i32Add().i32Load(4).localSet(QE)
    forLoop(c, S, QE, 1, () => {
      c.localGet(G).localGet(COL).localGet(S).i32Const(2).i32Shl().i32Add().i32Load().localGet(PB).i32Mul().i32Add().localSet(GA)
      c.localGet(DI).localGet(VAL).localGet(S).i32Const(3).i32Shl().i32Add().f64Load().f64Mul().localSet(CS)
      c.localGet(S).localSet(U)
      forLoop(c, U, QE, 1, () => {
        c.localGet(GA).localGet(COL).localGet(U).i32Const(2).i32Shl().i32Add().i32Load().i32Const(3).i32Shl().i32Add().localSet(ADDR)
        c.localGet(ADDR).localGet(ADDR).f64Load().localGet(CS).localGet(VAL).localGet(U).i32Const(3).i32Shl().i32Add().f64Load().f64Mul().f64Add().f64Store()
      })
    })
    c.end()
  })
  return { name: 'gramRows', params: new Array<ValType>(7).fill(I32), results: [], locals: L.types, code: c }
}

/** The module's bytes: the six kernels, no imports. */
export const rowKernelModuleBytes = (): Uint8Array =>
  wasmModule([], [gradDotsDense(), hvpDotsDense(), axpyDense(), rowsDots(), rowsAxpy(), gramRows()])

/** The part of the host's WebAssembly API the engine uses (the library's TypeScript lib has no DOM types). */
interface WasmMemory {
  readonly buffer: ArrayBuffer
  grow(pages: number): number
}
type WasmCompiled = object
interface WasmApi {
  validate(bytes: Uint8Array): boolean
  readonly Module: new (bytes: Uint8Array) => WasmCompiled
  readonly Instance: new (mod: WasmCompiled, imports: object) => { readonly exports: unknown }
}

const wasmApi = (): WasmApi | undefined => (globalThis as { readonly WebAssembly?: WasmApi }).WebAssembly

let compiled: WasmCompiled | null | undefined

/** The compiled module, or null when this runtime has no WebAssembly SIMD. */
const compiledModule = (): WasmCompiled | null => {
  if (compiled !== undefined) return compiled
  let result: WasmCompiled | null = null
  try {
    const api = wasmApi()
    if (api !== undefined) {
      const bytes = rowKernelModuleBytes()
      if (api.validate(bytes)) result = new api.Module(bytes)
    }
  } catch {
    result = null
  }
  compiled = result
  return result
}

/** True when the WebAssembly row kernels can run here (WebAssembly with fixed-width SIMD). */
export const rowEngineAvailable = (): boolean => compiledModule() !== null

// ---------------------------------------------------------------------------------------------
// Memory slots

type Exports = {
  readonly memory: WasmMemory
  readonly gradDotsDense: (m: number, p: number, idx: number, w: number, z: number, x: number) => void
  readonly hvpDotsDense: (m: number, p: number, idx: number, w: number, u: number, z: number, s: number, x: number) => void
  readonly axpyDense: (m: number, p: number, idx: number, cf: number, out: number, x: number) => void
  readonly rowsDots: (m: number, idx: number, rp: number, col: number, val: number, pairs: number, z: number, s: number, hvp: number) => void
  readonly rowsAxpy: (m: number, p: number, idx: number, rp: number, col: number, val: number, cf: number, t01: number, t23: number, out: number) => void
  readonly gramRows: (n: number, p: number, rp: number, col: number, val: number, d: number, g: number) => void
}

/** Largest memory a slot uses (bytes): i32 addressing stays signed-safe below 2 GiB. */
const MAX_BYTES = 2 ** 31 - 2 ** 20

/**
 * At most this many WebAssembly instances (each with its memory) live at once. An engine holds
 * a slot while it is the most recently used; a new engine takes the least recently used slot
 * and its memory (the engine that loses it rebuilds its copy in another slot when it is used
 * again). Without the cap, the copies of matrices that are no longer used would stay resident
 * until the garbage collector reclaims them, which may take several of them (experiments that
 * load one data split after another).
 */
export const ROW_ENGINE_SLOTS = 2

/**
 * An engine's claim on a slot, invalidated when another engine takes the slot. The slot holds
 * the lease, never the engine: a slot must not keep an engine (and so its matrix) alive.
 */
interface Lease {
  valid: boolean
}

/** One instance of the module: its exports, views of its memory, the top of its bump allocator. */
class Slot {
  f64: Float64Array
  i32: Int32Array
  top = 0
  stamp = 0
  lease: Lease | undefined
  constructor(readonly ex: Exports) {
    this.f64 = new Float64Array(ex.memory.buffer)
    this.i32 = new Int32Array(ex.memory.buffer)
  }
  /** Reserve `bytes` (16-byte aligned) at the top, growing the memory when needed. */
  alloc(bytes: number): number {
    const at = Math.ceil(this.top / 16) * 16
    const end = at + bytes
    if (end > MAX_BYTES) throw new RangeError(`rowEngine: ${end} bytes exceed the engine's limit`)
    const have = this.ex.memory.buffer.byteLength
    if (end > have) {
      this.ex.memory.grow(Math.ceil((end - have) / 65536))
      this.f64 = new Float64Array(this.ex.memory.buffer)
      this.i32 = new Int32Array(this.ex.memory.buffer)
    }
    this.top = end
    return at
  }
}

const slots: Slot[] = []
let clock = 0

/**
 * A slot and a fresh lease on it: a new slot while fewer than ROW_ENGINE_SLOTS exist, else the
 * least recently used one, whose previous lease is invalidated and whose memory is reused.
 */
const takeSlot = (api: WasmApi, mod: WasmCompiled): { readonly slot: Slot; readonly lease: Lease } => {
  let slot: Slot | undefined
  if (slots.length < ROW_ENGINE_SLOTS) {
    slot = new Slot(new api.Instance(mod, {}).exports as Exports)
    slots.push(slot)
  } else {
    slot = slots.reduce((a, b) => (b.stamp < a.stamp ? b : a))
    if (slot.lease !== undefined) slot.lease.valid = false
    slot.top = 0
  }
  const lease: Lease = { valid: true }
  slot.lease = lease
  slot.stamp = ++clock
  return { slot, lease }
}

// ---------------------------------------------------------------------------------------------
// The engine

/** Sparse passes use the compressed sparse rows when at most this fraction of X is non-zero. */
const ROWS_FRACTION = 0.5

/** Where a slot holds the compressed sparse rows, and the scratch of their kernels. */
interface SparseRows {
  readonly rowPtr: number
  readonly col: number
  readonly val: number
  readonly pairs: number
  readonly t01: number
  readonly t23: number
}

/** A slot's regions for one engine (all offsets in bytes). */
interface Regions {
  readonly slot: Slot
  readonly lease: Lease
  readonly w: number
  readonly u: number
  readonly out: number
  /** Row indices, dots z and s and coefficients c, with room for `cap` rows (+4: blocks read ahead). */
  idx: number
  z: number
  s: number
  cf: number
  cap: number
  dense: number
  identity: number
  rows: SparseRows | undefined
  gram: number
  weights: number
}

const allFinite = (x: RVec, m = x.length): boolean => {
  for (let i = 0; i < m; i++) if (!Number.isFinite(x[i]!)) return false
  return true
}

class WasmRowEngine implements RowEngine {
  private regions: Regions | undefined
  /** Whether X suits the sparse rows (decided once, by one scan of X). */
  private sparse: boolean | undefined

  constructor(private readonly api: WasmApi, private readonly mod: WasmCompiled, private readonly X: RVec, readonly rows: number, readonly cols: number) {}

  /** This engine's regions, in a slot it holds (taking one, and rebuilding its copy, when it lost it). */
  private r(): Regions {
    const held = this.regions
    if (held !== undefined && held.lease.valid) {
      held.slot.stamp = ++clock
      return held
    }
    const { slot, lease } = takeSlot(this.api, this.mod)
    const p = this.cols
    const reg: Regions = {
      slot,
      lease,
      w: slot.alloc(8 * p),
      u: slot.alloc(8 * p),
      out: slot.alloc(8 * p),
      idx: 0, z: 0, s: 0, cf: 0, cap: -1,
      dense: -1, identity: -1, rows: undefined, gram: -1, weights: -1,
    }
    this.regions = reg
    return reg
  }

  /** Room for the indices, dots and coefficients of m rows (and 4 past them). */
  private reserve(reg: Regions, m: number): void {
    if (m <= reg.cap) return
    const cap = Math.max(256, this.rows + 4, 2 * m)
    reg.idx = reg.slot.alloc(4 * (cap + 4))
    reg.z = reg.slot.alloc(8 * (cap + 4))
    reg.s = reg.slot.alloc(8 * (cap + 4))
    reg.cf = reg.slot.alloc(8 * (cap + 4))
    reg.cap = cap
  }

  private ensureDense(reg: Regions): number {
    if (reg.dense < 0) {
      const at = reg.slot.alloc(8 * this.rows * this.cols)
      reg.slot.f64.set(this.X.subarray(0, this.rows * this.cols), at >> 3)
      reg.dense = at
    }
    return reg.dense
  }

  /** Row indices in memory: the batch, or 0..n−1. */
  private indices(reg: Regions, batch: Readonly<Int32Array> | undefined): number {
    if (batch === undefined) {
      if (reg.identity < 0) {
        const at = reg.slot.alloc(4 * (this.rows + 4))
        for (let i = 0; i < this.rows; i++) reg.slot.i32[(at >> 2) + i] = i
        reg.identity = at
      }
      return reg.identity
    }
    reg.slot.i32.set(batch, reg.idx >> 2)
    return reg.idx
  }

  /**
   * Whether X takes the compressed sparse rows: at most ROWS_FRACTION non-zero and every entry
   * finite (a last partial block of the reference adds 0·x for rows past the batch's end, which
   * the sparse kernels skip: the same only for finite x).
   */
  private isSparse(): boolean {
    if (this.sparse !== undefined) return this.sparse
    const n = this.rows, p = this.cols, X = this.X
    let nnz = 0
    let finite = true
    for (let k = 0; k < n * p; k++) {
      const x = X[k]!
      if (!Number.isFinite(x)) {
        finite = false
        break
      }
      if (x !== 0) nnz++
    }
    this.sparse = finite && nnz <= ROWS_FRACTION * n * p
    return this.sparse
  }

  /** The compressed sparse rows in this engine's slot (built on first use). */
  private sparseRows(reg: Regions): SparseRows {
    if (reg.rows !== undefined) return reg.rows
    const n = this.rows, p = this.cols, X = this.X
    let nnz = 0
    for (let k = 0; k < n * p; k++) if (X[k] !== 0) nnz++
    const slot = reg.slot
    const rowPtr = slot.alloc(4 * (n + 1))
    const col = slot.alloc(4 * nnz)
    const val = slot.alloc(8 * nnz)
    const pairs = slot.alloc(16 * p)
    const t01 = slot.alloc(8 * p)
    const t23 = slot.alloc(8 * p)
    const i32 = slot.i32, f64 = slot.f64
    let q = 0
    for (let i = 0; i < n; i++) {
      i32[(rowPtr >> 2) + i] = q
      const o = i * p
      for (let j = 0; j < p; j++) {
        const x = X[o + j]!
        if (x !== 0) {
          i32[(col >> 2) + q] = j
          f64[(val >> 3) + q] = x
          q++
        }
      }
    }
    i32[(rowPtr >> 2) + n] = q
    f64.fill(0, t01 >> 3, (t01 >> 3) + p)
    f64.fill(0, t23 >> 3, (t23 >> 3) + p)
    reg.rows = { rowPtr, col, val, pairs, t01, t23 }
    return reg.rows
  }

  layout(): 'sparseRows' | 'dense' {
    return this.isSparse() ? 'sparseRows' : 'dense'
  }

  /** Every batch index must name a row: the kernels address memory with it. */
  private checkBatch(what: string, batch: Readonly<Int32Array> | undefined): void {
    if (batch === undefined) return
    const n = this.rows
    for (let k = 0; k < batch.length; k++) {
      const i = batch[k]!
      if (!(i >= 0 && i < n)) throw new RangeError(`rowEngine.${what}: batch index ${i} at position ${k} is outside [0, ${n})`)
    }
  }

  /**
   * Between the phases: zero the coefficients (with the 4 past m), let `coef` fill c[0..m) from
   * the dots, and report whether they are all finite.
   */
  private coefficients(reg: Regions, m: number, coef: RowCoef): boolean {
    const f = reg.slot.f64
    const z = reg.z >> 3, s = reg.s >> 3, c = reg.cf >> 3
    f.fill(0, c, c + m + 4)
    const cv = f.subarray(c, c + m)
    coef(f.subarray(z, z + m), f.subarray(s, s + m), cv)
    return allFinite(cv)
  }

  gradPass(w: RVec, batch: Readonly<Int32Array> | undefined, coef: RowCoef, out: Vec): Vec | undefined {
    const n = this.rows, p = this.cols
    if (w.length !== p || out.length !== p) throw new RangeError(`rowEngine.gradPass: w and out must have length ${p}, got ${w.length} and ${out.length}`)
    this.checkBatch('gradPass', batch)
    const sparse = this.isSparse()
    if (sparse && !allFinite(w)) return undefined
    const m = batch === undefined ? n : batch.length
    const reg = this.r()
    this.reserve(reg, m)
    const rows = sparse ? this.sparseRows(reg) : undefined
    const x = sparse ? -1 : this.ensureDense(reg)
    const idx = this.indices(reg, batch)
    const slot = reg.slot, ex = slot.ex
    if (rows !== undefined) {
      // pairs[j] = [w_j, 0] on even columns, [0, w_j] on odd ones.
      const f = slot.f64, at = rows.pairs >> 3
      for (let j = 0; j < p; j++) {
        const even = (j & 1) === 0
        f[at + 2 * j] = even ? w[j]! : 0
        f[at + 2 * j + 1] = even ? 0 : w[j]!
      }
      ex.rowsDots(m, idx, rows.rowPtr, rows.col, rows.val, rows.pairs, reg.z, reg.s, 0)
    } else {
      slot.f64.set(w, reg.w >> 3)
      ex.gradDotsDense(m, p, idx, reg.w, reg.z, x)
    }
    return this.finish(reg, rows, x, m, idx, coef, out)
  }

  hvpPass(w: RVec, u: RVec, batch: Readonly<Int32Array> | undefined, coef: RowCoef, out: Vec): Vec | undefined {
    const n = this.rows, p = this.cols
    if (w.length !== p || u.length !== p || out.length !== p)
      throw new RangeError(`rowEngine.hvpPass: w, u and out must have length ${p}, got ${w.length}, ${u.length} and ${out.length}`)
    this.checkBatch('hvpPass', batch)
    const sparse = this.isSparse()
    if (sparse && !(allFinite(w) && allFinite(u))) return undefined
    const m = batch === undefined ? n : batch.length
    const reg = this.r()
    this.reserve(reg, m)
    const rows = sparse ? this.sparseRows(reg) : undefined
    const x = sparse ? -1 : this.ensureDense(reg)
    const idx = this.indices(reg, batch)
    const slot = reg.slot, ex = slot.ex
    if (rows !== undefined) {
      const f = slot.f64, at = rows.pairs >> 3
      for (let j = 0; j < p; j++) {
        f[at + 2 * j] = w[j]!
        f[at + 2 * j + 1] = u[j]!
      }
      ex.rowsDots(m, idx, rows.rowPtr, rows.col, rows.val, rows.pairs, reg.z, reg.s, 1)
    } else {
      slot.f64.set(w, reg.w >> 3)
      slot.f64.set(u, reg.u >> 3)
      ex.hvpDotsDense(m, p, idx, reg.w, reg.u, reg.z, reg.s, x)
    }
    return this.finish(reg, rows, x, m, idx, coef, out)
  }

  /** The coefficients, then the axpy phase. */
  private finish(reg: Regions, rows: SparseRows | undefined, x: number, m: number, idx: number, coef: RowCoef, out: Vec): Vec | undefined {
    const finite = this.coefficients(reg, m, coef)
    // The sparse rows skip zeros that a non-finite coefficient would turn into NaN.
    if (!finite && rows !== undefined) return undefined
    const ex = reg.slot.ex, p = this.cols
    if (rows !== undefined) ex.rowsAxpy(m, p, idx, rows.rowPtr, rows.col, rows.val, reg.cf, rows.t01, rows.t23, reg.out)
    else ex.axpyDense(m, p, idx, reg.cf, reg.out, x)
    const o = reg.out >> 3
    out.set(reg.slot.f64.subarray(o, o + p))
    return out
  }

  gram(d: RVec): Matrix | undefined {
    const n = this.rows, p = this.cols
    if (d.length !== n) throw new RangeError(`rowEngine.gram: X has ${n} rows but d has ${d.length} weights`)
    if (!this.isSparse()) return undefined
    const reg = this.r()
    const rows = this.sparseRows(reg)
    if (reg.gram < 0) {
      reg.gram = reg.slot.alloc(8 * p * p)
      reg.weights = reg.slot.alloc(8 * n)
    }
    const f = reg.slot.f64, g = reg.gram >> 3
    f.fill(0, g, g + p * p)
    f.set(d, reg.weights >> 3)
    reg.slot.ex.gramRows(n, p, rows.rowPtr, rows.col, rows.val, reg.weights, reg.gram)
    const out = reg.slot.f64.slice(g, g + p * p)
    for (let a = 0; a < p; a++) for (let b = a + 1; b < p; b++) out[b * p + a] = out[a * p + b]!
    return matrix(p, p, out)
  }
}

interface CacheEntry {
  readonly rows: number
  readonly cols: number
  calls: number
  engine?: RowEngine | null
}

const cache = new WeakMap<RVec, CacheEntry>()

const create = (X: RVec, n: number, p: number): RowEngine | null => {
  const mod = compiledModule()
  const api = wasmApi()
  if (mod === null || api === undefined || !(Number.isInteger(n) && Number.isInteger(p) && n > 0 && p > 0) || X.length < n * p) return null
  // The largest layout must fit: dense rows 8 bytes per entry (sparse rows ≤ 6), the Gram matrix, scratch.
  if (8 * n * p + 8 * p * p + 64 * p + 48 * n + (1 << 20) > MAX_BYTES) return null
  return new WasmRowEngine(api, mod, X, n, p)
}

const entry = (X: RVec, n: number, p: number): CacheEntry | undefined => {
  let e = cache.get(X)
  if (e === undefined) {
    e = { rows: n, cols: p, calls: 0 }
    cache.set(X, e)
  }
  return e.rows === n && e.cols === p ? e : undefined
}

/**
 * The row engine of the n × p row-major matrix X (cached per X), or undefined when WebAssembly
 * SIMD is unavailable or the matrix is too large for it. Always builds it: the library's
 * kernels call {@link autoRowEngine} instead, which builds it only where it pays.
 */
export const rowEngine = (X: RVec, n: number, p: number): RowEngine | undefined => {
  const e = entry(X, n, p)
  if (e === undefined) return create(X, n, p) ?? undefined
  if (e.engine === undefined) e.engine = create(X, n, p)
  return e.engine ?? undefined
}

/** Matrices with fewer entries than this stay on the TypeScript kernels (copying them would not pay). */
export const ROW_ENGINE_MIN_ENTRIES = 1 << 16

/**
 * The row engine of X when it pays: X has at least {@link ROW_ENGINE_MIN_ENTRIES} entries and
 * this is at least the second pass over it (a one-off pass is cheaper in TypeScript than the
 * copy into WebAssembly memory). Otherwise undefined: use the TypeScript kernels.
 */
export const autoRowEngine = (X: RVec, n: number, p: number): RowEngine | undefined => {
  if (n * p < ROW_ENGINE_MIN_ENTRIES) return undefined
  const e = entry(X, n, p)
  if (e === undefined) return undefined
  if (e.engine !== undefined) return e.engine ?? undefined
  e.calls++
  if (e.calls < 2) return undefined
  e.engine = create(X, n, p)
  return e.engine ?? undefined
}
