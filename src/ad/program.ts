/**
 * A compiled tape: the instructions of one recording, ready to replay on numbers.
 *
 * Compiling (once per recording):
 *   - constants and everything computed from constants alone (not from w, λ or the minibatch)
 *     are evaluated once, here, and never again;
 *   - chains of elementwise steps whose intermediate results have no other use are fused into
 *     one instruction (`unary.ts`): one loop, no intermediate arrays;
 *   - every node gets its value buffer (a reshape shares its source's buffers).
 *
 * Replaying (per call) follows a plan (`plan.ts`) made once per kind of request (which
 * directions are seeded, which adjoints are wanted): one forward sweep (values, and tangents
 * where needed) and one reverse sweep (adjoints and their tangents where needed), on buffers
 * allocated when the plan was made. A call in steady state allocates nothing.
 *
 * The row engine. When the tape multiplies a large dense data matrix X by a vector that it
 * needs the adjoint of (the zᵢ = xᵢᵀw of a generalized linear model), the forward product and
 * the transposed product of the reverse sweep run as ONE fused pass of linalg's WebAssembly row
 * engine (`linalg/rows/`: z = Xw, then c, then Xᵀc, over compressed rows when X is sparse): the
 * engine hands over z (and Xẇ for a Hessian-vector product), the tape runs everything after
 * the product forward and back inside that hand-over, and returns c = z̄ (or its tangent). The
 * engine is used when it takes the matrix (autoRowEngine: large enough, from the second pass
 * on); otherwise, or when it declines (a non-finite input), the plain kernels run.
 */
import { autoRowEngine, type RowCoef } from '../linalg/rows/index.js'
import { matrix } from '../linalg/types.js'
import type { RVec, Vec } from '../linalg/types.js'
import { EMPTY, Exec, type Instr } from './instr.js'
import { planFor, type Plan, type Request } from './plan.js'
import type { NodeInfo, Recording } from './recording.js'
import { UnaryInstr } from './unary.js'

/** Where an error of the last run happened. */
export interface RunError {
  readonly instr: Instr
  readonly code: number
}

export class Program extends Exec {
  readonly nodes: ReadonlyArray<NodeInfo>
  /** The non-static instructions, in order, after fusion. */
  readonly instrs: ReadonlyArray<Instr>
  /** The buffer owner of each node (itself, or the source of a reshape). */
  readonly root: Int32Array
  readonly wId: number
  readonly lambdaId: number
  /** Nodes that share the buffers of the inputs w and λ (the inputs themselves and their reshapes). */
  private readonly wGroup: number[]
  private readonly lambdaGroup: number[]
  private readonly plans = new Map<string, Plan>()
  private readonly planOf = new Map<Request, Plan>()
  /** The error of the last run, if it failed. */
  lastError: RunError | undefined

  constructor(rec: Recording, readonly out: number) {
    const N = rec.nodes.length
    super(N)
    this.nodes = rec.nodes
    this.root = Int32Array.from(rec.nodes, (n, i) => (n.alias >= 0 ? n.alias : i))
    this.wId = rec.nodes.findIndex((n) => n.leaf === 'w' && n.alias < 0)
    this.lambdaId = rec.nodes.findIndex((n) => n.leaf === 'lambda' && n.alias < 0)
    this.wGroup = []
    this.lambdaGroup = []
    for (let i = 0; i < N; i++) {
      if (this.root[i] === this.wId) this.wGroup.push(i)
      if (this.root[i] === this.lambdaId) this.lambdaGroup.push(i)
    }

    // Static nodes: constants and whatever depends on nothing but constants.
    const isStatic = rec.nodes.map((n) => n.dep === 0 && !n.batch && n.leaf === undefined)
    // Fusion of elementwise chains among the instructions that run per call.
    const live = rec.instrs.filter((ins) => !isStatic[ins.out]!)
    const fused = fuse(live, rec.nodes, out)
    this.instrs = fused.list
    // Value buffers: constants hold their arrays; computed nodes get theirs (not the fused-away ones).
    for (let i = 0; i < N; i++) {
      const n = rec.nodes[i]!
      if (n.alias >= 0 || n.leaf !== undefined) continue
      if (n.value !== undefined) this.val[i] = n.value as Vec
      else if (!fused.dead.has(i)) this.val[i] = new Float64Array(n.rows * n.cols)
    }
    for (let i = 0; i < N; i++) if (this.root[i] !== i && this.val[this.root[i]!] !== EMPTY) this.val[i] = this.val[this.root[i]!]!
    // Evaluate the static instructions once.
    for (const ins of rec.instrs) {
      if (!isStatic[ins.out]!) continue
      const code = ins.fwd(this)
      if (code >= 0) {
        this.lastError = { instr: ins, code }
        break
      }
    }
  }

  /** The plan of a request (made once, then reused). */
  plan(req: Request): Plan {
    const hit = this.planOf.get(req)
    if (hit !== undefined) return hit
    const key = `${req.tan}|${req.adj}|${req.at}|${req.jvp ? 1 : 0}`
    let p = this.plans.get(key)
    if (p === undefined) {
      p = planFor(this, req)
      this.allocate(p)
      this.plans.set(key, p)
    }
    this.planOf.set(req, p)
    return p
  }

  /** Tangent and adjoint buffers of the nodes a plan needs them for (once per node). */
  private allocate(p: Plan): void {
    const N = this.nodes.length
    for (let i = 0; i < N; i++) {
      const r = this.root[i]!
      const size = this.nodes[r]!.rows * this.nodes[r]!.cols
      const leaf = this.nodes[r]!.leaf !== undefined
      if (p.needTan[i] === 1 && !leaf && this.tan[r] === EMPTY) this.tan[r] = new Float64Array(size)
      if (p.needAdj[i] === 1 && this.adj[r] === EMPTY) this.adj[r] = new Float64Array(size)
      if (p.needAT[i] === 1 && this.adjT[r] === EMPTY) this.adjT[r] = new Float64Array(size)
      if (r !== i) {
        if (!leaf) this.tan[i] = this.tan[r]!
        this.adj[i] = this.adj[r]!
        this.adjT[i] = this.adjT[r]!
      }
    }
  }

  /** True when the compile-time evaluation of the constants failed (lastError says where). */
  get staticError(): RunError | undefined {
    return this.lastError
  }

  /**
   * Run a plan: w and λ (read only), their directions (read only; used for the inputs the plan
   * seeds), the seed of the output's adjoint (`seed`: a number for a scalar output, or a vector),
   * the minibatch. Returns false on an error (see `lastError`); the results are then in the
   * buffers: `val[out]`, `tan[out]`, the adjoints and their tangents of w and λ.
   */
  run(p: Plan, w: RVec, lambda: RVec, dw: RVec | null, dl: RVec | null, seed: number | RVec, batch: Readonly<Int32Array> | null): boolean {
    this.lastError = undefined
    this.needTan = p.needTan
    this.needAdj = p.needAdj
    this.needAT = p.needAT
    this.batch = batch
    for (const i of this.wGroup) {
      this.val[i] = w as Vec
      if (dw !== null) this.tan[i] = dw as Vec
    }
    for (const i of this.lambdaGroup) {
      this.val[i] = lambda as Vec
      if (dl !== null) this.tan[i] = dl as Vec
    }
    if (p.engine !== undefined) {
      const I = p.engine.instr
      const D = I.data!.data
      if (D.kind === 'dense') {
        const eng = autoRowEngine(matrix(D.rows, D.cols, D.X as Float64Array))
        if (eng !== undefined) {
          const r = this.fusedRun(p, eng, seed)
          if (r !== 'declined') return r
          this.lastError = undefined // the plain run below starts over
        }
      }
    }
    return this.plainRun(p, seed)
  }

  private forward(p: Plan, from: number, to: number): boolean {
    const list = p.fwd
    for (let j = from; j < to; j++) {
      const ins = list[j]!
      const code = ins.fwd(this)
      if (code >= 0) {
        this.lastError = { instr: ins, code }
        return false
      }
      if (this.needTan[ins.out] === 1) ins.tan(this)
    }
    return true
  }

  private zeroAndSeed(p: Plan, seed: number | RVec): void {
    for (const i of p.zeroAdj) this.adj[i]!.fill(0)
    for (const i of p.zeroAT) this.adjT[i]!.fill(0)
    if (p.needAdj[this.out] === 1) {
      const g = this.adj[this.out]!
      if (typeof seed === 'number') g.fill(seed)
      else g.set(seed)
    }
  }

  private reverse(list: ReadonlyArray<Instr>): void {
    for (let j = 0; j < list.length; j++) list[j]!.rev(this)
  }

  private plainRun(p: Plan, seed: number | RVec): boolean {
    if (!this.forward(p, 0, p.fwd.length)) return false
    if (!p.reverse) return true
    this.zeroAndSeed(p, seed)
    this.reverse(p.revAfter)
    if (p.engine !== undefined) p.engine.instr.rev(this)
    this.reverse(p.revBefore)
    return true
  }

  // ------------------------------------------------------------------- the fused pass

  /** State of the hand-over of the fused pass (set before each engine call). */
  private fp: Plan | undefined
  private fSeed: number | RVec = 1
  /** 0: hand back z̄̇ (or z̄) and keep z̄ for a second pass; 1: hand back the kept z̄. */
  private fStage = 0
  private fKept: Float64Array = EMPTY
  private fOut: Float64Array = EMPTY

  private readonly coef: RowCoef = (z, sv, c) => {
    const p = this.fp!
    const E = p.engine!
    const I = E.instr
    if (this.fStage === 1) {
      c.set(this.fKept)
      return
    }
    this.val[I.out]!.set(z)
    if (this.needTan[I.out] === 1) this.tan[I.out]!.set(sv)
    if (!this.forward(p, E.at + 1, p.fwd.length)) {
      c.fill(0)
      return
    }
    this.zeroAndSeed(p, this.fSeed)
    this.reverse(p.revAfter)
    const R1 = this.needAdj[I.b] === 1
    const R2 = this.needAT[I.b] === 1
    c.set(R2 ? this.adjT[I.out]! : this.adj[I.out]!)
    if (R1 && R2) this.fKept.set(this.adj[I.out]!)
  }

  private fusedRun(p: Plan, eng: NonNullable<ReturnType<typeof autoRowEngine>>, seed: number | RVec): boolean | 'declined' {
    const E = p.engine!
    const I = E.instr
    if (!this.forward(p, 0, E.at)) return false
    const b = I.b
    const R1 = this.needAdj[b] === 1
    const R2 = this.needAT[b] === 1
    const batch = I.data!.batched && this.batch !== null ? this.batch : undefined
    if (this.fKept.length < I.m) this.fKept = new Float64Array(I.m)
    if (this.fOut.length !== I.k) this.fOut = new Float64Array(I.k)
    this.fp = p
    this.fSeed = seed
    this.fStage = 0
    const x = this.val[b]!
    const r =
      this.needTan[I.out] === 1
        ? eng.hvpPass(x, this.tan[b]!, batch, this.coef, this.fOut)
        : eng.gradPass(x, batch, this.coef, this.fOut)
    if (r === undefined) return 'declined'
    if (this.lastError !== undefined) return false
    const first = R2 ? this.adjT[b]! : this.adj[b]!
    const o = this.fOut
    for (let j = 0; j < o.length; j++) first[j] = first[j]! + o[j]!
    if (R1 && R2) {
      this.fStage = 1
      if (eng.gradPass(x, batch, this.coef, this.fOut) === undefined) return 'declined'
      const second = this.adj[b]!
      for (let j = 0; j < o.length; j++) second[j] = second[j]! + o[j]!
    }
    this.fp = undefined
    this.reverse(p.revBefore)
    return true
  }
}

/**
 * Fuse chains of elementwise instructions: a UnaryInstr whose input is the output of another
 * UnaryInstr with no other use (no other reader, no reshape of it, not the result) absorbs it.
 */
const fuse = (list: ReadonlyArray<Instr>, nodes: ReadonlyArray<NodeInfo>, out: number): { list: Instr[]; dead: Set<number> } => {
  const uses = new Int32Array(nodes.length)
  for (const ins of list) for (const i of ins.inputs) uses[i] = uses[i]! + 1
  nodes.forEach((n) => {
    if (n.alias >= 0) uses[n.alias] = uses[n.alias]! + 1
  })
  const producer = new Map<number, number>() // node → index in result of its UnaryInstr
  const result: Array<Instr | undefined> = []
  const dead = new Set<number>()
  for (const ins of list) {
    let cur = ins
    if (cur instanceof UnaryInstr) {
      const at = producer.get(cur.x)
      if (at !== undefined && uses[cur.x] === 1 && cur.x !== out) {
        const first = result[at] as UnaryInstr
        result[at] = undefined
        dead.add(cur.x)
        cur = cur.after(first)
      }
      producer.set(cur.out, result.length)
    }
    result.push(cur)
  }
  return { list: result.filter((x): x is Instr => x !== undefined), dead }
}
